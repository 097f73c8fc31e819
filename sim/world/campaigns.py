"""Sending: campaigns, uninstall-tracking probes and retries, through the provider models.

A campaign is one SimPy event over its whole audience (no event per send); only retries of
transient answers get events of their own. Every answer goes to the registry (which may remove the
token) and, for accepted sends, is compared with the ground truth: shown to the target, shown to
another logged-in user, shown on a device where nobody is logged in, or silently dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import simpy

from sim.platforms import PROVIDER_OF, Platform, Provider
from sim.providers import Action, BackoffPolicy, PushService, SendResult
from sim.providers.answers import classify
from sim.providers.config import RandomSource
from sim.registry.protocol import RegistryProtocol
from sim.world.device import ANONYMOUS, Device
from sim.world.signals import Outcome, SendRecord, Signals

# Read on every send; a member read off its enum class goes through EnumType's slow attribute
# hook on Python 3.11.
_DELIVERED, _RETRY = Action.DELIVERED, Action.RETRY
_DISPLAYED, _DROPPED = Outcome.DISPLAYED, Outcome.DROPPED
_OTHER_USER, _NOBODY = Outcome.SHOWN_TO_OTHER_USER, Outcome.SHOWN_TO_NOBODY
_BACKGROUND = Outcome.DELIVERED_BACKGROUND

#: A script of provider answers: the answer for a send to a token, or None to ask the provider
#: model. Stories script answers this way (an APNs 410 with an old timestamp, a 429); the models
#: stay pure.
AnswerScript = Callable[[str], SendResult | None]

_FINAL = {
    Action.REMOVE: Outcome.BOUNCED,
    Action.FLAG_CONFIG: Outcome.FLAGGED,
    Action.FLAG_PAYLOAD: Outcome.FLAGGED,
}


class Sender:
    """Sends pushes to registry tokens and reports each answer and its true outcome."""

    def __init__(
        self,
        env: simpy.Environment,
        *,
        app: str,
        registry: RegistryProtocol,
        providers: dict[Provider, PushService],
        installs: dict[str, Device],
        signals: Signals,
        backoff: BackoffPolicy | None = None,
        provider_rng: RandomSource | None = None,
        retry_rng: RandomSource | None = None,
        settle: Callable[[float], None] | None = None,
    ) -> None:
        self.env = env
        #: reports what the devices did up to a send before it (the world's ``settle``)
        self.settle = settle
        self.app = app
        self.registry = registry
        self.providers = providers
        self.installs = installs
        self.signals = signals
        self.backoff = backoff if backoff is not None else BackoffPolicy()
        self.provider_rng = provider_rng
        self.retry_rng = retry_rng
        #: sends waiting for a retry
        self.pending = 0
        #: asked before the provider model at every send (None: the model answers every send)
        self.answer_script: AnswerScript | None = None
        self.campaigns_sent = 0

    def campaign(self, campaign_id: str, *, foreground: bool = True) -> int:
        """Send one campaign now to the default audience (R9); returns the number targeted."""
        self._settle()
        records = self.registry.campaign_tokens(self.app, foreground_only=foreground)
        self.campaigns_sent += 1
        if self.answer_script is not None:
            for record in records:
                self._attempt(
                    campaign_id,
                    record.token,
                    record.device,
                    record.platform,
                    record.profile,
                    foreground,
                    0,
                )
            return len(records)
        # What _attempt does for each first attempt, in one loop with everything it reads bound
        # once per campaign: this runs for every send (a quarter of a million a year in a
        # 10,000-device world). The time stands still during a campaign (no event runs), the
        # provider answers and tells the ground truth in one look-up (send_with_truth), and an
        # accepted answer is concluded here; every other answer goes to _conclude, as in _attempt.
        now = self.env.now
        app = self.app
        rng = self.provider_rng
        handle_response = self.registry.handle_response
        find_device = self.installs.get
        services: dict[Platform, PushService] = {}
        for record in records:
            token = record.token
            platform = record.platform
            install_id = record.device
            target = record.profile
            service = services.get(platform)
            if service is None:
                service = services[platform] = self.providers[PROVIDER_OF[platform]]
            result, reaches = service.send_with_truth(now, token, app, rng=rng)
            handle_response(now, token, result)
            if not 200 <= result.status < 300:  # not accepted: classify(result) is not DELIVERED
                self._conclude(
                    now, campaign_id, token, install_id, platform, target, foreground, 0, result
                )
                continue
            # _truth, with the provider's ground truth already known (reaches)
            device = find_device(install_id)
            if device is None or not reaches or not device.installed or device.token != token:
                outcome, shown_to = _DROPPED, None
            else:
                outcome, shown_to = _shown(device, target, foreground)
            self._record(
                now,
                campaign_id,
                token,
                platform,
                target,
                0,
                result,
                outcome,
                shown_to,
                install_id,
            )
        return len(records)

    def probe(self, campaign_id: str) -> int:
        """Uninstall tracking: a background push to tokens quiet for 24 h (R7)."""
        self._settle()
        tokens = self.registry.probe_targets(self.env.now, self.app)
        for token in tokens:
            record = self.registry.token(token)
            assert record is not None
            self._attempt(
                campaign_id, token, record.device, record.platform, record.profile, False, 0
            )
        return len(tokens)

    def _settle(self) -> None:
        if self.settle is not None:
            self.settle(self.env.now)

    def _attempt(
        self,
        campaign_id: str,
        token: str,
        install_id: str,
        platform: Platform,
        target: str,
        foreground: bool,
        attempt: int,
    ) -> None:
        now = self.env.now
        service = self.providers[PROVIDER_OF[platform]]
        script = self.answer_script
        scripted = script(token) if script is not None else None
        result = (
            scripted
            if scripted is not None
            else service.send(now, token, self.app, rng=self.provider_rng)
        )
        # the registry acts on the answer (its return value is its own business); what the sender
        # does next is the provider table's verdict (retry, or compare with the truth)
        self.registry.handle_response(now, token, result)
        if classify(result) is not _DELIVERED:
            self._conclude(
                now, campaign_id, token, install_id, platform, target, foreground, attempt, result
            )
            return
        outcome, shown_to = self._truth(service, token, install_id, target, foreground)
        self._record(
            now,
            campaign_id,
            token,
            platform,
            target,
            attempt,
            result,
            outcome,
            shown_to,
            install_id,
        )

    def _conclude(
        self,
        now: float,
        campaign_id: str,
        token: str,
        install_id: str,
        platform: Platform,
        target: str,
        foreground: bool,
        attempt: int,
        result: SendResult,
    ) -> None:
        """After an answer other than accepted: schedule a retry, or record the final outcome."""
        action = classify(result)
        outcome: Outcome | None
        if action is _RETRY:
            if self.backoff.should_retry(attempt):
                jitter = self.retry_rng.random() if self.retry_rng is not None else 0.0
                delay = self.backoff.delay(attempt, result, jitter)
                self.pending += 1

                def retry(_event: Any) -> None:
                    self.pending -= 1
                    self._settle()
                    self._attempt(
                        campaign_id, token, install_id, platform, target, foreground, attempt + 1
                    )

                self.env.timeout(delay).callbacks.append(retry)
                outcome = None
            else:
                outcome = Outcome.GAVE_UP
        else:
            outcome = _FINAL[action]
        self._record(
            now, campaign_id, token, platform, target, attempt, result, outcome, None, install_id
        )

    def _record(
        self,
        now: float,
        campaign_id: str,
        token: str,
        platform: Platform,
        target: str,
        attempt: int,
        result: SendResult,
        outcome: Outcome | None,
        shown_to: str | None,
        install_id: str,
    ) -> None:
        """Tell the send's listeners of one answer (nothing is built when nobody listens)."""
        if self.signals.send:
            self.signals.emit_send(
                SendRecord(
                    now,
                    campaign_id,
                    token,
                    platform,
                    target,
                    attempt,
                    result.status,
                    result.reason,
                    outcome,
                    shown_to,
                    install_id,
                )
            )

    def _truth(
        self, service: PushService, token: str, install_id: str, target: str, foreground: bool
    ) -> tuple[Outcome, str | None]:
        """What really happened to an accepted send, and who saw it (see :func:`_shown`).

        Dropped when the install is gone, holds another token, or the token no longer delivers.
        """
        device = self.installs.get(install_id)
        if (
            device is None
            or not device.installed
            or device.token != token
            or not service.delivers(self.env.now, token)
        ):
            return _DROPPED, None
        return _shown(device, target, foreground)


