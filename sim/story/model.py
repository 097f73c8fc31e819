"""What a story is: devices, steps, expectations and the few world settings a story may change.

Everything here validates on construction and raises :class:`StoryError` with the key path of the
problem as a story file would write it (``steps[3].do``); :mod:`sim.scenario.story_file` builds
these from TOML and adds the file's name. The verbs a step may name are :class:`StepKind`, with
the keys each takes in :data:`STEP_FIELDS`; what each does is :data:`sim.story.steps.STEP_ACTIONS`.
The checks an expectation may name are :data:`sim.story.checks.CHECKS`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from sim.platforms import PROVIDER_OF, Provider
from sim.providers import SendResult, TokenDeath
from sim.providers.answers import CLASSIFICATION, UnclassifiedAnswerError, classify
from sim.registry import RegistryPolicy
from sim.story.checks import CHECK_ARGS, CHECKS, STATES, Value, allowed
from sim.world.actions import Answer
from sim.world.device import Device, DeviceKind
from sim.world.params import (
    MAX_CAMPAIGNS_PER_DAY,
    CampaignParams,
    PermissionParams,
    PolicyParams,
    ProviderParams,
    WorldParams,
)


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


# -- devices and the world -----------------------------------------------------------------------


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
                    "browser", f"a web device needs a browser; allowed: {allowed(WEB_BROWSERS)}"
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
    #: days between an uninstall and the provider's first permanent error (docs/model.md §2)
    apns_lag_days: float = 9.0
    fcm_lag_days: float = 1.0

    def __post_init__(self) -> None:
        if self.ios_strategy not in ("prompt", "provisional"):
            raise StoryError("ios_strategy", "allowed: prompt, provisional")
        for name in ("apns_lag_days", "fcm_lag_days"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise StoryError(name, f"must be a finite number >= 0, got {value!r}")


# -- steps ---------------------------------------------------------------------------------------


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
    POISSON_CAMPAIGNS = "poisson_campaigns"
    PROBE = "probe"
    PRUNE = "prune"
    SET_SUBSCRIPTION = "set_subscription"
    ANSWER = "answer"


#: The token changes a ``rotate`` step may name.
ROTATE_CAUSES = (TokenDeath.APP_UPDATE, TokenDeath.OS_REINSTALL, TokenDeath.ROTATION)
#: The largest ``seed`` of a ``poisson_campaigns`` step: TOML integers are 64-bit.
MAX_SEED = 2**63 - 1

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
    StepKind.POISSON_CAMPAIGNS: (
        frozenset({"campaign", "rate_per_day", "until_day"}),
        frozenset({"foreground", "seed"}),
    ),
    StepKind.PROBE: (frozenset(), frozenset({"campaign"})),
    StepKind.PRUNE: (frozenset(), frozenset()),
    StepKind.SET_SUBSCRIPTION: (frozenset({"profile", "state"}), frozenset()),
    StepKind.ANSWER: (_D | {"status"}, frozenset({"reason", "timestamp_day", "times"})),
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
    "status",
    "reason",
    "timestamp_day",
    "times",
    "rate_per_day",
    "until_day",
    "seed",
)
#: Steps that send, and so name a campaign (a probe's default id is ``"probe"``).
SENDING_STEPS = (StepKind.CAMPAIGN, StepKind.POISSON_CAMPAIGNS, StepKind.PROBE)


def _check_day(day: float, name: str = "day") -> None:
    if isinstance(day, bool) or not isinstance(day, int | float):
        raise StoryError(name, f"must be a number of days, got {day!r}")
    if not (math.isfinite(day) and day >= 0):
        raise StoryError(name, f"must be a finite number >= 0, got {day!r}")


def _check_whole(value: int, name: str, low: int, high: int | None = None) -> None:
    top = f" and <= {high}" if high is not None else ""
    if isinstance(value, bool) or not isinstance(value, int):
        raise StoryError(name, f"must be a whole number >= {low}{top}, got {value!r}")
    if value < low or (high is not None and value > high):
        raise StoryError(name, f"must be a whole number >= {low}{top}, got {value!r}")


def _check_fields(
    owner: str, given: set[str], required: frozenset[str], optional: frozenset[str]
) -> None:
    for name in sorted(given - required - optional):
        fields = allowed(sorted(required | optional)) or "none"
        raise StoryError(name, f"does not apply to {owner}; its fields: {fields}")
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
    campaign: str | None = None  # campaign / poisson_campaigns / probe id (probe: "probe")
    foreground: bool | None = None  # campaign, poisson_campaigns: foreground (default) or not
    profile: str | None = None  # set_subscription: a user id or an anonymous profile id
    state: str | None = None  # set_subscription: subscribed, opted_in or unsubscribed
    status: int | None = None  # answer: the provider's status code
    reason: str | None = None  # answer: its reason (APNs, FCM; none for Web Push)
    timestamp_day: float | None = None  # answer: APNs 410 timestamp, the day since when invalid
    times: int | None = None  # answer: how many sends to the token get it (default 1)
    rate_per_day: float | None = None  # poisson_campaigns: mean campaigns a day
    until_day: float | None = None  # poisson_campaigns: the day the campaigns stop
    seed: int | None = None  # poisson_campaigns: the seed of the campaign times (default 0)
    note: str = ""

    def __post_init__(self) -> None:
        _check_day(self.day)
        try:
            kind = StepKind(self.do)
        except ValueError:
            raise StoryError(
                "do", f"unknown step {self.do!r}; allowed: {allowed(StepKind)}"
            ) from None
        object.__setattr__(self, "do", kind)
        try:
            if self.answer is not None:
                object.__setattr__(self, "answer", Answer(self.answer))
        except ValueError:
            raise StoryError("answer", f"allowed: {allowed(Answer)}") from None
        if self.cause is not None and self.cause not in ROTATE_CAUSES:
            raise StoryError("cause", f"allowed: {allowed(ROTATE_CAUSES)}")
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
            raise StoryError("state", f"allowed: {allowed(STATES)}")
        self._check_answer()
        self._check_poisson()

    def _check_answer(self) -> None:
        if self.status is not None:
            _check_whole(self.status, "status", 100, 599)
        if self.reason is not None and not isinstance(self.reason, str):
            raise StoryError("reason", f"must be a string, got {self.reason!r}")
        if self.times is not None:
            _check_whole(self.times, "times", 1)
        if self.timestamp_day is not None:
            _check_day(self.timestamp_day, "timestamp_day")
            if self.timestamp_day > self.day:
                raise StoryError(
                    "timestamp_day",
                    f"APNs' timestamp says since when the token is invalid: at most the step's "
                    f"day ({self.day:g}), got {self.timestamp_day:g}",
                )

    def _check_poisson(self) -> None:
        rate = self.rate_per_day
        if rate is not None:
            number = not isinstance(rate, bool) and isinstance(rate, int | float)
            if not (number and math.isfinite(rate) and 0 < rate <= MAX_CAMPAIGNS_PER_DAY):
                raise StoryError(
                    "rate_per_day",
                    f"must be a number > 0 and <= {MAX_CAMPAIGNS_PER_DAY:g} (hourly on average: a "
                    f"campaign walks the whole audience), got {rate!r}",
                )
        if self.until_day is not None:
            _check_day(self.until_day, "until_day")
            if self.until_day <= self.day:
                raise StoryError(
                    "until_day",
                    f"the campaigns run from the step's day ({self.day:g}) until this day: it "
                    f"must be later, got {self.until_day:g}",
                )
        if self.seed is not None:
            _check_whole(self.seed, "seed", 0, MAX_SEED)

    @property
    def sends(self) -> str | None:
        """The campaign id a sending step sends under (a probe's default: ``probe``), or None."""
        if self.do not in SENDING_STEPS:
            return None
        if self.campaign is None and self.do is StepKind.PROBE:
            return "probe"
        return self.campaign

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
        if self.status is not None:
            parts.append(f"{self.status} {self.reason}" if self.reason else str(self.status))
        if self.device is not None:
            parts.append(f"on {self.device}")
        extras = [
            f"{name}={getattr(self, name)}"
            for name in (
                "answer",
                "cause",
                "new_device",
                "restore",
                "foreground",
                "timestamp_day",
                "times",
                "rate_per_day",
                "until_day",
                "seed",
            )
            if getattr(self, name) is not None
        ]
        return " ".join(parts + extras)


def provider_answer(
    provider: Provider, status: int, reason: str = "", timestamp_day: float | None = None
) -> SendResult:
    """The provider answer an ``answer`` step scripts, as the sender receives it.

    Refuses (with :class:`StoryError` naming the key: ``status``, ``reason`` or
    ``timestamp_day``) an answer the classification table of docs/model.md §2
    (:data:`sim.providers.answers.CLASSIFICATION`) does not know for ``provider``, a 2xx (the
    provider model answers those itself), a reason on a Web Push answer (which carries none) and
    a timestamp on anything but an APNs 410.
    """
    if 200 <= status < 300:
        raise StoryError(
            "status",
            f"{status} accepts the send, which the provider model answers itself; an answer "
            f"step scripts an error: {_known_answers(provider)}",
        )
    if provider is Provider.WEBPUSH and reason:
        raise StoryError(
            "reason", f"Web Push answers carry no reason; give the status only, got {reason!r}"
        )
    if timestamp_day is not None and (provider is not Provider.APNS or status != 410):
        raise StoryError(
            "timestamp_day",
            f"only an APNs 410 carries a timestamp (this is {provider.value} {status})",
        )
    result = SendResult(provider, status, reason, timestamp=timestamp_day)
    try:
        classify(result)
    except UnclassifiedAnswerError:
        statuses = {s for p, s, _ in CLASSIFICATION if p is provider}
        key = "reason" if status in statuses else "status"
        raise StoryError(
            key,
            f"{provider.value} does not answer {status} {reason!r} (docs/model.md §2); "
            f"its answers: {_known_answers(provider)}",
        ) from None
    return result


def _known_answers(provider: Provider) -> str:
    found = [f"{s} {r}" if r else str(s) for p, s, r in CLASSIFICATION if p is provider]
    if provider is Provider.WEBPUSH:
        found.append("5xx")
    return allowed(found)


# -- expectations --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expectation:
    """At ``day``, ``check`` applied to its arguments must equal ``equals``.

    ``check`` names a row of :data:`~sim.story.checks.CHECKS`, which says which of ``device``,
    ``profile`` and ``campaign`` it takes and what kind of value ``equals`` is. When ``equals``
    is a table (the ``campaign`` check), only its keys are compared. ``rule`` is the one rule of
    docs/model.md §1 the expectation guards (one of its story's ``rules``): when it fails, it counts
    against that rule only; without one it counts against every rule of the story.
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
            raise StoryError("check", f"unknown check {self.check!r}; allowed: {allowed(CHECKS)}")
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


# -- the story -----------------------------------------------------------------------------------


def sent_campaigns(steps: Iterable[Step]) -> list[tuple[int, str]]:
    """(step index, campaign id) of every step that sends, in order."""
    return [(i, step.sends) for i, step in enumerate(steps) if step.sends is not None]


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
        kinds: dict[str, DeviceKind] = {}
        for i, spec in enumerate(self.devices):
            if spec.id in kinds:
                raise StoryError(f"devices[{i}].id", f"device {spec.id!r} is declared twice")
            kinds[spec.id] = spec.kind
        declared = set(kinds)
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
                if step.device in kinds:  # a replacement is the same kind of device
                    kinds[step.new_device] = kinds[step.device]
        known = declared | created
        for i, step in enumerate(self.steps):
            if step.device is not None and step.device not in known:
                raise StoryError(
                    f"steps[{i}].device",
                    f"unknown device {step.device!r}; devices: {allowed(sorted(known))}",
                )
            if step.do is StepKind.PRUNE and self.policy.prune_after_days is None:
                raise StoryError(
                    f"steps[{i}].do", "prune needs [policy] prune_after_days (pruning is off)"
                )
            if step.do is StepKind.ANSWER and step.device in kinds:
                assert step.status is not None
                provider = PROVIDER_OF[kinds[step.device].platform]
                try:
                    provider_answer(provider, step.status, step.reason or "", step.timestamp_day)
                except StoryError as error:
                    raise error.within(f"steps[{i}]") from None
        self._check_campaign_ids()
        for i, expectation in enumerate(self.expectations):
            if expectation.device is not None and expectation.device not in known:
                raise StoryError(
                    f"expect[{i}].device",
                    f"unknown device {expectation.device!r}; devices: {allowed(sorted(known))}",
                )
            if expectation.rule is not None and expectation.rule not in self.rules:
                listed = allowed(self.rules) or "none"
                raise StoryError(
                    f"expect[{i}].rule",
                    f"rule {expectation.rule!r} is not one of the story's rules ({listed}): "
                    "add it to [story] rules, or name one of those",
                )

    def _check_campaign_ids(self) -> None:
        """Two steps must not send under one campaign id: a ``campaign`` check reads one."""
        first: dict[str, int] = {}
        for i, name in sent_campaigns(self.steps):
            if name in first:
                raise StoryError(
                    f"steps[{i}].campaign",
                    f"campaign id {name!r} is already sent by steps[{first[name]}]; give each "
                    "campaign, probe or poisson_campaigns step its own id (a 'campaign' check "
                    "reads one)",
                )
            first[name] = i

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
