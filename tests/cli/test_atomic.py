"""The results folder appears whole or not at all: killed, interrupted or failing runs leave none.

``sim.output.atomic_folder`` writes into a hidden staging folder ``.<name>.partial-*`` beside the
target and renames it into place at the end. A SIGKILL cannot be cleaned up after, so a staging
folder may remain then, but never the results folder itself; on Ctrl-C (SIGINT) the command exits
130 and removes its staging folder.
"""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

import sim.output
import sim.runner
from sim.cli import main
from sim.output import atomic_folder
from tests.cli import REPO, staging_folders

BASELINE = "scenarios/baseline.toml"
#: long enough for the full-size run (about half a minute) to be busy simulating
KILL_AFTER_SECONDS = 1.5
#: a shortened run, a couple of seconds, for interrupting it while it writes
# the warm-up is set to fit the 15 days, so the run prints nothing but the interruption
SHORT = ("--set", "population.devices=300", "--set", "measurement.warm_up_days=5", "--days", "15")


class Boom(Exception):
    pass


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


def contents(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())}


# -- atomic_folder -------------------------------------------------------------------------------


def test_success_creates_the_target_with_everything_written(tmp_path: Path):
    target = tmp_path / "deeper" / "res"
    with atomic_folder(target) as folder:
        assert folder.parent == target.parent
        assert folder.name.startswith(".res.partial-")
        assert not target.exists(), "the target appears only at the end"
        write(folder, {"a.csv": "1\n", "b.json": "{}\n"})
    assert contents(target) == {"a.csv": "1\n", "b.json": "{}\n"}
    assert not folder.exists()
    assert sorted(p.name for p in target.parent.iterdir()) == ["res"]


def test_the_results_folder_is_not_private(tmp_path: Path):
    umask = os.umask(0o022)
    try:
        with atomic_folder(tmp_path / "res") as folder:
            write(folder, {"a.csv": "1\n"})
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "res").stat().st_mode) == 0o755


def test_an_exception_leaves_no_target_and_no_staging_folder(tmp_path: Path):
    target = tmp_path / "res"
    with pytest.raises(Boom), atomic_folder(target) as folder:
        write(folder, {"a.csv": "1\n"})
        raise Boom
    assert not target.exists()
    assert not staging_folders(target)
    assert list(tmp_path.iterdir()) == []


def test_an_exception_leaves_an_existing_target_untouched(tmp_path: Path):
    target = tmp_path / "res"
    target.mkdir()
    write(target, {"old.csv": "old\n"})
    with pytest.raises(KeyboardInterrupt), atomic_folder(target) as folder:
        write(folder, {"new.csv": "new\n"})
        raise KeyboardInterrupt
    assert contents(target) == {"old.csv": "old\n"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_success_replaces_an_existing_target_completely(tmp_path: Path):
    target = tmp_path / "res"
    target.mkdir()
    write(target, {"old.csv": "old\n", "shared.json": "old\n"})
    (target / "sub").mkdir()
    write(target / "sub", {"deep.txt": "old\n"})
    with atomic_folder(target) as folder:
        write(folder, {"new.csv": "new\n", "shared.json": "new\n"})
    assert contents(target) == {"new.csv": "new\n", "shared.json": "new\n"}
    # neither the staging folder nor the old results are left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_a_stale_staging_folder_is_not_mistaken_for_results(tmp_path: Path):
    target = tmp_path / "res"
    stale = tmp_path / ".res.partial-killed"
    stale.mkdir()
    with atomic_folder(target) as folder:
        assert folder != stale
        write(folder, {"a.csv": "1\n"})
    assert contents(target) == {"a.csv": "1\n"}
    assert stale.exists()


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
    out.mkdir()
    old = {"old.csv": "old\n", "summary.json": "{}\n"}  # an earlier results folder
    write(out, old)
    seen: list[set[str]] = []

    def interrupt_after_the_tables(*args: object, **kwargs: object) -> None:
        (staging,) = staging_folders(out)
        seen.append({p.name for p in staging.iterdir()})
        raise KeyboardInterrupt

    monkeypatch.setattr(sim.output, "render_report", interrupt_after_the_tables)
    assert main([*_short_run(out), "--quiet"]) == 130
    assert "interrupted; no results written" in capsys.readouterr().err
    assert seen and "timeseries.csv" in seen[0], "the interrupt came in the middle of writing"
    assert contents(out) == old
    assert not staging_folders(out)


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


def wait_until_simulating(command: Command, seconds: float) -> None:
    """Wait ``seconds`` after the start, and at least until the command is simulating.

    ``pushsim run`` imports pandas, matplotlib, pyarrow… once its input is known to be good
    (``sim.output`` is the last heavy import). A Ctrl-C in the middle of those imports is still
    handled (exit 130 is returned), but CPython may then end the process by SIGINT instead, so the
    signal is sent once the imports are done.
    """
    begin = time.monotonic()
    while time.monotonic() - begin < 120:
        assert command.running(), command.stderr()
        imported = re.search(r"\| sim\.output$", command.stderr(), re.MULTILINE)
        if imported and time.monotonic() - begin >= seconds:
            return
        time.sleep(0.02)
    pytest.fail("the command did not start simulating within two minutes")


def wait_until_writing(command: Command, target: Path, *, plotted: bool) -> None:
    """Wait until the command writes its results (its staging folder exists), or has a plot.

    The first plot comes after the last lazy import (pyarrow's Parquet writer, PIL's plugins).
    """
    begin = time.monotonic()
    while time.monotonic() - begin < 120:
        staging = staging_folders(target)
        if staging and (not plotted or any(staging[0].glob("*.png"))):
            return
        assert command.running(), "finished before it was seen writing"
        time.sleep(0.002)
    pytest.fail("the command did not start writing within two minutes")


def leftovers(target: Path) -> list[str]:
    return sorted(p.name for p in target.parent.iterdir()) if target.parent.exists() else []


def test_sigkill_while_simulating_leaves_no_results_folder(tmp_path: Path):
    target = tmp_path / "out" / "res"
    command = start(tmp_path / "stderr.txt", BASELINE, "--out", target)
    try:
        wait_until_simulating(command, KILL_AFTER_SECONDS)
        command.process.kill()
    finally:
        code, _ = command.finish()
    assert code == -signal.SIGKILL
    assert not target.exists()
    # a staging folder may be left by SIGKILL (nothing can clean up); it is never the target
    assert all(name.startswith(".res.partial-") for name in leftovers(target))


def test_sigint_while_simulating_exits_130_and_leaves_nothing(tmp_path: Path):
    target = tmp_path / "out" / "res"
    command = start(tmp_path / "stderr.txt", BASELINE, "--out", target)
    try:
        wait_until_simulating(command, KILL_AFTER_SECONDS)
        command.process.send_signal(signal.SIGINT)
    finally:
        code, stdout = command.finish()
    assert code == 130, command.stderr()
    assert command.messages() == "pushsim: interrupted; no results written\n"
    assert stdout == ""
    assert not target.exists()
    assert leftovers(target) == []


def test_sigkill_while_writing_leaves_no_results_folder(tmp_path: Path):
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
    assert leftovers(target) == [staging.name]


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
