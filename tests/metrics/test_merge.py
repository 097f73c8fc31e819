"""Merging the results of the shards of one run: sums, recomputed rates, deterministic order."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from sim.metrics.latency import LATENCY_COLUMNS
from sim.metrics.results import RunResult, merge
from sim.metrics.sends import SEND_COLUMNS
from sim.metrics.timeseries import CAUSE_COLUMNS, COLUMNS, FUNNEL_COLUMNS
from sim.simulation import Simulation
from sim.world import WorldParams
from sim.world.population import Shard
from tests.support import reference


def _ts(time: float, believed: int, foreground: int, dead: int, zombie: int) -> tuple[Any, ...]:
    rate = (dead + zombie) / foreground if foreground else 0.0
    return (time, "all", believed, believed - 1, 0, foreground + 2, foreground, dead, zombie, rate,
            1, 0, 1)  # fmt: skip


def _sends(*rows: tuple[str, float, str, int, int]) -> pd.DataFrame:
    """(campaign, time, platform, targeted, bounced) → full send rows."""
    out = []
    for campaign, time, platform, targeted, bounced in rows:
        kind = "probe" if campaign.startswith("probe") else "campaign"
        rest = [0] * (len(SEND_COLUMNS) - 8)
        out.append((campaign, kind, time, platform, targeted, targeted, 0, bounced, *rest))
    return pd.DataFrame(out, columns=list(SEND_COLUMNS))


def _result(
    ts: list[tuple[Any, ...]],
    sends: pd.DataFrame,
    bounces: list[tuple[Any, ...]],
    latencies: list[tuple[Any, ...]],
    open_latencies: dict[str, int],
) -> RunResult:
    return RunResult(
        seed=1,
        days=2.0,
        params={"x": 1},
        timeseries=pd.DataFrame(ts, columns=list(COLUMNS)),
        sends=sends,
        bounces=pd.DataFrame(
            bounces, columns=["campaign", "platform", "status", "reason", "count"]
        ),
        latencies=pd.DataFrame(latencies, columns=list(LATENCY_COLUMNS)),
        open_latencies=open_latencies,
        funnel=pd.DataFrame(
            [(1.0, "all", "installed", 5), (2.0, "all", "installed", 6)],
            columns=list(FUNNEL_COLUMNS),
        ),
        stale_causes=pd.DataFrame(
            [(1.0, "all", "rotated", 1), (2.0, "all", "rotated", 2)], columns=list(CAUSE_COLUMNS)
        ),
        warm_up_days=1.0,
    )


A = _result(
    [_ts(1.0, 10, 10, 1, 0), _ts(2.0, 12, 0, 0, 0)],
    _sends(("c0001", 0.5, "ios", 4, 1), ("c0001", 0.5, "web", 2, 0), ("c0002", 1.5, "ios", 3, 0)),
    [("c0001", "ios", 410, "Unregistered", 1)],
    [
        ("uninstall_detection", "ios", 0.2, 1.5, 1.3, True),
        ("switch", "ios", 1.0, 1.9, 0.9, True),
        ("uninstall_detection", "web", 0.5, 2.0, 1.5, False),
    ],
    {"uninstall_detection": 2, "switch": 0},
)
B = _result(
    [_ts(1.0, 5, 30, 2, 4), _ts(2.0, 7, 4, 1, 0)],
    _sends(("c0001", 0.5, "android", 5, 0), ("c0002", 1.5, "ios", 1, 1)),
    [("c0002", "ios", 410, "Unregistered", 1)],
    [
        ("uninstall_detection", "android", 0.1, 1.2, 1.1, True),
        ("uninstall_detection", "ios", 0.3, 2.0, 1.7, False),
    ],
    {"uninstall_detection": 1, "switch": 3},
)


def test_counts_are_summed_and_the_stale_rate_recomputed():
    merged = merge([A, B])
    ts = merged.timeseries
    assert list(ts["believed_reachable"]) == [15, 19]
    assert list(ts["foreground_tokens"]) == [40, 4]
    assert list(ts["stale_dead"]) == [3, 1]
    # from the summed counts: 7/40 and 1/4, not the mean of 0.1 and 0.2 (or of 0 and 0.25)
    assert list(ts["stale_rate"]) == [7 / 40, 1 / 4]
    assert list(merged.funnel["devices"]) == [10, 12]
    assert list(merged.stale_causes["tokens"]) == [2, 4]
    assert merged.open_latencies == {"uninstall_detection": 3, "switch": 3}
    assert (merged.seed, merged.days, merged.params, merged.warm_up_days) == (1, 2.0, {"x": 1}, 1.0)


def test_sends_are_summed_per_campaign_and_platform_in_time_order():
    sends = merge([A, B]).sends
    keys = list(zip(sends["campaign"], sends["platform"], strict=True))
    assert keys == [("c0001", "ios"), ("c0001", "web"), ("c0001", "android"), ("c0002", "ios")]
    assert list(sends["targeted"]) == [4, 2, 5, 4]
    assert list(sends["bounced"]) == [1, 0, 0, 1]
    assert sends.dtypes.equals(A.sends.dtypes)


def test_bounces_follow_the_campaigns_and_latencies_the_end_times():
    merged = merge([B, A])  # B first: its c0002 bounce must still come after A's c0001
    assert list(merged.bounces["campaign"]) == ["c0001", "c0002"]
    assert list(merged.latencies["end"]) == [1.2, 1.5, 1.9, 2.0, 2.0]
    # the censored rows (open at the end of the run) follow, shard by shard
    assert list(merged.latencies["observed"]) == [True, True, True, False, False]
    assert list(merged.latencies["platform"])[3:] == ["ios", "web"]


def test_a_single_result_merges_to_itself():
    assert merge([A]) is A


def test_results_sampled_at_other_times_are_refused():
    other = _result([_ts(1.0, 1, 1, 0, 0), _ts(3.0, 1, 1, 0, 0)], A.sends, [], [], {})
    with pytest.raises(ValueError, match="not sampled at the same"):
        merge([A, other])


def test_merged_shards_match_a_direct_count_over_every_shard():
    """Distinct-profile counts add up: the merged audience is the union of the shards' ones."""
    params = WorldParams().changed(
        population={"devices": 600, "arrivals_per_day": 6.0, "shared_device_share": 0.3}
    )
    shards = [Simulation(params, seed=2, shard=Shard(k, 3)) for k in range(3)]
    for simulation in shards:
        simulation.run(30)
    merged = merge([s.result() for s in shards])
    union: set[str] = set()
    for simulation in shards:
        union |= set(simulation.world.registry.audience("app"))
    assert merged.final()["believed_reachable"] == len(union)
    tokens = sum(reference(s.world).token_count for s in shards)
    assert merged.final()["tokens"] == tokens
    # every latency still open in a shard is one censored row of the merged table
    censored = merged.latencies[~merged.latencies["observed"].astype(bool)]
    assert len(censored) == sum(merged.open_latencies.values())
    assert (censored["end"] == merged.days).all()


