"""A world run makes no reference cycles, so pausing the cyclic garbage collector loses nothing.

:meth:`~sim.world.world.World.run` pauses Python's cyclic collector while SimPy runs (reference
counting frees everything as usual). That is only safe while the world never strands objects in
cycles; this test runs a busy world and asks the collector what it would have found.
"""

from __future__ import annotations

import gc
from collections import Counter

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
