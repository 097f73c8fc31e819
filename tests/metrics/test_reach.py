"""Truly reachable and reachable but not targeted: one definition everywhere (docs/model.md §5).

*Truly reachable*: a default campaign sent now would reach the profile and show it the push — on
a device where the profile is logged in, the app installed and launched, notifications allowed
and the token valid, the registry holds that token for the profile, as foreground, and targets
the profile (R9). *Reachable but not targeted*, beside it and never in it: not truly reachable,
yet such a device would show the profile a push, and the registry does not target it there (an
unsubscribed profile excepted). Truly reachable ⊆ believed.

The oracle here is written from those words, not from :mod:`sim.metrics.truth`; the time series
(the incremental tally), the full snapshot and the story checks must all agree with it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from sim.metrics.tally import TruthTally
from sim.metrics.timeseries import ALL
from sim.metrics.truth import Reach, snapshot
from sim.platforms import PROVIDER_OF, Platform
from sim.providers import PushService
from sim.scenario import load_scenario
from sim.simulation import Simulation
from sim.story import CHECKS, Step
from sim.story.checks import NOT_TARGETED, TRULY
from sim.story.runner import StoryWorld
from sim.story.steps import STEP_ACTIONS
from sim.world.world import World
from tests.story.stories import device, expect, header, play, ready, step, story

SCENARIOS = Path(__file__).parents[2] / "scenarios"
#: shared devices at small size, with frequent permission toggles and logouts: every way a
#: logged-in person can be shown a push the registry does not send them happens often
SHARED = [
    "population.devices=400",
    "population.arrivals_per_day=2",
    "permission.turn_off_per_day=0.05",
    "permission.turn_on_per_day=0.1",
    "behaviour.logout_per_day=0.05",
    "behaviour.user_switch_per_day=0.3",
]
Keys = tuple[Platform | None, ...]
KEYS: Keys = (*Platform, None)


People = dict[Platform | None, set[str]]


def oracle(world: World, now: float) -> tuple[People, People, set[str]]:
    """Truly reachable and reachable-but-not-targeted profiles, per platform (None: all).

    Also the devices that are not targeted because their token is held as background-only while
    notifications are on (the case a story check once counted as truly reachable).
    """
    registry = world.registry
    truly: People = {key: set() for key in KEYS}
    shown: People = {key: set() for key in KEYS}
    background: set[str] = set()
    for dev in world.devices.values():
        user, token = dev.user, dev.token
        if not (dev.installed and dev.launched and dev.permission.shows) or token is None:
            continue
        service = world.providers[PROVIDER_OF[dev.platform]]
        if service.status(now, token) != PushService.DELIVERS or user is None:
            continue  # nothing shown, or shown to nobody
        record = registry.token(token)
        targeted = (
            record is not None
            and record.device == dev.install_id
            and record.profile == user
            and record.foreground
            and registry.is_targetable(user)
        )
        opted_out = registry.has_profile(user) and not registry.is_targetable(user)
        if targeted:
            truly[dev.platform].add(user)
            truly[None].add(user)
        elif not opted_out:
            shown[dev.platform].add(user)
            shown[None].add(user)
            if record is not None and record.profile == user and not record.foreground:
                background.add(dev.device_id)
    not_targeted = {key: shown[key] - truly[key] for key in KEYS}
    return truly, not_targeted, background


def test_truly_reachable_is_part_of_believed_at_every_sample() -> None:
    """Shared devices, permission toggles and logouts: truly ⊆ believed, per platform and all."""
    scenario = load_scenario(SCENARIOS / "shared_devices.toml", SHARED)
    simulation = Simulation(scenario.world(), seed=7)
    world, app = simulation.world, simulation.world.actions.app
    tally = TruthTally(world)
    not_targeted_seen = 0
    background_seen: set[str] = set()
    for now in np.arange(0.5, 90.0, 1.5):  # off the daily sampling grid
        simulation.run(float(now))
        truly, not_targeted, background = oracle(world, float(now))
        background_seen |= background
        full, kept = snapshot(world, float(now)), tally.snapshot(float(now))
        for key in KEYS:
            believed = set(world.registry.audience(app, platform=key))
            assert truly[key] <= believed, (now, key, truly[key] - believed)
            assert not truly[key] & not_targeted[key]
            for snap in (full, kept):
                assert snap.truly[key] == len(truly[key]), (now, key)
                assert snap.not_targeted[key] == len(not_targeted[key]), (now, key)
                assert snap.truly[key] <= snap.believed[key]
        not_targeted_seen += len(not_targeted[None])
    assert not_targeted_seen > 0, "the run should have people reachable but not targeted"
    assert len(background_seen) > 10, "background-only tokens with notifications back on"
    series = simulation.result().timeseries
    assert set(series["platform"]) == {*(p.value for p in Platform), ALL}
    assert len(series) > 4 * 80
    over = series[series["truly_reachable"] > series["believed_reachable"]]
    assert over.empty, over[["time", "platform", "truly_reachable", "believed_reachable"]]
    assert (series["reachable_not_targeted"] > 0).any()


# -- the story checks say what the time series counts ----------------------------------------


def test_the_story_checks_spell_the_reach_values_of_the_truth_measure() -> None:
    assert (Reach.TRULY.value, Reach.NOT_TARGETED.value) == (TRULY, NOT_TARGETED)
    assert {TRULY, NOT_TARGETED} <= set(CHECKS)


PHONE = header('"R4", "R9"') + device("phone", "ios", "ann")
#: notifications off, reported (the token becomes background-only), then on again in settings
BACK_ON = (
    PHONE
    + ready("phone", "ann")
    + step(1.0, "permission_off", device="phone")
    + step(2.0, "session", device="phone")
    + step(3.0, "permission_on", device="phone")
)


def test_background_only_while_notifications_are_back_on_is_reachable_not_targeted() -> None:
    text = (
        BACK_ON
        + expect(3.01, "foreground", "false", device="phone")
        + expect(3.01, "in_audience", "false", profile="ann")
        + expect(3.01, "truly_reachable", "false", profile="ann")
        + expect(3.01, "reachable_not_targeted", "true", profile="ann")
        + step(4.0, "session", device="phone")
        + expect(4.01, "truly_reachable", "true", profile="ann")
        + expect(4.01, "reachable_not_targeted", "false", profile="ann")
    )
    report = play(text)
    assert report.passed, report.diff()


def test_an_unsubscribed_profile_is_neither_truly_reachable_nor_not_targeted() -> None:
    text = (
        PHONE
        + ready("phone", "ann")
        + step(1.0, "set_subscription", profile="ann", state="unsubscribed")
        + expect(1.01, "truly_reachable", "false", profile="ann")
        + expect(1.01, "reachable_not_targeted", "false", profile="ann")
        + step(2.0, "set_subscription", profile="ann", state="subscribed")
        + expect(2.01, "truly_reachable", "true", profile="ann")
    )
    report = play(text)
    assert report.passed, report.diff()


@pytest.mark.parametrize(
    ("text", "day", "truly", "not_targeted"),
    [
        (PHONE + ready("phone", "ann"), 0.5, 1, 0),
        (BACK_ON, 1.01, 0, 0),  # off, not reported: a zombie, nothing shown
        (BACK_ON, 3.01, 0, 1),  # background-only, notifications back on
        (BACK_ON + step(4.0, "session", device="phone"), 4.01, 1, 0),
    ],
    ids=["targeted", "zombie", "background_only_back_on", "reported"],
)
def test_the_story_checks_and_the_time_series_agree(
    text: str, day: float, truly: int, not_targeted: int
) -> None:
    """A story's world at ``day``: the checks' answers are the snapshot's and the tally's counts."""
    ctx = StoryWorld(story(text + expect(day, "truly_reachable", "true", profile="ann")))
    tally = TruthTally(ctx.world)

    def play_step(planned: Step) -> Callable[[object], None]:
        def play(_event: object) -> None:
            STEP_ACTIONS[planned.do](ctx, planned)

        return play

    for planned in ctx.story.steps:
        ctx.world.env.timeout(planned.day).callbacks.append(play_step(planned))
    ctx.world.run(day)
    (expectation,) = ctx.story.expectations
    checks = {
        Reach.TRULY: CHECKS["truly_reachable"].function(ctx, expectation),
        Reach.NOT_TARGETED: CHECKS["reachable_not_targeted"].function(ctx, expectation),
    }
    assert checks == {Reach.TRULY: bool(truly), Reach.NOT_TARGETED: bool(not_targeted)}
    for snap in (snapshot(ctx.world, day), tally.snapshot(day)):
        assert (snap.truly[None], snap.not_targeted[None]) == (truly, not_targeted)
        assert (snap.truly[Platform.IOS], snap.not_targeted[Platform.IOS]) == (
            truly,
            not_targeted,
        )
