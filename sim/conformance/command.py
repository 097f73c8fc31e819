"""``pushsim conform IMPLEMENTATION``: play the stories and the invariants, report rule by rule.

::

    pushsim conform reference
    pushsim conform mypkg.registry:factory --option region=eu --stories our_stories/
    pushsim conform http --option url=http://localhost:8080 --json conform.json

IMPLEMENTATION is a registry model as ``[registry] model`` names one: ``reference``,
``subscriptions``, ``http`` (``--option url=…``), ``package.module:factory`` or
``path/to/file.py:factory``. ``--option KEY=VALUE`` passes a keyword to the factory (the value
read as TOML when it is one, ``timeout=5``, else as text). Exit codes: 0 every rule follows and
the invariants hold; 3 some rules deviate (or are untested) but the invariants hold; 1 an
invariant broke; 2 the implementation cannot be loaded or does not implement the protocol, or
bad arguments (a ``--stories`` folder that is missing or holds an invalid story).

:func:`add_arguments` and :func:`run` are what ``pushsim``'s command line wires in (building the
parser imports nothing heavy; :func:`run` imports the world); :func:`main` runs it alone
(``python -m sim.conformance.command``). :func:`conform` is the same run from Python.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.conformance.invariants import OPERATIONS
from sim.models.options import OptionError, add_option_argument, parse_option, parse_options

if TYPE_CHECKING:
    from sim.conformance.table import Conformance

#: Exit code of an implementation that cannot be used, or of bad arguments.
EXIT_UNUSABLE = 2

EXAMPLE = (
    "example:\n"
    "  pushsim conform reference\n"
    "  pushsim conform mypkg.registry:factory --stories our_stories/ --json conform.json\n"
    "  pushsim conform http --option url=http://localhost:8080\n\n"
    "exit codes: 0 every rule follows and the invariants hold; 3 rules deviate, invariants\n"
    "hold; 1 an invariant broke; 2 the implementation cannot be loaded or used, bad arguments"
)


class ArgumentProblem(ValueError):
    """An argument of ``pushsim conform`` that cannot be used."""


__all__ = ["ArgumentProblem", "OptionError", "conform", "main", "parse_option", "parse_options"]


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``pushsim conform`` to ``parser``."""
    parser.add_argument(
        "implementation",
        metavar="IMPLEMENTATION",
        help='registry model: "reference", "subscriptions", "http", "package.module:factory" '
        'or "path/to/file.py:factory"',
    )
    add_option_argument(parser)
    parser.add_argument(
        "--stories",
        dest="stories",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="a folder of your own story files (*.toml), played besides the packaged ones; "
        "repeatable",
    )
    parser.add_argument(
        "--seed",
        type=_non_negative,
        default=0,
        metavar="N",
        help="seed of the invariants' operation sequences (default 0)",
    )
    parser.add_argument(
        "--operations",
        type=_positive,
        default=OPERATIONS,
        metavar="N",
        help=f"operations per invariant sequence, one sequence per policy (default {OPERATIONS})",
    )
    parser.add_argument(
        "--json", type=Path, metavar="FILE", help="also write the verdicts as JSON to FILE"
    )


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m sim.conformance.command`` (``pushsim conform`` alone)."""
    parser = argparse.ArgumentParser(
        prog="pushsim conform",
        description="play every story and the registry invariants against a registry "
        "implementation; report, rule by rule, where it follows docs/model.md §1 and where it "
        "deviates",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    return parser


def _refuse(message: str) -> int:
    print(f"pushsim conform: {message}", file=sys.stderr)
    return EXIT_UNUSABLE


def conform(
    implementation: str,
    options: dict[str, Any] | None = None,
    *,
    stories: Sequence[Path] = (),
    seed: int = 0,
    operations: int = OPERATIONS,
) -> Conformance:
    """Run the stories and the invariants against ``implementation``; the verdicts.

    Raises :class:`~sim.models.ModelError` for a model that cannot be loaded or does not
    implement the protocol, :class:`~sim.conformance.stories.StoriesError` for a bad folder.
    """
    from sim.conformance.invariants import check_invariants
    from sim.conformance.stories import load_stories, play_stories
    from sim.conformance.table import Conformance
    from sim.models import check_model
    from sim.registry import RegistryPolicy

    given = dict(options or {})
    files = load_stories(stories)
    check_model(implementation, RegistryPolicy(), given)
    runs = play_stories(files, implementation, given)
    invariants = check_invariants(implementation, given, seed=seed, operations=operations)
    return Conformance.of(implementation, given, runs, invariants)


def run(args: argparse.Namespace) -> int:
    """Run ``pushsim conform`` with parsed arguments; returns the exit code."""
    from sim.conformance.stories import StoriesError
    from sim.models import ModelError

    try:
        options = parse_options(args.options)
    except (ArgumentProblem, OptionError) as error:
        return _refuse(str(error))
    try:
        verdict = conform(
            args.implementation,
            options,
            stories=args.stories,
            seed=args.seed,
            operations=args.operations,
        )
    except StoriesError as error:
        return _refuse(str(error))
    except ModelError as error:
        return _refuse(str(error))
    print(verdict.render(), flush=True)
    if args.json is not None:
        try:
            args.json.write_text(verdict.json_text(), encoding="utf-8")
        except OSError as error:
            print(
                f"pushsim conform: cannot write {str(args.json)!r}: {error.strerror or error}",
                file=sys.stderr,
            )
            return EXIT_UNUSABLE
    return verdict.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sim.conformance.command IMPLEMENTATION …``; returns the exit code."""
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
