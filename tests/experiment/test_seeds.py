"""Run seeds: derived from (base seed, replication) only, so policies share worlds (CRN)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.experiment import plan_comparison, plan_sweep, run_seed, run_seeds
from sim.experiment.seeds import SEED_MASK
from sim.scenario import load_scenario
from tests.experiment import BASELINE, SMALL, SWEEP_FILE, TRACKING


def test_a_seed_depends_only_on_base_seed_and_replication():
    assert run_seed(1, 0) == run_seed(1, 0)
    seeds = {run_seed(base, r) for base in range(5) for r in range(50)}
    assert len(seeds) == 250
    assert all(0 <= s <= SEED_MASK for s in seeds)


def test_it_is_numpys_spawned_child_sequence():
    children = np.random.SeedSequence(7).spawn(3)
    for r, child in enumerate(children):
        high, low = (int(w) for w in child.generate_state(2, dtype=np.uint32))
        assert run_seed(7, r) == ((high << 32) | low) & SEED_MASK


def test_more_replications_extend_the_same_seeds():
    assert run_seeds(3, 8)[:4] == run_seeds(3, 4)


def test_bad_arguments():
    with pytest.raises(ValueError, match="base seed"):
        run_seed(-1, 0)
    with pytest.raises(ValueError, match="replication"):
        run_seed(0, -1)
    with pytest.raises(ValueError, match="scenario hash"):
        run_seeds(0, 2, common_random_numbers=False)


def test_sweep_points_share_seeds_by_default():
    plan = plan_sweep(load_scenario(SWEEP_FILE, SMALL), 3)
    by_point = [[run.seed for run in plan.runs_of(p.index)] for p in plan.points]
    assert by_point[0] == by_point[1] == run_seeds(1, 3)
    # ... and their scenarios differ only by the swept policy
    assert plan.points[0].scenario_hash != plan.points[1].scenario_hash


def test_opting_out_of_common_random_numbers_mixes_in_the_scenario():
    plan = plan_sweep(load_scenario(SWEEP_FILE, SMALL), 3, common_random_numbers=False)
    by_point = [[run.seed for run in plan.runs_of(p.index)] for p in plan.points]
    assert by_point[0] != by_point[1]
    assert not set(by_point[0]) & set(run_seeds(1, 3))
    for point, seeds in zip(plan.points, by_point, strict=True):
        assert seeds == [run_seed(1, r, point.scenario_hash) for r in range(3)]


def test_a_comparison_runs_b_on_as_seeds():
    a = load_scenario(BASELINE, SMALL)
    b = load_scenario(TRACKING, [*SMALL, "measurement.seed=99"])
    plan = plan_comparison(a, b, 4)
    seeds = [[run.seed for run in plan.runs_of(i)] for i in (0, 1)]
    assert seeds[0] == seeds[1] == run_seeds(a.measurement.seed, 4)
    assert plan.points[1].scenario.measurement.seed == a.measurement.seed


def test_replications_are_left_out_of_the_point_hash():
    few = plan_sweep(load_scenario(SWEEP_FILE, [*SMALL, "measurement.replications=2"]))
    many = plan_sweep(load_scenario(SWEEP_FILE, [*SMALL, "measurement.replications=5"]))
    assert len(few.runs) == 4 and len(many.runs) == 10
    assert [p.scenario_hash for p in few.points] == [p.scenario_hash for p in many.points]
    assert {(r.run_id, r.seed) for r in few.runs} <= {(r.run_id, r.seed) for r in many.runs}
