"""A sharded run end to end: the same bytes with any number of workers, and the K = 1 case."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.metrics.results import RunResult
from sim.runner import run_scenario
from sim.scenario import load_scenario
from sim.sharding import simulate_sharded
from sim.simulation import simulate
from sim.world import WorldParams
from tests.cli import pushsim

SHORT = [
    "population.devices=600",
    "population.arrivals_per_day=2.4",
    "measurement.days=20.0",
    "measurement.warm_up_days=5.0",
]
PARAMS = WorldParams().changed(
    population={"devices": 500, "arrivals_per_day": 4.0, "shared_device_share": 0.3},
    policy={"uninstall_tracking": True},
)


def _csvs(result: RunResult) -> dict[str, str]:
    return {name: frame.to_csv(index=False) for name, frame in result.frames().items()}


def test_one_worker_and_two_give_the_same_bytes_on_the_command_line(tmp_path: Path):
    outs = []
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}"
        done = pushsim(
            "run",
            "scenarios/baseline.toml",
            *(arg for key in [*SHORT, "measurement.shards=3"] for arg in ("--set", key)),
            "--workers",
            workers,
            "--events",
            "--quiet",
            "--out",
            out,
        )
        assert done.returncode == 0, done.stderr
        outs.append(out)
    names = sorted(p.name for p in outs[0].iterdir())
    assert names == sorted(p.name for p in outs[1].iterdir())
    assert "events.csv" in names and "summary.json" in names
    for name in names:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name


def test_the_pool_and_the_serial_loop_merge_the_same_result():
    serial = simulate_sharded(PARAMS, days=15, seed=2, shards=2, workers=1, event_log=True)
    pooled = simulate_sharded(PARAMS, days=15, seed=2, shards=2, workers=2, event_log=True)
    assert _csvs(serial) == _csvs(pooled)


def test_one_shard_is_the_unsharded_run():
    sharded = simulate_sharded(PARAMS, days=15, seed=2, shards=1, workers=2, event_log=True)
    assert _csvs(sharded) == _csvs(simulate(PARAMS, days=15, seed=2, event_log=True))
    scenario = load_scenario("scenarios/baseline.toml", SHORT)
    assert scenario.measurement.shards == 1
    by_scenario = run_scenario(scenario, workers=2)
    direct = simulate(scenario.world(), days=20.0, seed=scenario.measurement.seed)
    assert _csvs(by_scenario) == _csvs(direct)


def test_two_shards_are_another_draw_of_the_same_world():
    one = simulate_sharded(PARAMS, days=15, seed=2, shards=1)
    two = simulate_sharded(PARAMS, days=15, seed=2, shards=2)
    assert _csvs(one)["timeseries"] != _csvs(two)["timeseries"]
    assert list(one.timeseries.columns) == list(two.timeseries.columns)
    assert len(one.timeseries) == len(two.timeseries)
    # the population at day 0 is the same people and devices, so day-0-ish counts are close
    first = [r.timeseries[r.timeseries["platform"] == "all"].iloc[0] for r in (one, two)]
    assert abs(int(first[0]["tokens"]) - int(first[1]["tokens"])) < 0.1 * int(first[0]["tokens"])


def test_event_log_tokens_are_unique_across_shards():
    result = simulate_sharded(PARAMS, days=10, seed=2, shards=2, event_log=True)
    assert result.events is not None
    tokens = result.events.loc[result.events["stream"] == "token", "token"]
    assert tokens.str.match(r"^s[01]-(apns|fcm|wp)-").all()
    assert result.events["time"].is_monotonic_increasing
    adds = result.events[(result.events["stream"] == "token") & (result.events["change"] == "add")]
    per_device = adds.groupby("token")["device"].nunique()
    assert (per_device == 1).all()  # a token string names one device, whatever its shard


def test_replications_of_a_sharded_scenario_run_their_shards_in_the_worker():
    from sim.experiment import replicate

    scenario = load_scenario("scenarios/baseline.toml", [*SHORT, "measurement.shards=2"])
    result = replicate(scenario, 2)
    assert set(result.table["replication"]) == {0, 1}
    assert isinstance(result.table, pd.DataFrame)
