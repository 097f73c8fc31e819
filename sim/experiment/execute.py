"""Running the runs of a plan: in this process, in a local process pool, or on a Dask cluster.

The work of one run is :func:`run_rows`, a top-level function of a picklable :class:`Run` (the
point's resolved scenario as a dict, and the seed): it rebuilds and validates the scenario,
simulates it and returns the run's rows. Every executor yields (run, rows) as runs finish, in
whatever order; the caller saves each one, so the results never depend on the executor, the
worker count or the finishing order.

- :class:`SerialExecutor`: one run after another, here (the default from Python and notebooks);
- :class:`ProcessExecutor`: ``concurrent.futures.ProcessPoolExecutor`` with the ``forkserver``
  start method (``spawn`` where there is none): workers never inherit the caller's state, and
  exit when the caller dies (:mod:`sim.workers`); closed with runs unfinished (Ctrl-C, SIGTERM,
  an error), the pool is stopped at once, its workers terminated;
- :class:`DaskExecutor`: a Dask ``distributed`` cluster at an address, or ``"local"`` for a
  ``LocalCluster`` of worker processes (the ``pushsim[distributed]`` extra), started and closed
  by :func:`sim.cluster.dask_client`. Remote workers need pushsim installed; results come back
  to the caller, which alone writes files.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from types import TracebackType
from typing import Any

import pandas as pd

# NO_DASK and MissingDaskError are imported from here by the experiment commands
from sim.cluster import NO_DASK as NO_DASK
from sim.cluster import MissingDaskError as MissingDaskError
from sim.cluster import dask_client, describe, import_distributed
from sim.experiment.plan import Run
from sim.experiment.table import long_table
from sim.metrics.results import RunResult
from sim.runner import run_scenario
from sim.scenario.schema import Scenario
from sim.workers import start_pool, stop_pool, submit_all


def simulate(document: dict[str, Any], seed: int) -> RunResult:
    """Validate the resolved scenario ``document`` and run it once with ``seed``."""
    return run_scenario(Scenario.model_validate(document), seed=seed)


def run_rows(run: Run) -> pd.DataFrame:
    """The worker function: simulate ``run`` and return its rows of the long table."""
    return long_table(simulate(run.document, run.seed), run)


class Executor(ABC):
    """Runs runs; use as a context manager so workers are shut down."""

    #: how the runs are executed, for messages
    description = "executor"

    @abstractmethod
    def results(self, runs: Sequence[Run]) -> Iterator[tuple[Run, pd.DataFrame]]:
        """Yield (run, rows) for every run of ``runs``, as they finish."""

    @abstractmethod
    def close(self) -> None:
        """Release the workers."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


class SerialExecutor(Executor):
    """One run after another in this process."""

    description = "serial, in this process"

    def __init__(self, work: Callable[[Run], pd.DataFrame] = run_rows) -> None:
        self.work = work

    def results(self, runs: Sequence[Run]) -> Iterator[tuple[Run, pd.DataFrame]]:
        """Yield (run, rows) for each run, in order."""
        for run in runs:
            yield run, self.work(run)

    def close(self) -> None:
        """Nothing to release."""


class ProcessExecutor(Executor):
    """A local pool of ``workers`` processes (forkserver or spawn)."""

    def __init__(self, workers: int, work: Callable[[Run], pd.DataFrame] = run_rows) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers
        self.work = work
        self.description = f"{workers} worker processes"
        self._pool: ProcessPoolExecutor | None = None
        #: whether every run of the last results() came back
        self._finished = False

    def results(self, runs: Sequence[Run]) -> Iterator[tuple[Run, pd.DataFrame]]:
        """Yield (run, rows) as the pool finishes runs."""
        self._finished = False
        self._pool = start_pool(min(self.workers, max(1, len(runs))), [__name__])
        futures = submit_all(self._pool, self.work, runs)
        pending: dict[Future[pd.DataFrame], Run] = dict(zip(futures, runs, strict=True))
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: pending[f].run_id):
                run = pending.pop(future)
                yield run, future.result()
        self._finished = True

    def close(self) -> None:
        """Shut the pool down; with runs unfinished (interrupted, failed), stop it at once.

        Unfinished runs are abandoned: their workers are terminated rather than waited for.
        """
        if self._pool is not None:
            if self._finished:
                self._pool.shutdown(wait=True)
            else:
                stop_pool(self._pool)
            self._pool = None


class DaskExecutor(Executor):
    """A Dask cluster: a scheduler's ``address``, or ``"local"`` (see :mod:`sim.cluster`)."""

    def __init__(
        self, address: str, workers: int, work: Callable[[Run], pd.DataFrame] = run_rows
    ) -> None:
        distributed = import_distributed()
        self.work = work
        self._pending: dict[Any, tuple[Any, Run]] = {}
        self._stack = contextlib.ExitStack()
        self._client: Any = self._stack.enter_context(dask_client(address, workers))
        self.description = describe(address, workers)
        self._as_completed = distributed.as_completed

    def results(self, runs: Sequence[Run]) -> Iterator[tuple[Run, pd.DataFrame]]:
        """Yield (run, rows) as the cluster finishes runs."""
        self._pending = {}
        for run in runs:
            future = self._client.submit(self.work, run, pure=False)
            self._pending[future.key] = (future, run)
        futures = [future for future, _ in self._pending.values()]
        for future in self._as_completed(futures):
            _, run = self._pending.pop(future.key)
            yield run, future.result()

    def close(self) -> None:
        """Cancel unfinished runs; close the client, and the local cluster if started here."""
        if self._pending:
            self._client.cancel([future for future, _ in self._pending.values()])
            self._pending = {}
        self._stack.close()


def make_executor(workers: int = 1, dask: str | None = None) -> Executor:
    """Serial for one worker, a process pool for more, or Dask when ``dask`` is given."""
    if dask is not None:
        return DaskExecutor(dask, workers)
    if workers <= 1:
        return SerialExecutor()
    return ProcessExecutor(workers)
