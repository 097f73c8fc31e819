"""The capacity estimate: what fits, what is refused, and agreement with the recorded benchmark."""

from __future__ import annotations

import itertools
import math
import os
from pathlib import Path
from typing import Any

import pytest

from sim import capacity
from sim.capacity import Estimate, available_memory, check_capacity, estimate
from sim.scenario import ScenarioError, load_scenario
from sim.scenario.schema import Scenario

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"
GIB = 2**30
#: the project machine's memory as MemAvailable would report it with a little in use
AVAILABLE = 22 * GIB


@pytest.fixture(scope="module")
def baseline() -> Scenario:
    return load_scenario(BASELINE)


def sized(
    scenario: Scenario,
    *,
    devices: float | None = None,
    arrivals_per_day: float | None = None,
    days: float | None = None,
    shards: int | None = None,
) -> Scenario:
    """``scenario`` with its size changed, unvalidated (the schema may bound these keys)."""
    population: dict[str, Any] = {}
    if devices is not None:
        population["devices"] = devices
    if arrivals_per_day is not None:
        population["arrivals_per_day"] = arrivals_per_day
    measurement: dict[str, Any] = {}
    if days is not None:
        measurement["days"] = days
    if shards is not None:
        measurement["shards"] = shards
    return scenario.model_copy(
        update={
            "population": scenario.population.model_copy(update=population),
            "measurement": scenario.measurement.model_copy(update=measurement),
        }
    )


def benchmark_world(
    scenario: Scenario, devices: int, days: float = 365.0, shards: int = 1
) -> Scenario:
    """The benchmark's resizing: arrivals at 0.004 per device per day, as benchmarks/child.py."""
    return sized(
        scenario, devices=devices, arrivals_per_day=devices * 0.004, days=days, shards=shards
    )


def refusal(scenario: Scenario, **options: Any) -> tuple[str, str]:
    """The (key, message) of the refusal of ``scenario``."""
    options.setdefault("workers", 2)
    options.setdefault("cores", 2)
    options.setdefault("available_bytes", AVAILABLE)
    with pytest.raises(ScenarioError) as caught:
        check_capacity(scenario, "big.toml", **options)
    assert caught.value.file == "big.toml"
    assert len(caught.value.problems) == 1
    return caught.value.problems[0]


# ------------------------------------------------------------------------------ what fits


def test_the_baseline_fits_without_a_warning(baseline: Scenario) -> None:
    for workers in (1, 2):
        assert check_capacity(baseline, "b.toml", workers=workers, available_bytes=AVAILABLE) == []
    guess = estimate(baseline, workers=2, cores=2)
    assert 100 * 2**20 < guess.peak_bytes < 1 * GIB
    assert guess.seconds < 60
    assert guess.describe().endswith("on this machine")


def test_describe_reads_as_memory_then_time() -> None:
    guess = Estimate(
        devices_ever=1e6,
        events=3e7,
        peak_bytes=3.1 * GIB,
        process_bytes=3.1 * GIB,
        processes=1,
        seconds=240.0,
    )
    assert guess.describe() == "≈ 3.1 GiB peak, ≈ 4 min on this machine"
    remote = Estimate(1e6, 3e7, 3.1 * GIB, 3.1 * GIB, 1, 240.0, remote=True)
    assert remote.describe() == (
        "≈ 3.1 GiB per Dask worker process, ≈ 4 min per run on one core like this machine's"
    )


def test_numbers_format_without_overflow() -> None:
    assert capacity.format_bytes(220 * 2**20) == "220 MiB"
    assert capacity.format_bytes(177.4 * GIB) == "177 GiB"
    assert capacity.format_bytes(3.46 * 2**40) == "3.46 TiB"
    assert capacity.format_bytes(1.3e306) == "1.3e+306 bytes"
    assert capacity.format_bytes(math.inf) == "more bytes than a float can count"
    assert capacity.format_seconds(14.2) == "14 s"
    assert capacity.format_seconds(5130.0) == "86 min"
    assert capacity.format_seconds(3 * 86_400.0) == "3 days"
    assert capacity.format_seconds(1e300) == "3.2e+292 years"
    assert capacity.format_seconds(math.inf) == "forever"
    assert capacity.format_count(50_000_000.0) == "50,000,000"
    assert capacity.format_count(1e300) == "1e+300"


