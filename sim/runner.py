"""Running a scenario: build the simulation from a :class:`Scenario`, run it day by day.

The day-by-day loop exists only to report progress; it does not change results (SimPy runs the
same events in the same order whether it is stopped every day or not). A scenario with
``measurement.shards`` > 1 runs as household shards (:mod:`sim.sharding`), on ``workers`` processes
or a Dask cluster.
"""

from __future__ import annotations

from collections.abc import Callable

from sim.metrics.results import RunResult
from sim.scenario.schema import Scenario
from sim.sharding import simulate_sharded
from sim.simulation import Simulation
from sim.world.world import collector_paused

Progress = Callable[[float], None]


def run_scenario(
    scenario: Scenario,
    *,
    seed: int | None = None,
    days: float | None = None,
    event_log: bool = False,
    progress: Progress | None = None,
    workers: int = 1,
    dask: str | None = None,
) -> RunResult:
    """Run ``scenario`` once; ``seed`` and ``days`` override its measurement section.

    ``progress`` is called with the number of days simulated so far, about once a day (for a
    sharded scenario: as shards finish). ``workers`` processes run the shards of a sharded
    scenario, or ``dask`` names a Dask cluster to run them on (a scheduler's address, or
    ``"local"`` for a LocalCluster of ``workers`` processes; a ValueError for a scenario of one
    shard); the result depends on neither.
    """
    measurement = scenario.measurement
    if dask is not None and measurement.shards < 2:
        raise ValueError("dask runs the household shards of a run: measurement.shards must be >= 2")
    run_days = days if days is not None else measurement.days
    run_seed = seed if seed is not None else measurement.seed
    if measurement.shards > 1:
        result = simulate_sharded(
            scenario.world(),
            days=run_days,
            seed=run_seed,
            shards=measurement.shards,
            workers=workers,
            dask=dask,
            sample_every_days=measurement.sample_every_days,
            event_log=event_log,
            progress=progress,
        )
        result.warm_up_days = min(measurement.warm_up_days, run_days)
        return result
    simulation = Simulation(
        scenario.world(),
        seed=run_seed,
        sample_every_days=measurement.sample_every_days,
        event_log=event_log,
    )
    try:
        day = 0.0
        with collector_paused():  # for the whole run, not day by day (see World.run)
            while day < run_days:
                day = min(run_days, day + 1.0)
                simulation.run(day)
                if progress is not None:
                    progress(day)
        result = simulation.result()
    finally:
        simulation.close()
    result.warm_up_days = min(measurement.warm_up_days, run_days)
    return result
