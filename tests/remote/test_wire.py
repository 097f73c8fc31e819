"""The JSON of the registry protocol: every value round-trips exactly; a wrong one is quoted."""

from __future__ import annotations

import json
import math
import random

import pytest

from sim.platforms import Platform, Provider
from sim.providers.answers import SendResult
from sim.registry import (
    Cause,
    Change,
    Profile,
    RegistryPolicy,
    SubscriptionState,
    TokenEvent,
    TokenRecord,
    UninstallEstimate,
)
from sim.registry.protocol import MEMBERS
from sim.remote import wire
from sim.remote.wire import OPERATIONS, WireError

#: awkward floats: JSON must give back exactly these bits
FLOATS = (0.0, 1e-300, 1 / 3, 12.5 + 1e-12, 2.0**53 + 2, 364.99999999999994, 5e-324)


def through_json(value: object) -> object:
    """``value`` written as JSON and read back, as it crosses the wire."""
    return json.loads(wire.dumps(value))


def record(**changes: object) -> TokenRecord:
    fields: dict[str, object] = {
        "token": "tok-ä1",
        "app": "app",
        "platform": Platform.IOS,
        "device": "charlie_phone",
        "profile": "charlie",
        "foreground": True,
        "provisional": False,
        "created_at": 1 / 3,
        "updated_at": 0.1 + 0.2,
        "registered_at": 12.5,
        "last_session_at": 364.99999999999994,
        "last_push_at": None,
        "last_accepted_at": 5e-324,
    }
    fields.update(changes)
    return TokenRecord(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("platform", list(Platform))
@pytest.mark.parametrize("time", FLOATS)
def test_token_records_round_trip_exactly(platform: Platform, time: float) -> None:
    original = record(platform=platform, created_at=time, last_push_at=time, provisional=True)
    back = wire.decode_record(through_json(wire.encode_record(original)), "record")
    assert back == original
    assert back.platform is platform
    assert math.copysign(1, back.created_at) == math.copysign(1, time)
    assert back.created_at.hex() == time.hex()  # the same bits, not merely close


def test_random_floats_round_trip_bit_for_bit() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        time = rng.uniform(0, 400) * 10 ** rng.randint(-8, 3)
        back = wire.decode_record(through_json(wire.encode_record(record(updated_at=time))), "r")
        assert back.updated_at.hex() == time.hex()


@pytest.mark.parametrize("change", list(Change))
@pytest.mark.parametrize("cause", list(Cause))
def test_token_events_round_trip(change: Change, cause: Cause) -> None:
    event = TokenEvent(1 / 3, change, cause, "t", "app", Platform.WEB, "d", "p", False, True)
    assert wire.decode_event(through_json(wire.encode_event(event)), "e") == event
    call, back = wire.decode_happening(through_json(wire.encode_happening(event, 4)), "e")
    assert (call, back) == (4, event)


def test_targetability_changes_round_trip() -> None:
    change = wire.TargetabilityChange("kim", False)
    assert wire.decode_happening(through_json(wire.encode_happening(change, 0)), "e") == (
        0,
        change,
    )


@pytest.mark.parametrize(
    "result",
    [
        SendResult(Provider.APNS, 200),
        SendResult(Provider.APNS, 410, "Unregistered", timestamp=9.75),
        SendResult(Provider.FCM, 429, "QUOTA_EXCEEDED", retry_after=1 / 1440),
        SendResult(Provider.FCM, 400, "INVALID_ARGUMENT", payload_valid=False),
        SendResult(Provider.WEBPUSH, 404),
    ],
)
def test_send_results_round_trip(result: SendResult) -> None:
    assert wire.decode_send_result(through_json(wire.encode_send_result(result)), "r") == result


def test_uninstall_estimates_round_trip() -> None:
    estimate = UninstallEstimate("d", "app", "anon:d:app", "t", 20.5, 1 / 7)
    assert wire.decode_estimate(through_json(wire.encode_estimate(estimate)), "e") == estimate


@pytest.mark.parametrize(
    "policy",
    [
        RegistryPolicy(),
        RegistryPolicy(False, True, 30, False),
        RegistryPolicy(prune_after_days=0.5),
    ],
)
def test_policies_round_trip(policy: RegistryPolicy) -> None:
    back = wire.decode_policy(through_json(wire.encode_policy(policy)), "policy")
    assert back == policy
    assert type(back.prune_after_days) is type(policy.prune_after_days)


def test_a_policy_left_out_keeps_its_defaults() -> None:
    assert wire.decode_policy({}, "policy") == RegistryPolicy()
    assert wire.decode_policy({"detach_on_logout": True}, "p") == RegistryPolicy(
        detach_on_logout=True
    )


@pytest.mark.parametrize("platform", list(Platform))
def test_platforms_and_states_round_trip(platform: Platform) -> None:
    assert wire.decode_platform(through_json(platform.value), "p") is platform
    for state in SubscriptionState:
        assert wire.decode_state(through_json(state.value), "s") is state


def test_profiles_round_trip_in_order() -> None:
    profile = Profile(
        "kim",
        state=SubscriptionState.OPTED_IN,
        seen_on=("tablet", "charlie_phone"),
        tokens={("tablet", "app"): "t2", ("charlie_phone", "app"): "t1"},
    )
    back = wire.decode_profile(through_json(wire.encode_profile(profile)), "profile")
    assert (back.profile_id, back.anonymous, back.state) == ("kim", False, profile.state)
    assert back.devices == ("tablet", "charlie_phone")
    assert list(back.tokens.items()) == list(profile.tokens.items())  # order kept
    with pytest.raises(TypeError):
        back.tokens[("x", "app")] = "t"  # type: ignore[index]


def test_calls_bind_as_pushsim_calls_the_protocol() -> None:
    """Positional where the protocol is positional; optional keywords left out at default."""
    call = {
        "op": "campaign_tokens",
        "args": {"app": "app", "foreground_only": True, "platform": None},
    }
    operation, args, keywords = wire.decode_call(call, "calls[0]")
    assert (operation.name, args, keywords) == (
        "campaign_tokens",
        ("app",),
        {"foreground_only": True},
    )
    result = SendResult(Provider.APNS, 410, "Unregistered", timestamp=2.0)
    values = {"now": 3.0, "token": "t", "result": result}
    encoded = through_json(
        {"op": "handle_response", "args": OPERATIONS["handle_response"].encode_args(values)}
    )
    assert wire.decode_call(encoded, "c")[1:] == ((3.0, "t", result), {})


def test_every_protocol_member_travels_or_stays_local() -> None:
    assert sorted((*OPERATIONS, *wire.LOCAL_MEMBERS)) == sorted(MEMBERS)
    deferred = {name for name, op in OPERATIONS.items() if op.deferred}
    assert deferred == {
        "add_app",
        "session_start",
        "change_user",
        "log_out",
        "set_subscription",
        "handle_response",
        "prune_inactive",
    }


# -- strict decoding -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "where", "quoted"),
    [
        ({"platform": "iphone"}, "results[2].platform", '"iphone"'),
        ({"foreground": 1}, "results[2].foreground", "got 1"),
        ({"created_at": "12.5"}, "results[2].created_at", '"12.5"'),
        ({"created_at": True}, "results[2].created_at", "got true"),
        ({"token": None}, "results[2].token", "got null"),
        ({"notifications_enabled": True}, "results[2]", '"notifications_enabled"'),
    ],
)
def test_a_malformed_record_is_named_and_quoted(
    change: dict[str, object], where: str, quoted: str
) -> None:
    value = {**wire.encode_record(record()), **change}
    with pytest.raises(WireError) as caught:
        wire.decode_record(value, "results[2]")
    assert str(caught.value).startswith(where + ":")
    assert quoted in str(caught.value)