# ------------------------------------------------------------------------------ refusals


def test_fifty_million_devices_are_refused_with_the_estimate_and_the_way_out(
    baseline: Scenario,
) -> None:
    key, message = refusal(sized(baseline, devices=50_000_000))
    assert key == "population.devices"
    assert "50,000,000 devices" in message
    assert "GiB at peak" in message
    assert "22 GiB available" in message
    # the merge of every shard's results alone does not fit 22 GiB: no split does, a cluster can
    assert "merging every shard's results alone needs" in message
    assert "--dask ADDRESS --set measurement.shards=" in message


def test_a_single_run_is_not_sent_to_a_dask_cluster(baseline: Scenario) -> None:
    """``pushsim run`` cannot use a cluster for one run: its way out never says ``--dask``."""
    _, message = refusal(sized(baseline, devices=50_000_000), cluster=False)
    assert "--dask" not in message
    assert "no household split fits this machine" in message
    assert "it needs a machine with" in message
    _, message = refusal(benchmark_world(baseline, 5_000_000), cluster=False)
    assert "--dask" not in message and "--set measurement.shards=" in message


def test_a_billion_devices_are_refused(baseline: Scenario) -> None:
    key, message = refusal(sized(baseline, devices=1e9))
    assert key == "population.devices"
    assert "TiB at peak" in message
    assert "Way out:" in message


def test_the_way_out_names_a_split_that_passes_the_check(baseline: Scenario) -> None:
    big = benchmark_world(baseline, 5_000_000)
    key, message = refusal(big)
    assert key == "population.devices"
    assert "--dask ADDRESS" in message
    suggested = message.split("--set measurement.shards=")[1]
    shards = int(suggested.split()[0])
    workers = int(suggested.split("--workers ")[1].split()[0])
    assert shards > 1
    split = sized(big, shards=shards)
    warnings = check_capacity(
        split, "big.toml", workers=workers, cores=2, available_bytes=AVAILABLE
    )
    assert [w for w in warnings if "close to" in w] == []
    assert estimate(split, workers=workers, cores=2).bytes_high <= AVAILABLE


def test_huge_arrivals_do_not_overflow_and_are_refused(baseline: Scenario) -> None:
    huge = sized(baseline, arrivals_per_day=1e300)
    guess = estimate(huge, workers=2, cores=2)
    assert guess.devices_ever > 1e300
    assert guess.peak_bytes > 1e300
    assert guess.seconds == math.inf
    assert not any(math.isnan(v) for v in (guess.devices_ever, guess.peak_bytes, guess.seconds))
    key, message = refusal(huge)
    assert key == "population.arrivals_per_day"
    assert "would never finish" in message
    assert "make population.arrivals_per_day smaller" in message


def test_huge_days_and_devices_do_not_overflow_and_are_refused(baseline: Scenario) -> None:
    key, message = refusal(sized(baseline, days=1e300))
    assert key == "measurement.days"
    assert "more device records than a float counts" in message
    key, _ = refusal(sized(baseline, devices=10**400))  # an int no float can hold
    assert key == "population.devices"
    # 0 devices and 0 arrivals for 1e300 days: nothing grows but the samples and the clock
    empty = sized(baseline, devices=0, arrivals_per_day=0.0, days=1e300)
    key, message = refusal(empty)
    assert key == "measurement.days"
    assert not math.isnan(estimate(empty).peak_bytes)


def test_arrivals_that_dominate_name_their_key(baseline: Scenario) -> None:
    key, _ = refusal(sized(baseline, arrivals_per_day=2_000_000.0))
    assert key == "population.arrivals_per_day"
    key, _ = refusal(sized(baseline, days=365_000.0))
    assert key == "measurement.days"


