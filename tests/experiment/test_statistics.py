"""What replications and common random numbers buy: narrower intervals.

Both tests run small worlds (300 devices, 30 days after a 5-day warm-up).
"""

from __future__ import annotations

import math

import pytest

from sim.experiment import compare, replicate
from tests.experiment import BASELINE, SMALL, TRACKING


def test_the_confidence_interval_narrows_with_replications():
    few = replicate(BASELINE, 4, overrides=SMALL)
    many = replicate(BASELINE, 16, overrides=SMALL)
    for figure in ("stale_rate", "mean_stale_rate", "believed_reachable"):
        a, b = few.figure(figure), many.figure(figure)
        assert (a.n, b.n) == (4, 16)
        assert a.low < a.mean < a.high and b.low < b.mean < b.high
        # about 1/sqrt(4) as wide, times t(15)/t(3): 0.34 as wide, give or take the spread
        assert b.width < 0.75 * a.width, figure
    # the 4 replications are the first 4 of the 16 (same seeds)
    assert few.values("stale_rate").tolist() == many.values("stale_rate").tolist()[:4]
    row = many.summary[many.summary["figure"] == "stale_rate"].iloc[0]
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(
        (many.figure("stale_rate").low, many.figure("stale_rate").high)
    )


@pytest.fixture(scope="module")
def policies():
    return compare(BASELINE, TRACKING, 8, overrides=SMALL)


def test_a_paired_comparison_is_narrower_than_an_unpaired_one(policies):
    for figure in ("stale_rate", "mean_stale_rate", "believed_reachable"):
        row = policies.figure(figure)
        assert row["n"] == 8
        paired = row["paired_high"] - row["paired_low"]
        welch = row["welch_high"] - row["welch_low"]
        assert paired < welch, figure
        assert row["width_ratio"] == pytest.approx(paired / welch)
        assert row["width_ratio"] < 0.6, figure
    # uninstall tracking removes dead tokens sooner: fewer stale tokens on average
    mean_stale = policies.figure("mean_stale_rate")
    assert mean_stale["difference"] < 0 and mean_stale["paired_high"] < 0
    assert mean_stale["difference"] == pytest.approx(mean_stale["mean_b"] - mean_stale["mean_a"])


def test_both_policies_saw_the_same_world(policies):
    # the probes do not touch the world's behaviour streams: the same people install, open,
    # uninstall at the same times, so the audience that is truly reachable (which uninstall
    # tracking cannot change: it only removes dead tokens) is identical pair by pair
    result = policies.experiment
    a, b = result.values("truly_reachable", 0), result.values("truly_reachable", 1)
    assert a.tolist() == b.tolist()
    row = policies.figure("truly_reachable")
    assert row["difference"] == 0 and row["width_ratio"] == 0
    assert math.isfinite(row["welch_low"])
