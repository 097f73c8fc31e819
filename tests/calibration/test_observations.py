from __future__ import annotations

import math
from pathlib import Path

import pytest

from sim.calibration import (
    Kind,
    Observable,
    Observations,
    PlatformClass,
    load_observations,
)
from sim.calibration.observations import SPECS
from sim.scenario.errors import ScenarioError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "observations.toml"
DOC = Path(__file__).resolve().parents[2] / "docs" / "calibration.md"

GOOD = """
[[observation]]
observable = "opt_in_share"
platform = "ios"
value = 0.52
n = 12000
window = { from = 2026-09-01, to = 2026-09-30 }
source = "our dashboard"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "obs.toml"
    path.write_text(text, encoding="utf-8")
    return path


def row(**keys: object) -> str:
    lines = ["[[observation]]"]
    for key, value in keys.items():
        if isinstance(value, str) and not value.startswith("{"):
            lines.append(f'{key} = "{value}"')
        else:
            lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


def error_of(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        load_observations(path)
    return str(caught.value).replace(str(path), "obs.toml")


def base_keys(observable: Observable) -> dict[str, object]:
    spec = SPECS[observable]
    keys: dict[str, object] = {"observable": observable.value}
    if spec.per_platform:
        keys["platform"] = "ios"
    if spec.per_provider:
        keys["provider"] = "fcm"
    keys["value"] = 0.5 if spec.kind is Kind.SHARE else 3.0
    keys["n"] = 100
    keys["window_days"] = 30
    return keys


def test_a_good_file(tmp_path: Path) -> None:
    observations = load_observations(write(tmp_path, GOOD))
    (only,) = observations.rows
    assert only.observable is Observable.OPT_IN_SHARE
    assert only.platform is PlatformClass.IOS
    assert only.window_days == 30
    assert only.source == "our dashboard"
    assert observations.find("opt_in_share", platform="ios") is only
    assert observations.find("opt_in_share", platform="web") is None


@pytest.mark.parametrize("observable", list(Observable))
def test_every_observable_is_accepted(tmp_path: Path, observable: Observable) -> None:
    observations = load_observations(write(tmp_path, row(**base_keys(observable))))
    assert [r.observable for r in observations] == [observable]


def test_every_observable_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for observable in Observable:
        assert f"`{observable.value}`" in text


def test_the_example_has_every_observable_once_per_key() -> None:
    observations = load_observations(EXAMPLE)
    assert {r.observable for r in observations} == set(Observable)
    frame = observations.to_frame()
    assert len(frame) == len(observations)
    assert frame["standard_error"].notna().all()
    assert set(frame["source"]) == {"simulated (see the header)"}


def test_the_example_header_states_the_truth_it_was_made_from() -> None:
    from sim.calibration.synthetic import EXAMPLE_TRUTH

    header = [line for line in EXAMPLE.read_text(encoding="utf-8").splitlines() if "=" in line]
    for path, value in EXAMPLE_TRUTH.items():
        assert f"#   {path} = {value:.6g}" in header


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (
            {"observable": "opt_in_share", "platform": "ios", "value": 1.4, "n": 10},
            "obs.toml: observation[0].value: must be a share in [0, 1] (got 1.4)",
        ),
        (
            {"observable": "opt_in_share", "platform": "ios", "value": -0.1, "n": 10},
            "obs.toml: observation[0].value: must be a share in [0, 1] (got -0.1)",
        ),
        (
            {"observable": "sessions_per_active_user_per_week", "value": -2.0, "n": 10},
            "obs.toml: observation[0].value: must be a rate >= 0 (got -2.0)",
        ),
        (
            {"observable": "campaign_cadence_days", "value": 0, "n": 10},
            "obs.toml: observation[0].value: must be a number of days > 0 (got 0.0)",
        ),
        (
            {"observable": "opt_in_share", "platform": "ios", "value": "nan", "n": 10},
            "obs.toml: observation[0].value: must be a finite number (got nan)",
        ),
        (
            {"observable": "opt_in_share", "value": 0.5, "n": 10},
            "obs.toml: observation[0].platform: required for opt_in_share; allowed: ios, "
            "android, android_12_or_lower, android_13_plus, web",
        ),
        (
            {"observable": "reinstall_share", "platform": "ios", "value": 0.5, "n": 10},
            "obs.toml: observation[0].platform: not allowed: reinstall_share is not per platform",
        ),
        (
            {"observable": "bounce_rate", "value": 0.05, "n": 10},
            "obs.toml: observation[0].provider: required for bounce_rate; allowed: apns, fcm, "
            "webpush",
        ),
        (
            {"observable": "reinstall_share", "provider": "fcm", "value": 0.5, "n": 10},
            "obs.toml: observation[0].provider: not allowed: reinstall_share is not per provider",
        ),
        (
            {"observable": "reinstall_share", "campaign": "c1", "value": 0.5, "n": 10},
            "obs.toml: observation[0].campaign: not allowed: reinstall_share is not per campaign",
        ),
        (
            {"observable": "reinstall_share", "value": 0.5},
            "obs.toml: observation[0]: needs n (the sample size) or uncertainty (the standard "
            "error), or both",
        ),
        (
            {"observable": "reinstall_share", "value": 0.5, "n": 0},
            "obs.toml: observation[0].n: must be a sample size >= 1 (got 0)",
        ),
        (
            {"observable": "reinstall_share", "value": 0.5, "uncertainty": -0.1},
            "obs.toml: observation[0].uncertainty: must be a standard error >= 0 (got -0.1)",
        ),
        (
            {"observable": "reinstall_share", "value": 0.5, "n": 5, "window_days": -3},
            "obs.toml: observation[0].window_days: must be a number of days > 0 (got -3.0)",
        ),
        (
            {
                "observable": "reinstall_share",
                "value": 0.5,
                "n": 5,
                "window": "{ from = 2026-09-30, to = 2026-09-01 }",
            },
            "obs.toml: observation[0].window: to (2026-09-01) is before from (2026-09-30)",
        ),
    ],
)
def test_bad_values(tmp_path: Path, keys: dict[str, object], message: str) -> None:
    if "window" not in keys:
        keys.setdefault("window_days", 30)
    if keys["value"] == "nan":
        keys["value"] = "nan "  # written bare: TOML's nan
    text = row(**keys).replace('"nan "', "nan")
    assert error_of(tmp_path, text) == message


def test_the_window_is_required_once(tmp_path: Path) -> None:
    expected = (
        "obs.toml: observation[0]: needs exactly one of window = { from = ..., to = ... } and "
        "window_days (the window the value was measured over)"
    )
    neither = row(observable="reinstall_share", value=0.5, n=5)
    assert error_of(tmp_path, neither) == expected
    both = row(
        observable="reinstall_share",
        value=0.5,
        n=5,
        window_days=3,
        window="{ from = 2026-09-01, to = 2026-09-03 }",
    )
    assert error_of(tmp_path, both) == expected


def test_type_errors_read_like_scenario_errors(tmp_path: Path) -> None:
    unknown = row(observable="opt_in", platform="ios", value=0.5, n=5, window_days=1)
    message = error_of(tmp_path, unknown)
    assert message.startswith("obs.toml: observation[0].observable: Input should be ")
    assert "'opt_in_share'" in message
    assert message.endswith("(got 'opt_in')")
    extra = row(observable="reinstall_share", value=0.5, n=5, window_days=1, colour="red")
    assert error_of(tmp_path, extra).startswith(
        "obs.toml: observation[0].colour: unknown key; allowed keys: observable, platform,"
    )
    platform = row(observable="opt_in_share", platform="android_14", value=0.5, n=5, window_days=1)
    assert error_of(tmp_path, platform).startswith(
        "obs.toml: observation[0].platform: Input should be 'ios', 'android', "
    )
    assert error_of(tmp_path, "") == "obs.toml: observation: required key is missing"
    assert error_of(tmp_path, "[[observation]\n").startswith("obs.toml: invalid TOML: ")


def test_duplicates_name_both_rows(tmp_path: Path) -> None:
    first = row(observable="opt_in_share", platform="ios", value=0.5, n=5, window_days=1)
    other = row(observable="opt_in_share", platform="web", value=0.05, n=5, window_days=1)
    again = row(observable="opt_in_share", platform="ios", value=0.6, n=9, window_days=2)
    message = error_of(tmp_path, first + other + again)
    assert message == (
        "obs.toml: observation[2]: duplicate of observation[0] "
        "(same observable 'opt_in_share', platform 'ios')"
    )
    bounce_a = row(observable="bounce_rate", provider="fcm", campaign="a", value=0.1, n=5)
    bounce_b = row(observable="bounce_rate", provider="fcm", campaign="b", value=0.1, n=5)
    days = "window_days = 1\n"
    assert len(load_observations(write(tmp_path, bounce_a + days + bounce_b + days))) == 2
    message = error_of(tmp_path, bounce_a + days + bounce_a + days)
    assert message == (
        "obs.toml: observation[1]: duplicate of observation[0] "
        "(same observable 'bounce_rate', provider 'fcm', campaign 'a')"
    )


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    bad_value = row(observable="reinstall_share", value=2.0, n=5, window_days=1)
    no_n = row(observable="reinstall_share", value=0.5, window_days=1)
    message = error_of(tmp_path, bad_value + no_n)
    assert message.splitlines() == [
        "obs.toml: 2 problems",
        "  observation[0].value: must be a share in [0, 1] (got 2.0)",
        "  observation[1]: needs n (the sample size) or uncertainty (the standard error), or both",
    ]


def test_standard_errors(tmp_path: Path) -> None:
    text = (
        row(observable="reinstall_share", value=0.36, n=14000, window_days=90)
        + row(observable="uninstalled_by_day1_share", value=0.2, n=100, uncertainty=0.07)
        + "window_days = 1\n"
        + row(observable="sessions_per_active_user_per_week", value=3.4, n=500, window_days=7)
        + row(observable="campaign_cadence_days", value=7, uncertainty=0.5, window_days=90)
        + row(observable="multi_user_device_share", value=0.0, n=40, window_days=1)
    )
    observations = load_observations(write(tmp_path, text))
    errors = [r.standard_error() for r in observations]
    assert errors[0] == pytest.approx(math.sqrt(0.36 * 0.64 / 14000))
    assert errors[1] == 0.07  # given wins over n
    assert errors[2] is None  # a rate with only n: no binomial error
    assert errors[3] == 0.5
    assert errors[4] == 0.0
    frame = observations.to_frame()
    assert frame.loc[0, "standard_error"] == pytest.approx(errors[0])
    assert str(frame["n"].dtype) == "Int64"


def test_the_window_dates_give_the_days(tmp_path: Path) -> None:
    observations = load_observations(write(tmp_path, GOOD))
    (only,) = observations.rows
    assert (only.window_from.isoformat(), only.window_to.isoformat()) == (  # type: ignore[union-attr]
        "2026-09-01",
        "2026-09-30",
    )
    assert isinstance(observations, Observations)
