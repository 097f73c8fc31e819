"""``pushsim calibrate OBSERVATIONS --scenario BASE``: fit a scenario to a team's observations.

::

    pushsim calibrate examples/observations.toml --scenario baseline
    pushsim calibrate ours.toml --scenario ours_base.toml --out results/ours --resume

Everything is checked before the first run: the observations (every row with a standard error),
the base scenario, the output folder. Progress goes to stderr (a bar of runs, a line per
iteration); the folder gets ``calibrated.toml``, ``fit.json`` and ``report.md``
(:mod:`sim.calibration.store`). Interrupted, it keeps the points already run, and ``--resume``
carries on from them. Exit codes: 0 done (warnings included), 2 bad input or folder, 1 the
results could not be written.

:func:`add_arguments` and :func:`run` are what ``pushsim``'s command line wires in (building the
parser imports nothing heavy).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from sim.experiment.arguments import positive_int
from sim.scenario.errors import ScenarioError

EXAMPLE = (
    "example:\n"
    "  pushsim calibrate examples/observations.toml --scenario baseline\n"
    "  pushsim calibrate ours.toml --scenario ours_base.toml --out results/ours --resume\n\n"
    "exit codes: 0 done (read the warnings in the report); 2 bad input or output folder;\n"
    "1 the results could not be written"
)


def _positive_days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of days, got {text!r}") from None
    if not (value >= 31 and value <= 36_500):
        raise argparse.ArgumentTypeError(
            f"must be between 31 and 36500 days, got {text} (a day-30 uninstall share needs "
            "installs followed for 30 days)"
        )
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``pushsim calibrate``."""
    from sim.calibration.setup import Setup
    from sim.scenario.library import argument as file_argument

    parser.add_argument("observations", type=Path, help="observations file (TOML; see docs)")
    parser.add_argument(
        "--scenario",
        required=True,
        type=file_argument("scenario"),
        metavar="BASE",
        help="the base scenario: a scenario file, or the name of a packaged one (baseline, …)",
    )
    parser.add_argument(
        "--out", type=Path, help="calibration folder (default results/<base name>_calibration)"
    )
    parser.add_argument(
        "--devices",
        type=positive_int,
        default=Setup.devices,
        help=f"devices in each simulated world (default {Setup.devices:,}; arrivals scaled alike)",
    )
    parser.add_argument(
        "--days", type=_positive_days, help="days of each run (default: measurement.days)"
    )
    parser.add_argument(
        "--replications",
        type=positive_int,
        default=Setup.replications,
        help=f"seeds per point, the same at every point (default {Setup.replications})",
    )
    parser.add_argument(
        "--seed", type=int, help="first replication seed (default: measurement.seed)"
    )
    parser.add_argument(
        "--max-iterations",
        type=positive_int,
        default=Setup.max_iterations,
        help="most evaluations of the objective (scipy's max_nfev; default "
        f"{Setup.max_iterations}): each runs one point, and each iteration adds a Jacobian "
        "(one point per parameter)",
    )
    parser.add_argument(
        "--workers", type=positive_int, help="worker processes (default: every core)"
    )
    again = parser.add_mutually_exclusive_group()
    again.add_argument(
        "--resume", action="store_true", help="continue the calibration in --out from its points"
    )
    again.add_argument(
        "--overwrite", action="store_true", help="start the calibration in --out afresh"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress and no summary")


def run(args: argparse.Namespace) -> int:
    """Run ``pushsim calibrate``; returns the exit code (bad input raises ScenarioError)."""
    from sim.calibration.evaluate import Evaluator
    from sim.calibration.fit import Calibration, fit_rows
    from sim.calibration.observations import load_observations
    from sim.calibration.report import fit_json, report_markdown, scenario_toml
    from sim.calibration.setup import Setup
    from sim.calibration.store import CalibrationFolder, digest
    from sim.folders import FolderError
    from sim.interruption import exit_code, stopped
    from sim.interruption import tell as tell_now
    from sim.models.check import check_scenarios
    from sim.scenario.load import load_scenario
    from sim.workers import available_cores

    observations = load_observations(args.observations)
    fit_rows(observations)  # every row weighable, before anything else
    base_path: Path = args.scenario
    base = load_scenario(base_path)
    check_scenarios([base], str(base_path))  # its registry model loads and fits the protocol
    setup = Setup(
        devices=args.devices,
        days=args.days if args.days is not None else base.measurement.days,
        replications=args.replications,
        seed=args.seed if args.seed is not None else base.measurement.seed,
        max_iterations=args.max_iterations,
    )
    if setup.days < 31:
        raise ScenarioError(
            str(base_path),
            [
                (
                    "measurement.days",
                    f"calibration needs runs of at least 31 days (got {setup.days:g}); give --days",
                )
            ],
        )
    out = args.out or Path("results") / f"{base.scenario.name}_calibration"
    plan: dict[str, Any] = {
        "observations": digest(Path(args.observations).read_text(encoding="utf-8-sig")),
        "base": base.digest(),
        "setup": {
            "devices": setup.devices,
            "days": setup.days,
            "replications": setup.replications,
            "seed": setup.seed,
            "max_iterations": setup.max_iterations,
        },
    }
    folder = CalibrationFolder(out, plan, resume=args.resume, overwrite=args.overwrite)
    try:
        folder.open()
    except FolderError as error:
        folder.close()
        raise ScenarioError(str(out), [("--out", str(error))]) from None
    workers = args.workers or available_cores()
    show = not args.quiet
    try:
        for note in folder.notes:
            print(f"pushsim: {note}", file=sys.stderr)
        bar: Any = None
        if show and sys.stderr.isatty():
            from tqdm import tqdm

            bar = tqdm(unit="run", desc="calibrate", leave=False)

        def progress(runs: int) -> None:
            if bar is not None:
                bar.update(1)

        def tell(line: str) -> None:
            if not show:
                return
            if bar is not None:
                bar.write(f"pushsim: {line}", file=sys.stderr)
            else:
                print(f"pushsim: {line}", file=sys.stderr)

        try:
            with Evaluator(workers) as evaluator:
                calibration = Calibration(
                    base,
                    observations,
                    setup,
                    evaluator,
                    lookup=folder.points.get,
                    store=folder.add_point,
                    progress=progress,
                    report=tell,
                )
                tell(
                    f"fitting {len(calibration.parameters)} parameters to {len(calibration.rows)} "
                    f"rows: {setup.devices:,} devices × {setup.days:g} days, "
                    f"{setup.replications} replications per point, {workers} workers"
                )
                fit = calibration.run()
        except KeyboardInterrupt as stop:
            if bar is not None:
                bar.close()
                bar = None
            kept = len(folder.points)
            tell_now(
                f"pushsim: {stopped(stop)}; "
                + (
                    f"the {kept} points run so far are kept in {folder.folder}: the same "
                    "command with --resume carries on from them"
                    if kept
                    else "no point was finished, nothing is kept"
                )
            )
            return exit_code(stop)
        finally:
            if bar is not None:
                bar.close()
        extends = _extends(base_path, folder.folder)
        command = "pushsim calibrate " + " ".join(_quoted(a) for a in sys.argv[2:])
        try:
            folder.write(
                "calibrated.toml",
                scenario_toml(fit, extends=extends, observations_file=str(args.observations)),
            )
            folder.write("fit.json", fit_json(fit))
            report = folder.write(
                "report.md",
                report_markdown(
                    fit,
                    observations_file=str(args.observations),
                    base_file=str(base_path),
                    command=command,
                ),
            )
        except OSError as error:
            print(
                f"pushsim: cannot write the calibration to {folder.folder}: "
                f"{error.strerror or error}",
                file=sys.stderr,
            )
            return 1
    finally:
        folder.close()
    if show:
        for estimate in fit.estimates:
            flag = "" if estimate.identified else "  (not identified)"
            print(
                f"  {estimate.parameter.path:<40} {estimate.start:.4g} → {estimate.value:.4g} "
                f"[{estimate.low:.4g}, {estimate.high:.4g}]{flag}"
            )
        print(f"  χ² = {fit.chi_square:.2f} over {fit.dof} degrees of freedom; {fit.runs} runs")
        for warning in fit.warnings:
            print(f"pushsim: warning: {warning}", file=sys.stderr)
    print(
        f"calibration: {folder.folder}/  (scenario: {folder.folder / 'calibrated.toml'}, "
        f"report: {report})"
    )
    return 0


def _extends(base: Path, folder: Path) -> str:
    """How ``calibrated.toml`` in ``folder`` names the base: a packaged name, or a relative path."""
    from sim.scenario.library import UnknownName, packaged_file

    name = base.stem
    try:
        if packaged_file(name).resolve() == base.resolve():
            return name
    except UnknownName:  # not a packaged scenario: a path then
        pass
    return os.path.relpath(base.resolve(), folder.resolve())


def _quoted(text: str) -> str:
    return text if text and all(c.isalnum() or c in "-_./=:," for c in text) else repr(text)
