"""Story files: TOML timelines of edge cases, read and validated into stories.

A story file (``scenarios/stories/*.toml``) starts with a comment that names the edge case and the
rule it guards, then::

    # Charlie and Kim (source document, R2/R3): ...
    [story]
    name = "Charlie and Kim share a phone"
    rules = ["R2", "R3"]
    description = "..."             # optional

    [policy]                        # optional: RegistryPolicy fields
    detach_on_logout = false        # refresh_on_session_start, detach_on_logout,
                                    # prune_after_days, honour_apns_timestamp

    [world]                         # optional
    uninstall_tracking = false      # the app has uninstall tracking (probe steps, R7)
    ios_strategy = "prompt"         # or "provisional"
    apns_lag_days = 9.0             # uninstall → first 410 (docs/model.md §2: 9–11 days)
    fcm_lag_days = 1.0              # uninstall → first 404 (docs/model.md §2: 1–2 days)

    [[devices]]
    id = "charlie_phone"            # no dots: install ids are "charlie_phone.1", ".2"…
    kind = "ios"                    # ios | android_legacy | android_13 | web
    owner = "charlie"
    sharers = ["kim"]               # optional: the others who use it
    browser = ""                    # web only: "chrome", "firefox" or "safari"

    [[steps]]
    day = 0.0
    do = "install"
    device = "charlie_phone"

    [[expect]]
    day = 1.01                      # SDK calls reach the registry 10 s after the step
    check = "token_owner"
    device = "charlie_phone"
    equals = "kim"
    rule = "R2"                     # the rule it guards, one of [story] rules
    note = "Kim's login moved the token (R2)"   # optional, shown when it fails

Steps (``do``) and the keys each takes besides ``day`` (and an optional ``note``):
``install``, ``reinstall`` (install again after an uninstall), ``logout``, ``permission_off``,
``permission_on``, ``uninstall``: ``device``; ``launch``, ``session``: ``device`` and optionally
``answer`` (``grant``, ``deny``, ``dismiss``: the answer to a permission prompt shown now);
``login``: ``device``, ``user``; ``rotate``: ``device``, ``cause`` (``app_update``,
``os_reinstall``, ``rotation``); ``replace``: ``device``, ``new_device`` and optionally ``restore``
(default false); ``campaign``: ``campaign`` (its id) and optionally ``foreground`` (default true);
``probe``: optionally ``campaign`` (default ``"probe"``); ``prune`` (needs
``[policy] prune_after_days``); ``set_subscription``: ``profile``, ``state`` (``subscribed``,
``opted_in``, ``unsubscribed``; a REST call, made at once); ``poisson_campaigns``: ``campaign``
(the id all its campaigns count under), ``rate_per_day``, ``until_day`` and optionally
``foreground`` and ``seed`` (default 0); ``answer``: ``device``, ``status`` and optionally
``reason``, ``timestamp_day`` (APNs 410 only) and ``times`` (default 1): the next sends to the
device's last token get that provider answer. Nothing happens unless a step says so: no automatic
campaigns, probes or pruning.

Checks (``check``), their keys and the kind of ``equals``: see :data:`sim.story.CHECKS` and
``scenarios/stories/README.md``. Profiles are user ids or anonymous ids
``"anon:<device>.<install number>:app"``.

Every table forbids unknown keys, so a typo is an error. ``rules`` names rules of docs/model.md §1
(``R1`` … ``R14``); an expectation's ``rule`` names the one it guards, which must be one of the
story's ``rules`` (``pushsim conform`` counts its failure against that rule only; an expectation
without one counts against every rule of the story). A ``campaign`` expectation must name a
campaign a ``campaign``, ``poisson_campaigns`` or ``probe`` step sends (else it could only ever
check zeros), and no two such steps may send under one id. Any
problem raises one :class:`~sim.scenario.errors.ScenarioError` naming the file, the key path
(``steps[3].do``) and what is allowed there. The story's name is free text: it is shown, never
used as a file name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationError,
)

from sim.providers import TokenDeath
from sim.registry import RegistryPolicy
from sim.scenario import library
from sim.scenario.errors import ScenarioError
from sim.scenario.validation import parse_toml, problems, read_text
from sim.story.model import (
    MAX_SEED,
    DeviceSpec,
    Expectation,
    Step,
    StepKind,
    Story,
    StoryError,
    WorldOptions,
    sent_campaigns,
)
from sim.world.actions import Answer
from sim.world.device import DeviceKind
from sim.world.params import MAX_CAMPAIGNS_PER_DAY, MAX_DAYS

#: The stories shipped with pushsim (sim.scenario.library: the wheel's, or a checkout's).
STORIES_DIR = library.STORIES_DIR

#: a day of the story, or a duration in days: at most a century, as in scenarios (MAX_DAYS)
Day = Annotated[float, Field(ge=0, le=MAX_DAYS, allow_inf_nan=False, strict=True)]
Id = Annotated[StrictStr, Field(min_length=1)]
RotateCause = Literal["app_update", "os_reinstall", "rotation"]
#: The registration rules of docs/model.md §1 a story may say it guards.
RULES = tuple(f"R{number}" for number in range(1, 15))


def _known_rule(rule: str) -> str:
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; rules are R1 to R14 (docs/model.md §1)")
    return rule


Rule = Annotated[StrictStr, AfterValidator(_known_rule)]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoryTable(_Table):
    """``[story]``."""

    name: Id
    rules: list[Rule] = []
    description: StrictStr = ""


class PolicyTable(_Table):
    """``[policy]``: the :class:`~sim.registry.RegistryPolicy` fields to override."""

    refresh_on_session_start: StrictBool | None = None
    detach_on_logout: StrictBool | None = None
    prune_after_days: (
        Annotated[float, Field(gt=0, le=MAX_DAYS, allow_inf_nan=False, strict=True)] | None
    ) = None
    honour_apns_timestamp: StrictBool | None = None

    def policy(self) -> RegistryPolicy:
        """The registry policy: defaults, with the keys given here."""
        return RegistryPolicy(**self.model_dump(exclude_none=True))


class WorldTable(_Table):
    """``[world]``."""

    uninstall_tracking: StrictBool = False
    ios_strategy: Literal["prompt", "provisional"] = "prompt"
    apns_lag_days: Day = 9.0
    fcm_lag_days: Day = 1.0


class DeviceTable(_Table):
    """``[[devices]]``."""

    id: Id
    kind: DeviceKind
    owner: Id
    sharers: list[Id] = []
    browser: Literal["", "chrome", "firefox", "safari"] = ""


class StepTable(_Table):
    """``[[steps]]``: which keys each ``do`` takes is checked by :class:`~sim.story.Step`."""

    day: Day
    do: StepKind
    device: Id | None = None
    answer: Answer | None = None
    user: Id | None = None
    cause: RotateCause | None = None
    new_device: Id | None = None
    restore: StrictBool | None = None
    campaign: Id | None = None
    foreground: StrictBool | None = None
    profile: Id | None = None
    state: Literal["subscribed", "opted_in", "unsubscribed"] | None = None
    status: Annotated[int, Field(ge=100, le=599, strict=True)] | None = None
    reason: StrictStr | None = None
    timestamp_day: Day | None = None
    times: Annotated[int, Field(ge=1, strict=True)] | None = None
    rate_per_day: (
        Annotated[float, Field(gt=0, le=MAX_CAMPAIGNS_PER_DAY, allow_inf_nan=False, strict=True)]
        | None
    ) = None
    until_day: Day | None = None
    seed: Annotated[int, Field(ge=0, le=MAX_SEED, strict=True)] | None = None
    note: StrictStr = ""


class ExpectTable(_Table):
    """``[[expect]]``: check, keys and ``equals`` are checked by ``Expectation``."""

    day: Day
    check: Id
    device: Id | None = None
    profile: Id | None = None
    campaign: Id | None = None
    equals: Any
    note: StrictStr = ""
    rule: Rule | None = None


class StoryFile(_Table):
    """A whole story file."""

    story: StoryTable
    policy: PolicyTable = PolicyTable()
    world: WorldTable = WorldTable()
    devices: list[DeviceTable] = Field(min_length=1)
    steps: list[StepTable] = []
    expect: list[ExpectTable] = Field(min_length=1)


# -- loading -----------------------------------------------------------------------------------


def _build(data: StoryFile) -> Story:
    def within(prefix: str, build: Any) -> Any:
        try:
            return build()
        except StoryError as error:
            raise error.within(prefix) from None

    devices = tuple(
        within(
            f"devices[{i}]",
            lambda d=d: DeviceSpec(d.id, d.kind, d.owner, tuple(d.sharers), d.browser),
        )
        for i, d in enumerate(data.devices)
    )
    steps = tuple(
        within(
            f"steps[{i}]",
            lambda s=s: Step(
                day=s.day,
                do=s.do,
                device=s.device,
                answer=s.answer,
                user=s.user,
                cause=TokenDeath(s.cause) if s.cause is not None else None,
                new_device=s.new_device,
                restore=s.restore,
                campaign=s.campaign,
                foreground=s.foreground,
                profile=s.profile,
                state=s.state,
                status=s.status,
                reason=s.reason,
                timestamp_day=s.timestamp_day,
                times=s.times,
                rate_per_day=s.rate_per_day,
                until_day=s.until_day,
                seed=s.seed,
                note=s.note,
            ),
        )
        for i, s in enumerate(data.steps)
    )
    expectations = tuple(
        within(
            f"expect[{i}]",
            lambda e=e: Expectation(
                day=e.day,
                check=e.check,
                equals=e.equals,
                device=e.device,
                profile=e.profile,
                campaign=e.campaign,
                note=e.note,
                rule=e.rule,
            ),
        )
        for i, e in enumerate(data.expect)
    )
    _check_campaigns_sent(steps, expectations)
    w = data.world
    world = within(
        "world",
        lambda: WorldOptions(w.uninstall_tracking, w.ios_strategy, w.apns_lag_days, w.fcm_lag_days),
    )
    return Story(
        name=data.story.name,
        devices=devices,
        steps=steps,
        expectations=expectations,
        rules=tuple(data.story.rules),
        description=data.story.description,
        policy=within("policy", data.policy.policy),
        world=world,
    )


def _check_campaigns_sent(steps: tuple[Step, ...], expectations: tuple[Expectation, ...]) -> None:
    """Every ``campaign`` expectation names a campaign or probe that some step sends."""
    sent = [name for _, name in sent_campaigns(steps)]
    for i, expectation in enumerate(expectations):
        name = expectation.campaign
        if expectation.check == "campaign" and name is not None and name not in sent:
            listed = ", ".join(dict.fromkeys(sent)) or "none"
            raise StoryError(
                f"expect[{i}].campaign",
                f"no step sends campaign {name!r}; campaigns the steps send: {listed} "
                "(a 'campaign' or 'poisson_campaigns' step, or a 'probe' step, default id "
                "'probe')",
            )


def parse_story(text: str, source: str = "<story>") -> Story:
    """Parse and validate the TOML ``text`` of a story; ``source`` names it in errors."""
    raw = parse_toml(text, source)
    try:
        data = StoryFile.model_validate(raw)
    except ValidationError as error:
        raise ScenarioError(source, problems(StoryFile, error)) from None
    try:
        return _build(data)
    except (StoryError, ValueError) as error:
        path = error.path if isinstance(error, StoryError) else ""
        message = error.message if isinstance(error, StoryError) else str(error)
        raise ScenarioError(source, [(path, message)]) from None


def load_story(path: str | Path) -> Story:
    """Read, parse and validate the story file at ``path``."""
    return parse_story(read_text(path), str(path))


def story_files(directory: str | Path = STORIES_DIR) -> list[Path]:
    """The story files (``*.toml``) of ``directory``, sorted by name."""
    return sorted(Path(directory).glob("*.toml"))
