"""The closed-form values are computed from the worlds' parameters."""

from __future__ import annotations

import math

import pytest

from sim.validation import closed_forms
from sim.world.params import DEFAULT_FCM_LAG


def test_periodic_poisson_and_lagged_forms():
    n = 1500
    mu, period = closed_forms.UNINSTALL_RATE, closed_forms.PERIOD_DAYS
    periodic = closed_forms.expected(closed_forms.periodic_world(n))
    assert periodic["dead_expected"] == pytest.approx(mu * n * period / 2)
    assert periodic["stale_expected"] == pytest.approx(mu * n * period / 2)
    poisson = closed_forms.expected(closed_forms.poisson_world(n))
    assert poisson["dead_expected"] == pytest.approx(mu * n * period)
    lagged = closed_forms.expected(closed_forms.lagged_world(n))
    lag = DEFAULT_FCM_LAG.lag().mean
    assert lagged["stale_expected"] == pytest.approx(mu * n * (lag + period / 2))
    assert lagged["dead_expected"] == pytest.approx(mu * n * period / 2)


def test_rotation_form_and_steady_world_rates():
    rotation = closed_forms.expected(closed_forms.rotation_world(100))
    assert rotation == {"rotation_expected_days": 1 / closed_forms.SESSION_RATE}
    world = closed_forms.periodic_world(1000)
    assert world.population.arrivals_per_day == pytest.approx(10.0)
    assert world.behaviour.uninstall_by_day1_share == pytest.approx(1 - math.exp(-0.01))
