"""``send_with_truth`` is ``send`` and ``delivers`` in one look-up: same answers, draws, errors."""

from __future__ import annotations

import numpy as np
import pytest

from sim.platforms import Provider
from sim.providers import ProviderConfig, service_for
from sim.providers.config import TimeWentBackwardsError, TokenDeath
from sim.providers.service import PushService

from .support import ScriptedRng


def _world(provider: Provider, **config: object) -> tuple[PushService, list[str]]:
    """A service with tokens in every state: alive, zombie, reported, rotated, idle, other app."""
    service = service_for(provider, ProviderConfig.for_provider(provider, **config))
    tokens = [service.issue(0.0, f"d{i}", "app") for i in range(5)]
    tokens.append(service.issue(0.0, "other", "other-app"))
    service.invalidate(1.0, tokens[1], TokenDeath.UNINSTALL)  # answered 200 for the lag: a zombie
    service.invalidate(1.0, tokens[2], TokenDeath.APP_UPDATE)  # reported at once
    tokens.append(service.rotate(1.0, "d3", "app"))  # tokens[3] dies by rotation
    service.connect(2.0, tokens[0])
    tokens.append("never-issued")
    return service, tokens


@pytest.mark.parametrize("provider", list(Provider))
@pytest.mark.parametrize("now", [2.0, 3.0, 40.0, 400.0])
def test_it_agrees_with_send_and_delivers(provider: Provider, now: float) -> None:
    one, tokens = _world(provider, transient_error_rate=0.3)
    other, _ = _world(provider, transient_error_rate=0.3)
    rng_one, rng_other = np.random.default_rng(5), np.random.default_rng(5)
    for token in tokens * 20:
        for app in ("app", "other-app"):
            answer, reaches = one.send_with_truth(now, token, app, rng=rng_one)
            expected = other.send(now, token, app, rng=rng_other)
            assert answer == expected
            assert reaches == (expected.accepted and other.delivers(now, token))
    assert rng_one.random() == rng_other.random()  # the same number of draws


def test_a_zombie_is_accepted_but_not_reached() -> None:
    apns, tokens = _world(Provider.APNS)
    answer, reaches = apns.send_with_truth(2.0, tokens[1], "app")
    assert answer.status == 200 and not reaches
    answer, reaches = apns.send_with_truth(2.0, tokens[0], "app")
    assert answer.status == 200 and reaches


def test_it_draws_like_send_and_keeps_the_error_checks() -> None:
    web = service_for(Provider.WEBPUSH, ProviderConfig.webpush(transient_error_rate=0.5))
    token = web.issue(0.0, "d", "site")
    rng = ScriptedRng([0.1, 0.0, 0.9])  # transient (and its code), then not
    answer, reaches = web.send_with_truth(1.0, token, "site", rng=rng)
    assert answer.status == 429 and not reaches
    answer, reaches = web.send_with_truth(1.0, token, "site", rng=rng)
    assert answer.accepted and reaches and rng.exhausted
    with pytest.raises(TimeWentBackwardsError):
        web.send_with_truth(0.5, token, "site")
    with pytest.raises(ValueError, match="payload_bytes"):
        web.send_with_truth(1.0, token, "site", payload_bytes=-1)
