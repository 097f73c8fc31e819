"""One shard of a household-sharded world: membership, streams, ids and the unsharded case."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
import pytest

from sim.simulation import Simulation
from sim.world import APP, PopulationParams, WorldParams, population
from sim.world.device import Device, DeviceKind
from sim.world.population import (
    HOUSEHOLD_SHARES,
    HOUSEHOLD_SIZES,
    Shard,
    build_population,
)
from sim.world.streams import STREAM_NAMES, Streams, stream
from tests.support import reference

PARAMS = WorldParams().changed(
    population={"devices": 800, "arrivals_per_day": 8.0, "shared_device_share": 0.3},
    behaviour={"device_replacement_per_day": 1 / 60},
)


def _draws(generator: np.random.Generator) -> list[float]:
    return [float(x) for x in generator.random(5)]


def test_shard_must_be_inside_its_count():
    with pytest.raises(ValueError, match="shard count"):
        Shard(0, 0)
    with pytest.raises(ValueError, match="shard index"):
        Shard(2, 2)
    assert Shard(0, 1).prefix == ""
    assert Shard(1, 3).prefix == "s1-"


def test_unsharded_streams_are_the_documented_derivation():
    """shard=None keeps the streams every existing result was computed with."""
    for name in STREAM_NAMES:
        sequence = np.random.SeedSequence(entropy=5, spawn_key=(zlib.crc32(name.encode()),))
        expected = np.random.Generator(np.random.PCG64(sequence))
        assert _draws(Streams(5)[name]) == _draws(expected), name


def test_each_shard_has_its_own_reproducible_streams():
    base = _draws(stream(5, "sessions"))
    shard0 = _draws(stream(5, "sessions", 0))
    shard1 = _draws(stream(5, "sessions", 1))
    assert len({tuple(base), tuple(shard0), tuple(shard1)}) == 3
    assert _draws(Streams(5, 1)["sessions"]) == shard1
    assert _draws(stream(6, "sessions", 1)) != shard1


#: a device as drawn: id, kind, owner, sharers, browser
DeviceRow = tuple[str, DeviceKind, str, tuple[str, ...], str]


def _choice_population(params: PopulationParams, rng: np.random.Generator) -> list[DeviceRow]:
    """The population as first drawn, with ``rng.choice(p=...)`` for sizes and kinds."""
    kinds = [DeviceKind(k) for k in params.platform_share]
    weights = np.array(list(params.platform_share.values()), dtype=float)
    people_multi = sum(
        n * s for n, s in zip(HOUSEHOLD_SIZES, HOUSEHOLD_SHARES, strict=True) if n > 1
    ) / sum(n * s for n, s in zip(HOUSEHOLD_SIZES, HOUSEHOLD_SHARES, strict=True))
    share_given_multi = min(1.0, params.shared_device_share / people_multi)
    rows: list[DeviceRow] = []
    person = 0
    while len(rows) < params.devices:
        size = int(rng.choice(HOUSEHOLD_SIZES, p=HOUSEHOLD_SHARES))
        size = min(size, params.devices - len(rows))
        people = tuple(f"p{person + i}" for i in range(size))
        person += size
        for owner in people:
            kind = kinds[int(rng.choice(len(kinds), p=weights))]
            sharers: tuple[str, ...] = (owner,)
            if size > 1 and float(rng.random()) < share_given_multi:
                others = [p for p in people if p != owner]
                count = min(len(others), params.sharers_per_shared_device - 1)
                picked = rng.choice(len(others), size=count, replace=False)
                sharers = (owner, *(others[int(i)] for i in sorted(picked)))
            browser = ""
            if kind is DeviceKind.WEB:
                browser = "safari" if float(rng.random()) < params.web_safari_share else "chrome"
            rows.append((f"d{len(rows)}", kind, owner, sharers, browser))
    return rows


def _rows(devices: list[Device]) -> list[DeviceRow]:
    return [(d.device_id, d.kind, d.owner, d.sharers, d.browser) for d in devices]


@pytest.mark.parametrize("sharers", [2, 3])
def test_the_population_is_the_one_numpys_choice_draws(sharers: int) -> None:
    """Sizes and kinds are picked from the uniform ``rng.choice(p=...)`` would draw."""
    params = PopulationParams(
        devices=3000,
        shared_device_share=0.4,
        sharers_per_shared_device=sharers,
        platform_share={"ios": 0.3, "android_13": 0.3, "android_legacy": 0.2, "web": 0.2},
    )
    _, devices = build_population(params, np.random.default_rng(11))
    assert _rows(devices) == _choice_population(params, np.random.default_rng(11))


@pytest.mark.parametrize("count", [2, 3, 7])
def test_shards_partition_the_households_and_devices(count: int) -> None:
    """Each shard makes the same draws and builds its households k, k + K, … and their devices."""
    params = PopulationParams(devices=2000, shared_device_share=0.4)
    households, devices = build_population(params, np.random.default_rng(7))
    parts = [
        build_population(params, np.random.default_rng(7), Shard(k, count)) for k in range(count)
    ]
    kept_devices = [d.device_id for _, ds in parts for d in ds]
    assert sorted(kept_devices) == sorted(d.device_id for d in devices)  # each device once
    for k, (kept, ds) in enumerate(parts):
        assert kept == households[k::count]
        people = {p for h in kept for p in h.people}
        assert all(set(d.sharers) <= people for d in ds)  # shared devices stay home
        assert _rows(ds) == _rows([d for d in devices if d.owner in people])  # same, in order


def test_a_process_draws_the_population_once_for_the_shards_of_a_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The shards of one run share one draw; the stream is left where the draws leave it."""
    draws: list[int] = []
    real_draw = population.draw_population

    def counted(params: PopulationParams, rng: np.random.Generator) -> population.PopulationDraw:
        draws.append(params.devices)
        return real_draw(params, rng)

    monkeypatch.setattr(population, "draw_population", counted)
    monkeypatch.setattr(population, "_last_draw", [])
    params = PopulationParams(devices=1500, shared_device_share=0.4)
    after_drawing = np.random.default_rng(21)
    real_draw(params, after_drawing)
    for k in range(3):
        rng = np.random.default_rng(21)
        build_population(params, rng, Shard(k, 3))
        assert rng.bit_generator.state == after_drawing.bit_generator.state
    assert draws == [1500]
    # another seed, other parameters or an unsharded build draw again
    build_population(params, np.random.default_rng(22), Shard(0, 3))
    build_population(
        params.model_copy(update={"devices": 1400}), np.random.default_rng(22), Shard(1, 3)
    )
    build_population(params, np.random.default_rng(21))
    assert draws == [1500, 1500, 1400, 1500]
    # and a draw reused for a shard builds what a fresh draw builds
    cached = build_population(
        params.model_copy(update={"devices": 1400}), np.random.default_rng(22), Shard(2, 3)
    )
    monkeypatch.setattr(population, "_last_draw", [])
    fresh = build_population(
        params.model_copy(update={"devices": 1400}), np.random.default_rng(22), Shard(2, 3)
    )
    assert cached[0] == fresh[0]
    assert _rows(cached[1]) == _rows(fresh[1])


