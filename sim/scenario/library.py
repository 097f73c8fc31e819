"""The scenario library: the scenario and story files that ship with pushsim, found by name.

In the repository they live in the top-level ``scenarios/`` folder (stories in
``scenarios/stories``); an installed wheel carries the same files as package data in
``sim/library`` (``sim/library/stories``), and an editable install reads them in place. So
``pushsim run baseline`` works wherever pushsim is installed: :func:`resolve` turns a bare name
(no ``.toml``, no folder) that is not an existing file into the packaged file of that name.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Literal

_PACKAGE = Path(__file__).resolve().parents[1]
_WHEEL = _PACKAGE / "library"  # installed from a wheel
_CHECKOUT = _PACKAGE.parent / "scenarios"  # a source checkout, or an editable install of one

#: The scenario files that ship with pushsim (``baseline.toml``, …).
SCENARIOS_DIR = _WHEEL if (_WHEEL / "stories").is_dir() else _CHECKOUT
#: The story files that ship with pushsim (``charlie_and_kim.toml``, …).
STORIES_DIR = SCENARIOS_DIR / "stories"

Kind = Literal["scenario", "story", "any"]

_FOLDERS: dict[Kind, tuple[Path, ...]] = {
    "scenario": (SCENARIOS_DIR,),
    "story": (STORIES_DIR,),
    "any": (SCENARIOS_DIR, STORIES_DIR),
}
_WHAT: dict[Kind, str] = {
    "scenario": "packaged scenario",
    "story": "packaged story",
    "any": "packaged scenario or story",
}


class UnknownName(ValueError):
    """A bare name that is neither an existing file nor a packaged scenario or story."""


def packaged(kind: Kind = "scenario") -> list[Path]:
    """The packaged files of ``kind``, sorted by folder then name."""
    return [path for folder in _FOLDERS[kind] for path in sorted(folder.glob("*.toml"))]


def names(kind: Kind = "scenario") -> list[str]:
    """The names of the packaged files of ``kind`` (``baseline``, …)."""
    return [path.stem for path in packaged(kind)]


def is_name(text: str) -> bool:
    """True for a bare name (``baseline``): no ``.toml`` suffix and no folder in it."""
    return bool(text) and not text.endswith(".toml") and "/" not in text and "\\" not in text


def packaged_file(name: str, kind: Kind = "scenario") -> Path:
    """The packaged file called ``name`` (``baseline`` -> ``…/baseline.toml``).

    Raises :class:`UnknownName`, listing the packaged names, when there is none.
    """
    if is_name(name) and name not in (".", ".."):
        for folder in _FOLDERS[kind]:
            path = folder / f"{name}.toml"
            with contextlib.suppress(OSError):  # a name too long for the file system: none
                if path.is_file():
                    return path
    groups: tuple[tuple[Kind, str], ...] = (
        ("scenario", "packaged scenarios"),
        ("story", "packaged stories"),
    )
    listed = [
        f"{what}: {', '.join(names(each)) or 'none in this installation'}"
        for each, what in groups
        if kind in (each, "any")
    ]
    hint = ""
    if kind != "any" and is_name(name):
        other: Kind = "story" if kind == "scenario" else "scenario"
        if name in names(other):
            use = "story" if other == "story" else "run"
            hint = f" ({name} is a {_WHAT[other]}: pushsim {use} {name})"
    raise UnknownName(f"no {_WHAT[kind]} named {name!r}{hint}; {'; '.join(listed)}")


def resolve(text: str | Path, kind: Kind = "scenario") -> Path:
    """The file a command-line argument names: a path as given, or a packaged file by name.

    An existing file, or anything that is not a bare name (``scenarios/baseline.toml``,
    ``mine.toml``), is taken as a path (a missing one is reported when it is read). A bare
    name that is not a file in the current folder is the packaged file of that name
    (``baseline``); an unknown one raises :class:`UnknownName` listing the packaged names.
    """
    path = Path(text)
    try:
        exists = path.exists()
    except OSError:  # a name too long for the file system
        exists = False
    if exists or not is_name(str(text)):
        return path
    return packaged_file(str(text), kind)


def argument(kind: Kind = "scenario") -> Callable[[str], Path]:
    """An argparse ``type=`` that resolves with :func:`resolve` (an unknown name: exit 2)."""

    def convert(text: str) -> Path:
        try:
            return resolve(text, kind)
        except UnknownName as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = f"{kind} file"
    return convert
