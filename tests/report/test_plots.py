"""The report's plots: structure, units, titles, empty results, deterministic PNG bytes."""

from __future__ import annotations

import ast
import dataclasses
import inspect
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from sim.metrics.latency import LATENCY_COLUMNS, UNINSTALL
from sim.metrics.results import RunResult
from sim.metrics.sends import SEND_COLUMNS
from sim.metrics.timeseries import COLUMNS
from sim.report import plots
from sim.report.plots import (
    ANDROID_PLOT,
    PLOT_FILES,
    both_android_classes,
    plot_android_prompt,
    plot_funnel,
    plot_reachability,
    plot_send_outcomes,
    plot_stale_tokens,
    plot_uninstall_latency,
    write_plots,
)
from sim.simulation import simulate
from sim.world import PopulationParams, WorldParams

SCENARIO = "shared-phones-test"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

Plotter = Callable[[RunResult, str], Figure]
PLOTTERS: list[Plotter] = [
    plot_reachability,
    plot_funnel,
    plot_stale_tokens,
    plot_send_outcomes,
    plot_uninstall_latency,
    plot_android_prompt,
]


@pytest.fixture(scope="module")
def tiny() -> RunResult:
    """Two days: one campaign, two samples."""
    return simulate(WorldParams(population=PopulationParams(devices=300)), days=2, seed=5)


def bare() -> RunResult:
    """A result with no rows at all, as a hand-built RunResult may have."""
    return RunResult(
        seed=0,
        days=0.0,
        params={},
        timeseries=pd.DataFrame(columns=list(COLUMNS)),
        sends=pd.DataFrame(columns=list(SEND_COLUMNS)),
        bounces=pd.DataFrame(columns=["campaign", "platform", "status", "reason", "count"]),
        latencies=pd.DataFrame(columns=list(LATENCY_COLUMNS)),
        open_latencies={},
    )


def texts(fig: Figure) -> list[str]:
    """Every piece of text drawn in the figure's axes."""
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def heading(fig: Figure) -> str:
    return fig.get_suptitle()


def bars(ax: Axes) -> list[Rectangle]:
    return [p for p in ax.patches if isinstance(p, Rectangle)]


# -- structure, units, titles -----------------------------------------------------------------


def test_reachability_has_a_panel_per_platform_and_all(result):
    fig = plot_reachability(result, SCENARIO)
    assert len(fig.axes) == 4
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    for name in ("All platforms", "iOS", "Android", "Web"):
        assert any(t.startswith(name) for t in titles), titles
    for ax in fig.axes:
        assert "profiles" in ax.get_ylabel()
        believed, truly, not_targeted = ax.get_lines()
        assert believed.get_linestyle() == "-"
        assert truly.get_linestyle() == "--"
        assert not_targeted.get_linestyle() == ":"
        # one colour per platform
        assert believed.get_color() == truly.get_color() == not_targeted.get_color()
        assert ax.collections, "the believed-truly gap is shaded"
    assert all("day" in ax.get_xlabel() for ax in fig.axes[2:])
    assert SCENARIO in heading(fig)
    assert fig.legends, "the figure explains solid / dashed / shaded"


def test_reachability_draws_the_timeseries_values(result):
    fig = plot_reachability(result, SCENARIO)
    rows = result.timeseries[result.timeseries["platform"] == "all"]
    believed, truly, not_targeted = fig.axes[0].get_lines()
    np.testing.assert_array_equal(believed.get_ydata(), rows["believed_reachable"].to_numpy())
    np.testing.assert_array_equal(truly.get_ydata(), rows["truly_reachable"].to_numpy())
    np.testing.assert_array_equal(
        not_targeted.get_ydata(), rows["reachable_not_targeted"].to_numpy()
    )


