"""Per-campaign send outcomes: targeted, sent, bounced by code, retried, delivered, displayed.

Every count is of sends (tokens), not profiles. A delivered push is displayed (to its target),
misdirected — ``shown_to_other_user`` (another profile is logged in on the device) or
``shown_to_nobody`` (nobody is logged in), kept apart — delivered in the background, or dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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


@dataclass(slots=True)
class _Tally:
    time: float
    targeted: int = 0
    sent: int = 0
    retried: int = 0
    outcomes: dict[Outcome, int] = field(default_factory=dict)


class SendLedger:
    """Counts send records per (campaign, platform), and bounces per code."""

    def __init__(self) -> None:
        self._tallies: dict[tuple[str, str], _Tally] = {}
        self.bounces: dict[tuple[str, str, int, str], int] = {}

    def record(self, send: SendRecord) -> None:
        """Listener for :class:`~sim.world.signals.SendRecord`."""
        key = (send.campaign, send.platform.value)
        tally = self._tallies.get(key)
        if tally is None:
            tally = self._tallies[key] = _Tally(send.time)
        tally.sent += 1
        if send.attempt == 0:
            tally.targeted += 1
        else:
            tally.retried += 1
        if send.outcome is not None:
            tally.outcomes[send.outcome] = tally.outcomes.get(send.outcome, 0) + 1
            if send.outcome is Outcome.BOUNCED:
                code = (send.campaign, send.platform.value, send.status, send.reason)
                self.bounces[code] = self.bounces.get(code, 0) + 1

    def rows(self) -> list[tuple[object, ...]]:
        """One row per (campaign, platform), in :data:`SEND_COLUMNS` order.

        ``pending`` is what is still waiting for a retry: targeted minus every final outcome.
        """
        out: list[tuple[object, ...]] = []
        for (campaign, platform), t in self._tallies.items():
            o = t.outcomes
            delivered = (
                o.get(Outcome.DISPLAYED, 0)
                + o.get(Outcome.SHOWN_TO_OTHER_USER, 0)
                + o.get(Outcome.SHOWN_TO_NOBODY, 0)
                + o.get(Outcome.DELIVERED_BACKGROUND, 0)
                + o.get(Outcome.DROPPED, 0)
            )
            finals = sum(o.values())
            kind = "probe" if campaign.startswith("probe") else "campaign"
            out.append(
                (
                    campaign,
                    kind,
                    t.time,
                    platform,
                    t.targeted,
                    t.sent,
                    t.retried,
                    o.get(Outcome.BOUNCED, 0),
                    delivered,
                    o.get(Outcome.DISPLAYED, 0),
                    o.get(Outcome.SHOWN_TO_OTHER_USER, 0),
                    o.get(Outcome.SHOWN_TO_NOBODY, 0),
                    o.get(Outcome.DELIVERED_BACKGROUND, 0),
                    o.get(Outcome.DROPPED, 0),
                    o.get(Outcome.FLAGGED, 0),
                    o.get(Outcome.GAVE_UP, 0),
                    t.targeted - finals,
                )
            )
        return out
