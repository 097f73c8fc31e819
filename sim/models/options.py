"""``--option KEY=VALUE``: a registry model's factory options on the command line.

One reading for every command that builds a model (``conform``, ``serve-registry``): the value is
a TOML value when it reads as one (``timeout=5``, ``strict=true``, ``region="eu"``), else text
(``url=http://host:8080``) — as ``--set`` reads scenario keys.
"""

from __future__ import annotations

import argparse
import tomllib
from collections.abc import Sequence
from typing import Any


class OptionError(ValueError):
    """An ``--option`` that is not ``KEY=VALUE`` with KEY a keyword argument name."""


def add_option_argument(parser: argparse.ArgumentParser) -> None:
    """Add the repeatable ``--option KEY=VALUE`` (into ``args.options``) to ``parser``."""
    parser.add_argument(
        "--option",
        dest="options",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="keyword argument for the model's factory (TOML value, or text), repeatable",
    )


def parse_option(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` → (key, value): the value as TOML if it reads as a TOML value, else text."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise OptionError(f"--option {text!r}: expected KEY=VALUE (e.g. url=http://host:8080)")
    if not key.isidentifier():
        raise OptionError(f"--option {text!r}: {key!r} is not a keyword argument name")
    try:
        value: Any = tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key, value


def parse_options(texts: Sequence[str]) -> dict[str, Any]:
    """Every ``--option``, in order (a key given twice keeps its last value)."""
    return dict(parse_option(text) for text in texts)
