"""A world run makes no reference cycles, so pausing the cyclic garbage collector loses nothing.

:meth:`~sim.world.world.World.run` pauses Python's cyclic collector while SimPy runs (reference
counting frees everything as usual). That is only safe while the world never strands objects in
cycles; this test runs a busy world and asks the collector what it would have found.
"""

from __future__ import annotations

import gc
from collections import Counter

import pytest

from sim.simulation import Simulation
from sim.world.world import collector_paused
from tests.world.busy import busy_world


def test_a_busy_world_leaves_no_cyclic_garbage() -> None:
    params = busy_world(800, 4.0)
    gc.collect()
    was_enabled = gc.isenabled()
    with collector_paused():
        simulation = Simulation(params, seed=2, event_log=True)
        simulation.run(60.0)
        simulation.run(120.0)
        simulation.close()
        assert not gc.isenabled()  # paused inside, whatever the world did
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            found = gc.collect()
            kinds = Counter(type(thing).__name__ for thing in gc.garbage)
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
    assert gc.isenabled() == was_enabled  # and as it was after
    assert found == 0, f"cyclic garbage by type: {kinds.most_common(10)}"
    assert simulation.world.env.now == 120.0


class _Record:
    """A tracked object made while the collector is paused."""


def test_what_was_made_while_paused_goes_to_the_oldest_generation() -> None:
    gc.collect()
    was_enabled = gc.isenabled()
    gc.enable()
    try:
        with collector_paused():
            made = [_Record() for _ in range(5000)]
        # resuming walked none of them: they are old, and the young generation is empty of them
        oldest = {id(thing) for thing in gc.get_objects(generation=2)}
        assert all(id(thing) in oldest for thing in made)
        young = {id(thing) for thing in gc.get_objects(generation=0)}
        assert not any(id(thing) in young for thing in made)
        assert gc.get_freeze_count() == 0
    finally:
        if not was_enabled:
            gc.disable()


def test_objects_someone_else_froze_stay_frozen() -> None:
    """A pause leaves frozen objects frozen (the count itself may fall: frozen objects can die)."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.enable()
    sentinel = _Record()
    gc.freeze()
    try:
        with collector_paused():
            made = [_Record() for _ in range(100)]
        assert gc.get_freeze_count() > 0
        tracked = {id(thing) for generation in range(3) for thing in gc.get_objects(generation)}
        assert id(sentinel) not in tracked  # still in the permanent generation
        assert all(id(thing) in tracked for thing in made)  # not frozen by the pause
    finally:
        gc.unfreeze()
        if not was_enabled:
            gc.disable()


def test_a_process_running_world_after_world_keeps_only_the_last(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A finished world is cyclic garbage; building a world collects it once enough has piled up.

    With the threshold at 500 devices, the worlds of 300 devices: the third world's build finds
    600 devices' worth built since the last collection, and collects the first two.
    """
    from sim.world import world as world_module
    from sim.world.device import Device

    monkeypatch.setattr(world_module, "COLLECT_AFTER_DEVICES", 500)
    monkeypatch.setattr(world_module._uncollected, "devices", 0)

    def devices_alive() -> int:
        return sum(1 for thing in gc.get_objects() if type(thing) is Device)

    was_enabled = gc.isenabled()
    gc.enable()
    try:
        gc.collect()
        before = devices_alive()
        for seed in range(2):
            simulation = Simulation(busy_world(300, 4.0), seed=seed)
            simulation.run(20.0)
            simulation.result()
            simulation.close()
            current = len(simulation.world.devices)
            del simulation
        # the third world's devices, built after the first two were collected
        simulation = Simulation(busy_world(300, 4.0), seed=9)
        assert devices_alive() - before == len(simulation.world.devices)
        assert world_module._uncollected.devices == 300
        assert current > 300  # (the earlier worlds had devices to keep)
    finally:
        if not was_enabled:
            gc.disable()
