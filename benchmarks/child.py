"""The measured work of one benchmark run, in a fresh interpreter: ``python -m benchmarks.child``.

Three kinds of run, each printing one JSON object on its last line of standard output:

- ``world SCENARIO DEVICES DAYS``: the scenario's world (``scenarios/baseline.toml``) with
  ``population.devices`` = DEVICES and ``population.arrivals_per_day`` scaled with it in the file's
  proportion (arrivals per device per day), run for DAYS days with the file's seed and sampling
  interval. Reports build, event-loop and result times; the SimPy processes started; the events
  dispatched; the time and audience of every campaign; the process's CPU time besides wall time
  (on a shared machine wall time also counts the time other processes held the CPU); the
  interpreter's resident memory once the imports are done and the peak resident memory of the run.
- ``sharded SCENARIO DEVICES DAYS SHARDS WORKERS``: the same resized world with
  ``measurement.shards`` = SHARDS, run through :func:`sim.runner.run_scenario` with WORKERS worker
  processes (the path of ``pushsim run --workers``): wall time of the whole run (population draws,
  pool start, shards, merge), CPU time of this process and of its worker processes, and a SHA-256
  digest of every result table (to check that the worker count changes nothing), fed from the
  tables' CSV text as pandas writes it.
- ``bare PROCESSES EVENTS HORIZON``: a bare SimPy loop of PROCESSES processes, each yielding
  ``env.timeout`` at a fixed, precomputed step, so that exactly EVENTS events are dispatched within
  HORIZON simulated days — the yardstick of the overhead ratio.

Events are counted from SimPy's private event-id counter ``Environment._eid`` (an
``itertools.count`` that every ``schedule`` call advances): events scheduled = ``next(env._eid)``
after the run, events dispatched = scheduled minus those still in the queue ``env._queue``. Both
are private attributes of SimPy 4; reading them costs nothing during the run. Processes are counted
by wrapping ``simpy.events.Process.__init__`` (one extra call per process, not per event).
Worker CPU time is read with ``resource.getrusage(RUSAGE_CHILDREN)`` after stopping the forkserver
(the private ``multiprocessing.forkserver._forkserver._stop()``): pool workers are children of the
forkserver, which reaps them, so their CPU time reaches this process only once it reaps the server.
Memory comes from ``/proc/self/status`` (``VmRSS`` now, ``VmHWM`` the peak), falling back to
``resource.getrusage`` where there is no ``/proc``.
"""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing.forkserver
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import simpy

from sim.runner import run_scenario
from sim.scenario import Scenario, load_scenario
from sim.simulation import Simulation

Json = dict[str, Any]


def status_kib(field: str) -> int:
    """``field`` (``VmRSS`` or ``VmHWM``) of ``/proc/self/status`` in KiB; else peak RSS."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    # Linux reports ru_maxrss in KiB; other systems are not the benchmark machine
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def events_dispatched(env: simpy.Environment) -> tuple[int, int]:
    """(scheduled, dispatched) events of ``env`` so far, from SimPy's private counters."""
    scheduled = int(next(env._eid))
    return scheduled, scheduled - len(env._queue)


def count_processes() -> list[int]:
    """Count every SimPy process created from now on, in the returned one-item list."""
    counter = [0]
    original = simpy.events.Process.__init__

    def counting(self: simpy.events.Process, env: simpy.Environment, generator: Any) -> None:
        counter[0] += 1
        original(self, env, generator)

    setattr(simpy.events.Process, "__init__", counting)  # noqa: B010 - a method, not an attribute
    return counter


def resized(scenario_path: str, devices: int, *overrides: str) -> Scenario:
    """The scenario with ``devices`` devices and arrivals scaled in the file's proportion."""
    base = load_scenario(scenario_path)
    per_device = base.population.arrivals_per_day / base.population.devices
    arrivals = float(devices * per_device)
    return load_scenario(
        scenario_path,
        [f"population.devices={devices}", f"population.arrivals_per_day={arrivals!r}", *overrides],
    )


def measure_world(scenario_path: str, devices: int, days: float) -> Json:
    """Build, run and collect the scenario's world at ``devices`` devices for ``days`` days."""
    baseline_kib = status_kib("VmRSS")  # the interpreter with pushsim, numpy, pandas imported
    scenario = resized(scenario_path, devices)
    arrivals = scenario.population.arrivals_per_day
    processes = count_processes()

    start, cpu_start = time.perf_counter(), time.process_time()
    simulation = Simulation(
        scenario.world(),
        seed=scenario.measurement.seed,
        sample_every_days=scenario.measurement.sample_every_days,
    )
    built = time.perf_counter()

    sender = simulation.world.sender
    campaign = sender.campaign
    campaigns: list[tuple[int, float]] = []

    def timed_campaign(campaign_id: str, *, foreground: bool = True) -> int:
        began = time.perf_counter()
        targeted = campaign(campaign_id, foreground=foreground)
        campaigns.append((targeted, time.perf_counter() - began))
        return targeted

    setattr(sender, "campaign", timed_campaign)  # noqa: B010 - shadow the bound method

    cpu_built = time.process_time()
    simulation.run(days)
    ran, cpu_ran = time.perf_counter(), time.process_time()
    result = simulation.result()
    done, cpu_done = time.perf_counter(), time.process_time()

    scheduled, dispatched = events_dispatched(simulation.world.env)
    return {
        "devices": devices,
        "days": days,
        "arrivals_per_day": arrivals,
        "sample_every_days": scenario.measurement.sample_every_days,
        "seed": scenario.measurement.seed,
        "processes": processes[0],
        "devices_ever": len(simulation.world.devices),
        "events_scheduled": scheduled,
        "events_dispatched": dispatched,
        "seconds_build": built - start,
        "seconds_loop": ran - built,
        "seconds_result": done - ran,
        "seconds_total": done - start,
        "cpu_seconds_loop": cpu_ran - cpu_built,
        "cpu_seconds_total": cpu_done - cpu_start,
        "campaigns": [{"targeted": n, "seconds": s} for n, s in campaigns],
        "timeseries_rows": len(result.timeseries),
        "baseline_rss_kib": baseline_kib,
        "peak_rss_kib": status_kib("VmHWM"),
    }


