"""The rows of the report: each figure's values over replications, its interval and its verdict.

**The verdict**, computed from the numbers only: *within* when pushsim's 95 % confidence interval
(Student t over the replications) shares a point with the published band, *outside* when it does
not. For a closed form the band is the closed-form value, so *within* means the interval holds
it. A figure whose run is too short is *full size only* (with the reason), and one that fewer than
two replications could measure (no interval) is *no data*: a verdict from one replication's handful
of sends would mean nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sim.experiment.stats import Interval, t_interval
from sim.validation.figures import FIGURES, Band, Figure
from sim.validation.runs import Job, Values

WITHIN = "within"
OUTSIDE = "outside"
FULL_SIZE_ONLY = "full size only"
NO_DATA = "no data"


@dataclass(frozen=True)
class Row:
    """One figure's outcome: its band, pushsim's interval, the verdict and the counts behind it.

    ``count`` sums the metric's denominator (``<metric>#n``) over the replications, when the run
    gives one; ``low``/``high`` are the smallest and largest per-campaign values where the run
    gives them (``<metric>_min``/``_max``).
    """

    figure: Figure
    band: Band
    interval: Interval | None
    verdict: str
    values: tuple[float, ...] = ()
    count: int | None = None
    low: float | None = None
    high: float | None = None
    reason: str = ""
    #: replications run (the values come from those that could measure the figure)
    replications: int = 0


def _present(values: Sequence[Values], metric: str) -> list[float]:
    return [
        float(v)
        for v in (run.get(metric) for run in values)
        if v is not None and math.isfinite(float(v))
    ]


def verdict(band: Band, interval: Interval) -> str:
    """Within or outside (see the module docstring), from the band and the interval alone."""
    if interval.n < 2 or math.isnan(interval.low) or math.isnan(interval.high):
        return NO_DATA
    return WITHIN if band.overlaps(interval.low, interval.high) else OUTSIDE


def _band(figure: Figure, values: Sequence[Values]) -> Band:
    if figure.band is not None:
        return figure.band
    assert figure.expected is not None
    expected = _present(values, figure.expected)
    if not expected:
        return Band(math.nan, math.nan, "no closed-form value")
    value = expected[0]
    if any(other != value for other in expected):  # the same parameters in every replication
        raise ValueError(f"{figure.key}: the closed-form value differs between replications")
    return Band.point(value, "closed form")


def build_row(figure: Figure, values: Sequence[Values], days: float) -> Row:
    """The row of ``figure`` from the values of its run's replications, run for ``days`` days."""
    band = _band(figure, values)
    if days < figure.min_days:
        return Row(figure, band, None, FULL_SIZE_ONLY, reason=figure.why_full_size)
    present = _present(values, figure.metric)
    interval = t_interval(present)
    counts = [run.get(f"{figure.metric}#n") for run in values]
    count = (
        int(sum(c for c in counts if c is not None)) if any(c is not None for c in counts) else None
    )
    lows = _present(values, f"{figure.metric}_min")
    highs = _present(values, f"{figure.metric}_max")
    return Row(
        figure,
        band,
        interval,
        verdict(band, interval),
        values=tuple(present),
        count=count,
        low=min(lows) if lows else None,
        high=max(highs) if highs else None,
        replications=len(values),
    )


def build_rows(jobs: Sequence[Job], values: Sequence[Values]) -> list[Row]:
    """Every figure's row, in :data:`FIGURES` order, from the jobs and their values."""
    by_run: dict[str, list[Values]] = {}
    days: dict[str, float] = {}
    for job, measured in zip(jobs, values, strict=True):
        by_run.setdefault(job.run, []).append(measured)
        days[job.run] = job.days
    return [
        build_row(figure, by_run.get(figure.run, []), days.get(figure.run, 0.0))
        for figure in FIGURES
    ]
