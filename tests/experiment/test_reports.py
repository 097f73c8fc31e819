"""Experiments write ``report.md``, plots and ``summary.json`` into their folder.

``run --replications``, ``sweep`` and ``compare`` (and the Python API with ``out``) each write a
report stating every headline figure with its CI; a comparison lists the keys that differ; a
folder with reports stays pushsim's own for ``--resume`` and ``--overwrite``.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from sim.experiment import api, compare, sweep
from sim.experiment.commands import main, run_replications
from sim.experiment.comparison import HEADLINE
from sim.experiment.formatting import interval, number
from sim.experiment.store import (
    FIGURES_PLOT,
    FOREST_PLOT,
    HEATMAP_PLOT,
    REACHABILITY_PLOT,
    REPORT,
    SUMMARY_JSON,
    SWEEP_PLOT,
)
from sim.report.experiment import scenario_diff
from tests.experiment import BASELINE, SWEEP_FILE, TINY, TRACKING

SETS = [arg for assignment in TINY for arg in ("--set", assignment)]
COMMON = ["--replications", "2", "--workers", "1", "--quiet", *SETS]


def is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def states_every_headline_figure(folder: Path) -> str:
    """The report, checked to state each headline figure with the CI of summary.csv."""
    report = (folder / REPORT).read_text()
    summary = pd.read_csv(folder / "summary.csv")
    for name in HEADLINE:
        for _, row in summary[summary["figure"] == name].iterrows():
            stated = f"{number(row['mean'])} {interval(row['ci_low'], row['ci_high'])}"
            assert stated in report.replace(" | ", " "), (name, stated)
    return report


def replications_args(out: Path, *extra: str) -> argparse.Namespace:
    return argparse.Namespace(
        scenario=BASELINE,
        overrides=list(TINY),
        replications=2,
        workers=1,
        dask=None,
        out=out,
        quiet=True,
        resume="--resume" in extra,
        overwrite="--overwrite" in extra,
        dry_run=False,
        seed=None,
        days=None,
        events=False,
    )


def test_replications_write_a_report_plots_and_platform_figures(tmp_path):
    out = tmp_path / "reps"
    assert run_replications(replications_args(out)) == 0
    for plot in (REACHABILITY_PLOT, FIGURES_PLOT):
        assert is_png(out / plot)
    report = states_every_headline_figure(out)
    assert "95% CI" in report and f"]({REACHABILITY_PLOT})" in report
    document = json.loads((out / SUMMARY_JSON).read_text())
    (point,) = document["points"]
    truly = point["figures"]["truly_reachable"]
    assert {"all", "ios", "android", "web"} <= set(truly)
    summary = pd.read_csv(out / "summary.csv").set_index("figure")
    assert truly["all"]["mean"] == pytest.approx(summary.loc["truly_reachable", "mean"])
    platforms = sum(truly[p]["mean"] for p in ("ios", "android", "web"))
    assert platforms >= truly["all"]["mean"]  # a profile counts under each platform it reaches
    assert truly["ios"]["n"] == 2 and math.isfinite(truly["ios"]["ci_low"])


def test_a_folder_with_a_report_resumes_and_is_overwritten(tmp_path):
    out = tmp_path / "reps"
    assert run_replications(replications_args(out)) == 0
    assert run_replications(replications_args(out, "--resume")) == 0
    assert run_replications(replications_args(out, "--overwrite")) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reps"]  # no numbered sibling
    assert (out / REPORT).is_file() and is_png(out / FIGURES_PLOT)
    assert run_replications(replications_args(out)) == 0  # kept: the next goes beside it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reps", "reps-2"]


def test_sweep_writes_a_panel_per_figure(tmp_path):
    out = tmp_path / "sweep"
    assert main(["sweep", str(SWEEP_FILE), "--out", str(out), *COMMON]) == 0
    assert is_png(out / SWEEP_PLOT)
    assert not (out / HEATMAP_PLOT).exists()  # one key swept
    report = states_every_headline_figure(out)
    assert "policy.uninstall_tracking" in report
    document = json.loads((out / SUMMARY_JSON).read_text())
    assert [p["values"] for p in document["points"]] == [
        {"policy.uninstall_tracking": False},
        {"policy.uninstall_tracking": True},
    ]
    assert main(["sweep", str(SWEEP_FILE), "--out", str(out), "--resume", *COMMON]) == 0
    assert is_png(out / SWEEP_PLOT)


def test_two_swept_keys_get_heat_maps(tmp_path):
    text = SWEEP_FILE.read_text()
    text = text.replace(
        '"policy.uninstall_tracking" = [false, true]',
        '"policy.uninstall_tracking" = [false, true]\n"campaigns.every_days" = [3, 6]',
    )
    scenario = tmp_path / "grid.toml"
    scenario.write_text(text)
    out = tmp_path / "grid"
    result = sweep(scenario, 2, out=out, overrides=TINY, progress=False)
    assert len(result.plan.points) == 4
    assert is_png(out / SWEEP_PLOT) and is_png(out / HEATMAP_PLOT)
    states_every_headline_figure(out)


def test_compare_shows_what_differs(tmp_path):
    out = tmp_path / "cmp"
    assert main(["compare", str(BASELINE), str(TRACKING), "--out", str(out), *COMMON]) == 0
    assert is_png(out / FOREST_PLOT)
    report = (out / REPORT).read_text()
    assert "| `policy.uninstall_tracking` | false | true |" in report
    figures = pd.read_csv(out / "comparison.csv").set_index("figure")
    for name in HEADLINE:
        row = figures.loc[name]
        assert f"| {name} | " in report
        assert interval(row["paired_low"], row["paired_high"]) in report
    document = json.loads((out / SUMMARY_JSON).read_text())
    assert [c["figure"] for c in document["comparison"]][: len(HEADLINE)] == list(HEADLINE)
    assert len(document["points"]) == 2
    options = ["--out", str(out), "--overwrite", *COMMON]
    assert main(["compare", str(BASELINE), str(TRACKING), *options]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cmp"]


def test_scenario_diff_lists_changed_keys_with_defaults():
    a = {"scenario": {"name": "a"}, "policy": {"x": False, "y": 1}, "list": [1]}
    b = {"scenario": {"name": "b"}, "policy": {"x": True, "y": 1}, "list": [1], "new": {"z": 2}}
    assert scenario_diff(a, b) == [("new.z", None, 2), ("policy.x", False, True)]


def test_progress_bar_only_when_interactive(monkeypatch, capsys):
    shown = api.Progress("name")
    assert not shown.enabled  # pytest's standard error is not a terminal
    monkeypatch.setattr(api, "interactive", lambda: True)
    bar = api.Progress("tiny")
    assert bar.enabled and not api.Progress("tiny", enabled=False).enabled
    api.replicate(BASELINE, 2, overrides=TINY)
    assert "2/2" in capsys.readouterr().err


def test_the_python_api_writes_the_report_unless_told_not_to(tmp_path):
    result = compare(BASELINE, TRACKING, 2, out=tmp_path / "cmp", overrides=TINY, progress=False)
    assert is_png(tmp_path / "cmp" / FOREST_PLOT) and (tmp_path / "cmp" / REPORT).is_file()
    assert result.figure("stale_rate")["n"] == 2
    api.replicate(BASELINE, 2, out=tmp_path / "bare", overrides=TINY, report=False)
    assert not (tmp_path / "bare" / REPORT).exists()
    assert (tmp_path / "bare" / "summary.csv").is_file()
