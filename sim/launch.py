"""The entry point of ``pushsim`` and ``python -m sim``: Ctrl-C and SIGTERM handled from the start.

Importing the command line takes about a second (pydantic, the scenario schema); a signal in that
time used to end the process with a traceback (Ctrl-C) or without cleanup (SIGTERM). Here the
handlers of :mod:`sim.interruption` are installed first, before anything heavy is imported, so a
stop during the imports ends with the usual message and exit code (130, 143). Only Python's own
start-up, before this module runs (a few tens of milliseconds), is left to Python.
"""

from __future__ import annotations

from collections.abc import Sequence

from sim.interruption import exit_code, signals_handled, stopped, tell


def main(argv: Sequence[str] | None = None) -> int:
    """Import the command line under the signal handlers and run it; returns the exit code."""
    with signals_handled():
        try:
            from sim.cli import main as command_line
        except KeyboardInterrupt as stop:  # Ctrl-C or SIGTERM while importing
            tell(f"pushsim: {stopped(stop)}; nothing done")
            return exit_code(stop)
        return command_line(argv)
