"""Arguments of the experiment commands: ``sweep``, ``compare`` and ``run --replications``.

Only argparse here, so that building ``pushsim``'s parser (and answering ``--help`` or a bad
argument) imports nothing heavy; the handlers live in :mod:`sim.experiment.commands`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sim.scenario.library import argument as file_argument
from sim.workers import available_cores

EXAMPLES = {
    "sweep": "example:\n  pushsim sweep scenarios/uninstall_tracking_sweep.toml --replications 8 "
    "--out results/uninstall_sweep\n  pushsim sweep scenarios/uninstall_tracking_sweep.toml "
    "--out results/uninstall_sweep --resume   # after an interruption",
    "compare": "example:\n  pushsim compare scenarios/baseline.toml "
    "scenarios/uninstall_tracking.toml --replications 8 --set population.devices=2000\n"
    "  pushsim compare scenarios/uninstall_tracking_sweep.toml   # two sweep points: A, then B",
}


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _execution_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--replications",
        type=positive_int,
        metavar="R",
        help="runs of each scenario, on seeds derived from measurement.seed "
        "(default: measurement.replications)",
    )
    parser.add_argument(
        "--workers",
        type=positive_int,
        metavar="N",
        help="local worker processes, for replications or the household shards of one run "
        f"(default: every core, here {available_cores()})",
    )
    parser.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run on a Dask cluster: a scheduler address (tcp://host:8786) or 'local' for a "
        "LocalCluster of --workers processes: an experiment's runs, or a single run's household "
        "shards (measurement.shards >= 2) (needs pushsim[distributed])",
    )


def _folder_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--resume",
        action="store_true",
        help="experiments: keep the runs already saved in the folder (same scenario hash and "
        "seed) and run the rest",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the results in the folder (only a folder pushsim wrote, with nothing "
        "added or changed); without it, existing results are kept and a numbered folder "
        "(NAME-2, NAME-3, …) is written",
    )


def add_replication_options(run_parser: argparse.ArgumentParser) -> None:
    """Add the experiment and folder options (``--replications`` … ``--overwrite``) to ``run``."""
    if "--replications" not in run_parser._option_string_actions:
        _execution_options(run_parser)
        _folder_options(run_parser)


def add_commands(subparsers: Any) -> None:
    """Add the ``sweep`` and ``compare`` subcommands to ``pushsim``'s subparsers."""

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = subparsers.add_parser(
            name,
            help=help_text,
            description=help_text.replace("%%", "%"),
            epilog=EXAMPLES[name],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        return parser

    sweep = command(
        "sweep",
        "run every point of a scenario's [sweep], each replicated on common seeds; "
        "write one long results table",
    )
    sweep.add_argument(
        "scenario",
        type=file_argument("scenario"),
        help="scenario file (TOML) with a [sweep] table, or the name of a packaged one "
        "(uninstall_tracking_sweep)",
    )
    compare = command(
        "compare",
        "run two scenarios on the same seeds and report each figure's difference B − A "
        "with its paired 95 %% CI",
    )
    compare.add_argument(
        "a",
        type=file_argument("scenario"),
        metavar="A",
        help="scenario file A (the reference), or the name of a packaged scenario",
    )
    compare.add_argument(
        "b",
        type=file_argument("scenario"),
        metavar="B",
        nargs="?",
        help="scenario file B, or a packaged scenario's name (left out: A declares a [sweep] of "
        "two points)",
    )
    default_out = {sweep: "results/<name>-sweep", compare: "results/<A>_vs_<B>"}
    for parser in (sweep, compare):
        parser.add_argument(
            "--out", type=Path, help=f"experiment folder (default {default_out[parser]})"
        )
        _execution_options(parser)
        _folder_options(parser)
        parser.add_argument(
            "--set",
            dest="overrides",
            action="append",
            default=[],
            metavar="KEY.PATH=VALUE",
            help="override a scenario key (TOML value), repeatable; compare: in both files",
        )
        parser.add_argument(
            "--days",
            type=float,
            help="days to simulate, in every scenario (default: measurement.days; a warm-up not "
            "shorter than this is dropped, with a note)",
        )
        parser.add_argument(
            "--independent-seeds",
            action="store_true",
            help="give each scenario its own seeds (default: common random numbers)",
        )
        parser.add_argument("--dry-run", action="store_true", help="list the runs and stop")
        parser.add_argument("--quiet", action="store_true", help="no listing, progress or table")
    sweep.set_defaults(experiment_command="sweep")
    compare.set_defaults(experiment_command="compare")


# ---------------------------------------------------------------- formatting
