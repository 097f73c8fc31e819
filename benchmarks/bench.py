"""pushsim's benchmark: ``python -m benchmarks.bench [--sizes 10000,100000 --days 365]``.

One invocation measures, on this machine and in this run (nothing is carried over or hard-coded):

1. the baseline world (``scenarios/baseline.toml``, its sampling interval and seed; arrivals per
   day scaled with the devices in the file's proportion) at each size × ``--days``, each in a fresh
   subprocess killed after ``--max-seconds`` (then reported "over budget"): wall time, event-loop
   time and peak RSS, and memory per device = (peak RSS − the interpreter's RSS once the imports are
   done) ÷ devices. A size written ``N@D`` runs for D days instead (e.g. ``1000000@30`` to measure
   the memory of a million devices without waiting a year) and stays out of the device fits;
2. events dispatched per second, and the overhead ratio: pushsim's event-loop time ÷ that of a bare
   SimPy loop dispatching the same number of events over the same number of processes within the
   same simulated horizon, run in a fresh subprocess straight after (the same machine minute);
3. sends processed per second during campaign bursts (every campaign call is timed);
4. the speed-up of ``sim.experiment.replicate`` from 1 to 2 workers (identical results asserted),
   and of one household-sharded run (the baseline world resized, ``measurement.shards`` = 2) from
   1 to 2 workers, each in a fresh subprocess (identical result digests checked);
5. the fitted exponents b of wall time and memory ~ devices^b and of wall time ~ days^b (the
   smallest size at ``--day-steps``).

Each world size, day step and 1 → 2 worker comparison is run ``--repeats`` times (default 3; the
worker counts alternate) and reported by its median: on a shared machine one run's verdict on a
target near its limit is decided by the machine's noise. Each run's wall time is kept beside the
median. A world run longer than ``--repeat-max-seconds`` (default 300) and the large world
(``--large``) run once.

Writes ``results.json``, ``results.md`` and ``scaling.png`` next to this file (``--out`` elsewhere)
and prints the table. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks import report

Json = dict[str, Any]

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
DEFAULT_SIZES = "10000,100000,1000000"
DEFAULT_DAYS = 365.0


@dataclass(frozen=True)
class Case:
    """One measured world: ``devices`` at day 0, run for ``days`` simulated days."""

    devices: int
    days: float


def parse_sizes(text: str, days: float) -> list[Case]:
    """``10000,100000,1000000@30`` → cases (a size's own ``@days`` overrides ``days``)."""
    cases = []
    for item in text.split(","):
        size, _, own_days = item.strip().partition("@")
        devices = int(size.replace("_", ""))
        if devices <= 0:
            raise argparse.ArgumentTypeError(f"sizes must be positive, got {item!r}")
        cases.append(Case(devices, float(own_days) if own_days else days))
    return sorted(set(cases), key=lambda c: (c.days != days, c.devices, c.days))


def default_day_steps(days: float) -> list[float]:
    """90, 180 and ``days`` (those below ``days``); ``days``/4, /2 and ``days`` for short runs."""
    steps = [d for d in (90.0, 180.0) if d < days] + [days]
    if len(steps) < 3:
        steps = [days / 4, days / 2, days]
    return steps


def log(message: str) -> None:
    """Progress on standard error, with the time of day."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- the machine ---------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024 / report.GIB
    except OSError:
        pass
    return float("nan")


def _git() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "sim")
    return commit + (" + uncommitted changes in sim/" if dirty else "")


def machine() -> Json:
    """Where and when this run was measured."""
    return {
        "machine": platform.machine(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu": _cpu_model(),
        "memory_gib": _memory_gib(),
        "system": platform.platform(),
        "python": platform.python_version(),
        "simpy": metadata.version("simpy"),
        "numpy": metadata.version("numpy"),
        "pushsim": metadata.version("pushsim"),
        "git": _git(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


# -- measured runs -------------------------------------------------------------------------------


def load_average() -> float | None:
    """The 1-minute load average: above the core count, other processes compete for the CPU."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def run_child(args: list[str], max_seconds: float) -> tuple[str, Json | None, str]:
    """Run ``python -m benchmarks.child ARGS`` fresh; (status, its JSON, a note)."""
    command = [sys.executable, "-m", "benchmarks.child", *args]
    try:
        done = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=max_seconds, check=False
        )
    except subprocess.TimeoutExpired:  # subprocess.run has killed the child
        return "over budget", None, f"killed after {max_seconds:g} s (--max-seconds)"
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        return "failed", None, f"exit {done.returncode}: {tail}"
    return "ok", json.loads(done.stdout.strip().splitlines()[-1]), ""


