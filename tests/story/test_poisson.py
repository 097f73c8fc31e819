"""Poisson campaigns: ``campaigns.schedule = "poisson"``, and ``poisson_campaigns`` in stories.

The periodic schedule, the default, is unchanged (the pinned fingerprint of ``tests/perf`` checks
its results to the byte); a Poisson schedule sends ``rate_per_day`` campaigns a day on average,
the same campaigns at the same times in every shard, drawn from a stream of its own.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from sim.scenario import ScenarioError, parse_scenario
from sim.story import Step, StepKind, StoryError
from sim.world import CampaignParams, World, WorldParams
from sim.world.population import Shard
from tests.story.stories import device, expect, header, play, ready, step, story


def campaign_times(
    params: WorldParams, days: float, seed: int = 0, shard: Shard | None = None
) -> list[tuple[float, str]]:
    """(time, id) of every campaign a world with ``params`` sends in ``days``."""
    world = World(params, seed=seed, shard=shard)
    sent: list[tuple[float, str]] = []
    send = world.sender.campaign

    def recording(campaign_id: str, *, foreground: bool = True) -> int:
        sent.append((float(world.env.now), campaign_id))
        return send(campaign_id, foreground=foreground)

    world.sender.campaign = recording  # type: ignore[method-assign]
    world.populate()
    world.run(until=days)
    return sent


def empty(**campaigns: Any) -> WorldParams:
    """No devices (so only campaigns happen), campaigns as given."""
    return WorldParams().changed(population={"devices": 0}, campaigns=campaigns)


# -- the scenario schedule -------------------------------------------------------------------------


def test_the_default_schedule_is_periodic_and_unchanged():
    assert CampaignParams().schedule == "periodic"
    assert campaign_times(empty(), 30.0) == [
        (0.5, "c0001"),
        (7.5, "c0002"),
        (14.5, "c0003"),
        (21.5, "c0004"),
        (28.5, "c0005"),
    ]


def test_a_periodic_schedule_ignores_the_poisson_rate():
    assert campaign_times(empty(rate_per_day=5.0), 30.0, seed=3) == campaign_times(
        empty(), 30.0, seed=3
    )


def test_a_poisson_schedule_sends_rate_per_day_campaigns_a_day_on_average():
    rate, days = 0.5, 4000.0
    counts = [
        len(campaign_times(empty(schedule="poisson", rate_per_day=rate), days, seed=seed))
        for seed in range(3)
    ]
    expected = rate * (days - 0.5)  # from first_campaign_day
    for count in counts:  # Poisson: the standard deviation is the square root of the mean
        assert abs(count - expected) < 4 * math.sqrt(expected), counts
    assert len(set(counts)) > 1  # each seed has its own times


def test_poisson_campaigns_are_numbered_and_start_after_the_first_day():
    sent = campaign_times(empty(schedule="poisson", rate_per_day=2.0, first_campaign_day=3.0), 20.0)
    assert sent and sent[0][0] > 3.0
    assert [name for _, name in sent] == [f"c{n:04d}" for n in range(1, len(sent) + 1)]
    times = [time for time, _ in sent]
    assert times == sorted(times) and len(set(times)) == len(times)


def test_the_gaps_are_exponential():
    times = [t for t, _ in campaign_times(empty(schedule="poisson", rate_per_day=1.0), 3000.0)]
    gaps = np.diff(times)
    assert gaps.mean() == pytest.approx(1.0, rel=0.1)
    assert gaps.std() == pytest.approx(1.0, rel=0.1)  # an exponential's spread is its mean


def test_a_poisson_schedule_is_the_same_for_a_seed_and_in_every_shard():
    params = empty(schedule="poisson", rate_per_day=1.0)
    first = campaign_times(params, 60.0, seed=5)
    assert first == campaign_times(params, 60.0, seed=5)
    assert first != campaign_times(params, 60.0, seed=6)
    assert first == campaign_times(params, 60.0, seed=5, shard=Shard(0, 3))
    assert first == campaign_times(params, 60.0, seed=5, shard=Shard(2, 3))


def test_a_poisson_rate_of_zero_sends_nothing():
    assert campaign_times(empty(schedule="poisson", rate_per_day=0.0), 100.0) == []


def test_a_poisson_run_sends_campaigns_to_its_audience():
    from sim.simulation import simulate

    params = WorldParams().changed(
        population={"devices": 60}, campaigns={"schedule": "poisson", "rate_per_day": 1.0}
    )
    sends = simulate(params, days=15.0, seed=2).sends
    campaigns = sends[sends["kind"] == "campaign"]
    assert campaigns["campaign"].nunique() > 3
    assert campaigns["targeted"].sum() > 0


SCENARIO = '[scenario]\nname = "p"\n\n[campaigns]\n'


def test_scenario_files_take_a_poisson_schedule():
    scenario = parse_scenario(SCENARIO + 'schedule = "poisson"\nrate_per_day = 0.5\n', "p.toml")
    assert (scenario.campaigns.schedule, scenario.campaigns.rate_per_day) == ("poisson", 0.5)
    assert parse_scenario(SCENARIO + 'schedule = "poisson"\n').campaigns.rate_per_day == 1 / 7


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ('schedule = "weekly"', "p.toml: campaigns.schedule: Input should be 'periodic' or"),
        ("rate_per_day = 25", "campaigns.rate_per_day: Input should be less than or equal to 24"),
        ("rate_per_day = -1", "campaigns.rate_per_day: Input should be greater than or equal"),
        ("rate_per_day = nan", "campaigns.rate_per_day"),
        ('rate_per_day = "1"', "campaigns.rate_per_day"),
    ],
)
def test_bad_poisson_keys_are_refused(keys: str, message: str):
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(SCENARIO + keys + "\n", "p.toml")
    assert message in str(caught.value)


# -- the story step ------------------------------------------------------------------------------

ANN = header('"R9"') + device("phone", "ios", "ann") + ready("phone", "ann")


def poisson_count(seed: int, rate: float, start: float, until: float) -> int:
    """How many campaigns the step's generator draws between ``start`` and ``until``."""
    rng = np.random.Generator(np.random.PCG64(seed))
    now, count = start, 0
    while True:
        now += float(rng.exponential(1.0 / rate))
        if now > until:
            return count
        count += 1