def test_the_tables_by_os_class_merge_like_the_platform_tables():
    """Per OS class: counts summed, stale rate recomputed, sends per (campaign, OS class)."""
    params = WorldParams().changed(population={"devices": 600, "arrivals_per_day": 6.0})
    results = []
    for k in range(2):
        simulation = Simulation(params, seed=2, shard=Shard(k, 2))
        simulation.run(20)
        results.append(simulation.result())
    merged = merge(results)
    by_os = merged.timeseries_by_os
    for label in ("ios", "web", "all"):  # one class per platform: the merged platform rows
        pd.testing.assert_frame_equal(
            by_os[by_os["os_class"] == label].drop(columns="os_class").reset_index(drop=True),
            merged.timeseries[merged.timeseries["platform"] == label]
            .drop(columns="platform")
            .reset_index(drop=True),
        )
    new = by_os[by_os["os_class"] == "android_13_plus"]
    stale = new["stale_dead"] + new["stale_zombie"]
    expected = (stale / new["foreground_tokens"]).where(new["foreground_tokens"] > 0, 0.0)
    assert list(new["stale_rate"]) == pytest.approx(list(expected))
    sends = merged.sends_by_os
    assert not sends.duplicated(["campaign", "kind", "os_class"]).any()
    for result in results:  # each shard's sends are in the merged ones
        assert set(result.sends_by_os["os_class"]) <= set(sends["os_class"])
    assert int(sends["targeted"].sum()) == sum(
        int(r.sends_by_os["targeted"].sum()) for r in results
    )
    assert int(sends["targeted"].sum()) == int(merged.sends["targeted"].sum())
    funnel = merged.funnel_by_os
    assert list(funnel.columns) == ["time", "os_class", "step", "devices"]
    assert int(funnel["devices"].sum()) == sum(
        int(r.funnel_by_os["devices"].sum()) for r in results
    )
