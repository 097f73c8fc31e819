"""Confidence intervals over replications: Student-t for a mean, paired and Welch for a difference.

Values that are not finite (a median of no latencies, an overstatement with nobody reachable) are
left out, and ``n`` says how many values were used. With fewer than two values an interval's
bounds are NaN; with no spread they are the mean itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """A mean (or mean difference) with its confidence interval and the number of values."""

    mean: float
    low: float
    high: float
    n: int
    confidence: float = CONFIDENCE

    @property
    def width(self) -> float:
        """``high - low`` (NaN when undefined)."""
        return self.high - self.low

    @property
    def half_width(self) -> float:
        """Half the width: the ``±`` of ``mean ± half_width``."""
        return self.width / 2


def _finite(values: Sequence[float] | np.ndarray) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    finite: np.ndarray = array[np.isfinite(array)]
    return finite


def _interval(mean: float, se: float, df: float, n: int, confidence: float) -> Interval:
    if n < 2 or not math.isfinite(df):
        return Interval(mean, math.nan, math.nan, n, confidence)
    if se == 0:
        return Interval(mean, mean, mean, n, confidence)
    half = float(stats.t.ppf(0.5 + confidence / 2, df)) * se
    return Interval(mean, mean - half, mean + half, n, confidence)


def t_interval(values: Sequence[float] | np.ndarray, confidence: float = CONFIDENCE) -> Interval:
    """The mean of ``values`` and its Student-t confidence interval (``n - 1`` d.f.)."""
    x = _finite(values)
    n = int(x.size)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, confidence)
    mean = float(x.mean())
    se = float(x.std(ddof=1)) / math.sqrt(n) if n > 1 else math.nan
    return _interval(mean, se, n - 1, n, confidence)


def paired_interval(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    confidence: float = CONFIDENCE,
) -> Interval:
    """Mean of ``b - a`` over pairs (same replication) and its t interval.

    Pairs where either value is not finite are left out.
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"paired values need equal lengths, got {x.size} and {y.size}")
    keep = np.isfinite(x) & np.isfinite(y)
    return t_interval(y[keep] - x[keep], confidence)


def welch_interval(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    confidence: float = CONFIDENCE,
) -> Interval:
    """``mean(b) - mean(a)`` as if the samples were independent (Welch–Satterthwaite t interval).

    ``n`` is the smaller sample size.
    """
    x, y = _finite(a), _finite(b)
    n = min(x.size, y.size)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, confidence)
    mean = float(y.mean() - x.mean())
    if n < 2:
        return Interval(mean, math.nan, math.nan, n, confidence)
    va, vb = float(x.var(ddof=1)) / x.size, float(y.var(ddof=1)) / y.size
    se = math.sqrt(va + vb)
    if se == 0:
        return Interval(mean, mean, mean, n, confidence)
    df = (va + vb) ** 2 / (va**2 / (x.size - 1) + vb**2 / (y.size - 1))
    return _interval(mean, se, df, n, confidence)
