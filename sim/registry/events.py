"""Token state-change events (rule R13): the audit trail that metrics and tests read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sim.fastinit import fast_frozen_init
from sim.platforms import Platform


class Change(StrEnum):
    """What happened to a token record."""

    ADD = "add"
    UPDATE = "update"
    REMOVE = "remove"


class Cause(StrEnum):
    """Why it happened."""

    REGISTERED = "registered"  # add: first report of a token by the SDK
    PERMISSION = "permission"  # update: foreground / provisional changed at a session start
    REPLACED = "replaced"  # remove: a new token for the same (device, app) (R1)
    REASSIGNED = "reassigned"  # remove: the same token string reported for another slot
    MOVED = "moved"  # remove + add: change of user on the device (R2)
    PURGED = "purged"  # remove: a session start reported no token for the slot
    BOUNCE = "bounce"  # remove: permanent provider error (R5/R6/R7)
    LOGGED_OUT = "logged_out"  # remove: detach-on-logout policy (R3 switch)
    PRUNED = "pruned"  # remove: no session for the pruning window (policy)


# one is built per change of a token record while anyone listens: see sim.fastinit
@fast_frozen_init
@dataclass(frozen=True, slots=True)
class TokenEvent:
    """One add / update / remove of a token record."""

    time: float
    change: Change
    cause: Cause
    token: str
    app: str
    platform: Platform
    device: str
    profile: str
    foreground: bool
    provisional: bool


TokenListener = Callable[[TokenEvent], None]


class EventStream:
    """Fan-out of token events to subscribers, in subscription order."""

    __slots__ = ("_listeners",)

    def __init__(self) -> None:
        self._listeners: list[TokenListener] = []

    def subscribe(self, listener: TokenListener) -> Callable[[], None]:
        """Call ``listener`` with every future event; returns a function that unsubscribes it."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    @property
    def active(self) -> bool:
        """True when someone listens (events are only built then)."""
        return bool(self._listeners)

    def emit(self, event: TokenEvent) -> None:
        """Deliver ``event`` to every listener."""
        for listener in self._listeners:
            listener(event)
