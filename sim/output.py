"""Writing a run's results folder atomically.

Everything is written into a hidden temporary folder beside the target, which is renamed into
place only once complete; an interrupted run leaves no half-written results folder (the temporary
one is removed on the way out, and a stale one from a killed process is never mistaken for
results because of its name).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sim import __version__
from sim.metrics.results import RunResult
from sim.report import render_report, write_plots
from sim.scenario.load import to_toml
from sim.scenario.schema import Scenario


@contextlib.contextmanager
def atomic_folder(target: Path) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``target`` when the block ends without error."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; results are ordinary files
        yield staging
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, old / target.name)
            os.replace(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def summary_document(result: RunResult, scenario: Scenario) -> dict[str, Any]:
    """``summary.json``: every headline figure with the scenario, its hash, seed and version."""
    return {
        "pushsim_version": __version__,
        "scenario": scenario.scenario.name,
        "scenario_hash": scenario.digest(),
        "seed": result.seed,
        "days": result.days,
        "figures": result.summary(),
        "open_latencies": result.open_latencies,
    }


def write_run(result: RunResult, scenario: Scenario, target: Path) -> Path:
    """Write tables (CSV, Parquet), summary, resolved scenario, plots and report to ``target``.

    The tables hold the whole run; the summary, plots and report leave out the warm-up.
    """
    with atomic_folder(target) as folder:
        for name, frame in result.frames().items():
            frame.to_csv(folder / f"{name}.csv", index=False)
            frame.to_parquet(folder / f"{name}.parquet", index=False)
        measured = result.after_warm_up()
        document = summary_document(measured, scenario)
        (folder / "summary.json").write_text(
            json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        (folder / "scenario.resolved.toml").write_text(to_toml(scenario), encoding="utf-8")
        plots = write_plots(measured, folder, scenario.scenario.name)
        report = render_report(
            measured,
            scenario_name=scenario.scenario.name,
            scenario_hash=scenario.digest(),
            version=__version__,
            plots=[Path(p.name) for p in plots],
            description=scenario.scenario.description,
        )
        (folder / "report.md").write_text(report, encoding="utf-8")
    return target
