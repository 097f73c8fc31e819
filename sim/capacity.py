"""Capacity check: a run's peak memory and wall time, estimated before it starts; refusals.

A scenario's size is not bounded by the model alone: ``population.devices = 1e9`` or
``measurement.days = 1e300`` are valid numbers that would run until the OOM killer stops them.
:func:`estimate` predicts, without building anything, the device records a run creates, its events,
the peak memory of every process it holds at once and its wall time on this machine;
:func:`check_capacity` turns that into warnings, or into a :class:`ScenarioError` (exit 2) naming
the key that drives the size, the estimate, and the way out (household shards with ``--workers``,
or a cluster with ``--dask ADDRESS``).

The model, fitted to the recorded benchmark run (figures below):

- **Device records.** ``devices_ever = devices + arrivals_per_day × days + replacements``:
  people arriving bring one device each, and replacing a phone creates a new record at
  ``behaviour.device_replacement_per_day`` while the app is installed, about 47 % of the time
  (fitted), over the mean base ``devices + arrivals_per_day × days / 2``. Reinstalls reuse the
  record (their new tokens are in the memory per record).
- **Memory of one world.** A fixed part plus a cost per device record (its generator frame,
  heap entry, registry records and the provider token states of every token it was ever issued:
  dead tokens stay to answer 410s), both fitted through 10k and 100k devices × 365 days, plus the
  time-series samples. A household shard makes every draw of the whole population but builds only
  its own households; a process keeps the draws of the run it is running (about 12 bytes a device
  of the whole population, :data:`DRAW_BYTES_PER_DEVICE`). The process that merges shards holds
  every shard's results. Every process also holds the interpreter with pushsim, NumPy and pandas
  imported.
- **Time of one world.** ``seconds = 266.45 s × (devices_ever / 278,808) ** 1.285`` (the measured
  growth exponent: SimPy's heap and the caches grow with the world), plus the samples; a sharded
  run's population is drawn once by each process that runs its shards
  (:data:`DRAW_SECONDS_PER_DEVICE` a device of the whole population). Runs and shards spread over
  ``min(workers, cores)``.

On every recorded point (tests/test_capacity.py) it is within 10 % of the wall time and within
2 % of the peak memory of runs of 10k devices and more, 16 % on the small sharded runs where the
worker pool's own memory weighs most; the 1M-device sharded run, which it was not fitted to, comes
out at +3 % (time) and +0.5 % (memory). Elsewhere it extrapolates: other behaviour settings,
policies, and horizons beyond a year change the cost per record. So every estimate carries a spread
(:data:`MEMORY_SPREAD`, :data:`TIME_SPREAD`): a run is refused only when the *low* end does not fit,
and a warning is given when the high end might not. "On this machine" assumes cores as fast as the
benchmark machine's. The event log (``--events``) is not counted.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from sim.scenario.errors import ScenarioError
from sim.scenario.schema import Scenario
from sim.workers import available_cores

# --------------------------------------------------------------------------------------------------
# The recorded benchmark run: benchmarks/results.json, written by
#   python -m benchmarks.bench --sizes 10000,100000 --days 365 --large 1000000
# at pushsim 2912b2a (recorded in commit 35928b2), 2026-11-29 19:39–20:21 UTC, on the project
# machine (x86_64 AMD EPYC, 2 cores, 24 GiB, Python 3.11.7, SimPy 4.1.2, NumPy 2.4.6), baseline
# scenario with arrivals at 0.004 per device per day (40 a day for 10,000 devices), sampled daily,
# seed 1.
# Raw figures as recorded, with their place in the JSON; the fitted constants are derived below.

#: runs[1].world.baseline_rss_kib: VmRSS of a process with pushsim, NumPy and pandas imported
INTERPRETER_BYTES = 117_704 * 1024
#: runs[0].world: 10,000 devices × 365 d: device records, peak RSS above the interpreter, wall time
_SMALL_RECORDS = 27_851
_SMALL_NET_BYTES = (220_320 - 117_668) * 1024
#: runs[1].world: 100,000 devices × 365 d (arrivals 400 per day)
_LARGE_DEVICES = 100_000
_LARGE_ARRIVALS_PER_DAY = 400.0
_LARGE_DAYS = 365.0
_LARGE_RECORDS = 278_808
_LARGE_NET_BYTES = (1_004_516 - 117_704) * 1024
_LARGE_SECONDS = 266.45  # seconds_total (build + event loop + result)
_LARGE_EVENTS = 8_544_376  # events_dispatched
_SMALL_SECONDS = 13.81
#: large.run: 1,000,000 devices × 365 d in 2 shards on 2 workers: the merging parent's peak RSS
#: above the interpreter (KiB), and sharding.runs[1].run: the same at 10,000 devices
_SHARDED_PARENT_NET_BYTES = (926_544 - 117_608) * 1024
_SHARDED_SMALL_PARENT_NET_BYTES = (150_928 - 117_716) * 1024
#: the baseline's replacement rate (behaviour.device_replacement_per_day default)
_RECORDED_REPLACEMENT_PER_DAY = 1 / 900

#: memory per device record: the slope of peak RSS against device records, 10k → 100k × 365 d
#: ((908,095,488 − 105,115,648) B / (278,808 − 27,851) records ≈ 3,200 B)
BYTES_PER_DEVICE_RECORD = (_LARGE_NET_BYTES - _SMALL_NET_BYTES) / (_LARGE_RECORDS - _SMALL_RECORDS)
#: the fixed part of a world (≈ 16 MB): the same fit's intercept
WORLD_BYTES = _SMALL_NET_BYTES - BYTES_PER_DEVICE_RECORD * _SMALL_RECORDS
#: share of device-days with the app installed, when replacements create records (≈ 0.468):
#: 100k × 365 d made 278,808 − 100,000 − 146,000 arrivals = 32,808 replacements
#: over 365 d × (100,000 + 400 × 365 / 2) base devices at 1/900 per day
REPLACED_SHARE = (_LARGE_RECORDS - _LARGE_DEVICES - _LARGE_ARRIVALS_PER_DAY * _LARGE_DAYS) / (
    _RECORDED_REPLACEMENT_PER_DAY
    * _LARGE_DAYS
    * (_LARGE_DEVICES + _LARGE_ARRIVALS_PER_DAY * _LARGE_DAYS / 2)
)
#: wall time of one world against device records: seconds = SECONDS_AT_REFERENCE ×
#: (records / RECORDS_AT_REFERENCE) ** TIME_EXPONENT, through 10k and 100k × 365 d (≈ 1.285)
SECONDS_AT_REFERENCE = _LARGE_SECONDS
RECORDS_AT_REFERENCE = float(_LARGE_RECORDS)
TIME_EXPONENT = math.log(_LARGE_SECONDS / _SMALL_SECONDS) / math.log(
    _LARGE_RECORDS / _SMALL_RECORDS
)
#: events per device record at 100k × 365 d (≈ 30.6; 29.5–37.5 over the recorded runs)
EVENTS_PER_DEVICE_RECORD = _LARGE_EVENTS / _LARGE_RECORDS
#: the merging process of a sharded run holds every shard's results: a cost per device record of
#: the whole run (≈ 288 B) and a fixed part (≈ 26 MB, the pool included), through the parents of
#: the 10k (27,851 records) and 1M (2,788,080 records: 2.788 per device as at 100k) sharded runs
RESULTS_BYTES_PER_DEVICE_RECORD = (_SHARDED_PARENT_NET_BYTES - _SHARDED_SMALL_PARENT_NET_BYTES) / (
    2.78808e6 - _SMALL_RECORDS
)
RESULTS_BYTES = _SHARDED_SMALL_PARENT_NET_BYTES - RESULTS_BYTES_PER_DEVICE_RECORD * _SMALL_RECORDS
#: starting a pool of worker processes (README: "about a second")
POOL_START_SECONDS = 1.0

# --------------------------------------------------------------------------------------------------
# Not in the benchmark: measured on the project machine on 2026-12-01 at commit 0de47b7.

#: the draws of a sharded run's population, per device of the whole population, made once by each
#: process running its shards (2026-12-02: 1,000,000 devices, 1.89 s with shard 0 of 40 built;
#: the next shards of the run in the same process 0.08-0.13 s, their own households only)
DRAW_SECONDS_PER_DEVICE = 2.0e-6
#: what a process keeps of those draws while it runs the run's shards (2026-12-02: tracemalloc,
#: 1,000,000 devices, 11.5 MB)
DRAW_BYTES_PER_DEVICE = 12.0
#: one time-series sample of a world (four platform rows): memory and time, from an empty world
#: sampled 20,000 times (261 MiB, 13.4 KB each) and 200,000 times (9.6 KB, 118 µs each)
SAMPLE_BYTES = 13_400.0
SAMPLE_SECONDS = 120e-6

# --------------------------------------------------------------------------------------------------
# Thresholds.

#: the estimate's spread: memory within ÷/× 1.5, time within ÷/× 2 (extrapolation, other settings)
MEMORY_SPREAD = 1.5
TIME_SPREAD = 2.0
#: a run whose low-end time is longer than this cannot finish: refused
LONGEST_SECONDS = 365.25 * 86_400.0
#: a run estimated longer than this gets a warning with its time
LONG_SECONDS = 3_600.0
#: on a Dask cluster the workers' memory is not known here; more than this in one process (the
#: largest machines rented today have 24–32 TiB) is refused as impossible anywhere
LARGEST_MACHINE_BYTES = 32.0 * 2**40

#: the baseline scenario's values: the reference for "which key makes it big"
_REFERENCE = {
    "population.devices": 10_000.0,
    "population.arrivals_per_day": 40.0,
    "measurement.days": 365.0,
    "behaviour.device_replacement_per_day": 1 / 900,
    "measurement.sample_every_days": 1.0,
}


def _product(*factors: float) -> float:
    """The product of non-negative ``factors``: 0 if any is 0 (never inf × 0 = nan)."""
    if any(f == 0 for f in factors):
        return 0.0
    result = 1.0
    for factor in factors:
        result *= factor
    return result


def _power(base: float, exponent: float) -> float:
    """``base ** exponent`` for ``base`` >= 0, inf instead of OverflowError."""
    try:
        return float(base**exponent)
    except OverflowError:
        return math.inf


def _finite_or_inf(value: float) -> float:
    """A nan (an undefined product) counts as too big: it must never pass a comparison."""
    return math.inf if math.isnan(value) else value


def _as_float(value: float) -> float:
    try:
        return float(value)
    except OverflowError:  # an int beyond 1.8e308
        return math.inf


@dataclass(frozen=True)
class _Size:
    """The size figures of one world, read from a scenario (floats: nothing overflows)."""

    devices: float
    arrivals_per_day: float
    days: float
    replacement_per_day: float
    sample_every_days: float

    @classmethod
    def of(cls, scenario: Scenario) -> _Size:
        return cls(
            devices=_as_float(scenario.population.devices),
            arrivals_per_day=_as_float(scenario.population.arrivals_per_day),
            days=_as_float(scenario.measurement.days),
            replacement_per_day=_as_float(scenario.behaviour.device_replacement_per_day),
            sample_every_days=_as_float(scenario.measurement.sample_every_days),
        )

    def terms(self, shards: float = 1.0) -> dict[str, tuple[float, tuple[str, ...]]]:
        """Device records of one of ``shards`` worlds, by source, with the keys each grows with."""
        devices = self.devices / shards
        arrivals = self.arrivals_per_day / shards
        rate = REPLACED_SHARE * self.replacement_per_day
        return {
            "day 0": (devices, ("population.devices",)),
            "arrivals": (
                _product(arrivals, self.days),
                ("population.arrivals_per_day", "measurement.days"),
            ),
            "replacements of day-0 devices": (
                _product(rate, self.days, devices),
                ("population.devices", "measurement.days", "behaviour.device_replacement_per_day"),
            ),
            "replacements of arrivals": (
                _product(rate, self.days, self.days, arrivals, 0.5),
                (
                    "population.arrivals_per_day",
                    "measurement.days",
                    "behaviour.device_replacement_per_day",
                ),
            ),
        }

    def records(self, shards: float = 1.0) -> float:
        """Device records one of ``shards`` worlds creates over the run."""
        return _finite_or_inf(sum(value for value, _ in self.terms(shards).values()))

    def samples(self) -> float:
        """Time-series samples of a world (every shard samples the whole run)."""
        if self.sample_every_days <= 0:
            return math.inf
        return _finite_or_inf(self.days / self.sample_every_days)

    def value(self, key: str) -> float:
        return {
            "population.devices": self.devices,
            "population.arrivals_per_day": self.arrivals_per_day,
            "measurement.days": self.days,
            "behaviour.device_replacement_per_day": self.replacement_per_day,
            "measurement.sample_every_days": self.sample_every_days,
        }[key]

    def driving_key(self) -> str:
        """The key that makes the run big.

        Among the keys of the terms that weigh at least a quarter of the largest one (device
        records by source, time-series samples), the key furthest above the baseline scenario's
        value; on a tie, the first of population.devices, arrivals_per_day, measurement.days.
        """
        terms = [(value * BYTES_PER_DEVICE_RECORD, keys) for value, keys in self.terms().values()]
        terms.append(
            (
                _finite_or_inf(self.samples() * SAMPLE_BYTES),
                ("measurement.days", "measurement.sample_every_days"),
            )
        )
        largest = max(weight for weight, _ in terms)
        keys = {key for weight, keys in terms if weight >= largest / 4 for key in keys}
        order = list(_REFERENCE)

        def excess(key: str) -> tuple[float, int]:
            ratio = self.value(key) / _REFERENCE[key]
            if key == "measurement.sample_every_days":  # finer sampling is bigger
                ratio = 1 / ratio if ratio > 0 else math.inf
            growth = math.log(ratio) if ratio > 0 else -math.inf
            return (round(growth, 9) if math.isfinite(growth) else growth, -order.index(key))

        return max(keys, key=excess)


@dataclass(frozen=True)
class Estimate:
    """What a command is expected to need, before it starts.

    ``devices_ever`` and ``events`` are those of one run (all its shards). ``peak_bytes`` is the
    memory of every local process at once (on a Dask cluster: of one worker process, which runs a
    whole run, or one shard of a single run); ``process_bytes`` that of the largest process.
    ``seconds`` is the wall time of the whole command on this machine (on a Dask cluster: of one
    run, or one shard, on one core like this machine's).
    """

    devices_ever: float
    events: float
    peak_bytes: float
    process_bytes: float
    processes: int
    seconds: float
    remote: bool = False
    #: on a Dask cluster, a single run's household shards: the worker estimate is one shard's
    #: and ``seconds`` one shard's; ``local_bytes`` is this process, which merges their results
    shards: int = 1
    local_bytes: float = 0.0

    @property
    def bytes_low(self) -> float:
        """The low end of the memory estimate."""
        return self.peak_bytes / MEMORY_SPREAD

    @property
    def bytes_high(self) -> float:
        """The high end of the memory estimate."""
        return self.peak_bytes * MEMORY_SPREAD

    @property
    def seconds_low(self) -> float:
        """The low end of the time estimate."""
        return self.seconds / TIME_SPREAD

    def describe(self) -> str:
        """``"≈ 3.1 GiB peak, ≈ 4 min on this machine"``."""
        if self.remote and self.shards > 1:
            return (
                f"≈ {format_bytes(self.peak_bytes)} per Dask worker process (one of "
                f"{self.shards} shards at a time), ≈ {format_seconds(self.seconds)} per shard on "
                f"one core like this machine's; merging here ≈ {format_bytes(self.local_bytes)}"
            )
        if self.remote:
            return (
                f"≈ {format_bytes(self.peak_bytes)} per Dask worker process, "
                f"≈ {format_seconds(self.seconds)} per run on one core like this machine's"
            )
        memory, time = format_bytes(self.peak_bytes), format_seconds(self.seconds)
        return f"≈ {memory} peak, ≈ {time} on this machine"


def format_bytes(value: float) -> str:
    """``3.1 GiB``; huge values in scientific notation."""
    if not math.isfinite(value):
        return "more bytes than a float can count"
    for unit, size in (("EiB", 2**60), ("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30)):
        if value >= size:
            scaled = value / size
            if unit == "EiB" and scaled >= 1024:
                return f"{value:.2g} bytes"
            return f"{scaled:.3g} {unit}" if scaled < 100 else f"{scaled:,.0f} {unit}"
    return f"{value / 2**20:,.0f} MiB"


def format_count(value: float) -> str:
    """``50,000,000``, ``0.5``, ``1e+300``."""
    if math.isfinite(value) and value < 1e15:
        return f"{value:,.0f}" if value == int(value) or value >= 1000 else f"{value:.3g}"
    return f"{value:.3g}"


def format_seconds(value: float) -> str:
    """``40 s``, ``25 min``, ``3.2 days``, ``4.1e+290 years``."""
    if not math.isfinite(value):
        return "forever"
    if value < 90:
        return f"{value:.0f} s"
    if value < 86_400:
        return f"{value / 60:,.0f} min"
    if value < 2 * 365.25 * 86_400:
        return f"{value / 86_400:.3g} days"
    years = value / (365.25 * 86_400)
    return f"{years:,.0f} years" if years < 1e6 else f"{years:.2g} years"


def _rounds(jobs: float, parallel: float) -> float:
    """Rounds of ``parallel`` jobs needed for ``jobs``."""
    per = jobs / parallel
    return float(math.ceil(per)) if per < 2**53 else per


def estimate(
    scenario: Scenario,
    *,
    workers: int = 1,
    runs: int = 1,
    cores: int | None = None,
    remote: bool = False,
) -> Estimate:
    """Estimate ``runs`` runs of ``scenario`` on ``workers`` local processes (or a Dask cluster).

    ``runs`` is the number of runs the command makes (replications × sweep points): with more than
    one, ``min(workers, runs)`` processes each hold one run's world at a time and run a sharded
    scenario's shards one after another. A single run of a scenario with ``measurement.shards = K``
    holds ``min(workers, K)`` shards of 1/K of the population at once (workers > 1), and the
    calling process merges their results. ``cores`` defaults to the cores this process may use;
    ``remote``: the worlds run on a Dask cluster, so only one worker process's share is estimated:
    a whole run (experiments), or for a single run of K > 1 shards one shard (one task each),
    whose results this process merges (``local_bytes``).
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if runs < 1:
        raise ValueError(f"runs must be >= 1, got {runs}")
    size = _Size.of(scenario)
    shards = max(1, scenario.measurement.shards)
    usable = max(1, cores if cores is not None else available_cores())

    records = size.records()
    shard_records = size.records(shards)
    samples = size.samples()
    # a sharded run's draws: made once by each process running its shards, and kept meanwhile
    draw_seconds = DRAW_SECONDS_PER_DEVICE * size.devices if shards > 1 else 0.0
    draw_bytes = DRAW_BYTES_PER_DEVICE * size.devices if shards > 1 else 0.0
    world_bytes = _finite_or_inf(
        WORLD_BYTES + BYTES_PER_DEVICE_RECORD * shard_records + SAMPLE_BYTES * samples + draw_bytes
    )
    results_bytes = (
        _finite_or_inf(
            RESULTS_BYTES
            + RESULTS_BYTES_PER_DEVICE_RECORD * records
            + SAMPLE_BYTES * samples  # the merged time series
        )
        if shards > 1
        else 0.0
    )
    world_seconds = _finite_or_inf(  # one shard, its population drawn already
        SECONDS_AT_REFERENCE * _power(shard_records / RECORDS_AT_REFERENCE, TIME_EXPONENT)
        + SAMPLE_SECONDS * samples
    )
    run_seconds = _finite_or_inf(shards * world_seconds + draw_seconds)
    events = _finite_or_inf(EVENTS_PER_DEVICE_RECORD * records)

    if remote and runs == 1 and shards > 1:  # one run's shards, one task each; merged here
        process = INTERPRETER_BYTES + world_bytes
        parent = INTERPRETER_BYTES + results_bytes
        return Estimate(
            records,
            events,
            process,
            process,
            1,
            _finite_or_inf(world_seconds + draw_seconds),  # a worker's first shard draws
            remote=True,
            shards=shards,
            local_bytes=_finite_or_inf(parent),
        )
    if remote:  # one Dask worker runs a whole run: its shards one after another, then the merge
        process = INTERPRETER_BYTES + world_bytes + results_bytes
        return Estimate(records, events, process, process, 1, run_seconds, remote=True)

    first = 0.0  # time a process spends once before its jobs
    if runs > 1:  # an experiment: each process runs whole runs, shards one after another
        processes = min(workers, runs)
        process = INTERPRETER_BYTES + world_bytes + results_bytes
        peak = process if processes == 1 else INTERPRETER_BYTES + processes * process
        jobs, job_seconds = float(runs), run_seconds
    elif shards > 1 and workers > 1:  # one run, its shards on a pool; this process merges
        processes = min(workers, shards)
        process = INTERPRETER_BYTES + world_bytes
        parent = INTERPRETER_BYTES + results_bytes
        peak = parent + processes * process
        process = max(process, parent)
        jobs, job_seconds = float(shards), world_seconds
        first = draw_seconds  # each worker draws the population before its first shard
    else:  # one run in this process (its shards one after another)
        processes = 1
        process = peak = INTERPRETER_BYTES + world_bytes + results_bytes
        jobs, job_seconds = 1.0, run_seconds
    seconds = (_rounds(jobs, processes) * job_seconds + first) * max(1.0, processes / usable)
    if processes > 1:
        seconds += POOL_START_SECONDS
    return Estimate(
        records,
        events,
        _finite_or_inf(peak),
        _finite_or_inf(process),
        processes,
        _finite_or_inf(seconds),
    )


def available_memory(meminfo: Path = Path("/proc/meminfo")) -> int | None:
    """Bytes this machine can give a new run: MemAvailable, else physical memory, else None."""
    try:
        with meminfo.open(encoding="ascii") as lines:
            for line in lines:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


def _fits(guess: Estimate, available: float | None) -> bool:
    """True when ``guess`` fits comfortably: its high end in memory, its time under a year."""
    memory = LARGEST_MACHINE_BYTES if available is None else available
    return guess.bytes_high <= memory and guess.seconds <= LONGEST_SECONDS


def _with_shards(scenario: Scenario, shards: int) -> Scenario:
    measurement = scenario.measurement.model_copy(update={"shards": shards})
    return scenario.model_copy(update={"measurement": measurement})


def _way_out(
    scenario: Scenario,
    key: str,
    *,
    workers: int,
    runs: int,
    cores: int | None,
    remote: bool,
    available: float | None,
    cluster: bool = True,
) -> str:
    """The smallest household split that fits with the most workers, else a cluster, else less.

    ``cluster``: the way out may name a Dask cluster (``--dask``: an experiment's runs, or a single
    run's household shards).
    """
    counts = sorted({max(2, scenario.measurement.shards), *(2**n for n in range(1, 21))})
    counts = [count for count in counts if count >= scenario.measurement.shards]
    worker_counts = [workers] if remote else range(workers, 0, -1)
    for count in worker_counts:
        for shards in counts:
            sharded = _with_shards(scenario, shards)
            guess = estimate(sharded, workers=count, runs=runs, cores=cores, remote=remote)
            if _fits(guess, available):
                workers_option = "" if remote else f" --workers {count}"
                elsewhere = ", or run it on a Dask cluster: --dask ADDRESS"
                return (
                    f"split the households: --set measurement.shards={shards}{workers_option} "
                    f"({guess.describe()}){elsewhere if cluster and not remote else ''}"
                )
    if not remote:
        on_cluster = [
            (guess.seconds, shards, guess)
            for shards in [scenario.measurement.shards, *counts]
            if _fits(guess := estimate(_with_shards(scenario, shards), remote=True), None)
        ]
        if on_cluster:
            # the smallest split within a quarter of the least memory: more shards save little
            # memory once the fixed parts of each process dominate
            least = min(guess.peak_bytes for _, _, guess in on_cluster)
            _, shards, guess = min(
                (fit for fit in on_cluster if fit[2].peak_bytes <= 1.25 * least),
                key=lambda fit: fit[1],
            )
            merge = estimate(_with_shards(scenario, max(2, shards)), remote=True).local_bytes
            reason = (
                f" (merging every shard's results alone needs ≈ {format_bytes(merge)}, "
                f"up to {format_bytes(merge * MEMORY_SPREAD)})"
                if available is not None and merge * MEMORY_SPREAD > available
                else ""
            )
            split = f" --set measurement.shards={shards}" if shards > 1 else ""
            if not cluster:
                with_split = f" (with{split})" if split else ""
                return (
                    f"no household split fits this machine{reason}; it needs a machine with "
                    f"≈ {format_bytes(guess.bytes_high)} per process{with_split}"
                )
            return (
                f"no household split fits this machine{reason}; run it on a Dask cluster whose "
                f"workers have ≈ {format_bytes(guess.bytes_high)} each: --dask ADDRESS{split} "
                f"(≈ {format_seconds(guess.seconds)} per run)"
            )
    return f"none on any machine: make {key} smaller"


def _memory(value: float) -> str:
    return f"≈ {format_bytes(value)}" if math.isfinite(value) else "more memory than a float counts"


def check_capacity(
    scenario: Scenario,
    source: str,
    *,
    workers: int,
    runs: int = 1,
    available_bytes: int | None = None,
    cores: int | None = None,
    remote: bool = False,
    cluster: bool = True,
) -> list[str]:
    """Refuse a command that cannot fit this machine; return warnings for one that might not.

    Raises :class:`ScenarioError` (``source``, the key that drives the size, the estimate and the
    way out) when the low end of the memory estimate exceeds ``available_bytes`` (default: what
    :func:`available_memory` reads; no memory check when it cannot tell) or the low end of the
    time estimate exceeds :data:`LONGEST_SECONDS`. Returns warnings (for stderr, each naming
    ``source``) when the high end of the memory estimate exceeds what is available, or the
    command is estimated longer than :data:`LONG_SECONDS`. With ``remote`` (``--dask ADDRESS``)
    the worlds' memory is not checked against this machine, only against
    :data:`LARGEST_MACHINE_BYTES`, and a warning says so. ``workers``, ``runs`` and ``cores`` are
    those of :func:`estimate`; ``cluster`` False leaves the Dask cluster out of the way out.
    """
    guess = estimate(scenario, workers=workers, runs=runs, cores=cores, remote=remote)
    size = _Size.of(scenario)
    key = size.driving_key()
    here = available_bytes if available_bytes is not None else available_memory()
    available = None if remote else here

    def way_out() -> str:
        return _way_out(
            scenario,
            key,
            workers=workers,
            runs=runs,
            cores=cores,
            remote=remote,
            available=available,
            cluster=cluster,
        )

    problems: list[str] = []
    at_least = (
        f" (at least {format_bytes(guess.bytes_low)})" if math.isfinite(guess.peak_bytes) else ""
    )
    if remote and guess.bytes_low > LARGEST_MACHINE_BYTES:
        problems.append(
            f"needs {_memory(guess.peak_bytes)}{at_least} in one Dask worker process, more than "
            "any machine has"
        )
    elif remote and here is not None and guess.local_bytes / MEMORY_SPREAD > here:
        problems.append(
            f"needs {_memory(guess.local_bytes)} here to merge the shards' results, but this "
            f"machine has {format_bytes(here)} available"
        )
    elif available is not None and guess.bytes_low > available:
        processes = f" in {guess.processes} processes at once" if guess.processes > 1 else ""
        problems.append(
            f"needs {_memory(guess.peak_bytes)} at peak{at_least}{processes}, but this machine "
            f"has {format_bytes(available)} available"
        )
    if guess.seconds_low > LONGEST_SECONDS:
        where = (
            "per shard on one core"
            if remote and guess.shards > 1
            else "per run on one core"
            if remote
            else "on this machine"
        )
        problems.append(
            f"would take ≈ {format_seconds(guess.seconds)} {where} (at least "
            f"{format_seconds(guess.seconds_low)}): it cannot finish"
            if math.isfinite(guess.seconds)
            else "would never finish"
        )
    if problems:
        records = (
            f"≈ {format_count(guess.devices_ever)} device records per run"
            if math.isfinite(guess.devices_ever)
            else "more device records than a float counts"
        )
        what = (
            f"{format_count(size.devices)} devices and {format_count(size.arrivals_per_day)} "
            f"arrivals a day over {format_count(size.days)} days make {records}"
        )
        message = f"{what}; it {' and '.join(problems)}. Way out: {way_out()}"
        raise ScenarioError(source, [(key, message)])

    warnings: list[str] = []
    if remote:
        warnings.append(
            f"{source}: memory not checked against this machine for a Dask cluster: "
            f"{guess.describe()}"
            if guess.shards == 1
            else f"{source}: the Dask workers' memory is not checked against this machine (only "
            f"the merge here): {guess.describe()}"
        )
    elif available is not None and guess.bytes_high > available:
        warnings.append(
            f"{source}: {key}: estimated {guess.describe()}, close to the "
            f"{format_bytes(available)} available (the estimate may be off by "
            f"× {MEMORY_SPREAD:g}); if it runs out of memory: {way_out()}"
        )
    if not remote and guess.seconds > LONG_SECONDS:
        warnings.append(
            f"{source}: {key}: estimated ≈ {format_seconds(guess.seconds)} on this machine "
            f"({format_bytes(guess.peak_bytes)} peak)"
        )
    return warnings
