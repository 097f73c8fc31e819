"""Listeners attached to a world while it runs, for the figures no result table gives.

Each reads only what the world tells its observers (truth events, session starts, send records)
and the providers' public answers; none changes the world. Attach them before the world runs.

- :class:`TokenClock`: when each token was issued, and when it last connected (its issue, or a
  session on its device while it was the device's token) — the provider's inactivity clock, as
  the world saw it;
- :class:`WebDelivery`: campaign sends to web subscriptions by the subscription's age: shown in
  the browser ÷ answered 2xx (Pushpad 2018's delivery);
- :class:`InactivityRule`: for one provider, whether tokens past the inactivity limit are refused,
  and the shortest inactivity at which a token died of inactivity;
- :class:`Lives`: day-30 retention and the time from the last open to the uninstall.
"""

from __future__ import annotations

import math
from collections import defaultdict

from sim.platforms import PROVIDER_OF, Provider
from sim.providers import PushService, TokenDeath
from sim.world.device import Device
from sim.world.signals import Outcome, SendRecord, Truth, TruthEvent
from sim.world.world import World

#: a probe (uninstall tracking, R7) is not a campaign: its id starts so
PROBE_PREFIX = "probe"
#: outcomes of a send answered 2xx and shown in the browser or on the device (to anyone)
SHOWN = frozenset({Outcome.DISPLAYED, Outcome.SHOWN_TO_OTHER_USER, Outcome.SHOWN_TO_NOBODY})
#: outcomes of a send answered 2xx (shown, accepted and never shown, or a background delivery)
ACCEPTED = SHOWN | {Outcome.DROPPED, Outcome.DELIVERED_BACKGROUND}
#: the statuses of a permanent "token gone" answer (FCM 404; Web Push 404 and 410)
GONE_STATUSES = frozenset({404, 410})


def is_campaign(record: SendRecord) -> bool:
    """Whether a send belongs to a campaign (not to an uninstall-tracking probe)."""
    return not record.campaign.startswith(PROBE_PREFIX)


class TokenClock:
    """When each token was issued and last connected, from the world's events."""

    def __init__(self, world: World) -> None:
        self.issued_at: dict[str, float] = {}
        self.last_connect: dict[str, float] = {}
        world.signals.truth.append(self._on_truth)
        world.signals.session.append(self._on_session)

    def _on_truth(self, event: TruthEvent) -> None:
        token = event.new_token
        if event.kind is Truth.TOKEN_CHANGED and token is not None:
            self.issued_at[token] = event.time
            self.last_connect[token] = event.time

    def _on_session(self, now: float, device: Device) -> None:
        token = device.token
        if token is not None and token in self.last_connect:
            self.last_connect[token] = now

    def age(self, token: str, now: float) -> float | None:
        """Days since ``token`` was issued (None: never seen issued)."""
        issued = self.issued_at.get(token)
        return None if issued is None else now - issued

    def inactive_for(self, token: str, now: float) -> float | None:
        """Days since ``token`` last connected (None: never seen issued)."""
        last = self.last_connect.get(token)
        return None if last is None else now - last


class WebDelivery:
    """Campaign sends to web subscriptions answered 2xx, by age band: shown, and all answered.

    ``bands`` are ``(low, high)`` ages in days; a send counts in every band that holds its age.
    Only the final answer of a send counts (``outcome`` set); bounces, flagged sends and sends
    given up are not answered 2xx and are left out, as Pushpad leaves out deleted subscriptions.
    """

    def __init__(
        self, world: World, clock: TokenClock, bands: dict[str, tuple[float, float]]
    ) -> None:
        self.clock = clock
        self.bands = dict(bands)
        self.shown: dict[str, int] = defaultdict(int)
        self.accepted: dict[str, int] = defaultdict(int)
        world.signals.send.append(self._on_send)

    def _on_send(self, record: SendRecord) -> None:
        outcome = record.outcome
        if (
            outcome is None
            or outcome not in ACCEPTED
            or PROVIDER_OF[record.platform] is not (Provider.WEBPUSH)
        ):
            return
        if not is_campaign(record):
            return
        age = self.clock.age(record.token, record.time)
        if age is None:
            return
        shown = outcome in SHOWN
        for name, (low, high) in self.bands.items():
            if low <= age < high:
                self.accepted[name] += 1
                self.shown[name] += shown

    def share(self, band: str) -> float | None:
        """Shown ÷ answered 2xx in ``band`` (None: no send there)."""
        accepted = self.accepted.get(band, 0)
        return self.shown.get(band, 0) / accepted if accepted else None


