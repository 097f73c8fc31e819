"""The same experiment gives byte-identical files whatever runs it: serial, processes or Dask.

Each run depends only on its scenario and seed, and rows are sorted by run id, so neither the
executor, the worker count nor the order runs finish in shows in the results.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sim.experiment import plan_sweep, summarize, sweep
from sim.experiment.execute import (
    NO_DASK,
    DaskExecutor,
    MissingDaskError,
    ProcessExecutor,
    SerialExecutor,
    make_executor,
    run_rows,
)
from sim.experiment.store import Store
from sim.scenario import load_scenario
from tests.experiment import SMALL, SWEEP_FILE

REPLICATIONS = 3
FILES = ("results.parquet", "summary.csv", "experiment.json")


def same_files(a: Path, b: Path) -> None:
    for name in FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    for run in sorted((a / "runs").iterdir()):
        assert run.read_bytes() == (b / "runs" / run.name).read_bytes(), run.name


@pytest.fixture(scope="module")
def serial(tmp_path_factory) -> Path:
    out: Path = tmp_path_factory.mktemp("serial")
    result = sweep(SWEEP_FILE, REPLICATIONS, out=out, overrides=SMALL)
    assert len(result.plan.runs) == 2 * REPLICATIONS
    return out


def test_two_processes_give_the_same_bytes(serial, tmp_path):
    sweep(SWEEP_FILE, REPLICATIONS, 2, out=tmp_path, overrides=SMALL)
    same_files(serial, tmp_path)


def test_a_dask_local_cluster_gives_the_same_bytes(serial, tmp_path):
    pytest.importorskip("distributed")
    sweep(SWEEP_FILE, REPLICATIONS, 2, out=tmp_path, dask="local", overrides=SMALL)
    same_files(serial, tmp_path)


def test_the_finishing_order_does_not_show(serial, tmp_path):
    plan = plan_sweep(load_scenario(SWEEP_FILE, SMALL), REPLICATIONS)
    store = Store(tmp_path)
    todo = store.prepare(plan, resume=False)
    for run in reversed(todo):
        store.save(run, run_rows(run))
    table = store.load(plan)
    store.finish(plan, table, summarize(plan, table))
    same_files(serial, tmp_path)


def test_make_executor():
    assert isinstance(make_executor(1), SerialExecutor)
    with make_executor(2) as executor:
        assert isinstance(executor, ProcessExecutor)
        assert executor.description == "2 worker processes"
    with pytest.raises(ValueError, match="workers"):
        ProcessExecutor(0)


def test_without_dask_the_message_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(MissingDaskError) as caught:
        DaskExecutor("local", 2)
    assert str(caught.value) == NO_DASK
    assert "pip install 'pushsim[distributed]'" in NO_DASK
