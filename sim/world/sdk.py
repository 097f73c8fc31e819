"""The SDK between devices and the registry: calls are queued and flushed after a delay.

The registry's view therefore lags the device by up to the flush delay, as with a real SDK that
batches its requests. Calls are applied in the order they were made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import simpy

from sim.platforms import Platform
from sim.registry import Registry

Call = Callable[[float], object]


class Sdk:
    """Queues registry calls made on devices and flushes them as one batch after ``delay`` days."""

    __slots__ = ("_env", "_pending", "delay", "registry")

    def __init__(self, env: simpy.Environment, registry: Registry, delay: float) -> None:
        if delay < 0:
            raise ValueError(f"SDK flush delay must be >= 0, got {delay}")
        self._env = env
        self.registry = registry
        self.delay = delay
        self._pending: list[Call] = []

    def _queue(self, call: Call) -> None:
        if self.delay == 0:
            call(self._env.now)
            return
        if not self._pending:
            self._env.timeout(self.delay).callbacks.append(self._flush)
        self._pending.append(call)

    def _flush(self, _event: Any) -> None:
        now = self._env.now
        pending, self._pending = self._pending, []
        for call in pending:
            call(now)

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
        registry = self.registry

        def call(now: float) -> object:
            return registry.session_start(
                now,
                device=device,
                app=app,
                platform=platform,
                token=token,
                foreground=foreground,
                provisional=provisional,
                implicit_permission=implicit_permission,
            )

        self._queue(call)

    def change_user(self, *, device: str, app: str, user: str) -> None:
        """Report a login (``changeUser``)."""
        registry = self.registry
        self._queue(lambda now: registry.change_user(now, device=device, app=app, user=user))

    def log_out(self, *, device: str, app: str) -> None:
        """Report a logout with no new login."""
        registry = self.registry
        self._queue(lambda now: registry.log_out(now, device=device, app=app))
