"""One run of a population sharded by household: K independent worlds, one merged result.

A scenario with ``measurement.shards = K`` splits its world's households into K shards (household
number modulo K, from the population drawn exactly as an unsharded run draws it). Each shard is a
world of its own — registry, providers, campaigns on the same schedule, arrivals at 1/K of the
rate, random streams derived from (seed, shard) — simulated alone: serially, on a pool of local
worker processes, or on a Dask cluster (``dask``: a scheduler's address, or ``"local"`` for a
LocalCluster; see :mod:`sim.cluster` and ``docs/cluster.md``), one task per shard.
:func:`sim.metrics.results.merge` joins the shards' results into one result of the unsharded
shape, in the calling process, which holds every shard's result until the merge is done.

Nothing in the model crosses households except campaigns (each shard sends every campaign to its
own audience at the same time), arrivals (each shard has its own arrival stream) and the SDK's
batched flush (a batch forms per world, so a call may reach the registry at another moment within
the flush delay). A sharded run is therefore statistically equivalent to the unsharded one, not
equal to it: the streams differ. With K = 1 it *is* the unsharded run. The result never depends
on where the shards ran nor on the number of workers: each shard's result depends only on
(scenario, seed, shard), and the shards are merged in shard order.

Event logs: provider token strings are only unique within a world, so the tokens in a shard's
event log get the shard's prefix (``s1-apns-1f``), like the devices created during the run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sim.metrics.results import RunResult, merge
from sim.simulation import Simulation
from sim.workers import submit_all, worker_pool
from sim.world.params import WorldParams
from sim.world.population import Shard

#: called with the (shard-equivalent) days simulated so far
Progress = Callable[[float], None]


@dataclass(frozen=True)
class ShardRun:
    """Everything one shard needs, picklable for a worker process."""

    params: WorldParams
    seed: int
    days: float
    shard: Shard
    sample_every_days: float = 1.0
    event_log: bool = False


def run_shard(run: ShardRun) -> RunResult:
    """The worker function: simulate one shard for its days and return its result."""
    simulation = Simulation(
        run.params,
        seed=run.seed,
        sample_every_days=run.sample_every_days,
        event_log=run.event_log,
        shard=run.shard,
    )
    try:
        simulation.run(run.days)
        result = simulation.result()
    finally:
        simulation.close()
    if result.events is not None and run.shard.sharded:
        tokens = result.events["token"]
        result.events["token"] = tokens.where(tokens.isna(), run.shard.prefix + tokens.astype(str))
    return result


def simulate_sharded(
    params: WorldParams,
    *,
    days: float,
    seed: int,
    shards: int,
    workers: int = 1,
    sample_every_days: float = 1.0,
    event_log: bool = False,
    progress: Progress | None = None,
    dask: str | None = None,
) -> RunResult:
    """Simulate ``params`` split into ``shards`` household shards; merge their results.

    ``workers`` > 1 runs the shards on a pool of that many processes (at most one per shard).
    ``dask`` runs them on a Dask cluster instead, one task per shard: a scheduler's address
    (``"tcp://host:8786"``, its workers' count is the cluster's), or ``"local"`` for a
    LocalCluster of ``min(workers, shards)`` processes started and closed here
    (:func:`sim.cluster.dask_client`; :class:`sim.cluster.MissingDaskError` without Dask). The
    result is the same, byte for byte, wherever the shards run. ``progress`` is called as shards
    finish (in shard order), with ``days`` × the share of shards done.
    """
    if shards < 1:
        raise ValueError(f"shards must be >= 1, got {shards}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    runs = [
        ShardRun(params, seed, days, Shard(index, shards), sample_every_days, event_log)
        for index in range(shards)
    ]
    results: list[RunResult] = []

    def finished(result: RunResult) -> None:
        results.append(result)
        if progress is not None:
            progress(days * len(results) / shards)

    if dask is not None:
        from sim.cluster import dask_client  # Dask is optional, and heavy to import

        with dask_client(dask, min(workers, shards)) as client:
            futures = [client.submit(run_shard, run, pure=False) for run in runs]
            try:
                for future in futures:  # in shard order
                    finished(future.result())
            except BaseException:  # an error, Ctrl-C or SIGTERM: stop the shards still to come
                client.cancel(futures)
                raise
    elif workers == 1 or shards == 1:
        for run in runs:
            finished(run_shard(run))
    else:
        # an interruption or an error stops the workers at once (see sim.workers)
        with worker_pool(min(workers, shards), [__name__]) as pool:
            for future in submit_all(pool, run_shard, runs):  # in shard order
                finished(future.result())
    return merge(results)