def measure_case(
    scenario: str,
    case: Case,
    max_seconds: float,
    *,
    bare: bool,
    skip_reason: str = "",
    repeats: int = 1,
    repeat_max_seconds: float = math.inf,
) -> Json:
    """The world run of ``case`` in a fresh process ``repeats`` times, then its bare SimPy loop.

    A run longer than ``repeat_max_seconds`` is not repeated (the machine's noise weighs little
    on it, and repeating it costs much). The record's ``world`` is the median run by wall time
    (every figure of one real run); the wall time of each run is kept in
    ``derived["wall_seconds_runs"]``. The bare loop (if ``bare``) runs once, after the last: every
    run dispatches the same events.
    """
    record: Json = {
        "devices": case.devices,
        "days": case.days,
        "status": "skipped",
        "note": skip_reason,
        "world": None,
        "bare": None,
        "derived": None,
        "load_before": load_average(),
    }
    if skip_reason:
        log(f"{case.devices:,} devices × {case.days:g} d: skipped ({skip_reason})")
        return record
    worlds: list[Json] = []
    loads: list[float | None] = []
    for attempt in range(1, repeats + 1):
        round_note = f", run {attempt} of {repeats}" if repeats > 1 else ""
        log(
            f"{case.devices:,} devices × {case.days:g} d: running (budget {max_seconds:g} s"
            f"{round_note})"
        )
        loads.append(load_average())
        status, world, note = run_child(
            ["world", scenario, str(case.devices), repr(case.days)], max_seconds
        )
        record.update(status=status, note=note, load_after=load_average())
        if world is None:
            log(f"  {status}: {note}")
            return record
        worlds.append(world)
        log(
            f"  {world['seconds_total']:.1f} s ({world.get('cpu_seconds_total', 0):.1f} s CPU), "
            f"{world['events_dispatched']:,} events, "
            f"peak RSS {world['peak_rss_kib'] / 1024:,.0f} MiB"
        )
        if attempt < repeats and float(world["seconds_total"]) > repeat_max_seconds:
            log(f"  not repeated: longer than {repeat_max_seconds:g} s (--repeat-max-seconds)")
            break
    walls = [float(w["seconds_total"]) for w in worlds]
    chosen = report.median_index(walls)
    world = worlds[chosen]
    record.update(world=world, load_before=loads[chosen], loads_before=loads)
    if len(walls) > 1:
        log(f"  median {walls[chosen]:.1f} s of {report.spread(walls)} s")
    bare_report = None
    if bare:
        log(
            f"  bare SimPy loop: {world['processes']:,} processes, "
            f"{world['events_dispatched']:,} events"
        )
        bare_status, bare_report, bare_note = run_child(
            ["bare", str(world["processes"]), str(world["events_dispatched"]), repr(case.days)],
            max_seconds,
        )
        if bare_report is None:
            record["note"] = f"bare loop {bare_status}: {bare_note}"
            log(f"  bare loop {bare_status}: {bare_note}")
        else:
            if bare_report["events_dispatched"] != world["events_dispatched"]:
                record["note"] = (
                    f"bare loop dispatched {bare_report['events_dispatched']:,} events, "
                    f"pushsim {world['events_dispatched']:,} (ratio normalised per event)"
                )
                log(f"  {record['note']}")
            log(
                f"  bare loop {bare_report['seconds_loop']:.1f} s "
                f"({bare_report.get('cpu_seconds_loop', 0):.1f} s CPU)"
            )
    record["bare"] = bare_report
    record["derived"] = report.derive(world, bare_report, walls)
    return record


