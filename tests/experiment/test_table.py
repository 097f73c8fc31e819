"""The long table: self-describing columns, every time-series metric and every summary figure."""

from __future__ import annotations

import dataclasses
import math

import pytest

from sim.experiment import plan_sweep, sweep
from sim.experiment.execute import simulate
from sim.experiment.table import SUMMARY, TIMESERIES_METRICS, figures, long_table
from sim.scenario import load_scenario
from tests.experiment import SWEEP_FILE, TINY


@pytest.fixture(scope="module")
def plan():
    return plan_sweep(
        load_scenario(SWEEP_FILE, [*TINY, "measurement.warm_up_days=4"]), replications=2
    )


@pytest.fixture(scope="module")
def one_run(plan):
    run = plan.runs[-1]
    return run, simulate(run.document, run.seed)


def test_columns_and_types(plan, one_run):
    run, result = one_run
    rows = long_table(result, run)
    assert list(rows.columns) == [
        "run_id",
        "scenario",
        "scenario_hash",
        "policy.uninstall_tracking",
        "replication",
        "seed",
        "metric",
        "platform",
        "time",
        "value",
    ]
    assert set(rows["run_id"]) == {"p001-r001"}
    assert set(rows["scenario"]) == {"uninstall_tracking_sweep"}
    assert set(rows["scenario_hash"]) == {plan.points[1].scenario_hash}
    assert (
        rows["policy.uninstall_tracking"].dtype == bool and rows["policy.uninstall_tracking"].all()
    )
    assert set(rows["replication"]) == {1} and set(rows["seed"]) == {run.seed}
    assert rows["value"].dtype == float and rows["time"].dtype == float


def test_every_time_series_metric_by_platform(one_run):
    run, result = one_run
    rows = long_table(result, run)
    series = rows[~rows["metric"].str.startswith(SUMMARY)]
    assert set(series["metric"]) == set(TIMESERIES_METRICS)
    assert set(series["platform"]) == {"ios", "android", "web", "all"}
    # the whole run, warm-up included: the time series is the raw record
    assert sorted(set(series["time"])) == sorted(set(result.timeseries["time"]))
    stale = series[(series["metric"] == "stale_rate") & (series["platform"] == "all")]
    expected = result.timeseries[result.timeseries["platform"] == "all"]["stale_rate"]
    assert stale["value"].tolist() == expected.tolist()


def test_every_summary_figure_after_the_warm_up(one_run):
    run, result = one_run
    rows = long_table(result, run)
    summary = rows[rows["metric"].str.startswith(SUMMARY)]
    assert set(summary["platform"]) == {"all"} and set(summary["time"]) == {result.days}
    measured = result.after_warm_up().summary()
    assert measured["warm_up_days"] == 4
    for name in ("believed_reachable", "stale_rate", "mean_stale_rate", "campaign_bounced"):
        value = summary.loc[summary["metric"] == SUMMARY + name, "value"].item()
        assert value == pytest.approx(measured[name])
    # the mean stale rate leaves out the samples of the warm-up
    whole = result.timeseries[result.timeseries["platform"] == "all"]["stale_rate"].mean()
    assert figures(result)["mean_stale_rate"] != pytest.approx(whole)
    assert "summary.seed" not in set(summary["metric"])


def test_undefined_figures_are_nan(one_run):
    _, result = one_run
    found = figures(result)
    assert all(isinstance(v, float) for v in found.values())
    nobody = dataclasses.replace(result, timeseries=result.timeseries.assign(truly_reachable=0))
    assert math.isnan(figures(nobody)["overstatement"])


def test_the_experiment_table_and_its_files(tmp_path):
    import json

    import pandas as pd

    result = sweep(SWEEP_FILE, 2, out=tmp_path, overrides=TINY)
    table = pd.read_parquet(tmp_path / "results.parquet")
    pd.testing.assert_frame_equal(table, result.table)
    assert table["run_id"].is_monotonic_increasing
    assert sorted(set(table["run_id"])) == ["p000-r000", "p000-r001", "p001-r000", "p001-r001"]
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert list(summary.columns) == [
        "point",
        "scenario",
        "scenario_hash",
        "policy.uninstall_tracking",
        "figure",
        "mean",
        "ci_low",
        "ci_high",
        "n",
    ]
    row = summary[(summary["point"] == "p001") & (summary["figure"] == "stale_rate")].iloc[0]
    interval = result.figure("stale_rate", point=1)
    assert row["mean"] == pytest.approx(interval.mean) and row["n"] == 2
    assert row["ci_low"] == pytest.approx(interval.low)
    plan = json.loads((tmp_path / "experiment.json").read_text())
    assert plan["kind"] == "sweep" and plan["replications"] == 2
    assert plan["common_random_numbers"] is True
    assert [r["run_id"] for r in plan["runs"]] == sorted(set(table["run_id"]))
    assert plan["points"][1]["values"] == {"policy.uninstall_tracking": True}
    assert plan["points"][1]["resolved"]["policy"]["uninstall_tracking"] is True
