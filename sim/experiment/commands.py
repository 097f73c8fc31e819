"""Command-line experiments: ``pushsim sweep``, ``pushsim compare``, ``run --replications``.

:func:`add_commands` adds the ``sweep`` and ``compare`` subcommands to ``pushsim``'s subparsers,
:func:`add_replication_options` adds ``--replications``, ``--workers`` and ``--dask`` to its
``run`` command, and :func:`run_replications` handles ``pushsim run SCENARIO --replications R``.
Handlers return exit codes (0 ok, 2 bad input, 130 interrupted); a :class:`ScenarioError`
propagates to the caller, which prints it and exits 2. :func:`main` runs the two subcommands on
their own (``python -m sim.experiment``).

On the command line experiments use every core by default (``--workers``); from Python they run
serially unless asked.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sim import __version__
from sim.capacity import check_capacity, estimate
from sim.experiment.api import ExperimentResult, run_experiment
from sim.experiment.arguments import add_commands
from sim.experiment.comparison import HEADLINE, Comparison, paired_figures
from sim.experiment.execute import NO_DASK, MissingDaskError
from sim.experiment.formatting import interval, number
from sim.experiment.plan import Plan, Run, plan_comparison, plan_replications, plan_sweep
from sim.experiment.store import COMPARISON, ExperimentFolder, Store, write_atomic
from sim.folders import FolderError
from sim.interruption import exit_code, signals_handled, stopped, tell
from sim.models.check import check_scenarios
from sim.models.guard import RegistryFailure
from sim.scenario.errors import ScenarioError
from sim.scenario.load import load_scenario, wrong_kind
from sim.workers import available_cores


def _number(value: float) -> str:
    """A terminal table's figure: as the reports write it, without thousands separators."""
    return number(value, grouped=False)


def _interval(low: float, high: float) -> str:
    return interval(low, high, grouped=False)


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        ("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))).rstrip()
        for row in rows
    ]


def _summary_lines(result: ExperimentResult, figures: Sequence[str] | None = None) -> list[str]:
    summary = result.summary
    names = list(dict.fromkeys(summary["figure"]))
    shown = [n for n in names if figures is None or n in figures]
    lines = []
    if len(result.plan.points) == 1:
        rows = [["figure", "mean", "95 % CI", "n"]]
        for _, row in summary[summary["figure"].isin(shown)].iterrows():
            rows.append(
                [
                    row["figure"],
                    _number(row["mean"]),
                    _interval(row["ci_low"], row["ci_high"]),
                    str(row["n"]),
                ]
            )
        return _table(rows)
    for name in shown:
        lines.append(f"{name}  (mean, 95 % CI)")
        rows = []
        for point in result.plan.points:
            row = summary[(summary["point"] == point.label) & (summary["figure"] == name)].iloc[0]
            rows.append(
                [
                    point.label,
                    point.describe_values() or point.scenario.scenario.name,
                    _number(row["mean"]),
                    _interval(row["ci_low"], row["ci_high"]),
                ]
            )
        lines += _table(rows)
    return lines


def comparison_lines(plan: Plan, figures: Any) -> list[str]:
    """The comparison table: A, B, B − A, paired CI, Welch CI, width ratio."""
    a, b = plan.points
    rows = [["figure", "A", "B", "B − A", "paired 95 % CI", "Welch 95 % CI", "paired/Welch width"]]
    for _, row in figures[figures["figure"].isin(HEADLINE)].iterrows():
        ratio = row["width_ratio"]
        if not math.isfinite(ratio):
            narrower = "n/a"
        elif ratio == 0:
            narrower = "0 (every pair equal)"
        elif ratio > 1:
            narrower = f"{ratio:.2f} (pairing did not help)"
        else:
            narrower = f"{ratio:.2f} ({1 / ratio:.1f}× narrower)"
        rows.append(
            [
                row["figure"],
                _number(row["mean_a"]),
                _number(row["mean_b"]),
                _number(row["difference"]),
                _interval(row["paired_low"], row["paired_high"]),
                _interval(row["welch_low"], row["welch_high"]),
                narrower,
            ]
        )
    return [
        f"A: {a.label} {a.scenario.scenario.name} {a.describe_values()}".rstrip(),
        f"B: {b.label} {b.scenario.scenario.name} {b.describe_values()}".rstrip(),
        f"B − A over {plan.replications} paired replications (common random numbers: "
        f"{'yes' if plan.common_random_numbers else 'no'})",
        *_table(rows),
    ]


