"""End to end: a real ``serve-registry`` process, worlds driven through it, and how it fails.

Runs through HTTP must give the same results as in-process runs: the Charlie and Kim story, and
a stochastic world of 500 devices over 30 days (``pytest -s`` prints requests per second and the
slowdown).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sim.metrics.results import RunResult
from sim.models import ModelError, RegistryFailure, check_model
from sim.registry import RegistryPolicy
from sim.remote.client import HttpRegistry
from sim.scenario import STORIES_DIR, load_story
from sim.simulation import Simulation
from sim.story import run_story
from sim.world.params import WorldParams
from tests.remote import READY_PREFIX, REPO, START_DEADLINE, Service, free_port, service, stop


@pytest.fixture(scope="module")
def shared() -> Iterator[Service]:
    """One server for the tests that only use it (each world gets its own registry there)."""
    with service("--model", "reference") as running:
        yield running
        assert stop(running.process) == 0


def run(
    params: WorldParams, days: float, *, seed: int = 5, event_log: bool = False
) -> tuple[RunResult, float, Any]:
    """The result of a run, its wall time, and its registry."""
    started = time.perf_counter()
    simulation = Simulation(params, seed=seed, event_log=event_log)
    simulation.run(days)
    result = simulation.result()
    return result, time.perf_counter() - started, simulation.world.registry


def assert_same(here: RunResult, there: RunResult) -> None:
    assert here.frames().keys() == there.frames().keys()
    for name, frame in here.frames().items():
        other = there.frames()[name]
        assert list(frame.columns) == list(other.columns), name
        assert frame.reset_index(drop=True).equals(other.reset_index(drop=True)), name
        assert len(frame) == len(other), name
    assert here.open_latencies == there.open_latencies


# -- the same results --------------------------------------------------------------------------


def test_charlie_and_kim_through_http(shared: Service) -> None:
    story = load_story(STORIES_DIR / "charlie_and_kim.toml")
    here = run_story(story)
    there = run_story(story, model="http", options={"url": shared.url})
    assert all(result.passed for result in there.results), there.diff()
    assert there.results == here.results


@pytest.mark.parametrize("model", ["reference", "subscriptions"])
def test_every_story_reads_the_same_through_http(model: str) -> None:
    """Any model served: each story's results through HTTP are those of the model in-process."""
    stories = [load_story(path) for path in sorted(STORIES_DIR.glob("*.toml"))]
    assert len(stories) >= 10
    with service("--model", model) as running:
        for story in stories:
            here = run_story(story, model=model)
            there = run_story(story, model="http", options={"url": running.url})
            assert there.results == here.results, story.name
        assert stop(running.process) == 0


def test_the_http_model_passes_the_models_check(shared: Service) -> None:
    check_model("http", RegistryPolicy(detach_on_logout=True), {"url": shared.url, "timeout": 5})
    with pytest.raises(ModelError, match="unexpected keyword argument 'colour'"):
        check_model("http", RegistryPolicy(), {"url": shared.url, "colour": 1})


def test_a_stochastic_world_gives_the_same_results(shared: Service) -> None:
    params = WorldParams().changed(population={"devices": 500})
    here, local_seconds, _ = run(params, 30)
    over_http = params.changed(registry={"model": "http", "options": {"url": shared.url}})
    there, remote_seconds, registry = run(over_http, 30)
    assert isinstance(registry, HttpRegistry)
    assert_same(here, there)
    assert len(here.timeseries) == 30 * 4 and here.sends["sent"].sum() > 100
    assert registry.requests < registry.calls_sent / 3  # write-behind: far fewer requests
    print(
        f"\n500 devices x 30 days through HTTP (write-behind): {registry.calls_sent} calls in "
        f"{registry.requests} requests, {registry.requests / remote_seconds:.0f} requests/s, "
        f"{remote_seconds:.2f} s against {local_seconds:.3f} s in-process "
        f"(slowdown x{remote_seconds / local_seconds:.0f})"
    )


def test_call_by_call_gives_the_same_results_with_the_event_log(shared: Service) -> None:
    """Without batching, events arrive during their call: even the event log's order is the same.

    With uninstall tracking and pruning on, so that probes and pruning cross the wire too.
    """
    params = WorldParams().changed(
        population={"devices": 150}, policy={"uninstall_tracking": True, "prune_after_days": 7}
    )
    here, local_seconds, _ = run(params, 15, event_log=True)
    options = {"url": shared.url, "batch": False}
    there, remote_seconds, registry = run(
        params.changed(registry={"model": "http", "options": options}), 15, event_log=True
    )
    assert_same(here, there)
    assert here.events is not None and len(here.events) > 500
    assert (here.sends["kind"] == "probe").any()  # probe_targets crossed the wire
    assert (here.events["cause"] == "pruned").any()  # and so did prune_inactive
    assert registry.requests == registry.calls_sent + 1  # each call alone, and the creation
    print(
        f"\n150 devices x 15 days through HTTP (call by call): {registry.requests} requests, "
        f"{registry.requests / remote_seconds:.0f} requests/s, slowdown "
        f"x{remote_seconds / local_seconds:.0f}"
    )


