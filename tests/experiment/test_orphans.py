"""Killing pushsim kills its workers: no process outlives the command, whatever runs the runs.

Issue 11: after ``kill`` or ``kill -9`` of ``pushsim run … --workers 2``, the forkserver, the
multiprocessing resource tracker and the workers stayed alive (138 MB each) and kept the parent's
stderr open, so ``pushsim … 2>&1 | tee log`` never ended. Each case starts the real command with
its output on one pipe (as ``2>&1 | tee``), waits until its workers exist, signals the command
alone, and then requires every process it started to exit and the pipe to reach end of file.

The processes are found two ways: the command's descendants in ``/proc`` before the signal (so
the test knows the workers existed), and every process carrying an environment variable unique to
the test, which all of them inherit (so a process reparented after the signal is found too). The
verdict waits for them to exit, up to a minute: it depends on whether they exit, not on how
busy the machine is. (Dask's LocalCluster already ended its workers after ``kill -9``; its cases
guard that.)
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sim.workers import start_pool, stop_pool, submit_all, worker_pool
from tests.experiment import BASELINE, REPO, SWEEP_FILE, TRACKING

#: long enough per run that the workers are busy when the command is signalled
BUSY = ["--set", "population.devices=20000", "--set", "measurement.days=60"]
#: the command's processes must be gone this long after the signal at most (seconds)
DEADLINE = 60.0
#: the name of the environment variable that marks the processes of one test
TAG = "PUSHSIM_ORPHAN_TEST"

#: each way of running runs on workers: the command, and how many processes it starts at least
#: (the resource tracker and two workers; with a process pool also the forkserver)
CASES: dict[str, tuple[list[str | Path], int]] = {
    "replications": (["run", BASELINE, "--replications", "4", *BUSY], 4),
    "shards": (["run", BASELINE, "--set", "measurement.shards=2", *BUSY], 4),
    "sweep": (["sweep", SWEEP_FILE, "--replications", "2", *BUSY], 4),
    "compare": (["compare", BASELINE, TRACKING, "--replications", "2", *BUSY], 4),
    "dask": (["run", BASELINE, "--replications", "4", "--dask", "local", *BUSY], 3),
}


def children(pid: int) -> list[int]:
    """The children of process ``pid`` (every thread's), from /proc."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found += [int(child) for child in (task / "children").read_text().split()]
    return found


def descendants(pid: int) -> set[int]:
    """Children, grandchildren… of ``pid``."""
    found: set[int] = set()
    todo = children(pid)
    while todo:
        child = todo.pop()
        if child not in found:
            found.add(child)
            todo += children(child)
    return found


def tagged(marker: bytes) -> set[int]:
    """The live processes whose environment holds ``marker`` (``NAME=value``)."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):  # gone meanwhile, or not ours to read
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    found.add(int(entry.name))
    return {pid for pid in found if alive(pid)}


def alive(pid: int) -> bool:
    """Whether ``pid`` runs: it exists and is not a zombie waiting for its parent."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def describe(pids: set[int]) -> str:
    lines = []
    for pid in sorted(pids):
        with contextlib.suppress(OSError):
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            lines.append(f"{pid}: {command[:160]}")
    return "\n".join(lines)


@dataclass
class Command:
    """``python -m sim ARGS`` with stdout and stderr on one pipe, read to its end by a thread."""

    process: subprocess.Popen[bytes]
    marker: bytes
    output: bytearray = field(default_factory=bytearray)
    closed: threading.Event = field(default_factory=threading.Event)

    def read(self) -> None:
        assert self.process.stdout is not None
        descriptor = self.process.stdout.fileno()
        while chunk := os.read(descriptor, 65536):
            self.output += chunk
        self.closed.set()  # every process holding the pipe has exited

    def text(self) -> str:
        return self.output.decode(errors="replace")


@contextlib.contextmanager
def started(arguments: list[str | Path]) -> Iterator[Command]:
    """Start the command in a session of its own; end everything it left, whatever happens."""
    marker = f"{TAG}={uuid.uuid4().hex}"
    name, value = marker.split("=")
    process = subprocess.Popen(
        [sys.executable, "-m", "sim", *map(str, arguments)],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, name: value},
        start_new_session=True,
    )
    command = Command(process, marker.encode())
    reader = threading.Thread(target=command.read, daemon=True)
    reader.start()
    try:
        yield command
    finally:
        for pid in tagged(command.marker) | {process.pid}:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        reader.join(timeout=DEADLINE)
        assert process.stdout is not None
        process.stdout.close()


