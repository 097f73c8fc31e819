"""Unit tests of the observers: send ledger, latencies, results after the warm-up."""

from __future__ import annotations

import pandas as pd

from sim.metrics.latency import ROTATION, SWITCH, UNINSTALL, Latencies
from sim.metrics.sends import SEND_COLUMNS, SendLedger
from sim.platforms import Platform, Provider
from sim.providers import SendResult
from sim.registry import Registry
from sim.simulation import simulate
from sim.world import Outcome, PopulationParams, SendRecord, Truth, TruthEvent, WorldParams


def _send(campaign: str, attempt: int, status: int, outcome: Outcome | None) -> SendRecord:
    return SendRecord(1.0, campaign, "t", Platform.IOS, "kim", attempt, status, "", outcome)


def test_ledger_counts_targets_retries_and_outcomes():
    ledger = SendLedger()
    ledger.record(_send("c1", 0, 200, Outcome.DISPLAYED))
    ledger.record(_send("c1", 0, 200, Outcome.SHOWN_TO_OTHER_USER))
    ledger.record(_send("c1", 0, 200, Outcome.SHOWN_TO_NOBODY))
    ledger.record(_send("c1", 0, 200, Outcome.SHOWN_TO_NOBODY))
    ledger.record(_send("c1", 0, 410, Outcome.BOUNCED))
    ledger.record(_send("c1", 0, 429, None))  # waiting for a retry
    ledger.record(_send("c1", 0, 503, None))
    ledger.record(_send("c1", 1, 200, Outcome.DROPPED))  # the retry of one of them
    (row,) = ledger.rows()
    got = dict(zip(SEND_COLUMNS, row, strict=True))
    assert got["targeted"] == 7
    assert got["sent"] == 8
    assert got["retried"] == 1
    assert (got["displayed"], got["dropped"], got["bounced"]) == (1, 1, 1)
    assert (got["shown_to_other_user"], got["shown_to_nobody"]) == (1, 2)  # kept apart
    assert "misdirected" not in got
    assert got["delivered"] == 5
    assert got["pending"] == 1  # the 503 has not been retried yet
    assert ledger.bounces == {("c1", "ios", 410, ""): 1}


def test_probe_campaigns_are_labelled():
    ledger = SendLedger()
    ledger.record(_send("probe3", 0, 200, Outcome.DELIVERED_BACKGROUND))
    (row,) = ledger.rows()
    assert dict(zip(SEND_COLUMNS, row, strict=True))["kind"] == "probe"


def _registry_with_token() -> Registry:
    registry = Registry()
    registry.add_app("app", ["ios"])
    registry.session_start(0.0, device="d.1", app="app", platform="ios", token="a", foreground=True)
    return registry


def test_uninstall_latency_runs_from_the_uninstall_to_the_removal():
    registry = _registry_with_token()
    latencies = Latencies(registry)
    latencies.on_truth(TruthEvent(2.0, Truth.UNINSTALL, "d", "d.1", Platform.IOS, None, "a"))
    assert latencies.open_counts()[UNINSTALL] == 1
    registry.handle_response(12.5, "a", SendResult(Provider.APNS, 410, "Unregistered", 2.0))
    assert latencies.rows() == [(UNINSTALL, "ios", 2.0, 12.5, 10.5, True)]
    assert latencies.open_counts()[UNINSTALL] == 0


def test_rotation_latency_waits_for_the_new_token_and_switch_latency_for_the_move():
    registry = _registry_with_token()
    latencies = Latencies(registry)
    latencies.on_truth(
        TruthEvent(3.0, Truth.TOKEN_CHANGED, "d", "d.1", Platform.IOS, None, "a", "b")
    )
    latencies.on_truth(TruthEvent(3.5, Truth.LOGIN, "d", "d.1", Platform.IOS, "kim"))
    registry.change_user(3.6, device="d.1", app="app", user="kim")
    registry.session_start(5.0, device="d.1", app="app", platform="ios", token="b", foreground=True)
    rows = {kind: (start, end) for kind, _, start, end, _, _ in latencies.rows()}
    assert rows[SWITCH] == (3.5, 3.6)
    assert rows[ROTATION] == (3.0, 5.0)


def test_after_warm_up_drops_early_rows_and_keeps_the_rest():
    result = simulate(WorldParams(population=PopulationParams(devices=200)), days=20, seed=2)
    result.warm_up_days = 10.0
    later = result.after_warm_up()
    assert later.timeseries["time"].min() >= 10.0
    assert later.sends["time"].min() >= 10.0
    assert (later.latencies["start"] >= 10.0).all()
    assert later.funnel["time"].min() >= 10.0
    kept = result.timeseries[result.timeseries["time"] >= 10.0].reset_index(drop=True)
    pd.testing.assert_frame_equal(later.timeseries, kept)
    assert later.summary()["warm_up_days"] == 10.0
