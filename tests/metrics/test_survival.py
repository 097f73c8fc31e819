"""The Kaplan–Meier estimator against hand-computed examples and the no-censoring identity."""

from __future__ import annotations

import statistics

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.metrics.survival import kaplan_meier, km_median


def test_the_textbook_example():
    """Six latencies, two censored (+): 3, 4+, 5, 5, 7+, 9.

    t=3: 6 at risk, 1 ends → 5/6; t=5: 4 at risk (5, 5, 7+, 9), 2 end → 5/6 · 2/4 = 5/12;
    t=9: 1 at risk, 1 ends → 0.
    """
    curve = kaplan_meier([3, 4, 5, 5, 7, 9], [True, False, True, True, False, True])
    assert curve.times.tolist() == [3.0, 5.0, 9.0]
    assert curve.at_risk.tolist() == [6, 4, 1]
    assert curve.events.tolist() == [1, 2, 1]
    np.testing.assert_allclose(curve.survival, [5 / 6, 5 / 12, 0.0])
    assert curve.median == 5.0
    assert (curve.observations, curve.censored, curve.last) == (6, 2, 9.0)
    assert curve.censored_share == pytest.approx(1 / 3)


def test_a_censoring_at_an_event_time_is_still_at_risk_then():
    """Events before censorings: at t=2 the censored 2+ is one of the 3 at risk (2, 2+, 4)."""
    curve = kaplan_meier([1, 2, 2, 4], [True, True, False, True])
    assert curve.at_risk.tolist() == [4, 3, 1]
    np.testing.assert_allclose(curve.survival, [3 / 4, 3 / 4 * 2 / 3, 0.0])
    assert curve.median == 2.0  # S(2) = ½ exactly: the first time S ≤ ½


def test_survival_is_read_as_a_right_continuous_step():
    curve = kaplan_meier([1, 2, 3, 4], [True] * 4)
    assert [curve.at(t) for t in (0.0, 0.99, 1.0, 2.5, 4.0, 10.0)] == [
        1.0,
        1.0,
        0.75,
        0.5,
        0.0,
        0.0,
    ]
    x, y = curve.steps()
    assert x.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 4.0]
    assert y.tolist() == [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]


def test_a_median_not_reached_is_none():
    """Two of five end early and the rest are open: S stays at 3/5 up to the last time followed."""
    curve = kaplan_meier([1, 2, 30, 30, 30], [True, True, False, False, False])
    assert curve.survival[-1] == pytest.approx(0.6)
    assert curve.median is None
    assert curve.last == 30.0
    x, y = curve.steps()
    assert (x[-1], y[-1]) == (30.0, pytest.approx(0.6))


def test_only_censored_or_nothing():
    curve = kaplan_meier([4.0, 5.0], [False, False])
    assert curve.times.size == 0 and curve.median is None and curve.at(5.0) == 1.0
    assert curve.steps()[1].tolist() == [1.0, 1.0]
    empty = kaplan_meier([], [])
    assert (empty.observations, empty.median, empty.censored_share) == (0, None, 0.0)
    assert km_median([], []) is None


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="observed flags"):
        kaplan_meier([1.0, 2.0], [True])
    with pytest.raises(ValueError, match="not negative"):
        kaplan_meier([-1.0], [True])
    with pytest.raises(ValueError, match="finite"):
        kaplan_meier([float("nan")], [True])


durations = st.lists(
    st.floats(min_value=0.0, max_value=1e4, allow_nan=False, allow_subnormal=False)
    | st.integers(min_value=0, max_value=20).map(float),  # small integers: many ties
    min_size=1,
    max_size=300,
)


@given(durations)
def test_with_no_censoring_the_median_is_the_lower_median(values):
    assert km_median(values, [True] * len(values)) == statistics.median_low(values)


@given(durations, st.data())
def test_survival_never_increases_and_stays_in_0_1(values, data):
    observed = data.draw(st.lists(st.booleans(), min_size=len(values), max_size=len(values)))
    curve = kaplan_meier(values, observed)
    assert np.all(np.diff(curve.survival) <= 0)
    assert np.all((curve.survival >= 0) & (curve.survival <= 1))
    assert curve.events.sum() == sum(observed)
    assert curve.censored == len(values) - sum(observed)
    median = curve.median
    if median is not None:
        assert curve.at(median) <= 0.5 + 1e-9
        assert all(curve.at(t) > 0.5 for t in curve.times[curve.times < median])
