"""The observers read the world's events right: token ages, the inactivity rule, lives."""

from __future__ import annotations

import pytest

from sim.platforms import Provider
from sim.simulation import Simulation
from sim.validation.observers import InactivityRule, Lives, TokenClock, WebDelivery
from sim.world import WorldParams

DAYS = 100.0


@pytest.fixture(scope="module")
def web_world():
    params = WorldParams().changed(
        population={"devices": 400, "platform_share": {"web": 1.0}, "arrivals_per_day": 2.0},
        permission={"web_gesture_opt_in_share": 0.5},
    )
    simulation = Simulation(params, seed=3)
    world = simulation.world
    clock = TokenClock(world)
    web = WebDelivery(world, clock, {"young": (0.0, 30.0), "all": (0.0, 1e9)})
    rule = InactivityRule(world, clock, Provider.WEBPUSH, params.providers.web_inactivity_days)
    lives = Lives(world)
    simulation.run(DAYS)
    yield simulation, clock, web, rule, lives
    simulation.close()


def test_token_ages_and_connections_are_from_the_past(web_world):
    _, clock, *_ = web_world
    assert clock.issued_at, "web subscriptions were issued"
    for token, issued in clock.issued_at.items():
        assert 0.0 <= issued <= DAYS
        assert issued <= clock.last_connect[token] <= DAYS
    token = next(iter(clock.issued_at))
    assert clock.age(token, DAYS) == DAYS - clock.issued_at[token]
    assert clock.age("never-issued", DAYS) is None


def test_web_delivery_is_a_share_of_the_sends_answered_2xx(web_world):
    _, _, web, _, _ = web_world
    assert web.accepted["all"] >= web.accepted["young"] > 0
    share = web.share("all")
    assert share is not None and 0.0 < share <= 1.0
    assert web.share("nothing here") is None


def test_the_web_inactivity_rule_is_applied(web_world):
    _, _, _, rule, _ = web_world
    assert rule.over > 0, "some subscriptions went 60 days without a session"
    assert rule.refused_share() == 1.0
    shortest = rule.shortest()
    assert shortest is not None and shortest >= 60.0


def test_lives_give_a_retention_share_and_quiet_times(web_world):
    simulation, *_, lives = web_world
    retention, cohort = lives.retention(simulation.world.env.now)
    assert cohort > 0 and retention is not None and 0.0 <= retention <= 1.0
    mean = lives.last_open_to_uninstall()
    assert mean is not None and mean > 0.0
    assert all(gap >= 0.0 for gap in lives.quiet_before_uninstall)