def _shown(device: Device, target: str, foreground: bool) -> tuple[Outcome, str | None]:
    """The outcome of a push that reached the app's install on ``device``, and who saw it.

    Shown to the device's user: the target (displayed), another logged-in profile, or nobody
    logged in — after a logout (``user`` None), or in an anonymous session before anyone logged in
    (an ``anon:`` profile other than the target).
    """
    if not foreground:
        return _BACKGROUND, None
    if not device.shows_notifications:
        return _DROPPED, None
    user = device.user
    if user == target:
        return _DISPLAYED, user
    if user is None or user.startswith(ANONYMOUS):
        return _NOBODY, user
    return _OTHER_USER, user


def poisson_gap(rng: np.random.Generator, rate_per_day: float) -> float:
    """Days to the next campaign of a Poisson schedule of ``rate_per_day``: one exponential draw."""
    return float(rng.exponential(1.0 / rate_per_day))


def campaign_schedule(
    env: simpy.Environment,
    sender: Sender,
    *,
    first_day: float,
    every_days: float = 0.0,
    foreground: bool,
    schedule: Literal["periodic", "poisson"] = "periodic",
    rate_per_day: float = 0.0,
    rng: np.random.Generator | None = None,
) -> Any:
    """SimPy process: the campaigns of a schedule, ``c0001``, ``c0002``… from ``first_day``.

    ``periodic``: a campaign every ``every_days`` (none when 0), the first at ``first_day``.
    ``poisson``: campaigns at the times of a Poisson process of ``rate_per_day`` (none when 0),
    each gap an exponential draw from ``rng`` (:func:`poisson_gap`), the first a gap after
    ``first_day``; the number of campaigns in ``D`` days is Poisson with mean ``rate_per_day * D``.
    """
    if schedule == "poisson":
        if rate_per_day <= 0:
            return
        if rng is None:
            raise ValueError("a poisson campaign schedule needs a random generator (rng)")
        yield env.timeout(max(0.0, first_day - env.now))
        number = 0
        while True:
            yield env.timeout(poisson_gap(rng, rate_per_day))
            number += 1
            sender.campaign(f"c{number:04d}", foreground=foreground)
    if every_days <= 0:
        return
    yield env.timeout(max(0.0, first_day - env.now))
    number = 0
    while True:
        number += 1
        sender.campaign(f"c{number:04d}", foreground=foreground)
        yield env.timeout(every_days)


def nightly(env: simpy.Environment, time_of_day: float, job: Any) -> Any:
    """SimPy process: call ``job(day)`` every day at ``time_of_day``."""
    day = int(env.now)
    if env.now > day + time_of_day:
        day += 1
    while True:
        yield env.timeout(day + time_of_day - env.now)
        job(day)
        day += 1
