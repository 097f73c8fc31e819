"""The ``stale_cause`` and ``engagement_lines`` checks; what ``campaign``'s ``targeted`` counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.metrics.truth import StaleCause
from sim.story import CHECKS, LIVE, NONE, STALE_CAUSES
from tests.story.stories import device, expect, header, play, ready, step

README = Path(__file__).parents[2] / "scenarios" / "stories" / "README.md"


def test_the_stale_causes_are_those_of_the_truth_measure():
    assert set(STALE_CAUSES) == {cause.value for cause in StaleCause}
    assert set(CHECKS["stale_cause"].expects.choices) == {LIVE, NONE, *STALE_CAUSES}


def test_every_stale_cause_and_new_check_is_documented():
    text = README.read_text(encoding="utf-8")
    for word in (*STALE_CAUSES, LIVE, "stale_cause", "engagement_lines", "answer"):
        assert f"`{word}`" in text, word
    assert "counts **tokens** (sends), not profiles" in text


PHONE = header('"R4"') + device("phone", "ios", "ann", sharers='"bo"')


@pytest.mark.parametrize(
    ("world", "steps", "day", "cause"),
    [
        ("", step(0.0, "install", device="phone"), 0.5, "none"),
        ("", ready("phone", "ann"), 0.5, "live"),
        (
            "",
            ready("phone", "ann") + step(1.0, "permission_off", device="phone"),
            1.01,
            "permission_off",
        ),
        (
            "",
            ready("phone", "ann") + step(1.0, "uninstall", device="phone"),
            1.01,
            "uninstalled_not_reported",
        ),
        (
            "apns_lag_days = 1.0",
            ready("phone", "ann") + step(1.0, "uninstall", device="phone"),
            2.5,
            "uninstall_undetected",
        ),
        (
            "",
            ready("phone", "ann") + step(1.0, "rotate", device="phone", cause="app_update"),
            1.01,
            "rotated",
        ),
        (
            "",
            ready("phone", "ann") + step(1.0, "logout", device="phone"),
            1.01,
            "held_for_other_user",
        ),
        ("", ready("phone", "ann") + step(1.0, "login", device="phone", user="bo"), 1.01, "live"),
    ],
    ids=lambda value: value if isinstance(value, str) and value.isidentifier() else None,
)
def test_stale_cause(world: str, steps: str, day: float, cause: str):
    text = PHONE + (f"\n[world]\n{world}\n" if world else "") + steps
    report = play(text + expect(day, "stale_cause", f'"{cause}"', device="phone"))
    assert report.passed, report.diff()


def test_stale_cause_of_web_tokens():
    text = (
        header('"R10"')
        + device("chrome", "web", "cy", browser="chrome")
        + device("safari", "web", "cy", browser="safari")
        + ready("chrome", "cy")
        + ready("safari", "cy")
        + step(1.0, "permission_off", device="safari")
        + expect(1.01, "stale_cause", '"safari_revoked"', device="safari")
        + expect(61.5, "stale_cause", '"expired"', device="chrome")
    )
    report = play(text)
    assert report.passed, report.diff()


def test_stale_cause_refuses_an_unknown_cause():
    from sim.scenario import ScenarioError

    with pytest.raises(
        ScenarioError, match=r"expect\[0\]\.equals: check 'stale_cause' expects one"
    ):
        play(PHONE + ready("phone", "ann") + expect(1.0, "stale_cause", '"zombie"', device="phone"))


def test_engagement_lines_count_every_device_a_profile_was_seen_on():
    text = (
        header('"R11"')
        + device("phone", "ios", "ann", sharers='"bo"')
        + device("laptop", "web", "ann", browser="chrome")
        + ready("phone", "ann")
        + expect(0.02, "engagement_lines", "1", profile="ann")
        + expect(0.02, "engagement_lines", "0", profile="bo")
        + step(0.5, "install", device="laptop")
        + step(0.5, "launch", device="laptop", answer="grant")
        + step(0.6, "login", device="laptop", user="ann")
        + expect(0.61, "engagement_lines", "2", profile="ann")
        + step(1.0, "login", device="phone", user="bo")
        + expect(1.01, "engagement", '"--"', profile="ann", device="phone")
        + expect(1.01, "engagement_lines", "2", profile="ann")
        + expect(1.01, "engagement_lines", "1", profile="bo")
    )
    report = play(text)
    assert report.passed, report.diff()


def test_campaign_targeted_counts_tokens_not_profiles():
    text = (
        header('"R9"')
        + device("phone", "ios", "ann")
        + device("laptop", "web", "ann", browser="chrome")
        + ready("phone", "ann")
        + ready("laptop", "ann")
        + step(1.0, "campaign", campaign="c")
        + expect(1.01, "audience_size", "1")
        + expect(
            1.01,
            "campaign",
            '{ targeted = 2, displayed = 2, shown_to = ["ann", "ann"] }',
            campaign="c",
        )
    )
    report = play(text)
    assert report.passed, report.diff()
