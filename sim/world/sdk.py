"""The SDK between devices and the registry: calls are queued and flushed after a delay.

The registry's view therefore lags the device by up to the flush delay, as with a real SDK that
batches its requests. Calls are applied in the order they were made.
"""

from __future__ import annotations

from typing import Any

import simpy

from sim.platforms import Platform
from sim.registry.protocol import RegistryProtocol

#: A queued call: the registry operation's name, then its arguments after ``now``. A plain tuple
#: costs a fraction of a closure to build, and one is queued on every session.
Call = tuple[Any, ...]

_SESSION_START, _CHANGE_USER, _LOG_OUT = "session_start", "change_user", "log_out"


class Sdk:
    """Queues registry calls made on devices and flushes them as one batch after ``delay`` days."""

    __slots__ = ("_env", "_pending", "delay", "registry")

    def __init__(self, env: simpy.Environment, registry: RegistryProtocol, delay: float) -> None:
        if delay < 0:
            raise ValueError(f"SDK flush delay must be >= 0, got {delay}")
        self._env = env
        self.registry = registry
        self.delay = delay
        self._pending: list[Call] = []

    def _queue(self, call: Call) -> None:
        if self.delay == 0:
            self._apply(self._env.now, call)
            return
        pending = self._pending
        if not pending:
            self._env.timeout(self.delay).callbacks.append(self._flush)
        pending.append(call)

    def _flush(self, _event: Any) -> None:
        now = self._env.now
        pending, self._pending = self._pending, []
        for call in pending:
            self._apply(now, call)

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
            (
                _SESSION_START,
                device,
                app,
                platform,
                token,
                foreground,
                provisional,
                implicit_permission,
            )
        )

    def change_user(self, *, device: str, app: str, user: str) -> None:
        """Report a login (``changeUser``)."""
        self._queue((_CHANGE_USER, device, app, user))

    def log_out(self, *, device: str, app: str) -> None:
        """Report a logout with no new login."""
        self._queue((_LOG_OUT, device, app))