def test_a_run_that_would_take_years_is_refused_even_with_the_memory(baseline: Scenario) -> None:
    key, message = refusal(sized(baseline, devices=1e10), available_bytes=2**62)
    assert key == "population.devices"
    assert "years on this machine" in message
    assert "it cannot finish" in message


# ------------------------------------------------------------------------------ warnings


def test_a_long_run_gets_its_time_as_a_warning(baseline: Scenario) -> None:
    warnings = check_capacity(
        benchmark_world(baseline, 1_000_000), "m.toml", workers=2, cores=2, available_bytes=64 * GIB
    )
    assert len(warnings) == 1
    assert warnings[0].startswith("m.toml: population.devices: estimated ≈ ")
    assert "min on this machine" in warnings[0]


def test_a_run_close_to_the_memory_gets_a_warning_with_the_way_out(baseline: Scenario) -> None:
    world = benchmark_world(baseline, 100_000)
    peak = estimate(world, cores=2).peak_bytes
    warnings = check_capacity(world, "m.toml", workers=1, cores=2, available_bytes=int(peak * 1.2))
    assert len(warnings) == 1
    assert "close to the" in warnings[0]
    assert "--set measurement.shards=" in warnings[0]


def test_a_dask_cluster_is_not_checked_against_this_machine(baseline: Scenario) -> None:
    fifty_million = sized(baseline, devices=50_000_000)
    warnings = check_capacity(
        fifty_million, "c.toml", workers=8, available_bytes=AVAILABLE, remote=True
    )
    assert len(warnings) == 1
    assert "memory not checked against this machine for a Dask cluster" in warnings[0]
    key, message = refusal(sized(baseline, arrivals_per_day=1e300), remote=True)
    assert key == "population.arrivals_per_day"
    assert "more than any machine has" in message