def measure_replications(
    scenario: str,
    devices: int,
    days: float,
    replications: int,
    per_device: float,
    repeats: int = 1,
) -> Json:
    """``replicate`` with 1 then 2 workers on the same plan, ``repeats`` rounds; medians compared.

    The rounds alternate (1, 2, 1, 2, …) so that a slow spell of the machine falls on both worker
    counts; the speed-up is the ratio of the two medians. Results are checked identical across
    every run.
    """
    import pandas as pd

    from sim.experiment import replicate
    from sim.scenario import load_scenario

    loaded = load_scenario(
        scenario,
        [
            f"population.devices={devices}",
            f"population.arrivals_per_day={float(devices * per_device)!r}",
            f"measurement.days={float(days)!r}",
        ],
    )
    runs: list[list[float]] = [[], []]
    loads = []
    first = None
    identical = True
    for attempt in range(1, repeats + 1):
        for index, workers in enumerate((1, 2)):
            loads.append(load_average())
            round_note = f", round {attempt} of {repeats}" if repeats > 1 else ""
            log(
                f"replications: {replications} × {devices:,} devices × {days:g} d, "
                f"{workers} worker(s){round_note}"
            )
            start = time.perf_counter()
            result = replicate(loaded, replications, workers=workers)
            runs[index].append(time.perf_counter() - start)
            log(f"  {runs[index][-1]:.1f} s")
            if first is None:
                first = result
                continue
            try:
                pd.testing.assert_frame_equal(first.table, result.table)
                pd.testing.assert_frame_equal(first.summary, result.summary)
            except AssertionError as error:
                identical = False
                log(f"  results differ between runs: {error}")
    assert first is not None
    seconds = [report.median(r) for r in runs]
    return {
        "devices": devices,
        "days": days,
        "replications": replications,
        "workers": [1, 2],
        "seconds": seconds,
        "seconds_runs": runs,
        "speedup": seconds[0] / seconds[1] if seconds[1] > 0 else None,
        "identical": identical,
        "rows": len(first.table),
        "load_before": loads,
    }


def measure_sharding(
    scenario: str, devices: int, days: float, shards: int, max_seconds: float, repeats: int = 1
) -> Json:
    """One sharded run with 1 worker, then with 2, in fresh subprocesses, ``repeats`` rounds.

    Rounds alternate the worker counts, as for replications; the speed-up is the ratio of the
    medians, and every run's result digest must be the same.
    """
    runs: list[Json] = []
    failed = False
    for attempt in range(1, repeats + 1):
        for workers in (1, 2):
            load = load_average()
            round_note = f", round {attempt} of {repeats}" if repeats > 1 else ""
            log(
                f"sharding: {devices:,} devices × {days:g} d in {shards} shards, "
                f"{workers} worker(s) (budget {max_seconds:g} s{round_note})"
            )
            status, measured, note = run_child(
                ["sharded", scenario, str(devices), repr(days), str(shards), str(workers)],
                max_seconds,
            )
            runs.append(
                {"workers": workers, "status": status, "note": note, "run": measured, "load": load}
            )
            if measured is None:
                log(f"  {status}: {note}")
                failed = True
                break
            log(
                f"  {measured['seconds_total']:.1f} s (CPU {measured['cpu_seconds_total']:.1f} s "
                f"here, {measured['cpu_seconds_workers']:.1f} s in workers)"
            )
        if failed:
            break
    by_workers = [[r["run"] for r in runs if r["workers"] == w and r["run"]] for w in (1, 2)]
    done = [r["run"] for r in runs if r["run"] is not None]
    identical = not failed and len({r["digest"] for r in done}) == 1
    if not failed and not identical:
        log("  results differ between runs")
    seconds_runs = [[float(r["seconds_total"]) for r in group] for group in by_workers]
    medians = (
        [
            group[report.median_index(times)]
            for group, times in zip(by_workers, seconds_runs, strict=True)
        ]
        if not failed
        else []
    )
    seconds = [float(r["seconds_total"]) for r in medians]
    return {
        "status": "ok" if not failed else runs[-1]["status"],
        "devices": devices,
        "days": days,
        "shards": shards,
        "workers": [1, 2],
        "seconds": seconds,
        "seconds_runs": seconds_runs,
        "cpu_seconds": [
            float(r["cpu_seconds_total"]) + float(r["cpu_seconds_workers"]) for r in medians
        ],
        "speedup": seconds[0] / seconds[1] if len(seconds) == 2 and seconds[1] > 0 else None,
        "identical": identical,
        "load_before": [r["load"] for r in runs],
        "runs": runs,
    }


