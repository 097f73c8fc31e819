"""An experiment's folder: each run saved as it finishes, resumed runs skipped, the final tables.

Layout of ``DIR``::

    experiment.json      the plan: points, runs, seeds, resolved scenarios (written first)
    runs/<run_id>.parquet one run's rows of the long table, written when the run finishes
    results.parquet      every run's rows, sorted by run id (written last)
    summary.csv          per point and figure: mean, 95 % CI low / high, n
    comparison.csv       (compare only) per figure: B − A, paired and Welch CIs, width ratio
    summary.json         per point, figure and platform: mean, 95 % CI low / high, n
    report.md            the experiment's report, with its plots (*.png, :data:`PLOTS`)

The folder is chosen and locked by :class:`ExperimentFolder` before anything runs, with the rules
of :mod:`sim.folders`: an empty or new folder is used; an existing experiment folder (it has
``experiment.json``) is continued with ``resume``, started afresh with ``overwrite``, and otherwise
kept, the experiment going to a numbered sibling (``NAME-2``…); anything else is refused. Only
pushsim's own files are ever deleted: the final tables and run files that hold a pushsim run. Every
file is written to a temporary file in the same folder and renamed into place (``os.replace``), so a
killed experiment leaves only whole run files. ``resume`` keeps a run file whose scenario hash and
seed match the plan's run, and recomputes the others.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path
from typing import Self

import pandas as pd
import pyarrow.parquet as pq

from sim.experiment.plan import Plan, Run
from sim.folders import ClaimedFolder, FolderError, listing

RUNS = "runs"
RESULTS = "results.parquet"
SUMMARY = "summary.csv"
COMPARISON = "comparison.csv"
PLAN = "experiment.json"
SUMMARY_JSON = "summary.json"
REPORT = "report.md"
#: the report's plots (:mod:`sim.report.experiment_plots`): which are written depends on the kind
REACHABILITY_PLOT = "reachability_ci.png"
FIGURES_PLOT = "figures_ci.png"
SWEEP_PLOT = "sweep.png"
HEATMAP_PLOT = "sweep_heatmap.png"
FOREST_PLOT = "comparison_forest.png"
PLOTS = (REACHABILITY_PLOT, FIGURES_PLOT, SWEEP_PLOT, HEATMAP_PLOT, FOREST_PLOT)
#: written at the end of an experiment (removed at the start of the next one in the folder)
FINAL = (RESULTS, SUMMARY, COMPARISON, SUMMARY_JSON, REPORT, *PLOTS)


class ForeignFolderError(FolderError):
    """The folder holds something other than a pushsim experiment: it is left alone."""


def write_atomic(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` through a temporary file renamed into place."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def is_experiment(folder: Path) -> bool:
    """True when ``folder`` is a pushsim experiment folder (it has ``experiment.json``)."""
    return (folder / PLAN).is_file()


def _holds_run(path: Path) -> bool:
    """True when the Parquet file ``path`` holds the rows of the pushsim run it is named after."""
    try:
        column = pq.read_table(path, columns=["run_id"]).column("run_id")
    except Exception:  # not Parquet, or not a run table: not ours
        return False
    return set(column.to_pylist()) == {path.stem}


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as Parquet (no index)."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


class Store:
    """The folder of one experiment."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self.runs = self.directory / RUNS

    def check(self) -> None:
        """Refuse a folder that exists and is neither empty nor an experiment folder."""
        path = self.directory
        if not path.exists():
            return
        if not path.is_dir() or (any(path.iterdir()) and not is_experiment(path)):
            raise ForeignFolderError(
                f"{path} exists and is not a pushsim experiment folder (no {PLAN}); "
                "choose a new or empty folder"
            )

    def run_file(self, run: Run) -> Path:
        """Where run ``run`` is saved."""
        return self.runs / f"{run.run_id}.parquet"

    def is_done(self, run: Run) -> bool:
        """True when ``run``'s file exists, reads, and holds this run (same hash and seed)."""
        path = self.run_file(run)
        if not path.is_file():
            return False
        try:
            table = pq.read_table(path, columns=["run_id", "scenario_hash", "seed"])
        except Exception:  # a file that does not read as Parquet is recomputed
            return False
        if table.num_rows == 0:
            return False
        expected = {"run_id": run.run_id, "scenario_hash": run.scenario_hash, "seed": run.seed}
        return all(set(table.column(c).to_pylist()) == {v} for c, v in expected.items())

    def earlier_runs(self) -> list[Path]:
        """Run files already in the folder: Parquet files that hold the pushsim run they name."""
        if not self.runs.is_dir():
            return []
        return [path for path in sorted(self.runs.glob("*.parquet")) if _holds_run(path)]

    def leftovers(self) -> list[Path]:
        """Temporary run files of a killed experiment (named as :func:`write_atomic` names them)."""
        return sorted(self.runs.glob(".*.parquet.*.tmp")) if self.runs.is_dir() else []

    def prepare(self, plan: Plan, *, resume: bool) -> list[Run]:
        """Set the folder up for ``plan``; return the runs still to do.

        Without ``resume`` the folder starts afresh (earlier run files removed); with it, runs
        already saved are kept. The final tables of an earlier experiment are removed either way,
        and ``experiment.json`` is written. A folder that holds something else is refused
        (:class:`ForeignFolderError`) before anything is changed.
        """
        self.check()
        self.runs.mkdir(parents=True, exist_ok=True)
        for leftover in self.leftovers():
            leftover.unlink(missing_ok=True)
        for name in FINAL:
            (self.directory / name).unlink(missing_ok=True)
        if not resume:
            for path in self.earlier_runs():
                path.unlink()
        text = json.dumps(plan.describe(), indent=2, sort_keys=True) + "\n"
        write_atomic(self.directory / PLAN, text.encode("utf-8"))
        return [run for run in plan.runs if not (resume and self.is_done(run))]

    def save(self, run: Run, rows: pd.DataFrame) -> Path:
        """Save one finished run's rows."""
        path = self.run_file(run)
        write_atomic(path, parquet_bytes(rows))
        return path

    def load(self, plan: Plan) -> pd.DataFrame:
        """Every run of ``plan`` from its file, in run-id order."""
        missing = [run.run_id for run in plan.runs if not self.run_file(run).is_file()]
        if missing:
            raise FileNotFoundError(f"runs not finished: {', '.join(missing)}")
        ordered = sorted(plan.runs, key=lambda run: run.run_id)
        frames = [pd.read_parquet(self.run_file(run)) for run in ordered]
        return pd.concat(frames, ignore_index=True)

    def finish(self, plan: Plan, table: pd.DataFrame, summary: pd.DataFrame) -> None:
        """Write the final tables; remove run files that are not part of ``plan``."""
        wanted = {self.run_file(run) for run in plan.runs}
        for path in self.earlier_runs():
            if path not in wanted:
                path.unlink()
        write_atomic(self.directory / RESULTS, parquet_bytes(table))
        write_atomic(self.directory / SUMMARY, summary.to_csv(index=False).encode("utf-8"))


