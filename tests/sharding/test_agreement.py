"""Two household shards agree statistically with the unsharded world (not exactly: other streams).

Six seeds of the baseline world (2,000 devices, arrivals scaled, 120 days, 30-day warm-up) run
unsharded and as K = 2 shards. For each headline figure — the mean stale-token rate and the mean
believed and truly reachable audiences after the warm-up — the two sets of runs must not differ
significantly (Welch's t-test, p > 0.01), and their means must be within 10 % of each other. The
seeds are fixed, so the verdict is reproducible. A sharding bug that changes the size or the rates
of the world fails it: with arrivals not split between the shards, both audiences differ with
p ≈ 1e-10. (That shards draw from their own streams is checked in ``tests/world``.)
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.metrics.results import RunResult
from sim.metrics.timeseries import ALL
from sim.runner import run_scenario
from sim.scenario import load_scenario

DEVICES = 2000
SEEDS = range(6)
FIGURES = ("stale_rate", "believed_reachable", "truly_reachable")


def _means(result: RunResult) -> list[float]:
    ts = result.timeseries
    warm = ts[(ts["platform"] == ALL) & (ts["time"] >= result.warm_up_days)]
    return [float(warm[figure].mean()) for figure in FIGURES]


def _runs(shards: int) -> np.ndarray:
    scenario = load_scenario(
        "scenarios/baseline.toml",
        [
            f"population.devices={DEVICES}",
            f"population.arrivals_per_day={DEVICES * 0.004!r}",
            "measurement.days=120.0",
            f"measurement.shards={shards}",
        ],
    )
    return np.array([_means(run_scenario(scenario, seed=seed)) for seed in SEEDS])


@pytest.fixture(scope="module")
def runs() -> dict[int, np.ndarray]:
    return {shards: _runs(shards) for shards in (1, 2)}


@pytest.mark.parametrize("figure", FIGURES)
def test_two_shards_agree_with_the_unsharded_world(runs: dict[int, np.ndarray], figure: str):
    column = FIGURES.index(figure)
    one, two = runs[1][:, column], runs[2][:, column]
    assert not np.array_equal(one, two)  # other streams, other draws
    test = stats.ttest_ind(one, two, equal_var=False)
    assert test.pvalue > 0.01, (figure, one.mean(), two.mean(), test)
    assert abs(two.mean() - one.mean()) < 0.10 * one.mean(), (figure, one.mean(), two.mean())
