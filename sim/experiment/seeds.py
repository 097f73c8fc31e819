"""The seed of each run of an experiment, derived from (base seed, replication) by ``SeedSequence``.

Replication ``r`` of an experiment with base seed ``s`` runs with the seed drawn from
``SeedSequence(s).spawn(...)[r]`` (spawn key ``(r,)``): replications are independent streams, and
the same (base seed, replication) always gives the same seed.

By default the seed does *not* depend on the scenario: every sweep point, and both scenarios of a
comparison, see the same world draws at the same replication (common random numbers), so the
difference between two policies is measured on the same people doing the same things. With
``common_random_numbers=False`` the scenario's hash is mixed into the spawn key, and each scenario
gets its own independent draws.

A run's seed is an ordinary ``--seed``: ``pushsim run SCENARIO --seed SEED`` reproduces it.
"""

from __future__ import annotations

import numpy as np

#: seeds are non-negative and fit in a signed 64-bit integer (a Parquet int64 column)
SEED_MASK = (1 << 63) - 1


def run_seed(base_seed: int, replication: int, scenario_hash: str | None = None) -> int:
    """The seed of replication ``replication`` of an experiment with base seed ``base_seed``.

    ``scenario_hash`` (hex) is given only to opt out of common random numbers.
    """
    if base_seed < 0:
        raise ValueError(f"base seed must be >= 0, got {base_seed}")
    if replication < 0:
        raise ValueError(f"replication must be >= 0, got {replication}")
    key = [replication]
    if scenario_hash is not None:
        key += [int(scenario_hash[i : i + 8], 16) for i in range(0, len(scenario_hash), 8)]
    sequence = np.random.SeedSequence(entropy=base_seed, spawn_key=tuple(key))
    high, low = (int(word) for word in sequence.generate_state(2, dtype=np.uint32))
    return ((high << 32) | low) & SEED_MASK


def run_seeds(
    base_seed: int,
    replications: int,
    *,
    common_random_numbers: bool = True,
    scenario_hash: str | None = None,
) -> list[int]:
    """The seeds of replications ``0 … replications-1``.

    ``scenario_hash`` is required when ``common_random_numbers`` is false, and ignored otherwise.
    """
    if not common_random_numbers and not scenario_hash:
        raise ValueError("without common random numbers, the scenario hash is part of the seed")
    mixed = None if common_random_numbers else scenario_hash
    return [run_seed(base_seed, r, mixed) for r in range(replications)]
