"""The JSON of the registry protocol: every value that crosses the wire, and the operations.

Every value pushsim exchanges with a registry service has one JSON form, documented in
``sim/remote/openapi.yaml``: token records, token events (R13), targetability changes, provider
answers, platforms, subscription states, uninstall estimates, profile views and the registry
policy. Encoding is plain (objects with named fields, enums as their string values, tuples as
arrays, ``None`` as ``null``); numbers are JSON numbers, which round-trip a Python ``float``
exactly. Decoding is strict: a value of the wrong shape raises :class:`WireError`, naming where in
the message it was (``results[3].platform``) and quoting what was there, so that a registry
written in another language learns exactly what it got wrong.

:data:`OPERATIONS` describes each operation of the protocol that travels as a call (every member
of :class:`~sim.registry.protocol.RegistryProtocol` but ``subscribe`` and ``on_targetability``,
which the client keeps locally and feeds from the events of each answer): its arguments, how the
protocol passes each (positionally or by keyword), the kind of its result, and whether pushsim
ignores that result (the calls a client may send later, in a batch).
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeVar

from sim.platforms import Platform, Provider
from sim.providers.answers import SendResult
from sim.registry.events import Cause, Change, TokenEvent
from sim.registry.policy import RegistryPolicy
from sim.registry.protocol import ProfileView
from sim.registry.records import Slot, SubscriptionState, TokenRecord, UninstallEstimate

#: The version of the protocol, named in ``GET /v1/health``.
PROTOCOL = "pushsim-registry/1"

#: How many characters of a wrong value a message quotes.
QUOTE_CHARS = 120

E = TypeVar("E", bound=StrEnum)


class WireError(ValueError):
    """A JSON value of the wrong shape: ``where`` it was and what was wrong with it."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}" if where else problem)
        self.where = where
        self.problem = problem


def quote(value: object, limit: int = QUOTE_CHARS) -> str:
    """``value`` as JSON (or its repr), cut to ``limit`` characters with an ellipsis."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _expected(where: str, what: str, value: object) -> WireError:
    return WireError(where, f"expected {what}, got {quote(value)}")


def dumps(value: object) -> bytes:
    """Compact JSON bytes; NaN and infinities are refused (they are not JSON)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


# -- scalars -------------------------------------------------------------------------------------


def decode_string(value: object, where: str) -> str:
    """A JSON string."""
    if not isinstance(value, str):
        raise _expected(where, "a string", value)
    return value


def decode_optional_string(value: object, where: str) -> str | None:
    """A JSON string or null."""
    return None if value is None else decode_string(value, where)


def decode_bool(value: object, where: str) -> bool:
    """``true`` or ``false`` (not 0 or 1)."""
    if not isinstance(value, bool):
        raise _expected(where, "true or false", value)
    return value


