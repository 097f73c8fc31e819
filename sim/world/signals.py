"""What the world tells its observers: ground-truth changes and send outcomes.

The world never reads these back; metrics subscribe to them. Records are built only when someone
listens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from sim.fastinit import fast_frozen_init
from sim.platforms import Platform

if TYPE_CHECKING:
    from sim.world.device import Device


class Truth(StrEnum):
    """Kinds of ground-truth change on a device."""

    INSTALL = "install"
    LAUNCH = "launch"
    UNINSTALL = "uninstall"
    TOKEN_CHANGED = "token_changed"  # rotation, app update, OS reinstall, restore, web re-subscribe
    TOKEN_REVOKED = "token_revoked"  # web permission revoked (subscription deleted or silenced)
    PERMISSION = "permission"
    LOGIN = "login"
    LOGOUT = "logout"
    REPLACED = "replaced"  # device retired, replaced by a new one


# one is built per ground-truth change (about 20 a device-year): see sim.fastinit
@fast_frozen_init
@dataclass(frozen=True, slots=True)
class TruthEvent:
    """A ground-truth change: ``old_token`` / ``new_token`` where the device's token changed."""

    time: float
    kind: Truth
    device: str
    install_id: str
    platform: Platform
    user: str | None
    old_token: str | None = None
    new_token: str | None = None


class Outcome(StrEnum):
    """The final outcome of one send (after retries).

    A push shown, but not to its target, is *misdirected*; the two kinds are kept apart
    (docs/model.md §5): shown to another user (someone else is logged in) and shown with nobody
    logged in.
    """

    DISPLAYED = "displayed"  # shown on a device where the target is logged in
    #: misdirected, part one: shown on a device where another profile is logged in
    SHOWN_TO_OTHER_USER = "shown_to_other_user"
    #: misdirected, part two: shown on a device where nobody is logged in (logged out, or an
    #: anonymous session that never logged in)
    SHOWN_TO_NOBODY = "shown_to_nobody"
    DELIVERED_BACKGROUND = "delivered_background"  # background push reached the app
    DROPPED = "dropped"  # accepted by the provider, never shown (zombie)
    BOUNCED = "bounced"  # permanent error: token removed (or stale 410 ignored)
    FLAGGED = "flagged"  # credential or payload error: token kept, configuration flagged
    GAVE_UP = "gave_up"  # transient errors beyond the retry budget


# one is built per send: the faster __init__ takes about 0.7 µs off each (11 fields)
@fast_frozen_init
@dataclass(frozen=True, slots=True)
class SendRecord:
    """One provider answer to one send attempt; ``outcome`` is set on the final attempt only."""

    time: float
    campaign: str
    token: str
    platform: Platform
    target: str
    attempt: int
    status: int
    reason: str
    outcome: Outcome | None
    #: who saw it (displayed, shown to another user or to nobody): the device's user, or None
    shown_to: str | None = None
    #: the registry's device id (install id) the token was held for: where the push went
    install_id: str = ""


TruthListener = Callable[[TruthEvent], None]
SendListener = Callable[[SendRecord], None]
#: told of every session start (a launch included): the time and the device
SessionListener = Callable[[float, "Device"], None]


class Signals:
    """Subscribers to the world's truth events and send records."""

    __slots__ = ("send", "session", "truth")

    def __init__(self) -> None:
        self.truth: list[TruthListener] = []
        self.send: list[SendListener] = []
        #: session starts are the most frequent event: nothing is built for them, and nobody
        #: listens unless a measurement needs them (sim.calibration.moments)
        self.session: list[SessionListener] = []

    def emit_truth(self, event: TruthEvent) -> None:
        """Deliver a truth event to every subscriber."""
        for listener in self.truth:
            listener(event)

    def emit_send(self, record: SendRecord) -> None:
        """Deliver a send record to every subscriber."""
        for listener in self.send:
            listener(record)
