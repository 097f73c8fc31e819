"""Latencies between a truth change and the registry catching up.

- uninstall → detection: the app is uninstalled (or its device wiped) while the registry holds its
  token, until the registry removes that token;
- token rotation → re-registration: the device gets a new token while the registry holds the old
  one, until the registry adds the new one;
- user switch → token move: a different user logs in on a device whose token the registry holds for
  someone else, until the registry moves the token to that user.
"""

from __future__ import annotations

from sim.registry import Cause, Change, TokenEvent
from sim.registry.protocol import RegistryProtocol
from sim.world.signals import Truth, TruthEvent

LATENCY_COLUMNS = ("kind", "platform", "start", "end", "latency_days")

UNINSTALL = "uninstall_detection"
ROTATION = "rotation_reregistration"
SWITCH = "user_switch_move"

# enum members read once (a class attribute read costs more than a global on Python 3.11)
_GONE = frozenset({Truth.UNINSTALL, Truth.REPLACED})
_TOKEN_CHANGED, _LOGIN = Truth.TOKEN_CHANGED, Truth.LOGIN
_ADD, _REMOVE, _REGISTERED, _MOVED = Change.ADD, Change.REMOVE, Cause.REGISTERED, Cause.MOVED


class Latencies:
    """Pairs truth events with the registry events that catch up with them."""

    def __init__(self, registry: RegistryProtocol) -> None:
        self.registry = registry
        self._uninstalled: dict[str, tuple[float, str]] = {}  # dead token → (time, platform)
        self._rotated: dict[str, tuple[float, str]] = {}  # new token → (time, platform)
        self._switched: dict[str, tuple[float, str, str]] = {}  # install → (time, platform, user)
        self._rows: list[tuple[str, str, float, float, float]] = []
        registry.subscribe(self._on_token_event)

    def on_truth(self, event: TruthEvent) -> None:
        """Listener for the world's truth events."""
        kind, old_token = event.kind, event.old_token
        if old_token is not None and (kind is _TOKEN_CHANGED or kind in _GONE):
            if self.registry.token(old_token) is None:
                return  # the registry never held it: nothing to catch up with
            if kind is _TOKEN_CHANGED:
                assert event.new_token is not None
                self._rotated[event.new_token] = (event.time, event.platform.value)
            else:
                self._uninstalled[old_token] = (event.time, event.platform.value)
        elif kind is _LOGIN and event.user is not None:
            record = self.registry.token_for(event.install_id, "app")
            if record is not None and record.profile != event.user:
                self._switched[event.install_id] = (event.time, event.platform.value, event.user)

    def _on_token_event(self, event: TokenEvent) -> None:
        if event.change is _REMOVE:
            start = self._uninstalled.pop(event.token, None)
            if start is not None:
                self._rows.append(
                    (UNINSTALL, start[1], start[0], event.time, event.time - start[0])
                )
        elif event.change is _ADD:
            if event.cause is _REGISTERED:
                start = self._rotated.pop(event.token, None)
                if start is not None:
                    self._rows.append(
                        (ROTATION, start[1], start[0], event.time, event.time - start[0])
                    )
            elif event.cause is _MOVED:
                switch = self._switched.get(event.device)
                if switch is not None and switch[2] == event.profile:
                    del self._switched[event.device]
                    self._rows.append(
                        (SWITCH, switch[1], switch[0], event.time, event.time - switch[0])
                    )

    def rows(self) -> list[tuple[str, str, float, float, float]]:
        """Completed latencies, in :data:`LATENCY_COLUMNS` order."""
        return list(self._rows)

    def open_counts(self) -> dict[str, int]:
        """Truth changes the registry had not caught up with at the end (right-censored)."""
        return {
            UNINSTALL: len(self._uninstalled),
            ROTATION: len(self._rotated),
            SWITCH: len(self._switched),
        }
