"""Quiet sessions: reported without waking their device, and changing nothing but when draws happen.

The strong check: with one session stream per device (so that drawing a device's sessions ahead
cannot shift anyone else's draws), a world whose devices hand their quiet sessions to the calendar
gives, table for table and event for event, the results of the same world whose devices wake for
every session (``QUIET_RUN = 0``), while dispatching a fraction of the SimPy events.

Times agree to the last bits, not bit for bit: a process woken by a timeout is at
``now + (t - now)``, which can differ from t in the last place, while a quiet session is reported
at t itself; so times compare with a relative tolerance of 1e-9 (a latency of 10 seconds measured
between two times near day 100 carries an error of about 1e-11 of itself).
"""

from __future__ import annotations

import math
import zlib
from typing import Any

import numpy as np
import pandas as pd
import pytest

import sim.world.behaviour as behaviour_module
import sim.world.world as world_module
from sim.simulation import Simulation
from sim.world.behaviour import Behaviour, ExponentialWaits
from sim.world.device import Device, DeviceKind
from sim.world.quiet import QuietSessions
from sim.world.sdk import Sdk
from tests.world.busy import busy_world

#: the number of quiet sessions handed over at a time, as shipped
QUIET_RUN = behaviour_module.QUIET_RUN


class DeviceStreams(Behaviour):
    """Behaviour with one session stream per device: draw order no longer matters."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._streams: dict[str, ExponentialWaits] = {}

    def sessions_of(self, device: Device) -> ExponentialWaits:
        waits = self._streams.get(device.device_id)
        if waits is None:
            key = zlib.crc32(device.device_id.encode())
            waits = self._streams[device.device_id] = ExponentialWaits(
                np.random.default_rng([7, key])
            )
        return waits


def run(quiet_run: int, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, pd.DataFrame], int]:
    """The results (every table, event log included) and SimPy events of a busy small world."""
    monkeypatch.setattr(world_module, "Behaviour", DeviceStreams)
    monkeypatch.setattr(behaviour_module, "QUIET_RUN", quiet_run)
    params = busy_world(1200, 6.0)
    simulation = Simulation(params, seed=5, event_log=True)
    simulation.run(150.0)
    env = simulation.world.env
    dispatched = int(next(env._eid)) - len(env._queue)
    return simulation.result().frames(), dispatched


def test_quiet_sessions_give_the_results_of_waking_for_every_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    awake, awake_events = run(0, monkeypatch)
    quiet, quiet_events = run(QUIET_RUN, monkeypatch)
    assert awake.keys() == quiet.keys()
    for name, frame in awake.items():
        pd.testing.assert_frame_equal(
            quiet[name], frame, check_exact=False, rtol=1e-9, atol=0.0, obj=name
        )
    assert len(awake["events"]) > 1000  # a world where plenty happened
    # a session that changes nothing no longer wakes its device: here 19,357 events against
    # 44,831 (this world's probes, pruning, logouts and switches are events either way)
    assert quiet_events < 0.6 * awake_events


class Reports:
    def __init__(self) -> None:
        self.seen: list[tuple[float, str]] = []

    def __call__(self, at: float, device: Device) -> None:
        self.seen.append((at, device.device_id))


class NoCalls:
    """A registry the SDK never calls in these tests (nothing is queued)."""


def device(name: str) -> Device:
    return Device(name, DeviceKind.IOS, "p", ("p",))


def test_the_calendar_reports_in_time_order_and_ties_in_the_order_added() -> None:
    reports = Reports()
    calendar = QuietSessions(reports, Sdk(NoCalls(), 0.0))  # type: ignore[arg-type]
    a, b = device("a"), device("b")
    calendar.add(a, [2.0, 3.0])
    calendar.add(b, [1.0, 2.0])
    assert len(calendar) == 4
    calendar.settle(1.5)
    assert reports.seen == [(1.0, "b")]
    calendar.settle(2.0)  # inclusive: a session at the moment of a read is reported before it
    assert reports.seen[1:] == [(2.0, "a"), (2.0, "b")]  # a tie: in the order handed over
    calendar.settle(math.nextafter(3.0, -math.inf))  # World.run's exclusive end
    assert len(calendar) == 1
    calendar.settle(3.5)
    assert reports.seen[-1] == (3.0, "a")
    assert len(calendar) == 0
