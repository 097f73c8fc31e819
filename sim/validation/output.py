"""Writing the report without ever overwriting a file pushsim did not write.

A report starts with :data:`~sim.validation.report.MARKER`. An existing file at the target is
replaced only when its first line is that marker; anything else there (a file without it, a
folder) is refused with :class:`ReportRefused`, and nothing is written. The new page is written
beside the target under a hidden temporary name and renamed over it, so the target is either the
old page or the whole new one, never half of one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from sim.validation.report import MARKER


class ReportRefused(Exception):
    """The target cannot be written: it is someone else's file, a folder, or not writable."""


def first_line(path: Path) -> str:
    """The first line of ``path`` (without its line break); empty for an empty file."""
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        return handle.readline().rstrip("\r\n")


def check_target(path: Path) -> None:
    """Refuse a target that exists and is not a report pushsim wrote."""
    if path.is_dir():
        raise ReportRefused(
            f"{str(path)!r} is a folder; give a file name, e.g. {str(path / 'validation.md')!r}"
        )
    if path.exists() or path.is_symlink():
        try:
            line = first_line(path)
        except OSError as error:
            raise ReportRefused(f"cannot read {str(path)!r}: {error.strerror or error}") from None
        if line != MARKER:
            raise ReportRefused(
                f"{str(path)!r} exists and was not written by pushsim validation (its first line "
                "is not the report's marker); it is left alone: move it away or choose another "
                "--out"
            )


def write_report(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (creating its folder), after :func:`check_target`."""
    check_target(path)
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.partial-", dir=folder)
    except OSError as error:
        raise ReportRefused(f"cannot write in {str(folder)!r}: {error.strerror or error}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.chmod(temporary, 0o644)
        check_target(path)  # a file may have appeared meanwhile
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
