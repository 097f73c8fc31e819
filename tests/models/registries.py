"""Registries of a user's own, for the tests of choosing a model: some broken on purpose."""

from __future__ import annotations

import dataclasses
from typing import Any

from sim.registry import Registry, RegistryPolicy


def detach_on_logout(policy: RegistryPolicy, **options: Any) -> Registry:
    """A working model: the reference rules with logout detaching the token."""
    return Registry(dataclasses.replace(policy, detach_on_logout=True, **options))


class _Raising(Registry):
    """The reference registry, except that the ``fail_at``-th login raises."""

    def __init__(self, policy: RegistryPolicy, fail_at: int) -> None:
        super().__init__(policy)
        self.fail_at = fail_at
        self.logins = 0

    def change_user(self, now: float, *, device: str, app: str, user: str) -> None:
        self.logins += 1
        if self.logins == self.fail_at:
            raise KeyError(f"no row for {user}")
        super().change_user(now, device=device, app=app, user=user)


def raising(policy: RegistryPolicy, fail_at: int = 3) -> Registry:
    """A model with a bug: its ``fail_at``-th ``change_user`` raises KeyError."""
    return _Raising(policy, fail_at)


class _Incomplete:
    """Knows sessions and logins only, with a login that takes the user positionally."""

    def add_app(self, app_id: str, platforms: Any, *, uninstall_tracking: bool = False) -> None:
        pass

    def session_start(self, now: float, **report: Any) -> None:
        pass

    def change_user(self, now: float, device: str, app: str) -> None:  # no ``user``
        pass

    tokens: list[str] = []  # noqa: RUF012 - an attribute where a method is expected


def incomplete(policy: RegistryPolicy) -> _Incomplete:
    """A model that does not implement the protocol."""
    return _Incomplete()


NOT_CALLABLE = 42