# ---------------------------------------------------------------- running


def _workers(args: argparse.Namespace) -> int:
    workers: int | None = getattr(args, "workers", None)
    return workers if workers is not None else available_cores()


#: called with the finished experiment and its folder while the folder is still locked
AfterRuns = Callable[[ExperimentResult, Path], None]


def _execute(
    args: argparse.Namespace,
    plan: Plan,
    out: Path,
    source: str,
    *,
    listing: bool = True,
    after: AfterRuns | None = None,
) -> ExperimentResult | int:
    """Run ``plan`` into ``out`` with the options of ``args``; an exit code on failure.

    The folder is checked, chosen (``out`` or a numbered sibling) and locked before anything
    runs; ``after`` writes what follows from the result while the lock is still held.
    """
    quiet = bool(getattr(args, "quiet", False))
    resume = bool(getattr(args, "resume", False))
    overwrite = bool(getattr(args, "overwrite", False))
    dask: str | None = getattr(args, "dask", None)
    workers = _workers(args)
    if resume and overwrite:
        raise ScenarioError(
            source, [("--overwrite", "cannot be combined with --resume: choose one")]
        )
    if dask is not None:
        try:
            import distributed  # noqa: F401
        except ImportError:
            print(f"pushsim: {NO_DASK}", file=sys.stderr)
            return 2
    check_scenarios([point.scenario for point in plan.points], source)  # model cannot run: 2
    for warning in _capacity(plan, source, workers=workers, dask=dask):  # too big: exit 2 now
        print(f"pushsim: {warning}", file=sys.stderr)
    if getattr(args, "dry_run", False):
        if listing and not quiet:
            print("\n".join(plan.listing()))
        return 0
    folder = ExperimentFolder(out, resume=resume, overwrite=overwrite)
    try:
        folder.open()
    except FolderError as error:
        raise ScenarioError(source, [("--out", str(error))]) from None
    with contextlib.closing(folder):
        for note in folder.notes:
            print(f"pushsim: {note}", file=sys.stderr)
        return _run_in(args, plan, folder, listing=listing, workers=workers, after=after)


