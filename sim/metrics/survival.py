"""Survival estimates of latencies that may still be open when a run ends (Kaplan–Meier).

A latency still open at the end of a run (an uninstall the registry has not noticed yet) is
*right-censored*: all we know is that it is longer than the time it has been open. Dropping those
biases medians low, and counting them as if they had ended then biases them low too (docs/model.md
§5). The product-limit (Kaplan–Meier) estimator uses both: S(t), the share of truth changes the
registry has not caught up with t days after they happened, is the product over the times t_i ≤ t
at which some latency ended of (1 − d_i / n_i), with d_i the latencies ending at t_i and n_i those
still open just before t_i (ended at or after t_i, or censored at or after t_i).

- **Ties**: a latency censored at the very time another ends is counted at risk at that time
  (events before censorings), the usual convention.
- **Median**: the first time at which S(t) ≤ ½. With no censoring that is the lower median of the
  latencies, the ⌈n/2⌉-th smallest (:func:`statistics.median_low`), always one of the observed
  values. When S never falls to ½ within the longest time followed, the median is not known: it is
  ``None``, to be reported as "more than" that longest time (:attr:`SurvivalCurve.last`).

**Why not lifelines.** lifelines (0.30) would bring autograd, autograd-gamma, formulaic (with
interface-meta, narwhals and wrapt) and pytz for one estimator pushsim uses, and it requires
pandas < 3: installing it would downgrade the pandas 3 pushsim runs on. The estimator is a sorted
cumulative product, 30 lines of NumPy, tested here against hand-computed examples and the
no-censoring identity (tests/metrics/test_survival.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: S(t) is a product of many factors, so it may land a few ulps above a value it equals exactly
#: (with no censoring, S = (n − k)/n computed as a product); compare against ½ with this slack
_SLACK = 1e-9


@dataclass(frozen=True)
class SurvivalCurve:
    """The Kaplan–Meier estimate of S(t): the share of latencies still open t days on.

    ``times`` are the distinct times at which some latency ended, ascending; ``survival[i]`` is
    S(t) for ``times[i] ≤ t < times[i + 1]`` (S is 1 before ``times[0]``); ``at_risk[i]`` and
    ``events[i]`` are the n_i and d_i at ``times[i]``. ``last`` is the longest time followed (an
    ended or a censored latency): S is estimated up to there.
    """

    times: FloatArray
    survival: FloatArray
    at_risk: IntArray
    events: IntArray
    observations: int
    censored: int
    last: float

    @property
    def censored_share(self) -> float:
        """The share of observations still open at the end (0 when there are none)."""
        return self.censored / self.observations if self.observations else 0.0

    def at(self, t: float) -> float:
        """S(t) for ``0 ≤ t ≤ last`` (beyond ``last``, the value at ``last``)."""
        index = int(np.searchsorted(self.times, t, side="right"))
        return float(self.survival[index - 1]) if index else 1.0

    def time_to(self, share: float) -> float | None:
        """The first time at which S(t) ≤ ``share``; None if S stays above it up to ``last``."""
        below = np.flatnonzero(self.survival <= share + _SLACK)
        return float(self.times[below[0]]) if below.size else None

    @property
    def median(self) -> float | None:
        """The first time at which S(t) ≤ ½; None if S stays above ½ up to ``last``."""
        return self.time_to(0.5)

    def steps(self) -> tuple[FloatArray, FloatArray]:
        """Points of the curve from (0, 1) to ``last``, for a step plot with ``where="post"``."""
        x = np.concatenate(([0.0], self.times, [self.last]))
        y = np.concatenate(([1.0], self.survival, [self.at(self.last)]))
        return x, y


def kaplan_meier(
    durations: Sequence[float] | npt.ArrayLike, observed: Sequence[bool] | npt.ArrayLike
) -> SurvivalCurve:
    """The product-limit estimate from ``durations`` and whether each ended (else censored).

    >>> curve = kaplan_meier([1, 2, 2, 3, 5], [True, True, False, True, False])
    >>> curve.times.tolist(), curve.survival.round(4).tolist()
    ([1.0, 2.0, 3.0], [0.8, 0.6, 0.3])
    >>> curve.median
    3.0
    """
    d = np.asarray(durations, dtype=np.float64).ravel()
    e = np.asarray(observed, dtype=bool).ravel()
    if d.shape != e.shape:
        raise ValueError(f"{d.size} durations but {e.size} observed flags")
    if d.size and (not np.isfinite(d).all() or float(d.min()) < 0):
        raise ValueError("durations must be finite and not negative")
    order = np.argsort(d, kind="stable")
    d, e = d[order], e[order]
    n = int(d.size)
    if n == 0:
        empty_f, empty_i = np.zeros(0, np.float64), np.zeros(0, np.int64)
        return SurvivalCurve(empty_f, empty_f, empty_i, empty_i, 0, 0, 0.0)
    times, first = np.unique(d, return_index=True)
    events = np.add.reduceat(e.astype(np.int64), first)
    at_risk = (n - first).astype(np.int64)  # everyone whose duration is ≥ this time
    ended = events > 0
    times, events, at_risk = times[ended], events[ended], at_risk[ended]
    survival: FloatArray = np.cumprod(1.0 - events / at_risk, dtype=np.float64)
    return SurvivalCurve(
        times=times,
        survival=survival,
        at_risk=at_risk,
        events=events,
        observations=n,
        censored=int(n - e.sum()),
        last=float(d[-1]),
    )


def km_median(
    durations: Sequence[float] | npt.ArrayLike, observed: Sequence[bool] | npt.ArrayLike
) -> float | None:
    """The Kaplan–Meier median: the first time S(t) ≤ ½ (None when not reached or no data)."""
    return kaplan_meier(durations, observed).median
