"""What an expectation may check (``check``): the table :data:`CHECKS`, and how values compare.

Each row of :data:`CHECKS` is a :class:`Check`: the function that reads the value from the story's
world, the arguments it takes (``device``, ``profile``, ``campaign``), the kind of value
``equals`` must be (:class:`Expects`) and a one-line doc. Adding a check is adding a row (and a row
of the checks table of ``scenarios/stories/README.md``, which a test reads).

This module reads the world and the registry; it changes nothing (an ``events`` check only moves
its own cursor). It depends on no other module of :mod:`sim.story`: the model validates an
expectation against this table, the runner evaluates it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sim.platforms import PROVIDER_OF
from sim.registry import SubscriptionState, TokenEvent, engagement_view, export_profile
from sim.registry.protocol import RegistryProtocol
from sim.world.device import Device
from sim.world.signals import Outcome
from sim.world.world import APP

if TYPE_CHECKING:
    from sim.story.model import Expectation
    from sim.story.runner import StoryWorld

#: A value a check returns and an expectation compares with: bool, int, str, list or dict.
Value = Any


def allowed(values: Iterable[str]) -> str:
    """Values as a message lists them: ``a, b, c``."""
    return ", ".join(values)


#: What ``token_owner``, ``subscription``, ``export`` and ``stale_cause`` answer when there is
#: nothing to read.
NONE = "none"
#: ``shown_to`` entry of a push shown on a device where nobody is logged in.
NOBODY = "nobody"
#: Keys of the ``campaign`` check: sends targeted, then final outcomes.
CAMPAIGN_COUNTS = ("targeted", *(o.value for o in Outcome))
#: ``campaign`` key of every push shown to someone other than its target: the sum of
#: ``shown_to_other_user`` and ``shown_to_nobody`` (accepted so that a story may say "nobody else
#: saw it" in one key; a story that means one kind names it).
MISDIRECTED = "misdirected"
#: Every key a ``campaign`` check's table may give.
CAMPAIGN_KEYS = (*CAMPAIGN_COUNTS, MISDIRECTED, "shown_to")
#: The subscription states a profile may be in (and a ``set_subscription`` step may set).
STATES = tuple(s.value for s in SubscriptionState)
#: What ``stale_cause`` answers for a token a send would reach: ``live``.
LIVE = "live"
#: The values of :class:`sim.metrics.truth.Reach` (spelled out for the reason below; a test
#: checks that they agree).
TRULY = "truly_reachable"
NOT_TARGETED = "reachable_not_targeted"
#: The values of :class:`sim.metrics.truth.StaleCause`, why a held token would not reach its
#: profile. Spelled out here because importing :mod:`sim.metrics` imports pandas (a story file
#: is read without it); ``tests/story`` checks that the two agree.
STALE_CAUSES = (
    "uninstall_undetected",
    "rotated",
    "expired",
    "revoked",
    "uninstalled_not_reported",
    "safari_revoked",
    "permission_off",
    "held_for_other_user",
)


@dataclass(frozen=True, slots=True)
class Expects:
    """The kind of value a check's ``equals`` must be."""

    kind: str  # "bool" | "int" | "str" | "counts" | "export" | "events"
    choices: tuple[str, ...] = ()  # str: the allowed values, if closed

    def problem(self, value: Value) -> str | None:
        """What is wrong with ``value`` as an expected value, or None."""
        if self.kind == "export":
            return _export_problem(value)
        if self.kind == "events":
            return _events_problem(value)
        if self.kind == "bool":
            return None if isinstance(value, bool) else "true or false"
        if self.kind == "int":
            ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
            return None if ok else "a whole number >= 0"
        if self.kind == "str":
            if not isinstance(value, str):
                return "a string"
            if self.choices and value not in self.choices:
                return f"one of {allowed(self.choices)}"
            return None
        # counts: a table of outcome counts and, optionally, shown_to
        keys = CAMPAIGN_KEYS
        if not isinstance(value, dict) or not value:
            return f"a table with some of the keys {allowed(keys)}"
        for key, item in value.items():
            if key not in keys:
                return f"a table with keys among {allowed(keys)}; got {key!r}"
            if key == "shown_to":
                if not (isinstance(item, list) and all(isinstance(u, str) for u in item)):
                    return "shown_to = a list of user ids"
            elif isinstance(item, bool) or not isinstance(item, int) or item < 0:
                return f"{key} = a whole number >= 0"
        return None


