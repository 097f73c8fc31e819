"""The latency observer against a world with a closed-form answer, and its censored rows."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from sim.metrics.latency import (
    LATENCY_COLUMNS,
    ROTATION,
    SWITCH,
    UNINSTALL,
    Latencies,
    LatencyRow,
)
from sim.platforms import Platform, Provider
from sim.providers import SendResult
from sim.registry import Registry
from sim.simulation import simulate
from sim.world import Truth, TruthEvent, WorldParams

# -- a world where rotation latency has a closed form -----------------------------------------

SESSIONS = 0.5  # s: sessions per day, Poisson, the same for every device
ROTATIONS = 0.25  # r: provider rotations per day, Poisson
DEVICES = 2000
DAYS = 60.0
#: rotations that started this long before the end have all closed, but for P = e^(-s·30) each
MARGIN = 30.0


def _poisson_world() -> WorldParams:
    """iOS devices that open the app at rate s for ever and get a new token at rate r.

    Nothing else happens: no uninstall, change of session rate, update, OS reinstall,
    replacement, user switch, logout, settings change or campaign; the SDK reports at once. A
    session registers the device's current token (R1), so every rotation waits for the next
    session.
    """
    return WorldParams().changed(
        population={
            "devices": DEVICES,
            "platform_share": {"ios": 1.0},
            "shared_device_share": 0.0,
        },
        permission={"turn_off_per_day": 0.0, "turn_on_per_day": 0.0},
        behaviour={
            "session_rate_per_day": SESSIONS,
            "session_rate_log_sigma": 0.0,
            "dormant_session_rate_per_day": SESSIONS,  # dormant or not, the same rate
            "uninstall_by_day1_share": 0.0,
            "uninstall_by_day30_share": 0.0,
            "uninstall_later_per_day": 0.0,
            "app_update_per_day": 0.0,
            "os_reinstall_per_day": 0.0,
            "provider_rotation_per_day": ROTATIONS,
            "device_replacement_per_day": 0.0,
            "user_switch_per_day": 0.0,
            "logout_per_day": 0.0,
        },
        campaigns={"every_days": 0.0, "sdk_flush_delay_days": 0.0},
    )


@pytest.fixture(scope="module")
def poisson_run():
    return simulate(_poisson_world(), days=DAYS, seed=7)


def test_rotation_latency_is_one_mean_session_gap(poisson_run):
    """Mean rotation → re-registration is 1/s: sessions are memoryless, and the next one
    registers the newest token, ending every rotation since the last session.

    Tolerance: each latency is Exp(s) (mean 2, variance 4), but rotations closed by the same
    session share their end, which doubles the variance of the mean: per session gap G ~ Exp(s)
    with Poisson(r·G) rotations, D = Σ(latency − 1/s) has E[D] = 0 and Var[D] = 8r + 32r² = 4,
    against E[rotations] = r/s = ½ per gap, so the mean of n rotations has variance ≈ 8/n. Five
    standard errors of that (≈ 0.1 for the ≈ 18,000 rotations here) is the tolerance. Today's
    registry-side answer without the fix, 1/(s + r) = 1.33 (only rotations no later rotation
    superseded), is more than 30 standard errors away.
    """
    lat = poisson_run.latencies
    rot = lat[(lat["kind"] == ROTATION) & (lat["start"] < DAYS - MARGIN)]
    n = len(rot)
    mean = float(rot["latency_days"].mean())
    assert mean == pytest.approx(1 / SESSIONS, abs=5 * math.sqrt(8 / n))
    assert n > 10_000  # ≈ r × 30 days × 2,000 devices = 15,000
    assert rot["observed"].all(), "every rotation this old has been caught up with"


def test_the_survival_median_of_every_rotation_is_ln2_over_s(poisson_run):
    """Censored ones included, the Kaplan–Meier median is the Exp(s) median, ln 2 / s = 1.39.

    The median of n exponential latencies has variance 1 / (4 n f(m)²) = 4/n, f(m) = s/2 the
    density at the median; doubled, as for the mean, for rotations sharing their session.
    """
    curve = poisson_run.latency_curve(ROTATION)
    assert curve.censored == poisson_run.open_latencies[ROTATION]
    assert curve.median == pytest.approx(
        math.log(2) / SESSIONS, abs=5 * math.sqrt(8 / curve.observations)
    )


def test_rotations_left_open_are_those_since_each_devices_last_session(poisson_run):
    """At the end, a device has Poisson(r·A) rotations since its last session, A ~ Exp(s):
    r/s = ½ open per device on average, variance r/s + (r/s)² = ¾ (sd ≈ 39 over 2,000 devices).
    Superseded rotations are not left open for ever (≈ 7,000 would be).
    """
    opened = poisson_run.open_latencies[ROTATION]
    expected = DEVICES * ROTATIONS / SESSIONS
    assert opened == pytest.approx(expected, abs=5 * math.sqrt(DEVICES * 0.75))
    lat = poisson_run.latencies
    censored = lat[(lat["kind"] == ROTATION) & ~lat["observed"]]
    assert len(censored) == opened
    assert (censored["end"] == poisson_run.days).all()


# -- the observer by hand ----------------------------------------------------------------------


def _registry() -> Registry:
    registry = Registry()
    registry.add_app("app", ["ios"])
    registry.session_start(0.0, device="d.1", app="app", platform="ios", token="a", foreground=True)
    return registry


def _rotation(time: float, old: str, new: str) -> TruthEvent:
    return TruthEvent(time, Truth.TOKEN_CHANGED, "d", "d.1", Platform.IOS, None, old, new)


def test_a_superseded_rotation_closes_when_the_newest_token_is_registered():
    registry = _registry()
    latencies = Latencies(registry)
    latencies.on_truth(_rotation(1.0, "a", "b"))
    latencies.on_truth(_rotation(2.0, "b", "c"))  # before any session: b is never registered
    assert latencies.open_counts()[ROTATION] == 2
    registry.session_start(5.0, device="d.1", app="app", platform="ios", token="c", foreground=True)
    assert latencies.rows() == [
        (ROTATION, "ios", 1.0, 5.0, 4.0, True),
        (ROTATION, "ios", 2.0, 5.0, 3.0, True),
    ]
    assert latencies.open_counts()[ROTATION] == 0


def test_a_rotation_of_a_token_nobody_followed_is_ignored():
    latencies = Latencies(_registry())
    latencies.on_truth(_rotation(1.0, "x", "y"))  # the registry never held x
    assert latencies.open_counts()[ROTATION] == 0
    assert latencies.rows(end=10.0) == []


def test_open_latencies_are_censored_at_the_end_of_the_run():
    registry = _registry()
    latencies = Latencies(registry)
    latencies.on_truth(TruthEvent(2.0, Truth.UNINSTALL, "d", "d.1", Platform.IOS, None, "a"))
    latencies.on_truth(TruthEvent(3.0, Truth.LOGIN, "d", "d.1", Platform.IOS, "kim"))
    assert latencies.rows() == []  # without an end, only completed latencies
    rows = latencies.rows(end=10.0)
    assert rows == [
        (UNINSTALL, "ios", 2.0, 10.0, 8.0, False),
        (SWITCH, "ios", 3.0, 10.0, 7.0, False),
    ]
    assert all(len(row) == len(LATENCY_COLUMNS) for row in rows)
    assert latencies.open_counts() == {UNINSTALL: 1, ROTATION: 0, SWITCH: 1}


def test_a_second_switch_before_the_move_waits_for_the_newest_user():
    registry = _registry()  # the token is held for the anonymous profile of d.1
    latencies = Latencies(registry)
    latencies.on_truth(TruthEvent(1.0, Truth.LOGIN, "d", "d.1", Platform.IOS, "kim"))
    latencies.on_truth(TruthEvent(1.5, Truth.LOGIN, "d", "d.1", Platform.IOS, "lee"))
    registry.change_user(2.0, device="d.1", app="app", user="lee")
    assert latencies.rows(end=10.0) == [
        (SWITCH, "ios", 1.0, 2.0, 1.0, True),
        (SWITCH, "ios", 1.5, 2.0, 0.5, True),
    ]


def test_a_switch_back_before_the_move_ends_the_gap_then():
    registry = _registry()
    registry.change_user(0.5, device="d.1", app="app", user="kim")
    latencies = Latencies(registry)
    latencies.on_truth(TruthEvent(1.0, Truth.LOGIN, "d", "d.1", Platform.IOS, "lee"))
    latencies.on_truth(TruthEvent(1.5, Truth.LOGIN, "d", "d.1", Platform.IOS, "kim"))
    assert latencies.rows(end=10.0) == [(SWITCH, "ios", 1.0, 1.5, 0.5, True)]
    assert latencies.open_counts()[SWITCH] == 0


# -- the columns the completed rows are kept in ------------------------------------------------


def _two_platform_registry() -> Registry:
    registry = Registry()
    registry.add_app("app", ["ios", "android"])
    for device, platform, token in [
        ("d.1", "ios", "a"),
        ("d.2", "android", "b"),
        ("d.3", "ios", "c"),
        ("d.4", "android", "e"),
    ]:
        registry.session_start(
            0.0, device=device, app="app", platform=platform, token=token, foreground=True
        )
    return registry


def _assert_same_rows(got: list[LatencyRow], expected: list[LatencyRow]) -> None:
    """Equal tuple by tuple, with the same types, and floats to the bit."""
    assert len(got) == len(expected)
    for row, want in zip(got, expected, strict=True):
        assert [type(v) for v in row] == [str, str, float, float, float, bool]
        assert [type(v) for v in row] == [type(v) for v in want]
        assert row == want
        assert [v.hex() for v in row[2:5]] == [v.hex() for v in want[2:5]]


def test_rows_and_frame_read_the_columns_back_exactly():
    """Kinds and platforms mixed, latencies that are not exact in binary (0.3 - 0.1), and open
    ones censored in order of start, not of kind."""
    registry = _two_platform_registry()
    latencies = Latencies(registry)
    # nothing yet: pandas' empty table, columns of dtype object, as before
    pd.testing.assert_frame_equal(
        latencies.frame(end=1.0), pd.DataFrame([], columns=list(LATENCY_COLUMNS))
    )
    latencies.on_truth(TruthEvent(0.1, Truth.UNINSTALL, "d1", "d.1", Platform.IOS, None, "a"))
    android_rotation = TruthEvent(
        0.2, Truth.TOKEN_CHANGED, "d2", "d.2", Platform.ANDROID, None, "b", "b2"
    )
    latencies.on_truth(android_rotation)
    latencies.on_truth(TruthEvent(0.25, Truth.LOGIN, "d4", "d.4", Platform.ANDROID, "kim"))
    # only open latencies: the table is the one pandas makes of rows(end)
    pd.testing.assert_frame_equal(
        latencies.frame(end=1.0),
        pd.DataFrame(latencies.rows(end=1.0), columns=list(LATENCY_COLUMNS)),
        check_exact=True,
    )
    registry.handle_response(0.3, "a", SendResult(Provider.APNS, 410, "Unregistered", 0.1))
    registry.session_start(
        0.7, device="d.2", app="app", platform="android", token="b2", foreground=True
    )
    latencies.on_truth(
        TruthEvent(0.8, Truth.TOKEN_CHANGED, "d3", "d.3", Platform.IOS, None, "c", "c2")
    )
    registry.change_user(0.9, device="d.4", app="app", user="kim")
    latencies.on_truth(TruthEvent(1.1, Truth.UNINSTALL, "d4", "d.4", Platform.ANDROID, None, "e"))

    completed = [
        (UNINSTALL, "ios", 0.1, 0.3, 0.3 - 0.1, True),
        (ROTATION, "android", 0.2, 0.7, 0.7 - 0.2, True),
        (SWITCH, "android", 0.25, 0.9, 0.9 - 0.25, True),
    ]
    censored = [
        (ROTATION, "ios", 0.8, 2.0, 2.0 - 0.8, False),
        (UNINSTALL, "android", 1.1, 2.0, 2.0 - 1.1, False),
    ]
    _assert_same_rows(latencies.rows(), completed)
    _assert_same_rows(latencies.rows(end=2.0), completed + censored)
    _assert_same_rows(latencies.rows(), completed)  # reading does not change them
    assert latencies.open_counts() == {UNINSTALL: 1, ROTATION: 1, SWITCH: 0}
    for end in (None, 2.0):
        frame = latencies.frame(end=end)
        expected = pd.DataFrame(
            completed + (censored if end is not None else []), columns=list(LATENCY_COLUMNS)
        )
        pd.testing.assert_frame_equal(frame, expected, check_exact=True)
        assert list(frame.columns) == list(LATENCY_COLUMNS)
        assert [str(t) for t in frame.dtypes[2:]] == ["float64", "float64", "float64", "bool"]
