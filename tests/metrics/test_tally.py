"""The incremental truth tally against the full snapshot: equal at every sample, in every world.

The full :func:`~sim.metrics.truth.snapshot` walks every token and device; the
:class:`~sim.metrics.tally.TruthTally` only re-classifies what changed. Any change the tally fails
to notice shows up here as a count that drifts from the full walk.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.metrics.tally import TruthTally
from sim.metrics.truth import Snapshot, snapshot
from sim.platforms import Provider
from sim.scenario import load_scenario
from sim.world import WorldParams
from sim.world.world import World
from tests.support import reference

SCENARIOS = sorted(Path(__file__).parents[2].joinpath("scenarios").glob("*.toml"))


def _counts(snap: Snapshot) -> dict[str, dict[Any, int]]:
    """Every count of a snapshot; zero counts dropped (the full walk omits absent causes)."""
    return {
        name: {key: value for key, value in getattr(snap, name).items() if value}
        for name in Snapshot.__slots__
    }


def _world(params: WorldParams, seed: int, *, reissue_apns: bool = False) -> World:
    world = World(params, seed)
    if reissue_apns:  # APNs handing back the same token after a reinstall (a revived token)
        apns = world.providers[Provider.APNS]
        apns.config = dataclasses.replace(apns.config, reissue_same_token_on_reinstall=True)
    return world


def _compare_along(world: World, tally: TruthTally, days: float, step: float) -> int:
    """Run ``world`` to ``days`` in ``step``s, asserting tally == full walk; returns samples."""
    samples = 0
    start = world.env.now
    for now in np.arange(start + step, days + step / 2, step):
        world.run(float(now))
        assert _counts(tally.snapshot(float(now))) == _counts(snapshot(world, float(now))), now
        samples += 1
    return samples


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_scenario_tallies_like_the_full_walk_at_every_sample(path: Path) -> None:
    scenario = load_scenario(path, ["population.devices=400", "population.arrivals_per_day=2"])
    world = _world(scenario.world(), seed=5)
    tally = TruthTally(world)
    world.populate()
    # an off-grid step, so samples fall between campaigns, flushes and lag ends
    assert _compare_along(world, tally, days=75.0, step=0.73) > 100


def test_a_tally_attached_to_a_running_world_starts_from_its_state() -> None:
    params = WorldParams().changed(population={"devices": 300})
    world = _world(params, seed=2)
    world.populate()
    world.run(20.0)
    tally = TruthTally(world)  # tokens already held, devices already installed
    _compare_along(world, tally, days=40.0, step=1.0)


def test_unsubscribing_and_resubscribing_profiles_is_tallied() -> None:
    """Targetability changes (R9) touch no token, yet change who is truly reachable."""
    params = WorldParams().changed(population={"devices": 400, "login_share": 0.9})
    world = _world(params, seed=4)
    tally = TruthTally(world)
    world.populate()
    rng = np.random.default_rng(0)

    def churn() -> Any:
        while True:
            yield world.env.timeout(0.5)
            profiles = [p.profile_id for p in reference(world).profiles() if not p.anonymous]
            for index in rng.choice(len(profiles), size=min(10, len(profiles)), replace=False):
                state = "unsubscribed" if rng.random() < 0.6 else "opted_in"
                world.registry.set_subscription(world.env.now, profiles[int(index)], state)

    world.env.process(churn())
    _compare_along(world, tally, days=45.0, step=0.5)
    assert any(not world.registry.is_targetable(p.profile_id) for p in reference(world).profiles())


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 10_000),
    shared=st.sampled_from([0.0, 0.5]),
    detach=st.booleans(),
    tracking=st.booleans(),
    prune=st.sampled_from([None, 7.0]),
    provisional=st.booleans(),
    page_load=st.booleans(),
    reissue=st.booleans(),
    flush_hours=st.sampled_from([0.0, 2.0]),
    step=st.sampled_from([0.25, 1.0, 3.3]),
)
def test_policies_and_platform_variants_tally_like_the_full_walk(
    seed: int,
    shared: float,
    detach: bool,
    tracking: bool,
    prune: float | None,
    provisional: bool,
    page_load: bool,
    reissue: bool,
    flush_hours: float,
    step: float,
) -> None:
    params = WorldParams().changed(
        population={"devices": 150, "arrivals_per_day": 1.0, "shared_device_share": shared},
        permission={
            "ios_strategy": "provisional" if provisional else "prompt",
            "web_prompt": "page_load" if page_load else "gesture",
        },
        behaviour={"logout_per_day": 0.05, "provider_rotation_per_day": 0.01},
        providers={"fcm_inactivity_days": 20, "web_inactivity_days": 10},
        campaigns={"every_days": 3, "sdk_flush_delay_days": flush_hours / 24},
        policy={
            "detach_on_logout": detach,
            "uninstall_tracking": tracking,
            "prune_after_days": prune,
        },
    )
    world = _world(params, seed, reissue_apns=reissue)
    tally = TruthTally(world)
    world.populate()
    _compare_along(world, tally, days=50.0, step=step)
