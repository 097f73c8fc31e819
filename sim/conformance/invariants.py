"""The registry invariants, driven through the protocol: seeded random operation sequences.

A conformance run drives the implementation with random, deterministic sequences of the calls
pushsim makes (:class:`~sim.registry.protocol.RegistryProtocol`), over a few devices, two apps
(``shop`` on iOS and Android with uninstall tracking, ``site`` on the web) and four users: session
starts reporting the token held, a new one, an older one or none, with permission on or off;
logins, logouts, subscription changes, every provider answer of docs/model.md §2 (APNs 410
timestamps included), pruning, uninstall-tracking probes and reinstalls (a new install id). The
calls keep to the order the world makes them in (a login only after a session start on the device,
a logout only while someone is logged in, a subscription change only for a known profile).

After every operation the driver checks, reading only the protocol (:data:`INVARIANTS`):

- a token has at most one owner, and a (device, app) slot at most one token;
- nothing the registry holds was never reported by a session start (for that slot);
- ``token()``, ``token_for()``, ``tokens()`` and ``profile().tokens`` agree;
- ``audience_size`` equals ``len(audience)``, and a campaign's tokens are those of its audience;
- the token events emitted, replayed, give exactly the tokens held, with their owners and
  foreground flags (R13: a move is a remove plus an add, never an update);
- ``now`` never goes back: every event carries the time of the operation that emitted it;
- uninstall-tracking probes target tokens the registry holds for the app.

An exception raised by the registry is a break too. A model with a ``flush()`` method (the
``http`` client, which writes behind and delivers events with the next answer) is flushed after
every operation, so that its events are heard as the operation's. A break is reported with the
operations that led to it, shortened (operations are dropped while the shorter sequence still
breaks the same invariant). Four sequences run, one per policy of :data:`POLICIES`, each seeded
from the seed. Plain :mod:`random`: no test framework is needed at run time.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sim.models import GuardedRegistry, RegistryFailure, build_registry
from sim.platforms import PROVIDER_OF, Platform, Provider
from sim.providers.answers import CLASSIFICATION, SendResult
from sim.registry.events import TokenEvent
from sim.registry.policy import RegistryPolicy
from sim.registry.protocol import RegistryProtocol

SHOP = "shop"  # a mobile app on iOS and Android, with uninstall tracking
SITE = "site"  # a website, Web Push
APPS: dict[str, tuple[Platform, ...]] = {
    SHOP: (Platform.IOS, Platform.ANDROID),
    SITE: (Platform.WEB,),
}
#: device → (its mobile platform, Android 12 or below: permission implicit)
DEVICES: dict[str, tuple[Platform, bool]] = {
    "d0": (Platform.IOS, False),
    "d1": (Platform.ANDROID, True),
    "d2": (Platform.ANDROID, False),
    "d3": (Platform.IOS, False),
}
USERS = ("u0", "u1", "u2", "u3")
STATES = ("subscribed", "opted_in", "unsubscribed")

#: The policy of each sequence, in turn: the default, then each switch of §1 in play.
POLICIES: tuple[RegistryPolicy, ...] = (
    RegistryPolicy(),
    RegistryPolicy(detach_on_logout=True),
    RegistryPolicy(prune_after_days=3.0),
    RegistryPolicy(refresh_on_session_start=False, honour_apns_timestamp=False),
)

#: Default operations per sequence.
OPERATIONS = 300
#: Replays the shortening of a break may spend, at most (and at most this many seconds).
SHORTEN_REPLAYS = 400
SHORTEN_SECONDS = 20.0

Slot = tuple[str, str]

# the invariants, by name (a break names one)
ONE_OWNER = "a token has at most one owner"
ONE_TOKEN = "a (device, app) slot has at most one token"
REPORTED = "nothing held was never reported by a session start"
LOOK_UPS = "token(), token_for(), tokens() and profile().tokens agree"
AUDIENCE = "audience_size equals len(audience); a campaign's tokens are its audience's"
EVENTS = "the token events replay to the tokens held"
CLOCK = "now never goes back: events carry their operation's time"
PROBES = "probe targets are tokens held for the app"
RAISED = "the registry raises no exception"
#: Every invariant the driver checks, in the order it checks them.
INVARIANTS = (ONE_OWNER, ONE_TOKEN, REPORTED, LOOK_UPS, AUDIENCE, EVENTS, CLOCK, PROBES, RAISED)


def _policy_text(policy: RegistryPolicy) -> str:
    default = RegistryPolicy()
    changed = [
        f"{name}={getattr(policy, name)!r}"
        for name in (
            "refresh_on_session_start",
            "detach_on_logout",
            "prune_after_days",
            "honour_apns_timestamp",
        )
        if getattr(policy, name) != getattr(default, name)
    ]
    return ", ".join(changed) if changed else "default policy"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _show(value: object) -> str:
    if isinstance(value, SendResult):
        parts = [value.provider.value, str(value.status)]
        if value.reason:
            parts.append(repr(value.reason))
        if value.timestamp is not None:
            parts.append(f"timestamp={value.timestamp:g}")
        if not value.payload_valid:
            parts.append("payload_valid=False")
        return f"SendResult({' '.join(parts)})"
    if isinstance(value, Enum):
        return repr(value.value)
    return repr(value)


@dataclass(frozen=True, slots=True)
class Operation:
    """One call to the registry: ``name(now, *args, **kwargs)``."""

    name: str
    now: float
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()

    def call(self, registry: RegistryProtocol) -> object:
        """Make the call."""
        return getattr(registry, self.name)(self.now, *self.args, **dict(self.kwargs))

    def describe(self) -> str:
        """The call as Python: ``day 10.25: change_user(device='d0.1', app='shop', user='u1')``."""
        shown = [_show(a) for a in self.args] + [f"{k}={_show(v)}" for k, v in self.kwargs]
        return f"day {self.now:g}: {self.name}({', '.join(shown)})"

    @property
    def slot(self) -> Slot | None:
        """The (device, app) slot of an SDK call."""
        given = dict(self.kwargs)
        if "device" in given and "app" in given:
            return (str(given["device"]), str(given["app"]))
        return None


@dataclass(frozen=True, slots=True)
class Break:
    """An invariant that did not hold, and the operations that led to it (the last broke it)."""

    invariant: str
    message: str
    operations: tuple[Operation, ...]
    #: operations played in the sequence when the break was found (before shortening)
    found_after: int
    policy: RegistryPolicy
    sequence: int
    seed: int

    def describe(self) -> str:
        """The break, then the operations, one a line."""
        shortened = (
            f", shortened from {self.found_after}"
            if len(self.operations) < self.found_after
            else ""
        )
        lines = [
            f"{self.invariant}: {self.message}",
            f"after {_count(len(self.operations), 'operation')}{shortened} "
            f"(sequence {self.sequence}, "
            f"{_policy_text(self.policy)}, seed {self.seed}); apps {SHOP!r} (ios, android, "
            f"uninstall tracking) and {SITE!r} (web):",
        ]
        lines += [f"  {i}. {op.describe()}" for i, op in enumerate(self.operations, 1)]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """The break as plain data."""
        return {
            "invariant": self.invariant,
            "message": self.message,
            "operations": [op.describe() for op in self.operations],
            "found_after": self.found_after,
            "policy": _policy_text(self.policy),
            "sequence": self.sequence,
            "seed": self.seed,
        }


@dataclass(frozen=True, slots=True)
class InvariantReport:
    """The verdict of the invariant driver: ``broken`` is None when every invariant held."""

    seed: int
    sequences: int
    operations: int
    broken: Break | None = None

    @property
    def holds(self) -> bool:
        """True when no invariant broke."""
        return self.broken is None

    @property
    def verdict(self) -> str:
        """``holds`` or ``BROKEN``."""
        return "holds" if self.holds else "BROKEN"

    def describe(self) -> str:
        """What ran, and the break if any."""
        ran = f"{self.sequences} sequences × {self.operations} operations, seed {self.seed}"
        if self.broken is None:
            return f"holds ({ran})"
        return f"BROKEN ({ran})\n{self.broken.describe()}"

    def to_json(self) -> dict[str, Any]:
        """The report as plain data."""
        return {
            "verdict": self.verdict,
            "seed": self.seed,
            "sequences": self.sequences,
            "operations": self.operations,
            "invariants": list(INVARIANTS),
            "break": self.broken.to_json() if self.broken is not None else None,
        }


class _Found(Exception):
    """Raised inside the driver when an invariant breaks: (invariant, message)."""

    def __init__(self, invariant: str, message: str) -> None:
        super().__init__(message)
        self.invariant = invariant
        self.message = message


def _raised(error: Exception, where: str) -> _Found:
    if isinstance(error, RegistryFailure):
        return _Found(RAISED, str(error))
    return _Found(RAISED, f"{type(error).__name__} in {where}: {error}")


def platform_of(slot: Slot) -> Platform:
    """The platform of a slot's tokens."""
    device, app = slot
    return Platform.WEB if app == SITE else DEVICES[device.partition(".")[0]][0]