def test_stale_tokens_draws_a_panel_per_platform_in_percent(result):
    """One panel per platform (own axis): dead and zombie stacked, a 7-day mean line on top."""
    fig = plot_stale_tokens(result, SCENARIO)
    assert len(fig.axes) == 4
    assert SCENARIO in heading(fig)
    legend = " ".join(t.get_text() for t in fig.legends[0].get_texts())
    for word in ("dead", "zombie", "7 days"):
        assert word in legend
    for ax, platform in zip(fig.axes, ("all", "ios", "android", "web"), strict=True):
        assert "%" in ax.get_ylabel()
        assert ax.get_title(loc="left").startswith(plots.PLATFORM_LABELS[platform])
        assert ax.get_ylim()[0] == 0
        rows = result.timeseries[result.timeseries["platform"] == platform].sort_values("time")
        stacks = [c for c in ax.collections if len(c.get_paths())]
        assert len(stacks) == 2  # dead, zombie
        # the top of the stack is the platform's stale rate, sample by sample
        top = np.asarray(stacks[1].get_paths()[0].vertices, dtype=float)[:, 1].max()
        assert top == pytest.approx(100 * rows["stale_rate"].max())
        (line,) = ax.get_lines()
        assert line.get_color() == plots.PLATFORM_COLOURS[platform]
        smooth = np.asarray(line.get_ydata(), dtype=float)
        rate = 100 * rows["stale_rate"].to_numpy()
        assert smooth[0] == pytest.approx(rate[0])
        # a trailing mean: never beyond the samples it averages
        assert rate.min() - 1e-9 <= smooth.min() and smooth.max() <= rate.max() + 1e-9


def test_stale_tokens_smoothing_is_a_trailing_week():
    t = np.arange(0.0, 10.0)
    values = np.array([0.0, 7.0] * 5)
    smooth = plots._rolling_mean(t, values, 7.0)
    assert smooth[0] == 0.0 and smooth[1] == 3.5
    assert smooth[-1] == pytest.approx(values[3:].mean())


def test_warm_up_is_shaded_and_explained(result):
    warm = dataclasses.replace(result, warm_up_days=5.0).after_warm_up()
    for fig in (plot_reachability(warm, SCENARIO), plot_stale_tokens(warm, SCENARIO)):
        legend = " ".join(t.get_text() for t in fig.legends[0].get_texts())
        assert "warm-up (days 0–5)" in legend and "left out" in legend
        for ax in fig.axes:
            assert "warm-up\n(left out)" in [t.get_text() for t in ax.texts]
    unwarmed = plot_reachability(result, SCENARIO)
    assert "warm-up" not in " ".join(t.get_text() for t in unwarmed.legends[0].get_texts())


def test_no_red_green_pairs():
    """Every categorical colour comes from Okabe–Ito, or is a grey or a shade of one."""
    okabe_ito = set(plots.OKABE_ITO.values())
    assert {plots.PLATFORM_COLOURS[p] for p in ("ios", "android", "web")} <= okabe_ito
    assert {colour for _, colour, _ in plots.OUTCOMES} - okabe_ito == {"#bbbbbb"}
    assert len({colour for _, colour, _ in plots.OUTCOMES}) == len(plots.OUTCOMES)


def test_send_outcomes_shares_and_counts(result):
    """Top: each campaign's outcomes as shares adding up to 100 %, the displayed share written on
    each bar; bottom: the same in sends, adding up to the pushes targeted."""
    fig = plot_send_outcomes(result, SCENARIO)
    share_ax, count_ax = fig.axes
    assert "%" in share_ax.get_ylabel()
    assert "sends" in count_ax.get_ylabel()
    assert "day" in count_ax.get_xlabel()
    assert SCENARIO in heading(fig)
    campaigns = result.sends[result.sends["kind"] == "campaign"]
    grouped = campaigns.groupby("campaign")[["targeted", "displayed"]].sum().sort_index()
    expected = grouped["targeted"].to_numpy()

    def stacked(ax: Axes) -> list[float]:
        heights: dict[float, float] = {}
        for bar in bars(ax):
            x = round(bar.get_x() + bar.get_width() / 2, 6)
            heights[x] = heights.get(x, 0.0) + bar.get_height()
        return [heights[x] for x in sorted(heights)]

    np.testing.assert_allclose(stacked(count_ax), expected)
    np.testing.assert_allclose(stacked(share_ax), 100.0)
    shares = 100 * grouped["displayed"] / grouped["targeted"]
    assert [t.get_text() for t in share_ax.texts] == [f"{v:.0f}%" for v in shares]
    assert "% displayed" in share_ax.get_title(loc="left")
    legend = " ".join(t.get_text() for t in fig.legends[0].get_texts())
    for word in ("displayed", "another logged-in user", "nobody logged in", "dropped", "bounced"):
        assert word in legend


