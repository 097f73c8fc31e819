"""The story runner and the story file loader: results, diffs, ordering and validation errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.registry import RegistryPolicy
from sim.scenario import ScenarioError, load_story, parse_story
from sim.story import (
    CHECKS,
    DeviceSpec,
    Expectation,
    Step,
    StepKind,
    Story,
    StoryError,
    run_story,
)
from sim.world import DeviceKind

HEADER = """
[story]
name = "t"
rules = ["R2"]

[[devices]]
id = "phone"
kind = "ios"
owner = "charlie"
sharers = ["kim"]
"""

SHARED_PHONE = (
    HEADER
    + """
[[steps]]
day = 0.0
do = "install"
device = "phone"

[[steps]]
day = 0.0
do = "launch"
device = "phone"
answer = "grant"

[[steps]]
day = 0.1
do = "login"
device = "phone"
user = "charlie"

[[steps]]
day = 1.0
do = "login"
device = "phone"
user = "kim"
"""
)


def expect(day: float, check: str, equals: str, **keys: str) -> str:
    lines = [f"day = {day}", f'check = "{check}"', f"equals = {equals}"]
    lines += [f'{key} = "{value}"' for key, value in keys.items()]
    return "\n[[expect]]\n" + "\n".join(lines) + "\n"


def phone() -> DeviceSpec:
    return DeviceSpec("phone", DeviceKind.IOS, "charlie", ("kim",))


# -- results and diffs ---------------------------------------------------------------------------


def test_passing_story():
    story = parse_story(SHARED_PHONE + expect(1.01, "token_owner", '"kim"', device="phone"))
    report = run_story(story)
    assert report.passed, report.diff()
    assert [r.actual for r in report.results] == ["kim"]
    assert "all 1 expectations passed" in report.diff()


def test_failing_expectation_gives_a_readable_diff():
    story = parse_story(
        SHARED_PHONE
        + expect(1.01, "token_owner", '"charlie"', device="phone")
        + expect(1.01, "audience_size", "1")
    )
    report = run_story(story)
    assert not report.passed
    assert [r.passed for r in report.results] == [False, True]
    diff = report.diff()
    assert "1 of 2 results failed" in diff
    assert "day 1.01: token_owner(phone)" in diff
    assert "expected: 'charlie'" in diff
    assert "actual:   'kim'" in diff
    assert "audience_size" not in diff  # only failures are shown


def test_campaign_check_compares_only_the_keys_given_and_diffs_per_key():
    text = (
        SHARED_PHONE
        + '\n[[steps]]\nday = 2.0\ndo = "campaign"\ncampaign = "c1"\n'
        + expect(2.01, "campaign", '{ displayed = 1, shown_to = ["kim"] }', campaign="c1")
        + expect(2.01, "campaign", "{ misdirected = 1, displayed = 1 }", campaign="c1")
    )
    report = run_story(parse_story(text))
    first, second = report.results
    assert first.passed
    assert first.actual == {"displayed": 1, "shown_to": ["kim"]}
    assert not second.passed
    assert "≠ misdirected: expected 1, actual 0" in report.diff()
    assert "  displayed: expected 1, actual 1" in report.diff()


def test_bool_and_int_are_not_confused():
    story = Story(
        "s",
        (phone(),),
        (Step(0.0, StepKind.INSTALL, device="phone"),),
        (Expectation(0.5, "audience_size", 0),),
    )
    assert run_story(story).passed
    with pytest.raises(StoryError, match="equals"):
        Expectation(0.5, "audience_size", False)
    with pytest.raises(StoryError, match="equals"):
        Expectation(0.5, "token_held", 1, device="phone")


def test_impossible_step_is_a_failed_result_not_a_traceback():
    story = Story(
        "impossible",
        (phone(),),
        (
            Step(0.0, StepKind.LAUNCH, device="phone", note="not installed yet"),
            Step(0.5, StepKind.INSTALL, device="phone"),
            Step(0.5, StepKind.LAUNCH, device="phone"),
        ),
        (Expectation(1.0, "token_held", True, device="phone"),),
    )
    report = run_story(story)
    assert not report.passed
    step, later = report.results
    assert step.check == "step"
    assert "steps[0]: launch on phone — not installed yet" in step.description
    assert "not installed" in str(step.actual)
    assert later.passed  # the story went on
    assert "steps[0]" in report.diff()


def test_reinstall_needs_an_uninstall():
    story = Story(
        "s",
        (phone(),),
        (
            Step(0.0, StepKind.INSTALL, device="phone"),
            Step(1.0, StepKind.REINSTALL, device="phone"),
        ),
        (Expectation(2.0, "token_held", False, device="phone"),),
    )
    report = run_story(story)
    assert [r.check for r in report.failures] == ["step"]
    assert "reinstall needs an uninstalled app" in str(report.failures[0].actual)


def test_steps_run_before_expectations_at_the_same_day_whatever_the_file_order():
    # the expectation comes first in the file, at the step's day: it still sees the step done
    text = (
        HEADER
        + expect(1.0, "truly_reachable", "false", profile="charlie")
        + expect(1.0, "token_held", "true", device="phone")
        + """
