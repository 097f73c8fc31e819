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
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from sim.providers import ProviderError, TokenDeath
from sim.registry import RegistryError, RegistryPolicy, SubscriptionState, engagement_view
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
)


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

    def describe(self) -> str:
        """The step as a short text: ``login kim on charlie_phone``."""
        parts = [self.do.value]
        if self.user is not None:
            parts.append(self.user)
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
    ``campaign`` check), only its keys are compared.
    """

    day: float
    check: str
    equals: Value
    device: str | None = None
    profile: str | None = None
    campaign: str | None = None
    note: str = ""

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

    def __init__(self, story: Story) -> None:
        self.story = story
        self.world = World(story.world_params(), seed=0, random=False)
        for spec in story.devices:
            self.world.add_device(spec.device())
        #: per campaign (or probe) id: outcome counts, ``targeted``, and who saw it
        self.counts: dict[str, dict[str, int]] = {}
        self.shown_to: dict[str, list[str]] = {}
        #: the last token each device was issued (kept after an uninstall)
        self.last_token: dict[str, str] = {}
        self.world.signals.send.append(self._on_send)
        self.world.signals.truth.append(self._on_truth)

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
}


# -- checks --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expects:
    """The kind of value a check's ``equals`` must be."""

    kind: str  # "bool" | "int" | "str" | "counts"
    choices: tuple[str, ...] = ()  # str: the allowed values, if closed

    def problem(self, value: Value) -> str | None:
        """What is wrong with ``value`` as an expected value, or None."""
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


CheckFunction = Callable[[StoryWorld, Expectation], Value]


@dataclass(frozen=True, slots=True)
class Check:
    """A row of :data:`CHECKS`: the function, the arguments it takes, what it returns."""

    function: CheckFunction
    args: tuple[str, ...]
    expects: Expects
    doc: str


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


_BOOL = Expects("bool")
_STATES = (*(s.value for s in SubscriptionState), NONE)

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
}


def evaluate(ctx: StoryWorld, expectation: Expectation) -> tuple[Value, bool]:
    """The actual value of ``expectation``'s check now and whether it matches ``equals``.

    A table ``equals`` is compared on its own keys only (the actual value is cut down to them).
    """
    actual = CHECKS[expectation.check].function(ctx, expectation)
    expected = expectation.equals
    if isinstance(expected, dict) and isinstance(actual, dict):
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


def run_story(story: Story) -> StoryReport:
    """Play ``story`` in a deterministic world and check its expectations."""
    ctx = StoryWorld(story)
    env = ctx.world.env
    results: list[ExpectationResult] = []

    def step_callback(index: int, step: Step) -> Callable[[Any], None]:
        def run(_event: Any) -> None:
            try:
                STEP_ACTIONS[step.do](ctx, step)
            except _IMPOSSIBLE as error:
                note = f" — {step.note}" if step.note else ""
                results.append(
                    ExpectationResult(
                        step.day,
                        "step",
                        f"steps[{index}]: {step.describe()}{note}",
                        "a possible step",
                        f"{type(error).__name__}: {error}",
                        False,
                    )
                )

        return run

    def expect_callback(expectation: Expectation) -> Callable[[Any], None]:
        def run(_event: Any) -> None:
            try:
                actual, passed = evaluate(ctx, expectation)
            except _IMPOSSIBLE as error:
                actual, passed = f"{type(error).__name__}: {error}", False
            results.append(
                ExpectationResult(
                    expectation.day,
                    expectation.check,
                    expectation.describe(),
                    expectation.equals,
                    actual,
                    passed,
                )
            )

        return run

    # SimPy fires events due at the same time in the order they were scheduled: steps first
    for index, step in enumerate(story.steps):
        env.timeout(step.day).callbacks.append(step_callback(index, step))
    for expectation in story.expectations:
        env.timeout(expectation.day).callbacks.append(expect_callback(expectation))
    try:
        ctx.world.run(until=story.last_day + 1.0)
    except _IMPOSSIBLE as error:  # a deferred SDK call the registry refused
        results.append(
            ExpectationResult(
                ctx.now, "world", "the world stopped", "no error", f"{error!r}", False
            )
        )
    return StoryReport(story.name, tuple(results))