def test_send_outcomes_ignore_probes(result):
    probe = result.sends.iloc[[0]].assign(campaign="probe-0001", kind="probe", targeted=10_000)
    with_probe = RunResult(
        seed=result.seed,
        days=result.days,
        params=result.params,
        timeseries=result.timeseries,
        sends=pd.concat([result.sends, probe], ignore_index=True),
        bounces=result.bounces,
        latencies=result.latencies,
        open_latencies=result.open_latencies,
    )
    fig = plot_send_outcomes(with_probe, SCENARIO)
    assert max(b.get_y() + b.get_height() for b in bars(fig.axes[1])) < 10_000


def test_uninstall_latency_draws_a_survival_curve_per_platform(result):
    """S(t) in % per platform, censored uninstalls counted, medians in the legend."""
    lat = result.latencies[result.latencies["kind"] == UNINSTALL]
    assert lat["observed"].any() and not lat["observed"].all(), "detected and undetected ones"
    fig = plot_uninstall_latency(result, SCENARIO)
    ax = fig.axes[0]
    assert SCENARIO in heading(fig)
    assert "%" in ax.get_ylabel() and "not yet detected" in ax.get_ylabel()
    assert all("days" in a.get_xlabel() for a in fig.axes)
    labelled = {str(line.get_label()).split(":")[0]: line for line in ax.get_lines()}
    for platform, name in (("ios", "iOS"), ("android", "Android"), ("web", "Web")):
        curve = result.latency_curve(UNINSTALL, platform)
        line = labelled[name]
        assert line.get_color() == plots.PLATFORM_COLOURS[platform]
        assert line.get_drawstyle() == "steps-post"
        x, y = curve.steps()
        np.testing.assert_allclose(np.asarray(line.get_xdata(), dtype=float), x)
        np.testing.assert_allclose(np.asarray(line.get_ydata(), dtype=float), 100 * y)
        label = str(line.get_label())
        if curve.median is None:  # iOS: APNs' lag, and 40 days is short
            assert f"median > {curve.last:.0f} days (not reached)" in label
        else:
            assert f"median {curve.median:.1f} days" in label
        assert f"{100 * curve.censored_share:.0f}% of {curve.observations:,} undetected" in label
    censored = int((~lat["observed"]).sum())
    assert f"The {censored:,} (" in fig.get_supxlabel()
    assert "censored" in fig.get_supxlabel()


def test_uninstall_latency_zooms_on_the_detections_of_a_long_run():
    """Detections over by day 4 of a 100-day run: the main panel zooms on them, a narrow one
    shows every day followed, where the undetected share stays flat; medians not reached say so.
    """
    rows = [
        (UNINSTALL, "android", 1.0, 3.0, 2.0, True),
        (UNINSTALL, "android", 2.0, 6.0, 4.0, True),
        (UNINSTALL, "android", 90.0, 100.0, 10.0, False),
        (UNINSTALL, "ios", 5.0, 8.0, 3.0, True),
        (UNINSTALL, "ios", 10.0, 100.0, 90.0, False),
        (UNINSTALL, "ios", 20.0, 100.0, 80.0, False),
    ]
    long_run = dataclasses.replace(
        bare(), days=100.0, latencies=pd.DataFrame(rows, columns=list(LATENCY_COLUMNS))
    )
    fig = plot_uninstall_latency(long_run, SCENARIO)
    assert len(fig.axes) == 2
    zoom, whole = (ax.get_xlim()[1] for ax in fig.axes)
    assert zoom == pytest.approx(1.25 * 4.0)
    assert whole == pytest.approx(90.0)
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    # Android: S = 2/3 after 2 days, 1/3 after 4; iOS: 2/3 after 3 days, then only censored
    assert "Android: median 4.0 days\n33% of 3 undetected at the end" in labels
    ios = "iOS: median > 90 days (not reached)\n67% of 3 undetected at the end"
    assert ios in labels
    assert "The 3 (50%) still undetected" in fig.get_supxlabel()


