"""Stopping the command line: SIGTERM like Ctrl-C, signals that land anywhere, a reader that leaves.

SIGTERM (``kill PID``) cleans up as Ctrl-C does (no results folder; an experiment keeps its
finished runs) and exits 143 (Ctrl-C: 130); a signal exits so even when it lands while Python
runs code it compiled from a string (dataclasses make their methods so), and a second signal
during the cleanup is ignored. A command whose stdout reader went away (``pushsim story … |
head -1``) ends quietly, with 141 as if killed by SIGPIPE.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import sim.runner
from sim.cli import main
from sim.experiment.plan import Run
from sim.experiment.store import Store
from sim.interruption import (
    EXIT_READER_GONE,
    Interrupted,
    deferred,
    exit_code,
    signals_handled,
    stopped,
)
from tests.cli import REPO, staging_folders
from tests.cli.test_atomic import (
    BASELINE,
    assert_stopped_writing_nothing,
    start,
    wait_until_simulating,
)
from tests.experiment import TINY

STORIES = sorted(str(p.relative_to(REPO)) for p in (REPO / "scenarios" / "stories").glob("*.toml"))
#: what a command must never print when its reader goes away
NOISE = ("Traceback", "BrokenPipeError", "Exception ignored")


def busy() -> None:
    """Run some bytecode, so that Python runs the handlers of the signals that have arrived."""
    for _ in range(100_000):
        pass


@pytest.fixture
def own_handlers() -> Iterator[None]:
    """Put back this process's SIGINT and SIGTERM handlers after a test that received one."""
    before = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)


# -- the exception and its exit codes ------------------------------------------------------------


def test_each_signal_has_its_word_and_exit_code():
    assert (stopped(Interrupted(signal.SIGTERM)), exit_code(Interrupted(signal.SIGTERM))) == (
        "terminated",
        143,
    )
    assert (stopped(Interrupted(signal.SIGINT)), exit_code(Interrupted(signal.SIGINT))) == (
        "interrupted",
        130,
    )
    # a KeyboardInterrupt from elsewhere (raised by a test, or Python's own handler) is Ctrl-C
    assert (stopped(KeyboardInterrupt()), exit_code(KeyboardInterrupt())) == ("interrupted", 130)
    assert isinstance(Interrupted(signal.SIGTERM), KeyboardInterrupt)


def test_a_signal_raises_once_then_the_rest_are_ignored(own_handlers: None):
    cleaned = False
    with pytest.raises(Interrupted) as caught, signals_handled():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            busy()
        finally:
            os.kill(os.getpid(), signal.SIGINT)  # during the cleanup: ignored
            os.kill(os.getpid(), signal.SIGTERM)
            busy()
            cleaned = True
    assert caught.value.signal_number == signal.SIGTERM
    assert cleaned


def test_a_deferred_signal_comes_when_the_step_ends(own_handlers: None):
    steps: list[str] = []
    with pytest.raises(Interrupted), signals_handled():
        with deferred():  # as a Dask cluster's start
            os.kill(os.getpid(), signal.SIGTERM)
            busy()
            steps.append("started")
        steps.append("went on")
    assert steps == ["started"]


def test_without_a_signal_the_handlers_are_put_back():
    before = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    with signals_handled():
        assert signal.getsignal(signal.SIGTERM) is not before[signal.SIGTERM]
    assert {number: signal.getsignal(number) for number in before} == before


def test_an_ignored_signal_stays_ignored(own_handlers: None):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # as under nohup, or a script's background job
    with signals_handled():
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN


