"""Playing a story: its deterministic world (:class:`StoryWorld`), :func:`run_story`, the report.

:func:`run_story` builds the story's world, schedules every step and expectation as a SimPy
callback at its day (at an equal day the steps first, then the expectations, each in the order
given), runs the world to a day after the last of them and returns a :class:`StoryReport` with
one :class:`ExpectationResult` per expectation — and one per step the world could not play.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sim.models import GuardedRegistry, RegistryFailure, build_registry
from sim.providers import ProviderError
from sim.registry import RegistryError, TokenEvent
from sim.registry.protocol import RegistryProtocol
from sim.story.checks import CAMPAIGN_COUNTS, NOBODY, Value, describe_event, evaluate, same
from sim.story.model import Expectation, Step, Story
from sim.story.steps import STEP_ACTIONS, ScriptedAnswers
from sim.world.actions import WorldError
from sim.world.device import Device
from sim.world.signals import Outcome, SendRecord, TruthEvent
from sim.world.world import World

#: outcomes of a push someone saw: the ``shown_to`` list of a campaign check records who
SHOWN = (Outcome.DISPLAYED, Outcome.SHOWN_TO_OTHER_USER, Outcome.SHOWN_TO_NOBODY)

# -- the runner's view of a world ----------------------------------------------------------------


class StoryWorld:
    """A deterministic world for one story, and what the checks read from it."""

    def __init__(self, story: Story, registry: RegistryProtocol | None = None) -> None:
        self.story = story
        self.world: World = World(story.world_params(), seed=0, random=False, registry=registry)
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
        #: provider answers ``answer`` steps scripted; the sender asks them before the model
        self.answers = ScriptedAnswers()
        self.world.sender.answer_script = self.answers
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
        if record.outcome in SHOWN:
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
                    mark = "  " if same(got, value) else "≠ "
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
            ctx.world.settle(env.now)  # a deferred call the registry refuses stops the world
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
            if not stopped:
                ctx.world.settle(env.now)  # as for a step
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
