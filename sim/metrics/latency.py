"""Latencies between a truth change and the registry catching up, open ones censored at the end.

- uninstall → detection: the app is uninstalled (or its device wiped) while the registry holds its
  token, until the registry removes that token;
- token rotation → re-registration: the device gets a new token while the registry holds the old
  one, or while it has not yet caught up with an earlier rotation of that device, until the
  registry adds the device's newest token. A rotation superseded by another before any session
  ends with the later one, when the newest token is registered (the registry caught up with the
  device; docs/model.md §5);
- user switch → token move: a different user logs in on a device whose token the registry holds for
  someone else, until the registry moves the token to that user. A switch superseded by another
  before the move ends when the token moves to the newest user, or when the user the registry
  holds the token for logs in again (the registry is right again).

Every change followed ends as one row: completed (``observed`` true), or still open at the end of
the run (``observed`` false, ``end`` the end of the run and ``latency_days`` the time it had been
open: a right-censored latency, see :mod:`sim.metrics.survival`).

Completed rows are kept in columns, not one tuple each (a long run ends tens of thousands of them):
start and end as C doubles, kind and platform as one-byte codes; ``latency_days`` is computed when
the rows are read. :meth:`Latencies.rows` gives them as tuples, :meth:`Latencies.frame` as the
``latencies`` table.
"""

from __future__ import annotations

from array import array

import numpy as np
import pandas as pd

from sim.registry import Cause, Change, TokenEvent
from sim.registry.protocol import RegistryProtocol
from sim.world.signals import Truth, TruthEvent

#: ``latency_days`` is ``end - start``; ``observed`` is false for a latency still open at ``end``
LATENCY_COLUMNS = ("kind", "platform", "start", "end", "latency_days", "observed")
#: one row in :data:`LATENCY_COLUMNS` order
LatencyRow = tuple[str, str, float, float, float, bool]

UNINSTALL = "uninstall_detection"
ROTATION = "rotation_reregistration"
SWITCH = "user_switch_move"
#: the kinds by their code in the kind column
_KINDS = (UNINSTALL, ROTATION, SWITCH)
_UNINSTALL_CODE, _ROTATION_CODE, _SWITCH_CODE = range(len(_KINDS))

# enum members read once (a class attribute read costs more than a global on Python 3.11)
_GONE = frozenset({Truth.UNINSTALL, Truth.REPLACED})
_TOKEN_CHANGED, _LOGIN = Truth.TOKEN_CHANGED, Truth.LOGIN
_ADD, _REMOVE, _REGISTERED, _MOVED = Change.ADD, Change.REMOVE, Cause.REGISTERED, Cause.MOVED

#: when a change started, and the code of its platform (:attr:`Latencies._platforms`)
_Start = tuple[float, int]


