"""Token lifecycle: issue, rotation, uninstall lag, revocation, inactivity, errors."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats

from sim.platforms import Provider
from sim.providers import (
    ApnsService,
    FcmService,
    FixedLag,
    LognormalLag,
    ProviderConfig,
    ProviderError,
    PushService,
    TimeWentBackwardsError,
    TokenDeath,
    UniformLag,
    UnknownTokenError,
    UnsupportedCauseError,
    WebPushService,
    service_for,
)
from sim.providers.answers import Action, classify

from .support import ScriptedRng

# --- factory and token strings -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "cls", "prefix"),
    [
        (Provider.APNS, ApnsService, "apns"),
        (Provider.FCM, FcmService, "fcm"),
        (Provider.WEBPUSH, WebPushService, "wp"),
    ],
)
def test_service_for_builds_the_right_service_with_default_config(
    provider: Provider, cls: type[PushService], prefix: str
) -> None:
    service = service_for(provider)
    assert type(service) is cls
    assert service.provider is provider
    assert service.config == ProviderConfig.for_provider(provider)
    custom = ProviderConfig(transient_error_rate=0.2)
    assert service_for(provider, custom).config is custom
    assert service.issue(0.0, "d", "app").startswith(prefix + "-")


def test_tokens_are_short_deterministic_hex_counters() -> None:
    first, second = FcmService(), FcmService()
    tokens = [first.issue(0.0, f"d{i}", "app") for i in range(17)]
    assert tokens[:3] == ["fcm-0", "fcm-1", "fcm-2"]
    assert tokens[16] == "fcm-10"
    assert [second.issue(0.0, f"d{i}", "app") for i in range(17)] == tokens
    assert len(set(tokens)) == 17


# --- issue and rotation ------------------------------------------------------------------------


@pytest.mark.parametrize("provider", list(Provider))
def test_issuing_again_for_a_pair_rotates_the_old_token(provider: Provider) -> None:
    service = service_for(provider)
    old = service.issue(0.0, "d", "app")
    other_app = service.issue(0.0, "d", "other")
    new = service.issue(5.0, "d", "app")
    assert new != old
    assert service.current_token("d", "app") == new
    assert service.current_token("d", "other") == other_app  # other pairs are untouched
    assert service.death(old) == (TokenDeath.ROTATION, 5.0)
    assert service.death(new) is None
    assert not service.delivers(5.0, old)
    assert not service.accepts(5.0, old)  # rotation is reported at once
    assert classify(service.send(5.0, old, "app")) is Action.REMOVE
    assert service.delivers(5.0, new)


def test_rotate_kills_with_the_given_cause_and_issues_a_new_token() -> None:
    apns = ApnsService()
    old = apns.issue(0.0, "d", "app")
    new = apns.rotate(2.0, "d", "app", TokenDeath.RESTORE)
    assert new != old
    assert apns.death(old) == (TokenDeath.RESTORE, 2.0)
    assert apns.send(2.0, old, "app").timestamp == 2.0
    assert apns.current_token("d", "app") == new


def test_rotate_on_a_pair_whose_token_is_dead_only_issues() -> None:
    fcm = FcmService()
    old = fcm.issue(0.0, "d", "app")
    fcm.invalidate(1.0, old, TokenDeath.DATA_CLEARED)
    new = fcm.rotate(2.0, "d", "app", TokenDeath.APP_UPDATE)
    assert fcm.death(old) == (TokenDeath.DATA_CLEARED, 1.0)  # the first death stands
    assert fcm.current_token("d", "app") == new


def test_rotate_refuses_unknown_pairs_and_permission_revocation() -> None:
    web = WebPushService()
    with pytest.raises(UnknownTokenError, match="no token was ever issued"):
        web.rotate(0.0, "d", "site")
    web.issue(0.0, "d", "site")
    with pytest.raises(UnsupportedCauseError):
        web.rotate(0.0, "d", "site", TokenDeath.PERMISSION_REVOKED)


def test_apns_may_hand_back_the_same_token_after_a_reinstall() -> None:
    apns = ApnsService(ProviderConfig.apns(reissue_same_token_on_reinstall=True))
    token = apns.issue(0.0, "d", "app")
    apns.invalidate(1.0, token, TokenDeath.UNINSTALL)  # the median lag, 10 days, without rng
    assert apns.send(11.0, token, "app").timestamp == 1.0  # the old 410 ...
    again = apns.issue(12.0, "d", "app")
    assert again == token  # ... and the same string, valid again from day 12
    assert apns.death(token) is None
    assert apns.delivers(12.0, token)
    assert apns.send(12.0, token, "app").status == 200
    assert apns.current_token("d", "app") == token
    # a rotation is not a reinstall: the next token is new even with the flag
    rotated = apns.rotate(13.0, "d", "app")
    assert rotated != token
    assert apns.issue(14.0, "d", "app") not in (token, rotated)


@pytest.mark.parametrize("cause", [TokenDeath.UNINSTALL, TokenDeath.REINSTALL])
def test_without_the_flag_a_reinstall_gets_a_new_token(cause: TokenDeath) -> None:
    apns = ApnsService()
    token = apns.issue(0.0, "d", "app")
    apns.invalidate(1.0, token, cause)
    again = apns.issue(2.0, "d", "app")
    assert again != token
    assert apns.death(token) == (cause, 1.0)


# --- uninstall lag -----------------------------------------------------------------------------


def test_apns_first_410_comes_after_the_lag_drawn_for_each_token() -> None:
    """Each token's first 410 comes exactly after its own lag: one draw through the quantile
    function of the default shifted log-normal (shift 7, median 10, sigma 1.35)."""
    apns = ApnsService()
    seed, uninstall_at, step = 2024, 1.0, 0.05
    tokens = [apns.issue(0.0, f"d{i}", "app") for i in range(40)]
    rng = np.random.default_rng(seed)
    for token in tokens:
        apns.invalidate(uninstall_at, token, TokenDeath.UNINSTALL, rng)
    draws = np.random.default_rng(seed).random(len(tokens))
    expected_lags = 7.0 + 3.0 * np.exp(1.35 * stats.norm.ppf(draws))

    first_410: dict[str, float] = {}
    for i in range(int(200 / step)):
        now = uninstall_at + i * step
        for token in tokens:
            if token in first_410:
                continue
            result = apns.send(now, token, "app")
            assert not apns.delivers(now, token)  # dead from the uninstall on
            if result.status == 200:
                assert apns.accepts(now, token)
                continue
            assert (result.status, result.reason, result.timestamp) == (
                410,
                "Unregistered",
                uninstall_at,
            )
            first_410[token] = now - uninstall_at
    lags = np.array([first_410[token] for token in tokens])
    assert np.all(lags >= 7.0)
    assert np.all((lags >= expected_lags - 1e-9) & (lags < expected_lags + step + 1e-9))
    assert lags.max() - lags.min() > 5.0  # drawn per token, not a constant


@pytest.mark.parametrize(
    ("lag", "u", "expected"),
    [
        (UniformLag(9.0, 11.0), 0.25, 9.5),
        (FixedLag(9.0), None, 9.0),
        (LognormalLag(10.0, 1.35, 7.0), 0.5, 10.0),
        (LognormalLag(10.0, 1.35, 7.0), 0.25, 7.0 + 3.0 * math.exp(1.35 * -0.6744897501960817)),
    ],
)
def test_uninstall_lag_is_exact_for_a_given_draw(
    lag: FixedLag | UniformLag | LognormalLag, u: float | None, expected: float
) -> None:
    apns = ApnsService(ProviderConfig.apns(uninstall_lag=lag))
    token = apns.issue(0.0, "d", "app")
    rng = ScriptedRng([] if u is None else [u])  # a fixed lag draws nothing
    apns.invalidate(1.0, token, TokenDeath.UNINSTALL, rng)
    assert rng.exhausted
    assert apns.death(token) == (TokenDeath.UNINSTALL, 1.0)
    assert apns.current_token("d", "app") is None
    assert apns.status_changes_at(token) == pytest.approx(1.0 + expected, rel=1e-12)
    assert apns.send(1.0 + expected - 1e-6, token, "app").status == 200
    assert not apns.delivers(1.0 + expected - 1e-6, token)
    assert apns.send(1.0 + expected + 1e-6, token, "app").timestamp == 1.0


@pytest.mark.parametrize(
    ("lag", "nominal"),
    [
        (FixedLag(4.0), 4.0),
        (UniformLag(9.0, 11.0), 9.0),  # the low end, as the older windows had it
        (LognormalLag(10.0, 1.35, 7.0), 10.0),  # the median
    ],
)
def test_without_a_random_source_the_lag_is_its_nominal_value(
    lag: FixedLag | UniformLag | LognormalLag, nominal: float
) -> None:
    fcm = FcmService(ProviderConfig.fcm(uninstall_lag=lag))
    token = fcm.issue(0.0, "d", "app")
    fcm.invalidate(1.0, token, TokenDeath.UNINSTALL)
    assert fcm.status_changes_at(token) == 1.0 + nominal


def test_other_causes_are_reported_at_once_without_drawing() -> None:
    fcm = FcmService()
    token = fcm.issue(0.0, "d", "app")
    rng = ScriptedRng([])
    fcm.invalidate(1.0, token, TokenDeath.OS_REINSTALL, rng)
    assert rng.draws == 0
    assert fcm.send(1.0, token, "app").status == 404


def test_invalidating_a_dead_token_is_a_no_op() -> None:
    fcm = FcmService()
    token = fcm.issue(0.0, "d", "app")
    fcm.invalidate(1.0, token, TokenDeath.UNINSTALL)
    rng = ScriptedRng([])
    fcm.invalidate(1.5, token, TokenDeath.DATA_CLEARED, rng)
    assert rng.draws == 0
    assert fcm.death(token) == (TokenDeath.UNINSTALL, 1.0)
    assert fcm.accepts(1.5, token)  # still inside the uninstall lag (1.5 days without rng)
    assert not fcm.accepts(2.5, token)


# --- web permission revocation -----------------------------------------------------------------


def test_revoked_safari_subscription_is_a_zombie_until_inactivity_expiry() -> None:
    web = WebPushService()
    token = web.issue(0.0, "d", "site", browser="Safari")
    web.invalidate(1.0, token, TokenDeath.PERMISSION_REVOKED)
    for now in (1.0, 30.0):
        assert web.send(now, token, "site").status == 200
        assert not web.delivers(now, token)
        web.connect(now, token)  # sessions keep the zombie alive at the provider
    assert web.send(90.0, token, "site").status == 200
    assert web.death(token) == (TokenDeath.PERMISSION_REVOKED, 1.0)
    assert web.send(90.01, token, "site").status == 410  # 60 days after the last session
    web.connect(91.0, token)  # a session after that revives nothing
    assert web.send(91.0, token, "site").status == 410


def test_revoked_safari_subscription_without_expiry_answers_200_forever() -> None:
    web = WebPushService(ProviderConfig.webpush(inactivity_expiry_days=None))
    token = web.issue(0.0, "d", "site", browser="safari")
    web.invalidate(1.0, token, TokenDeath.PERMISSION_REVOKED)
    assert web.send(10_000.0, token, "site").status == 200
    assert web.accepts(10_000.0, token)
    assert not web.delivers(10_000.0, token)


@pytest.mark.parametrize("browser", ["chrome", "firefox", "edge", ""])
def test_revoked_subscription_in_other_browsers_is_deleted(browser: str) -> None:
    web = WebPushService()
    token = web.issue(0.0, "d", "site", browser=browser)
    web.invalidate(1.0, token, TokenDeath.PERMISSION_REVOKED)
    assert web.send(1.0, token, "site").status == 410
    assert not web.delivers(1.0, token)


@pytest.mark.parametrize("cls", [ApnsService, FcmService])
def test_native_tokens_refuse_permission_revocation(cls: type[PushService]) -> None:
    service = cls()
    token = service.issue(0.0, "d", "app")
    with pytest.raises(UnsupportedCauseError, match="permission"):
        service.invalidate(1.0, token, TokenDeath.PERMISSION_REVOKED)
    assert service.delivers(1.0, token)


# --- inactivity --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "expiry", "status"),
    [(FcmService, 270.0, 404), (WebPushService, 60.0, 410)],
)
def test_inactivity_expiry_and_connect_resets_the_clock(
    cls: type[PushService], expiry: float, status: int
) -> None:
    service = cls()
    kept = service.issue(0.0, "d1", "app")
    idle = service.issue(0.0, "d2", "app")
    service.connect(expiry / 2, kept)
    assert service.send(expiry, idle, "app").status == 200  # the boundary day still delivers
    assert service.delivers(expiry, idle)
    late = expiry + 0.01
    assert service.send(late, idle, "app").status == status
    assert not service.delivers(late, idle)
    assert service.death(idle) == (TokenDeath.INACTIVITY, expiry)
    assert service.current_token("d2", "app") is None
    assert service.delivers(late, kept)
    assert service.send(late, kept, "app").status == 200
    service.connect(late, idle)  # a connection after expiry does not revive the token
    assert not service.delivers(late, idle)
    fresh = service.issue(late, "d2", "app")  # the app gets a new token instead
    assert fresh != idle
    assert service.death(idle) == (TokenDeath.INACTIVITY, expiry)  # not a rotation
    assert service.send(expiry / 2 + expiry + 0.01, kept, "app").status == status


def test_death_and_current_token_answer_at_the_latest_time_seen_or_at_now() -> None:
    fcm = FcmService()
    token = fcm.issue(0.0, "d", "app")
    # nothing has told the service that day 300 came: at its latest time (0) the token lives
    assert fcm.death(token) is None
    assert fcm.current_token("d", "app") == token
    assert fcm.current_token("d", "app", now=300.0) is None
    assert fcm.death(token) == (TokenDeath.INACTIVITY, 270.0)  # the clock moved on
    assert fcm.death(token, now=301.0) == (TokenDeath.INACTIVITY, 270.0)
    with pytest.raises(TimeWentBackwardsError):
        fcm.death(token, now=1.0)


def test_apns_has_no_inactivity_expiry_by_default() -> None:
    apns = ApnsService()
    token = apns.issue(0.0, "d", "app")
    assert apns.send(5_000.0, token, "app").status == 200
    assert apns.delivers(5_000.0, token)


def test_fcm_marks_tokens_stale_after_30_days_without_killing_them() -> None:
    fcm = FcmService()
    token = fcm.issue(0.0, "d", "app")
    assert not fcm.is_stale(30.0, token)
    assert fcm.is_stale(30.5, token)
    assert fcm.delivers(30.5, token)
    fcm.connect(31.0, token)
    assert not fcm.is_stale(31.0, token)
    apns = ApnsService()  # no stale_after_days: never stale
    assert not apns.is_stale(1_000.0, apns.issue(0.0, "d", "app"))


# --- impossible input --------------------------------------------------------------------------


def test_unknown_tokens_raise_where_a_token_is_required() -> None:
    fcm = FcmService()
    with pytest.raises(UnknownTokenError, match="never issued"):
        fcm.connect(0.0, "fcm-99")
    with pytest.raises(UnknownTokenError):
        fcm.invalidate(0.0, "fcm-99", TokenDeath.UNINSTALL)
    with pytest.raises(UnknownTokenError):
        fcm.death("fcm-99")
    assert not fcm.was_issued("fcm-99")
    assert not fcm.accepts(0.0, "fcm-99")
    assert not fcm.delivers(0.0, "fcm-99")
    assert fcm.current_token("d", "app") is None
    assert issubclass(UnknownTokenError, ProviderError)
    assert issubclass(ProviderError, ValueError)


Call = Callable[[PushService, float, str], object]
CALLS: dict[str, Call] = {
    "issue": lambda s, now, tok: s.issue(now, "d2", "app"),
    "connect": lambda s, now, tok: s.connect(now, tok),
    "invalidate": lambda s, now, tok: s.invalidate(now, tok, TokenDeath.DATA_CLEARED),
    "rotate": lambda s, now, tok: s.rotate(now, "d", "app"),
    "accepts": lambda s, now, tok: s.accepts(now, tok),
    "delivers": lambda s, now, tok: s.delivers(now, tok),
    "send": lambda s, now, tok: s.send(now, tok, "app"),
    "is_stale": lambda s, now, tok: s.is_stale(now, tok),
    "death": lambda s, now, tok: s.death(tok, now=now),
    "current_token": lambda s, now, tok: s.current_token("d", "app", now=now),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_time_going_backwards_raises(name: str) -> None:
    service = FcmService()
    token = service.issue(1.0, "d", "app")
    service.send(5.0, token, "app")
    call = CALLS[name]
    with pytest.raises(TimeWentBackwardsError, match="backwards"):
        call(service, 4.999, token)
    call(service, 5.0, token)  # the same time is fine
    with pytest.raises(ProviderError, match="finite"):
        call(service, float("nan"), token)


def test_negative_payload_is_refused() -> None:
    web = WebPushService()
    token = web.issue(0.0, "d", "site")
    with pytest.raises(ProviderError, match="payload_bytes"):
        web.send(0.0, token, "site", payload_bytes=-1)


# --- when a status would next change (for observers that cache statuses) ------------------------


def test_status_changes_at_the_report_time_or_just_after_the_inactivity_deadline() -> None:
    fcm = FcmService(ProviderConfig.fcm(uninstall_lag=FixedLag(2.0), inactivity_expiry_days=270))
    live = fcm.issue(0.0, "a", "app")
    assert fcm.status_changes_at(live) == 270.0
    fcm.connect(10.0, live)
    assert fcm.status_changes_at(live) == 280.0
    assert fcm.status(280.0, live) == PushService.DELIVERS  # still alive at the deadline
    assert fcm.status(280.5, live) == PushService.REJECTS
    assert fcm.status_changes_at(live) == math.inf  # rejected stays rejected

    dead = fcm.issue(300.0, "b", "app")
    fcm.invalidate(301.0, dead, TokenDeath.UNINSTALL)
    assert fcm.status(301.0, dead) == PushService.ACCEPTS_ONLY
    assert fcm.status_changes_at(dead) == 303.0
    assert fcm.status(302.9, dead) == PushService.ACCEPTS_ONLY
    assert fcm.status(303.0, dead) == PushService.REJECTS
    assert fcm.status_changes_at(dead) == math.inf
    assert fcm.status_changes_at("fcm-never") == math.inf


def test_status_changes_at_is_never_for_a_live_token_without_expiry() -> None:
    apns = ApnsService()
    token = apns.issue(0.0, "a", "app")
    assert apns.status_changes_at(token) == math.inf
    apns.invalidate(5.0, token, TokenDeath.UNINSTALL)
    assert apns.status_changes_at(token) == 5.0 + 10.0  # the median lag, without rng