def children_cpu_seconds() -> float:
    """User + system CPU time of every child process reaped so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class _Hashing(io.TextIOBase):
    """A text file that feeds what is written to it, UTF-8 encoded, into a running digest."""

    def __init__(self, digest: Any) -> None:
        super().__init__()
        self._digest = digest

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._digest.update(text.encode())
        return len(text)


def measure_sharded(
    scenario_path: str, devices: int, days: float, shards: int, workers: int
) -> Json:
    """One sharded run of the resized scenario on ``workers`` processes, timed end to end."""
    baseline_kib = status_kib("VmRSS")  # the interpreter with pushsim, numpy, pandas imported
    scenario = resized(
        scenario_path, devices, f"measurement.days={days!r}", f"measurement.shards={shards}"
    )
    children_before = children_cpu_seconds()
    start, cpu_start = time.perf_counter(), time.process_time()
    result = run_scenario(scenario, workers=workers)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    if workers > 1:
        # reap the server, and so its workers (private API, see the module docstring)
        multiprocessing.forkserver._forkserver._stop()  # type: ignore[attr-defined]
    digest = hashlib.sha256()
    for name, frame in sorted(result.frames().items()):
        digest.update(name.encode())
        # streamed: a whole table's CSV text at once would count in this process's peak RSS
        # (hundreds of MB for a million devices' latencies), which pushsim itself never holds
        frame.to_csv(_Hashing(digest), index=False)
    return {
        "devices": devices,
        "days": days,
        "shards": shards,
        "workers": workers,
        "arrivals_per_day": scenario.population.arrivals_per_day,
        "seed": scenario.measurement.seed,
        "seconds_total": seconds,
        "cpu_seconds_total": cpu_seconds,
        "cpu_seconds_workers": children_cpu_seconds() - children_before,
        "digest": digest.hexdigest(),
        "timeseries_rows": len(result.timeseries),
        "baseline_rss_kib": baseline_kib,
        "peak_rss_kib": status_kib("VmHWM"),
        # the largest peak RSS of any process reaped so far: a worker (or the forkserver)
        "peak_rss_kib_largest_worker": int(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss),
    }


def ticker(env: simpy.Environment, first: float, step: float, ticks: int) -> Any:
    """A bare process: ``ticks`` timeouts, the first after ``first`` days, then every ``step``."""
    if ticks <= 0:
        return
    timeout = env.timeout
    yield timeout(first)
    for _ in range(ticks - 1):
        yield timeout(step)


def measure_bare(processes: int, events: int, horizon: float, seed: int = 0) -> Json:
    """Dispatch ``events`` events over ``processes`` bare processes within ``horizon`` days.

    Each process contributes its start event, its timeouts and its end event; the run's stop event
    is one more. The timeouts are spread evenly over the processes, each ticking at a fixed step
    with a random phase (drawn before the clock starts: no draws per event).
    """
    processes = max(1, processes)
    timeouts = max(0, events - 2 * processes - 1)
    ticks = np.full(processes, timeouts // processes, dtype=np.int64)
    ticks[: timeouts % processes] += 1
    steps = np.where(ticks > 0, horizon / np.maximum(ticks, 1), horizon)
    firsts = np.random.default_rng(seed).random(processes) * 0.999 * steps
    env = simpy.Environment()
    for first, step, n in zip(firsts.tolist(), steps.tolist(), ticks.tolist(), strict=True):
        env.process(ticker(env, first, step, n))
    start, cpu_start = time.perf_counter(), time.process_time()
    env.run(until=horizon)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    scheduled, dispatched = events_dispatched(env)
    return {
        "processes": processes,
        "events_target": events,
        "events_scheduled": scheduled,
        "events_dispatched": dispatched,
        "seconds_loop": seconds,
        "cpu_seconds_loop": cpu_seconds,
        "peak_rss_kib": status_kib("VmHWM"),
    }


def main(argv: list[str]) -> int:
    """Run one measurement and print its JSON; the command line is documented above."""
    match argv:
        case ["world", scenario, devices, days]:
            report = measure_world(scenario, int(devices), float(days))
        case ["sharded", scenario, devices, days, shards, workers]:
            report = measure_sharded(scenario, int(devices), float(days), int(shards), int(workers))
        case ["bare", processes, events, horizon]:
            report = measure_bare(int(processes), int(events), float(horizon))
        case _:
            print(__doc__, file=sys.stderr)
            return 2
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