class Latencies:
    """Pairs truth events with the registry events that catch up with them."""

    def __init__(self, registry: RegistryProtocol) -> None:
        self.registry = registry
        self._uninstalled: dict[str, _Start] = {}  # dead token → start
        # newest token of a device → the rotations waiting for it, oldest first
        self._rotated: dict[str, list[_Start]] = {}
        # install → (the switches waiting for the move, oldest first; the newest user)
        self._switched: dict[str, tuple[list[_Start], str]] = {}
        # completed rows, in the order they ended, one column each
        self._kind = bytearray()  # code in _KINDS
        self._platform = bytearray()  # code in self._platforms
        self._start = array("d")
        self._end = array("d")
        self._platforms: list[str] = []  # platform names by code, in order of first use
        self._platform_codes: dict[str, int] = {}
        registry.subscribe(self._on_token_event)

    def on_truth(self, event: TruthEvent) -> None:
        """Listener for the world's truth events."""
        kind, old_token = event.kind, event.old_token
        if old_token is not None and kind is _TOKEN_CHANGED:
            assert event.new_token is not None
            waiting = self._rotated.pop(old_token, None)
            if waiting is None:
                if self.registry.token(old_token) is None:
                    return  # the registry never held it: nothing to catch up with
                waiting = []
            waiting.append((event.time, self._code(event.platform.value)))
            self._rotated[event.new_token] = waiting
        elif old_token is not None and kind in _GONE:
            if self.registry.token(old_token) is not None:
                self._uninstalled[old_token] = (event.time, self._code(event.platform.value))
        elif kind is _LOGIN and event.user is not None:
            self._on_login(event, event.user)

    def _on_login(self, event: TruthEvent, user: str) -> None:
        install = event.install_id
        record = self.registry.token_for(install, "app")
        opened = self._switched.pop(install, None)
        waiting = opened[0] if opened is not None else []
        if record is not None and record.profile == user:
            # back to the user the registry holds the token for: earlier switches end here
            for start in waiting:
                self._close(_SWITCH_CODE, start, event.time)
            return
        if record is not None:
            waiting.append((event.time, self._code(event.platform.value)))
        if waiting:
            self._switched[install] = (waiting, user)

    def _code(self, platform: str) -> int:
        """The code of a platform in the platform column, given one on first use."""
        code = self._platform_codes.get(platform)
        if code is None:
            code = self._platform_codes[platform] = len(self._platforms)
            self._platforms.append(platform)
        return code

    def _close(self, kind: int, start: _Start, end: float) -> None:
        self._kind.append(kind)
        self._platform.append(start[1])
        self._start.append(start[0])
        self._end.append(end)

    def _on_token_event(self, event: TokenEvent) -> None:
        if event.change is _REMOVE:
            start = self._uninstalled.pop(event.token, None)
            if start is not None:
                self._close(_UNINSTALL_CODE, start, event.time)
        elif event.change is _ADD:
            if event.cause is _REGISTERED:
                waiting = self._rotated.pop(event.token, None)
                if waiting is not None:
                    for start in waiting:
                        self._close(_ROTATION_CODE, start, event.time)
            elif event.cause is _MOVED:
                switch = self._switched.get(event.device)
                if switch is not None and switch[1] == event.profile:
                    del self._switched[event.device]
                    for start in switch[0]:
                        self._close(_SWITCH_CODE, start, event.time)

    def rows(self, end: float | None = None) -> list[LatencyRow]:
        """Completed latencies in the order they ended, in :data:`LATENCY_COLUMNS` order.

        With ``end`` (the end of the run), then one censored row per latency still open, in order
        of start: ``end`` as its end, ``end - start`` as its latency, ``observed`` false.
        """
        kinds, platforms = _KINDS, self._platforms
        rows: list[LatencyRow] = [
            (kinds[k], platforms[p], t, e, e - t, True)
            for k, p, t, e in zip(self._kind, self._platform, self._start, self._end, strict=True)
        ]
        if end is not None:
            rows += [(kinds[k], platforms[p], t, end, end - t, False) for k, (t, p) in self._open()]
        return rows

    def frame(self, end: float | None = None) -> pd.DataFrame:
        """:meth:`rows` as a table in :data:`LATENCY_COLUMNS`, built from the columns.

        The same table as ``pd.DataFrame(self.rows(end), columns=list(LATENCY_COLUMNS))``,
        without a tuple per row.
        """
        completed = len(self._kind)
        if not completed:  # none or a few open ones: let pandas choose the dtypes, as for rows()
            return pd.DataFrame(self.rows(end), columns=list(LATENCY_COLUMNS))
        kind, platform = bytearray(self._kind), bytearray(self._platform)
        start, ends = array("d", self._start), array("d", self._end)
        if end is not None:
            for k, (t, p) in self._open():
                kind.append(k)
                platform.append(p)
                start.append(t)
                ends.append(end)
        start_ = np.frombuffer(start, dtype=np.float64)
        end_ = np.frombuffer(ends, dtype=np.float64)
        kinds, platforms = np.array(_KINDS, dtype=object), np.array(self._platforms, dtype=object)
        columns = {
            "kind": kinds[np.frombuffer(kind, dtype=np.uint8)],
            "platform": platforms[np.frombuffer(platform, dtype=np.uint8)],
            "start": start_,
            "end": end_,
            "latency_days": end_ - start_,  # IEEE subtraction, as end - start in rows()
            "observed": np.arange(len(kind)) < completed,
        }
        return pd.DataFrame({name: columns[name] for name in LATENCY_COLUMNS})

    def _open(self) -> list[tuple[int, _Start]]:
        """The latencies still open, as (kind code, start), in order of start."""
        open_: list[tuple[int, _Start]] = [(_UNINSTALL_CODE, s) for s in self._uninstalled.values()]
        open_ += [(_ROTATION_CODE, s) for waiting in self._rotated.values() for s in waiting]
        open_ += [(_SWITCH_CODE, s) for waiting, _ in self._switched.values() for s in waiting]
        open_.sort(key=lambda item: item[1][0])
        return open_

    def open_counts(self) -> dict[str, int]:
        """Truth changes the registry had not caught up with at the end (right-censored)."""
        return {
            UNINSTALL: len(self._uninstalled),
            ROTATION: sum(len(waiting) for waiting in self._rotated.values()),
            SWITCH: sum(len(waiting) for waiting, _ in self._switched.values()),
        }
