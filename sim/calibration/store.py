"""A calibration's folder: the plan, every point as it is run, and the final files; it resumes.

Layout of ``DIR``::

    calibration.json   the plan: the inputs' hashes and the setup (written first)
    points.jsonl       one line per point run: its fit coordinates and each replication's moments
    calibrated.toml    the calibrated scenario (``extends`` the base)
    fit.json           estimates, rows, warnings, the χ² test
    report.md          observed against simulated, the estimates, the warnings

The folder is chosen and locked with the rules of :mod:`sim.folders`: an empty or new folder is
used; an existing calibration folder (it has ``calibration.json``) is continued with ``resume``
(when its plan is this calibration's: same observations, base scenario and setup), started afresh
with ``overwrite``, and otherwise kept, the calibration going to a numbered sibling; anything else
is refused. Only the files listed above are ever replaced or removed.

Resuming replays the fit: the optimiser is deterministic, so it asks for the same points in the
same order, and the points already in ``points.jsonl`` are read instead of run. A line cut short by
a killed process is dropped (its point is run again).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Self

from sim.calibration.evaluate import RawMoments
from sim.folders import ClaimedFolder, FolderError, listing

PLAN = "calibration.json"
POINTS = "points.jsonl"
SCENARIO = "calibrated.toml"
FIT = "fit.json"
REPORT = "report.md"
#: every file a calibration writes: the only ones it ever replaces or removes
OWN_FILES = (PLAN, POINTS, SCENARIO, FIT, REPORT)


class CalibrationFolderError(FolderError):
    """A folder that cannot hold this calibration (someone else's, or another calibration's)."""


def digest(text: str) -> str:
    """A short hash of a text (an input file, a canonical JSON document)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def is_calibration(folder: Path) -> bool:
    """True when ``folder`` is a calibration folder (it holds a plan)."""
    return (folder / PLAN).is_file()


def _refusal(folder: Path) -> CalibrationFolderError:
    if folder.is_symlink() or not folder.is_dir():
        return CalibrationFolderError(f"{folder} exists and is not a folder; choose another name")
    entries = sorted(path.name for path in folder.iterdir())
    return CalibrationFolderError(
        f"{folder} exists and is not a pushsim calibration folder (no {PLAN}; it holds "
        f"{listing(entries)}), so it is left alone: choose a new or empty folder"
    )


def _write(path: Path, text: str) -> None:
    """Write ``text`` whole: to a temporary file beside ``path``, renamed into place."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


class CalibrationFolder(ClaimedFolder):
    """The folder of one calibration, checked and locked before anything runs."""

    def __init__(
        self,
        target: Path | str,
        plan: dict[str, Any],
        *,
        resume: bool = False,
        overwrite: bool = False,
    ) -> None:
        super().__init__(target)
        self.plan = plan
        self.resume = resume
        self.overwrite = overwrite
        #: fit coordinates -> the replications' moments, read from an earlier run
        self.points: dict[tuple[float, ...], list[RawMoments]] = {}

    def open(self) -> Self:
        """Check, choose and lock the folder; read the points of the run it resumes."""
        state = self._claim(
            reuse=self.resume or self.overwrite,
            needed_bytes=1,
            is_ours=is_calibration,
            refusal=_refusal,
        )
        folder = self.folder
        if state == "absent":
            folder.mkdir(exist_ok=True)
            self._stack.callback(_remove_if_unused, folder)
        plan_text = json.dumps(self.plan, indent=2, sort_keys=True) + "\n"
        if is_calibration(folder):
            earlier = json.loads((folder / PLAN).read_text(encoding="utf-8"))
            if self.resume and earlier != self.plan:
                changed = sorted(
                    k for k in {*earlier, *self.plan} if earlier.get(k) != self.plan.get(k)
                )
                raise CalibrationFolderError(
                    f"{folder} holds a calibration of other inputs (they differ in "
                    f"{', '.join(changed)}): resume it with the same ones, start it afresh with "
                    "--overwrite, or choose another --out"
                )
            if self.resume:
                self.points = read_points(folder / POINTS)
                self.notes.append(
                    f"resuming {folder}: {len(self.points)} points already run are read, not run"
                )
            else:
                for name in OWN_FILES:
                    (folder / name).unlink(missing_ok=True)
        _write(folder / PLAN, plan_text)
        return self

    def add_point(self, x: tuple[float, ...], replications: list[RawMoments]) -> None:
        """Append one point to ``points.jsonl`` (flushed to disk before the fit goes on)."""
        line = json.dumps({"x": list(x), "replications": replications}) + "\n"
        with (self.folder / POINTS).open("a", encoding="utf-8") as points:
            points.write(line)
            points.flush()
            os.fsync(points.fileno())
        self.points[x] = replications

    def write(self, name: str, text: str) -> Path:
        """Write one of the final files whole."""
        if name not in OWN_FILES:
            raise ValueError(f"{name} is not a calibration file")
        path = self.folder / name
        _write(path, text)
        return path


def read_points(path: Path) -> dict[tuple[float, ...], list[RawMoments]]:
    """The points of ``points.jsonl``; a last line cut short (a killed run) is dropped."""
    points: dict[tuple[float, ...], list[RawMoments]] = {}
    if not path.is_file():
        return points
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if not line.endswith("\n"):
            break  # the last line, cut short
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            break
        x = tuple(float(v) for v in entry["x"])
        points[x] = [
            [
                (
                    str(o),
                    q,
                    None if v is None else float(v),
                    int(c),
                    None if d is None else float(d),
                )
                for o, q, v, c, d in replication
            ]
            for replication in entry["replications"]
        ]
    return points


def _remove_if_unused(folder: Path) -> None:
    """Remove a folder this process created if no point was saved in it."""
    if (folder / POINTS).is_file():
        return
    (folder / PLAN).unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        folder.rmdir()
