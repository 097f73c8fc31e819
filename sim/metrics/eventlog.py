"""Optional full event log: every token state change and every send, in time order."""

from __future__ import annotations

from typing import Any

from sim.registry import TokenEvent
from sim.world.signals import SendRecord

EVENT_COLUMNS = (
    "time",
    "stream",
    "change",
    "cause",
    "token",
    "platform",
    "device",
    "profile",
    "foreground",
    "attempt",
    "status",
    "reason",
    "outcome",
)


class EventLog:
    """Collects token events (R13) and send records as rows of one table."""

    def __init__(self) -> None:
        self._rows: list[tuple[Any, ...]] = []

    def on_token(self, e: TokenEvent) -> None:
        """Listener for registry token events."""
        self._rows.append(
            (
                e.time,
                "token",
                e.change.value,
                e.cause.value,
                e.token,
                e.platform.value,
                e.device,
                e.profile,
                e.foreground,
                None,
                None,
                None,
                None,
            )
        )

    def on_send(self, s: SendRecord) -> None:
        """Listener for send records."""
        self._rows.append(
            (
                s.time,
                "send",
                s.campaign,
                None,
                s.token,
                s.platform.value,
                None,
                s.target,
                None,
                s.attempt,
                s.status,
                s.reason,
                s.outcome.value if s.outcome is not None else None,
            )
        )

    def rows(self) -> list[tuple[Any, ...]]:
        """The log, in :data:`EVENT_COLUMNS` order."""
        return list(self._rows)