def wait_for_workers(command: Command, count: int) -> set[int]:
    """Wait until the command has started ``count`` processes; all its descendants then."""
    begin = time.monotonic()
    while time.monotonic() - begin < 180:
        assert command.process.poll() is None, command.text()
        found = descendants(command.process.pid)
        if len(found) >= count:
            return found
        time.sleep(0.05)
    pytest.fail(f"the command did not start {count} processes in three minutes:\n{command.text()}")


@pytest.mark.parametrize(
    ("case", "number"),
    [
        ("replications", signal.SIGKILL),
        ("replications", signal.SIGTERM),
        ("shards", signal.SIGKILL),
        ("shards", signal.SIGTERM),
        ("sweep", signal.SIGKILL),
        ("compare", signal.SIGTERM),
        ("dask", signal.SIGKILL),
        ("dask", signal.SIGTERM),
    ],
)
def test_no_process_outlives_the_command(tmp_path: Path, case: str, number: int):
    arguments, count = CASES[case]
    if case == "dask":
        pytest.importorskip("distributed")
    with started([*arguments, "--workers", "2", "--out", tmp_path / "out", "--quiet"]) as command:
        started_ones = wait_for_workers(command, count) | tagged(command.marker)
        started_ones.discard(command.process.pid)
        os.kill(command.process.pid, number)
        code = command.process.wait(timeout=DEADLINE)
        begin = time.monotonic()
        left = tagged(command.marker) | {pid for pid in started_ones if alive(pid)}
        while left and time.monotonic() - begin < DEADLINE:
            time.sleep(0.1)
            left = tagged(command.marker) | {pid for pid in started_ones if alive(pid)}
        assert not left, f"still running after {DEADLINE:g} s:\n{describe(left)}"
        assert command.closed.wait(DEADLINE), "the output pipe is still held open"
        if number == signal.SIGKILL:
            assert code == -signal.SIGKILL
        else:  # SIGTERM is handled: the command cleans up and says so
            assert code == 143, command.text()
            assert "pushsim: terminated" in command.text()
            assert "Traceback" not in command.text(), command.text()


# -- pools stopped with work running -------------------------------------------------------------


def endless(number: int) -> int:
    """A run that never ends (the worker function of the tests below)."""
    while True:
        time.sleep(1)


def stopped_within(deadline: float, stop: Callable[[], object]) -> bool:
    """Call ``stop`` in a thread; whether it returned within ``deadline`` seconds."""
    thread = threading.Thread(target=stop, daemon=True)
    thread.start()
    thread.join(deadline)
    return not thread.is_alive()


def wait_until_running(pool: ProcessPoolExecutor, count: int) -> list[int]:
    """The pids of the pool's workers, once ``count`` of them have started."""
    begin = time.monotonic()
    while time.monotonic() - begin < 120:
        processes = dict(getattr(pool, "_processes", None) or {})
        if len(processes) >= count and all(alive(pid) for pid in processes):
            return list(processes)
        time.sleep(0.05)
    pytest.fail(f"the pool did not start {count} workers in two minutes")


def test_a_pool_stopped_with_work_running_ends_its_workers():
    pool = start_pool(2)
    try:
        futures = submit_all(pool, endless, [1, 2])
        workers = wait_until_running(pool, 2)
        assert stopped_within(DEADLINE, lambda: stop_pool(pool)), "stop_pool waited for the work"
        assert not [pid for pid in workers if alive(pid)]
        assert all(future.done() for future in futures)
    finally:
        for pid in getattr(pool, "_processes", None) or {}:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


class Boom(Exception):
    pass


def test_a_pool_block_that_fails_stops_its_workers_at_once():
    workers: list[int] = []

    def fail_while_running() -> None:
        with pytest.raises(Boom), worker_pool(2) as pool:
            submit_all(pool, endless, [1, 2])
            workers.extend(wait_until_running(pool, 2))
            raise Boom

    try:
        assert stopped_within(DEADLINE, fail_while_running), "the pool waited for the work"
        assert workers
        assert not [pid for pid in workers if alive(pid)]
    finally:
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