def answers_for(provider: Provider) -> list[tuple[int, str]]:
    """Every (status, reason) of docs/model.md §2 for ``provider``, plus 200 and a few more."""
    answers = {(status, reason) for (p, status, reason) in CLASSIFICATION if p is provider}
    answers.add((200, ""))
    if provider is Provider.WEBPUSH:
        answers.update({(500, ""), (503, "")})
    if provider is Provider.FCM:
        answers.update({(404, "NotRegistered"), (403, "MismatchSenderId")})
    return sorted(answers)


_ANSWERS = {provider: answers_for(provider) for provider in Provider}


def _slot_of(raw: Any) -> Slot:
    device, app = raw
    return (str(device), str(app))


@dataclass
class _Held:
    """One token record as read through the protocol."""

    token: str
    slot: Slot
    profile: str
    foreground: bool


def _held_of(record: Any) -> _Held:
    """A token record as the protocol gives it, read at once."""
    return _Held(
        str(record.token),
        (str(record.device), str(record.app)),
        str(record.profile),
        bool(record.foreground),
    )


class Drive:
    """One registry driven by operations, checked after each; the calling order kept."""

    def __init__(self, model: str, options: Mapping[str, Any], policy: RegistryPolicy) -> None:
        built = build_registry(model, policy, options)
        self.registry: RegistryProtocol = (
            built if isinstance(built, GuardedRegistry) else GuardedRegistry(built, model)
        )
        self.now = -math.inf
        self.in_operation = False
        #: problems seen in the event stream, waiting for the next check: (invariant, message)
        self.event_problems: list[tuple[str, str]] = []
        #: the tokens held, as the events say: token → (slot, profile, foreground)
        self.replayed: dict[str, tuple[Slot, str, bool]] = {}
        #: every token a session start reported, and for which slot
        self.reported: dict[str, Slot] = {}
        self.slots: dict[Slot, None] = {}  # every slot an operation named, in order
        self.profiles: dict[str, None] = dict.fromkeys(USERS)  # every profile id seen
        #: the calling order: slots with a session start, and who is logged in on each
        self.started: set[Slot] = set()
        self.user: dict[Slot, str | None] = {}
        self.held: dict[Slot, str] = {}  # the token held per slot, at the last check
        self.operations: list[Operation] = []
        try:
            for app, platforms in APPS.items():
                self.registry.add_app(app, list(platforms), uninstall_tracking=app == SHOP)
            self.registry.subscribe(self._hear)
        except Exception as error:
            raise _raised(error, "set-up") from None

    def _flush(self) -> None:
        """Have a model that delivers its events late (``http`` writes behind) deliver them now.

        The operation's events then reach the listener while the operation is the latest one,
        as the protocol's synchronous delivery would have it.
        """
        inner = getattr(self.registry, "inner", self.registry)
        flush = getattr(inner, "flush", None)
        if callable(flush):
            flush()

    def close(self) -> None:
        """Close the model's connection, if it has one (``http``)."""
        inner = getattr(self.registry, "inner", self.registry)
        close = getattr(inner, "close", None)
        if callable(close):
            close()

    # -- the event stream ----------------------------------------------------------------------

    def _hear(self, event: TokenEvent) -> None:
        # called inside the registry's operation: never raise into it
        try:
            self._replay(event)
        except Exception as error:
            self.event_problems.append((EVENTS, f"an unreadable event {event!r}: {error}"))

    def _replay(self, event: TokenEvent) -> None:
        problems = self.event_problems
        if not self.in_operation:
            problems.append((CLOCK, f"an event outside any operation (in a look-up): {event!r}"))
        elif not (isinstance(event.time, int | float) and event.time == self.now):
            problems.append(
                (CLOCK, f"an event at time {event.time!r} during an operation at day {self.now:g}")
            )
        token = str(event.token)
        slot = (str(event.device), str(event.app))
        profile = str(event.profile)
        self.profiles.setdefault(profile)
        state = (slot, profile, bool(event.foreground))
        change = getattr(event.change, "value", event.change)
        before = self.replayed.get(token)
        if change == "add":
            if before is not None:
                problems.append((EVENTS, f"add of {token!r}, already held by {before[1]!r}"))
            self.replayed[token] = state
        elif change == "remove":
            if before is None:
                problems.append((EVENTS, f"remove of {token!r}, which no event added"))
            elif before[:2] != state[:2]:
                problems.append(
                    (EVENTS, f"remove of {token!r} for {state[:2]}, added for {before[:2]}")
                )
            self.replayed.pop(token, None)
        elif change == "update":
            if before is None:
                problems.append((EVENTS, f"update of {token!r}, which no event added"))
            elif before[:2] != state[:2]:
                problems.append(
                    (
                        EVENTS,
                        f"update of {token!r} from {before[1]!r} on {before[0]} to {profile!r} "
                        f"on {slot}: a move must be a remove plus an add (R13)",
                    )
                )
            self.replayed[token] = state
        else:
            problems.append((EVENTS, f"an event of unknown change {change!r}: {event!r}"))

    # -- operations ----------------------------------------------------------------------------

    def allowed(self, op: Operation) -> bool:
        """True when the world could make this call now (the calling order of the protocol)."""
        if op.now < self.now:
            return False
        slot = op.slot
        if op.name == "change_user":
            assert slot is not None
            return slot in self.started and self.user.get(slot) != dict(op.kwargs)["user"]
        if op.name == "log_out":
            assert slot is not None
            return slot in self.started and self.user.get(slot) is not None
        if op.name == "set_subscription":
            try:
                return bool(self.registry.has_profile(op.args[0]))
            except Exception:
                return False
        return True

    def apply(self, op: Operation) -> None:
        """Make one call, then check every invariant; raises :class:`_Found` on a break."""
        self.play(op)
        self.check()

    def play(self, op: Operation) -> None:
        """Make one call (and check what it answered); raises :class:`_Found` on a break."""
        self.operations.append(op)
        self.now = op.now
        slot = op.slot
        if slot is not None:
            self.slots.setdefault(slot)
        given = dict(op.kwargs)
        if op.name == "session_start":
            assert slot is not None
            token = given["token"]
            if token is not None:
                self.reported[token] = slot
        self.in_operation = True
        try:
            answer = op.call(self.registry)
            self._flush()
        except Exception as error:
            raise _raised(error, op.describe()) from None
        finally:
            self.in_operation = False
        if op.name == "session_start":
            assert slot is not None
            self.started.add(slot)
        elif op.name == "change_user":
            assert slot is not None
            self.user[slot] = str(given["user"])
            self.profiles.setdefault(str(given["user"]))
        elif op.name == "log_out":
            assert slot is not None
            self.user[slot] = None
        elif op.name == "probe_targets":
            self._check_probe(str(op.args[0]), answer)

    def _check_probe(self, app: str, answer: object) -> None:
        try:
            targets = list(answer)  # type: ignore[call-overload]
        except TypeError:
            raise _Found(PROBES, f"probe_targets returned {answer!r}, not a list") from None
        for token in targets:
            try:
                record = self.registry.token(token)
            except Exception as error:
                raise _raised(error, f"token({token!r})") from None
            if record is None:
                raise _Found(PROBES, f"probe target {token!r} is not held (token() is None)")
            if record.app != app:
                raise _Found(PROBES, f"probe target {token!r} of app {app!r} is {record.app!r}'s")

    # -- the invariants ------------------------------------------------------------------------

    def check(self) -> None:
        """Check every invariant now; raises :class:`_Found` with the first that breaks."""
        try:
            self._check()
        except _Found:
            raise
        except Exception as error:
            raise _raised(error, "a look-up") from None

    def _check(self) -> None:
        registry = self.registry
        records = [_held_of(raw) for raw in registry.tokens()]
        for record in records:
            self.profiles.setdefault(record.profile)
        # what each profile says it holds
        holds: dict[str, dict[Slot, str]] = {}
        for profile_id in list(self.profiles):
            if registry.has_profile(profile_id):
                theirs = registry.profile(profile_id).tokens
                holds[profile_id] = {_slot_of(s): str(t) for s, t in theirs.items()}

        # a token has at most one owner
        counted = Counter(r.token for r in records)
        for token, count in counted.items():
            if count > 1:
                raise _Found(ONE_OWNER, f"tokens() lists {token!r} {count} times")
        owners: dict[str, list[str]] = {}
        for profile_id, theirs in holds.items():
            for token in theirs.values():
                owners.setdefault(token, []).append(profile_id)
        for token, who in owners.items():
            if len(who) > 1:
                raise _Found(ONE_OWNER, f"{token!r} is held by {who} (profile().tokens)")

        # a (device, app) slot has at most one token
        by_slot: dict[Slot, list[str]] = {}
        for record in records:
            by_slot.setdefault(record.slot, []).append(record.token)
        for theirs in holds.values():
            for slot, token in theirs.items():
                if token not in by_slot.get(slot, []):
                    by_slot.setdefault(slot, []).append(token)
        for slot, in_slot_tokens in by_slot.items():
            if len(in_slot_tokens) > 1:
                raise _Found(ONE_TOKEN, f"slot {slot} holds {in_slot_tokens}")

        # nothing held was never reported by a session start
        for slot, in_slot_tokens in by_slot.items():
            for token in in_slot_tokens:
                reported = self.reported.get(token)
                if reported is None:
                    raise _Found(REPORTED, f"{token!r} (slot {slot}) was never reported")
                if reported != slot:
                    raise _Found(
                        REPORTED, f"{token!r} is held for slot {slot}, reported for {reported}"
                    )

        # the look-ups agree
        pairs = {(r.profile, r.slot, r.token) for r in records}
        for record in records:
            found = registry.token(record.token)
            if found is None:
                raise _Found(LOOK_UPS, f"tokens() lists {record.token!r}, token() says None")
            seen = _held_of(found)
            if seen != record:
                raise _Found(LOOK_UPS, f"tokens() says {record}, token() says {seen}")
            in_slot = registry.token_for(*record.slot)
            if in_slot is None or str(in_slot.token) != record.token:
                shown = None if in_slot is None else str(in_slot.token)
                raise _Found(
                    LOOK_UPS,
                    f"tokens() holds {record.token!r} for {record.slot}, token_for says {shown!r}",
                )
            listed = holds.get(record.profile, {}).get(record.slot)
            if listed != record.token:
                raise _Found(
                    LOOK_UPS,
                    f"{record.token!r} is held by {record.profile!r} (tokens()), whose "
                    f"profile().tokens[{record.slot}] is {listed!r}",
                )
        for profile_id, tokens in holds.items():
            for slot, token in tokens.items():
                if (profile_id, slot, token) not in pairs:
                    raise _Found(
                        LOOK_UPS,
                        f"profile({profile_id!r}).tokens holds {token!r} for {slot}, "
                        "which tokens() does not list for that profile",
                    )
        held_slots = {r.slot for r in records}
        for slot in self.slots:
            if slot not in held_slots and registry.token_for(*slot) is not None:
                raise _Found(LOOK_UPS, f"token_for{slot} answers a record tokens() does not list")
        held_tokens = set(counted)
        for token in self.reported:
            if token not in held_tokens and registry.token(token) is not None:
                raise _Found(LOOK_UPS, f"token({token!r}) answers a record tokens() does not list")

        # audience sizes, and the campaign's tokens
        for app, platforms in APPS.items():
            for platform in (None, *platforms):
                for foreground_only in (True, False):
                    audience = list(
                        registry.audience(app, foreground_only=foreground_only, platform=platform)
                    )
                    size = registry.audience_size(
                        app, foreground_only=foreground_only, platform=platform
                    )
                    call = f"({app!r}, foreground_only={foreground_only}, platform={platform})"
                    if size != len(audience):
                        raise _Found(
                            AUDIENCE,
                            f"audience_size{call} = {size}, len(audience) = {len(audience)}",
                        )
                    if len(set(audience)) != len(audience):
                        raise _Found(AUDIENCE, f"audience{call} lists a profile twice: {audience}")
                    for profile_id in audience:
                        self.profiles.setdefault(str(profile_id))
            for foreground_only in (True, False):
                audience_set = {
                    str(p) for p in registry.audience(app, foreground_only=foreground_only)
                }
                sent_to: set[str] = set()
                for raw in registry.campaign_tokens(app, foreground_only=foreground_only):
                    sent = _held_of(raw)
                    if sent.token not in held_tokens:
                        raise _Found(
                            AUDIENCE,
                            f"campaign_tokens({app!r}) sends to {sent.token!r}, which is not held",
                        )
                    if sent.slot[1] != app or (foreground_only and not sent.foreground):
                        raise _Found(
                            AUDIENCE,
                            f"campaign_tokens({app!r}, foreground_only={foreground_only}) sends "
                            f"to {sent.token!r} (app {sent.slot[1]!r}, foreground "
                            f"{sent.foreground})",
                        )
                    sent_to.add(sent.profile)
                if sent_to != audience_set:
                    raise _Found(
                        AUDIENCE,
                        f"campaign_tokens({app!r}, foreground_only={foreground_only}) reaches "
                        f"{sorted(sent_to)}, audience is {sorted(audience_set)}",
                    )

        # the event stream: replayed, it gives the tokens held
        for invariant, message in self.event_problems:
            if invariant == EVENTS:
                raise _Found(EVENTS, message)
        for invariant, message in self.event_problems:
            raise _Found(invariant, message)
        held = {r.token: (r.slot, r.profile, r.foreground) for r in records}
        if held != self.replayed:
            raise _Found(EVENTS, _difference(held, self.replayed))
        self.held = {r.slot: r.token for r in records}