def test_platform_colours_are_consistent_across_plots(result):
    reach = plot_reachability(result, SCENARIO)
    stale = plot_stale_tokens(result, SCENARIO)
    ios = plots.PLATFORM_COLOURS["ios"]
    assert reach.axes[1].get_lines()[0].get_color() == ios
    assert ios in [line.get_color() for line in stale.axes[1].get_lines()]


# -- empty and tiny results -------------------------------------------------------------------


@pytest.mark.parametrize("plot", PLOTTERS, ids=lambda f: f.__name__)
def test_empty_results_do_not_raise(plot, empty):
    fig = plot(empty, SCENARIO)
    assert isinstance(fig, Figure)
    assert SCENARIO in heading(fig)


@pytest.mark.parametrize("plot", PLOTTERS, ids=lambda f: f.__name__)
def test_tiny_results_do_not_raise(plot, tiny):
    assert isinstance(plot(tiny, SCENARIO), Figure)


@pytest.mark.parametrize("plot", PLOTTERS, ids=lambda f: f.__name__)
def test_results_with_no_rows_do_not_raise(plot):
    assert isinstance(plot(bare(), SCENARIO), Figure)


def test_no_campaigns_says_so(empty):
    fig = plot_send_outcomes(empty, SCENARIO)
    assert "no campaigns in this run" in texts(fig)
    assert not bars(fig.axes[0])


def test_no_uninstall_says_so():
    fig = plot_uninstall_latency(bare(), SCENARIO)
    assert len(fig.axes) == 1
    assert "no uninstall of a registered app in this run" in texts(fig)
    assert "day" in fig.axes[0].get_xlabel()


def test_uninstalls_none_detected_yet_stay_at_100_percent(empty):
    """One day: no provider has reported an uninstall yet; every curve stays at 100 %."""
    lat = empty.latencies[empty.latencies["kind"] == UNINSTALL]
    assert not lat.empty and not lat["observed"].any()
    fig = plot_uninstall_latency(empty, SCENARIO)
    steps = [line for line in fig.axes[0].get_lines() if line.get_drawstyle() == "steps-post"]
    assert steps
    for line in steps:
        assert set(np.asarray(line.get_ydata(), dtype=float).tolist()) == {100.0}
        assert "median > " in str(line.get_label())


def test_single_campaign_gets_a_bar(tiny):
    fig = plot_send_outcomes(tiny, SCENARIO)
    assert bars(fig.axes[0])


# -- files ------------------------------------------------------------------------------------


def test_write_plots_writes_every_png(result, tmp_path: Path):
    """The five plots, and Android 13+'s prompt when both Android classes are installed."""
    assert both_android_classes(result)
    paths = write_plots(result, tmp_path / "out", SCENARIO)
    assert [p.name for p in paths] == [*PLOT_FILES, ANDROID_PLOT]
    for path in paths:
        data = path.read_bytes()
        assert data.startswith(PNG_MAGIC)
        assert len(data) > 10_000
        assert b"matplotlib" not in data.lower()  # no version stamp in the metadata


def test_write_plots_is_byte_identical(result, tmp_path: Path):
    first = write_plots(result, tmp_path / "a", SCENARIO)
    second = write_plots(result, tmp_path / "b", SCENARIO)
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_write_plots_copes_with_an_empty_result(empty, tmp_path: Path):
    paths = write_plots(empty, tmp_path, SCENARIO)
    assert [p.name for p in paths][:5] == list(PLOT_FILES)
    assert len(paths) == 5 + both_android_classes(empty)
    assert all(p.stat().st_size > 0 for p in paths)
    assert [p.name for p in write_plots(bare(), tmp_path / "bare", SCENARIO)] == list(PLOT_FILES)


def test_plots_do_not_import_pyplot():
    tree = ast.parse(inspect.getsource(plots))
    imported = [
        name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in [getattr(node, "module", None) or "", *(a.name for a in node.names)]
    ]
    assert not [name for name in imported if "pyplot" in name], imported