def targeted(seed: int | None, rate: float = 2.0, until: float = 8.0) -> int:
    """Sends of a ``poisson_campaigns`` step from day 1 (one device: one send a campaign)."""
    keys: dict[str, Any] = {"campaign": "news", "rate_per_day": rate, "until_day": until}
    if seed is not None:
        keys["seed"] = seed
    text = ANN + step(1.0, "poisson_campaigns", **keys)
    report = play(text + expect(9.0, "campaign", "{ targeted = 0 }", campaign="news"))
    actual = report.results[-1].actual
    assert actual == {"targeted": actual["targeted"]}, report.diff()
    counts = play(text + expect(9.0, "campaign", "{ displayed = 0 }", campaign="news"))
    assert counts.results[-1].actual == {"displayed": actual["targeted"]}  # every one shown
    return int(actual["targeted"])


def test_poisson_campaigns_in_a_story_follow_the_seed():
    for seed in (0, 1, 7):
        assert targeted(seed) == poisson_count(seed, 2.0, 1.0, 8.0)
    assert targeted(None) == targeted(0)
    assert len({targeted(seed) for seed in range(6)}) > 1


def test_poisson_campaigns_in_a_story_average_the_rate():
    counts = [poisson_count(seed, 2.0, 1.0, 8.0) for seed in range(400)]
    assert np.mean(counts) == pytest.approx(14.0, rel=0.05)


def test_a_poisson_story_step_with_a_campaign_check():
    n = poisson_count(3, 1.5, 0.5, 6.0)
    text = (
        ANN
        + step(0.5, "poisson_campaigns", campaign="c", rate_per_day=1.5, until_day=6.0, seed=3)
        + expect(7.0, "campaign", f"{{ targeted = {n}, displayed = {n} }}", campaign="c")
    )
    report = play(text)
    assert report.passed, report.diff()


def test_background_poisson_campaigns():
    text = (
        ANN
        + step(
            1.0,
            "poisson_campaigns",
            campaign="c",
            rate_per_day=3.0,
            until_day=3.0,
            foreground=False,
            seed=1,
        )
        + expect(4.0, "campaign", "{ displayed = 0, dropped = 0 }", campaign="c")
    )
    report = play(text)
    assert report.passed, report.diff()
    n = poisson_count(1, 3.0, 1.0, 3.0)
    assert report.results[0].actual == {"displayed": 0, "dropped": 0}
    assert n > 0


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"rate_per_day": 1.0, "until_day": 1.0}, "steps[3].until_day: the campaigns run from"),
        ({"rate_per_day": 0.0, "until_day": 3.0}, "steps[3].rate_per_day: Input should be greater"),
        ({"rate_per_day": 25.0, "until_day": 3.0}, "steps[3].rate_per_day: Input should be less"),
        ({"rate_per_day": 1.0, "until_day": 3.0, "seed": -1}, "steps[3].seed"),
        ({"rate_per_day": 1.0}, "steps[3].until_day: do = 'poisson_campaigns' needs 'until_day'"),
        ({"until_day": 3.0}, "steps[3].rate_per_day: do = 'poisson_campaigns' needs"),
        ({"rate_per_day": 1.0, "until_day": 3.0, "device": "phone"}, "steps[3].device: does not"),
    ],
)
def test_bad_poisson_steps_are_refused(keys: dict[str, Any], message: str):
    text = ANN + step(1.0, "poisson_campaigns", campaign="c", **keys)
    with pytest.raises(ScenarioError) as caught:
        story(text + expect(4.0, "audience_size", "1"))
    assert message in str(caught.value)


def test_python_poisson_steps_are_checked_too():
    kind = StepKind.POISSON_CAMPAIGNS
    with pytest.raises(StoryError, match="rate_per_day: must be a number > 0 and <= 24"):
        Step(1.0, kind, campaign="c", rate_per_day=math.inf, until_day=2.0)
    with pytest.raises(StoryError, match="until_day: the campaigns run from the step's day"):
        Step(1.0, kind, campaign="c", rate_per_day=1.0, until_day=0.5)
    with pytest.raises(StoryError, match="seed: must be a whole number >= 0"):
        Step(1.0, kind, campaign="c", rate_per_day=1.0, until_day=2.0, seed=1.5)  # type: ignore[arg-type]
