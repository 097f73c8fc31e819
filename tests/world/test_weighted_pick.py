"""An arrival's platform is drawn as NumPy's ``choice(p=...)`` draws it, from the same uniform."""

from __future__ import annotations

import numpy as np
import pytest

from sim.world.population import weighted_pick


@pytest.mark.parametrize(
    "weights",
    [
        [0.40, 0.15, 0.35, 0.10],  # the baseline's platform mix
        [0.5, 0.5],
        [1.0],
        [0.0, 0.3, 0.0, 0.7],  # a platform with no share is never picked
        [1 / 3, 1 / 3, 1 / 3],
    ],
)
def test_the_pick_is_numpys_choice_for_the_same_draws(weights: list[float]) -> None:
    p = np.array(weights, dtype=float)
    pick = weighted_pick(p)
    by_choice, by_pick = np.random.default_rng(42), np.random.default_rng(42)
    for _ in range(20_000):
        assert pick(float(by_pick.random())) == int(by_choice.choice(len(p), p=p))
