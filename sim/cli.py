"""The ``pushsim`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sim import __version__


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``pushsim``."""
    parser = argparse.ArgumentParser(
        prog="pushsim",
        description="Discrete-event simulator of push-notification registration.",
    )
    parser.add_argument("--version", action="version", version=f"pushsim {__version__}")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="run a scenario")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    if args.command == "run":
        print("pushsim: no scenario yet — the scenario files and runner are not built yet.")
        return 0
    build_parser().print_help(sys.stdout)
    return 0