def _describe_state(state: tuple[Slot, str, bool] | None) -> str:
    if state is None:
        return "not held"
    slot, profile, foreground = state
    return f"{profile!r} on {slot}, {'foreground' if foreground else 'background'}"


def _difference(
    held: Mapping[str, tuple[Slot, str, bool]], replayed: Mapping[str, tuple[Slot, str, bool]]
) -> str:
    for token in [*held, *replayed]:
        if held.get(token) != replayed.get(token):
            return (
                f"{token!r}: the registry holds it as {_describe_state(held.get(token))}; "
                f"its events say {_describe_state(replayed.get(token))}"
            )
    return "the events and the tokens held differ"  # pragma: no cover (a difference exists)


# -- the operations a sequence draws ------------------------------------------------------------


class Draws:
    """Draws the operations of one sequence from ``rng``, reading what it needs from ``drive``."""

    def __init__(self, drive: Drive, rng: random.Random) -> None:
        self.drive = drive
        self.rng = rng
        self.now = 10.0  # not 0, so that an APNs 410 timestamp may precede a registration
        self.install = dict.fromkeys(DEVICES, 1)  # install number per device
        self.issued: dict[Slot, list[str]] = {}
        self.reported_at: dict[str, float] = {}
        self.serial = 0

    def _tick(self) -> float:
        rng = self.rng
        draw = rng.random()
        if draw < 0.3:
            step = 0.0
        elif draw < 0.85:
            step = rng.uniform(0.0, 0.5)
        else:
            step = rng.uniform(0.0, 4.0)
        self.now = round(self.now + step, 4)
        return self.now

    def _slot(self) -> Slot:
        device = self.rng.choice(list(DEVICES))
        app = self.rng.choice(list(APPS))
        return (f"{device}.{self.install[device]}", app)

    def _started(self, test: Callable[[Slot], bool] = lambda slot: True) -> list[Slot]:
        current = {f"{device}.{number}" for device, number in self.install.items()}
        return [s for s in sorted(self.drive.started) if s[0] in current and test(s)]

    def draw(self) -> Operation | None:
        """The next operation, or None when the draw changed only the devices (a reinstall)."""
        rng = self.rng
        kind = rng.choices(
            (
                "session_start",
                "change_user",
                "log_out",
                "set_subscription",
                "handle_response",
                "prune_inactive",
                "probe_targets",
                "reinstall",
            ),
            weights=(34, 15, 7, 7, 24, 4, 5, 4),
        )[0]
        if kind == "session_start":
            return self._session_start()
        if kind == "change_user":
            slots = self._started()
            if not slots:
                return self._session_start()
            slot = rng.choice(slots)
            user = rng.choice([u for u in USERS if u != self.drive.user.get(slot)])
            return Operation(
                "change_user",
                self._tick(),
                (),
                (("device", slot[0]), ("app", slot[1]), ("user", user)),
            )
        if kind == "log_out":
            slots = self._started(lambda s: self.drive.user.get(s) is not None)
            if not slots:
                return None
            slot = rng.choice(slots)
            return Operation("log_out", self._tick(), (), (("device", slot[0]), ("app", slot[1])))
        if kind == "set_subscription":
            profile = rng.choice(sorted(self.drive.profiles))
            if not self.drive.registry.has_profile(profile):
                return None
            return Operation("set_subscription", self._tick(), (profile, rng.choice(STATES)))
        if kind == "handle_response":
            return self._answer()
        if kind == "prune_inactive":
            return Operation("prune_inactive", self._tick())
        if kind == "probe_targets":
            return Operation("probe_targets", self._tick(), (rng.choice(list(APPS)),))
        device = rng.choice(list(DEVICES))
        self.install[device] += 1
        return None

    def _session_start(self) -> Operation:
        rng = self.rng
        slot = self._slot()
        device, app = slot
        platform = platform_of(slot)
        issued = self.issued.setdefault(slot, [])
        report = rng.choice(("held", "held", "held", "new", "old", "none"))
        token: str | None
        if report == "none":
            token = None
        elif report == "held" and slot in self.drive.held:
            token = self.drive.held[slot]
        elif report == "old" and issued:
            token = rng.choice(issued)
        else:
            self.serial += 1
            token = f"{device}/{app}/{self.serial}"
            issued.append(token)
        foreground = rng.random() < 0.7
        provisional = platform is Platform.IOS and rng.random() < 0.2
        if platform is Platform.WEB and token is not None:
            foreground, provisional = True, False  # a web token exists only after an opt-in
        implicit = app == SHOP and DEVICES[device.partition(".")[0]][1]
        now = self._tick()
        if token is not None:
            self.reported_at[token] = now
        return Operation(
            "session_start",
            now,
            (),
            (
                ("device", device),
                ("app", app),
                ("platform", platform),
                ("token", token),
                ("foreground", foreground),
                ("provisional", provisional),
                ("implicit_permission", implicit),
            ),
        )

    def _answer(self) -> Operation | None:
        rng = self.rng
        held = sorted(self.drive.held.items())
        if held and rng.random() < 0.7:
            slot, token = rng.choice(held)
        else:
            slots = sorted(s for s, tokens in self.issued.items() if tokens)
            if not slots:
                return None
            slot = rng.choice(slots)
            token = rng.choice([*self.issued[slot], f"{slot[0]}/{slot[1]}/never"])
        provider = PROVIDER_OF[platform_of(slot)]
        status, reason = rng.choice(_ANSWERS[provider])
        now = self._tick()
        timestamp = None
        if provider is Provider.APNS and status == 410:
            draw = rng.random()
            if draw < 0.3:
                timestamp = None
            elif draw < 0.6:
                timestamp = round(rng.uniform(0.0, now), 4)
            else:
                around = self.reported_at.get(token, now) + rng.choice((-0.25, 0.0, 0.25))
                timestamp = min(now, max(0.0, around))
        payload_valid = rng.random() < 0.5 if status == 400 else True
        result = SendResult(
            provider, status, reason, timestamp=timestamp, payload_valid=payload_valid
        )
        return Operation("handle_response", now, (token, result))


