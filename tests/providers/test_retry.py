"""BackoffPolicy: the retry schedule for transient answers (rule R5)."""

from __future__ import annotations

import itertools

import pytest

from sim.platforms import MINUTE, SECOND, Provider
from sim.providers import BackoffPolicy, SendResult

UNAVAILABLE = SendResult(Provider.FCM, 503, "UNAVAILABLE")
QUOTA = SendResult(Provider.FCM, 429, "QUOTA_EXCEEDED")


def test_429_waits_at_least_one_minute_before_the_first_retry() -> None:
    policy = BackoffPolicy()
    assert policy.base < MINUTE  # so the floor, not the schedule, gives the minute
    assert policy.delay(0, QUOTA, jitter=0.0) >= 1 * MINUTE
    assert policy.delay(0, UNAVAILABLE, jitter=0.0) < 1 * MINUTE


def test_retry_after_is_honoured() -> None:
    policy = BackoffPolicy()
    answer = SendResult(Provider.WEBPUSH, 429, retry_after=7 * MINUTE)
    assert policy.delay(0, answer, jitter=0.0) >= 7 * MINUTE
    assert policy.delay(3, answer, jitter=0.99) >= 7 * MINUTE


def test_delays_grow_exponentially_until_the_cap() -> None:
    policy = BackoffPolicy(base=10 * SECOND, factor=2.0, cap=60 * MINUTE)
    delays = [policy.delay(attempt, UNAVAILABLE, jitter=0.5) for attempt in range(12)]
    uncapped = [d for a, d in enumerate(delays) if policy.base * policy.factor**a <= policy.cap]
    assert len(uncapped) >= 5
    for earlier, later in itertools.pairwise(uncapped):
        assert later == pytest.approx(2.0 * earlier)
    assert max(delays) <= policy.cap
    assert delays[-1] == pytest.approx(0.75 * policy.cap)  # capped ceiling, half jitter


def test_jitter_spreads_the_delay_between_half_and_all_of_the_ceiling() -> None:
    policy = BackoffPolicy()
    low = policy.delay(2, UNAVAILABLE, jitter=0.0)
    high = policy.delay(2, UNAVAILABLE, jitter=0.999)
    ceiling = policy.base * policy.factor**2
    assert low == pytest.approx(ceiling / 2)
    assert ceiling / 2 < high < ceiling


@pytest.mark.parametrize("jitter", [-0.01, 1.0, 1.5])
def test_bad_jitter_raises(jitter: float) -> None:
    with pytest.raises(ValueError, match="jitter"):
        BackoffPolicy().delay(0, UNAVAILABLE, jitter=jitter)


def test_negative_attempt_raises_and_budget_is_bounded() -> None:
    policy = BackoffPolicy(max_attempts=3)
    with pytest.raises(ValueError, match="attempt"):
        policy.delay(-1, UNAVAILABLE, jitter=0.0)
    assert [policy.should_retry(a) for a in range(5)] == [True, True, True, False, False]
