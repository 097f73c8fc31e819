"""The Python API of experiments, for notebooks and tests: replicate a scenario, or sweep it.

>>> from sim.experiment import replicate
>>> result = replicate("scenarios/baseline.toml", replications=8, workers=2)  # doctest: +SKIP
>>> result.figure("stale_rate")  # mean and 95 % CI over the replications  # doctest: +SKIP
>>> result.table  # the long table: one row per run, metric, platform and time  # doctest: +SKIP

Everything runs serially by default (``workers=1``); ``workers=N`` uses a local process pool and
``dask="local"`` or ``dask="tcp://scheduler:8786"`` a Dask cluster, with identical results.
With ``out=DIR`` the experiment folder is written there (see :mod:`sim.experiment.store`):
``resume=True`` keeps the runs already saved, ``overwrite=True`` starts an earlier experiment folder
afresh, and with neither an earlier experiment folder is kept and a numbered sibling written
(``ExperimentResult.directory`` says where); the folder gets ``report.md``, its plots and
``summary.json`` (:mod:`sim.report.experiment`) unless ``report=False``. Without ``out`` results
stay in memory.

``progress=True`` (the default) shows a progress bar of the runs when the session is interactive:
tqdm's notebook widget in Jupyter, a text bar on a terminal (``tqdm.auto``); nothing otherwise.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiment.execute import make_executor
from sim.experiment.plan import Plan, Run, plan_replications, plan_sweep
from sim.experiment.stats import CONFIDENCE, Interval, t_interval
from sim.experiment.store import ExperimentFolder, Store
from sim.experiment.table import SUMMARY
from sim.scenario.load import load_scenario
from sim.scenario.schema import Scenario

#: called with the runs left to do, before any runs
OnStart = Callable[[Sequence[Run]], None]
#: called after each run is saved, with the number of runs done and to do
OnRun = Callable[[Run, int, int], None]

ScenarioLike = Scenario | str | Path


@dataclass
class ExperimentResult:
    """The plan, the long table of every run, and the summary (mean and 95 % CI per figure)."""

    plan: Plan
    #: run_id, scenario, scenario_hash, <swept key paths>, replication, seed, metric, platform,
    #: time, value (see :mod:`sim.experiment.table`)
    table: pd.DataFrame
    #: point, scenario, scenario_hash, <swept key paths>, figure, mean, ci_low, ci_high, n
    summary: pd.DataFrame
    #: the experiment folder, when one was written
    directory: Path | None = None

    def values(self, figure: str, point: int = 0) -> pd.Series:
        """The summary figure ``figure`` of each replication of point ``point``, by replication."""
        rows = self.table[
            (self.table["metric"] == SUMMARY + figure)
            & self.table["run_id"].isin([run.run_id for run in self.plan.runs_of(point)])
        ]
        if rows.empty:
            raise KeyError(f"no summary figure {figure!r} for point {point}")
        return rows.set_index("replication")["value"].sort_index()

    def figure(self, figure: str, point: int = 0, confidence: float = CONFIDENCE) -> Interval:
        """The mean of ``figure`` over the replications of point ``point`` with its t interval."""
        return t_interval(self.values(figure, point).to_numpy(), confidence)


def summarize(plan: Plan, table: pd.DataFrame) -> pd.DataFrame:
    """Per point and summary figure: mean, 95 % CI low and high, and n (the replications used)."""
    figures = table[table["metric"].str.startswith(SUMMARY)]
    point_of = {run.run_id: run.point for run in plan.runs}
    figures = figures.assign(point=figures["run_id"].map(point_of))
    rows = []
    for point in plan.points:
        mine = figures[figures["point"] == point.index].sort_values(["replication"], kind="stable")
        labels = {
            "point": point.label,
            "scenario": point.scenario.scenario.name,
            "scenario_hash": point.scenario_hash,
            **dict(plan.runs_of(point.index)[0].params),
        }
        for metric, group in mine.groupby("metric", sort=False):
            interval = t_interval(group["value"].to_numpy())
            rows.append(
                {
                    **labels,
                    "figure": str(metric).removeprefix(SUMMARY),
                    "mean": interval.mean,
                    "ci_low": interval.low,
                    "ci_high": interval.high,
                    "n": interval.n,
                }
            )
    return pd.DataFrame(rows)


def run_experiment(
    plan: Plan,
    out: Path | str | ExperimentFolder | None = None,
    *,
    workers: int = 1,
    dask: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    on_start: OnStart | None = None,
    on_run: OnRun | None = None,
) -> ExperimentResult:
    """Run every run of ``plan`` (saving each as it finishes) and build the final tables.

    ``out`` is the experiment folder (see :mod:`sim.experiment.store`: an existing experiment
    folder is continued with ``resume``, started afresh with ``overwrite``, else kept and a
    numbered sibling written), or an :class:`ExperimentFolder` already opened by the caller;
    without it the results stay in memory. The workers (or the Dask cluster) are started before
    the folder is touched, so an executor that cannot start leaves no folder behind.
    """
    with contextlib.ExitStack() as stack:
        if out is None:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pushsim-")))
            written: Path | None = None
        else:
            folder = (
                out  # opened, and closed, by the caller
                if isinstance(out, ExperimentFolder)
                else stack.enter_context(ExperimentFolder(out, resume=resume, overwrite=overwrite))
            )
            directory = written = folder.folder
        executor = stack.enter_context(make_executor(workers, dask))
        store = Store(directory)
        todo = store.prepare(plan, resume=resume)
        if on_start is not None:
            on_start(todo)
        for done, (run, rows) in enumerate(executor.results(todo), start=1):
            store.save(run, rows)
            if on_run is not None:
                on_run(run, done, len(todo))
        table = store.load(plan)
        summary = summarize(plan, table)
        store.finish(plan, table, summary)
    return ExperimentResult(plan, table, summary, written)


def interactive() -> bool:
    """True in a Jupyter kernel, or when standard error is a terminal."""
    if "ipykernel" in sys.modules:
        return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """A tqdm.auto bar of the runs (``on_start``/``on_run`` callbacks); idle when not shown."""

    def __init__(self, description: str, enabled: bool = True) -> None:
        self.description = description
        self.enabled = enabled and interactive()
        self.bar: Any = None

    def on_start(self, todo: Sequence[Run]) -> None:
        if self.enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=len(todo), unit="run", desc=self.description)

    def on_run(self, run: Run, done: int, total: int) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def run_reported(
    plan: Plan,
    out: Path | str | None,
    *,
    workers: int = 1,
    dask: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    report: bool = True,
    after: Callable[[ExperimentResult, Path], pd.DataFrame | None] | None = None,
) -> ExperimentResult:
    """:func:`run_experiment` with a progress bar; with ``out``, ``after`` then the report.

    Both are written while the experiment folder is still locked; what ``after`` returns is the
    comparison table the report shows (None: not a comparison).
    """
    bar = Progress(plan.name, progress)
    try:
        if out is None:
            return run_experiment(
                plan, workers=workers, dask=dask, on_start=bar.on_start, on_run=bar.on_run
            )
        with ExperimentFolder(out, resume=resume, overwrite=overwrite) as folder:
            result = run_experiment(
                plan,
                folder,
                workers=workers,
                dask=dask,
                resume=resume,
                on_start=bar.on_start,
                on_run=bar.on_run,
            )
            figures = after(result, folder.folder) if after is not None else None
            if report:
                from sim.report.experiment import write_experiment_report

                write_experiment_report(result, folder.folder, figures)
        return result
    finally:
        bar.close()


def as_scenario(scenario: ScenarioLike, overrides: Sequence[str] = ()) -> Scenario:
    """A scenario, or the scenario file at a path (with ``key.path=value`` overrides)."""
    if isinstance(scenario, Scenario):
        if overrides:
            from sim.scenario.load import scenario_from_dict

            return scenario_from_dict(scenario.resolved(), scenario.scenario.name, overrides)
        return scenario
    return load_scenario(scenario, overrides)


def _source(scenario: ScenarioLike) -> str:
    return scenario.scenario.name if isinstance(scenario, Scenario) else str(scenario)


def replicate(
    scenario: ScenarioLike,
    replications: int | None = None,
    workers: int = 1,
    *,
    out: Path | str | None = None,
    dask: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    common_random_numbers: bool = True,
    overrides: Sequence[str] = (),
    progress: bool = True,
    report: bool = True,
) -> ExperimentResult:
    """Run ``scenario`` ``replications`` times (default: ``measurement.replications``).

    Each summary figure gets its mean and 95 % CI over the replications, warm-up excluded.
    """
    loaded = as_scenario(scenario, overrides)
    plan = plan_replications(
        loaded,
        replications,
        common_random_numbers=common_random_numbers,
        source=_source(scenario),
    )
    return run_reported(
        plan,
        out,
        workers=workers,
        dask=dask,
        resume=resume,
        overwrite=overwrite,
        progress=progress,
        report=report,
    )


def sweep(
    scenario: ScenarioLike,
    replications: int | None = None,
    workers: int = 1,
    *,
    out: Path | str | None = None,
    dask: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    common_random_numbers: bool = True,
    overrides: Sequence[str] = (),
    progress: bool = True,
    report: bool = True,
) -> ExperimentResult:
    """Run every point of the scenario's ``[sweep]``, each ``replications`` times.

    By default every point runs on the same seeds (common random numbers).
    """
    loaded = as_scenario(scenario, overrides)
    plan = plan_sweep(
        loaded,
        replications,
        common_random_numbers=common_random_numbers,
        source=_source(scenario),
    )
    return run_reported(
        plan,
        out,
        workers=workers,
        dask=dask,
        resume=resume,
        overwrite=overwrite,
        progress=progress,
        report=report,
    )
