"""A single run's household shards on a Dask LocalCluster: the same result as on this process.

Each shard's result depends only on (scenario, seed, shard) and the shards are merged in shard
order, so where they ran does not show: not in the merged tables, not in the files ``pushsim run``
writes. Two LocalCluster starts in all (one per test that needs one: a few seconds each); a busy
2-core machine only makes them slower, so the timeouts are generous and nothing is timed. Every
process a cluster started must be gone when its test ends.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sim.cli import main
from sim.metrics.results import RunResult
from sim.sharding import simulate_sharded
from sim.world import WorldParams
from tests.cli import REPO
from tests.cli.test_atomic import assert_stopped_writing_nothing, start

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")
psutil = pytest.importorskip("psutil")

SHARDS = 3
PARAMS = WorldParams().changed(
    population={"devices": 300, "arrivals_per_day": 1.2, "shared_device_share": 0.3},
    policy={"uninstall_tracking": True},
)
BASELINE = REPO / "scenarios" / "baseline.toml"
SMALL = [
    "--set",
    "population.devices=300",
    "--set",
    "population.arrivals_per_day=1.2",
    "--days",
    "30",
    "--set",
    "measurement.warm_up_days=5",
]
#: seconds a process a cluster started may take to exit once the cluster is closed
EXIT_WAIT = 60.0


@pytest.fixture(scope="module", autouse=True)
def patient_dask() -> Iterator[None]:
    """Dask's connect timeouts stretched for a loaded CI machine (workers get the config too)."""
    with dask.config.set(
        {"distributed.comm.timeouts.connect": "120s", "distributed.comm.timeouts.tcp": "120s"}
    ):
        yield


def _helper(process: Any) -> bool:
    """multiprocessing's resource tracker: one per interpreter, reused, gone when it ends."""
    try:
        return any("resource_tracker" in part for part in process.cmdline())
    except psutil.Error:  # gone already
        return True


def _alive(process: Any) -> bool:
    """Running and not a zombie (``is_running`` also tells a reused pid from the process)."""
    try:
        return bool(process.is_running()) and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:  # gone
        return False


def assert_gone(processes: list[Any]) -> None:
    """Fail unless every one of ``processes`` has exited within :data:`EXIT_WAIT` seconds."""
    deadline = time.monotonic() + EXIT_WAIT
    left = [process for process in processes if _alive(process)]
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = [process for process in left if _alive(process)]
    assert not left, f"still running: {[process.pid for process in left]}"


@pytest.fixture
def no_process_left() -> Iterator[None]:
    """Fail the test if a process it started (a nanny, a worker) outlives it."""
    me = psutil.Process()
    before = {child.pid for child in me.children(recursive=True)}
    yield
    assert_gone([c for c in me.children(recursive=True) if c.pid not in before and not _helper(c)])


def _frames(result: RunResult) -> dict[str, pd.DataFrame]:
    return result.frames()


def test_shards_on_a_local_cluster_merge_to_the_local_result(no_process_left):
    here = simulate_sharded(PARAMS, days=30, seed=4, shards=SHARDS, workers=1, event_log=True)
    done: list[float] = []
    there = simulate_sharded(
        PARAMS,
        days=30,
        seed=4,
        shards=SHARDS,
        workers=2,
        event_log=True,
        progress=done.append,
        dask="local",
    )
    assert done == [10.0, 20.0, 30.0]  # one call per shard, in shard order
    expected, got = _frames(here), _frames(there)
    assert list(got) == list(expected) and "events" in got
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(got[name], frame, check_exact=True, obj=name)


def _files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.glob("*.csv"))}


def run_small(out: Path, *options: str) -> int:
    """``pushsim run`` of the small baseline with ``options``, into ``out``; its exit code."""
    return main(["run", str(BASELINE), *SMALL, *options, "--out", str(out)])


def test_pushsim_run_dask_local_writes_the_same_files(tmp_path, capsys, no_process_left):
    shards = ("--set", f"measurement.shards={SHARDS}")
    assert run_small(tmp_path / "here", *shards, "--workers", "1", "--quiet") == 0
    capsys.readouterr()
    assert run_small(tmp_path / "there", *shards, "--dask", "local", "--workers", "2") == 0
    err = capsys.readouterr().err
    assert f"running {SHARDS} household shards on Dask LocalCluster of 2 worker processes" in err
    here, there = _files(tmp_path / "here"), _files(tmp_path / "there")
    assert "timeseries.csv" in here and "funnel.csv" in here
    assert list(there) == list(here)
    for name, content in here.items():
        assert there[name] == content, name
    for name in ("summary.json", "scenario.resolved.toml"):
        assert (tmp_path / "there" / name).read_bytes() == (tmp_path / "here" / name).read_bytes()


def test_dask_on_a_run_of_one_shard_is_refused(tmp_path, capsys):
    assert run_small(tmp_path / "res", "--dask", "local", "--quiet") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert (
        "--dask: runs a single run's household shards: set measurement.shards ≥ 2, "
        "or use --replications" in err
    )
    assert list(tmp_path.iterdir()) == []


def test_without_dask_the_message_says_what_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` fails
    shards = ("--set", f"measurement.shards={SHARDS}")
    assert run_small(tmp_path / "res", *shards, "--dask", "local") == 2
    err = capsys.readouterr().err
    assert err == "pushsim: --dask needs Dask distributed: pip install 'pushsim[distributed]'\n"
    assert list(tmp_path.iterdir()) == []


def _workers(pid: int) -> dict[int, Any]:
    """The processes under ``pid`` but multiprocessing's resource tracker: the cluster's."""
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.Error:  # gone
        return {}
    return {child.pid: child for child in children if not _helper(child)}


def test_sigterm_during_a_dask_local_run_exits_143_and_leaves_no_process(tmp_path: Path):
    """SIGTERM while the shards run on a LocalCluster: no results, and every cluster process gone.

    The signal is sent once the cluster's worker processes exist and before the command ends;
    the world is large enough (10,000 devices × 365 days in 4 shards, seconds of work each) that
    the shards are still running then, and a loaded machine only makes them run longer.
    """
    target = tmp_path / "out" / "res"
    command = start(
        tmp_path / "stderr.txt",
        BASELINE,
        "--set",
        "measurement.shards=4",
        "--dask",
        "local",
        "--workers",
        "2",
        "--out",
        target,
    )
    started: dict[int, Any] = {}
    try:
        deadline = time.monotonic() + 300
        # the LocalCluster's two worker processes, under the command
        while len(started) < 2 and time.monotonic() < deadline:
            assert command.running(), command.stderr()
            started.update(_workers(command.process.pid))
            time.sleep(0.05)
        assert len(started) >= 2, f"the cluster did not start: {command.stderr()}"
        command.process.terminate()
        started.update(_workers(command.process.pid))
    finally:
        finished = command.finish()
    assert_stopped_writing_nothing(command, finished, target, 143, "terminated")
    assert_gone(list(started.values()))  # the cluster's processes, after the command ended
