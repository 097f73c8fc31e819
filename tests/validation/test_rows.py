"""Verdicts come from the numbers: the interval against the band, or the run too short."""

from __future__ import annotations

import math

from sim.experiment.stats import Interval
from sim.validation.figures import Band, figure
from sim.validation.rows import (
    FULL_SIZE_ONLY,
    NO_DATA,
    OUTSIDE,
    WITHIN,
    build_row,
    verdict,
)
from sim.validation.runs import Values

BAND = Band.range(0.46, 0.49, "46–49 %")


def _values(**metrics: float | None) -> Values:
    return dict(metrics)


def test_the_verdict_is_whether_the_interval_meets_the_band():
    assert verdict(BAND, Interval(0.50, 0.495, 0.505, 8)) == OUTSIDE
    assert verdict(BAND, Interval(0.50, 0.485, 0.515, 8)) == WITHIN
    assert verdict(BAND, Interval(0.47, math.nan, math.nan, 1)) == NO_DATA  # one value: no CI
    assert verdict(BAND, Interval(math.nan, math.nan, math.nan, 0)) == NO_DATA


def test_a_row_is_built_from_the_replications_values():
    row = build_row(
        figure("uninstalled_by_day30"),
        [
            {"uninstalled_by_day30": 0.501, "uninstalled_by_day30#n": 100},
            {"uninstalled_by_day30": 0.503, "uninstalled_by_day30#n": 110},
            {"uninstalled_by_day30": 0.502, "uninstalled_by_day30#n": 90},
        ],
        days=365.0,
    )
    assert row.verdict == OUTSIDE
    assert row.interval is not None and row.interval.mean == 0.502
    assert row.count == 300
    inside = build_row(
        figure("uninstalled_by_day30"),
        [_values(uninstalled_by_day30=v) for v in (0.47, 0.48, 0.475)],
        days=365.0,
    )
    assert inside.verdict == WITHIN and inside.count is None
    alone = build_row(
        figure("web_delivery_9_months"),
        [_values(web_delivery_9_months=0.0), _values(web_delivery_9_months=None)],
        days=365.0,
    )
    assert alone.verdict == NO_DATA and alone.replications == 2


def test_a_figure_whose_run_is_too_short_is_full_size_only_with_its_reason():
    row = build_row(figure("web_delivery_9_months"), [{"web_delivery_9_months": None}], 120.0)
    assert row.verdict == FULL_SIZE_ONLY
    assert "289 days" in row.reason
    assert row.interval is None


def test_a_closed_form_row_compares_with_the_value_computed_from_the_parameters():
    f = figure("closed_dead_periodic")
    values = [_values(dead_mean=m, dead_expected=35.0) for m in (34.0, 35.5, 36.0)]
    row = build_row(f, values, 119.0)
    assert row.band.low == row.band.high == 35.0
    assert row.verdict == WITHIN
    off = [_values(dead_mean=m, dead_expected=35.0) for m in (40.0, 40.1, 40.2)]
    assert build_row(f, off, 119.0).verdict == OUTSIDE


def test_per_campaign_ranges_are_kept():
    f = figure("android_13_delivery")
    values: list[Values] = [
        {
            "android_13_delivered_share": 0.8,
            "android_13_delivered_share_min": 0.7,
            "android_13_delivered_share_max": 0.9,
        },
        {
            "android_13_delivered_share": 0.7,
            "android_13_delivered_share_min": 0.6,
            "android_13_delivered_share_max": 0.8,
        },
    ]
    row = build_row(f, values, 365.0)
    assert (row.low, row.high) == (0.6, 0.9)
