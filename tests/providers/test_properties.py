"""Property test: random histories keep the per-pair token invariants."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.platforms import Provider
from sim.providers import (
    ProviderConfig,
    PushService,
    TokenDeath,
    UnknownTokenError,
    UnsupportedCauseError,
    WeibullLifetime,
    service_for,
)

DEVICES = ("d0", "d1", "d2")
APPS = ("a0", "a1")
BROWSERS = ("chrome", "safari")
KINDS = ("advance", "issue", "invalidate", "connect", "rotate")

Op = tuple[str, int, int, int, TokenDeath, float]
ops = st.tuples(
    st.sampled_from(KINDS),
    st.integers(0, len(DEVICES) - 1),
    st.integers(0, len(APPS) - 1),
    st.integers(0, 40),
    st.sampled_from(list(TokenDeath)),
    st.floats(0.0, 40.0, allow_nan=False),
)


def make_service(provider: Provider) -> PushService:
    # short expiries, lags and lifetimes so that histories of a few dozen steps exercise them;
    # APNs also has silent deaths, answered 200 (zombies) rather than reported
    if provider is Provider.APNS:
        config = ProviderConfig.apns(
            uninstall_lag=(2.0, 5.0),
            reissue_same_token_on_reinstall=True,
            silent_death=WeibullLifetime(30.0, 1.5),
            silent_death_reported=False,
            inactivity_expiry_days=60.0,
        )
    elif provider is Provider.FCM:
        config = ProviderConfig.fcm(inactivity_expiry_days=30.0)
    else:
        config = ProviderConfig.webpush(
            inactivity_expiry_days=20.0, silent_death=WeibullLifetime(15.0, 1.75)
        )
    return service_for(provider, config)


def check_invariants(service: PushService, now: float, pair_of: dict[str, tuple[str, str]]) -> None:
    live: dict[tuple[str, str], list[str]] = {}
    for token, pair in pair_of.items():
        assert service.was_issued(token)
        alive = service.death(token, now=now) is None
        assert service.delivers(now, token) == alive
        status = service.status(now, token)
        assert (status == PushService.DELIVERS) == alive
        assert (status == PushService.REJECTS) == (not service.accepts(now, token))
        assert service.status_changes_at(token) >= now or status == PushService.REJECTS
        if alive:
            assert service.accepts(now, token)  # a delivering token is always accepted
            live.setdefault(pair, []).append(token)
    for device in DEVICES:
        for app in APPS:
            tokens = live.get((device, app), [])
            assert len(tokens) <= 1, f"two live tokens for {(device, app)}: {tokens}"
            current = service.current_token(device, app, now=now)
            assert current == (tokens[0] if tokens else None)
            if current is not None:
                assert service.was_issued(current)
                assert pair_of[current] == (device, app)


@settings(max_examples=150, deadline=None)
@given(
    provider=st.sampled_from(list(Provider)),
    history=st.lists(ops, max_size=40),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_histories_keep_one_live_token_per_pair(
    provider: Provider, history: list[Op], seed: int
) -> None:
    service = make_service(provider)
    rng = np.random.default_rng(seed)
    now = 0.0
    pair_of: dict[str, tuple[str, str]] = {}
    issued_pairs: set[tuple[str, str]] = set()
    for kind, d, a, index, cause, dt in history:
        pair = (DEVICES[d], APPS[a])
        tokens = list(pair_of)
        token = tokens[index % len(tokens)] if tokens else None
        if kind == "advance":
            now += dt
        elif kind == "issue":
            new = service.issue(now, *pair, browser=BROWSERS[index % 2], rng=rng)
            assert pair_of.setdefault(new, pair) == pair
            issued_pairs.add(pair)
            assert service.current_token(*pair) == new
        elif kind == "connect" and token is not None:
            service.connect(now, token)
        elif kind == "invalidate" and token is not None:
            before = service.death(token)
            try:
                service.invalidate(now, token, cause, rng)
            except UnsupportedCauseError:
                assert cause is TokenDeath.PERMISSION_REVOKED
                assert provider is not Provider.WEBPUSH
            if before is not None:
                assert service.death(token) == before  # a death is never rewritten
            else:
                assert service.death(token) is not None or cause is TokenDeath.PERMISSION_REVOKED
        elif kind == "rotate":
            try:
                new = service.rotate(now, *pair, cause, rng=rng)
            except UnsupportedCauseError:
                assert cause is TokenDeath.PERMISSION_REVOKED
            except UnknownTokenError:
                assert pair not in issued_pairs
            else:
                assert pair_of.setdefault(new, pair) == pair
                assert service.current_token(*pair) == new
        check_invariants(service, now, pair_of)