def test_sigterm_while_simulating_in_process_exits_143(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    def terminate(*args: object, **kwargs: object) -> None:
        raise Interrupted(signal.SIGTERM)

    monkeypatch.chdir(REPO)
    monkeypatch.setattr(sim.runner, "run_scenario", terminate)
    out = tmp_path / "res"
    arguments = ["run", BASELINE, "--set", "population.devices=60", "--days", "3"]
    assert main([*arguments, "--out", str(out), "--quiet"]) == 143
    assert "pushsim: terminated; no results written" in capsys.readouterr().err
    assert not out.exists()
    assert not staging_folders(out)


def test_sigterm_during_an_experiment_keeps_the_finished_runs_and_exits_143(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    save = Store.save
    saved: list[str] = []

    def terminate_after_the_first_run(self: Store, run: Run, rows: pd.DataFrame) -> None:
        if saved:
            raise Interrupted(signal.SIGTERM)
        saved.append(run.run_id)
        save(self, run, rows)

    monkeypatch.setattr(Store, "save", terminate_after_the_first_run)
    out = tmp_path / "reps"
    sets = [arg for assignment in TINY for arg in ("--set", assignment)]
    arguments = ["run", str(BASELINE), "--replications", "3", "--workers", "1", *sets]
    assert main([*arguments, "--out", str(out), "--quiet"]) == 143
    assert f"pushsim: terminated; finished runs are kept in {out}/runs" in capsys.readouterr().err
    assert [p.name for p in (out / "runs").iterdir()] == [f"{saved[0]}.parquet"]


# -- a real process ------------------------------------------------------------------------------


def test_sigterm_while_simulating_exits_143_and_leaves_nothing(tmp_path: Path):
    target = tmp_path / "out" / "res"
    command = start(tmp_path / "stderr.txt", BASELINE, "--out", target)
    try:
        wait_until_simulating(command)
        command.process.terminate()
    finally:
        finished = command.finish()
    assert_stopped_writing_nothing(command, finished, target, 143, "terminated")


#: ``python -m`` this module: a run whose simulation receives ``signal`` while Python runs code
#: compiled from a string, as when the signal lands while a dataclass is being made (seen under
#: gdb in the flaky Ctrl-C test: ``sim.sharding.ShardRun``'s generated ``__init__``); CPython
#: 3.11 then ended ``python -m`` by SIGINT although ``main`` had caught the KeyboardInterrupt.
#: With ``again``, the cleanup receives both signals once more.
SIGNALLED_RUN = """
import os, signal, sys
import sim.runner
from sim.cli import main

def run_scenario(*args, **kwargs):
    try:
        exec("os.kill(os.getpid(), {signal})\\nwhile True: pass", {{"os": os}})
    finally:
        if {again}:
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(100_000):  # the handlers run (and ignore them)
                pass

sim.runner.run_scenario = run_scenario
arguments = ["run", "scenarios/baseline.toml", "--set", "population.devices=60", "--days", "3"]
raise SystemExit(main([*arguments, "--out", sys.argv[1], "--quiet"]))
"""


def signalled_run(tmp_path: Path, number: int, *, again: bool) -> subprocess.CompletedProcess[str]:
    (tmp_path / "signalled_run.py").write_text(
        textwrap.dedent(SIGNALLED_RUN.format(signal=int(number), again=again)), encoding="utf-8"
    )
    return subprocess.run(
        [sys.executable, "-m", "signalled_run", str(tmp_path / "out" / "res")],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


@pytest.mark.parametrize(
    ("number", "code", "word"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
)
def test_a_signal_during_generated_code_still_gives_its_exit_code(
    tmp_path: Path, number: int, code: int, word: str
):
    done = signalled_run(tmp_path, number, again=False)
    assert done.returncode == code, done.stderr
    assert done.stderr.endswith(f"pushsim: {word}; no results written\n")
    assert not (tmp_path / "out" / "res").exists()


def test_signals_during_the_cleanup_are_ignored(tmp_path: Path):
    done = signalled_run(tmp_path, signal.SIGTERM, again=True)
    assert done.returncode == 143, done.stderr
    assert done.stderr.endswith("pushsim: terminated; no results written\n")
    assert done.stderr.count("pushsim: terminated") == 1


# -- a reader that went away ---------------------------------------------------------------------


def environment(buffered: bool) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    return env if buffered else {**env, "PYTHONUNBUFFERED": "1"}


@pytest.mark.parametrize("buffered", [True, False], ids=["buffered", "unbuffered"])
@pytest.mark.parametrize(
    "arguments",
    [
        ["story", *STORIES],
        ["validate", *sorted(str(p.relative_to(REPO)) for p in REPO.glob("scenarios/*.toml"))],
        ["schema"],
    ],
    ids=["story", "validate", "schema"],
)
def test_output_to_a_closed_pipe_ends_quietly(arguments: list[str], buffered: bool):
    reader, writer = os.pipe()
    os.close(reader)  # the reader has gone before the first line
    try:
        done = subprocess.run(
            [sys.executable, "-m", "sim", *arguments],
            cwd=REPO,
            stdout=writer,
            stderr=subprocess.PIPE,
            env=environment(buffered),
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(writer)
    assert done.returncode == EXIT_READER_GONE, done.stderr
    assert not [word for word in NOISE if word in done.stderr], done.stderr


def test_story_piped_to_head_ends_quietly():
    # `pushsim story charlie_and_kim.toml stories/*.toml | head -1`
    first = "scenarios/stories/charlie_and_kim.toml"
    process = subprocess.Popen(
        [sys.executable, "-m", "sim", "story", first, *STORIES],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment(buffered=False),
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        process.stdout.close()  # head -1 has its line and exits
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert line.startswith(f"pass  {first}  ")
    assert process.returncode in (0, EXIT_READER_GONE), stderr  # 0: it had written everything
    assert not [word for word in NOISE if word in stderr], stderr


@pytest.mark.parametrize(
    ("number", "code", "word"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
)
def test_a_signal_while_the_command_line_imports_gives_its_exit_code(
    tmp_path: Path, number: int, code: int, word: str
):
    """A Ctrl-C in the first second (pydantic and the schema importing) once gave a traceback.

    The signal is sent once ``pydantic_core`` is imported, early in the command line's imports
    (the entry point installs its handlers before it imports them); wherever it lands from there
    on, imports or run, the verdict is the same.
    """
    target = tmp_path / "out" / "res"
    command = start(tmp_path / "stderr.txt", BASELINE, "--out", target)
    try:
        while not re.search(r"\|\s+pydantic_core$", command.stderr(), re.MULTILINE):
            assert command.running(), command.stderr()
            time.sleep(0.001)
        command.process.send_signal(number)
    finally:
        returncode, stdout = command.finish()
    assert returncode == code, command.stderr()
    assert "Traceback" not in command.messages()
    assert command.messages().startswith(f"pushsim: {word}")
    assert stdout == ""
    assert not target.exists()
