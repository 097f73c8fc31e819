"""The fit: it recovers known parameters within its uncertainty, and says what it cannot do.

Observations come from a world whose parameters are known (:mod:`sim.calibration.synthetic`),
run with a seed the fit does not use; the fit starts from the baseline's values, away from the
truth. Small worlds keep the suite fast; the full-size check is ``pushsim calibrate`` on
``examples/observations.toml`` (its note and docs/calibration.md give the figures).
"""

from __future__ import annotations

import pytest

from sim.calibration.evaluate import Evaluator
from sim.calibration.fit import MISMATCH_Z, Calibration, CalibrationError, Fit, scaled
from sim.calibration.observations import Observable, Observation, Observations, PlatformClass
from sim.calibration.setup import Setup
from sim.calibration.synthetic import observe
from sim.scenario.library import packaged_file
from sim.scenario.load import load_scenario
from sim.scenario.schema import Scenario

TRUTH = {
    "permission.ios_opt_in_share": 0.58,
    "permission.android_13_opt_in_share": 0.56,
    "behaviour.uninstall_by_day1_share": 0.19,
    "behaviour.uninstall_by_day30_share": 0.43,
    "behaviour.session_rate_per_day": 1.1,
}
ROWS = (
    (Observable.OPT_IN_SHARE, "ios"),
    (Observable.OPT_IN_SHARE, "android_13_plus"),
    (Observable.UNINSTALLED_BY_DAY1_SHARE, None),
    (Observable.UNINSTALLED_BY_DAY30_SHARE, None),
    (Observable.SESSIONS_PER_ACTIVE_USER_PER_WEEK, None),
)
SETUP = Setup(devices=1500, days=61.0, replications=2, seed=11, max_iterations=10)


@pytest.fixture(scope="module")
def base() -> Scenario:
    return load_scenario(packaged_file("baseline"))


def _fit(base: Scenario, observations: Observations, setup: Setup = SETUP) -> Fit:
    with Evaluator(1) as evaluator:
        return Calibration(base, observations, setup, evaluator).run()


@pytest.fixture(scope="module")
def recovered(base: Scenario) -> Fit:
    truth = scaled(base.with_values(TRUTH), 3000)
    observations = observe(truth, days=SETUP.days, seed=90_210, keep=ROWS)
    return _fit(base, observations)


def test_each_parameter_is_recovered_within_its_reported_uncertainty(recovered: Fit) -> None:
    assert [e.parameter.path for e in recovered.estimates] == list(TRUTH)
    for estimate in recovered.estimates:
        truth = TRUTH[estimate.parameter.path]
        assert estimate.low <= truth <= estimate.high, (estimate.parameter.path, estimate)
        assert estimate.identified
        # the fit moved: the start was the baseline's value, away from the truth
        assert abs(estimate.value - truth) < abs(estimate.start - truth)


def test_the_uncertainty_is_an_uncertainty_not_the_whole_range(recovered: Fit) -> None:
    for estimate in recovered.estimates:
        low, high = estimate.bounds
        assert 0 < estimate.high - estimate.low < 0.5 * (high - low)
        assert estimate.standard_error > 0
    # an uninstall share is its own observable: thousands of installs pin it down to a few points
    uninstalls = [e for e in recovered.estimates if e.parameter.path.startswith("behaviour.un")]
    assert len(uninstalls) == 2
    assert all(e.high - e.low < 0.1 for e in uninstalls)


def test_the_recovered_fit_matches_every_row(recovered: Fit) -> None:
    assert recovered.warnings == []
    table = recovered.table()
    assert table["matched"].all()
    assert recovered.dof == 0 and recovered.chi_square < 25


def test_observations_no_parameter_set_can_produce_are_flagged(base: Scenario) -> None:
    # more uninstalled by day 1 than by day 30: no uninstall curve does that
    rows = (
        Observation(Observable.UNINSTALLED_BY_DAY1_SHARE, 0.45, 60, n=20_000),
        Observation(Observable.UNINSTALLED_BY_DAY30_SHARE, 0.30, 60, n=20_000),
    )
    fit = _fit(base, Observations("impossible.toml", rows), Setup(800, 61.0, 1, 3, 4))
    unmatched = [w for w in fit.warnings if "is not matched" in w]
    assert unmatched, fit.warnings
    assert any("uninstalled_by_day" in w for w in unmatched)
    assert fit.chi_square > MISMATCH_Z**2


def test_a_parameter_the_data_cannot_move_is_not_identified(base: Scenario) -> None:
    # a world without browsers: the web opt-in row has nothing to be measured on, so the web
    # opt-in share moves nothing the fit can see
    no_web = base.with_values(
        {
            "population.platform_share": {
                "ios": 0.5,
                "android_legacy": 0.2,
                "android_13": 0.3,
                "web": 0.0,
            }
        }
    )
    rows = (Observation(Observable.OPT_IN_SHARE, 0.1, 1, n=5000, platform=PlatformClass.WEB),)
    fit = _fit(no_web, Observations("web.toml", rows), Setup(300, 31.0, 1, 3, 2))
    [estimate] = fit.estimates
    assert estimate.parameter.path == "permission.web_gesture_opt_in_share"
    assert not estimate.identified
    assert any("is not identified" in w for w in fit.warnings)
    assert any("this world cannot simulate it" in w for w in fit.warnings)


def test_rows_without_a_standard_error_are_refused_up_front(base: Scenario) -> None:
    rows = (
        Observation(Observable.SESSIONS_PER_ACTIVE_USER_PER_WEEK, 3.0, 28, n=1000),
        Observation(Observable.OPT_IN_SHARE, 0.5, 28, n=1000),
    )
    with pytest.raises(CalibrationError) as raised, Evaluator(1) as evaluator:
        Calibration(base, Observations("obs.toml", rows), SETUP, evaluator)
    assert raised.value.problems == [
        (
            "observation[0]",
            "sessions_per_active_user_per_week needs a standard error to be fitted: give "
            "uncertainty (the standard error, in the unit of value)",
        )
    ]


def test_runs_too_short_for_a_row_are_refused_up_front(base: Scenario) -> None:
    rows = (Observation(Observable.REINSTALL_SHARE, 0.35, 90, n=1000),)
    needs = r"observation\[0\]: reinstall_share needs runs"
    with pytest.raises(CalibrationError, match=needs), Evaluator(1) as evaluator:
        Calibration(base, Observations("obs.toml", rows), SETUP, evaluator)


def test_the_cadence_is_set_not_fitted(base: Scenario) -> None:
    rows = (
        Observation(Observable.CAMPAIGN_CADENCE_DAYS, 3.0, 90, uncertainty=0.0),
        Observation(Observable.OPT_IN_SHARE, 0.5, 28, n=1000, platform=None),
    )
    observations = Observations("obs.toml", rows[:1])
    fit = _fit(base, observations, Setup(300, 31.0, 1, 3, 1))
    assert fit.estimates == []
    assert fit.values() == {"campaigns.every_days": 3.0}
    assert fit.scenario().campaigns.every_days == 3.0


def test_the_same_inputs_give_the_same_fit_with_any_number_of_workers(base: Scenario) -> None:
    rows = (Observation(Observable.UNINSTALLED_BY_DAY30_SHARE, 0.42, 60, n=5000),)
    setup = Setup(500, 61.0, 2, 5, 3)
    observations = Observations("obs.toml", rows)
    one = _fit(base, observations, setup)
    with Evaluator(2) as evaluator:
        two = Calibration(base, observations, setup, evaluator).run()
    assert one.estimates_table().equals(two.estimates_table())
    assert one.table().equals(two.table())
