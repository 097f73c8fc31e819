"""Stories: scripted, deterministic timelines of edge cases, and the runner that checks them.

A :class:`Story` is a handful of devices, a list of :class:`Step` (what people do, and when) and a
list of :class:`Expectation` (what must hold, and when). :func:`run_story` plays the steps through
the real world — the same :class:`~sim.world.actions.Actions`, SDK flush delay, providers, sender
and registry as a stochastic run — with no randomness (provider lags at the low end of their
window, no transient errors), then returns a :class:`StoryReport` with one
:class:`ExpectationResult` per expectation.

Nothing happens that a story does not say: no automatic campaigns, no nightly uninstall-tracking
probes, no nightly pruning — ``campaign``, ``poisson_campaigns``, ``probe`` and ``prune`` steps
send and prune at their time, and an ``answer`` step scripts a provider's answer to a device's
token. Steps and expectations run as SimPy callbacks at their day; at an equal day every step runs
before any expectation, each in the order given. The SDK flushes registry calls
``sdk_flush_delay_days`` (10 s) after the device acts, so an expectation about a step's effect on
the registry is placed a little after the step (``day = 1.01`` for a step at ``day = 1.0``).

The package, one concern a module:

- :mod:`sim.story.model` — what a story is, validated on construction (:class:`StoryError`
  names the key path): :class:`DeviceSpec`, :class:`WorldOptions`, :class:`Step` and its verbs
  (:class:`StepKind`, :data:`STEP_FIELDS`), :class:`Expectation`, :class:`Story`;
- :mod:`sim.story.steps` — what each verb does (:data:`STEP_ACTIONS`);
- :mod:`sim.story.checks` — what each check reads and how values compare (:data:`CHECKS`);
- :mod:`sim.story.runner` — the story's world (:class:`StoryWorld`), :func:`run_story` and the
  report.

Verbs and checks are tables: adding one is adding a row. The package does no file I/O:
:mod:`sim.scenario.story_file` reads stories from TOML (``load_story``, ``parse_story``).

A story runs against the reference registry unless :func:`run_story` is given another model
(``model="subscriptions"``, ``"package.module:factory"``…, as in ``[registry] model``): that is how
``pushsim conform`` plays every story against an implementation. Such a model runs behind
:class:`~sim.models.GuardedRegistry`; when it raises, the story stops there and every
expectation not yet checked fails with the :class:`~sim.models.RegistryFailure` message.
"""

from sim.story.checks import (
    CAMPAIGN_COUNTS,
    CHECK_ARGS,
    CHECKS,
    EVENT_CHANGES,
    EVENT_SHOWN,
    EXPORT_KEYS,
    EXPORT_TOKEN_KEYS,
    LIVE,
    NOBODY,
    NONE,
    STALE_CAUSES,
    STATES,
    Check,
    Expects,
    Value,
    describe_event,
    evaluate,
)
from sim.story.model import (
    ROTATE_CAUSES,
    STEP_FIELDS,
    WEB_BROWSERS,
    DeviceSpec,
    Expectation,
    Step,
    StepKind,
    Story,
    StoryError,
    WorldOptions,
    provider_answer,
    sent_campaigns,
)
from sim.story.runner import ExpectationResult, StoryReport, StoryWorld, run_story, story_registry
from sim.story.steps import STEP_ACTIONS, ScriptedAnswers

__all__ = [
    "CAMPAIGN_COUNTS",
    "CHECKS",
    "CHECK_ARGS",
    "EVENT_CHANGES",
    "EVENT_SHOWN",
    "EXPORT_KEYS",
    "EXPORT_TOKEN_KEYS",
    "LIVE",
    "NOBODY",
    "NONE",
    "ROTATE_CAUSES",
    "STALE_CAUSES",
    "STATES",
    "STEP_ACTIONS",
    "STEP_FIELDS",
    "WEB_BROWSERS",
    "Check",
    "DeviceSpec",
    "Expectation",
    "ExpectationResult",
    "Expects",
    "ScriptedAnswers",
    "Step",
    "StepKind",
    "Story",
    "StoryError",
    "StoryReport",
    "StoryWorld",
    "Value",
    "WorldOptions",
    "describe_event",
    "evaluate",
    "provider_answer",
    "run_story",
    "sent_campaigns",
    "story_registry",
]