#: Keys of the ``export`` check's table (R12), and of each entry of its ``push_tokens``.
EXPORT_KEYS = ("push_subscribe", "push_tokens", "external_id", "user_aliases")
EXPORT_TOKEN_KEYS = ("app", "platform", "token", "device_id", "notifications_enabled")
_EXPORT_TOKEN_KINDS: dict[str, type] = {
    "app": str,
    "platform": str,
    "token": str,
    "device_id": str,
    "notifications_enabled": bool,
}
#: The words that start and end an ``events`` entry (``add kim t1 foreground``).
EVENT_CHANGES = ("add", "update", "remove")
EVENT_SHOWN = ("foreground", "provisional", "background")


def _export_problem(value: Value) -> str | None:
    table = f"a table with some of the keys {allowed(EXPORT_KEYS)}"
    if not isinstance(value, dict) or not value:
        return table
    for key, item in value.items():
        if key not in EXPORT_KEYS:
            return f"{table}; got {key!r}"
        if key == "push_subscribe":
            if item not in STATES:
                return f"push_subscribe = one of {allowed(STATES)}"
        elif key == "push_tokens":
            problem = _push_tokens_problem(item)
            if problem is not None:
                return problem
        elif not isinstance(item, str):
            return f"{key} = a profile id (a string)"
    return None


def _push_tokens_problem(value: Value) -> str | None:
    entries = (
        f"push_tokens = a list of tables with some of the keys {allowed(EXPORT_TOKEN_KEYS)}, "
        "each the same keys"
    )
    if not isinstance(value, list):
        return entries
    keys: set[str] | None = None
    for entry in value:
        if not isinstance(entry, dict) or not entry:
            return entries
        if keys is not None and set(entry) != keys:
            return f"{entries}; got {sorted(keys)} and {sorted(entry)}"
        keys = set(entry)
        for key, item in entry.items():
            kind = _EXPORT_TOKEN_KINDS.get(key)
            if kind is None:
                return f"{entries}; got {key!r}"
            if not isinstance(item, kind):
                return f"push_tokens: {key} = {'true or false' if kind is bool else 'a string'}"
    return None


def _events_problem(value: Value) -> str | None:
    shape = (
        'a list of events such as "add kim t1 foreground": change '
        f"({allowed(EVENT_CHANGES)}), profile, token, then {allowed(EVENT_SHOWN)}"
    )
    if not isinstance(value, list):
        return shape
    for item in value:
        if not isinstance(item, str):
            return shape
        words = item.split(" ")
        if len(words) < 4 or words[0] not in EVENT_CHANGES or words[-1] not in EVENT_SHOWN:
            return f"{shape}; got {item!r}"
    return None


CheckFunction = Callable[["StoryWorld", "Expectation"], Value]
#: How a check compares: (actual, expected) → the two values to compare, each cut down or
#: ordered as the check says (the default cuts a table down to the expected keys).
Comparison = Callable[[Value, Value], tuple[Value, Value]]


@dataclass(frozen=True, slots=True)
class Check:
    """A row of :data:`CHECKS`: the function, the arguments it takes, what it returns."""

    function: CheckFunction
    args: tuple[str, ...]
    expects: Expects
    doc: str
    compare: Comparison | None = None


#: Arguments an expectation may pass to a check.
CHECK_ARGS = ("profile", "device", "campaign")


