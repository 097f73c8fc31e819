"""The Python API: build a world from parameters, run it for N days, get the results.

>>> from sim.simulation import simulate
>>> from sim.world import WorldParams, PopulationParams
>>> result = simulate(WorldParams(population=PopulationParams(devices=200)), days=10, seed=1)
>>> sorted(result.frames())  # doctest: +NORMALIZE_WHITESPACE
['bounces', 'funnel', 'funnel_by_os', 'latencies', 'sends', 'sends_by_os', 'stale_causes',
 'timeseries', 'timeseries_by_os']
"""

from __future__ import annotations

import pandas as pd

from sim.metrics.eventlog import EVENT_COLUMNS, EventLog
from sim.metrics.latency import Latencies
from sim.metrics.results import RunResult
from sim.metrics.sends import OS_SEND_COLUMNS, SEND_COLUMNS, SendLedger
from sim.metrics.timeseries import (
    CAUSE_COLUMNS,
    COLUMNS,
    FUNNEL_COLUMNS,
    OS_COLUMNS,
    OS_FUNNEL_COLUMNS,
    TimeSeries,
)
from sim.registry.protocol import RegistryProtocol
from sim.scenario.schema import Measurement
from sim.world.params import WorldParams
from sim.world.population import Shard
from sim.world.world import World

#: one set of defaults: a scenario file's measurement section, left out
_DEFAULTS = Measurement()


class Simulation:
    """A populated world with its observers attached; run it in one go or in steps.

    ``shard`` makes it one shard of a household-sharded run (see :mod:`sim.sharding`).
    ``registry`` runs the world against that registry object (anything that implements
    :class:`~sim.registry.protocol.RegistryProtocol`, with no app added yet) instead of the model
    ``params.registry`` names: the way to measure a class defined in a notebook.
    """

    def __init__(
        self,
        params: WorldParams | None = None,
        *,
        seed: int = 0,
        sample_every_days: float = 1.0,
        event_log: bool = False,
        shard: Shard | None = None,
        registry: RegistryProtocol | None = None,
    ) -> None:
        self.world = World(params, seed, shard=shard, registry=registry)
        self.timeseries = TimeSeries(self.world, sample_every_days)
        self.sends = SendLedger(self.world.actions.installs)
        self.latencies = Latencies(self.world.registry)
        self.world.signals.send.append(self.sends.record)
        self.world.signals.truth.append(self.latencies.on_truth)
        self.log: EventLog | None = None
        if event_log:
            self.log = EventLog()
            self.world.registry.subscribe(self.log.on_token)
            self.world.signals.send.append(self.log.on_send)
        self.world.populate()
        self.world.env.process(self.timeseries.process())

    def close(self) -> None:
        """Release the registry's resources: an HTTP registry drops its registry on the server."""
        close = getattr(self.world.registry, "close", None)
        if callable(close):
            close()

    def run(self, days: float) -> None:
        """Advance to day ``days`` (from the start of the run)."""
        if days < self.world.env.now:
            raise ValueError(f"cannot run back to day {days}; the world is at {self.world.env.now}")
        if days == self.world.env.now:
            return  # already there (SimPy refuses to run until now)
        self.world.run(days)

    def result(self) -> RunResult:
        """The results so far; adds a final sample at the current time if none was taken there."""
        rows = self.timeseries.rows()
        now = self.world.env.now
        if not rows or rows[-1][0] < now:
            self.timeseries.sample()
        bounces = pd.DataFrame(
            [(*key, count) for key, count in self.sends.bounces.items()],
            columns=["campaign", "platform", "status", "reason", "count"],
        )
        return RunResult(
            seed=self.world.seed,
            days=now,
            params=self.world.params.as_dict(),
            timeseries=pd.DataFrame(self.timeseries.rows(), columns=list(COLUMNS)),
            sends=pd.DataFrame(self.sends.rows(), columns=list(SEND_COLUMNS)),
            bounces=bounces,
            latencies=self.latencies.frame(end=now),
            funnel=pd.DataFrame(self.timeseries.funnel_rows(), columns=list(FUNNEL_COLUMNS)),
            stale_causes=pd.DataFrame(self.timeseries.cause_rows(), columns=list(CAUSE_COLUMNS)),
            timeseries_by_os=pd.DataFrame(self.timeseries.os_rows(), columns=list(OS_COLUMNS)),
            funnel_by_os=pd.DataFrame(
                self.timeseries.os_funnel_rows(), columns=list(OS_FUNNEL_COLUMNS)
            ),
            sends_by_os=pd.DataFrame(self.sends.os_rows(), columns=list(OS_SEND_COLUMNS)),
            open_latencies=self.latencies.open_counts(),
            events=(
                pd.DataFrame(self.log.rows(), columns=list(EVENT_COLUMNS))
                if self.log is not None
                else None
            ),
        )


def simulate(
    params: WorldParams | None = None,
    *,
    days: float = _DEFAULTS.days,
    seed: int = _DEFAULTS.seed,
    sample_every_days: float = _DEFAULTS.sample_every_days,
    warm_up_days: float = _DEFAULTS.warm_up_days,
    event_log: bool = False,
) -> RunResult:
    """Build a world from ``params``, run it for ``days`` days with ``seed``, return its results.

    The defaults are a scenario file's (``[measurement]`` left out): 365 days, seed 0, a sample a
    day, no warm-up; ``warm_up_days`` leaves the first days out of every figure, as the file's
    key does.
    """
    simulation = Simulation(
        params, seed=seed, sample_every_days=sample_every_days, event_log=event_log
    )
    try:
        simulation.run(days)
        result = simulation.result()
    finally:
        simulation.close()
    result.warm_up_days = min(warm_up_days, days)
    return result
