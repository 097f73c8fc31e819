"""The world today is statistically the world whose figures ``equivalence_before.json`` recorded.

``tests/perf/equivalence_before.json`` holds the headline figures of 16 replications of a small
baseline world, recorded with the code as it was before the last change that moved the pinned
fingerprint (see :mod:`tests.perf.equivalence`). Each figure's mean over the same 16 seeds today
must agree with the recorded mean: Welch's z on the two means within ±4. With about 40 figures,
all equivalent, a |z| above 4 has a chance of about 1 in 400 per recording, and the verdict is
fixed by the seeds: the test is deterministic, not flaky.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from statistics import mean, variance

from tests.perf.equivalence import REPLICATIONS, figures

BEFORE = Path(__file__).with_name("equivalence_before.json")
#: the largest |z| allowed between the recorded and today's mean of a figure
BOUND = 4.0


def welch_z(before: list[float], after: list[float]) -> float:
    """(mean after − mean before) / its standard error; 0 when neither varies and they agree."""
    spread = variance(before) / len(before) + variance(after) / len(after)
    difference = mean(after) - mean(before)
    if spread == 0:
        return 0.0 if difference == 0 else math.inf
    return difference / math.sqrt(spread)


def test_welch_z_sees_a_shift_and_not_noise() -> None:
    assert welch_z([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]) == 0.0
    assert welch_z([1.0, 2.0, 3.0], [11.0, 12.0, 13.0]) > 10
    assert welch_z([5.0, 5.0], [5.0, 5.0]) == 0.0
    assert welch_z([5.0, 5.0], [6.0, 6.0]) == math.inf


def test_every_headline_figure_agrees_with_the_recorded_world() -> None:
    recorded = json.loads(BEFORE.read_text())["replications"]
    seeds = range(1, REPLICATIONS + 1)
    today = [figures(seed) for seed in seeds]
    names = sorted(
        set.intersection(*(set(f) for f in today), *(set(recorded[str(s)]) for s in seeds))
    )
    assert len(names) >= 30  # the summary's figures, not a handful
    off = {}
    for name in names:
        before = [recorded[str(seed)][name] for seed in seeds]
        after = [row[name] for row in today]
        z = welch_z(before, after)
        if abs(z) > BOUND:
            off[name] = (round(mean(before), 4), round(mean(after), 4), round(z, 2))
    assert not off, f"figures that moved (before mean, after mean, z): {off}"