def test_no_memory_check_when_the_machine_cannot_tell(
    baseline: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(capacity, "available_memory", lambda: None)
    fifty_million = sized(baseline, devices=50_000_000)
    warnings = check_capacity(fifty_million, "u.toml", workers=2, cores=2)
    assert [w for w in warnings if "close to" in w] == []
    assert "days on this machine" in warnings[0]


# ------------------------------------------------------------------------------ workers and shards


def test_shards_on_workers_cut_what_each_process_holds(baseline: Scenario) -> None:
    world = benchmark_world(baseline, 1_000_000)
    whole = estimate(world, workers=2, cores=2)
    assert whole.processes == 1
    for shards in (2, 4, 8):
        split = estimate(sized(world, shards=shards), workers=2, cores=2)
        assert split.processes == 2
        assert split.process_bytes < whole.process_bytes / (shards / 1.5)
    one_at_a_time = estimate(sized(world, shards=8), workers=1, cores=2)
    assert one_at_a_time.peak_bytes < estimate(sized(world, shards=8), workers=2).peak_bytes
    assert one_at_a_time.peak_bytes < whole.peak_bytes / 3


def test_replications_hold_one_world_per_worker(baseline: Scenario) -> None:
    one = estimate(baseline, workers=1, runs=8, cores=2)
    two = estimate(baseline, workers=2, runs=8, cores=2)
    four = estimate(baseline, workers=4, runs=8, cores=2)
    assert (one.processes, two.processes, four.processes) == (1, 2, 4)
    world = one.peak_bytes
    assert two.peak_bytes == pytest.approx(2 * world + capacity.INTERPRETER_BYTES)
    assert four.peak_bytes > two.peak_bytes
    # more workers than cores share them: no faster than two
    assert two.seconds < one.seconds
    assert four.seconds >= two.seconds * 0.9
    # more workers than runs start no more processes
    assert estimate(baseline, workers=8, runs=2, cores=2).processes == 2


# ------------------------------------------------------------------------------ the model


@pytest.mark.parametrize(
    ("axis", "values"),
    [
        ("devices", [0, 1_000, 10_000, 1e5, 1e6, 1e7, 1e9, 1e12]),
        ("days", [1.0, 30.0, 365.0, 3650.0, 1e5, 1e7]),
        ("arrivals_per_day", [0.0, 1.0, 40.0, 1e4, 1e6, 1e9]),
    ],
)
def test_the_estimate_grows_with_the_size(
    baseline: Scenario, axis: str, values: list[float]
) -> None:
    sizes: list[dict[str, Any]] = [{axis: value} for value in values]
    guesses = [estimate(sized(baseline, **size), workers=2, cores=2) for size in sizes]
    for smaller, larger in itertools.pairwise(guesses):
        assert smaller.devices_ever <= larger.devices_ever
        assert smaller.peak_bytes < larger.peak_bytes
        assert smaller.seconds < larger.seconds
        assert smaller.events <= larger.events


def test_device_records_follow_arrivals_and_replacements(baseline: Scenario) -> None:
    # README: "2.8 devices ever per device at day 0 over a year" for the baseline
    guess = estimate(baseline)
    assert guess.devices_ever / baseline.population.devices == pytest.approx(2.79, abs=0.02)
    no_one_new = baseline.model_copy(
        update={
            "population": baseline.population.model_copy(update={"arrivals_per_day": 0.0}),
            "behaviour": baseline.behaviour.model_copy(update={"device_replacement_per_day": 0.0}),
        }
    )
    assert estimate(no_one_new).devices_ever == baseline.population.devices


#: recorded in benchmarks/results.json (2026-11-29, pushsim 2912b2a), copied here as figures:
#: (devices, days, shards, workers, runs, peak RSS KiB over all processes or None, wall s,
#: device records or None, events dispatched or None)
RECORDED = [
    (10_000, 365.0, 1, 1, 1, 220_320, 13.81, 27_851, 1_044_874),  # runs[0]
    (100_000, 365.0, 1, 1, 1, 1_004_516, 266.45, 278_808, 8_544_376),  # runs[1]
    (10_000, 90.0, 1, 1, 1, 181_636, 5.28, 14_281, 420_776),  # days_series[0]
    (10_000, 180.0, 1, 1, 1, 191_732, 7.47, 18_658, 624_920),  # days_series[1]
    # large: parent + 2 × the larger worker
    (1_000_000, 365.0, 2, 2, 1, 10_268_432, 2070.9, None, None),
    (10_000, 365.0, 2, 1, 1, 203_976, 12.46, None, None),  # sharding.runs[0]
    (10_000, 365.0, 2, 2, 1, 150_928 + 2 * 149_116, 6.69, None, None),  # sharding.runs[1]
    (10_000, 180.0, 1, 1, 4, None, 32.25, None, None),  # replications, 1 worker
    (10_000, 180.0, 1, 2, 4, None, 16.82, None, None),  # replications, 2 workers
]


@pytest.mark.parametrize(
    ("devices", "days", "shards", "workers", "runs", "peak_kib", "seconds", "records", "events"),
    RECORDED,
)
def test_the_estimate_agrees_with_the_recorded_benchmark(
    baseline: Scenario,
    devices: int,
    days: float,
    shards: int,
    workers: int,
    runs: int,
    peak_kib: int | None,
    seconds: float,
    records: int | None,
    events: int | None,
) -> None:
    """Within a factor of 1.25 (the brief asks 2) of every recorded figure, fitted or not."""
    world = benchmark_world(baseline, devices, days, shards)
    guess = estimate(world, workers=workers, runs=runs, cores=2)

    def close(estimated: float, recorded: float) -> bool:
        return 0.8 <= estimated / recorded <= 1.25

    assert close(guess.seconds, seconds)
    if peak_kib is not None:
        assert close(guess.peak_bytes, peak_kib * 1024)
    if records is not None:
        assert close(guess.devices_ever, records)
    if events is not None:
        assert close(guess.events, events)


def test_the_low_end_of_every_recorded_run_fits_24_gib(baseline: Scenario) -> None:
    for devices, days, shards, workers, runs, *_ in RECORDED:
        world = benchmark_world(baseline, devices, days, shards)
        warnings = check_capacity(
            world, "r.toml", workers=workers, runs=runs, cores=2, available_bytes=24 * GIB
        )
        assert warnings == []


# ------------------------------------------------------------------------------ available memory


def test_available_memory_reads_memavailable(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text(
        "MemTotal:       24683116 kB\nMemFree:         1000000 kB\nMemAvailable:   20000000 kB\n",
        encoding="ascii",
    )
    assert available_memory(meminfo) == 20_000_000 * 1024


def test_available_memory_falls_back_to_physical_memory_then_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pages = {"SC_PHYS_PAGES": 1000, "SC_PAGE_SIZE": 4096}
    monkeypatch.setattr(os, "sysconf", lambda name: pages[name])
    assert available_memory(tmp_path / "missing") == 4_096_000
    no_line = tmp_path / "meminfo"
    no_line.write_text("MemTotal: 1 kB\n", encoding="ascii")
    assert available_memory(no_line) == 4_096_000

    def unknown(name: str) -> int:
        raise ValueError(name)

    monkeypatch.setattr(os, "sysconf", unknown)
    assert available_memory(tmp_path / "missing") is None


def test_bad_worker_and_run_counts_are_refused(baseline: Scenario) -> None:
    with pytest.raises(ValueError, match="workers"):
        estimate(baseline, workers=0)
    with pytest.raises(ValueError, match="runs"):
        estimate(baseline, runs=0)


def test_a_single_runs_shards_on_a_cluster_are_estimated_per_shard(baseline: Scenario) -> None:
    """Each Dask worker holds one shard's world; this process merges every shard's results."""
    ten_million = sized(baseline, devices=10_000_000, shards=20)
    whole = estimate(ten_million, remote=True, runs=2)  # an experiment: a worker runs a whole run
    shard = estimate(ten_million, remote=True)
    pool = estimate(ten_million, workers=2, cores=2)  # the same shards on a local pool
    assert shard.shards == 20 and whole.shards == 1
    # a whole-run worker holds one shard's world at a time and every shard's results; here the
    # worker holds the world and this process the results
    interpreter = capacity.INTERPRETER_BYTES
    assert shard.peak_bytes + shard.local_bytes == pytest.approx(whole.peak_bytes + interpreter)
    assert shard.peak_bytes < whole.peak_bytes
    # one shard, not twenty in a row; the population is drawn once per process (before its first)
    draw = capacity.DRAW_SECONDS_PER_DEVICE * 10_000_000
    assert shard.seconds == pytest.approx((whole.seconds - draw) / 20 + draw)
    # the merge here is the local pool's parent: the pool holds it and two shards' worlds
    assert pool.peak_bytes == pytest.approx(shard.local_bytes + 2 * shard.peak_bytes)
    text = shard.describe()
    assert "per Dask worker process (one of 20 shards at a time)" in text
    assert "per shard on one core" in text and "merging here" in text


def test_a_merge_that_does_not_fit_here_is_refused_before_the_cluster_runs(
    baseline: Scenario,
) -> None:
    ten_million = sized(baseline, devices=10_000_000, shards=20)
    merge = estimate(ten_million, remote=True).local_bytes
    with pytest.raises(ScenarioError) as raised:
        check_capacity(
            ten_million, "big.toml", workers=2, available_bytes=int(merge / 10), remote=True
        )
    assert "to merge the shards' results" in str(raised.value)
    warnings = check_capacity(
        ten_million, "big.toml", workers=2, available_bytes=int(merge * 10), remote=True
    )
    assert len(warnings) == 1
    assert "the Dask workers' memory is not checked against this machine" in warnings[0]
