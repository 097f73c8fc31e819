"""Per-campaign send outcomes: targeted, sent, bounced by code, retried, delivered, displayed.

Per platform, and per OS class where it changes the rules (Android ≤ 12 and 13+, docs/model.md §3).
Every count is of sends (tokens), not profiles. A delivered push is displayed (to its target),
misdirected — ``shown_to_other_user`` (another profile is logged in on the device) or
``shown_to_nobody`` (nobody is logged in), kept apart — delivered in the background, or dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sim.platforms import Platform
from sim.world.device import Device, OsClass
from sim.world.signals import Outcome, SendRecord

SEND_COLUMNS = (
    "campaign",
    "kind",
    "time",
    "platform",
    "targeted",
    "sent",
    "retried",
    "bounced",
    "delivered",
    "displayed",
    "shown_to_other_user",
    "shown_to_nobody",
    "delivered_background",
    "dropped",
    "flagged",
    "gave_up",
    "pending",
)


#: the send outcomes by OS class: :data:`SEND_COLUMNS` with ``os_class`` for ``platform``
#: (ios, android_12_or_lower, android_13_plus, web): the android rows split by the OS class of
#: the device the token's install is on (docs/model.md §3, §5)
OS_SEND_COLUMNS = tuple("os_class" if c == "platform" else c for c in SEND_COLUMNS)


@dataclass(slots=True)
class _Tally:
    time: float
    targeted: int = 0
    sent: int = 0
    retried: int = 0
    outcomes: dict[Outcome, int] = field(default_factory=dict)

    def add(self, other: _Tally) -> None:
        """Add ``other``'s counts to these; the time is the earlier one."""
        self.time = min(self.time, other.time)
        self.targeted += other.targeted
        self.sent += other.sent
        self.retried += other.retried
        for outcome, count in other.outcomes.items():
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + count

    def counts(self) -> tuple[int, ...]:
        """The counts of a row, from ``targeted`` on, in :data:`SEND_COLUMNS` order.

        ``pending`` is what is still waiting for a retry: targeted minus every final outcome.
        """
        o = self.outcomes
        delivered = (
            o.get(Outcome.DISPLAYED, 0)
            + o.get(Outcome.SHOWN_TO_OTHER_USER, 0)
            + o.get(Outcome.SHOWN_TO_NOBODY, 0)
            + o.get(Outcome.DELIVERED_BACKGROUND, 0)
            + o.get(Outcome.DROPPED, 0)
        )
        return (
            self.targeted,
            self.sent,
            self.retried,
            o.get(Outcome.BOUNCED, 0),
            delivered,
            o.get(Outcome.DISPLAYED, 0),
            o.get(Outcome.SHOWN_TO_OTHER_USER, 0),
            o.get(Outcome.SHOWN_TO_NOBODY, 0),
            o.get(Outcome.DELIVERED_BACKGROUND, 0),
            o.get(Outcome.DROPPED, 0),
            o.get(Outcome.FLAGGED, 0),
            o.get(Outcome.GAVE_UP, 0),
            self.targeted - sum(o.values()),
        )


# read once: on Python 3.11 an enum member read off its class, and ``.value``, go through slow hooks
_ANDROID, _BOUNCED = Platform.ANDROID, Outcome.BOUNCED
_VALUE: dict[object, str] = {member: member.value for member in (*Platform, *OsClass)}


def _kind(campaign: str) -> str:
    return "probe" if campaign.startswith("probe") else "campaign"


class SendLedger:
    """Counts send records per (campaign, platform) and per (campaign, OS class), bounces per code.

    ``installs`` maps install ids to the devices carrying them (the world's
    :attr:`~sim.world.actions.Actions.installs`): it gives the OS class of an Android send. Without
    it, or for an install it does not know, an Android send's OS class is ``android``.
    """

    def __init__(self, installs: Mapping[str, Device] | None = None) -> None:
        self._installs: Mapping[str, Device] = installs if installs is not None else {}
        #: per (campaign, platform, OS class label)
        self._tallies: dict[tuple[str, str, str], _Tally] = {}
        self.bounces: dict[tuple[str, str, int, str], int] = {}

    def record(self, send: SendRecord) -> None:
        """Listener for :class:`~sim.world.signals.SendRecord`."""
        platform = send.platform
        name = os_class = _VALUE[platform]
        if platform is _ANDROID:
            device = self._installs.get(send.install_id)
            if device is not None and device.os_class is not None:
                os_class = _VALUE[device.os_class]
        key = (send.campaign, name, os_class)
        tally = self._tallies.get(key)
        if tally is None:
            tally = self._tallies[key] = _Tally(send.time)
        tally.sent += 1
        if send.attempt == 0:
            tally.targeted += 1
        else:
            tally.retried += 1
        outcome = send.outcome
        if outcome is not None:
            tally.outcomes[outcome] = tally.outcomes.get(outcome, 0) + 1
            if outcome is _BOUNCED:
                code = (send.campaign, name, send.status, send.reason)
                self.bounces[code] = self.bounces.get(code, 0) + 1

    def rows(self) -> list[tuple[object, ...]]:
        """One row per (campaign, platform), in :data:`SEND_COLUMNS` order, by first send."""
        totals: dict[tuple[str, str], _Tally] = {}
        for (campaign, platform, _), tally in self._tallies.items():
            total = totals.get((campaign, platform))
            if total is None:
                total = totals[campaign, platform] = _Tally(tally.time)
            total.add(tally)
        return [
            (campaign, _kind(campaign), t.time, platform, *t.counts())
            for (campaign, platform), t in totals.items()
        ]

    def os_rows(self) -> list[tuple[object, ...]]:
        """One row per (campaign, OS class), in :data:`OS_SEND_COLUMNS` order, by first send."""
        return [
            (campaign, _kind(campaign), t.time, os_class, *t.counts())
            for (campaign, _, os_class), t in self._tallies.items()
        ]
