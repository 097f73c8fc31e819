"""The [sweep] table: grid and zip expansion; bad key paths and values named with the file."""

from __future__ import annotations

import pytest

from sim.experiment import plan_sweep
from sim.scenario import ScenarioError, load_scenario, parse_scenario, to_toml
from sim.scenario.schema import Scenario
from tests.experiment import SWEEP_FILE

HEADER = '[scenario]\nname = "sw"\n\n[measurement]\ndays = 10\nseed = 4\n\n'


def scenario(sweep: str) -> Scenario:
    return parse_scenario(HEADER + sweep, "sw.toml")


def problems(sweep: str) -> list[tuple[str, str]]:
    with pytest.raises(ScenarioError) as caught:
        scenario(sweep)
    assert caught.value.file == "sw.toml"
    assert str(caught.value).startswith("sw.toml: ")
    return caught.value.problems


def test_grid_is_the_full_factorial_first_key_slowest():
    s = scenario(
        '[sweep.values]\n"policy.uninstall_tracking" = [false, true]\n'
        '"campaigns.every_days" = [1, 7, 14]\n'
    )
    assert s.sweep is not None and s.sweep.mode == "grid"
    points = s.points()
    assert [values for values, _ in points] == [
        {"policy.uninstall_tracking": t, "campaigns.every_days": d}
        for t in (False, True)
        for d in (1, 7, 14)
    ]
    for values, point in points:
        assert point.policy.uninstall_tracking is values["policy.uninstall_tracking"]
        assert point.campaigns.every_days == values["campaigns.every_days"]
        assert point.sweep is None


def test_zip_takes_the_lists_side_by_side():
    s = scenario(
        '[sweep]\nmode = "zip"\n[sweep.values]\n"population.devices" = [100, 200]\n'
        '"permission.web_prompt" = ["gesture", "page_load"]\n'
    )
    assert [values for values, _ in s.points()] == [
        {"population.devices": 100, "permission.web_prompt": "gesture"},
        {"population.devices": 200, "permission.web_prompt": "page_load"},
    ]


def test_unknown_key_path_names_the_path_and_the_allowed_keys():
    [(path, message)] = problems('[sweep.values]\n"policy.uninstal_tracking" = [false, true]\n')
    assert path == 'sweep.values."policy.uninstal_tracking"'
    assert "unknown key 'uninstal_tracking' in policy" in message
    assert "allowed keys: refresh_on_session_start" in message and "uninstall_tracking" in message


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("polcy.x", "allowed keys: population, permission"),
        ("policy.uninstall_tracking.on", "is a value, not a table"),
        ("sweep.mode", "cannot vary its own keys"),
    ],
)
def test_other_bad_key_paths(key, says):
    [(path, message)] = problems(f'[sweep.values]\n"{key}" = [1]\n')
    assert path == f'sweep.values."{key}"'
    assert says in message


def test_a_bad_value_names_the_swept_key_path_and_what_is_allowed():
    found = problems(
        '[sweep.values]\n"policy.uninstall_tracking" = [false, 2]\n'
        '"permission.web_prompt" = ["gesture", "on_load"]\n'
    )
    assert found == [
        ('sweep.values."policy.uninstall_tracking"', "Input should be a valid boolean (got 2)"),
        (
            'sweep.values."permission.web_prompt"',
            "Input should be 'gesture' or 'page_load' (got 'on_load')",
        ),
    ]


def test_a_value_that_breaks_a_rule_of_another_key_says_which_point():
    # warm_up_days (2 here) must stay shorter than the swept days
    text = HEADER.replace("seed = 4", "seed = 4\nwarm_up_days = 2")
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text + '[sweep.values]\n"measurement.days" = [10, 2]\n', "sw.toml")
    [(path, message)] = caught.value.problems
    assert path == "sweep.values"
    assert message.startswith("with measurement.days = 2: measurement")
    assert "warm_up_days" in message and "shorter than days" in message


@pytest.mark.parametrize(
    ("sweep", "path", "says"),
    [
        (
            '[sweep]\nmode = "zip"\n[sweep.values]\n"population.devices" = [1, 2]\n'
            '"policy.uninstall_tracking" = [true]\n',
            "sweep",
            "zip mode needs lists of equal length",
        ),
        ('[sweep]\nmode = "grd"\nvalues = {"population.devices" = [1]}\n', "sweep.mode", "'grid'"),
        ("[sweep]\nvalues = {}\n", "sweep", "at least one key path"),
        ('[sweep.values]\n"population.devices" = []\n', "sweep", "at least one value"),
        ('[sweep.values]\n"population.devices" = 5\n', 'sweep.values."population.devices"', "list"),
        ('[sweep]\nvalue = {"population.devices" = [1]}\n', "sweep.value", "unknown key"),
    ],
)
def test_malformed_sweep_tables(sweep, path, says):
    found = problems(sweep)
    assert any(p == path and says in m for p, m in found), found


def test_the_world_ignores_the_sweep():
    s = load_scenario(SWEEP_FILE)
    assert s.sweep is not None
    assert "sweep" not in s.world().model_dump()
    assert s.world() == s.with_values({}).world()


def test_the_example_sweep_file():
    s = load_scenario(SWEEP_FILE)
    assert s.sweep is not None
    assert s.sweep.values == {"policy.uninstall_tracking": [False, True]}
    assert parse_scenario(to_toml(s), "resolved").digest() == s.digest()
    plan = plan_sweep(s)
    assert plan.parameters == ["policy.uninstall_tracking"]
    assert len(plan.runs) == 2 * s.measurement.replications
    assert [p.scenario.policy.uninstall_tracking for p in plan.points] == [False, True]


def test_overrides_apply_before_the_sweep():
    s = load_scenario(SWEEP_FILE, ["population.devices=123"])
    assert all(point.population.devices == 123 for _, point in s.points())