def test_funnel_bars_are_the_last_sample_and_never_grow(result):
    """One panel per platform; Android's split into its OS classes, a bar per class and step."""
    fig = plot_funnel(result, SCENARIO)
    assert len(fig.axes) == 4
    assert SCENARIO in fig.get_suptitle()
    time = result.funnel["time"].max()
    last = result.funnel[result.funnel["time"] == time]
    by_os = result.funnel_by_os[result.funnel_by_os["time"] == time]
    for ax, platform in zip(fig.axes, ("all", "ios", "android", "web"), strict=True):
        assert ax.get_xlabel() == "devices"
        rectangles = [patch for patch in ax.patches if isinstance(patch, Rectangle)]
        widths = [patch.get_width() for patch in rectangles if not patch.get_hatch()]
        believed = [patch.get_width() for patch in rectangles if patch.get_hatch()]
        if platform == "android":
            assert "OS class" in ax.get_title(loc="left")
            legend = ax.get_legend()
            assert legend is not None
            labels = [t.get_text() for t in legend.get_texts()]
            assert labels[0].startswith("Android ≤ 12") and labels[1].startswith("Android 13+")
            classes = ("android_12_or_lower", "android_13_plus")
            per_class = [by_os[by_os["os_class"] == c]["devices"].tolist() for c in classes]
            assert widths == per_class[0] + per_class[1]
            # what the registry believes, one hatched bar per class: its foreground tokens
            ts_os = result.timeseries_by_os[result.timeseries_by_os["time"] == time]
            assert believed == [
                float(ts_os[ts_os["os_class"] == c]["foreground_tokens"].sum()) for c in classes
            ]
            total = last[last["platform"] == platform]["devices"].tolist()
            assert [a + b for a, b in zip(*per_class, strict=True)] == total
            for bars_of_class in per_class:
                assert bars_of_class == sorted(bars_of_class, reverse=True)
            continue
        expected = last[last["platform"] == platform]["devices"].tolist()
        assert widths == expected
        # beside the true funnel, hatched: the foreground tokens the registry holds
        ts = result.timeseries[
            (result.timeseries["time"] == time) & (result.timeseries["platform"] == platform)
        ]
        assert believed == [float(ts["foreground_tokens"].sum())]
        assert believed[0] >= expected[-1], "the registry never believes fewer than truly"
        assert widths == sorted(widths, reverse=True)  # each step keeps a subset of the last
        assert widths[0] > 0


def test_the_android_funnel_is_whole_with_one_android_class():
    params = WorldParams().changed(
        population={"devices": 300, "platform_share": {"ios": 0.5, "android_13": 0.5}}
    )
    one_class = simulate(params, days=3, seed=2)
    assert not both_android_classes(one_class)
    ax = plot_funnel(one_class, SCENARIO).axes[2]
    assert ax.get_title(loc="left").startswith("Android (")
    assert ax.get_legend() is None


def test_the_android_prompt_plot_shows_the_cost_and_the_campaigns(result):
    fig = plot_android_prompt(result, SCENARIO)
    left, right = fig.axes
    assert "Android 13+'s prompt" in heading(fig) and SCENARIO in heading(fig)
    ends = {c: result.class_end(c) for c in ("android_12_or_lower", "android_13_plus")}
    heights = [bar.get_height() for bar in bars(left)]
    # ≤ 12's two bars, then 13+'s two bars: notifications allowed, truly reachable per 100
    expected = [
        100 * value
        for end in ends.values()
        if end is not None
        for value in (end.permission_share, end.reach_rate)
        if value is not None
    ]
    np.testing.assert_allclose(heights[:4], expected)
    cost = result.android_13_cost()
    assert cost is not None and cost.people > 0
    legend = " ".join(t.get_text() for t in left.get_legend().get_texts())  # type: ignore[union-attr]
    assert f"≈ {cost.people:,.0f} people" in legend
    assert "% of launched" in " ".join(t.get_text() for t in left.get_xticklabels())
    lines = right.get_lines()
    assert [str(line.get_label()).split(":")[0] for line in lines] == [
        "Android ≤ 12",
        "Android 13+",
    ]
    shares = result.campaign_display_shares("android_13_plus")
    np.testing.assert_allclose(np.asarray(lines[1].get_ydata(), dtype=float), 100 * shares["share"])
