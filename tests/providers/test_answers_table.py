"""One test per row of the docs/model.md §2 answer table, plus the rows this model adds.

Each test builds the situation in which the provider gives the answer, checks the answer itself
(status, reason, timestamp) and what ``classify`` makes of it.
"""

from __future__ import annotations

import pytest

from sim.platforms import MINUTE
from sim.providers import (
    Action,
    ApnsService,
    BackoffPolicy,
    FcmService,
    ProviderConfig,
    TokenDeath,
    WebPushService,
)
from sim.providers.answers import legacy_fcm_result

from .support import ScriptedRng, answer

TRANSIENT = 0.5  # rate used with scripted draws: a first draw below it makes the send transient


# --- FCM v1 ------------------------------------------------------------------------------------


def test_fcm_404_unregistered_for_uninstalled_rotated_and_expired_tokens() -> None:
    fcm = FcmService()
    uninstalled = fcm.issue(0.0, "d1", "app")
    rotated = fcm.issue(0.0, "d2", "app")
    idle = fcm.issue(0.0, "d3", "app")
    fcm.invalidate(1.0, uninstalled, TokenDeath.UNINSTALL)  # no rng: lag = low end, 1 day
    fcm.rotate(1.0, "d2", "app")
    for token in (uninstalled, rotated, idle):
        assert answer(fcm.send(300.0, token, "app")) == (404, "UNREGISTERED", None, Action.REMOVE)
    assert fcm.death(uninstalled) == (TokenDeath.UNINSTALL, 1.0)
    assert fcm.death(rotated) == (TokenDeath.ROTATION, 1.0)
    assert fcm.death(idle) == (TokenDeath.INACTIVITY, 270.0)


def test_fcm_403_sender_id_mismatch_for_a_token_of_another_app() -> None:
    fcm = FcmService()
    token = fcm.issue(0.0, "d", "app-a")
    assert answer(fcm.send(1.0, token, "app-b")) == (
        403,
        "SENDER_ID_MISMATCH",
        None,
        Action.REMOVE,
    )
    assert fcm.send(1.0, token, "app-a").status == 200


def test_fcm_400_invalid_argument_removes_only_when_the_payload_is_valid() -> None:
    fcm = FcmService()
    token = fcm.issue(0.0, "d", "app")
    malformed = fcm.send(1.0, "not-a-token", "app")
    assert answer(malformed) == (400, "INVALID_ARGUMENT", None, Action.REMOVE)
    assert malformed.payload_valid
    too_big = fcm.send(1.0, token, "app", payload_bytes=4097)
    assert answer(too_big) == (400, "INVALID_ARGUMENT", None, Action.FLAG_PAYLOAD)
    assert not too_big.payload_valid
    assert fcm.send(1.0, token, "app", payload_bytes=4096).status == 200


def test_fcm_401_third_party_auth_error_keeps_the_token_and_flags_config() -> None:
    fcm = FcmService(ProviderConfig.fcm(credentials_valid=False))
    token = fcm.issue(0.0, "d", "app")
    expected = (401, "THIRD_PARTY_AUTH_ERROR", None, Action.FLAG_CONFIG)
    assert answer(fcm.send(1.0, token, "app")) == expected
    assert answer(fcm.send(1.0, "never-issued", "app")) == expected  # credentials come first
    assert fcm.delivers(1.0, token)


@pytest.mark.parametrize(
    ("second_draw", "status", "reason", "retry_after"),
    [
        (0.0, 429, "QUOTA_EXCEEDED", MINUTE),
        (0.5, 503, "UNAVAILABLE", None),
        (0.99, 500, "INTERNAL", None),
    ],
)
def test_fcm_transient_answers_are_retried(
    second_draw: float, status: int, reason: str, retry_after: float | None
) -> None:
    fcm = FcmService(ProviderConfig.fcm(transient_error_rate=TRANSIENT))
    token = fcm.issue(0.0, "d", "app")
    rng = ScriptedRng([0.1, second_draw])
    result = fcm.send(1.0, token, "app", rng=rng)
    assert rng.exhausted
    assert answer(result) == (status, reason, None, Action.RETRY)
    assert result.retry_after == retry_after
    if status == 429:  # docs/model.md §2: 429 waits at least one minute before the first retry
        assert BackoffPolicy().delay(0, result, jitter=0.0) >= 1 * MINUTE


# --- APNs --------------------------------------------------------------------------------------