# -- running and shortening ----------------------------------------------------------------------


def _replay(
    model: str,
    options: Mapping[str, Any],
    policy: RegistryPolicy,
    operations: Sequence[Operation],
    invariant: str,
) -> _Found | None:
    """Play ``operations`` on a fresh registry; the break if it is ``invariant``'s, at the end."""
    try:
        drive = Drive(model, options, policy)
    except Exception:
        return None
    try:
        last = len(operations) - 1
        for index, op in enumerate(operations):
            if not drive.allowed(op):
                return None
            try:
                drive.play(op)
            except _Found as found:
                return found if index == last and found.invariant == invariant else None
        drive.check()
    except _Found as found:
        return found if found.invariant == invariant else None
    finally:
        drive.close()
    return None


def shorten(
    operations: Sequence[Operation],
    breaks: Callable[[Sequence[Operation]], _Found | None],
    *,
    replays: int = SHORTEN_REPLAYS,
    seconds: float = SHORTEN_SECONDS,
) -> list[Operation]:
    """Drop operations while ``breaks`` still finds the break; the last operation always stays.

    Chunks of halving size are dropped in turn (a simple delta debugging), within ``replays``
    replays and ``seconds`` seconds.
    """
    current = list(operations)
    deadline = time.monotonic() + seconds
    chunk = max(1, (len(current) - 1) // 2)
    budget = replays
    while budget > 0 and time.monotonic() < deadline:
        removed = False
        start = 0
        while start + chunk <= len(current) - 1 and budget > 0:
            if time.monotonic() >= deadline:
                break
            candidate = current[:start] + current[start + chunk :]
            budget -= 1
            if breaks(candidate) is not None:
                current = candidate
                removed = True
            else:
                start += chunk
        if chunk == 1 and not removed:
            break
        if not removed or chunk > 1:
            chunk = max(1, chunk // 2)
    return current


def _sequence(
    model: str,
    options: Mapping[str, Any],
    policy: RegistryPolicy,
    seed: int,
    index: int,
    operations: int,
) -> Break | None:
    rng = random.Random(f"pushsim conform {seed} {index}")
    try:
        drive = Drive(model, options, policy)
    except _Found as found:
        return Break(found.invariant, found.message, (), 0, policy, index + 1, seed)
    played = 0
    try:
        draws = Draws(drive, rng)
        guard = operations * 5  # draws that make no call (a reinstall) are bounded too
        while played < operations and guard > 0:
            guard -= 1
            try:
                op = draws.draw()
            except _Found:
                raise
            except Exception as error:  # a look-up the draw made (has_profile)
                raise _raised(error, "has_profile") from None
            if op is None:
                continue
            played += 1
            drive.apply(op)
    except _Found as found:
        first = list(drive.operations)
        invariant = found.invariant
        drive.close()

        def breaks(candidate: Sequence[Operation]) -> _Found | None:
            return _replay(model, options, policy, candidate, invariant)

        shortest = shorten(first, breaks) if first else first
        again = breaks(shortest) if shortest != first else None
        message = again.message if again is not None else found.message
        return Break(found.invariant, message, tuple(shortest), len(first), policy, index + 1, seed)
    drive.close()
    return None


def check_invariants(
    model: str,
    options: Mapping[str, Any] | None = None,
    *,
    seed: int = 0,
    operations: int = OPERATIONS,
    policies: Iterable[RegistryPolicy] = POLICIES,
) -> InvariantReport:
    """Drive ``model`` through one sequence per policy; the first break, shortened, if any.

    Raises :class:`~sim.models.ModelError` when the model cannot be built.
    """
    chosen = list(policies)
    given = dict(options or {})
    for index, policy in enumerate(chosen):
        broken = _sequence(model, given, policy, seed, index, operations)
        if broken is not None:
            return InvariantReport(seed, len(chosen), operations, broken)
    return InvariantReport(seed, len(chosen), operations)


__all__ = [
    "INVARIANTS",
    "OPERATIONS",
    "POLICIES",
    "Break",
    "InvariantReport",
    "Operation",
    "check_invariants",
    "shorten",
]
