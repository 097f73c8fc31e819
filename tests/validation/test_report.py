"""The page's pieces: numbers with their intervals, bands, and the marker line."""

from __future__ import annotations

import math

from sim.experiment.stats import Interval
from sim.validation.figures import Band, figure
from sim.validation.report import MARKER, fmt_band, fmt_interval


def test_intervals_are_shown_by_unit():
    assert fmt_interval(Interval(0.5012, 0.499, 0.5034, 8), "share") == "0.501 [0.499, 0.503]"
    assert fmt_interval(Interval(10.126, 10.09, 10.18, 8), "days") == "10.13 [10.09, 10.18]"
    assert fmt_interval(Interval(349.7, 347.5, 351.9, 8), "count") == "349.7 [347.5, 351.9]"
    assert fmt_interval(Interval(0.0, math.nan, math.nan, 1), "share") == "0.000 (one value)"
    assert fmt_interval(None, "share") == "—"


def test_bands_show_the_published_text_or_the_closed_form_value():
    f = figure("uninstalled_by_day30")
    assert f.band is not None
    assert fmt_band(f.band, f) == "46–49 % (Android installs)"
    closed = figure("closed_dead_periodic")
    assert fmt_band(Band.point(35.0, "closed form"), closed) == "35.0 (closed form)"


def test_the_marker_is_one_html_comment_line():
    assert MARKER.startswith("<!--") and MARKER.endswith("-->") and "\n" not in MARKER
    assert "pushsim validation" in MARKER
