"""``pushsim serve-registry``: serve a registry model over the HTTP protocol (docs/model.md §8).

    pushsim serve-registry --model reference --port 8700
    pushsim serve-registry --model subscriptions --option max_subscriptions=20 --port 0

On start the command prints one line, ``pushsim registry serving MODEL at http://HOST:PORT``, and
flushes it (``--port 0`` takes any free port: read it there). Worlds then use the model
``"http"`` with the option ``url``. SIGTERM or Ctrl-C stops the service cleanly (exit 0). Exit 2:
a model that cannot be loaded or built, an option that is not ``KEY=VALUE``, an address that
cannot be bound, or the http extra not installed.

Also runnable as ``python -m sim.remote.command``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from sim.models.options import add_option_argument, parse_options

#: Exit codes: served and stopped cleanly; could not start.
EXIT_OK, EXIT_BAD_INPUT = 0, 2

DESCRIPTION = "serve a registry model over pushsim's HTTP/JSON protocol (sim/remote/openapi.yaml)"
EXAMPLE = (
    "example:\n  pushsim serve-registry --model reference --port 8700\n"
    'then run worlds with [registry] model = "http", options = { url = '
    '"http://127.0.0.1:8700" }'
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``serve-registry``."""
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=8700, help="port to listen on (default 8700; 0: any free port)"
    )
    parser.add_argument(
        "--model",
        default="reference",
        help='the registry model: "reference" (default), "subscriptions", '
        '"package.module:factory" or "path/to/file.py:factory"',
    )
    add_option_argument(parser)


def _quit_quietly(_number: int, _frame: FrameType | None) -> None:
    """A stopping signal before the server runs: nothing to clean up."""
    raise SystemExit(EXIT_OK)


def run(args: argparse.Namespace) -> int:
    """Serve until SIGTERM or SIGINT; the exit code."""
    previous = {number: signal.signal(number, _quit_quietly) for number in _signals()}
    try:
        return _serve(args)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _signals() -> tuple[signal.Signals, ...]:
    """The stopping signals, when this thread may handle them (the main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return ()
    return (signal.SIGINT, signal.SIGTERM)


def _serve(args: argparse.Namespace) -> int:
    try:
        options = parse_options(args.options)
    except ValueError as error:
        print(f"pushsim serve-registry: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not 0 <= args.port <= 65535:
        print(f"pushsim serve-registry: --port must be 0..65535, got {args.port}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        from sim.remote.server import serve
    except ImportError as error:
        print(
            f"pushsim serve-registry needs the http extra ({error.name} is missing): "
            "pip install 'pushsim[http]'",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    from sim.models.choice import ModelError, check_model
    from sim.registry.policy import RegistryPolicy

    try:
        check_model(args.model, RegistryPolicy(), options)  # refused now, not at the first world
    except ModelError as error:
        print(f"pushsim serve-registry: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT

    def ready(url: str) -> None:
        print(f"pushsim registry serving {args.model} at {url}", flush=True)

    try:
        serve(args.model, options, args.host, args.port, ready=ready)
    except OSError as error:
        print(
            f"pushsim serve-registry: cannot listen on {args.host}:{args.port}: {error}",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m sim.remote.command`` (the same options as the subcommand)."""
    parser = argparse.ArgumentParser(
        prog="pushsim serve-registry",
        description=DESCRIPTION,
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and serve; the exit code."""
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
