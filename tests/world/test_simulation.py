"""The simulated world end to end: determinism, conservation, and a closed-form check."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.metrics.truth import TokenTruth, classify_token
from sim.platforms import PROVIDER_OF
from sim.simulation import Simulation, simulate
from sim.validation.closed_forms import steady_world
from sim.world import (
    CampaignParams,
    PopulationParams,
    TruthEvent,
    WorldParams,
)
from sim.world.params import DEFAULT_FCM_LAG

SMALL = WorldParams(population=PopulationParams(devices=600))


def _csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False)


def test_same_seed_gives_identical_results():
    a = simulate(SMALL, days=40, seed=7, event_log=True)
    b = simulate(SMALL, days=40, seed=7, event_log=True)
    for name, frame in a.frames().items():
        assert _csv(frame) == _csv(b.frames()[name]), name


def test_different_seed_gives_different_results():
    a = simulate(SMALL, days=40, seed=7)
    b = simulate(SMALL, days=40, seed=8)
    assert _csv(a.timeseries) != _csv(b.timeseries)


def test_policy_change_keeps_the_world_draws():
    """Common random numbers: a registry policy does not change what people do."""
    params = SMALL.changed(policy={"uninstall_tracking": True})
    a = Simulation(SMALL, seed=3)
    b = Simulation(params, seed=3)
    truths: list[list[tuple[float, str, str]]] = [[], []]
    for sim_, log in zip((a, b), truths, strict=True):

        def remember(event: TruthEvent, log: list[tuple[float, str, str]] = log) -> None:
            log.append((event.time, event.kind, event.device))

        sim_.world.signals.truth.append(remember)
        sim_.run(30)
    assert truths[0] == truths[1]
    assert len(truths[0]) > 100
    assert _csv(a.result().sends) != _csv(b.result().sends)  # probes were sent in b only


def test_every_held_token_was_issued_and_audience_bounds_hold():
    """Conservation checks sampled through a run."""
    simulation = Simulation(SMALL, seed=11)
    world = simulation.world
    checked = 0
    for day in range(5, 60, 5):
        simulation.run(day)
        now = world.env.now
        for record in world.registry.tokens():
            assert world.providers[PROVIDER_OF[record.platform]].was_issued(record.token)
            checked += 1
    assert checked > 1000
    ts = simulation.result().timeseries
    assert (ts["truly_reachable"] <= ts["believed_reachable"]).all()
    assert (ts["stale_dead"] + ts["stale_zombie"] <= ts["foreground_tokens"]).all()
    assert now == 55


def test_send_outcomes_add_up_and_pending_matches_the_sender():
    params = SMALL.changed(providers={"transient_error_share": 0.2})
    simulation = Simulation(params, seed=5)
    simulation.run(40.5)  # stops inside the retry window of the campaign at 35.5
    sends = simulation.result().sends
    finals = sends[["bounced", "delivered", "flagged", "gave_up", "pending"]].sum(axis=1)
    assert (finals == sends["targeted"]).all()
    assert (
        sends["delivered"]
        == sends["displayed"]
        + sends["shown_to_other_user"]
        + sends["shown_to_nobody"]
        + sends["dropped"]
        + sends["delivered_background"]
    ).all()
    assert sends["retried"].sum() > 0
    assert (sends["sent"] == sends["targeted"] + sends["retried"]).all()
    assert int(sends["pending"].sum()) == simulation.world.sender.pending


def test_stale_tokens_match_a_direct_classification():
    simulation = Simulation(SMALL, seed=2)
    simulation.run(20)
    world = simulation.world
    dead = sum(
        1
        for r in world.registry.tokens()
        if r.foreground and classify_token(world, r, 20)[0] is TokenTruth.DEAD
    )
    last = simulation.result().final()
    assert int(last["stale_dead"]) == dead


def test_ten_thousand_device_api_shape():
    """A small stand-in for the 10k x 90 world: the API returns every table described."""
    result = simulate(WorldParams(population=PopulationParams(devices=300)), days=15, seed=1)
    assert set(result.timeseries["platform"]) == {"ios", "android", "web", "all"}
    assert result.timeseries.attrs["seed"] == 1
    assert result.sends.attrs["params"]["population"]["devices"] == 300
    assert len(result.sends) > 0
    summary = result.summary()
    assert summary["believed_reachable"] >= summary["truly_reachable"]


@pytest.mark.parametrize(
    "lag",
    [
        {"distribution": "fixed", "days": 0.0},
        DEFAULT_FCM_LAG.model_dump(exclude_none=True),  # shifted log-normal, mean 2.0 days
    ],
    ids=["no-lag", "default-fcm-lag"],
)
def test_dead_tokens_match_the_closed_form(lag: dict[str, object]):
    """Steady installs, uninstalls at rate mu, campaigns every T days, no reinstall or rotation.

    Uninstalls are seen only by campaign bounces once the provider reports them, after a lag L
    drawn per token. A token is *dead* (rejected, still held) from its report to the next
    campaign, so dead tokens pile up at mu * N per day since the last campaign whatever L is:
    time-average mu*N*T/2. Before its report it is a *zombie* (accepted, not shown): mu*N*E[L]
    on average (Little's law). So stale = dead + zombie averages mu*N*(E[L] + T/2), with E[L]
    the mean of the lag distribution.
    """
    mu, n, period = 0.01, 1500, 7.0
    params = steady_world(
        n,
        lag,
        CampaignParams(every_days=period, first_campaign_day=0.25),
        uninstall_rate=mu,
    )
    mean_lag = params.providers.uninstall_lag("fcm").mean
    warm_up, days = 28.25, 168.0
    dead, stale = [], []
    for seed in range(8):
        ts = simulate(params, days=days, seed=seed, sample_every_days=0.5).timeseries
        window = ts[(ts["platform"] == "all") & (ts["time"] > warm_up) & (ts["time"] <= days)]
        # expected dead count at each sample: mu * installed * (time since the last campaign)
        since = (window["time"] - 0.25) % period
        assert math.isclose(float(since.mean()), period / 2, abs_tol=1e-9)  # whole periods
        dead.append(float(window["stale_dead"].mean()))
        stale.append(float((window["stale_dead"] + window["stale_zombie"]).mean()))
    for means, expected in (
        (dead, mu * n * period / 2),
        (stale, mu * n * (mean_lag + period / 2)),
    ):
        sample = np.array(means)
        half = stats.t.ppf(0.975, len(sample) - 1) * sample.std(ddof=1) / math.sqrt(len(sample))
        assert abs(sample.mean() - expected) <= half + 1e-9, (sample.mean(), half, expected)
        assert half < 0.2 * expected  # the interval is tight enough for the check to mean something


def test_funnel_ends_at_the_devices_truly_reachable():
    """Each funnel step keeps a subset of the previous one, and installed devices are counted."""
    simulation = Simulation(SMALL, seed=4)
    simulation.run(30)
    world = simulation.world
    result = simulation.result()
    funnel = result.funnel
    last = funnel[(funnel["time"] == 30) & (funnel["platform"] == "all")].set_index("step")
    counts = last["devices"].tolist()
    assert counts == sorted(counts, reverse=True)
    assert last.loc["installed", "devices"] == sum(d.installed for d in world.devices.values())
    # a device passing every step is truly reachable for its user, so the profiles on such devices
    # are exactly the truly reachable audience (profiles can span several devices)
    assert last.loc["subscribed", "devices"] >= result.final()["truly_reachable"]
    causes = result.stale_causes
    at_end = causes[(causes["time"] == 30) & (causes["platform"] == "all")].set_index("cause")
    stale = at_end.drop(index="held_for_other_user")["tokens"].sum()
    final = result.final()
    assert stale == final["stale_dead"] + final["stale_zombie"]


def test_running_to_the_day_the_world_is_at_does_nothing():
    from sim.simulation import Simulation
    from sim.world.params import WorldParams

    simulation = Simulation(WorldParams().changed(population={"devices": 20}), seed=1)
    simulation.run(2.0)
    before = len(simulation.result().timeseries)
    simulation.run(2.0)  # SimPy alone would raise "until must be greater than the current time"
    assert simulation.world.env.now == 2.0
    assert len(simulation.result().timeseries) == before
