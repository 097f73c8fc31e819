"""The ``pushsim`` command line.

Scenario files are not built yet: ``pushsim run`` runs the built-in default world (DESIGN §3
defaults) through the Python API, prints a summary and writes the result tables.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from sim import __version__
from sim.simulation import simulate
from sim.world import PopulationParams, WorldParams


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``pushsim``."""
    parser = argparse.ArgumentParser(
        prog="pushsim",
        description="Discrete-event simulator of push-notification registration.",
    )
    parser.add_argument("--version", action="version", version=f"pushsim {__version__}")
    commands = parser.add_subparsers(dest="command")
    run = commands.add_parser(
        "run",
        help="run the built-in default world and write its results",
        description="Run the built-in default world (scenario files are not built yet).",
        epilog="example: pushsim run --devices 2000 --days 60 --seed 3 --out results/small",
    )
    run.add_argument("--devices", type=int, default=10_000, help="population size (default 10000)")
    run.add_argument("--days", type=float, default=90.0, help="days to simulate (default 90)")
    run.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    run.add_argument("--out", type=Path, default=Path("results/default"), help="results folder")
    return parser


def _run(args: argparse.Namespace) -> int:
    if args.devices < 0 or args.days <= 0 or args.seed < 0:
        print("pushsim run: --devices and --seed must be >= 0 and --days > 0", file=sys.stderr)
        return 2
    params = WorldParams(population=PopulationParams(devices=args.devices))
    print(
        f"pushsim {__version__}: no scenario files yet; running the built-in default world "
        f"({args.devices} devices, {args.days:g} days, seed {args.seed})"
    )
    result = simulate(params, days=args.days, seed=args.seed)
    out = result.write(args.out)
    summary = result.summary()
    width = max(len(k) for k in summary)
    for key, value in summary.items():
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        print(f"  {key:<{width}}  {shown}")
    print(f"results (CSV tables and summary.json) written to {out}/; plots are not built yet")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "run":
        return _run(args)
    parser.print_help(sys.stdout)
    return 0
