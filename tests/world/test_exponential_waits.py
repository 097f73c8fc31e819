"""Block-drawn session waits are bit for bit the one-by-one draws they replace."""

from __future__ import annotations

import numpy as np

from sim.world.behaviour import ExponentialWaits


def test_block_draws_equal_single_draws_across_block_boundaries():
    one_by_one = np.random.Generator(np.random.PCG64(11))
    blocks = ExponentialWaits(np.random.Generator(np.random.PCG64(11)))
    rates = np.random.default_rng(0).lognormal(0.0, 2.0, size=3 * ExponentialWaits.BLOCK + 17)
    for rate in rates.tolist():
        scale = 1.0 / rate
        assert blocks.wait(scale) == float(one_by_one.exponential(scale))