def describe_event(event: TokenEvent, token_names: Mapping[str, str]) -> str:
    """A token event as the ``events`` check shows it: ``add kim t1 foreground``.

    Change, profile, the story's name of the token (``t1``: the device's first token; a token
    the story never issued keeps its own string) and what the record says of notifications:
    ``foreground``, ``provisional`` (iOS quiet authorisation, which counts as foreground) or
    ``background``.
    """
    change = getattr(event.change, "value", event.change)
    token = token_names.get(event.token, event.token)
    if event.provisional:
        shown = "provisional"
    else:
        shown = "foreground" if event.foreground else "background"
    return f"{change} {event.profile} {token} {shown}"


# -- the checks ----------------------------------------------------------------------------------


def _install_of(ctx: StoryWorld, e: Expectation) -> Device:
    assert e.device is not None
    return ctx.device(e.device)


def _record(ctx: StoryWorld, e: Expectation) -> Any:
    device = _install_of(ctx, e)
    if not device.install_id:
        return None
    return ctx.world.registry.token_for(device.install_id, APP)


def _token_owner(ctx: StoryWorld, e: Expectation) -> Value:
    record = _record(ctx, e)
    return record.profile if record is not None else NONE


def _foreground(ctx: StoryWorld, e: Expectation) -> Value:
    record = _record(ctx, e)
    return record.foreground if record is not None else NONE


def _in_audience(ctx: StoryWorld, e: Expectation) -> Value:
    return e.profile in ctx.world.registry.audience(APP)


def _subscription(ctx: StoryWorld, e: Expectation) -> Value:
    registry = ctx.world.registry
    assert e.profile is not None
    if not registry.has_profile(e.profile):
        return NONE
    return registry.profile(e.profile).state.value


def _engagement(ctx: StoryWorld, e: Expectation) -> Value:
    registry = ctx.world.registry
    assert e.profile is not None
    install = _install_of(ctx, e).install_id
    if not install or not registry.has_profile(e.profile):
        return "--"
    for line in engagement_view(registry, e.profile):
        if line.device == install:
            return line.text
    return "--"


def _engagement_lines(ctx: StoryWorld, e: Expectation) -> Value:
    registry = ctx.world.registry
    assert e.profile is not None
    if not registry.has_profile(e.profile):
        return 0
    return len(engagement_view(registry, e.profile))


def _campaign_check(ctx: StoryWorld, e: Expectation) -> Value:
    assert e.campaign is not None
    counts = ctx.campaign_counts(e.campaign)
    result: dict[str, Value] = dict(counts)
    result[MISDIRECTED] = counts[Outcome.SHOWN_TO_OTHER_USER] + counts[Outcome.SHOWN_TO_NOBODY]
    result["shown_to"] = list(ctx.shown_to.get(e.campaign, []))
    return result


def _reach(ctx: StoryWorld, e: Expectation) -> set[str]:
    """The reach the devices where the profile is logged in give it (``truly_reachable``...).

    Read as the time series reads it: :func:`sim.metrics.truth.device_reach` of each installed
    device's funnel depth.
    """
    # imported here: sim.metrics imports pandas, which reading a story file does not need
    from sim.metrics.truth import device_reach, funnel_depth

    world, now = ctx.world, ctx.now
    registry, app = world.registry, world.actions.app
    found: set[str] = set()
    for device in world.devices.values():
        if not device.installed or device.user != e.profile:
            continue
        service = world.providers[PROVIDER_OF[device.platform]]
        depth = funnel_depth(device, service, registry.token_for, registry.is_targetable, app, now)
        reach = device_reach(depth, device.user, registry)
        if reach is not None:
            found.add(reach.value)
    return found


def _truly_reachable(ctx: StoryWorld, e: Expectation) -> Value:
    return TRULY in _reach(ctx, e)


def _reachable_not_targeted(ctx: StoryWorld, e: Expectation) -> Value:
    reach = _reach(ctx, e)
    return NOT_TARGETED in reach and TRULY not in reach


def _provider_accepts(ctx: StoryWorld, e: Expectation) -> Value:
    device = _install_of(ctx, e)
    token = ctx.last_token.get(device.device_id)
    if token is None:
        return False
    return ctx.world.actions.provider(device).accepts(ctx.now, token)


