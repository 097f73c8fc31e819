"""Stories: scripted, deterministic timelines of edge cases, and the runner that checks them.

A :class:`Story` is a handful of devices, a list of :class:`Step` (what people do, and when) and a
list of :class:`Expectation` (what must hold, and when). :func:`run_story` plays the steps through
the real world — the same :class:`~sim.world.actions.Actions`, SDK flush delay, providers, sender
and registry as a stochastic run — with no randomness (provider lags at the low end of their
window, no transient errors), then returns a :class:`StoryReport` with one
:class:`ExpectationResult` per expectation.

Nothing happens that a story does not say: no automatic campaigns, no nightly uninstall-tracking
probes, no nightly pruning — ``campaign``, ``probe`` and ``prune`` steps send and prune at their
time. Steps and expectations run as SimPy callbacks at their day; at an equal day every step runs
before any expectation, each in the order given. The SDK flushes registry calls
``sdk_flush_delay_days`` (10 s) after the device acts, so an expectation about a step's effect on
the registry is placed a little after the step (``day = 1.01`` for a step at ``day = 1.0``).

The verbs (``Step.do``) and the checks (``Expectation.check``) are tables (:data:`STEP_FIELDS`,
:data:`STEP_ACTIONS`, :data:`CHECKS`): adding one is adding a row. This module does no file I/O;
:mod:`sim.scenario.story_file` reads stories from TOML.

A story runs against the reference registry unless :func:`run_story` is given another model
(``model="subscriptions"``, ``"package.module:factory"``…, as in ``[registry] model``): that is how
``pushsim conform`` plays every story against an implementation. Such a model runs behind
:class:`~sim.models.GuardedRegistry`; when it raises, the story stops there and every
expectation not yet checked fails with the :class:`~sim.models.RegistryFailure` message.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from sim.models import GuardedRegistry, RegistryFailure, build_registry
from sim.providers import ProviderError, TokenDeath
from sim.registry import (
    RegistryError,
    RegistryPolicy,
    SubscriptionState,
    TokenEvent,
    engagement_view,
    export_profile,
)
from sim.registry.protocol import RegistryProtocol
from sim.world.actions import Answer, WorldError
from sim.world.device import Device, DeviceKind
from sim.world.params import (
    CampaignParams,
    PermissionParams,
    PolicyParams,
    ProviderParams,
    WorldParams,
)
from sim.world.signals import Outcome, SendRecord, TruthEvent
from sim.world.world import APP, World

#: A value a check returns and an expectation compares with: bool, int, str, list or dict.
Value = Any


class StoryError(ValueError):
    """A story that cannot be run: ``path`` is the key path of the problem (``steps[3].do``)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message

    def within(self, prefix: str) -> StoryError:
        """The same error, its path prefixed by ``prefix`` (``steps[3]`` + ``do``)."""
        if not self.path:
            return StoryError(prefix, self.message)
        joiner = "" if self.path.startswith("[") else "."
        return StoryError(f"{prefix}{joiner}{self.path}", self.message)


def _allowed(values: Iterable[str]) -> str:
    return ", ".join(values)


# -- the model ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    """A device of the story: ``sharers`` are the people other than ``owner`` who use it."""

    id: str
    kind: DeviceKind
    owner: str
    sharers: tuple[str, ...] = ()
    browser: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            raise StoryError("id", "a device id must not be empty")
        if "." in self.id:
            raise StoryError("id", f"device id {self.id!r} must not contain '.' (install ids do)")
        if not self.owner or self.owner.startswith("anon:"):
            raise StoryError("owner", f"owner must be a user id, got {self.owner!r}")
        if self.owner in self.sharers:
            raise StoryError("sharers", f"list the people other than the owner {self.owner!r}")
        if self.kind is DeviceKind.WEB:
            if self.browser not in WEB_BROWSERS:
                raise StoryError(
                    "browser", f"a web device needs a browser; allowed: {_allowed(WEB_BROWSERS)}"
                )
        elif self.browser:
            raise StoryError("browser", f"only web devices have a browser (kind {self.kind})")

    def device(self) -> Device:
        """The world's device for this spec."""
        return Device(self.id, self.kind, self.owner, (self.owner, *self.sharers), self.browser)


