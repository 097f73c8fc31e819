"""Simulated moments at candidate parameter points: replications, common random numbers, workers.

Every candidate point runs the same replication seeds (common random numbers: two points differ
by their parameters, not by their luck), each replication one world of the calibration's size.
A point's moment is the count-weighted mean of its replications (a ratio of sums). Its simulation
standard error is the larger of two estimates: the spread of the replications over √R (unbiased,
but itself noisy with a few replications) and the sampling error of the pooled units (binomial for
a share, the units' spread over √count for a mean; too small where units are correlated, such as
one install's weeks). Taking the larger keeps the fit's weights and uncertainty from resting on a
spread measured from two values.

The runs of a batch of points (a Jacobian's, say) go to the worker pool together, and come back in
submission order: the moments, and so the fit, do not depend on the number of workers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from sim.calibration.moments import Key, MomentRecorder
from sim.calibration.observations import Observable
from sim.scenario.schema import Scenario
from sim.simulation import Simulation
from sim.workers import start_pool, stop_pool, submit_all

#: one replication's moments, as plain tuples (pickled from the workers, stored as JSON):
#: observable, qualifier, value, count, spread (a mean's unit standard deviation, else None)
RawMoments = list[tuple[str, str | None, float | None, int, float | None]]


@dataclass(frozen=True)
class Task:
    """One replication of one point: the resolved scenario document, the seed and the days."""

    document: dict[str, Any]
    seed: int
    days: float


def run_task(task: Task) -> RawMoments:
    """Run one world and measure its moments (in a worker, or here)."""
    scenario = Scenario.model_validate(task.document)
    simulation = Simulation(scenario.world(), seed=task.seed)
    try:
        recorder = MomentRecorder(simulation.world)
        simulation.run(task.days)
        moments = recorder.measure()
    finally:
        simulation.close()
    return [(key[0].value, key[1], m.value, m.count, m.spread) for key, m in moments.items()]


@dataclass(frozen=True)
class PointMoments:
    """A point's moments over its replications: the mean and the simulation standard error."""

    mean: dict[Key, float]
    standard_error: dict[Key, float]
    count: dict[Key, int]

    @classmethod
    def of(cls, replications: Sequence[RawMoments]) -> PointMoments:
        """Combine the replications of one point (count-weighted mean, spread over √R)."""
        values: dict[Key, list[tuple[float, int, float | None]]] = {}
        for raw in replications:
            for observable, qualifier, value, count, spread in raw:
                if value is not None and count > 0:
                    key = (Observable(observable), qualifier)
                    values.setdefault(key, []).append((value, count, spread))
        mean, error, counts = {}, {}, {}
        for key, triples in values.items():
            total = sum(count for _, count, _ in triples)
            centre = sum(value * count for value, count, _ in triples) / total
            mean[key], counts[key] = centre, total
            between = 0.0
            if len(triples) > 1:
                plain = [value for value, _, _ in triples]
                average = sum(plain) / len(plain)
                variance = sum((v - average) ** 2 for v in plain) / (len(plain) - 1)
                between = math.sqrt(variance / len(plain))
            spreads = [spread for _, _, spread in triples if spread is not None]
            if spreads:  # a mean over units: their spread, pooled
                unit_variance = sum(s * s * c for _, c, s in triples if s is not None) / total
                sampling = math.sqrt(unit_variance / total)
            else:  # a share: binomial over the pooled units
                p = min(1.0, max(0.0, centre))
                sampling = math.sqrt(p * (1 - p) / total)
            error[key] = max(between, sampling)
        return cls(mean, error, counts)


class Evaluator(AbstractContextManager["Evaluator"]):
    """Runs batches of tasks on ``workers`` processes (here, when 1), results in task order."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = max(1, workers)
        self._pool: ProcessPoolExecutor | None = None

    def run(
        self, tasks: Sequence[Task], done: Callable[[], None] | None = None
    ) -> list[RawMoments]:
        """Every task's moments, in order; ``done`` is called as each task finishes."""
        results: list[RawMoments] = []
        for raw in self._results(tasks):
            results.append(raw)
            if done is not None:
                done()
        return results

    def _results(self, tasks: Sequence[Task]) -> Iterator[RawMoments]:
        if self.workers == 1 or len(tasks) <= 1:
            for task in tasks:
                yield run_task(task)
            return
        if self._pool is None:
            self._pool = start_pool(self.workers, [__name__])
        for future in submit_all(self._pool, run_task, tasks):
            yield future.result()

    def close(self) -> None:
        """Stop the workers (at once: nothing is left to wait for once the caller is done)."""
        if self._pool is not None:
            stop_pool(self._pool)
            self._pool = None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