def _run_in(
    args: argparse.Namespace,
    plan: Plan,
    folder: ExperimentFolder,
    *,
    listing: bool,
    workers: int,
    after: AfterRuns | None,
) -> ExperimentResult | int:
    quiet = bool(getattr(args, "quiet", False))
    resume = bool(getattr(args, "resume", False))
    dask: str | None = getattr(args, "dask", None)
    out = folder.folder
    if listing and not quiet:
        print("\n".join(plan.listing()))
    bar: Any = None
    show_bar = not quiet and sys.stderr.isatty()

    def on_start(todo: Sequence[Run]) -> None:
        nonlocal bar
        if quiet:
            return
        used = min(workers, len(todo) or 1)
        where = f"Dask at {dask}" if dask is not None else f"{used} worker{'s' if used > 1 else ''}"
        kept = len(plan.runs) - len(todo)
        note = f", {kept} already done (--resume)" if kept else ""
        print(f"running {len(todo)} runs on {where}{note} → {out}/", file=sys.stderr)
        if show_bar:
            from tqdm import tqdm

            bar = tqdm(total=len(todo), unit="run", desc=plan.name, leave=False)

    def on_run(run: Run, done: int, total: int) -> None:
        if bar is not None:
            bar.update(1)
        elif not quiet:
            print(f"  [{done}/{total}] {run.run_id} saved", file=sys.stderr)

    earlier = len(Store(out).earlier_runs())
    if earlier and not resume and not quiet:
        print(
            f"starting afresh (--overwrite): the {earlier} earlier run files in {out}/runs are "
            "replaced",
            file=sys.stderr,
        )
    try:
        result = run_experiment(
            plan,
            folder,
            workers=workers,
            dask=dask,
            resume=resume,
            on_start=on_start,
            on_run=on_run,
        )
        if after is not None:
            after(result, out)
        return result
    except MissingDaskError:
        print(f"pushsim: {NO_DASK}", file=sys.stderr)
        return 2
    except RegistryFailure as failure:  # the registry under test raised, or its service
        print(
            f"pushsim: {failure}; finished runs are kept in {out}/runs",
            file=sys.stderr,
        )
        return 1
    except (OSError, TimeoutError) as error:
        if dask is None:
            print(
                f"pushsim: cannot write the experiment to {out}: {_reason(error)}",
                file=sys.stderr,
            )
            return 1
        print(f"pushsim: cannot use the Dask cluster at {dask}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM (sim.interruption.Interrupted)
        again = "--resume" if out == folder.target else f"--resume --out {out}"
        print(
            f"pushsim: {stopped(stop)}; finished runs are kept in {out}/runs — "
            f"run the same command with {again} to continue",
            file=sys.stderr,
        )
        return exit_code(stop)
    finally:
        if bar is not None:
            bar.close()


def _capacity(plan: Plan, source: str, *, workers: int, dask: str | None) -> list[str]:
    """Warnings about the experiment's size; :class:`ScenarioError` when it cannot fit or finish.

    The largest point is checked: ``min(workers, runs)`` processes each hold one of its worlds
    (a remote Dask cluster's memory is not this machine's, and is not checked).
    """
    remote = dask is not None and dask != "local"  # "local": a LocalCluster on this machine
    runs = len(plan.runs)
    largest = max(
        plan.points,
        key=lambda point: estimate(point.scenario, workers=workers, runs=runs).peak_bytes,
    )
    return check_capacity(largest.scenario, source, workers=workers, runs=runs, remote=remote)


def _reason(error: BaseException) -> str:
    return (error.strerror if isinstance(error, OSError) else None) or str(error)


def write_report(result: ExperimentResult, directory: Path, figures: Any = None) -> None:
    """Write the experiment's ``report.md``, plots and ``summary.json`` (an ``after`` hook)."""
    from sim.report.experiment import write_experiment_report

    write_experiment_report(result, directory, figures)


def _footer(out: Path, extra: str = "") -> str:
    return (
        f"results: {out}/results.parquet (long table), {out}/summary.csv, "
        f"{out}/experiment.json{extra}"
    )


def _report_line(args: argparse.Namespace, out: Path) -> None:
    if not getattr(args, "quiet", False):
        print(f"report: {out}/report.md (its plots and summary.json beside it)")


def sweep_command(args: argparse.Namespace) -> int:
    """``pushsim sweep SCENARIO``: list the runs, run them, print the headline figures."""
    wrong_kind(args.scenario, "sweep")
    overrides = with_days(args.scenario, args.overrides, getattr(args, "days", None))
    scenario = load_scenario(args.scenario, overrides)
    if scenario.sweep is None:
        raise ScenarioError(
            str(args.scenario),
            [
                (
                    "sweep",
                    'missing: declare [sweep.values] such as "policy.uninstall_tracking" = '
                    "[false, true] (or use pushsim run --replications R)",
                )
            ],
        )
    plan = plan_sweep(
        scenario,
        args.replications,
        common_random_numbers=not args.independent_seeds,
        source=str(args.scenario),
    )
    out = args.out if args.out is not None else Path("results") / f"{plan.name}-sweep"
    result = _execute(args, plan, out, str(args.scenario), after=write_report)
    if isinstance(result, int):
        return result
    out = result.directory or out
    if not args.quiet:
        print(f"pushsim {__version__} — {_warm_up_note(plan)}")
        print("\n".join(_summary_lines(result, HEADLINE)))
    print(_footer(out))
    _report_line(args, out)
    return 0


def compare_command(args: argparse.Namespace) -> int:
    """``pushsim compare A B``: both on the same seeds; B − A with paired and Welch CIs."""
    days = getattr(args, "days", None)
    wrong_kind(args.a, "compare")
    a = load_scenario(args.a, with_days(args.a, args.overrides, days))
    b = None
    if args.b is not None:
        wrong_kind(args.b, "compare")
        b = load_scenario(args.b, with_days(args.b, args.overrides, days))
    sources = (str(args.a), str(args.b) if args.b is not None else str(args.a))
    plan = plan_comparison(
        a,
        b,
        args.replications,
        common_random_numbers=not args.independent_seeds,
        sources=sources,
    )
    notes = _comparison_notes(plan)
    out = args.out if args.out is not None else Path("results") / plan.name
    if not args.quiet:
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
    written: list[Any] = []

    def write_comparison(result: ExperimentResult, directory: Path) -> None:
        figures = paired_figures(result)
        write_atomic(directory / COMPARISON, figures.to_csv(index=False).encode("utf-8"))
        write_report(result, directory, figures)
        written.append(figures)

    result = _execute(args, plan, out, sources[0], after=write_comparison)
    if isinstance(result, int):
        return result
    out = result.directory or out
    (figures,) = written
    if not args.quiet:
        print(f"pushsim {__version__} — {_warm_up_note(plan)}")
        print("\n".join(comparison_lines(plan, Comparison(result, figures).figures)))
    print(_footer(out, f", {out}/{COMPARISON}"))
    _report_line(args, out)
    return 0


def _comparison_notes(plan: Plan) -> list[str]:
    a, b = (point.scenario.measurement for point in plan.points)
    notes = []
    if a.days != b.days:
        notes.append(f"A runs {a.days:g} days and B {b.days:g}: totals are not comparable")
    if a.warm_up_days != b.warm_up_days:
        notes.append(f"warm-ups differ (A {a.warm_up_days:g} days, B {b.warm_up_days:g})")
    return notes


def _warm_up_note(plan: Plan) -> str:
    warm = sorted({point.scenario.measurement.warm_up_days for point in plan.points})
    days = sorted({point.scenario.measurement.days for point in plan.points})
    text = f"{plan.name}: {plan.replications} replication{'s' if plan.replications != 1 else ''}"
    text += f", {'/'.join(f'{d:g}' for d in days)} days"
    if any(warm):
        text += f", first {'/'.join(f'{w:g}' for w in warm)} days (warm-up) excluded"
    return text


def with_days(path: Path, overrides: Sequence[str], days: float | None) -> list[str]:
    """``overrides`` plus ``--days``: the days, and no warm-up when it is not shorter (a note).

    As ``pushsim run --days`` does; ``days`` None changes nothing.
    """
    out = list(overrides)
    if days is None:
        return out
    if not (math.isfinite(days) and days > 0):
        raise ScenarioError(str(path), [("--days", f"must be a finite number > 0 (got {days})")])
    declared = load_scenario(path, out).measurement
    out.append(f"measurement.days={float(days)!r}")
    if declared.warm_up_days >= days:
        out.append("measurement.warm_up_days=0.0")
        print(
            f"pushsim: {path}: the warm-up ({declared.warm_up_days:g} days) is not shorter than "
            f"--days {days:g}; running without warm-up",
            file=sys.stderr,
        )
    return out


def run_replications(args: argparse.Namespace) -> int:
    """``pushsim run SCENARIO --replications R``: mean and 95 % CI per figure, experiment folder."""
    source = str(args.scenario)
    overrides = list(getattr(args, "overrides", []) or [])
    seed = getattr(args, "seed", None)
    if seed is not None:
        if seed < 0:
            raise ScenarioError(source, [("--seed", f"must be >= 0 (got {seed})")])
        overrides.append(f"measurement.seed={seed}")
    overrides = with_days(args.scenario, overrides, getattr(args, "days", None))
    if getattr(args, "events", False):
        print(
            "pushsim: --events writes the event log of a single run; leave it out with "
            "--replications",
            file=sys.stderr,
        )
        return 2
    scenario = load_scenario(args.scenario, overrides)
    plan = plan_replications(scenario, getattr(args, "replications", None), source=source)
    out = args.out if getattr(args, "out", None) is not None else None
    out = out or Path("results") / f"{plan.name}-replications"
    quiet = bool(getattr(args, "quiet", False))
    result = _execute(args, plan, out, source, listing=False, after=write_report)
    if isinstance(result, int):
        return result
    out = result.directory or out
    if not quiet:
        point = plan.points[0]
        print(
            f"pushsim {__version__} — {_warm_up_note(plan)} "
            f"(hash {point.scenario_hash}, base seed {point.scenario.measurement.seed})"
        )
        print("\n".join(_summary_lines(result)))
    print(_footer(out))
    _report_line(args, out)
    return 0


# ---------------------------------------------------------------- standalone


def build_parser() -> argparse.ArgumentParser:
    """A parser of the ``sweep`` and ``compare`` commands alone (``python -m sim.experiment``)."""
    parser = argparse.ArgumentParser(
        prog="python -m sim.experiment",
        description="pushsim experiments: sweeps and paired comparisons.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_commands(commands)
    return parser


def handle(args: argparse.Namespace) -> int:
    """Run the experiment command ``args`` names (``sweep`` or ``compare``)."""
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "sweep": sweep_command,
        "compare": compare_command,
    }
    return handlers[args.experiment_command](args)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``sweep`` or ``compare``; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "experiment_command", None) is None:
        parser.print_help(sys.stdout)
        return 0
    with signals_handled():
        try:
            return handle(args)
        except ScenarioError as error:
            print(str(error), file=sys.stderr)
            return 2
        except KeyboardInterrupt as stop:
            tell(f"pushsim: {stopped(stop)}")
            return exit_code(stop)