class InactivityRule:
    """Whether ``provider`` refuses tokens past ``limit_days`` without a connection, and when.

    Every answer about the token to a campaign send (each attempt answered 2xx or "gone";
    transient errors and flagged sends say nothing about it) is checked against the token's
    inactivity as :class:`TokenClock` saw it: ``over`` counts answers to tokens inactive for
    more than the limit, ``over_refused`` those answered "gone" (404/410); ``shortest_expiry``
    is the smallest inactivity at a "gone" answer the provider gives as an inactivity death.
    """

    def __init__(
        self, world: World, clock: TokenClock, provider: Provider, limit_days: float
    ) -> None:
        self.clock = clock
        self.provider = provider
        self.service: PushService = world.providers[provider]
        self.limit_days = limit_days
        self.over = 0
        self.over_refused = 0
        self.shortest_expiry = math.inf
        world.signals.send.append(self._on_send)

    def _on_send(self, record: SendRecord) -> None:
        if PROVIDER_OF[record.platform] is not self.provider or not is_campaign(record):
            return
        gone = record.status in GONE_STATUSES
        if not (gone or 200 <= record.status < 300):
            return  # a transient error, or a flagged send: no answer about the token
        inactive = self.clock.inactive_for(record.token, record.time)
        if inactive is None:
            return
        if inactive > self.limit_days:
            self.over += 1
            self.over_refused += gone
        if gone:
            death = self.service.death(record.token)
            if death is not None and death[0] is TokenDeath.INACTIVITY:
                self.shortest_expiry = min(self.shortest_expiry, inactive)

    def refused_share(self) -> float | None:
        """Answers refused ÷ answers, over tokens past the limit (None: no such answer)."""
        return self.over_refused / self.over if self.over else None

    def shortest(self) -> float | None:
        """The shortest inactivity at an inactivity expiry (None: none seen)."""
        return None if math.isinf(self.shortest_expiry) else self.shortest_expiry


class Lives:
    """Per install: day-30 retention and the time from its last session to its uninstall."""

    def __init__(self, world: World, *, retention_day: float = 30.0) -> None:
        self.retention_day = retention_day
        self.installed_at: dict[str, float] = {}
        self.last_session: dict[str, float] = {}
        self.retained: set[str] = set()
        self.quiet_before_uninstall: list[float] = []
        world.signals.truth.append(self._on_truth)
        world.signals.session.append(self._on_session)

    def _on_truth(self, event: TruthEvent) -> None:
        if event.kind is Truth.INSTALL:
            self.installed_at[event.install_id] = event.time
        elif event.kind is Truth.UNINSTALL:
            last = self.last_session.get(event.install_id)
            if last is not None:
                self.quiet_before_uninstall.append(event.time - last)

    def _on_session(self, now: float, device: Device) -> None:
        install = device.install_id
        self.last_session[install] = now
        installed = self.installed_at.get(install)
        if installed is not None and 0.0 <= now - installed - self.retention_day < 1.0:
            self.retained.add(install)

    def retention(self, end: float) -> tuple[float | None, int]:
        """Installs with a session on day 30 ÷ installs made at least 31 days before ``end``."""
        cohort = [
            install
            for install, at in self.installed_at.items()
            if at <= end - self.retention_day - 1.0
        ]
        kept = sum(install in self.retained for install in cohort)
        return (kept / len(cohort) if cohort else None), len(cohort)

    def last_open_to_uninstall(self) -> float | None:
        """The mean days from an install's last session to its uninstall (None: no uninstall)."""
        gaps = self.quiet_before_uninstall
        return sum(gaps) / len(gaps) if gaps else None
