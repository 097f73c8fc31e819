"""Writing a run's results: tables, summary, resolved scenario, plots and report.

:func:`write_results` fills a folder; :func:`write_run` does it through a
:class:`~sim.folders.ResultsFolder`, so the folder appears whole or not at all, carries the
manifest that makes it pushsim's, and never replaces what pushsim did not write.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sim import __version__
from sim.folders import ResultsFolder
from sim.metrics.results import RunResult
from sim.report import render_report, write_plots
from sim.scenario.load import to_toml
from sim.scenario.schema import Scenario


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


def write_results(result: RunResult, scenario: Scenario, folder: Path) -> None:
    """Write tables (CSV, Parquet), summary, resolved scenario, plots and report into ``folder``.

    The tables hold the whole run; the summary, plots and report leave out the warm-up.
    """
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


def write_run(
    result: RunResult, scenario: Scenario, target: Path, *, overwrite: bool = False
) -> Path:
    """Write the results folder ``target`` whole; returns where it went.

    An existing results folder of pushsim's at ``target`` is kept and the results go to its first
    free numbered sibling, unless ``overwrite``; a folder holding anything else is refused
    (:class:`~sim.folders.FolderError`).
    """
    with ResultsFolder(Path(target), overwrite=overwrite) as results:
        write_results(result, scenario, results.staging)
        return results.publish()