def test_apns_410_unregistered_carries_the_time_of_death() -> None:
    apns = ApnsService()
    uninstalled = apns.issue(0.0, "d1", "app")
    rotated = apns.issue(0.0, "d2", "app")
    apns.invalidate(2.0, uninstalled, TokenDeath.UNINSTALL)  # reported from day 11
    apns.rotate(3.0, "d2", "app", TokenDeath.APP_UPDATE)
    assert answer(apns.send(3.0, rotated, "app")) == (410, "Unregistered", 3.0, Action.REMOVE)
    assert answer(apns.send(12.0, uninstalled, "app")) == (
        410,
        "Unregistered",
        2.0,
        Action.REMOVE,
    )


def test_apns_410_expired_token_when_an_inactivity_expiry_is_configured() -> None:
    apns = ApnsService(ProviderConfig.apns(inactivity_expiry_days=100.0))
    token = apns.issue(0.0, "d", "app")
    apns.connect(10.0, token)
    assert apns.send(110.0, token, "app").status == 200
    assert answer(apns.send(110.5, token, "app")) == (410, "ExpiredToken", 110.0, Action.REMOVE)


def test_apns_400_bad_device_token_and_device_token_not_for_topic() -> None:
    apns = ApnsService()
    token = apns.issue(0.0, "d", "app-a")
    assert answer(apns.send(1.0, "apns-ffff", "app-a")) == (
        400,
        "BadDeviceToken",
        None,
        Action.REMOVE,
    )
    assert answer(apns.send(1.0, token, "app-b")) == (
        400,
        "DeviceTokenNotForTopic",
        None,
        Action.REMOVE,
    )
    assert apns.send(1.0, token, "app-a").status == 200


def test_apns_403_invalid_provider_token_keeps_the_token_and_flags_config() -> None:
    apns = ApnsService(ProviderConfig.apns(credentials_valid=False))
    token = apns.issue(0.0, "d", "app")
    assert answer(apns.send(1.0, token, "app")) == (
        403,
        "InvalidProviderToken",
        None,
        Action.FLAG_CONFIG,
    )
    assert apns.delivers(1.0, token)


@pytest.mark.parametrize(
    ("second_draw", "status", "reason", "retry_after"),
    [
        (0.0, 429, "TooManyRequests", MINUTE),
        (0.5, 500, "InternalServerError", None),
        (0.99, 503, "ServiceUnavailable", None),
    ],
)
def test_apns_transient_answers_are_retried(
    second_draw: float, status: int, reason: str, retry_after: float | None
) -> None:
    apns = ApnsService(ProviderConfig.apns(transient_error_rate=TRANSIENT, retry_after_days=MINUTE))
    token = apns.issue(0.0, "d", "app")
    result = apns.send(1.0, token, "app", rng=ScriptedRng([0.1, second_draw]))
    assert answer(result) == (status, reason, None, Action.RETRY)
    assert result.retry_after == retry_after


def test_apns_413_payload_too_large_flags_the_payload() -> None:
    apns = ApnsService()
    token = apns.issue(0.0, "d", "app")
    assert answer(apns.send(1.0, token, "app", payload_bytes=5000)) == (
        413,
        "PayloadTooLarge",
        None,
        Action.FLAG_PAYLOAD,
    )
    assert apns.send(1.0, token, "app", payload_bytes=4096).status == 200


# --- Web Push ----------------------------------------------------------------------------------


def test_webpush_404_for_unknown_and_410_for_expired_or_revoked_subscriptions() -> None:
    web = WebPushService()
    revoked = web.issue(0.0, "d1", "site", browser="chrome")
    cleared = web.issue(0.0, "d2", "site", browser="firefox")
    idle = web.issue(0.0, "d3", "site", browser="chrome")
    web.invalidate(1.0, revoked, TokenDeath.PERMISSION_REVOKED)
    web.invalidate(1.0, cleared, TokenDeath.DATA_CLEARED)
    assert answer(web.send(1.0, "wp-ffff", "site")) == (404, "", None, Action.REMOVE)
    assert answer(web.send(1.0, revoked, "site")) == (410, "", None, Action.REMOVE)
    assert answer(web.send(1.0, cleared, "site")) == (410, "", None, Action.REMOVE)
    assert web.send(1.0, idle, "site").status == 200
    assert answer(web.send(61.0, idle, "site")) == (410, "", None, Action.REMOVE)


def test_webpush_413_payload_too_large_flags_the_payload() -> None:
    web = WebPushService(ProviderConfig.webpush(max_payload_bytes=4078))
    token = web.issue(0.0, "d", "site")
    assert answer(web.send(1.0, token, "site", payload_bytes=4079)) == (
        413,
        "",
        None,
        Action.FLAG_PAYLOAD,
    )
    assert web.send(1.0, token, "site", payload_bytes=4078).status == 200