def _uninstall_detected(ctx: StoryWorld, e: Expectation) -> Value:
    device = _install_of(ctx, e)
    return ctx.world.registry.uninstall_estimate(device.install_id, APP) is not None


def _stale_cause(ctx: StoryWorld, e: Expectation) -> Value:
    # imported here: sim.metrics imports pandas, which reading a story file does not need
    from sim.metrics.truth import TokenTruth, classify_record

    record = _record(ctx, e)
    if record is None:
        return NONE
    world = ctx.world
    installs = world.actions.installs
    service = world.providers[PROVIDER_OF[record.platform]]
    verdict, cause = classify_record(service, installs, record, ctx.now)
    if verdict is TokenTruth.LIVE:
        # as the truth snapshot counts it: live, but the device's logged-in user is someone else
        holder = installs.get(record.device)
        if holder is not None and holder.user != record.profile:
            return "held_for_other_user"
        return LIVE
    return cause.value if cause is not None else LIVE


def _export(ctx: StoryWorld, e: Expectation) -> Value:
    registry = ctx.world.registry
    assert e.profile is not None
    if not registry.has_profile(e.profile):
        return NONE
    exported = export_profile(registry, e.profile)
    names = ctx.token_names
    exported["push_tokens"] = [
        {**entry, "token": names.get(entry["token"], entry["token"])}
        for entry in exported["push_tokens"]
    ]
    return exported


def _entry_order(entry: Value) -> tuple[str, ...]:
    if not isinstance(entry, dict):
        return (repr(entry),)
    return tuple(repr(entry.get(key)) for key in ("device_id", "app", *EXPORT_TOKEN_KEYS))


def _compare_export(actual: Value, expected: Value) -> tuple[Value, Value]:
    """The export cut down to the expected keys; ``push_tokens`` to the keys its entries give.

    Both token lists are put in one order (by device id, then app), so a list is compared as a
    set of entries, whatever order the registry holds them in.
    """
    if not (isinstance(actual, dict) and isinstance(expected, dict)):
        return actual, expected
    cut = {key: actual.get(key) for key in expected}
    wanted = expected.get("push_tokens")
    held = cut.get("push_tokens")
    if isinstance(wanted, list) and isinstance(held, list):
        keys = list(wanted[0]) if wanted else list(EXPORT_TOKEN_KEYS)
        shown = [
            {key: entry.get(key) for key in keys} if isinstance(entry, dict) else entry
            for entry in held
        ]
        cut["push_tokens"] = sorted(shown, key=_entry_order)
        expected = {**expected, "push_tokens": sorted(wanted, key=_entry_order)}
    return cut, expected


def _flush(registry: RegistryProtocol) -> None:
    """Have a model that delivers events late (``http`` writes behind) deliver them now."""
    flush = getattr(getattr(registry, "inner", registry), "flush", None)
    if callable(flush):
        flush()


def _events(ctx: StoryWorld, e: Expectation) -> Value:
    assert e.device is not None
    _install_of(ctx, e)  # an unknown device (one a replace has not created yet) is an error
    _flush(ctx.world.registry)
    heard = ctx.events.get(e.device, [])
    start = ctx.events_seen.get(e.device, 0)
    ctx.events_seen[e.device] = len(heard)
    return list(heard[start:])


_BOOL = Expects("bool")
_STATES = (*STATES, NONE)