[[steps]]
day = 0.0
do = "install"
device = "phone"

[[steps]]
day = 0.0
do = "launch"
device = "phone"
answer = "grant"

[[steps]]
day = 0.5
do = "login"
device = "phone"
user = "charlie"

[[steps]]
day = 1.0
do = "uninstall"
device = "phone"
"""
    )
    report = run_story(parse_story(text))
    assert report.passed, report.diff()


def test_expectations_before_the_sdk_flush_see_the_old_registry():
    # the login at day 1.0 reaches the registry 10 s later
    text = (
        SHARED_PHONE
        + expect(1.0, "token_owner", '"charlie"', device="phone")
        + expect(1.001, "token_owner", '"kim"', device="phone")
    )
    assert run_story(parse_story(text)).passed


def test_policy_and_world_tables_reach_the_world():
    text = (
        HEADER.replace("[[devices]]", "[policy]\nprune_after_days = 2.0\n\n[[devices]]")
        + """
[world]
apns_lag_days = 3.0

[[steps]]
day = 0.0
do = "install"
device = "phone"

[[steps]]
day = 0.0
do = "launch"
device = "phone"
answer = "grant"

[[steps]]
day = 1.0
do = "uninstall"
device = "phone"

[[steps]]
day = 3.5
do = "prune"
"""
        + expect(3.4, "provider_accepts", "true", device="phone")
        + expect(4.1, "provider_accepts", "false", device="phone")
        + expect(3.51, "token_held", "false", device="phone")
    )
    story = parse_story(text)
    assert story.policy == RegistryPolicy(prune_after_days=2.0)
    assert story.world.apns_lag_days == 3.0
    report = run_story(story)
    assert report.passed, report.diff()


def test_every_check_is_documented():
    readme = Path(__file__).parents[2] / "scenarios" / "stories" / "README.md"
    text = readme.read_text(encoding="utf-8")
    for name in CHECKS:
        assert f"`{name}`" in text, name
    for kind in StepKind:
        assert f"`{kind.value}`" in text, kind


# -- invalid files -------------------------------------------------------------------------------

VALID = SHARED_PHONE + expect(1.01, "token_owner", '"kim"', device="phone")


def write(tmp_path: Path, text: str, name: str = "broken.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_for(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        load_story(path)
    message = str(caught.value)
    assert str(path) in message
    assert isinstance(caught.value, ValueError)
    return message


def test_the_valid_base_file_loads(tmp_path: Path):
    assert load_story(write(tmp_path, VALID)).name == "t"


def test_unknown_key(tmp_path: Path):
    message = error_for(tmp_path, VALID.replace('user = "kim"', 'usr = "kim"'))
    assert "steps[3].usr" in message
    assert "unknown key" in message
    assert "allowed keys:" in message and "user" in message


def test_unknown_top_level_table(tmp_path: Path):
    message = error_for(tmp_path, VALID + "\n[polciy]\ndetach_on_logout = true\n")
    assert "polciy: unknown key" in message
    assert "policy" in message


def test_unknown_policy_field(tmp_path: Path):
    message = error_for(tmp_path, VALID + "\n[policy]\ndetach_on_logoff = true\n")
    assert "policy.detach_on_logoff" in message
    assert "detach_on_logout" in message


def test_unknown_do(tmp_path: Path):
    message = error_for(tmp_path, VALID.replace('do = "install"', 'do = "instal"'))
    assert "steps[0].do" in message
    assert "'instal'" in message
    assert "'install'" in message and "'replace'" in message


def test_unknown_check(tmp_path: Path):
    message = error_for(tmp_path, VALID.replace('check = "token_owner"', 'check = "token_ownr"'))
    assert "expect[0].check" in message
    assert "unknown check 'token_ownr'" in message
    assert "token_owner" in message


def test_negative_day(tmp_path: Path):
    message = error_for(tmp_path, VALID.replace("day = 0.1", "day = -0.1"))
    assert "steps[2].day" in message
    assert "greater than or equal to 0" in message


def test_a_day_must_be_a_number_not_a_string(tmp_path: Path):
    message = error_for(tmp_path, VALID.replace("day = 0.1", 'day = "0.1"'))
    assert "steps[2].day" in message
    assert "valid number" in message


def test_unknown_device_kind(tmp_path: Path):
    message = error_for(tmp_path, VALID.replace('kind = "ios"', 'kind = "iphone"'))
    assert "devices[0].kind" in message
    assert "'android_13'" in message and "'web'" in message


def test_broken_toml_syntax(tmp_path: Path):
    message = error_for(
        tmp_path, VALID.replace('day = 1.0\ndo = "login"', 'day = 1.0\ndo = "login')
    )
    assert "invalid TOML" in message
    assert "line" in message


def test_key_that_does_not_apply_to_the_step(tmp_path: Path):
    text = VALID.replace('do = "install"', 'do = "install"\nanswer = "grant"')
    message = error_for(tmp_path, text)
    assert "steps[0].answer" in message
    assert "does not apply to do = 'install'" in message


def test_missing_key_for_the_step(tmp_path: Path):
    message = error_for(tmp_path, VALID.replace('user = "kim"\n', ""))
    assert "steps[3].user" in message
    assert "needs 'user'" in message


def test_unknown_device_reference(tmp_path: Path):
    message = error_for(
        tmp_path, VALID.replace('device = "phone"\nuser = "kim"', 'device = "fone"\nuser = "kim"')
    )
    assert "steps[3].device" in message
    assert "unknown device 'fone'" in message


def test_wrong_equals_for_the_check(tmp_path: Path):
    message = error_for(tmp_path, VALID.replace('equals = "kim"', "equals = 3"))
    assert "expect[0].equals" in message
    assert "a string" in message


def test_campaign_table_keys_are_checked(tmp_path: Path):
    text = VALID + expect(2.0, "campaign", "{ displayed = 1, shwon_to = [] }", campaign="c1")
    message = error_for(tmp_path, text)
    assert "expect[1].equals" in message
    assert "shwon_to" in message


def test_check_arguments_are_checked(tmp_path: Path):
    text = VALID + expect(2.0, "audience_size", "1", device="phone")
    message = error_for(tmp_path, text)
    assert "expect[1].device" in message
    assert "does not apply to check = 'audience_size'" in message


def test_web_device_needs_a_browser(tmp_path: Path):
    message = error_for(tmp_path, VALID.replace('kind = "ios"', 'kind = "web"'))
    assert "devices[0].browser" in message
    assert "chrome" in message


def test_several_problems_are_all_listed(tmp_path: Path):
    text = VALID.replace('do = "install"', 'do = "instal"').replace("day = 0.1", "day = -1")
    message = error_for(tmp_path, text)
    assert "2 problems" in message
    assert "steps[0].do" in message and "steps[2].day" in message


def test_a_story_needs_expectations(tmp_path: Path):
    message = error_for(tmp_path, SHARED_PHONE)
    assert "expect: required key is missing" in message


def test_unreadable_file(tmp_path: Path):
    missing = tmp_path / "missing.toml"
    with pytest.raises(ScenarioError, match=r"missing\.toml: cannot read"):
        load_story(missing)


# -- stories built in Python ---------------------------------------------------------------------


def test_python_stories_are_validated_too():
    with pytest.raises(
        StoryError, match=r"steps\[0\]\.do: prune needs \[policy\] prune_after_days"
    ):
        Story("s", (phone(),), (Step(0.0, StepKind.PRUNE),), (Expectation(1, "audience_size", 0),))
    with pytest.raises(StoryError, match=r"expect\[0\]\.device: unknown device 'tablet'"):
        Story("s", (phone(),), (), (Expectation(1, "token_held", True, device="tablet"),))
    with pytest.raises(StoryError, match="does not apply to do = 'logout'"):
        Step(1.0, StepKind.LOGOUT, device="phone", user="kim")
    with pytest.raises(StoryError, match="cause: allowed: app_update"):
        Step(1.0, StepKind.ROTATE, device="phone", cause="uninstall")  # type: ignore[arg-type]
    with pytest.raises(StoryError, match="user: must be an external user id"):
        Step(1.0, StepKind.LOGIN, device="phone", user="anon:phone.1:app")
    with pytest.raises(StoryError, match=r"expect\[1\]\.rule: rule 'R3' is not one of the story's"):
        Story(
            "s",
            (phone(),),
            (),
            (
                Expectation(1, "audience_size", 0, rule="R2"),
                Expectation(1, "audience_size", 0, rule="R3"),
            ),
            rules=("R2",),
        )
    with pytest.raises(StoryError, match="rule: must name a rule"):
        Expectation(1, "audience_size", 0, rule="")


def test_a_python_storys_results_carry_each_expectations_rule():
    story = Story(
        "s",
        (phone(),),
        (Step(0.0, StepKind.LAUNCH, device="phone"), Step(0.5, StepKind.INSTALL, device="phone")),
        (
            Expectation(1.0, "token_held", True, device="phone", rule="R8"),
            Expectation(1.0, "audience_size", 0, rule="R9"),
            Expectation(1.0, "audience_size", 0),
        ),
        rules=("R8", "R9"),
    )
    report = run_story(story)
    assert [(r.check, r.passed, r.rule) for r in report.results] == [
        ("step", False, None),  # an impossible step counts against every rule of the story
        ("token_held", False, "R8"),
        ("audience_size", True, "R9"),
        ("audience_size", True, None),
    ]


def test_a_device_used_before_the_replace_that_creates_it_fails_cleanly():
    story = Story(
        "s",
        (phone(),),
        (
            Step(0.0, StepKind.INSTALL, device="phone"),
            Step(0.5, StepKind.LAUNCH, device="new_phone"),
            Step(1.0, StepKind.REPLACE, device="phone", new_device="new_phone", restore=True),
        ),
        (
            Expectation(0.6, "token_held", False, device="new_phone"),
            Expectation(1.1, "token_held", False, device="new_phone"),
        ),
    )
    report = run_story(story)
    assert [(r.check, r.passed) for r in report.results] == [
        ("step", False),
        ("token_held", False),
        ("token_held", True),
    ]
    assert "does not exist yet" in str(report.results[1].actual)
