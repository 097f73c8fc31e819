"""The simulated observables: each measured as docs/calibration.md defines it, on small worlds."""

from __future__ import annotations

import math

import pytest

from sim.calibration.moments import (
    REINSTALL_FOLLOW_DAYS,
    Moment,
    MomentRecorder,
    Moments,
    export_summary,
)
from sim.calibration.observations import Observable
from sim.simulation import Simulation
from sim.world.device import SHOWING
from sim.world.params import BehaviourParams, PopulationParams, WorldParams


def _run(params: WorldParams, days: float, seed: int = 3) -> tuple[Simulation, Moments]:
    simulation = Simulation(params, seed=seed)
    recorder = MomentRecorder(simulation.world)
    simulation.run(days)
    return simulation, recorder.measure()


@pytest.fixture(scope="module")
def world() -> tuple[Simulation, Moments]:
    return _run(WorldParams(population=PopulationParams(devices=800)), 120.0)


def test_opt_in_is_the_share_of_launched_installs_allowed(
    world: tuple[Simulation, Moments],
) -> None:
    simulation, moments = world
    live = [
        d
        for d in simulation.world.devices.values()
        if d.installed and d.launched and not d.retired and d.kind.value == "ios"
    ]
    assert moments.count(Observable.OPT_IN_SHARE, "ios") == len(live) > 0
    shown = sum(d.permission in SHOWING for d in live)
    assert moments.value(Observable.OPT_IN_SHARE, "ios") == shown / len(live)


def test_android_counts_both_os_classes(world: tuple[Simulation, Moments]) -> None:
    _, moments = world
    legacy = moments[(Observable.OPT_IN_SHARE, "android_12_or_lower")]
    modern = moments[(Observable.OPT_IN_SHARE, "android_13_plus")]
    both = moments[(Observable.OPT_IN_SHARE, "android")]
    assert both.count == legacy.count + modern.count
    assert legacy.value is not None and modern.value is not None and both.value is not None
    weighted = (legacy.value * legacy.count + modern.value * modern.count) / both.count
    assert both.value == pytest.approx(weighted)


def test_uninstall_shares_follow_their_parameters() -> None:
    params = WorldParams(
        population=PopulationParams(devices=2000),
        behaviour=BehaviourParams(uninstall_by_day1_share=0.1, uninstall_by_day30_share=0.6),
    )
    _, moments = _run(params, 61.0)
    day1 = moments.value(Observable.UNINSTALLED_BY_DAY1_SHARE)
    day30 = moments.value(Observable.UNINSTALLED_BY_DAY30_SHARE)
    n30 = moments.count(Observable.UNINSTALLED_BY_DAY30_SHARE)
    assert day1 is not None and day30 is not None
    # binomial: 4 standard errors either side
    assert abs(day1 - 0.1) < 4 * math.sqrt(0.1 * 0.9 / n30)
    assert abs(day30 - 0.6) < 4 * math.sqrt(0.6 * 0.4 / n30)


def test_reinstall_share_counts_uninstalls_followed_long_enough() -> None:
    params = WorldParams(
        population=PopulationParams(devices=1500),
        behaviour=BehaviourParams(reinstall_share=0.5, reinstall_delay_mean_days=5.0),
    )
    _, short = _run(params, REINSTALL_FOLLOW_DAYS)
    assert short[(Observable.REINSTALL_SHARE, None)] == Moment(None, 0)
    _, moments = _run(params, 2 * REINSTALL_FOLLOW_DAYS)
    share = moments.value(Observable.REINSTALL_SHARE)
    n = moments.count(Observable.REINSTALL_SHARE)
    assert share is not None and n > 300
    assert abs(share - 0.5) < 4 * math.sqrt(0.25 / n)


def test_sessions_per_active_week_grow_with_the_session_rate() -> None:
    def sessions(rate: float) -> float:
        params = WorldParams(
            population=PopulationParams(devices=400),
            behaviour=BehaviourParams(session_rate_per_day=rate),
        )
        value = _run(params, 30.0)[1].value(Observable.SESSIONS_PER_ACTIVE_USER_PER_WEEK)
        assert value is not None
        return value

    low, high = sessions(0.3), sessions(2.0)
    assert 1.0 <= low < high  # an active install-week has a session by definition
    assert high > 2.5 * low


def test_export_observables_come_from_the_registrys_tokens(
    world: tuple[Simulation, Moments],
) -> None:
    simulation, moments = world
    export = export_summary(simulation.world.registry)
    assert export.token_count == sum(1 for _ in simulation.world.registry.tokens())
    assert moments.value(Observable.MULTI_DEVICE_USER_SHARE) == export.multi_device_user_share()
    # the reference registry moves a token on login (R2): no device holds two users' tokens
    assert moments.value(Observable.MULTI_USER_DEVICE_SHARE) == 0.0
    ios_enabled = export.enabled_share("ios")
    assert ios_enabled is not None
    disabled = moments.value(Observable.NOTIFICATIONS_DISABLED_SHARE, "ios")
    assert disabled == pytest.approx(1 - ios_enabled)


def test_bounce_rates_are_per_provider_and_leave_probes_out() -> None:
    params = WorldParams.model_validate(
        {"population": {"devices": 800}, "policy": {"uninstall_tracking": True}}
    )
    _, moments = _run(params, 60.0)
    providers = {q for (o, q) in moments if o is Observable.BOUNCE_RATE}
    assert providers <= {"apns", "fcm", "webpush"} and "fcm" in providers
    rate = moments.value(Observable.BOUNCE_RATE, "fcm")
    assert rate is not None and 0 < rate < 1
    assert moments.value(Observable.CAMPAIGN_CADENCE_DAYS) == pytest.approx(7.0)


def test_a_world_without_devices_gives_empty_moments() -> None:
    params = WorldParams(population=PopulationParams(devices=0))
    _, moments = _run(params, 10.0)
    assert moments.value(Observable.UNINSTALLED_BY_DAY1_SHARE) is None
    assert moments.count(Observable.UNINSTALLED_BY_DAY1_SHARE) == 0
    assert moments.value(Observable.OPT_IN_SHARE, "ios") is None


def test_listening_to_sessions_changes_nothing_in_the_world() -> None:
    params = WorldParams(population=PopulationParams(devices=300))
    plain = Simulation(params, seed=5)
    plain.run(40.0)
    heard, _ = _run(params, 40.0, seed=5)
    assert plain.result().summary() == heard.result().summary()
