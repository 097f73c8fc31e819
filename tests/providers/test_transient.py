"""Transient errors: drawn only with a random source, at the configured rate."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from sim.platforms import Provider
from sim.providers import Action, ProviderConfig, classify, service_for

from .support import ScriptedRng

SENDS = 20_000
#: Accept counts within this many binomial standard deviations of the mean: a correct model
#: fails with probability below 1e-6 whatever the seed, a wrong rate (or none) fails for sure.
Z = 5.0


def binomial_ok(count: int, n: int, p: float) -> bool:
    return abs(count - n * p) <= Z * math.sqrt(n * p * (1.0 - p))


@pytest.mark.parametrize(
    ("provider", "codes"),
    [
        (Provider.APNS, {429, 500, 503}),
        (Provider.FCM, {429, 503, 500}),
        (Provider.WEBPUSH, {429, 503}),
    ],
)
@pytest.mark.parametrize("rate", [0.02, 0.3])
def test_transient_rate_matches_config(provider: Provider, codes: set[int], rate: float) -> None:
    service = service_for(
        provider, ProviderConfig.for_provider(provider, transient_error_rate=rate)
    )
    token = service.issue(0.0, "d", "app")
    rng = np.random.default_rng(7)
    statuses = Counter(service.send(1.0, token, "app", rng=rng).status for _ in range(SENDS))
    failures = SENDS - statuses[200]
    assert binomial_ok(failures, SENDS, rate), (failures, SENDS * rate)
    assert set(statuses) - {200} == codes
    for code in codes:  # the second draw picks each code uniformly
        assert binomial_ok(statuses[code], failures, 1.0 / len(codes)), (code, statuses)


def test_transient_errors_are_retry_and_never_kill_the_token() -> None:
    fcm = service_for(Provider.FCM, ProviderConfig.fcm(transient_error_rate=1.0))
    token = fcm.issue(0.0, "d", "app")
    rng = np.random.default_rng(1)
    for _ in range(50):
        assert classify(fcm.send(1.0, token, "app", rng=rng)) is Action.RETRY
    assert fcm.delivers(1.0, token)


def test_no_rng_means_no_transient_errors_and_zero_rate_means_no_draws() -> None:
    flaky = service_for(Provider.APNS, ProviderConfig.apns(transient_error_rate=1.0))
    token = flaky.issue(0.0, "d", "app")
    assert flaky.send(1.0, token, "app").status == 200
    steady = service_for(Provider.APNS)
    token = steady.issue(0.0, "d", "app")
    rng = ScriptedRng([])
    assert steady.send(1.0, token, "app", rng=rng).status == 200
    assert rng.draws == 0


def test_a_send_that_is_not_transient_uses_exactly_one_draw() -> None:
    web = service_for(Provider.WEBPUSH, ProviderConfig.webpush(transient_error_rate=0.5))
    token = web.issue(0.0, "d", "site")
    rng = ScriptedRng([0.5])  # not below the rate
    assert web.send(1.0, token, "site", rng=rng).status == 200
    assert rng.exhausted