#: The checks an expectation may name. Add a row to add a check.
CHECKS: dict[str, Check] = {
    "token_owner": Check(
        _token_owner,
        ("device",),
        Expects("str"),
        "profile holding the token of the device's current install, or 'none'",
    ),
    "token_held": Check(
        lambda c, e: _record(c, e) is not None,
        ("device",),
        _BOOL,
        "the registry holds a token for the device's current install",
    ),
    "foreground": Check(
        _foreground,
        ("device",),
        _BOOL,
        "the foreground flag of the registry's record for the device ('none': no record)",
    ),
    "in_audience": Check(
        _in_audience, ("profile",), _BOOL, "a default foreground campaign targets the profile (R9)"
    ),
    "audience_size": Check(
        lambda c, e: c.world.registry.audience_size(APP),
        (),
        Expects("int"),
        "profiles a default foreground campaign targets (R9)",
    ),
    "subscription": Check(
        _subscription,
        ("profile",),
        Expects("str", _STATES),
        "the profile's subscription state ('none': no such profile)",
    ),
    "engagement": Check(
        _engagement,
        ("profile", "device"),
        Expects("str"),
        "engagement view line for the device: 'Foreground: app', 'Background: app' or '--' (R11)",
    ),
    "engagement_lines": Check(
        _engagement_lines,
        ("profile",),
        Expects("int"),
        "the number of lines of the profile's engagement view, one per device it was seen on "
        "(R11; 0: no such profile)",
    ),
    "campaign": Check(
        _campaign_check,
        ("campaign",),
        Expects("counts"),
        "sends targeted (tokens, not profiles), final outcomes (shown_to_other_user and "
        "shown_to_nobody apart; misdirected their sum) and shown_to (who saw it) of a campaign "
        "or probe",
    ),
    "truly_reachable": Check(
        _truly_reachable,
        ("profile",),
        _BOOL,
        "a default campaign sent now would reach the profile and show it the push: on a device "
        "where the profile is logged in, the app installed and launched, notifications allowed "
        "and the token valid, the registry holds that token for the profile as foreground and "
        "targets the profile (R9)",
    ),
    "reachable_not_targeted": Check(
        _reachable_not_targeted,
        ("profile",),
        _BOOL,
        "not truly reachable, yet a push would be shown to the profile on a device where it is "
        "logged in (app installed and launched, notifications allowed, token valid) — the "
        "registry does not target it there (token not registered, background-only, held for "
        "another profile); an unsubscribed profile is not",
    ),
    "provider_accepts": Check(
        _provider_accepts,
        ("device",),
        _BOOL,
        "the provider would answer 2xx to a send to the device's last token",
    ),
    "uninstall_detected": Check(
        _uninstall_detected,
        ("device",),
        _BOOL,
        "the registry has concluded the device's current install was uninstalled (R7)",
    ),
    "stale_cause": Check(
        _stale_cause,
        ("device",),
        Expects("str", (LIVE, *STALE_CAUSES, NONE)),
        "why a send now to the registry's token for the device's current install would not reach "
        "its profile (sim.metrics.truth.StaleCause), 'live' when it would, 'none': no token",
    ),
    "export": Check(
        _export,
        ("profile",),
        Expects("export"),
        "the profile's export (R12): push_subscribe and push_tokens (each token named as the "
        "story names it, t1, t2… per device), compared on the keys given ('none': no profile)",
        _compare_export,
    ),
    "events": Check(
        _events,
        ("device",),
        Expects("events"),
        "the registry's token events on the device's installs since the last events check of "
        "the device, in order: 'add kim t1 foreground' (R13)",
    ),
}


def evaluate(ctx: StoryWorld, expectation: Expectation) -> tuple[Value, bool]:
    """The actual value of ``expectation``'s check now and whether it matches ``equals``.

    A table ``equals`` is compared on its own keys only (the actual value is cut down to them).
    """
    check = CHECKS[expectation.check]
    actual = check.function(ctx, expectation)
    expected = expectation.equals
    if check.compare is not None:
        actual, expected = check.compare(actual, expected)
    elif isinstance(expected, dict) and isinstance(actual, dict):
        actual = {key: actual.get(key) for key in expected}
    return actual, same(actual, expected)


def same(actual: Value, expected: Value) -> bool:
    """``actual`` equals ``expected``, a bool never equal to an int (``True == 1`` in Python)."""
    if isinstance(actual, bool) != isinstance(expected, bool):
        return False
    if isinstance(actual, dict) and isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(
            same(actual[k], expected[k]) for k in expected
        )
    if isinstance(actual, list) and isinstance(expected, list):
        return len(actual) == len(expected) and all(
            same(a, b) for a, b in zip(actual, expected, strict=True)
        )
    return bool(actual == expected)
