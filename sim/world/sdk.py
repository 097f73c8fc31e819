"""The SDK between devices and the registry: calls are batched and reach it after a delay.

The registry's view lags the device by up to the flush delay, as with a real SDK that batches its
requests. A batch opens with the first call made while none is open and reaches the registry
``delay`` days later, with every call made before that moment, in the order they were made.

No SimPy event is spent on a flush. The open batch is delivered, with ``now`` = the moment it is
due, when the world next needs it: before anything reads or writes the registry at or after that
moment (:meth:`Sdk.settle`, called by the sender, the pruning job, the samplers, truth signals and
stories) and before the next call opens a new batch. The registry therefore sees exactly the calls
and times it would see from a timer per batch, in the same order.

Ties. A batch due at the very moment something else happens is delivered *first*: a read at the
moment a batch is due sees the batch, and a call made at that moment opens the next batch. The end
of :meth:`~sim.world.world.World.run` (``until``) is exclusive like SimPy's: a batch due exactly
then is delivered by the next settle.
"""

from __future__ import annotations

import math
from typing import Any

from sim.platforms import Platform
from sim.registry.protocol import RegistryProtocol

#: A queued call: the registry operation's name, then its arguments after ``now``. A plain tuple
#: costs a fraction of a closure to build, and one is queued on every session.
Call = tuple[Any, ...]

_SESSION_START, _CHANGE_USER, _LOG_OUT = "session_start", "change_user", "log_out"
_NEVER = math.inf


class Sdk:
    """Batches registry calls made on devices; each batch reaches the registry ``delay`` days on."""

    __slots__ = ("_batch", "_due", "delay", "registry")

    def __init__(self, registry: RegistryProtocol, delay: float) -> None:
        if delay < 0:
            raise ValueError(f"SDK flush delay must be >= 0, got {delay}")
        self.registry = registry
        self.delay = delay
        self._batch: list[Call] = []
        #: when the open batch reaches the registry (infinite: no batch open)
        self._due = _NEVER

    @property
    def due(self) -> float:
        """When the open batch reaches the registry (``inf`` when no call is waiting)."""
        return self._due

    def settle(self, now: float) -> None:
        """Deliver the open batch if it is due by ``now`` (inclusive: see the module's ties)."""
        if now >= self._due:
            self._flush()

    def _queue(self, now: float, call: Call) -> None:
        if self.delay == 0:
            self._apply(now, call)
            return
        if now >= self._due:  # the open batch went before this call: it is delivered first
            self._flush()
        if not self._batch:
            self._due = now + self.delay
        self._batch.append(call)

    def _flush(self) -> None:
        due, batch = self._due, self._batch
        self._batch, self._due = [], _NEVER
        for call in batch:
            self._apply(due, call)

    def _apply(self, now: float, call: Call) -> None:
        """Make one queued call to the registry at ``now``."""
        registry = self.registry
        operation = call[0]
        if operation is _SESSION_START:
            _, device, app, platform, token, foreground, provisional, implicit = call
            registry.session_start(
                now,
                device=device,
                app=app,
                platform=platform,
                token=token,
                foreground=foreground,
                provisional=provisional,
                implicit_permission=implicit,
            )
        elif operation is _CHANGE_USER:
            _, device, app, user = call
            registry.change_user(now, device=device, app=app, user=user)
        else:
            _, device, app = call
            registry.log_out(now, device=device, app=app)

    def session_start(
        self,
        now: float,
        *,
        device: str,
        app: str,
        platform: Platform,
        token: str | None,
        foreground: bool,
        provisional: bool,
        implicit_permission: bool,
    ) -> None:
        """Report a session start (token and permission) to the registry."""
        self._queue(
            now,
            (
                _SESSION_START,
                device,
                app,
                platform,
                token,
                foreground,
                provisional,
                implicit_permission,
            ),
        )

    def change_user(self, now: float, *, device: str, app: str, user: str) -> None:
        """Report a login (``changeUser``)."""
        self._queue(now, (_CHANGE_USER, device, app, user))

    def log_out(self, now: float, *, device: str, app: str) -> None:
        """Report a logout with no new login."""
        self._queue(now, (_LOG_OUT, device, app))
