"""The registry as a library refuses arguments of the wrong kind with its own domain errors.

Every refused call raises :class:`RegistryArgumentError` (a ``RegistryError`` and a
``ValueError``), leaves the registry exactly as it was (no event, no record, the same clock) and
later valid calls still work: a refused ``now = inf`` used to become the registry's clock and make
every later call fail.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from sim.platforms import Platform, Provider
from sim.providers.answers import SendResult
from sim.registry import (
    InvalidTimeError,
    Registry,
    RegistryArgumentError,
    RegistryError,
    RegistryPolicy,
    TimeWentBackwardsError,
    TokenEvent,
    anonymous_profile_id,
)

APP = "shop"
OK_ANSWER = SendResult(Provider.APNS, 200)


def new_registry(policy: RegistryPolicy | None = None) -> Registry:
    """A registry with one app, one device holding token ``tok``, owned by ``ann``, at day 1."""
    reg = Registry(policy)
    reg.add_app(APP, ["ios", "android"], uninstall_tracking=True)
    reg.session_start(1.0, device="phone", app=APP, platform="ios", token="tok", foreground=True)
    reg.change_user(1.0, device="phone", app=APP, user="ann")
    return reg


def snapshot(reg: Registry) -> Any:
    """Everything observable about a registry, as plain values."""
    return (
        reg.now,
        [copy.copy(record) for record in reg.tokens()],
        [
            (p.profile_id, p.anonymous, p.state, p.state_changed_at, p.devices, dict(p.tokens))
            for p in reg.profiles()
        ],
        reg.audience(APP),
        reg.audience_size(APP),
        reg.current_user("phone", APP),
        sorted(reg.app(APP).platforms),
    )


def refused(reg: Registry, call: Callable[[Registry], object], error: type = RegistryArgumentError):
    """``call`` raises ``error`` and changes nothing; the registry then still works."""
    before = snapshot(reg)
    events: list[TokenEvent] = []
    unsubscribe = reg.subscribe(events.append)
    with pytest.raises(error) as caught:
        call(reg)
    unsubscribe()
    assert isinstance(caught.value, RegistryError)
    assert isinstance(caught.value, ValueError)
    assert events == []
    assert snapshot(reg) == before
    # later valid calls work: a session, a login, an answer, a query
    later = reg.now + 1.0
    reg.session_start(later, device="phone", app=APP, platform="ios", token="tok", foreground=True)
    reg.change_user(later, device="phone", app=APP, user="bob")
    assert reg.handle_response(later, "tok", OK_ANSWER).held
    assert reg.token_for("phone", APP) is not None
    assert reg.current_user("phone", APP) == "bob"
    assert reg.now == later
    return caught.value


# -- now ---------------------------------------------------------------------------------------

BAD_NOWS = [None, "5", "", math.inf, -math.inf, math.nan, 10**400, [2.0], complex(2, 0), np.nan]
NOW_CALLS: dict[str, Callable[[Registry, Any], object]] = {
    "session_start": lambda r, now: r.session_start(
        now, device="phone", app=APP, platform="ios", token="tok-2", foreground=True
    ),
    "change_user": lambda r, now: r.change_user(now, device="phone", app=APP, user="kim"),
    "log_out": lambda r, now: r.log_out(now, device="phone", app=APP),
    "set_subscription": lambda r, now: r.set_subscription(now, "ann", "unsubscribed"),
    "handle_response": lambda r, now: r.handle_response(
        now, "tok", SendResult(Provider.APNS, 410, "Unregistered")
    ),
    "prune_inactive": lambda r, now: r.prune_inactive(now),
    "probe_targets": lambda r, now: r.probe_targets(now, APP),
}


@pytest.mark.parametrize("operation", sorted(NOW_CALLS))
@pytest.mark.parametrize("now", BAD_NOWS, ids=repr)
def test_a_now_that_is_not_a_finite_number_is_refused(operation: str, now: Any):
    reg = new_registry(RegistryPolicy(prune_after_days=1.0, detach_on_logout=True))
    error = refused(reg, lambda r: NOW_CALLS[operation](r, now), InvalidTimeError)
    assert "now must be a finite number of days" in str(error)


def test_an_infinite_now_no_longer_poisons_later_calls():
    reg = new_registry()
    with pytest.raises(InvalidTimeError):
        reg.prune_inactive(math.inf)
    assert reg.now == 1.0
    reg.session_start(2.0, device="phone", app=APP, platform="ios", token="tok", foreground=True)
    assert reg.now == 2.0


def test_a_nan_now_is_still_a_time_went_backwards_error():
    """Callers that caught TimeWentBackwardsError for a NaN clock keep working."""
    assert issubclass(InvalidTimeError, TimeWentBackwardsError)
    assert issubclass(InvalidTimeError, RegistryArgumentError)
    reg = new_registry()
    with pytest.raises(TimeWentBackwardsError):
        reg.log_out(math.nan, device="phone", app=APP)


def test_an_earlier_now_is_refused_as_before():
    reg = new_registry()
    error = refused(reg, lambda r: r.prune_inactive(0.5), TimeWentBackwardsError)
    assert not isinstance(error, RegistryArgumentError)


@pytest.mark.parametrize("now", [0, 3, np.float64(2.5), np.int64(4)], ids=repr)
def test_other_finite_numbers_are_usable_times(now: Any):
    reg = Registry()
    reg.add_app(APP, ["ios"])
    reg.session_start(now, device="phone", app=APP, platform="ios", token="t", foreground=True)
    assert reg.now == now
    reg.change_user(now, device="phone", app=APP, user="ann")


def test_a_fresh_registry_reads_minus_infinity_and_refuses_it():
    reg = Registry()
    reg.add_app(APP, ["ios"])
    assert reg.now == -math.inf
    with pytest.raises(InvalidTimeError):
        reg.prune_inactive(-math.inf)
    assert reg.now == -math.inf
    reg.prune_inactive(-1e300)  # any finite time is fine
    assert reg.now == -1e300


# -- ids ---------------------------------------------------------------------------------------

BAD_IDS = ["", None, 5, 2.5, b"phone", ["phone"], ("phone",)]


def _session(**given: Any) -> Callable[[Registry], object]:
    arguments: dict[str, Any] = {
        "device": "phone",
        "app": APP,
        "platform": "ios",
        "token": "tok-2",
        "foreground": True,
    }
    arguments.update(given)
    return lambda r: r.session_start(5.0, **arguments)


ID_CALLS: list[tuple[str, str, Callable[[Any], Callable[[Registry], object]]]] = [
    ("session_start", "device", lambda bad: _session(device=bad)),
    ("session_start", "token", lambda bad: _session(token=bad)),
    ("session_start", "app", lambda bad: _session(app=bad)),
    (
        "change_user",
        "device",
        lambda bad: lambda r: r.change_user(5.0, device=bad, app=APP, user="kim"),
    ),
    (
        "change_user",
        "user",
        lambda bad: lambda r: r.change_user(5.0, device="phone", app=APP, user=bad),
    ),
    (
        "change_user",
        "app",
        lambda bad: lambda r: r.change_user(5.0, device="phone", app=bad, user="kim"),
    ),
    ("log_out", "device", lambda bad: lambda r: r.log_out(5.0, device=bad, app=APP)),
    ("log_out", "app", lambda bad: lambda r: r.log_out(5.0, device="phone", app=bad)),
    (
        "set_subscription",
        "profile id",
        lambda bad: lambda r: r.set_subscription(5.0, bad, "unsubscribed"),
    ),
    ("handle_response", "token", lambda bad: lambda r: r.handle_response(5.0, bad, OK_ANSWER)),
    ("probe_targets", "app", lambda bad: lambda r: r.probe_targets(5.0, bad)),
    ("audience", "app", lambda bad: lambda r: r.audience(bad)),
    ("audience_size", "app", lambda bad: lambda r: r.audience_size(bad)),
    ("campaign_tokens", "app", lambda bad: lambda r: r.campaign_tokens(bad)),
]
#: (operation, argument, bad value); a session's token may be None (web without opt-in)
ID_CASES = [
    (operation, name, build, bad)
    for operation, name, build in ID_CALLS
    for bad in BAD_IDS
    if not (operation == "session_start" and name == "token" and bad is None)
]


@pytest.mark.parametrize(
    ("operation", "name", "build", "bad"),
    ID_CASES,
    ids=[f"{case[0]}-{case[1]}-{case[3]!r}" for case in ID_CASES],
)
def test_an_id_that_is_not_a_non_empty_string_is_refused(
    operation: str, name: str, build: Callable[[Any], Callable[[Registry], object]], bad: Any
):
    reg = new_registry(RegistryPolicy(detach_on_logout=True))
    error = refused(reg, build(bad))
    assert "must be a non-empty" in str(error), operation
    assert repr(bad) in str(error)


@pytest.mark.parametrize("user", ["anon:phone:shop", anonymous_profile_id("phone", APP)])
def test_an_anonymous_id_is_not_a_user(user: str):
    reg = new_registry()
    refused(reg, lambda r: r.change_user(5.0, device="phone", app=APP, user=user))


def test_a_token_session_on_a_new_device_with_a_bad_id_creates_no_slot():
    reg = new_registry()
    refused(reg, _session(device="", token="fresh"))
    assert reg.token("fresh") is None
    assert not reg.has_profile(anonymous_profile_id("", APP))


# -- set-up ------------------------------------------------------------------------------------


def test_a_string_is_not_a_list_of_platforms():
    reg = Registry()
    with pytest.raises(RegistryArgumentError, match=r"platforms must be a list of platforms"):
        reg.add_app("x", "ios")
    with pytest.raises(RegistryArgumentError, match=r"platforms must be a list"):
        reg.add_app("x", Platform.IOS)
    with pytest.raises(RegistryArgumentError, match=r"platforms must be a list"):
        reg.add_app("x", 5)  # type: ignore[arg-type]
    # nothing was registered: the app can still be added the right way
    assert reg.add_app("x", ["ios"]).platforms == frozenset({Platform.IOS})


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
def test_an_app_id_must_be_a_non_empty_string(bad: Any):
    reg = Registry()
    with pytest.raises(RegistryArgumentError, match="app id must be a non-empty string"):
        reg.add_app(bad, ["ios"])
    with pytest.raises(RegistryError):
        reg.app("x")


def test_uninstall_tracking_must_be_true_or_false():
    reg = Registry()
    with pytest.raises(RegistryArgumentError, match="uninstall_tracking must be true or false"):
        reg.add_app("x", ["ios"], uninstall_tracking="yes")  # type: ignore[arg-type]
    reg.add_app("x", ["ios"], uninstall_tracking=True)


def test_a_policy_must_be_a_registry_policy():
    with pytest.raises(RegistryArgumentError, match="policy must be a RegistryPolicy"):
        Registry({"detach_on_logout": True})  # type: ignore[arg-type]
    reg = new_registry()
    refused(reg, lambda r: setattr(r, "policy", None))
    assert reg.policy == RegistryPolicy()


@pytest.mark.parametrize(
    "fields",
    [
        {"prune_after_days": math.inf},
        {"prune_after_days": "60"},
        {"prune_after_days": True},
        {"prune_after_days": 0},
        {"refresh_on_session_start": "no"},
        {"detach_on_logout": 1},
        {"honour_apns_timestamp": None},
    ],
    ids=repr,
)
def test_a_policy_refuses_values_of_the_wrong_kind(fields: dict[str, Any]):
    with pytest.raises(RegistryArgumentError) as caught:
        RegistryPolicy(**fields)
    assert next(iter(fields)) in str(caught.value)


def test_an_answer_must_be_a_send_result():
    reg = new_registry()
    refused(reg, lambda r: r.handle_response(5.0, "tok", "200"))  # type: ignore[arg-type]
    refused(reg, lambda r: r.handle_response(5.0, "tok", 200))  # type: ignore[arg-type]


def test_a_listener_must_be_callable():
    reg = new_registry()
    with pytest.raises(RegistryArgumentError, match="callable"):
        reg.subscribe("print")  # type: ignore[arg-type]
    with pytest.raises(RegistryArgumentError, match="callable"):
        reg.on_targetability(None)  # type: ignore[arg-type]


def test_every_argument_error_is_a_registry_error_and_a_value_error():
    assert issubclass(RegistryArgumentError, RegistryError)
    assert issubclass(RegistryArgumentError, ValueError)
