"""Confidence intervals agree with scipy's t tests; undefined values are left out."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim.experiment import paired_interval, t_interval, welch_interval

A = np.array([0.151, 0.162, 0.149, 0.170, 0.158, 0.166])
B = A - np.array([0.021, 0.025, 0.019, 0.030, 0.022, 0.027])


def test_t_interval_is_scipys():
    interval = t_interval(A)
    low, high = stats.t.interval(0.95, len(A) - 1, loc=A.mean(), scale=stats.sem(A))
    assert interval.mean == pytest.approx(A.mean())
    assert (interval.low, interval.high) == pytest.approx((low, high))
    assert interval.n == 6
    assert interval.width == pytest.approx(high - low)
    assert interval.half_width == pytest.approx((high - low) / 2)


def test_paired_interval_is_ttest_rel():
    interval = paired_interval(A, B)
    expected = stats.ttest_rel(B, A).confidence_interval(0.95)
    assert interval.mean == pytest.approx((B - A).mean())
    assert (interval.low, interval.high) == pytest.approx((expected.low, expected.high))


def test_welch_interval_is_ttest_ind_unequal_variances():
    interval = welch_interval(A, B[:5])
    expected = stats.ttest_ind(B[:5], A, equal_var=False).confidence_interval(0.95)
    assert interval.mean == pytest.approx(B[:5].mean() - A.mean())
    assert (interval.low, interval.high) == pytest.approx((expected.low, expected.high))
    assert interval.n == 5


def test_pairing_narrows_the_interval_when_pairs_move_together():
    assert paired_interval(A, B).width < welch_interval(A, B).width / 2


def test_undefined_values_are_left_out():
    interval = t_interval([1.0, math.nan, 3.0, math.inf])
    assert interval.n == 2 and interval.mean == 2.0
    paired = paired_interval([1.0, 2.0, math.nan, 4.0], [2.0, math.nan, 5.0, 6.0])
    assert paired.n == 2 and paired.mean == 1.5


def test_degenerate_samples():
    one = t_interval([4.0])
    assert one.mean == 4.0 and one.n == 1 and math.isnan(one.low) and math.isnan(one.high)
    none = t_interval([])
    assert none.n == 0 and math.isnan(none.mean)
    flat = t_interval([2.0, 2.0, 2.0])
    assert (flat.low, flat.mean, flat.high) == (2.0, 2.0, 2.0)
    same = welch_interval([1.0, 1.0], [3.0, 3.0])
    assert (same.low, same.mean, same.high) == (2.0, 2.0, 2.0)
    with pytest.raises(ValueError, match="equal lengths"):
        paired_interval([1.0, 2.0], [1.0])
