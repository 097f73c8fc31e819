"""Statistical equivalence of the world before and after a change that moves its random draws.

A change of *shape* (when draws are made, not what is drawn) changes every result table, so the
pinned fingerprint (:mod:`tests.perf.fingerprint`) must move. Before it moves, this module records
the headline figures (:meth:`~sim.metrics.results.RunResult.summary`) of :data:`REPLICATIONS`
independent runs of a small baseline world with the code as it was
(``python -m tests.perf.equivalence > tests/perf/equivalence_before.json``); ``test_equivalence``
runs the same replications with the code as it is and requires every figure's mean to agree with
the recorded one within the test's bound (Welch's z on the two means).
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from sim.scenario import SCENARIOS_DIR, load_scenario
from sim.simulation import simulate
from sim.world import WorldParams

#: the packaged baseline, scaled down: 2,000 devices and their arrivals, 150 days
DEVICES, ARRIVALS_PER_DAY, DAYS, WARM_UP_DAYS = 2000, 8.0, 150.0, 30.0
#: seeds 1..REPLICATIONS
REPLICATIONS = 16


def params() -> WorldParams:
    """The baseline scenario's world at the equivalence size."""
    scenario = load_scenario(SCENARIOS_DIR / "baseline.toml")
    return scenario.world().changed(
        population={"devices": DEVICES, "arrivals_per_day": ARRIVALS_PER_DAY}
    )


def figures(seed: int) -> dict[str, float]:
    """The numeric headline figures of one replication."""
    result = simulate(params(), days=DAYS, seed=seed, warm_up_days=WARM_UP_DAYS)
    summary = result.summary()
    return {
        name: float(value)
        for name, value in summary.items()
        if name not in ("seed", "days", "warm_up_days")
        and isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    }


def record() -> dict[str, Any]:
    """Every replication's figures, by seed."""
    return {
        "devices": DEVICES,
        "days": DAYS,
        "replications": {str(seed): figures(seed) for seed in range(1, REPLICATIONS + 1)},
    }


if __name__ == "__main__":
    json.dump(record(), sys.stdout, indent=1, sort_keys=True)
    print()