def measure_large(
    scenario: str, devices: int, days: float, shards: int, workers: int, max_seconds: float
) -> Json:
    """The large world of docs/model.md §7, sharded on ``workers`` processes: one run, timed.

    Memory is counted over every process: the parent's peak RSS plus the largest worker's peak
    times the number of workers (each worker holds one shard at a time; shards are equal in size
    up to sampling noise), less the interpreter baseline once per process.
    """
    load = load_average()
    log(
        f"large world: {devices:,} devices × {days:g} d in {shards} shards on {workers} workers "
        f"(budget {max_seconds:g} s)"
    )
    status, measured, note = run_child(
        ["sharded", scenario, str(devices), repr(days), str(shards), str(workers)], max_seconds
    )
    record: Json = {
        "status": status,
        "note": note,
        "devices": devices,
        "days": days,
        "shards": shards,
        "workers": workers,
        "load_before": load,
        "run": measured,
    }
    if measured is None:
        log(f"  {status}: {note}")
        return record
    processes = 1 + min(workers, shards)
    total_kib = int(measured["peak_rss_kib"]) + min(workers, shards) * int(
        measured["peak_rss_kib_largest_worker"]
    )
    baseline_kib = int(measured.get("baseline_rss_kib", 0))
    record["peak_rss_kib_all_processes"] = total_kib
    record["bytes_per_device"] = (total_kib - processes * baseline_kib) * 1024 / devices
    log(
        f"  {measured['seconds_total']:.0f} s (CPU {measured['cpu_seconds_workers']:.0f} s in "
        f"workers), peak RSS over all processes {total_kib / 1024:,.0f} MiB"
    )
    return record


def project_1m_365(results: Json) -> float | None:
    """Wall time of 1M devices × 365 d projected from the largest full-horizon run and the fits."""
    days = float(results["settings"]["days"])
    full = report.ok_runs(results["runs"], days)
    fits = results["scaling"]
    if not full or fits["time_vs_devices"] is None:
        return None
    run = max(full, key=lambda r: int(r["devices"]))
    devices_exponent = float(fits["time_vs_devices"])
    wall: float = (
        float(run["derived"]["wall_seconds"]) * (1e6 / int(run["devices"])) ** devices_exponent
    )
    if days != 365.0:
        if fits["time_vs_days"] is None:
            return None
        wall *= (365.0 / days) ** float(fits["time_vs_days"])
    return wall


# -- the command ---------------------------------------------------------------------------------


