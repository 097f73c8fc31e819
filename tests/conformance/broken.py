"""Registries that break one rule or invariant on purpose, for the conformance tests.

Each is a subclass of the reference registry with one change, named by what it breaks, and a
factory (``factory(policy, **options)``) that ``pushsim conform`` loads as
``tests.conformance.broken:<factory>`` or ``path/to/broken.py:<factory>``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sim.registry import Registry, RegistryPolicy
from sim.registry.events import TokenListener
from sim.registry.records import Slot, SubscriptionState


class NoLoginMove(Registry):
    """R2 broken: ``change_user`` does nothing (the token stays where it was)."""

    def change_user(self, now: float, *, device: str, app: str, user: str) -> None:
        self._tick(now)


@dataclass
class _View:
    """A profile as :class:`TwoOwners` shows it: its tokens and the ones it lost."""

    profile_id: str
    anonymous: bool
    state: SubscriptionState
    devices: tuple[str, ...]
    tokens: Mapping[Slot, str]


class TwoOwners(Registry):
    """Invariant broken: after a login moves a token, the previous owner still lists it."""

    def __init__(self, policy: RegistryPolicy | None = None) -> None:
        super().__init__(policy)
        self._kept: dict[str, dict[Slot, str]] = {}

    def change_user(self, now: float, *, device: str, app: str, user: str) -> None:
        before = self.token_for(device, app)
        owner = before.profile if before is not None else None
        super().change_user(now, device=device, app=app, user=user)
        if before is not None and owner is not None and owner != user:
            self._kept.setdefault(owner, {})[(device, app)] = before.token

    def profile(self, profile_id: str) -> Any:
        real = super().profile(profile_id)
        kept = self._kept.get(profile_id)
        if not kept:
            return real
        return _View(
            real.profile_id, real.anonymous, real.state, real.devices, {**kept, **real.tokens}
        )


class NoOptIn(Registry):
    """R4 broken, as in an opt-in-per-device model: a grant never sets the profile to opted_in."""

    def _opt_in(self, profile_id: str, now: float) -> None:
        pass


class Silent(Registry):
    """R13 broken: no token event ever reaches a listener."""

    def subscribe(self, listener: TokenListener) -> Callable[[], None]:
        return lambda: None


class RaisesOnLogout(Registry):
    """A registry that raises on every logout (a bug in a team's code)."""

    def log_out(self, now: float, *, device: str, app: str) -> None:
        raise KeyError(device)


class NotARegistry:
    """Has a few of the members only."""

    def add_app(self, app_id: str, platforms: Any, *, uninstall_tracking: bool = False) -> None:
        """Knows apps, and nothing else."""


def no_login_move(policy: RegistryPolicy, **options: Any) -> Registry:
    return NoLoginMove(policy)


def two_owners(policy: RegistryPolicy, **options: Any) -> Registry:
    return TwoOwners(policy)


def no_opt_in(policy: RegistryPolicy, **options: Any) -> Registry:
    return NoOptIn(policy)


def silent(policy: RegistryPolicy, **options: Any) -> Registry:
    return Silent(policy)


def raises_on_logout(policy: RegistryPolicy, **options: Any) -> Registry:
    return RaisesOnLogout(policy)


def not_a_registry(policy: RegistryPolicy, **options: Any) -> NotARegistry:
    return NotARegistry()


def reference(policy: RegistryPolicy, **options: Any) -> Registry:
    """The reference, loaded as a team's own model (behind the guard)."""
    return Registry(policy)