def decode_number(value: object, where: str) -> float:
    """A finite JSON number, as a float (days, for times)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _expected(where, "a number", value)
    number = float(value)
    if not math.isfinite(number):
        raise _expected(where, "a finite number", value)
    return number


def decode_optional_number(value: object, where: str) -> float | None:
    """A finite JSON number or null."""
    return None if value is None else decode_number(value, where)


def decode_integer(value: object, where: str) -> int:
    """A JSON integer (not a float, not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _expected(where, "an integer", value)
    return value


def _decode_enum(kind: type[E], value: object, where: str) -> E:
    if isinstance(value, str):
        try:
            return kind(value)
        except ValueError:
            pass
    allowed = ", ".join(f'"{member.value}"' for member in kind)
    raise _expected(where, f"one of {allowed}", value)


def decode_platform(value: object, where: str) -> Platform:
    """``"ios"``, ``"android"`` or ``"web"``."""
    return _decode_enum(Platform, value, where)


def decode_optional_platform(value: object, where: str) -> Platform | None:
    """A platform or null (every platform)."""
    return None if value is None else decode_platform(value, where)


def decode_platforms(value: object, where: str) -> list[Platform]:
    """An array of platforms."""
    if not isinstance(value, list):
        raise _expected(where, "an array of platforms", value)
    return [decode_platform(item, f"{where}[{i}]") for i, item in enumerate(value)]


def decode_state(value: object, where: str) -> SubscriptionState:
    """``"subscribed"``, ``"opted_in"`` or ``"unsubscribed"``."""
    return _decode_enum(SubscriptionState, value, where)


def decode_strings(value: object, where: str) -> list[str]:
    """An array of strings."""
    if not isinstance(value, list):
        raise _expected(where, "an array of strings", value)
    return [decode_string(item, f"{where}[{i}]") for i, item in enumerate(value)]


def _fields(
    value: object, where: str, required: Sequence[str], optional: Sequence[str] = ()
) -> dict[str, Any]:
    """``value`` as an object with every ``required`` key and no key outside both lists."""
    if not isinstance(value, dict):
        raise _expected(where, "an object", value)
    missing = [key for key in required if key not in value]
    if missing:
        names = ", ".join(f'"{key}"' for key in missing)
        raise WireError(where, f"missing {names} in {quote(value)}")
    unknown = [key for key in value if key not in required and key not in optional]
    if unknown:
        names = ", ".join(f'"{key}"' for key in unknown)
        allowed = ", ".join(f'"{key}"' for key in (*required, *optional))
        raise WireError(where, f"unknown {names} (allowed: {allowed}) in {quote(value)}")
    return value


# -- encoding the answers of a registry ----------------------------------------------------------
#
# A registry plugged in from Python may answer with any objects of the right shape (NumPy numbers,
# tuples, its own profile class): encoding checks them as strictly as decoding, so that a wrong
# answer is refused on the server, naming the operation, instead of surprising the client.


def _text_out(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise _expected(where, "a string", value)
    return str(value)


def _bool_out(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise _expected(where, "true or false", value)
    return value


def _number_out(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _expected(where, "a number", value)
    number = float(value)
    if not math.isfinite(number):
        raise _expected(where, "a finite number", value)
    return number


def _optional_number_out(value: object, where: str) -> float | None:
    return None if value is None else _number_out(value, where)


def _enum_out(kind: type[E], value: object, where: str) -> str:
    return _decode_enum(kind, value, where).value


# -- token records -------------------------------------------------------------------------------

_RECORD_FIELDS = (
    "token",
    "app",
    "platform",
    "device",
    "profile",
    "foreground",
    "provisional",
    "created_at",
    "updated_at",
    "registered_at",
    "last_session_at",
    "last_push_at",
    "last_accepted_at",
)


def encode_record(record: TokenRecord, where: str = "record") -> dict[str, Any]:
    """A token record as a JSON object (every field, by name)."""
    return {
        "token": _text_out(record.token, f"{where}.token"),
        "app": _text_out(record.app, f"{where}.app"),
        "platform": _enum_out(Platform, record.platform, f"{where}.platform"),
        "device": _text_out(record.device, f"{where}.device"),
        "profile": _text_out(record.profile, f"{where}.profile"),
        "foreground": _bool_out(record.foreground, f"{where}.foreground"),
        "provisional": _bool_out(record.provisional, f"{where}.provisional"),
        "created_at": _number_out(record.created_at, f"{where}.created_at"),
        "updated_at": _number_out(record.updated_at, f"{where}.updated_at"),
        "registered_at": _number_out(record.registered_at, f"{where}.registered_at"),
        "last_session_at": _number_out(record.last_session_at, f"{where}.last_session_at"),
        "last_push_at": _optional_number_out(record.last_push_at, f"{where}.last_push_at"),
        "last_accepted_at": _optional_number_out(
            record.last_accepted_at, f"{where}.last_accepted_at"
        ),
    }


def decode_record(value: object, where: str) -> TokenRecord:
    """A token record from its JSON object."""
    f = _fields(value, where, _RECORD_FIELDS)
    return TokenRecord(
        token=decode_string(f["token"], f"{where}.token"),
        app=decode_string(f["app"], f"{where}.app"),
        platform=decode_platform(f["platform"], f"{where}.platform"),
        device=decode_string(f["device"], f"{where}.device"),
        profile=decode_string(f["profile"], f"{where}.profile"),
        foreground=decode_bool(f["foreground"], f"{where}.foreground"),
        provisional=decode_bool(f["provisional"], f"{where}.provisional"),
        created_at=decode_number(f["created_at"], f"{where}.created_at"),
        updated_at=decode_number(f["updated_at"], f"{where}.updated_at"),
        registered_at=decode_number(f["registered_at"], f"{where}.registered_at"),
        last_session_at=decode_number(f["last_session_at"], f"{where}.last_session_at"),
        last_push_at=decode_optional_number(f["last_push_at"], f"{where}.last_push_at"),
        last_accepted_at=decode_optional_number(f["last_accepted_at"], f"{where}.last_accepted_at"),
    )


def decode_optional_record(value: object, where: str) -> TokenRecord | None:
    """A token record or null."""
    return None if value is None else decode_record(value, where)


def decode_records(value: object, where: str) -> list[TokenRecord]:
    """An array of token records."""
    if not isinstance(value, list):
        raise _expected(where, "an array of token records", value)
    return [decode_record(item, f"{where}[{i}]") for i, item in enumerate(value)]


# -- token events and targetability changes --------------------------------------------------------

_EVENT_FIELDS = (
    "time",
    "change",
    "cause",
    "token",
    "app",
    "platform",
    "device",
    "profile",
    "foreground",
    "provisional",
)


def encode_event(event: TokenEvent, where: str = "event") -> dict[str, Any]:
    """A token event (R13) as a JSON object."""
    return {
        "time": _number_out(event.time, f"{where}.time"),
        "change": _enum_out(Change, event.change, f"{where}.change"),
        "cause": _enum_out(Cause, event.cause, f"{where}.cause"),
        "token": _text_out(event.token, f"{where}.token"),
        "app": _text_out(event.app, f"{where}.app"),
        "platform": _enum_out(Platform, event.platform, f"{where}.platform"),
        "device": _text_out(event.device, f"{where}.device"),
        "profile": _text_out(event.profile, f"{where}.profile"),
        "foreground": _bool_out(event.foreground, f"{where}.foreground"),
        "provisional": _bool_out(event.provisional, f"{where}.provisional"),
    }


def decode_event(value: object, where: str) -> TokenEvent:
    """A token event from its JSON object."""
    f = _fields(value, where, _EVENT_FIELDS)
    return _event_from(f, where)


def _event_from(f: Mapping[str, Any], where: str) -> TokenEvent:
    return TokenEvent(
        time=decode_number(f["time"], f"{where}.time"),
        change=_decode_enum(Change, f["change"], f"{where}.change"),
        cause=_decode_enum(Cause, f["cause"], f"{where}.cause"),
        token=decode_string(f["token"], f"{where}.token"),
        app=decode_string(f["app"], f"{where}.app"),
        platform=decode_platform(f["platform"], f"{where}.platform"),
        device=decode_string(f["device"], f"{where}.device"),
        profile=decode_string(f["profile"], f"{where}.profile"),
        foreground=decode_bool(f["foreground"], f"{where}.foreground"),
        provisional=decode_bool(f["provisional"], f"{where}.provisional"),
    )


@dataclass(frozen=True, slots=True)
class TargetabilityChange:
    """A profile started (``targetable``) or stopped being one a default campaign may target."""

    profile_id: str
    targetable: bool


#: What an answer reports as having happened while its calls were applied, in emission order.
Happening = TokenEvent | TargetabilityChange


def encode_happening(happening: Happening, call: int, where: str = "event") -> dict[str, Any]:
    """One entry of an answer's ``events``: ``type``, the index of the ``call``, the fields."""
    if isinstance(happening, TargetabilityChange):
        return {
            "type": "targetability",
            "call": call,
            "profile_id": _text_out(happening.profile_id, f"{where}.profile_id"),
            "targetable": _bool_out(happening.targetable, f"{where}.targetable"),
        }
    return {"type": "token", "call": call, **encode_event(happening, where)}


def decode_happening(value: object, where: str) -> tuple[int, Happening]:
    """The index of the call and what it emitted, from one entry of an answer's ``events``."""
    if not isinstance(value, dict):
        raise _expected(where, "an object", value)
    kind = value.get("type")
    if kind == "token":
        f = _fields(value, where, ("type", "call", *_EVENT_FIELDS))
        return decode_integer(f["call"], f"{where}.call"), _event_from(f, where)
    if kind == "targetability":
        f = _fields(value, where, ("type", "call", "profile_id", "targetable"))
        return decode_integer(f["call"], f"{where}.call"), TargetabilityChange(
            decode_string(f["profile_id"], f"{where}.profile_id"),
            decode_bool(f["targetable"], f"{where}.targetable"),
        )
    raise _expected(f"{where}.type", '"token" or "targetability"', kind)


# -- provider answers, uninstall estimates, policies -----------------------------------------------

_RESULT_FIELDS = ("provider", "status", "reason", "timestamp", "retry_after", "payload_valid")


def encode_send_result(result: SendResult) -> dict[str, Any]:
    """A provider answer as a JSON object."""
    return {
        "provider": result.provider.value,
        "status": result.status,
        "reason": result.reason,
        "timestamp": result.timestamp,
        "retry_after": result.retry_after,
        "payload_valid": result.payload_valid,
    }


def decode_send_result(value: object, where: str) -> SendResult:
    """A provider answer; ``reason`` … ``payload_valid`` may be left out (their defaults)."""
    f = _fields(value, where, ("provider", "status"), _RESULT_FIELDS[2:])
    return SendResult(
        provider=_decode_enum(Provider, f["provider"], f"{where}.provider"),
        status=decode_integer(f["status"], f"{where}.status"),
        reason=decode_string(f.get("reason", ""), f"{where}.reason"),
        timestamp=decode_optional_number(f.get("timestamp"), f"{where}.timestamp"),
        retry_after=decode_optional_number(f.get("retry_after"), f"{where}.retry_after"),
        payload_valid=decode_bool(f.get("payload_valid", True), f"{where}.payload_valid"),
    )


_ESTIMATE_FIELDS = ("device", "app", "profile", "token", "detected_at", "uninstalled_at")


def encode_estimate(estimate: UninstallEstimate, where: str = "estimate") -> dict[str, Any]:
    """An uninstall estimate (R7) as a JSON object."""
    return {
        "device": _text_out(estimate.device, f"{where}.device"),
        "app": _text_out(estimate.app, f"{where}.app"),
        "profile": _text_out(estimate.profile, f"{where}.profile"),
        "token": _text_out(estimate.token, f"{where}.token"),
        "detected_at": _number_out(estimate.detected_at, f"{where}.detected_at"),
        "uninstalled_at": _number_out(estimate.uninstalled_at, f"{where}.uninstalled_at"),
    }


def decode_estimate(value: object, where: str) -> UninstallEstimate:
    """An uninstall estimate from its JSON object."""
    f = _fields(value, where, _ESTIMATE_FIELDS)
    return UninstallEstimate(
        device=decode_string(f["device"], f"{where}.device"),
        app=decode_string(f["app"], f"{where}.app"),
        profile=decode_string(f["profile"], f"{where}.profile"),
        token=decode_string(f["token"], f"{where}.token"),
        detected_at=decode_number(f["detected_at"], f"{where}.detected_at"),
        uninstalled_at=decode_number(f["uninstalled_at"], f"{where}.uninstalled_at"),
    )


def decode_optional_estimate(value: object, where: str) -> UninstallEstimate | None:
    """An uninstall estimate or null."""
    return None if value is None else decode_estimate(value, where)


_POLICY_FIELDS = (
    "refresh_on_session_start",
    "detach_on_logout",
    "prune_after_days",
    "honour_apns_timestamp",
)


def encode_policy(policy: RegistryPolicy) -> dict[str, Any]:
    """A registry policy as a JSON object (every switch)."""
    return {
        "refresh_on_session_start": policy.refresh_on_session_start,
        "detach_on_logout": policy.detach_on_logout,
        "prune_after_days": policy.prune_after_days,
        "honour_apns_timestamp": policy.honour_apns_timestamp,
    }


def decode_policy(value: object, where: str) -> RegistryPolicy:
    """A registry policy; a switch left out keeps its default."""
    f = _fields(value, where, (), _POLICY_FIELDS)
    defaults = RegistryPolicy()
    return RegistryPolicy(
        refresh_on_session_start=decode_bool(
            f.get("refresh_on_session_start", defaults.refresh_on_session_start),
            f"{where}.refresh_on_session_start",
        ),
        detach_on_logout=decode_bool(
            f.get("detach_on_logout", defaults.detach_on_logout), f"{where}.detach_on_logout"
        ),
        prune_after_days=_decode_window(f.get("prune_after_days"), f"{where}.prune_after_days"),
        honour_apns_timestamp=decode_bool(
            f.get("honour_apns_timestamp", defaults.honour_apns_timestamp),
            f"{where}.honour_apns_timestamp",
        ),
    )


def _decode_window(value: object, where: str) -> float | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value  # an int stays an int, as RegistryPolicy keeps the value it was given
    days = decode_optional_number(value, where)
    if days is not None and days <= 0:
        raise _expected(where, "a number of days > 0 or null", value)
    return days


# -- profile views -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RemoteProfile:
    """A profile as a registry service described it (a :class:`ProfileView`), read-only."""

    profile_id: str
    anonymous: bool
    state: SubscriptionState
    devices: tuple[str, ...]
    tokens: Mapping[Slot, str]


def encode_profile(profile: ProfileView, where: str = "profile") -> dict[str, Any]:
    """A profile view as a JSON object; ``tokens`` is an array of (device, app, token) objects."""
    devices = profile.devices
    if isinstance(devices, str) or not isinstance(devices, Iterable):
        raise _expected(f"{where}.devices", "a sequence of device ids", devices)
    tokens = profile.tokens
    if not isinstance(tokens, Mapping):
        raise _expected(f"{where}.tokens", "a mapping of (device, app) to token", tokens)
    held = []
    for i, (slot, token) in enumerate(tokens.items()):
        if not isinstance(slot, tuple) or len(slot) != 2:
            raise _expected(f"{where}.tokens[{i}]", "a (device, app) key", slot)
        held.append(
            {
                "device": _text_out(slot[0], f"{where}.tokens[{i}].device"),
                "app": _text_out(slot[1], f"{where}.tokens[{i}].app"),
                "token": _text_out(token, f"{where}.tokens[{i}].token"),
            }
        )
    return {
        "profile_id": _text_out(profile.profile_id, f"{where}.profile_id"),
        "anonymous": _bool_out(profile.anonymous, f"{where}.anonymous"),
        "state": _enum_out(SubscriptionState, profile.state, f"{where}.state"),
        "devices": [_text_out(d, f"{where}.devices[{i}]") for i, d in enumerate(devices)],
        "tokens": held,
    }


def decode_profile(value: object, where: str) -> RemoteProfile:
    """A profile view from its JSON object."""
    f = _fields(value, where, ("profile_id", "anonymous", "state", "devices", "tokens"))
    held = f["tokens"]
    if not isinstance(held, list):
        raise _expected(f"{where}.tokens", "an array of {device, app, token} objects", held)
    tokens: dict[Slot, str] = {}
    for i, item in enumerate(held):
        at = f"{where}.tokens[{i}]"
        entry = _fields(item, at, ("device", "app", "token"))
        slot = (
            decode_string(entry["device"], f"{at}.device"),
            decode_string(entry["app"], f"{at}.app"),
        )
        tokens[slot] = decode_string(entry["token"], f"{at}.token")
    return RemoteProfile(
        profile_id=decode_string(f["profile_id"], f"{where}.profile_id"),
        anonymous=decode_bool(f["anonymous"], f"{where}.anonymous"),
        state=decode_state(f["state"], f"{where}.state"),
        devices=tuple(decode_strings(f["devices"], f"{where}.devices")),
        tokens=MappingProxyType(tokens),
    )


# -- operations ----------------------------------------------------------------------------------

#: Decoders of argument values, by the kind named in :class:`Argument`.
ARGUMENT_DECODERS: dict[str, Callable[[object, str], Any]] = {
    "string": decode_string,
    "optional_string": decode_optional_string,
    "number": decode_number,
    "bool": decode_bool,
    "platform": decode_platform,
    "optional_platform": decode_optional_platform,
    "platforms": decode_platforms,
    "state": decode_state,
    "send_result": decode_send_result,
}


def encode_argument(kind: str, value: Any) -> Any:
    """The JSON form of an argument of ``kind`` (the client's side of :data:`ARGUMENT_DECODERS`).

    Values are not checked here: a wrong one (an unknown platform, a state that does not exist)
    is sent as it is and refused by the service, as the registry itself would refuse it.
    """
    if kind == "number" and not isinstance(value, bool) and isinstance(value, numbers.Real):
        return float(value)  # a NumPy number too; the service reads every time as a float
    if kind == "send_result" and isinstance(value, SendResult):
        return encode_send_result(value)
    if kind == "platforms" and not isinstance(value, str) and isinstance(value, Iterable):
        return [_plain(p) for p in value]
    return _plain(value)


def _plain(value: Any) -> Any:
    """An enum member as its value; anything else as it is."""
    return value.value if isinstance(value, StrEnum) else value


_REQUIRED: Any = object()


@dataclass(frozen=True, slots=True)
class Argument:
    """One argument of an operation.

    ``keyword``: the protocol passes it by keyword (a keyword-only parameter), else positionally.
    ``default``: its value when a call leaves it out (``_REQUIRED``: it may not). ``omitted_at_
    default``: the server does not pass it at all at its default, as pushsim does not (a model
    may lack the parameter).
    """

    name: str
    kind: str
    keyword: bool = False
    default: Any = _REQUIRED
    omitted_at_default: bool = False

    @property
    def required(self) -> bool:
        """True when every call must give it."""
        return self.default is _REQUIRED


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of the protocol as it travels in ``POST /v1/registries/{id}/calls``.

    ``result``: the kind of its answer (see :func:`encode_result`); ``changes``: it takes ``now``
    and may change the registry (a client forgets what it read); ``deferred``: pushsim ignores its
    result, so a client may queue it and send it with the next call whose result it needs.
    """

    name: str
    arguments: tuple[Argument, ...]
    result: str
    changes: bool
    deferred: bool

    def bind(self, args: object, where: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The positional and keyword arguments of the Python call, from a call's ``args``."""
        fields = _fields(
            args,
            where,
            [a.name for a in self.arguments if a.required],
            [a.name for a in self.arguments if not a.required],
        )
        positional: list[Any] = []
        keywords: dict[str, Any] = {}
        for argument in self.arguments:
            if argument.name in fields:
                value = ARGUMENT_DECODERS[argument.kind](
                    fields[argument.name], f"{where}.{argument.name}"
                )
            else:
                value = argument.default
            if argument.keyword:
                if argument.omitted_at_default and value == argument.default:
                    continue
                keywords[argument.name] = value
            else:
                positional.append(value)
        return tuple(positional), keywords

    def encode_args(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON ``args`` of a call, from the Python values by argument name."""
        return {a.name: encode_argument(a.kind, values[a.name]) for a in self.arguments}


_NOW = Argument("now", "number")


def _keyword(name: str, kind: str, default: Any = _REQUIRED, omitted: bool = False) -> Argument:
    return Argument(name, kind, keyword=True, default=default, omitted_at_default=omitted)


#: The operations of the protocol that travel as calls, in the order of
#: :data:`sim.registry.protocol.MEMBERS` (``subscribe`` and ``on_targetability`` stay local).
OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation(
            "add_app",
            (
                Argument("app_id", "string"),
                Argument("platforms", "platforms"),
                _keyword("uninstall_tracking", "bool", False),
            ),
            "none",
            changes=False,
            deferred=True,
        ),
        Operation(
            "session_start",
            (
                _NOW,
                _keyword("device", "string"),
                _keyword("app", "string"),
                _keyword("platform", "platform"),
                _keyword("token", "optional_string"),
                _keyword("foreground", "bool"),
                _keyword("provisional", "bool", False),
                _keyword("implicit_permission", "bool", False),
            ),
            "none",
            changes=True,
            deferred=True,
        ),
        Operation(
            "change_user",
            (
                _NOW,
                _keyword("device", "string"),
                _keyword("app", "string"),
                _keyword("user", "string"),
            ),
            "none",
            changes=True,
            deferred=True,
        ),
        Operation(
            "log_out",
            (_NOW, _keyword("device", "string"), _keyword("app", "string")),
            "none",
            changes=True,
            deferred=True,
        ),
        Operation(
            "set_subscription",
            (_NOW, Argument("profile_id", "string"), Argument("state", "state")),
            "none",
            changes=True,
            deferred=True,
        ),
        Operation(
            "campaign_tokens",
            (
                Argument("app", "string"),
                _keyword("foreground_only", "bool", True),
                _keyword("platform", "optional_platform", None, omitted=True),
            ),
            "records",
            changes=False,
            deferred=False,
        ),
        Operation(
            "handle_response",
            (_NOW, Argument("token", "string"), Argument("result", "send_result")),
            "none",
            changes=True,
            deferred=True,
        ),
        Operation(
            "probe_targets",
            (_NOW, Argument("app", "string")),
            "strings",
            changes=True,
            deferred=False,
        ),
        Operation("prune_inactive", (_NOW,), "none", changes=True, deferred=True),
        Operation("tokens", (), "records", changes=False, deferred=False),
        Operation("token", (Argument("token", "string"),), "optional_record", False, False),
        Operation(
            "token_for",
            (Argument("device", "string"), Argument("app", "string")),
            "optional_record",
            changes=False,
            deferred=False,
        ),
        Operation("is_targetable", (Argument("profile_id", "string"),), "bool", False, False),
        Operation(
            "audience",
            (
                Argument("app", "string"),
                _keyword("foreground_only", "bool", True, omitted=True),
                _keyword("platform", "optional_platform", None, omitted=True),
                _keyword("include_unsubscribed", "bool", False, omitted=True),
            ),
            "strings",
            changes=False,
            deferred=False,
        ),
        Operation(
            "audience_size",
            (
                Argument("app", "string"),
                _keyword("foreground_only", "bool", True, omitted=True),
                _keyword("platform", "optional_platform", None, omitted=True),
            ),
            "count",
            changes=False,
            deferred=False,
        ),
        Operation("has_profile", (Argument("profile_id", "string"),), "bool", False, False),
        Operation("profile", (Argument("profile_id", "string"),), "profile", False, False),
        Operation(
            "uninstall_estimate",
            (Argument("device", "string"), Argument("app", "string")),
            "optional_estimate",
            changes=False,
            deferred=False,
        ),
    )
}

#: The protocol members a client keeps locally: listeners, fed from the events of each answer.
LOCAL_MEMBERS = ("subscribe", "on_targetability")


def decode_call(value: object, where: str) -> tuple[Operation, tuple[Any, ...], dict[str, Any]]:
    """The operation of one ``{"op": …, "args": {…}}`` call and its Python arguments."""
    f = _fields(value, where, ("op",), ("args",))
    name = f["op"]
    operation = OPERATIONS.get(name) if isinstance(name, str) else None
    if operation is None:
        allowed = ", ".join(OPERATIONS)
        raise _expected(f"{where}.op", f"an operation ({allowed})", name)
    args, keywords = operation.bind(f.get("args", {}), f"{where}.args")
    return operation, args, keywords


# -- results -------------------------------------------------------------------------------------


def _records_out(value: object, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, Iterable) or isinstance(value, str | Mapping):
        raise _expected(where, "a sequence of token records", value)
    out = []
    for i, record in enumerate(value):
        if not isinstance(record, TokenRecord):
            raise _expected(f"{where}[{i}]", "a TokenRecord", record)
        out.append(encode_record(record, f"{where}[{i}]"))
    return out


def _strings_out(value: object, where: str) -> list[str]:
    if not isinstance(value, Iterable) or isinstance(value, str | Mapping):
        raise _expected(where, "a collection of strings", value)
    return [_text_out(item, f"{where}[{i}]") for i, item in enumerate(value)]


def _optional_record_out(value: object, where: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, TokenRecord):
        raise _expected(where, "a TokenRecord or None", value)
    return encode_record(value, where)


def _count_out(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise _expected(where, "an integer", value)
    return int(value)


def _optional_estimate_out(value: object, where: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, UninstallEstimate):
        raise _expected(where, "an UninstallEstimate or None", value)
    return encode_estimate(value, where)


_RESULT_ENCODERS: dict[str, Callable[[Any, str], Any]] = {
    "none": lambda _value, _where: None,
    "records": _records_out,
    "optional_record": _optional_record_out,
    "strings": _strings_out,
    "bool": _bool_out,
    "count": _count_out,
    "profile": encode_profile,
    "optional_estimate": _optional_estimate_out,
}

_RESULT_DECODERS: dict[str, Callable[[object, str], Any]] = {
    "none": lambda _value, _where: None,
    "records": decode_records,
    "optional_record": decode_optional_record,
    "strings": decode_strings,
    "bool": decode_bool,
    "count": decode_integer,
    "profile": decode_profile,
    "optional_estimate": decode_optional_estimate,
}


def encode_result(operation: Operation, value: object, where: str) -> Any:
    """The JSON answer of ``operation`` from what the registry returned (``null``: ignored)."""
    return _RESULT_ENCODERS[operation.result](value, where)


def decode_result(operation: Operation, value: object, where: str) -> Any:
    """The Python answer of ``operation`` from its JSON form (strict)."""
    if operation.result == "none":
        return None  # whatever the service answered, pushsim ignores it
    return _RESULT_DECODERS[operation.result](value, where)