def arguments(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--scenario", default="scenarios/baseline.toml", help="scenario file")
    parser.add_argument(
        "--sizes",
        default=DEFAULT_SIZES,
        help=f"devices at day 0, comma-separated; N@D runs N for D days (default {DEFAULT_SIZES})",
    )
    parser.add_argument(
        "--days", type=float, default=DEFAULT_DAYS, help="simulated days (default 365)"
    )
    parser.add_argument(
        "--day-steps",
        default=None,
        help="days at which the smallest size is run for the days exponent "
        "(default 90,180,DAYS; DAYS/4,DAYS/2,DAYS when DAYS ≤ 180)",
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=3600.0,
        help="kill a run after this many seconds and report it over budget (default 3600)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="run each world size, each day step and each 1 → 2 worker comparison this many "
        "times and report the median (worker counts alternate); the large world runs once "
        "(default 3)",
    )
    parser.add_argument(
        "--repeat-max-seconds",
        type=float,
        default=300.0,
        help="a world run longer than this is not repeated (default 300)",
    )
    parser.add_argument("--replications", type=int, default=4, help="for the 1 → 2 worker test")
    parser.add_argument("--replication-devices", type=int, default=10_000)
    parser.add_argument("--replication-days", type=float, default=180.0)
    parser.add_argument(
        "--no-replications", action="store_true", help="skip the 1 → 2 worker measurement"
    )
    parser.add_argument(
        "--sharding-devices",
        type=int,
        default=None,
        help="devices of the sharded run (default: the smallest size at --days)",
    )
    parser.add_argument(
        "--sharding-days", type=float, default=None, help="days of the sharded run (default --days)"
    )
    parser.add_argument("--shards", type=int, default=2, help="shards of the sharded run")
    parser.add_argument(
        "--large",
        type=int,
        default=None,
        help="also run docs/model.md §7's large world: this many devices × --days, sharded in "
        "--large-shards on 2 workers, once (e.g. 1000000; 10 to 20 minutes on 2 cores)",
    )
    parser.add_argument(
        "--large-shards",
        type=int,
        default=None,
        help="shards of the large world (default --shards); more shards than workers keep "
        "each world small (the workers take them in turn)",
    )
    parser.add_argument(
        "--no-sharding", action="store_true", help="skip the sharded 1 → 2 worker measurement"
    )
    parser.add_argument(
        "--memory-budget-gib", type=float, default=24.0, help="for the capacity estimate"
    )
    parser.add_argument("--out", type=Path, default=HERE, help="directory of the outputs")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run every measurement, write the outputs and print the table."""
    args = arguments(argv)
    cases = parse_sizes(args.sizes, args.days)
    day_steps = (
        [float(d) for d in args.day_steps.split(",")]
        if args.day_steps
        else default_day_steps(args.days)
    )
    from sim.scenario import load_scenario

    base = load_scenario(args.scenario)
    per_device = base.population.arrivals_per_day / base.population.devices
    started = time.perf_counter()
    results: Json = {
        "machine": machine(),
        "settings": {
            "scenario": args.scenario,
            "sizes": [{"devices": c.devices, "days": c.days} for c in cases],
            "days": args.days,
            "day_steps": day_steps,
            "max_seconds": args.max_seconds,
            "arrivals_per_device_per_day": per_device,
            "sample_every_days": base.measurement.sample_every_days,
            "seed": base.measurement.seed,
            "memory_budget_gib": args.memory_budget_gib,
            "repeats": args.repeats,
            "repeat_max_seconds": args.repeat_max_seconds,
        },
    }

    runs: list[Json] = []
    over_budget_days: set[float] = set()
    for case in cases:
        skip = (
            "a smaller size at these days was already over budget"
            if case.days in over_budget_days
            else ""
        )
        record = measure_case(
            args.scenario,
            case,
            args.max_seconds,
            bare=True,
            skip_reason=skip,
            repeats=args.repeats,
            repeat_max_seconds=args.repeat_max_seconds,
        )
        if record["status"] == "over budget":
            over_budget_days.add(case.days)
        runs.append(record)
    results["runs"] = runs

    smallest = min(c.devices for c in cases if c.days == args.days) if cases else None
    days_series: list[Json] = []
    if smallest is not None:
        for steps_days in sorted(set(day_steps)):
            same = next(
                (r for r in runs if r["devices"] == smallest and r["days"] == steps_days), None
            )
            days_series.append(
                same
                if same is not None
                else measure_case(
                    args.scenario,
                    Case(smallest, steps_days),
                    args.max_seconds,
                    bare=False,
                    repeats=args.repeats,
                    repeat_max_seconds=args.repeat_max_seconds,
                )
            )
    results["days_series"] = days_series

    results["replications"] = (
        None
        if args.no_replications
        else measure_replications(
            args.scenario,
            args.replication_devices,
            args.replication_days,
            args.replications,
            per_device,
            args.repeats,
        )
    )
    sharding_devices = args.sharding_devices or smallest
    results["sharding"] = (
        None
        if args.no_sharding or sharding_devices is None
        else measure_sharding(
            args.scenario,
            sharding_devices,
            args.sharding_days if args.sharding_days is not None else args.days,
            args.shards,
            args.max_seconds,
            args.repeats,
        )
    )
    results["large"] = (
        None
        if args.large is None
        else measure_large(
            args.scenario,
            args.large,
            args.days,
            args.large_shards if args.large_shards is not None else args.shards,
            2,
            args.max_seconds,
        )
    )
    results["scaling"] = report.scaling(runs, days_series, args.days)
    results["capacity"] = report.capacity(runs, args.days, args.memory_budget_gib)
    results["projection_1m_365"] = project_1m_365(results)
    results["targets"] = report.targets(results)
    results["bench_seconds"] = time.perf_counter() - started

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "results.md").write_text(report.markdown(results))
    report.plot(results, args.out / "scaling.png")
    print(report.text(results))
    print(f"\nwrote {args.out / 'results.json'}, results.md and scaling.png")
    differ = [
        name
        for name in ("replications", "sharding")
        if results[name] is not None
        and results[name].get("status", "ok") == "ok"
        and not results[name]["identical"]
    ]
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
