"""``pushsim validation``: run the matching scenarios and write the report against the literature.

::

    pushsim validation --size small --out validation.md
    pushsim validation --out docs/validation.md              # full size (make validation)
    pushsim validation --size full --replications 4 --workers 2 --out /tmp/v.md

The report (:mod:`sim.validation.report`) is written to ``--out``; an existing file there is
replaced only if pushsim validation wrote it (its first line is the report's marker), anything
else is refused with one message and exit 2, nothing written. Bad arguments: one message, exit 2.
Progress goes to stderr, and the run time to stdout after the report is written (never into the
report, which is byte-identical for the same size and seed).

:func:`add_arguments` and :func:`run` are what ``pushsim``'s command line wires in (building the
parser imports nothing heavy); :func:`main` runs it alone (``python -m sim.validation``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

#: exit codes: done; bad arguments or a target that is not pushsim's
EXIT_OK, EXIT_BAD_INPUT = 0, 2

EXAMPLE = (
    "example:\n"
    "  pushsim validation --size small --out validation.md\n"
    "  pushsim validation --out docs/validation.md        # full size: make validation\n\n"
    "exit codes: 0 report written; 2 bad arguments, or --out is a file pushsim validation did\n"
    "not write (it is never overwritten)"
)

DESCRIPTION = (
    "run the shipped scenarios that match the published figures of docs/model.md §2–§3 (and the "
    "closed-form worlds of the test suite) over independent replications, and write a Markdown "
    "report: figure, source, published band, pushsim's value with its 95 % CI, verdict"
)


def _whole(text: str, *, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"must be at least {least}, got {value}")
    return value


def _replications(text: str) -> int:
    return _whole(text, least=2)


def _positive(text: str) -> int:
    return _whole(text, least=1)


def _seed(text: str) -> int:
    return _whole(text, least=0)


def _days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of days, got {text!r}") from None
    if not 30.0 <= value <= 3650.0:
        raise argparse.ArgumentTypeError(f"must be between 30 and 3650 days, got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``pushsim validation`` to ``parser``."""
    parser.add_argument(
        "--size",
        choices=("small", "full"),
        default="full",
        help="small: 600 devices × 120 days × 3 replications (seconds; rows that need a longer "
        "run are marked full size only); full (default): 10,000 devices × 365 days × 8",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("validation.md"),
        metavar="FILE",
        help="the report to write (default validation.md); replaced only if pushsim validation "
        "wrote it",
    )
    parser.add_argument(
        "--replications", type=_replications, metavar="N", help="replications per run (>= 2)"
    )
    parser.add_argument(
        "--devices", type=_positive, metavar="N", help="devices of the scenario runs at the start"
    )
    parser.add_argument("--days", type=_days, metavar="D", help="days of the scenario runs")
    parser.add_argument(
        "--seed", type=_seed, default=1, metavar="N", help="base seed of the replications (1)"
    )
    parser.add_argument(
        "--workers",
        type=_positive,
        metavar="W",
        help="worker processes (default: every core this process may use)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m sim.validation`` (``pushsim validation`` alone)."""
    parser = argparse.ArgumentParser(
        prog="pushsim validation",
        description=DESCRIPTION,
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    return parser


def _refuse(message: str) -> int:
    print(f"pushsim validation: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _progress(done: int, total: int, job: object) -> None:
    run = getattr(job, "run", "")
    print(f"pushsim validation: {done}/{total} runs done ({run})", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    """Run ``pushsim validation`` with parsed arguments; returns the exit code."""
    from sim.validation.execute import run_jobs
    from sim.validation.output import ReportRefused, check_target, write_report
    from sim.validation.report import render
    from sim.validation.rows import build_rows
    from sim.validation.runs import SIZES, plan
    from sim.workers import available_cores

    out: Path = args.out
    try:
        check_target(out)  # before minutes of simulation, not after
    except ReportRefused as error:
        return _refuse(str(error))
    size = SIZES[args.size]
    changed = [
        name for name in ("replications", "devices", "days") if getattr(args, name) is not None
    ]
    if changed:
        size = replace(
            size,
            name=f"{size.name} (changed: {', '.join(changed)})",
            replications=args.replications or size.replications,
            devices=args.devices or size.devices,
            days=args.days or size.days,
        )
    workers = args.workers if args.workers is not None else available_cores()
    started = time.monotonic()
    jobs = plan(size, args.seed)
    values = run_jobs(jobs, workers=workers, progress=_progress)
    rows = build_rows(jobs, values)
    text = render(size, args.seed, jobs, values, rows)
    try:
        write_report(out, text)
    except ReportRefused as error:
        return _refuse(str(error))
    elapsed = time.monotonic() - started
    outside = sum(row.verdict == "outside" for row in rows)
    print(
        f"pushsim validation: wrote {out} ({len(rows)} rows, {outside} outside their band) in "
        f"{elapsed:.0f} s on {workers} worker(s)",
        flush=True,
    )
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sim.validation …``; returns the exit code.

    Ctrl-C and SIGTERM stop the workers and end with one message and 130 or 143, nothing
    written (:mod:`sim.interruption`).
    """
    from sim.interruption import exit_code, signals_handled, stopped, tell

    with signals_handled():
        try:
            return run(build_parser().parse_args(argv))
        except KeyboardInterrupt as stop:
            tell(f"pushsim validation: {stopped(stop)}; no report written")
            return exit_code(stop)


if __name__ == "__main__":
    sys.exit(main())
