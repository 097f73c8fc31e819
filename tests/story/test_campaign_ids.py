"""Two steps of one story must not send under one campaign id: a ``campaign`` check reads one."""

from __future__ import annotations

import pytest

from sim.scenario import ScenarioError
from sim.story import DeviceSpec, Expectation, Step, StepKind, Story, StoryError
from sim.world import DeviceKind
from tests.story.stories import device, expect, header, ready, step, story

BASE = header('"R9"') + device("phone", "ios", "ann") + ready("phone", "ann")


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (
            step(1.0, "campaign", campaign="news") + step(2.0, "campaign", campaign="news"),
            "t.toml: steps[4].campaign: campaign id 'news' is already sent by steps[3]",
        ),
        (
            step(1.0, "probe") + step(2.0, "probe"),
            "steps[4].campaign: campaign id 'probe' is already sent by steps[3]",
        ),
        (
            step(1.0, "campaign", campaign="probe") + step(2.0, "probe"),
            "steps[4].campaign: campaign id 'probe' is already sent by steps[3]",
        ),
        (
            step(1.0, "poisson_campaigns", campaign="c", rate_per_day=1.0, until_day=3.0)
            + step(1.5, "campaign", campaign="x")
            + step(2.0, "campaign", campaign="c"),
            "steps[5].campaign: campaign id 'c' is already sent by steps[3]",
        ),
    ],
)
def test_a_campaign_id_sent_twice_is_refused_naming_both_steps(steps: str, message: str):
    with pytest.raises(ScenarioError) as caught:
        story(BASE + steps + expect(3.0, "audience_size", "1"))
    assert message in str(caught.value)


def test_distinct_ids_are_fine():
    steps = (
        step(1.0, "campaign", campaign="news")
        + step(2.0, "probe")
        + step(2.5, "probe", campaign="night2")
        + step(3.0, "poisson_campaigns", campaign="random", rate_per_day=1.0, until_day=4.0)
    )
    assert len(story(BASE + steps + expect(5.0, "audience_size", "1")).steps) == 7


def test_python_stories_are_refused_too():
    phone = DeviceSpec("phone", DeviceKind.IOS, "ann")
    with pytest.raises(StoryError, match=r"steps\[1\]\.campaign: .* already sent by steps\[0\]"):
        Story(
            "s",
            (phone,),
            (
                Step(1.0, StepKind.CAMPAIGN, campaign="c"),
                Step(2.0, StepKind.CAMPAIGN, campaign="c"),
            ),
            (Expectation(3.0, "audience_size", 0),),
        )
