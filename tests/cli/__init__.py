"""Tests of the ``pushsim`` command line; :func:`pushsim` runs it in a real subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

#: the repository root (the subprocesses run there, as a user would)
REPO = Path(__file__).resolve().parents[2]


def pushsim(*args: str | Path, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Run ``python -m sim ARGS`` from the repository root and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "sim", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def staging_folders(target: Path) -> list[Path]:
    """Hidden staging folders of ``target`` (``.<name>.partial-*``) left beside it."""
    if not target.parent.exists():
        return []
    return sorted(target.parent.glob(f".{target.name}.partial-*"))
