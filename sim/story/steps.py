"""What each step does to the story's world (``do``): the table :data:`STEP_ACTIONS`.

A step acts through the world's own parts — :class:`~sim.world.actions.Actions` for what people
and devices do, the :class:`~sim.world.campaigns.Sender` for campaigns and probes, the registry
for pruning and REST calls — exactly as a stochastic run does. An impossible step raises
:class:`~sim.world.actions.WorldError` (or a registry or provider error), which the runner reports
as a failed result naming the step.

An ``answer`` step scripts the provider's next answers to a token (:class:`ScriptedAnswers`); the
provider models stay pure: the sender asks the script first and the model only when the script
has nothing for the token.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.platforms import PROVIDER_OF
from sim.providers import SendResult
from sim.registry import SubscriptionState
from sim.story.model import Step, StepKind, provider_answer
from sim.world.actions import WorldError
from sim.world.campaigns import poisson_gap
from sim.world.device import Device

if TYPE_CHECKING:
    from sim.story.runner import StoryWorld


class ScriptedAnswers:
    """Provider answers scripted per token: the next sends to a token get them, in order.

    Called by the sender with a token before it asks the provider model (see
    :attr:`sim.world.campaigns.Sender.answer_script`): returns the scripted answer and uses one
    of its ``times``, or None when nothing is scripted for the token (the model answers).
    """

    __slots__ = ("_queues",)

    def __init__(self) -> None:
        #: per token: [answer, sends left] entries, the first one used first
        self._queues: dict[str, deque[list[Any]]] = {}

    def add(self, token: str, answer: SendResult, times: int) -> None:
        """The next ``times`` sends to ``token`` (after any already scripted) get ``answer``."""
        self._queues.setdefault(token, deque()).append([answer, times])

    def pending(self, token: str) -> int:
        """How many sends to ``token`` are still scripted."""
        return sum(int(left) for _, left in self._queues.get(token, ()))

    def __call__(self, token: str) -> SendResult | None:
        queue = self._queues.get(token)
        if not queue:
            return None
        entry = queue[0]
        entry[1] -= 1
        if entry[1] <= 0:
            queue.popleft()
        answer: SendResult = entry[0]
        return answer


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


def send_campaign(ctx: StoryWorld, campaign: str, foreground: bool) -> None:
    """One campaign now to the default audience (R9), its sends counted under ``campaign``."""
    sent = ctx.world.sender.campaign(campaign, foreground=foreground)
    ctx.campaign_counts(campaign)["targeted"] += sent


def _campaign(ctx: StoryWorld, step: Step) -> None:
    assert step.campaign is not None
    send_campaign(ctx, step.campaign, True if step.foreground is None else step.foreground)


def _poisson_campaigns(ctx: StoryWorld, step: Step) -> None:
    assert step.campaign is not None and step.rate_per_day is not None
    assert step.until_day is not None
    seed = step.seed if step.seed is not None else 0
    rng = np.random.Generator(np.random.PCG64(seed))
    foreground = True if step.foreground is None else step.foreground
    ctx.world.env.process(
        _poisson(ctx, step.campaign, step.rate_per_day, step.until_day, foreground, rng)
    )


def _poisson(
    ctx: StoryWorld,
    campaign: str,
    rate_per_day: float,
    until_day: float,
    foreground: bool,
    rng: np.random.Generator,
) -> Generator[Any, Any, None]:
    """SimPy process: campaigns at the times of a Poisson process, until ``until_day``.

    The gaps are those of a scenario's ``campaigns.schedule = "poisson"``
    (:func:`~sim.world.campaigns.poisson_gap`), drawn from the step's own seeded generator.
    """
    env = ctx.world.env
    while True:
        gap = poisson_gap(rng, rate_per_day)
        if env.now + gap > until_day:
            return
        yield env.timeout(gap)
        send_campaign(ctx, campaign, foreground)


def _probe(ctx: StoryWorld, step: Step) -> None:
    campaign = step.campaign if step.campaign is not None else "probe"
    sent = ctx.world.sender.probe(campaign)
    ctx.campaign_counts(campaign)["targeted"] += sent


def _answer(ctx: StoryWorld, step: Step) -> None:
    device = _dev(ctx, step)
    token = ctx.last_token.get(device.device_id)
    if token is None:
        raise WorldError(
            f"{device.device_id} has no token yet: an answer is scripted for the last token "
            "the provider issued to the device"
        )
    assert step.status is not None
    answer = provider_answer(
        PROVIDER_OF[device.platform], step.status, step.reason or "", step.timestamp_day
    )
    ctx.answers.add(token, answer, step.times if step.times is not None else 1)


StepAction = Callable[["StoryWorld", Step], object]

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
    StepKind.POISSON_CAMPAIGNS: _poisson_campaigns,
    StepKind.PROBE: _probe,
    StepKind.PRUNE: lambda c, s: c.world.registry.prune_inactive(c.now),
    # a REST call (or the SDK's own setter), made at once: not through the SDK's flush
    StepKind.SET_SUBSCRIPTION: lambda c, s: c.world.registry.set_subscription(
        c.now, str(s.profile), SubscriptionState(str(s.state))
    ),
    StepKind.ANSWER: _answer,
}