@pytest.mark.parametrize(
    ("second_draw", "status", "retry_after"), [(0.0, 429, 5 * MINUTE), (0.7, 503, None)]
)
def test_webpush_429_with_retry_after_and_5xx_are_retried(
    second_draw: float, status: int, retry_after: float | None
) -> None:
    config = ProviderConfig.webpush(transient_error_rate=TRANSIENT, retry_after_days=5 * MINUTE)
    web = WebPushService(config)
    token = web.issue(0.0, "d", "site")
    result = web.send(1.0, token, "site", rng=ScriptedRng([0.1, second_draw]))
    assert answer(result) == (status, "", None, Action.RETRY)
    assert result.retry_after == retry_after
    if retry_after is not None:  # Retry-After is honoured by the back-off
        assert BackoffPolicy().delay(0, result, jitter=0.0) >= retry_after


def test_webpush_403_for_bad_credentials_or_another_apps_vapid_key_flags_config() -> None:
    web = WebPushService()
    token = web.issue(0.0, "d", "site-a")
    assert answer(web.send(1.0, token, "site-b")) == (403, "", None, Action.FLAG_CONFIG)
    broken = WebPushService(ProviderConfig.webpush(credentials_valid=False))
    token = broken.issue(0.0, "d", "site-a")
    assert answer(broken.send(1.0, token, "site-a")) == (403, "", None, Action.FLAG_CONFIG)


# --- legacy FCM strings ------------------------------------------------------------------------


def legacy_fcm() -> FcmService:
    return FcmService(ProviderConfig.fcm(legacy_fcm_strings=True))


def test_legacy_fcm_token_errors_map_onto_v1_actions() -> None:
    fcm = legacy_fcm()
    dead = fcm.issue(0.0, "d1", "app")
    live = fcm.issue(0.0, "d2", "app")
    fcm.invalidate(1.0, dead, TokenDeath.DATA_CLEARED)
    cases = [
        (fcm.send(2.0, dead, "app"), (404, "NotRegistered", None, Action.REMOVE)),
        (fcm.send(2.0, "garbage", "app"), (400, "InvalidRegistration", None, Action.REMOVE)),
        (fcm.send(2.0, live, "other"), (403, "MismatchSenderId", None, Action.REMOVE)),
        (
            fcm.send(2.0, live, "app", payload_bytes=10_000),
            (400, "MessageTooBig", None, Action.FLAG_PAYLOAD),
        ),
    ]
    for result, expected in cases:
        assert answer(result) == expected
        # same status as the answers module's own legacy mapping
        assert result.status == legacy_fcm_result(result.reason).status


def test_legacy_fcm_credential_and_transient_errors() -> None:
    broken = FcmService(ProviderConfig.fcm(legacy_fcm_strings=True, credentials_valid=False))
    token = broken.issue(0.0, "d", "app")
    assert answer(broken.send(1.0, token, "app")) == (
        401,
        "InvalidApnsCredential",
        None,
        Action.FLAG_CONFIG,
    )
    flaky = FcmService(ProviderConfig.fcm(legacy_fcm_strings=True, transient_error_rate=TRANSIENT))
    token = flaky.issue(0.0, "d", "app")
    seen = {
        answer(flaky.send(1.0, token, "app", rng=ScriptedRng([0.1, draw])))
        for draw in (0.0, 0.5, 0.99)
    }
    assert seen == {
        (429, "DeviceMessageRateExceeded", None, Action.RETRY),
        (503, "Unavailable", None, Action.RETRY),
        (500, "InternalServerError", None, Action.RETRY),
    }


# --- order of the checks -----------------------------------------------------------------------


def test_send_checks_come_in_the_documented_order() -> None:
    """credentials > transient > payload > unknown token > other app > dead > 200."""
    config = ProviderConfig.apns(transient_error_rate=TRANSIENT)
    apns = ApnsService(config)
    dead = apns.issue(0.0, "d", "app")
    apns.invalidate(0.0, dead, TokenDeath.DATA_CLEARED)
    transient_draws = [0.1, 0.0]
    big = 10_000

    def reason(token: str, app: str, *, payload: int = 10, draws: list[float] | None = None) -> str:
        rng = ScriptedRng(draws) if draws is not None else None
        return apns.send(1.0, token, app, payload_bytes=payload, rng=rng).reason

    assert reason("unknown", "x", payload=big, draws=transient_draws) == "TooManyRequests"
    assert reason("unknown", "x", payload=big, draws=[0.9]) == "PayloadTooLarge"
    assert reason("unknown", "x") == "BadDeviceToken"
    assert reason(dead, "x") == "DeviceTokenNotForTopic"
    assert reason(dead, "app") == "Unregistered"
    broken = ApnsService(ProviderConfig.apns(credentials_valid=False, transient_error_rate=1.0))
    rng = ScriptedRng([])
    assert broken.send(1.0, "unknown", "x", payload_bytes=big, rng=rng).status == 403
    assert rng.draws == 0  # credentials are checked before any draw