# -- failures ------------------------------------------------------------------------------------


def test_no_service_at_construction() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(RegistryFailure) as caught:
        HttpRegistry(RegistryPolicy(), url=url, timeout=5)
    assert str(caught.value) == (
        f"registry service at {url} did not answer (connection refused) at scenario set-up"
    )


def test_no_service_when_a_world_is_built() -> None:
    """Found when the world is built, before time 0 (the model loader wraps it in a ModelError)."""
    url = f"http://127.0.0.1:{free_port()}"
    params = WorldParams().changed(registry={"model": "http", "options": {"url": url}})
    with pytest.raises((ModelError, RegistryFailure)) as caught:
        Simulation(params)
    assert f"registry service at {url} did not answer (connection refused)" in str(caught.value)


def test_a_service_killed_mid_run() -> None:
    with service() as running:
        params = WorldParams().changed(
            population={"devices": 100},
            registry={"model": "http", "options": {"url": running.url, "timeout": 5}},
        )
        simulation = Simulation(params, seed=1)
        simulation.run(3)
        running.process.kill()
        running.process.wait(timeout=30)
        with pytest.raises(RegistryFailure) as caught:
            simulation.run(10)
    # SimPy raises a copy of an exception from a process, made from its message alone: the
    # original, with its time, is the copy's cause
    failure = caught.value
    if isinstance(failure.__cause__, RegistryFailure):
        failure = failure.__cause__
    message = str(failure)
    assert message == str(caught.value)
    assert message.startswith(f"registry service at {running.url} did not answer (")
    assert 2 < failure.time <= 10  # the latest `now` sent (queued before day 3, or after)
    assert f"at scenario day {failure.time:.6g} (while sending " in message


def test_a_service_that_never_answers_times_out() -> None:
    """A listening socket nobody reads: the client gives up after its timeout, it never hangs."""
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(RegistryFailure, match=r"no answer within the 0\.5 s timeout"):
            HttpRegistry(RegistryPolicy(), url=url, timeout=0.5)
        assert time.monotonic() - started < 20


def test_a_model_that_cannot_be_loaded_exits_2() -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "sim.remote.command", "--port", "0", "--model", "nosuch_pkg:make"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=START_DEADLINE,
        check=False,
    )
    assert finished.returncode == 2
    assert finished.stdout == ""
    assert "model module 'nosuch_pkg' cannot be imported" in finished.stderr


def test_options_reach_the_factory_and_bad_ones_exit_2() -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "sim.remote.command", "--port", "0", "--option", "colour=1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=START_DEADLINE,
        check=False,
    )
    assert finished.returncode == 2
    assert "the reference registry takes no options" in finished.stderr


def test_a_port_in_use_exits_2(shared: Service) -> None:
    port = shared.url.rsplit(":", 1)[-1]
    finished = subprocess.run(
        [sys.executable, "-m", "sim.remote.command", "--port", port],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=START_DEADLINE,
        check=False,
    )
    assert finished.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in finished.stderr


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_service_cleanly(number: signal.Signals) -> None:
    with service() as running:
        assert running.line == f"{READY_PREFIX}reference at {running.url}\n"
        registry = HttpRegistry(url=running.url)  # a kept-alive connection open at the stop
        registry.add_app("app", ["ios"])  # type: ignore[list-item]
        assert registry.audience_size("app") == 0
        children = Path(f"/proc/{running.process.pid}/task/{running.process.pid}/children")
        if children.exists():
            assert children.read_text().split() == []  # one process, no workers
        assert stop(running.process, number) == 0
        registry.close()  # the service is gone: closing is quiet
        assert running.process.stderr is not None
        assert "Traceback" not in running.process.stderr.read()


def test_the_command_line_entry_point() -> None:
    """``main`` parses the options; ``--help`` names them (the subcommand reuses add_arguments)."""
    from sim.models.options import parse_options

    assert parse_options(["a=1", "b=true", 'c="x"', "d=text", "e=[1, 2]", "f="]) == {
        "a": 1,
        "b": True,
        "c": "x",
        "d": "text",
        "e": [1, 2],
        "f": "",
    }
    with pytest.raises(ValueError, match="expected KEY=VALUE"):
        parse_options(["novalue"])
    finished = subprocess.run(
        [sys.executable, "-m", "sim.remote.command", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=START_DEADLINE,
        check=False,
        env={**os.environ, "COLUMNS": "100"},
    )
    assert finished.returncode == 0
    for option in ("--host", "--port", "--model", "--option KEY=VALUE"):
        assert option in finished.stdout