def test_a_missing_field_is_named() -> None:
    value = wire.encode_record(record())
    del value["device"]
    with pytest.raises(WireError, match=r'results\[0\]: missing "device" in \{'):
        wire.decode_record(value, "results[0]")


def test_long_values_are_quoted_short() -> None:
    with pytest.raises(WireError) as caught:
        wire.decode_records("x" * 5000, "results[0]")
    assert len(str(caught.value)) < 300
    assert "…" in str(caught.value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"type": "token", "call": 0}, 'missing "time"'),
        ({"type": "move", "call": 0}, 'events[1].type: expected "token" or "targetability"'),
        (
            {"type": "targetability", "call": "0", "profile_id": "k", "targetable": True},
            "events[1].call",
        ),
        ([], "events[1]: expected an object, got []"),
    ],
)
def test_malformed_events_are_refused(value: object, message: str) -> None:
    with pytest.raises(WireError, match=message.replace("[", r"\[").replace("]", r"\]")):
        wire.decode_happening(value, "events[1]")


def test_numbers_must_be_finite_numbers() -> None:
    for wrong in (float("nan"), float("inf"), "1", None, False):
        with pytest.raises(WireError):
            wire.decode_number(wrong, "now")
    assert wire.decode_number(3, "now") == 3.0
    assert isinstance(wire.decode_number(3, "now"), float)
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        wire.dumps({"now": float("nan")})


def test_a_call_with_a_wrong_argument_is_refused_with_its_path() -> None:
    with pytest.raises(WireError, match=r"calls\[3\]\.args\.state: expected one of"):
        wire.decode_call(
            {"op": "set_subscription", "args": {"now": 1.0, "profile_id": "p", "state": "maybe"}},
            "calls[3]",
        )
    with pytest.raises(WireError, match=r'calls\[0\]\.op: expected an operation .*"fly"'):
        wire.decode_call({"op": "fly", "args": {}}, "calls[0]")
    with pytest.raises(WireError, match=r'unknown "colour"'):
        wire.decode_call({"op": "tokens", "args": {"colour": 1}}, "calls[0]")


def test_answers_of_the_wrong_type_are_refused_when_encoded() -> None:
    """A Python registry answering with the wrong type is caught on the server, by name."""
    with pytest.raises(WireError, match=r"results\[0\]: expected true or false, got 1"):
        wire.encode_result(OPERATIONS["is_targetable"], 1, "results[0]")
    with pytest.raises(WireError, match=r"results\[0\]\[1\]: expected a TokenRecord"):
        wire.encode_result(OPERATIONS["tokens"], [record(), "t"], "results[0]")
    with pytest.raises(WireError, match=r"results\[0\]\.created_at: expected a finite number"):
        wire.encode_result(OPERATIONS["token"], record(created_at=math.inf), "results[0]")