class ExperimentFolder(ClaimedFolder):
    """An experiment's folder, chosen, checked and locked before the experiment starts.

    ``resume`` or ``overwrite``: an existing experiment folder at ``target`` is the one to use
    (continued, or started afresh); without either, it is kept and the experiment goes to the
    first free numbered sibling. The lock is held until :meth:`close`; a folder created here that
    holds no finished run by then is removed again, so a run that never started leaves nothing.
    """

    def __init__(
        self, target: Path | str, *, resume: bool = False, overwrite: bool = False
    ) -> None:
        super().__init__(target)
        self.resume = resume
        self.overwrite = overwrite

    def open(self) -> Self:
        """Check the place, create missing parents, choose and lock the folder."""
        state = self._claim(
            reuse=self.resume or self.overwrite,
            needed_bytes=1,
            is_ours=is_experiment,
            refusal=_refusal,
        )
        if state == "absent":
            self._stack.callback(_remove_if_unused, self.folder)
        return self


def _refusal(folder: Path) -> ForeignFolderError:
    if folder.is_symlink() or not folder.is_dir():
        return ForeignFolderError(f"{folder} exists and is not a folder; choose another name")
    entries = sorted(path.name for path in folder.iterdir())
    return ForeignFolderError(
        f"{folder} exists and is not a pushsim experiment folder (no {PLAN}; it holds "
        f"{listing(entries)}), so it is left alone: choose a new or empty folder"
    )


def _remove_if_unused(directory: Path) -> None:
    """Remove a folder this process created if it holds only the plan and no run file."""
    store = Store(directory)
    if not directory.is_dir() or store.earlier_runs():
        return
    (directory / PLAN).unlink(missing_ok=True)
    for leftover in store.leftovers():
        leftover.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        store.runs.rmdir()
    with contextlib.suppress(OSError):
        directory.rmdir()
