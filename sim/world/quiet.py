"""Quiet sessions: the sessions that change nothing on a device, reported without waking it.

Most sessions re-report the same token, permission and user. Nothing on the device changes at
such a session, so its process need not wake for it: when it sleeps, the device's process draws
its coming sessions up to its next real change (:meth:`~sim.world.behaviour.Behaviour.life`) and
hands the quiet ones to this calendar. Each is reported — the provider's connection, the session
listeners, the SDK call — as it would have been from the process, at its own time, before
anything else in the world happens at or after that time: everything that reads or changes the
world (a device waking, a campaign, a probe, the nightly pruning, a sample, a story's step)
calls :meth:`QuietSessions.settle` first, which reports every quiet session due by then in time
order and then delivers the SDK batches due (:meth:`~sim.world.sdk.Sdk.settle`). The registry
and the providers therefore see the same calls, at the same times, in the same order, as from a
process woken for every session.

A session due at the very moment something else happens is reported first (as an SDK batch due
then is delivered first).
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush, heapreplace
from itertools import count

from sim.world.device import Device
from sim.world.sdk import Sdk

#: reports one session of a device at a time (the world's :class:`~sim.world.actions.Actions`)
Report = Callable[[float, Device], None]


class QuietSessions:
    """The calendar of quiet sessions not yet reported, in time order.

    One entry per device with sessions waiting: its next session, and the rest of its run.
    """

    __slots__ = ("_heap", "_order", "_report", "_sdk")

    def __init__(self, report: Report, sdk: Sdk) -> None:
        self._report = report
        self._sdk = sdk
        #: (time, order of adding, device, the device's later sessions, latest first): the
        #: order breaks ties, devices never compare
        self._heap: list[tuple[float, int, Device, list[float] | None]] = []
        self._order = count()

    def __len__(self) -> int:
        """Sessions waiting to be reported."""
        return sum(1 + (len(rest) if rest else 0) for _, _, _, rest in self._heap)

    def add(self, device: Device, times: list[float]) -> None:
        """Quiet sessions of ``device`` at ``times`` (ascending; none before anything reported).

        The calendar keeps ``times`` (reversed in place), so the caller hands it over.
        """
        times.reverse()
        first = times.pop()
        heappush(self._heap, (first, next(self._order), device, times or None))

    def settle(self, now: float) -> None:
        """Report every quiet session due by ``now``, then deliver the SDK batches due by then."""
        heap = self._heap
        if heap and heap[0][0] <= now:
            self._report_through(now)
        self._sdk.settle(now)

    def _report_through(self, now: float) -> None:
        """Report the quiet sessions due at or before ``now``, in time order."""
        heap, report, order = self._heap, self._report, self._order
        while heap and heap[0][0] <= now:
            at, _, device, rest = heap[0]
            if rest:
                heapreplace(heap, (rest.pop(), next(order), device, rest or None))
            else:
                heappop(heap)
            report(at, device)