#: Browsers a web device may name (Safari keeps accepting revoked subscriptions).
WEB_BROWSERS = ("chrome", "firefox", "safari")


@dataclass(frozen=True, slots=True)
class WorldOptions:
    """The few world settings a story may change (the ``[world]`` table)."""

    #: the app has uninstall tracking: ``probe`` steps send to tokens quiet for 24 h (R7)
    uninstall_tracking: bool = False
    #: iOS prompt strategy: ``prompt`` (launch ``answer`` decides) or ``provisional`` (quiet)
    ios_strategy: Literal["prompt", "provisional"] = "prompt"
    #: days between an uninstall and the provider's first permanent error (DESIGN §2)
    apns_lag_days: float = 9.0
    fcm_lag_days: float = 1.0

    def __post_init__(self) -> None:
        if self.ios_strategy not in ("prompt", "provisional"):
            raise StoryError("ios_strategy", "allowed: prompt, provisional")
        for name in ("apns_lag_days", "fcm_lag_days"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise StoryError(name, f"must be a finite number >= 0, got {value!r}")


class StepKind(StrEnum):
    """What a step does (``do``)."""

    INSTALL = "install"
    LAUNCH = "launch"
    SESSION = "session"
    LOGIN = "login"
    LOGOUT = "logout"
    PERMISSION_OFF = "permission_off"
    PERMISSION_ON = "permission_on"
    UNINSTALL = "uninstall"
    REINSTALL = "reinstall"
    ROTATE = "rotate"
    REPLACE = "replace"
    CAMPAIGN = "campaign"
    PROBE = "probe"
    PRUNE = "prune"
    SET_SUBSCRIPTION = "set_subscription"


#: The token changes a ``rotate`` step may name.
ROTATE_CAUSES = (TokenDeath.APP_UPDATE, TokenDeath.OS_REINSTALL, TokenDeath.ROTATION)

#: Step fields besides ``day``, ``do`` and ``note``: (required, optional) for each verb.
_D = frozenset({"device"})
STEP_FIELDS: dict[StepKind, tuple[frozenset[str], frozenset[str]]] = {
    StepKind.INSTALL: (_D, frozenset()),
    StepKind.LAUNCH: (_D, frozenset({"answer"})),
    StepKind.SESSION: (_D, frozenset({"answer"})),
    StepKind.LOGIN: (_D | {"user"}, frozenset()),
    StepKind.LOGOUT: (_D, frozenset()),
    StepKind.PERMISSION_OFF: (_D, frozenset()),
    StepKind.PERMISSION_ON: (_D, frozenset()),
    StepKind.UNINSTALL: (_D, frozenset()),
    StepKind.REINSTALL: (_D, frozenset()),
    StepKind.ROTATE: (_D | {"cause"}, frozenset()),
    StepKind.REPLACE: (_D | {"new_device"}, frozenset({"restore"})),
    StepKind.CAMPAIGN: (frozenset({"campaign"}), frozenset({"foreground"})),
    StepKind.PROBE: (frozenset(), frozenset({"campaign"})),
    StepKind.PRUNE: (frozenset(), frozenset()),
    StepKind.SET_SUBSCRIPTION: (frozenset({"profile", "state"}), frozenset()),
}
_STEP_ARGS = (
    "device",
    "answer",
    "user",
    "cause",
    "new_device",
    "restore",
    "campaign",
    "foreground",
    "profile",
    "state",
)
#: The states a ``set_subscription`` step may set.
STATES = tuple(s.value for s in SubscriptionState)


def _check_day(day: float) -> None:
    if isinstance(day, bool) or not isinstance(day, int | float):
        raise StoryError("day", f"must be a number of days, got {day!r}")
    if not (math.isfinite(day) and day >= 0):
        raise StoryError("day", f"must be a finite number >= 0, got {day!r}")


def _check_fields(
    owner: str, given: set[str], required: frozenset[str], optional: frozenset[str]
) -> None:
    for name in sorted(given - required - optional):
        allowed = _allowed(sorted(required | optional)) or "none"
        raise StoryError(name, f"does not apply to {owner}; its fields: {allowed}")
    for name in sorted(required - given):
        raise StoryError(name, f"{owner} needs {name!r}")


@dataclass(frozen=True, slots=True)
class Step:
    """Something that happens at ``day``; the fields a verb takes are in :data:`STEP_FIELDS`."""

    day: float
    do: StepKind
    device: str | None = None
    answer: Answer | None = None  # launch / session: the answer to a prompt shown now
    user: str | None = None  # login
    cause: TokenDeath | None = None  # rotate
    new_device: str | None = None  # replace: the new device's id
    restore: bool | None = None  # replace: the app and its data come along (default false)
    campaign: str | None = None  # campaign / probe id (probe default: "probe")
    foreground: bool | None = None  # campaign: foreground (default) or background push
    profile: str | None = None  # set_subscription: a user id or an anonymous profile id
    state: str | None = None  # set_subscription: subscribed, opted_in or unsubscribed
    note: str = ""

    def __post_init__(self) -> None:
        _check_day(self.day)
        try:
            kind = StepKind(self.do)
        except ValueError:
            raise StoryError(
                "do", f"unknown step {self.do!r}; allowed: {_allowed(StepKind)}"
            ) from None
        object.__setattr__(self, "do", kind)
        try:
            if self.answer is not None:
                object.__setattr__(self, "answer", Answer(self.answer))
        except ValueError:
            raise StoryError("answer", f"allowed: {_allowed(Answer)}") from None
        if self.cause is not None and self.cause not in ROTATE_CAUSES:
            raise StoryError("cause", f"allowed: {_allowed(ROTATE_CAUSES)}")
        if self.cause is not None:
            object.__setattr__(self, "cause", TokenDeath(self.cause))
        given = {name for name in _STEP_ARGS if getattr(self, name) is not None}
        _check_fields(f"do = {kind.value!r}", given, *STEP_FIELDS[kind])
        if self.user is not None and (not self.user or self.user.startswith("anon:")):
            raise StoryError("user", f"must be an external user id, got {self.user!r}")
        if self.campaign is not None and not self.campaign:
            raise StoryError("campaign", "a campaign id must not be empty")
        if self.profile is not None and (not isinstance(self.profile, str) or not self.profile):
            raise StoryError("profile", f"must be a profile id, got {self.profile!r}")
        if self.state is not None and self.state not in STATES:
            raise StoryError("state", f"allowed: {_allowed(STATES)}")

    def describe(self) -> str:
        """The step as a short text: ``login kim on charlie_phone``."""
        parts = [self.do.value]
        if self.user is not None:
            parts.append(self.user)
        if self.profile is not None:
            parts.append(self.profile)
        if self.state is not None:
            parts.append(self.state)
        if self.campaign is not None:
            parts.append(self.campaign)
        if self.device is not None:
            parts.append(f"on {self.device}")
        extras = [
            f"{name}={getattr(self, name)}"
            for name in ("answer", "cause", "new_device", "restore", "foreground")
            if getattr(self, name) is not None
        ]
        return " ".join(parts + extras)


@dataclass(frozen=True, slots=True)
class Expectation:
    """At ``day``, ``check`` applied to its arguments must equal ``equals``.

    ``check`` names a row of :data:`CHECKS`, which says which of ``device``, ``profile`` and
    ``campaign`` it takes and what kind of value ``equals`` is. When ``equals`` is a table (the
    ``campaign`` check), only its keys are compared. ``rule`` is the one rule of DESIGN §1 the
    expectation guards (one of its story's ``rules``): when it fails, it counts against that rule
    only; without one it counts against every rule of the story.
    """

    day: float
    check: str
    equals: Value
    device: str | None = None
    profile: str | None = None
    campaign: str | None = None
    note: str = ""
    rule: str | None = None

    def __post_init__(self) -> None:
        _check_day(self.day)
        spec = CHECKS.get(self.check)
        if spec is None:
            raise StoryError("check", f"unknown check {self.check!r}; allowed: {_allowed(CHECKS)}")
        given = {name for name in CHECK_ARGS if getattr(self, name) is not None}
        _check_fields(f"check = {self.check!r}", given, frozenset(spec.args), frozenset())
        problem = spec.expects.problem(self.equals)
        if problem is not None:
            raise StoryError("equals", f"check {self.check!r} expects {problem}")
        if self.rule is not None and not self.rule:
            raise StoryError("rule", "must name a rule (R1 … R14), not be empty")

    def describe(self) -> str:
        """The expectation as a short text: ``token_owner(charlie_phone)``."""
        args = ", ".join(str(getattr(self, name)) for name in CHECKS[self.check].args)
        text = f"{self.check}({args})"
        return f"{text} — {self.note}" if self.note else text


@dataclass(frozen=True, slots=True)
class Story:
    """A scripted timeline and what must hold along it.

    Key paths in errors are those of the story file (``steps[3].device``, ``expect[0].check``).
    """

    name: str
    devices: tuple[DeviceSpec, ...]
    steps: tuple[Step, ...]
    expectations: tuple[Expectation, ...]
    rules: tuple[str, ...] = ()
    description: str = ""
    policy: RegistryPolicy = field(default_factory=RegistryPolicy)
    world: WorldOptions = field(default_factory=WorldOptions)

    def __post_init__(self) -> None:
        if not self.name:
            raise StoryError("story.name", "a story needs a name")
        declared: set[str] = set()
        for i, spec in enumerate(self.devices):
            if spec.id in declared:
                raise StoryError(f"devices[{i}].id", f"device {spec.id!r} is declared twice")
            declared.add(spec.id)
        created: set[str] = set()
        for i, step in enumerate(self.steps):
            if step.new_device is not None:
                if step.new_device in declared | created:
                    raise StoryError(
                        f"steps[{i}].new_device", f"device {step.new_device!r} already exists"
                    )
                if "." in step.new_device:
                    raise StoryError(f"steps[{i}].new_device", "device ids must not contain '.'")
                created.add(step.new_device)
        known = declared | created
        for i, step in enumerate(self.steps):
            if step.device is not None and step.device not in known:
                raise StoryError(
                    f"steps[{i}].device",
                    f"unknown device {step.device!r}; devices: {_allowed(sorted(known))}",
                )
            if step.do is StepKind.PRUNE and self.policy.prune_after_days is None:
                raise StoryError(
                    f"steps[{i}].do", "prune needs [policy] prune_after_days (pruning is off)"
                )
        for i, expectation in enumerate(self.expectations):
            if expectation.device is not None and expectation.device not in known:
                raise StoryError(
                    f"expect[{i}].device",
                    f"unknown device {expectation.device!r}; devices: {_allowed(sorted(known))}",
                )
            if expectation.rule is not None and expectation.rule not in self.rules:
                listed = _allowed(self.rules) or "none"
                raise StoryError(
                    f"expect[{i}].rule",
                    f"rule {expectation.rule!r} is not one of the story's rules ({listed}): "
                    "add it to [story] rules, or name one of those",
                )

    def world_params(self) -> WorldParams:
        """The parameters of the story's world: no automatic campaigns, lags at one value."""
        w = self.world
        p = self.policy
        return WorldParams(
            policy=PolicyParams(
                refresh_on_session_start=p.refresh_on_session_start,
                detach_on_logout=p.detach_on_logout,
                prune_after_days=p.prune_after_days,
                honour_apns_timestamp=p.honour_apns_timestamp,
                uninstall_tracking=w.uninstall_tracking,
            ),
            campaigns=CampaignParams(every_days=0.0),
            permission=PermissionParams(ios_strategy=w.ios_strategy),
            providers=ProviderParams(
                apns_lag_days=(w.apns_lag_days, w.apns_lag_days),
                fcm_lag_days=(w.fcm_lag_days, w.fcm_lag_days),
                transient_error_share=0.0,
            ),
        )

    @property
    def last_day(self) -> float:
        """The day of the last step or expectation."""
        days = [s.day for s in self.steps] + [e.day for e in self.expectations]
        return max(days, default=0.0)


# -- the runner's view of a world ----------------------------------------------------------------


class StoryWorld:
    """A deterministic world for one story, and what the checks read from it."""

    def __init__(self, story: Story, registry: RegistryProtocol | None = None) -> None:
        self.story = story
        self.world = World(story.world_params(), seed=0, random=False, registry=registry)
        for spec in story.devices:
            self.world.add_device(spec.device())
        #: per campaign (or probe) id: outcome counts, ``targeted``, and who saw it
        self.counts: dict[str, dict[str, int]] = {}
        self.shown_to: dict[str, list[str]] = {}
        #: the last token each device was issued (kept after an uninstall)
        self.last_token: dict[str, str] = {}
        #: the story's name of every token a device was issued: ``t1``, ``t2``… per device
        self.token_names: dict[str, str] = {}
        self._issued: dict[str, int] = {}
        #: per device: the registry's token events on its installs, as ``events`` shows them,
        #: and how many of them an ``events`` check has already shown
        self.events: dict[str, list[str]] = {}
        self.events_seen: dict[str, int] = {}
        self.world.signals.send.append(self._on_send)
        self.world.signals.truth.append(self._on_truth)
        self.world.registry.subscribe(self._on_token_event)

    @property
    def now(self) -> float:
        """The current simulated day."""
        return float(self.world.env.now)

    def device(self, device_id: str) -> Device:
        """The world's device ``device_id`` (an error before a ``replace`` has created it)."""
        found = self.world.devices.get(device_id)
        if found is None:
            raise WorldError(f"device {device_id!r} does not exist yet")
        return found

    def campaign_counts(self, campaign_id: str) -> dict[str, int]:
        """Outcome counts of a campaign (zeros for one never sent)."""
        return self.counts.setdefault(campaign_id, {key: 0 for key in CAMPAIGN_COUNTS})

    def _on_send(self, record: SendRecord) -> None:
        if record.outcome is None:
            return
        self.campaign_counts(record.campaign)[record.outcome.value] += 1
        if record.outcome in (Outcome.DISPLAYED, Outcome.MISDIRECTED):
            who = record.shown_to if record.shown_to is not None else NOBODY
            self.shown_to.setdefault(record.campaign, []).append(who)

    def _on_truth(self, event: TruthEvent) -> None:
        if event.new_token is not None:
            self.last_token[event.device] = event.new_token
            number = self._issued.get(event.device, 0) + 1
            self._issued[event.device] = number
            self.token_names.setdefault(event.new_token, f"t{number}")

    def device_of_install(self, install_id: str) -> str:
        """The story device an install id belongs to now (a restored install: the new device)."""
        device = self.world.actions.installs.get(install_id)
        if device is not None:
            return device.device_id
        return install_id.rpartition(".")[0] or install_id

    def _on_token_event(self, event: TokenEvent) -> None:
        # called inside the registry's operation: never raise into it
        try:
            device = self.device_of_install(str(event.device))
            text = describe_event(event, self.token_names)
        except Exception as error:
            device, text = "?", f"an unreadable event {event!r} ({type(error).__name__})"
        self.events.setdefault(device, []).append(text)


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


#: ``shown_to`` entry of a push shown on a device where nobody is logged in.
NOBODY = "nobody"
#: Keys of the ``campaign`` check: sends targeted, then final outcomes.
CAMPAIGN_COUNTS = ("targeted", *(o.value for o in Outcome))


# -- steps ---------------------------------------------------------------------------------------


def _dev(ctx: StoryWorld, step: Step) -> Device:
    assert step.device is not None
    return ctx.device(step.device)


def _reinstall(ctx: StoryWorld, step: Step) -> None:
    device = _dev(ctx, step)
    if device.install_count == 0 or device.installed:
        raise WorldError(f"reinstall needs an uninstalled app on {device.device_id}")
    ctx.world.actions.install(ctx.now, device)


def _rotate(ctx: StoryWorld, step: Step) -> None:
    device = _dev(ctx, step)
    if device.token is None:
        raise WorldError(f"{device.device_id} has no token to rotate")
    assert step.cause is not None
    ctx.world.actions.rotate(ctx.now, device, step.cause)


def _replace(ctx: StoryWorld, step: Step) -> None:
    assert step.new_device is not None
    ctx.world.actions.replace(ctx.now, _dev(ctx, step), step.new_device, restore=bool(step.restore))


def _campaign(ctx: StoryWorld, step: Step) -> None:
    assert step.campaign is not None
    foreground = True if step.foreground is None else step.foreground
    sent = ctx.world.sender.campaign(step.campaign, foreground=foreground)
    ctx.campaign_counts(step.campaign)["targeted"] += sent


def _probe(ctx: StoryWorld, step: Step) -> None:
    campaign = step.campaign if step.campaign is not None else "probe"
    sent = ctx.world.sender.probe(campaign)
    ctx.campaign_counts(campaign)["targeted"] += sent


StepAction = Callable[[StoryWorld, Step], object]

#: What each verb does to the world.
STEP_ACTIONS: dict[StepKind, StepAction] = {
    StepKind.INSTALL: lambda c, s: c.world.actions.install(c.now, _dev(c, s)),
    StepKind.LAUNCH: lambda c, s: c.world.actions.launch(c.now, _dev(c, s), s.answer),
    StepKind.SESSION: lambda c, s: c.world.actions.session(c.now, _dev(c, s), s.answer),
    StepKind.LOGIN: lambda c, s: c.world.actions.login(c.now, _dev(c, s), str(s.user)),
    StepKind.LOGOUT: lambda c, s: c.world.actions.logout(c.now, _dev(c, s)),
    StepKind.PERMISSION_OFF: lambda c, s: c.world.actions.set_permission(c.now, _dev(c, s), False),
    StepKind.PERMISSION_ON: lambda c, s: c.world.actions.set_permission(c.now, _dev(c, s), True),
    StepKind.UNINSTALL: lambda c, s: c.world.actions.uninstall(c.now, _dev(c, s)),
    StepKind.REINSTALL: _reinstall,
    StepKind.ROTATE: _rotate,
    StepKind.REPLACE: _replace,
    StepKind.CAMPAIGN: _campaign,
    StepKind.PROBE: _probe,
    StepKind.PRUNE: lambda c, s: c.world.registry.prune_inactive(c.now),
    # a REST call (or the SDK's own setter), made at once: not through the SDK's flush
    StepKind.SET_SUBSCRIPTION: lambda c, s: c.world.registry.set_subscription(
        c.now, str(s.profile), SubscriptionState(str(s.state))
    ),
}


# -- checks --------------------------------------------------------------------------------------


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
                return f"one of {_allowed(self.choices)}"
            return None
        # counts: a table of outcome counts and, optionally, shown_to
        allowed = (*CAMPAIGN_COUNTS, "shown_to")
        if not isinstance(value, dict) or not value:
            return f"a table with some of the keys {_allowed(allowed)}"
        for key, item in value.items():
            if key not in allowed:
                return f"a table with keys among {_allowed(allowed)}; got {key!r}"
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
    table = f"a table with some of the keys {_allowed(EXPORT_KEYS)}"
    if not isinstance(value, dict) or not value:
        return table
    for key, item in value.items():
        if key not in EXPORT_KEYS:
            return f"{table}; got {key!r}"
        if key == "push_subscribe":
            if item not in STATES:
                return f"push_subscribe = one of {_allowed(STATES)}"
        elif key == "push_tokens":
            problem = _push_tokens_problem(item)
            if problem is not None:
                return problem
        elif not isinstance(item, str):
            return f"{key} = a profile id (a string)"
    return None


def _push_tokens_problem(value: Value) -> str | None:
    entries = (
        f"push_tokens = a list of tables with some of the keys {_allowed(EXPORT_TOKEN_KEYS)}, "
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
        f"({_allowed(EVENT_CHANGES)}), profile, token, then {_allowed(EVENT_SHOWN)}"
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


CheckFunction = Callable[[StoryWorld, Expectation], Value]
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
#: What ``token_owner`` and ``subscription`` answer when there is nothing.
NONE = "none"


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


def _campaign_check(ctx: StoryWorld, e: Expectation) -> Value:
    assert e.campaign is not None
    result: dict[str, Value] = dict(ctx.campaign_counts(e.campaign))
    result["shown_to"] = list(ctx.shown_to.get(e.campaign, []))
    return result


def _truly_reachable(ctx: StoryWorld, e: Expectation) -> Value:
    world, now = ctx.world, ctx.now
    for device in world.devices.values():
        token = device.token
        if device.retired or device.user != e.profile or token is None:
            continue
        if not device.shows_notifications or not world.actions.provider(device).delivers(
            now, token
        ):
            continue
        record = world.registry.token(token)
        if record is not None and record.profile == e.profile:
            return True
    return False


def _provider_accepts(ctx: StoryWorld, e: Expectation) -> Value:
    device = _install_of(ctx, e)
    token = ctx.last_token.get(device.device_id)
    if token is None:
        return False
    return ctx.world.actions.provider(device).accepts(ctx.now, token)


def _uninstall_detected(ctx: StoryWorld, e: Expectation) -> Value:
    device = _install_of(ctx, e)
    return ctx.world.registry.uninstall_estimate(device.install_id, APP) is not None


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
    "campaign": Check(
        _campaign_check,
        ("campaign",),
        Expects("counts"),
        "sends targeted, final outcomes and shown_to (who saw it) of a campaign or probe",
    ),
    "truly_reachable": Check(
        _truly_reachable,
        ("profile",),
        _BOOL,
        "a device where the profile is logged in shows notifications, its token delivers, "
        "and the registry holds that token for the profile",
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
    return actual, _same(actual, expected)


def _same(actual: Value, expected: Value) -> bool:
    # True == 1 in Python; a bool check must not pass with an int and vice versa
    if isinstance(actual, bool) != isinstance(expected, bool):
        return False
    if isinstance(actual, dict) and isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(
            _same(actual[k], expected[k]) for k in expected
        )
    if isinstance(actual, list) and isinstance(expected, list):
        return len(actual) == len(expected) and all(
            _same(a, b) for a, b in zip(actual, expected, strict=True)
        )
    return bool(actual == expected)


# -- results -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExpectationResult:
    """One expectation (or an impossible step, ``check == "step"``) and what was found."""

    day: float
    check: str
    description: str
    expected: Value
    actual: Value
    passed: bool
    #: the expectation's (or step's) note, as the story file gives it
    note: str = ""
    #: the rule the expectation guards, or None (a step, the world, an untagged expectation):
    #: a failure with a rule counts against that rule only, one without against all the story's
    rule: str | None = None


@dataclass(frozen=True, slots=True)
class StoryReport:
    """The results of one story, in the order they were evaluated."""

    story: str
    results: tuple[ExpectationResult, ...]

    @property
    def passed(self) -> bool:
        """True when every expectation held and every step was possible."""
        return all(r.passed for r in self.results)

    @property
    def failures(self) -> list[ExpectationResult]:
        """The results that did not pass."""
        return [r for r in self.results if not r.passed]

    def diff(self) -> str:
        """Expected against actual for each failed result, as readable text."""
        failures = self.failures
        total = len(self.results)
        if not failures:
            return f"story {self.story!r}: all {total} expectations passed"
        lines = [f"story {self.story!r}: {len(failures)} of {total} results failed"]
        for r in failures:
            lines.append(f"  day {r.day:g}: {r.description}")
            if isinstance(r.expected, dict) and isinstance(r.actual, dict):
                for key, value in r.expected.items():
                    got = r.actual.get(key)
                    mark = "  " if _same(got, value) else "≠ "
                    lines.append(f"    {mark}{key}: expected {value!r}, actual {got!r}")
            else:
                lines.append(f"    expected: {r.expected!r}")
                lines.append(f"    actual:   {r.actual!r}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.diff()


# -- the runner ----------------------------------------------------------------------------------

#: Errors that mean a step asked the impossible, reported as a failed result.
_IMPOSSIBLE = (WorldError, RegistryError, ProviderError)


def story_registry(
    story: Story, model: str, options: Mapping[str, Any] | None = None
) -> GuardedRegistry:
    """The registry ``model`` builds for ``story`` (its ``[policy]``), behind the guard.

    Raises :class:`~sim.models.ModelError` when the model cannot be built.
    """
    policy = story.world_params().policy.registry_policy()
    registry = build_registry(model, policy, options or {})
    if isinstance(registry, GuardedRegistry):
        return registry
    return GuardedRegistry(registry, model)


def run_story(
    story: Story, model: str | None = None, options: Mapping[str, Any] | None = None
) -> StoryReport:
    """Play ``story`` in a deterministic world and check its expectations.

    ``model`` (with its factory's ``options``) names the registry to play it against, as
    ``[registry] model`` does; None is the reference. The story's ``[policy]`` is the policy the
    model is built with. Such a model runs behind :class:`~sim.models.GuardedRegistry`: when it
    raises, the failure is the result of the step or expectation that called it, and every
    expectation not yet checked fails with its message (the world stops there). Raises
    :class:`~sim.models.ModelError` when the model cannot be built.
    """
    registry = story_registry(story, model, options) if model is not None else None
    try:
        return _play(story, registry)
    finally:
        close = getattr(registry.inner if registry is not None else None, "close", None)
        if callable(close):
            close()


def _play(story: Story, registry: GuardedRegistry | None) -> StoryReport:
    ctx = StoryWorld(story, registry)
    env = ctx.world.env
    results: list[ExpectationResult] = []
    #: the message of the registry failure that stopped the story, once one has
    stopped: list[str] = []
    checked: set[int] = set()

    def step_callback(index: int, step: Step) -> Callable[[Any], None]:
        def run(_event: Any) -> None:
            if stopped:
                return
            try:
                STEP_ACTIONS[step.do](ctx, step)
            except (*_IMPOSSIBLE, RegistryFailure) as error:
                note = f" — {step.note}" if step.note else ""
                if isinstance(error, RegistryFailure):
                    stopped.append(str(error))
                    actual = str(error)
                else:
                    actual = f"{type(error).__name__}: {error}"
                results.append(
                    ExpectationResult(
                        step.day,
                        "step",
                        f"steps[{index}]: {step.describe()}{note}",
                        "a possible step",
                        actual,
                        False,
                        step.note,
                    )
                )

        return run

    def not_checked(expectation: Expectation) -> ExpectationResult:
        return ExpectationResult(
            expectation.day,
            expectation.check,
            expectation.describe(),
            expectation.equals,
            stopped[0],
            False,
            expectation.note,
            expectation.rule,
        )

    def expect_callback(index: int, expectation: Expectation) -> Callable[[Any], None]:
        def run(_event: Any) -> None:
            checked.add(index)
            if stopped:
                results.append(not_checked(expectation))
                return
            try:
                actual, passed = evaluate(ctx, expectation)
            except _IMPOSSIBLE as error:
                actual, passed = f"{type(error).__name__}: {error}", False
            except RegistryFailure as error:
                stopped.append(str(error))
                actual, passed = str(error), False
            results.append(
                ExpectationResult(
                    expectation.day,
                    expectation.check,
                    expectation.describe(),
                    expectation.equals,
                    actual,
                    passed,
                    expectation.note,
                    expectation.rule,
                )
            )

        return run

    # SimPy fires events due at the same time in the order they were scheduled: steps first
    for index, step in enumerate(story.steps):
        env.timeout(step.day).callbacks.append(step_callback(index, step))
    for index, expectation in enumerate(story.expectations):
        env.timeout(expectation.day).callbacks.append(expect_callback(index, expectation))
    try:
        ctx.world.run(until=story.last_day + 1.0)
    except _IMPOSSIBLE as error:  # a deferred SDK call the registry refused
        results.append(
            ExpectationResult(
                ctx.now, "world", "the world stopped", "no error", f"{error!r}", False
            )
        )
    except RegistryFailure as error:  # a deferred SDK call or a retry the model failed
        if not stopped:  # (a step or an expectation that stopped the story said it already)
            stopped.append(str(error))
            results.append(
                ExpectationResult(
                    ctx.now, "world", "the world stopped", "no error", str(error), False
                )
            )
    if stopped:
        results.extend(
            not_checked(expectation)
            for index, expectation in enumerate(story.expectations)
            if index not in checked
        )
    return StoryReport(story.name, tuple(results))
