"""The results folder appears whole or not at all: killed, interrupted or failing runs leave none.

A run writes into a hidden staging folder ``.<name>.partial-*`` beside the target (see
:mod:`sim.folders`, tested in ``test_folders.py``) and renames it into place at the end. A SIGKILL
cannot be cleaned up after, so a staging folder and the lock file ``.<name>.lock`` may remain
then, but never the results folder itself; on Ctrl-C (SIGINT) the command exits 130 and leaves
nothing. SIGTERM is in ``test_signals.py``.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

import sim.output
import sim.runner
from sim.cli import main
from sim.folders import STAGING_MARK, FolderLock
from tests.cli import REPO, staging_folders

BASELINE = "scenarios/baseline.toml"
#: a shortened run, a couple of seconds, for interrupting it while it writes
# the warm-up is set to fit the 15 days, so the run prints nothing but the interruption
SHORT = ("--set", "population.devices=300", "--set", "measurement.warm_up_days=5", "--days", "15")


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# -- interrupted in process: exit 130, nothing written -------------------------------------------


def _interrupt(*args: object, **kwargs: object) -> None:
    raise KeyboardInterrupt


def _short_run(out: Path) -> list[str]:
    return ["run", BASELINE, "--set", "population.devices=60", "--days", "3", "--out", str(out)]


def test_ctrl_c_while_simulating_exits_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(sim.runner, "run_scenario", _interrupt)
    out = tmp_path / "res"
    assert main([*_short_run(out), "--quiet"]) == 130
    captured = capsys.readouterr()
    assert "interrupted; no results written" in captured.err
    assert captured.out == ""
    assert not out.exists()
    assert not staging_folders(out)


def test_ctrl_c_while_writing_exits_130_and_keeps_the_old_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.chdir(REPO)
    out = tmp_path / "res"
    assert main([*_short_run(out), "--quiet"]) == 0  # an earlier results folder
    old = contents(out)
    seen: list[set[str]] = []

    def interrupt_after_the_tables(*args: object, **kwargs: object) -> None:
        (staging,) = staging_folders(out)
        seen.append({p.name for p in staging.iterdir()})
        raise KeyboardInterrupt

    monkeypatch.setattr(sim.output, "render_report", interrupt_after_the_tables)
    assert main([*_short_run(out), "--quiet", "--overwrite"]) == 130
    assert "interrupted; no results written" in capsys.readouterr().err
    assert seen and "timeseries.csv" in seen[0], "the interrupt came in the middle of writing"
    assert contents(out) == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]  # no staging, lock or sibling


# -- a real process, killed or interrupted -------------------------------------------------------


def _default_sigint() -> None:
    # a child started with SIGINT ignored (e.g. from a non-interactive shell's background job)
    # would never see Ctrl-C; give it the default action, which Python turns into KeyboardInterrupt
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@dataclass
class Command:
    """A running ``python -m sim run ... --quiet``; its stderr goes to a file, read as it grows."""

    process: subprocess.Popen[str]
    stderr_file: Path

    def stderr(self) -> str:
        return self.stderr_file.read_text(encoding="utf-8", errors="replace")

    def messages(self) -> str:
        """stderr without the import-time profile lines."""
        lines = self.stderr().splitlines(keepends=True)
        return "".join(line for line in lines if not line.startswith("import time:"))

    def running(self) -> bool:
        return self.process.poll() is None

    def finish(self) -> tuple[int, str]:
        stdout, _ = self.process.communicate(timeout=120)
        return self.process.returncode, stdout


def start(log: Path, *args: str | Path) -> Command:
    # PYTHONPROFILEIMPORTTIME: stderr tells when the imports are done, see wait_until_simulating
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "sim", "run", *map(str, args), "--quiet"],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=env,
            preexec_fn=_default_sigint,
        )
    return Command(process, log)


#: the modules ``pushsim run`` imports last, just before it simulates (import-time profile names)
IMPORTED = (r"sim\.output", r"sim\.runner")


def wait_until_simulating(command: Command) -> None:
    """Wait until the command has imported what it simulates with: it is starting the run.

    ``pushsim run`` imports ``sim.output`` (pandas, matplotlib, pyarrow…) and ``sim.runner`` once
    its input is known to be good, inside ``main`` (which handles signals from its first line);
    the full-size run then simulates for about half a minute. A signal before ``main`` would find
    Python's default handling, which is not what these tests are about.
    """
    begin = time.monotonic()
    while time.monotonic() - begin < 120:
        assert command.running(), command.stderr()
        log = command.stderr()
        if all(re.search(rf"\|\s+{name}$", log, re.MULTILINE) for name in IMPORTED):
            return
        time.sleep(0.02)
    pytest.fail("the command did not start simulating within two minutes")


def wait_until_writing(command: Command, target: Path, *, plotted: bool) -> None:
    """Wait until the command writes its results (a first file in staging), or has a plot.

    The staging folder exists from the start (with its marker file); the first plot comes after
    the last lazy import (pyarrow's Parquet writer, PIL's plugins).
    """
    begin = time.monotonic()
    while time.monotonic() - begin < 120:
        written: list[str] = []
        for staging in staging_folders(target):
            with contextlib.suppress(FileNotFoundError):  # renamed into place meanwhile
                written += [p.name for p in staging.iterdir() if p.name != STAGING_MARK]
        if written and (not plotted or any(name.endswith(".png") for name in written)):
            return
        assert command.running(), "finished before it was seen writing"
        time.sleep(0.002)
    pytest.fail("the command did not start writing within two minutes")


def leftovers(target: Path) -> list[str]:
    return sorted(p.name for p in target.parent.iterdir()) if target.parent.exists() else []


def assert_stopped_writing_nothing(
    command: Command, finished: tuple[int, str], target: Path, code: int, word: str
) -> None:
    """A run stopped by a signal: exit ``code``, the one message, no output, no results at all."""
    exit_code, stdout = finished
    assert exit_code == code, command.stderr()
    assert command.messages() == f"pushsim: {word}; no results written\n"
    assert stdout == ""
    assert not target.exists()
    assert leftovers(target) == []


def lock_file(target: Path) -> str:
    return FolderLock(target).path.name


def test_sigkill_while_simulating_leaves_no_results_folder(tmp_path: Path):
    target = tmp_path / "out" / "res"
    command = start(tmp_path / "stderr.txt", BASELINE, "--out", target)
    try:
        wait_until_simulating(command)
        command.process.kill()
    finally:
        code, _ = command.finish()
    assert code == -signal.SIGKILL
    assert not target.exists()
    # SIGKILL leaves the staging folder and the lock file (nothing can clean up), never the target
    assert leftovers(target) == sorted(
        [lock_file(target), *(p.name for p in staging_folders(target))]
    )


def test_sigint_while_simulating_exits_130_and_leaves_nothing(tmp_path: Path):
    target = tmp_path / "out" / "res"
    command = start(tmp_path / "stderr.txt", BASELINE, "--out", target)
    try:
        wait_until_simulating(command)
        command.process.send_signal(signal.SIGINT)
    finally:
        finished = command.finish()
    assert_stopped_writing_nothing(command, finished, target, 130, "interrupted")


def test_sigkill_while_writing_leaves_no_results_folder_and_the_next_run_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    target = tmp_path / "out" / "res"
    command = start(tmp_path / "stderr.txt", BASELINE, *SHORT, "--out", target)
    try:
        wait_until_writing(command, target, plotted=False)
        command.process.kill()
    finally:
        code, _ = command.finish()
    assert code == -signal.SIGKILL
    assert not target.exists()
    (staging,) = staging_folders(target)  # half-written, and named so that nobody mistakes it
    assert leftovers(target) == sorted([lock_file(target), staging.name])
    assert (staging / STAGING_MARK).is_file()
    # the next run on the same target removes what the killed one left, and writes its results
    monkeypatch.chdir(REPO)
    assert main([*_short_run(target), "--quiet"]) == 0
    assert f"removed {staging}, left by an interrupted run" in capsys.readouterr().err
    assert leftovers(target) == ["res"]


def test_sigint_while_writing_exits_130_and_leaves_nothing(tmp_path: Path):
    target = tmp_path / "out" / "res"
    command = start(tmp_path / "stderr.txt", BASELINE, *SHORT, "--out", target)
    try:
        wait_until_writing(command, target, plotted=True)
        command.process.send_signal(signal.SIGINT)
    finally:
        code, _ = command.finish()
    assert code == 130, command.stderr()
    assert command.messages() == "pushsim: interrupted; no results written\n"
    assert not target.exists()
    assert leftovers(target) == []
