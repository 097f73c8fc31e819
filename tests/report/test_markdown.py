"""The markdown report: numbers from the result, every plot linked, deterministic text."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from sim.metrics.latency import LATENCY_COLUMNS, ROTATION, SWITCH, UNINSTALL
from sim.metrics.results import ANDROID_12, ANDROID_13, RunResult
from sim.metrics.sends import SEND_COLUMNS
from sim.metrics.survival import kaplan_meier
from sim.metrics.timeseries import COLUMNS
from sim.report.markdown import (
    fmt_duration,
    fmt_int,
    fmt_median,
    fmt_pct,
    fmt_rate,
    fmt_ratio,
    render_report,
)
from sim.report.plots import ANDROID_PLOT, PLOT_FILES
from sim.runner import run_scenario
from sim.scenario import load_scenario
from sim.simulation import simulate
from sim.world import WorldParams

PLOTS = [Path("out/run-1") / name for name in PLOT_FILES]


def render(result: RunResult, **kwargs: object) -> str:
    args: dict[str, object] = {
        "scenario_name": "shared-phones",
        "scenario_hash": "3f2a9c",
        "version": "9.9.9",
        "plots": PLOTS,
    }
    args.update(kwargs)
    return render_report(result, **args)  # type: ignore[arg-type]


# -- formatting -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "text"),
    [
        (13.84, "13.8 days"),
        (1.0, "1.0 days"),
        (0.25, "6.0 h"),
        (3 / 1440, "3.0 min"),
        (10 / 86_400, "10 s"),
        (None, "–"),
        (float("nan"), "–"),
    ],
)
def test_fmt_duration_picks_a_readable_unit(days, text):
    assert fmt_duration(days) == text


def test_number_formats():
    assert fmt_int(9437) == "9,437"
    assert fmt_pct(7812, 9437) == "82.8%"
    assert fmt_pct(1, 0) == "–"
    assert fmt_rate(0.14743) == "14.7%"
    assert fmt_ratio(1.16876) == "1.17×"
    assert fmt_ratio(None) == "–"


# -- content ----------------------------------------------------------------------------------


def test_header_names_the_run(result):
    text = render(result, description="Two people share one phone.\nKim logs in on day 1.")
    assert text.startswith("# pushsim report — shared-phones\n")
    for part in ("`3f2a9c`", "pushsim 9.9.9", f"seed {result.seed}", "800 devices"):
        assert part in text
    assert "> Two people share one phone.\n> Kim logs in on day 1." in text


def test_report_contains_the_summary_numbers(result):
    s = result.summary()
    text = render(result)
    expected = [
        fmt_int(s["believed_reachable"]),
        fmt_int(s["truly_reachable"]),
        fmt_int(s["reachable_not_targeted"]),
        fmt_ratio(s["overstatement"]),
        fmt_rate(s["stale_rate"]),
        fmt_int(s["stale_dead"]),
        fmt_int(s["stale_zombie"]),
        fmt_rate(s["mean_stale_rate"]),
        fmt_int(s["campaign_targeted"]),
        fmt_int(s["campaign_sent"]),
        fmt_int(s["campaign_bounced"]),
        fmt_int(s["campaign_displayed"]),
        fmt_int(s["campaign_shown_to_other_user"]),
        fmt_int(s["campaign_shown_to_nobody"]),
        fmt_int(s["campaign_dropped"]),
        *(fmt_median(result.latency_curve(kind)) for kind in (UNINSTALL, ROTATION, SWITCH)),
    ]
    missing = [number for number in expected if number not in text]
    assert not missing, missing
    for kind in (UNINSTALL, ROTATION, SWITCH):
        assert s[f"median_{kind}_days"] == result.latency_curve(kind).median


def test_paragraph_gives_overstatement_stale_split_and_send_shares(result):
    s = result.summary()
    paragraph = text_between(render(result), "## What this run says", "## Headline figures")
    targeted = s["campaign_targeted"]
    wasted = s["campaign_bounced"] + s["campaign_dropped"]
    foreground = int(result.final()["foreground_tokens"])
    for share in (
        fmt_pct(s["campaign_displayed"], targeted),
        fmt_pct(s["campaign_shown_to_other_user"], targeted),
        fmt_pct(s["campaign_shown_to_nobody"], targeted),
        fmt_pct(wasted, targeted),
        f"{100 * (s['overstatement'] - 1):.1f}%",
        fmt_rate(s["stale_rate"]),
        fmt_pct(s["stale_dead"], foreground),
        fmt_pct(s["stale_zombie"], foreground),
    ):
        assert share in paragraph


def test_paragraph_gives_km_median_uninstall_latency_by_platform(result):
    """Kaplan–Meier medians: the uninstalls still undetected at the end count, censored."""
    paragraph = text_between(render(result), "## What this run says", "## Headline figures")
    lat = result.latencies[result.latencies["kind"] == UNINSTALL]
    assert not lat["observed"].all(), "the fixture run should end with uninstalls undetected"
    labels = {"ios": "iOS", "android": "Android", "web": "Web"}
    for platform, rows in lat.groupby("platform"):
        curve = kaplan_meier(rows["latency_days"], rows["observed"])
        last = f"more than {fmt_duration(curve.last)}"
        median = fmt_duration(curve.median) if curve.median is not None else last
        assert f"{median} on {labels[str(platform)]}" in paragraph
    censored = int((~lat["observed"]).sum())
    assert f"{fmt_int(censored)} ({fmt_pct(censored, len(lat))}) were still undetected" in paragraph


def test_fmt_median_says_when_the_median_was_not_reached():
    assert fmt_median(kaplan_meier([1.0, 2.0, 3.0], [True, True, True])) == "2.0 days"
    assert fmt_median(kaplan_meier([1.0, 40.0, 40.0], [True, False, False])) == "> 40.0 days"
    assert fmt_median(kaplan_meier([], [])) == "–"


def test_latency_notes_count_the_censored_latencies(result):
    text = render(result)
    notes = text_between(text, "Retries are not pushes of their own", "## Plots")
    assert "Kaplan–Meier" in notes
    lat = result.latencies
    for kind, word in ((UNINSTALL, "uninstalls"), (ROTATION, "token rotations")):
        censored = int(((lat["kind"] == kind) & ~lat["observed"]).sum())
        assert f"{fmt_int(censored)} {word}" in notes


def test_table_has_a_column_per_platform_with_their_numbers(result):
    text = text_between(render(result), "## Headline figures", "\n## ")
    rows = [line for line in text.splitlines() if line.startswith("|")]
    assert rows[0] == "| | All platforms | iOS | Android | Web |"
    assert all(row.count("|") == 6 for row in rows)
    believed = next(row for row in rows if row.startswith("| Believed reachable"))
    cells = [c.strip() for c in believed.strip("|").split("|")][1:]
    assert cells == [
        fmt_int(int(result.final(p)["believed_reachable"]))
        for p in ("all", "ios", "android", "web")
    ]


def test_every_plot_is_embedded_by_relative_file_name(result):
    text = render(result)
    links = re.findall(r"!\[[^\]]+\]\(([^)]+)\)", text)
    assert links == list(PLOT_FILES)
    # each image is followed by a caption line
    for name in PLOT_FILES:
        after = text.split(f"]({name})", 1)[1].lstrip("\n").splitlines()[0]
        assert len(after) > 20


def test_report_is_deterministic(result):
    assert render(result) == render(result)


def test_no_placeholder_or_float_noise(result):
    text = render(result)
    for bad in ("nan", "None", "inf"):
        assert not re.search(rf"\b{bad}\b", text), bad
    assert not re.search(r"\d\.\d{3,}", text), "floats are formatted with fixed precision"


def test_empty_run_renders(empty):
    text = render(empty)
    assert "No campaign push was sent in this run." in text
    assert "No uninstall was detected in this run" in text
    assert "1 day ·" in text
    assert re.findall(r"\]\(([^)]+)\)", text) == list(PLOT_FILES)


def test_no_plots_no_plot_section(result):
    assert "## Plots" not in render(result, plots=[])


def test_result_with_no_rows_renders():
    bare = RunResult(
        seed=0,
        days=0.0,
        params={},
        timeseries=pd.DataFrame(columns=list(COLUMNS)),
        sends=pd.DataFrame(columns=list(SEND_COLUMNS)),
        bounces=pd.DataFrame(columns=["campaign", "platform", "status", "reason", "count"]),
        latencies=pd.DataFrame(columns=list(LATENCY_COLUMNS)),
        open_latencies={},
    )
    text = render(bare)
    assert "no samples" in text


def text_between(text: str, start: str, end: str) -> str:
    return text.split(start, 1)[1].split(end, 1)[0]


# -- Android 13+'s prompt (the question of scenarios/android13_optin.toml) ----------------------

ANDROID13_OPTIN = Path(__file__).parents[2] / "scenarios" / "android13_optin.toml"
SECTION = "## Android 13+'s prompt"


@pytest.fixture(scope="module")
def android13() -> RunResult:
    """The android13_optin scenario, smaller and shorter, as the report sees it (no warm-up)."""
    scenario = load_scenario(
        ANDROID13_OPTIN,
        ["population.devices=1500", "population.arrivals_per_day=6", "measurement.days=90"],
    )
    return run_scenario(scenario).after_warm_up()


def test_the_android13_optin_report_answers_its_question(android13):
    """Permission per class, truly reachable per installed device, the cost, per campaign."""
    text = render(android13, plots=[*PLOTS, Path("out/run-1") / ANDROID_PLOT])
    assert SECTION in text
    section = text_between(text, SECTION, "\n## ")
    old, new = android13.class_end(ANDROID_12), android13.class_end(ANDROID_13)
    assert old is not None and new is not None
    cost = android13.android_13_cost()
    assert cost is not None and cost.people > 0 and cost.share is not None
    paragraph = section.strip().split("\n\n")[0]
    for figure in (
        fmt_pct(new.permission, new.launched),
        fmt_pct(old.permission, old.launched),
        fmt_rate(0.63),  # the scenario's opt-in share per prompt
        f"**{new.truly / new.installed:.2f}** on Android 13+",
        f"**{old.truly / old.installed:.2f}** on Android ≤ 12",
        f"**{fmt_int(round(cost.people))} people**",
        fmt_rate(cost.share),
    ):
        assert figure in paragraph, figure
    assert new.permission / new.launched < old.permission / old.launched
    for os_class in (ANDROID_12, ANDROID_13):
        shares = android13.campaign_display_shares(os_class)["share"]
        assert len(shares) > 5
        campaigns = f"{fmt_rate(shares.median())} ({fmt_rate(shares.min())}–"
        assert campaigns in paragraph, campaigns
    rows = [line for line in section.splitlines() if line.startswith("|")]
    assert rows[0] == "| | Android ≤ 12 | Android 13+ |"
    table = {row.split("|")[1].strip(): [c.strip() for c in row.split("|")[2:4]] for row in rows}
    assert table["Truly reachable (profiles)"] == [fmt_int(old.truly), fmt_int(new.truly)]
    assert table["Believed reachable (profiles)"] == [fmt_int(old.believed), fmt_int(new.believed)]
    sends = android13.sends_by_os[android13.sends_by_os["kind"] == "campaign"]
    targeted = [
        int(sends[sends["os_class"] == c]["targeted"].sum()) for c in (ANDROID_12, ANDROID_13)
    ]
    assert table["Campaign pushes targeted (sends)"] == [fmt_int(n) for n in targeted]
    assert f"]({ANDROID_PLOT})" in section  # the plot sits in the section, not under Plots
    assert ANDROID_PLOT not in text.split("## Plots", 1)[1]
    summary = text_between(text, "## What this run says", "## Headline figures")
    assert f"costs about **{fmt_int(round(cost.people))} people** of reach" in summary


def test_no_android_section_without_android_13_devices():
    params = WorldParams().changed(
        population={"devices": 300, "platform_share": {"ios": 0.5, "android_legacy": 0.5}}
    )
    text = render(simulate(params, days=10, seed=2))
    assert SECTION not in text and "Android 13+'s permission prompt" not in text


def test_the_android_section_appears_with_both_classes(result):
    """The default world mixes Android ≤ 12 and 13+: its report gets the section too."""
    assert SECTION in render(result)