def test_membership_comes_from_the_unsharded_population_draw():
    """Shard k of K holds exactly the unsharded world's households k, k+K, … and their devices."""
    whole = Simulation(PARAMS, seed=4)
    for count in (2, 3):
        for index in range(count):
            part = Simulation(PARAMS, seed=4, shard=Shard(index, count))
            expected = whole.world.households[index::count]
            assert part.world.households == expected
            people = {p for h in expected for p in h.people}
            original = [d for d in whole.world.devices.values() if d.owner in people]
            assert [(d.device_id, d.kind, d.sharers) for d in original] == [
                (d.device_id, d.kind, d.sharers) for d in part.world.devices.values()
            ]


def test_a_single_shard_is_the_unsharded_world():
    a = Simulation(PARAMS, seed=9, event_log=True)
    b = Simulation(PARAMS, seed=9, event_log=True, shard=Shard(0, 1))
    a.run(25)
    b.run(25)
    for name, frame in a.result().frames().items():
        assert frame.to_csv(index=False) == b.result().frames()[name].to_csv(index=False), name


def test_ids_and_profiles_never_cross_shards():
    """Devices, installs and profiles are disjoint across shards: distinct counts add up."""
    shards = [Simulation(PARAMS, seed=4, shard=Shard(k, 2)) for k in range(2)]
    for simulation in shards:
        simulation.run(60)
    devices = [set(s.world.devices) for s in shards]
    installs = [set(s.world.actions.installs) for s in shards]
    profiles = [{p.profile_id for p in reference(s.world).profiles()} for s in shards]
    audiences = [set(s.world.registry.audience(APP)) for s in shards]
    for sets in (devices, installs, profiles, audiences):
        assert sets[0] and sets[1]
        assert not sets[0] & sets[1]
    arrived = [{d for d in ids if "-n" in d} for ids in devices]
    assert arrived[0] and all(d.startswith("s0-n") for d in arrived[0])
    assert arrived[1] and all(d.startswith("s1-n") for d in arrived[1])


def test_arrivals_are_split_evenly_between_shards():
    """Each of K shards gets rate/K arrivals: the total matches the unsharded rate (±4 sd)."""
    params = WorldParams().changed(population={"devices": 0, "arrivals_per_day": 20.0})
    days, count = 100.0, 4
    arrivals = []
    for index in range(count):
        simulation = Simulation(params, seed=1, shard=Shard(index, count))
        simulation.run(days)
        arrivals.append(len({d.owner for d in simulation.world.devices.values()}))
    expected = 20.0 * days
    assert abs(sum(arrivals) - expected) < 4 * np.sqrt(expected)
    for got in arrivals:  # each shard alone: Poisson with mean expected / count
        assert abs(got - expected / count) < 4 * np.sqrt(expected / count)


def test_sharded_results_have_the_unsharded_shape():
    whole = Simulation(PARAMS, seed=4)
    part = Simulation(PARAMS, seed=4, shard=Shard(1, 2))
    whole.run(20)
    part.run(20)
    for name, frame in whole.result().frames().items():
        other = part.result().frames()[name]
        assert list(other.columns) == list(frame.columns), name
    pd.testing.assert_frame_equal(
        whole.result().timeseries[["time", "platform"]],
        part.result().timeseries[["time", "platform"]],
    )
