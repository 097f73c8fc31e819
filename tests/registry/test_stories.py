"""Story tests of the registry: short scripted timelines per rule of docs/model.md §1–§2.

Each test reads as a story ("day 0 Charlie installs…, day 1 Kim logs in on Charlie's phone…") and
fails if the rule it names were broken. Time is in days.
"""

import math

import pytest

from sim.platforms import HOUR, Platform, Provider
from sim.providers.answers import Action, SendResult, legacy_fcm_result
from sim.registry import (
    Cause,
    Change,
    EngagementLine,
    InvalidSubscriptionStateError,
    PlatformNotSupportedError,
    Registry,
    RegistryError,
    RegistryPolicy,
    SubscriptionState,
    TimeWentBackwardsError,
    TokenEvent,
    TokenRecord,
    UnknownAppError,
    UnknownProfileError,
    anonymous_profile_id,
    engagement_view,
    export_profile,
)

SHOP = "shop"  # a mobile app published on iOS and Android
SITE = "site"  # a website using Web Push

OPTED_IN = SubscriptionState.OPTED_IN
SUBSCRIBED = SubscriptionState.SUBSCRIBED
UNSUBSCRIBED = SubscriptionState.UNSUBSCRIBED


# -- helpers ---------------------------------------------------------------------------------


def new_registry(policy: RegistryPolicy | None = None, *, tracking: bool = False) -> Registry:
    reg = Registry(policy)
    reg.add_app(SHOP, ["ios", "android"], uninstall_tracking=tracking)
    reg.add_app(SITE, ["web"])
    return reg


def record_events(reg: Registry) -> list[TokenEvent]:
    log: list[TokenEvent] = []
    reg.subscribe(log.append)
    return log


def summary(events: list[TokenEvent]) -> list[tuple[str, str, str, str]]:
    """(change, cause, token, profile) of each event, for compact assertions."""
    return [(e.change.value, e.cause.value, e.token, e.profile) for e in events]


def held(reg: Registry, token: str) -> TokenRecord:
    record = reg.token(token)
    assert record is not None, f"the registry should hold {token!r}"
    return record


def ios_session(
    reg: Registry,
    now: float,
    *,
    device: str = "phone",
    token: str | None = "tok",
    foreground: bool = True,
    provisional: bool = False,
) -> TokenRecord | None:
    return reg.session_start(
        now,
        device=device,
        app=SHOP,
        platform="ios",
        token=token,
        foreground=foreground,
        provisional=provisional,
    )


def android_session(
    reg: Registry,
    now: float,
    *,
    device: str = "pixel",
    token: str | None = "fcm-tok",
    foreground: bool = True,
    implicit: bool = False,
) -> TokenRecord | None:
    return reg.session_start(
        now,
        device=device,
        app=SHOP,
        platform="android",
        token=token,
        foreground=foreground,
        implicit_permission=implicit,
    )


def web_session(
    reg: Registry, now: float, *, device: str = "laptop", token: str | None = "web-tok"
) -> TokenRecord | None:
    # a web token only exists after an explicit opt-in, so it is always shown
    return reg.session_start(
        now, device=device, app=SITE, platform="web", token=token, foreground=token is not None
    )


def state_of(reg: Registry, profile_id: str) -> SubscriptionState:
    return reg.profile(profile_id).state


# -- R1: one token per device and app ------------------------------------------------------


class TestOneTokenPerDeviceAndApp:
    def test_a_second_token_for_the_same_phone_and_app_replaces_the_first(self):
        """R1: day 0 the phone registers tok-1; day 1 the provider rotated it and the SDK reports
        tok-2: tok-2 replaces tok-1 (remove REPLACED, then add)."""
        reg = new_registry()
        log = record_events(reg)
        ios_session(reg, 0.0, token="tok-1")
        ios_session(reg, 1.0, token="tok-2")

        assert reg.token("tok-1") is None
        assert held(reg, "tok-2").device == "phone"
        assert reg.token_for("phone", SHOP) is held(reg, "tok-2")
        anon = anonymous_profile_id("phone", SHOP)
        assert list(reg.profile(anon).tokens.values()) == ["tok-2"]
        assert summary(log) == [
            ("add", "registered", "tok-1", anon),
            ("remove", "replaced", "tok-1", anon),
            ("add", "registered", "tok-2", anon),
        ]
        assert reg.token_count == 1

    def test_the_same_token_reported_from_another_device_moves_there(self):
        """R1: a token string reported for another device (a restore onto a new phone) leaves its
        old slot (remove REASSIGNED) and is registered for the new one."""
        reg = new_registry()
        reg.change_user(0.0, device="old-phone", app=SHOP, user="ann")
        reg.change_user(0.0, device="new-phone", app=SHOP, user="ann")
        ios_session(reg, 0.0, device="old-phone", token="tok")
        log = record_events(reg)
        ios_session(reg, 1.0, device="new-phone", token="tok")

        assert reg.token_for("old-phone", SHOP) is None
        assert held(reg, "tok").device == "new-phone"
        assert reg.token_count == 1
        assert [(e.change, e.cause, e.device) for e in log] == [
            (Change.REMOVE, Cause.REASSIGNED, "old-phone"),
            (Change.ADD, Cause.REGISTERED, "new-phone"),
        ]

    def test_each_app_on_a_device_keeps_its_own_token(self):
        """R1 is per (device, app): the app and the website on one device each hold a token."""
        reg = new_registry()
        ios_session(reg, 0.0, device="phone", token="app-tok")
        web_session(reg, 0.0, device="phone", token="web-tok")
        assert held(reg, "app-tok").app == SHOP
        assert held(reg, "web-tok").app == SITE
        assert reg.token_count == 2

    def test_the_same_token_at_the_next_session_is_not_a_new_registration(self):
        """R1: re-reporting the held token at every session start adds nothing."""
        reg = new_registry()
        ios_session(reg, 0.0, token="tok")
        log = record_events(reg)
        for day in (1.0, 2.0, 3.0):
            ios_session(reg, day, token="tok")
        assert log == []
        assert held(reg, "tok").created_at == 0.0
        assert held(reg, "tok").last_session_at == 3.0


# -- R2 / R3: Charlie and Kim share a phone -----------------------------------------------


def charlies_phone(policy: RegistryPolicy | None = None) -> tuple[Registry, list[TokenEvent]]:
    """Day 0: Charlie installs the app on his phone, logs in and allows notifications."""
    reg = new_registry(policy)
    reg.change_user(0.0, device="charlie-phone", app=SHOP, user="charlie")
    ios_session(reg, 0.0, device="charlie-phone", token="charlie-tok")
    assert held(reg, "charlie-tok").profile == "charlie"
    assert state_of(reg, "charlie") is OPTED_IN
    return reg, record_events(reg)


class TestCharlieAndKimShareAPhone:
    def test_kim_logging_in_on_charlies_phone_moves_the_token_to_kim(self):
        """R2: day 1 Kim logs in on Charlie's phone: the token is removed from Charlie and added to
        Kim (cause MOVED); Charlie is no longer in the audience, Kim is."""
        reg, log = charlies_phone()
        reg.change_user(1.0, device="charlie-phone", app=SHOP, user="kim")

        assert held(reg, "charlie-tok").profile == "kim"
        assert summary(log) == [
            ("remove", "moved", "charlie-tok", "charlie"),
            ("add", "moved", "charlie-tok", "kim"),
        ]
        assert reg.audience(SHOP) == ["kim"]
        assert reg.profile("charlie").tokens == {}
        assert engagement_view(reg, "charlie") == [EngagementLine("charlie-phone", "--")]
        assert engagement_view(reg, "kim") == [EngagementLine("charlie-phone", "Foreground: shop")]
        # Charlie's subscription state is his own and unchanged; Kim's is her default
        assert state_of(reg, "charlie") is OPTED_IN
        assert state_of(reg, "kim") is SUBSCRIBED

    def test_kim_logging_out_leaves_the_token_with_kim(self):
        """R3: day 2 Kim logs out and nobody logs in: the token stays with Kim, even across the
        next session start and a token rotation."""
        reg, log = charlies_phone()
        reg.change_user(1.0, device="charlie-phone", app=SHOP, user="kim")
        log.clear()
        reg.log_out(2.0, device="charlie-phone", app=SHOP)
        assert log == []
        assert held(reg, "charlie-tok").profile == "kim"

        ios_session(reg, 3.0, device="charlie-phone", token="charlie-tok")
        assert held(reg, "charlie-tok").profile == "kim"
        ios_session(reg, 4.0, device="charlie-phone", token="rotated-tok")
        assert held(reg, "rotated-tok").profile == "kim"
        assert reg.audience(SHOP) == ["kim"]
        assert reg.current_user("charlie-phone", SHOP) == "kim"

    def test_only_charlie_logging_in_again_moves_the_token_back(self):
        """R2: the token moves back to Charlie when, and only when, Charlie logs in again."""
        reg, log = charlies_phone()
        reg.change_user(1.0, device="charlie-phone", app=SHOP, user="kim")
        reg.log_out(2.0, device="charlie-phone", app=SHOP)
        ios_session(reg, 3.0, device="charlie-phone", token="charlie-tok")
        assert held(reg, "charlie-tok").profile == "kim"
        log.clear()

        reg.change_user(4.0, device="charlie-phone", app=SHOP, user="charlie")
        assert held(reg, "charlie-tok").profile == "charlie"
        assert summary(log) == [
            ("remove", "moved", "charlie-tok", "kim"),
            ("add", "moved", "charlie-tok", "charlie"),
        ]
        assert reg.audience(SHOP) == ["charlie"]

    def test_logging_in_again_as_the_owner_moves_nothing(self):
        """R2: changeUser with the id already logged in is not a change of user."""
        reg, log = charlies_phone()
        reg.change_user(1.0, device="charlie-phone", app=SHOP, user="charlie")
        assert log == []
        assert held(reg, "charlie-tok").profile == "charlie"

    def test_the_first_login_moves_the_anonymous_token_to_the_user(self):
        """R2: a token registered before anyone logged in moves to the first user to log in."""
        reg = new_registry()
        ios_session(reg, 0.0, device="phone", token="tok")
        anon = anonymous_profile_id("phone", SHOP)
        assert held(reg, "tok").profile == anon
        log = record_events(reg)
        reg.change_user(0.5, device="phone", app=SHOP, user="ann")
        assert held(reg, "tok").profile == "ann"
        assert summary(log) == [("remove", "moved", "tok", anon), ("add", "moved", "tok", "ann")]

    def test_a_login_on_one_app_does_not_move_another_apps_token(self):
        """R2 is per (device, app): logging in on the website leaves the app's token alone."""
        reg, _ = charlies_phone()
        reg.change_user(1.0, device="charlie-phone", app=SITE, user="kim")
        assert held(reg, "charlie-tok").profile == "charlie"

    def test_with_detach_on_logout_logging_out_removes_the_token(self):
        """R3 policy switch: logout removes the device's token; sessions while logged out register
        nothing; the next login's session registers the token for the new user."""
        reg, log = charlies_phone(RegistryPolicy(detach_on_logout=True))
        reg.change_user(1.0, device="charlie-phone", app=SHOP, user="kim")
        log.clear()

        reg.log_out(2.0, device="charlie-phone", app=SHOP)
        assert summary(log) == [("remove", "logged_out", "charlie-tok", "kim")]
        assert reg.token_for("charlie-phone", SHOP) is None
        assert reg.audience(SHOP) == []
        assert reg.current_user("charlie-phone", SHOP) is None

        log.clear()
        assert ios_session(reg, 3.0, device="charlie-phone", token="charlie-tok") is None
        assert log == []
        assert reg.token_count == 0
        assert reg.audience(SHOP, foreground_only=False) == []

        reg.change_user(4.0, device="charlie-phone", app=SHOP, user="charlie")
        ios_session(reg, 4.0, device="charlie-phone", token="charlie-tok")
        assert held(reg, "charlie-tok").profile == "charlie"
        assert summary(log) == [("add", "registered", "charlie-tok", "charlie")]


# -- R4: session start reports permission --------------------------------------------------


class TestPermissionIsReportedAtSessionStart:
    def test_turning_notifications_off_is_seen_only_at_the_next_session(self):
        """R4: day 1 the user turns notifications off in OS settings. Until the next session
        start the registry still believes the token is foreground; day 2 the session reports it
        and the token becomes background-only."""
        reg = new_registry()
        reg.change_user(0.0, device="phone", app=SHOP, user="ann")
        ios_session(reg, 0.0, token="tok", foreground=True)
        log = record_events(reg)

        # day 1: permission off in settings -- nothing reaches the registry
        assert reg.audience(SHOP) == ["ann"]
        assert engagement_view(reg, "ann") == [EngagementLine("phone", "Foreground: shop")]

        ios_session(reg, 2.0, token="tok", foreground=False)
        assert held(reg, "tok").foreground is False
        assert reg.audience(SHOP) == []
        assert reg.audience_size(SHOP) == 0
        assert reg.audience(SHOP, foreground_only=False) == ["ann"]
        assert engagement_view(reg, "ann") == [EngagementLine("phone", "Background: shop")]
        assert export_profile(reg, "ann")["push_tokens"][0]["notifications_enabled"] is False
        assert [(e.change, e.cause, e.foreground, e.time) for e in log] == [
            (Change.UPDATE, Cause.PERMISSION, False, 2.0)
        ]
        # the subscription state is the user's: turning notifications off does not change it
        assert state_of(reg, "ann") is OPTED_IN

    def test_re_enabling_notifications_is_seen_at_the_next_session(self):
        """R4: re-enabled in settings on day 3, foreground again at the day-4 session start."""
        reg = new_registry()
        reg.change_user(0.0, device="phone", app=SHOP, user="ann")
        ios_session(reg, 0.0, token="tok", foreground=True)
        ios_session(reg, 2.0, token="tok", foreground=False)
        reg.set_subscription(2.5, "ann", SUBSCRIBED)
        # day 3: re-enabled in settings, not yet reported
        assert reg.audience(SHOP) == []
        ios_session(reg, 4.0, token="tok", foreground=True)
        assert held(reg, "tok").foreground is True
        assert reg.audience(SHOP) == ["ann"]
        assert engagement_view(reg, "ann") == [EngagementLine("phone", "Foreground: shop")]
        # re-granting OS permission opts the user in again
        assert state_of(reg, "ann") is OPTED_IN

    def test_allowing_notifications_at_the_prompt_opts_the_user_in(self):
        """R4: granting OS permission sets the profile to opted_in automatically."""
        reg = new_registry()
        reg.change_user(0.0, device="phone", app=SHOP, user="ann")
        assert state_of(reg, "ann") is SUBSCRIBED
        ios_session(reg, 0.0, token="tok", foreground=True)
        assert state_of(reg, "ann") is OPTED_IN

    def test_denying_notifications_registers_a_background_token_and_keeps_subscribed(self):
        """R4: a denied prompt still registers the token, background-only; state unchanged."""
        reg = new_registry()
        reg.change_user(0.0, device="phone", app=SHOP, user="ann")
        ios_session(reg, 0.0, token="tok", foreground=False)
        assert held(reg, "tok").foreground is False
        assert state_of(reg, "ann") is SUBSCRIBED
        assert reg.audience(SHOP) == []
        assert reg.audience(SHOP, foreground_only=False) == ["ann"]

    def test_android_12_implicit_permission_keeps_the_user_subscribed(self):
        """R4: on Android 12 and below permission is implicit: foreground, but not opted_in."""
        reg = new_registry()
        reg.change_user(0.0, device="pixel", app=SHOP, user="bob")
        android_session(reg, 0.0, token="fcm-tok", foreground=True, implicit=True)
        assert held(reg, "fcm-tok").foreground is True
        assert state_of(reg, "bob") is SUBSCRIBED
        assert reg.audience(SHOP) == ["bob"]

    def test_android_13_opt_in_after_a_background_registration(self):
        """R4: Android 13+ registers background-only at first session; allowing notifications
        later makes it foreground at the next session and opts the user in."""
        reg = new_registry()
        reg.change_user(0.0, device="pixel", app=SHOP, user="bob")
        android_session(reg, 0.0, token="fcm-tok", foreground=False)
        assert state_of(reg, "bob") is SUBSCRIBED
        android_session(reg, 1.0, token="fcm-tok", foreground=True)
        assert held(reg, "fcm-tok").foreground is True
        assert state_of(reg, "bob") is OPTED_IN

    def test_provisional_authorisation_counts_as_foreground_but_does_not_opt_in(self):
        """R4 / §3: iOS provisional (quiet) authorisation counts as foreground; it is not an
        explicit grant, so the profile stays subscribed."""
        reg = new_registry()
        reg.change_user(0.0, device="phone", app=SHOP, user="ann")
        ios_session(reg, 0.0, token="tok", foreground=False, provisional=True)
        record = held(reg, "tok")
        assert record.foreground is True
        assert record.provisional is True
        assert state_of(reg, "ann") is SUBSCRIBED
        assert reg.audience(SHOP) == ["ann"]
        assert engagement_view(reg, "ann") == [EngagementLine("phone", "Foreground: shop")]

    def test_upgrading_provisional_to_full_permission_opts_the_user_in(self):
        """R4: a user on provisional authorisation who later allows notifications at the prompt
        has granted OS permission: the next session start sets opted_in."""
        reg = new_registry()
        reg.change_user(0.0, device="phone", app=SHOP, user="ann")
        ios_session(reg, 0.0, token="tok", foreground=False, provisional=True)
        log = record_events(reg)
        ios_session(reg, 1.0, token="tok", foreground=True, provisional=False)
        assert held(reg, "tok").provisional is False
        assert held(reg, "tok").foreground is True
        assert [(e.change, e.cause, e.provisional) for e in log] == [
            (Change.UPDATE, Cause.PERMISSION, False)
        ]
        assert state_of(reg, "ann") is OPTED_IN

    def test_without_refresh_on_session_start_a_permission_change_is_missed(self):
        """Policy refresh_on_session_start=False: the SDK only reports new token strings, so a
        permission change on the same token never reaches the registry."""
        reg = new_registry(RegistryPolicy(refresh_on_session_start=False))
        reg.change_user(0.0, device="phone", app=SHOP, user="ann")
        ios_session(reg, 0.0, token="tok", foreground=True)
        log = record_events(reg)
        ios_session(reg, 2.0, token="tok", foreground=False)
        assert held(reg, "tok").foreground is True
        assert reg.audience(SHOP) == ["ann"]
        assert log == []
        # a new token string is still registered, with the permission reported with it
        ios_session(reg, 3.0, token="tok-2", foreground=False)
        assert held(reg, "tok-2").foreground is False
        assert reg.audience(SHOP) == []


# -- R5: provider responses ----------------------------------------------------------------

#: docs/model.md §2, row by row: (provider, status, reason, action the registry takes)
SECTION_2_ROWS: list[tuple[Provider, int, str, Action]] = [
    (Provider.FCM, 404, "UNREGISTERED", Action.REMOVE),
    (Provider.FCM, 403, "SENDER_ID_MISMATCH", Action.REMOVE),
    (Provider.FCM, 400, "INVALID_ARGUMENT", Action.REMOVE),
    (Provider.FCM, 401, "THIRD_PARTY_AUTH_ERROR", Action.FLAG_CONFIG),
    (Provider.FCM, 429, "QUOTA_EXCEEDED", Action.RETRY),
    (Provider.FCM, 503, "UNAVAILABLE", Action.RETRY),
    (Provider.FCM, 500, "INTERNAL", Action.RETRY),
    (Provider.APNS, 410, "Unregistered", Action.REMOVE),
    (Provider.APNS, 410, "ExpiredToken", Action.REMOVE),
    (Provider.APNS, 400, "BadDeviceToken", Action.REMOVE),
    (Provider.APNS, 400, "DeviceTokenNotForTopic", Action.REMOVE),
    (Provider.APNS, 403, "InvalidProviderToken", Action.FLAG_CONFIG),
    (Provider.APNS, 403, "ExpiredProviderToken", Action.FLAG_CONFIG),
    (Provider.APNS, 429, "TooManyRequests", Action.RETRY),
    (Provider.APNS, 500, "InternalServerError", Action.RETRY),
    (Provider.APNS, 503, "ServiceUnavailable", Action.RETRY),
    (Provider.WEBPUSH, 404, "", Action.REMOVE),
    (Provider.WEBPUSH, 410, "", Action.REMOVE),
    (Provider.WEBPUSH, 413, "", Action.FLAG_PAYLOAD),
    (Provider.WEBPUSH, 429, "", Action.RETRY),
    (Provider.WEBPUSH, 500, "", Action.RETRY),
    (Provider.WEBPUSH, 502, "", Action.RETRY),
    (Provider.WEBPUSH, 503, "", Action.RETRY),
]


def one_token_for(provider: Provider) -> tuple[Registry, str]:
    """Day 0: ann registers one foreground token on the platform the provider serves."""
    reg = new_registry()
    if provider is Provider.APNS:
        reg.change_user(0.0, device="phone", app=SHOP, user="ann")
        ios_session(reg, 0.0, device="phone", token="tok")
    elif provider is Provider.FCM:
        reg.change_user(0.0, device="pixel", app=SHOP, user="ann")
        android_session(reg, 0.0, device="pixel", token="tok")
    else:
        reg.change_user(0.0, device="laptop", app=SITE, user="ann")
        web_session(reg, 0.0, device="laptop", token="tok")
    return reg, "tok"


class TestProviderAnswers:
    @pytest.mark.parametrize(
        ("provider", "status", "reason", "action"),
        SECTION_2_ROWS,
        ids=[f"{p.value}-{s}-{r or 'no-reason'}" for p, s, r, _ in SECTION_2_ROWS],
    )
    def test_each_answer_of_the_table_does_what_section_2_says(
        self, provider, status, reason, action
    ):
        """R5: permanent errors remove the token; transient ones keep it (retried by the
        sender); credential errors keep it and flag the app; web 413 flags the payload."""
        reg, token = one_token_for(provider)
        app = held(reg, token).app
        log = record_events(reg)
        # APNs' 410 timestamp is after the token's registration: the token really is dead
        timestamp = 2.0 if status == 410 and provider is Provider.APNS else None
        outcome = reg.handle_response(
            3.0, token, SendResult(provider, status, reason, timestamp=timestamp)
        )

        assert outcome.action is action
        assert outcome.held is True
        assert outcome.stale_410 is False
        if action is Action.REMOVE:
            assert outcome.removed is True
            assert reg.token(token) is None
            assert summary(log) == [("remove", "bounce", token, "ann")]
            assert reg.audience(app) == []
        else:
            assert outcome.removed is False
            assert held(reg, token).last_push_at == 3.0
            assert log == []
            assert reg.audience(app) == ["ann"]
        expected_config_flag = 3.0 if action is Action.FLAG_CONFIG else None
        expected_payload_flag = 3.0 if action is Action.FLAG_PAYLOAD else None
        assert reg.app(app).config_flagged_at == expected_config_flag
        assert reg.app(app).payload_flagged_at == expected_payload_flag

    def test_fcm_invalid_argument_blaming_the_payload_keeps_the_token(self):
        """§2: FCM 400 INVALID_ARGUMENT removes the token only when the payload was valid."""
        reg, token = one_token_for(Provider.FCM)
        answer = SendResult(Provider.FCM, 400, "INVALID_ARGUMENT", payload_valid=False)
        outcome = reg.handle_response(1.0, token, answer)
        assert outcome.action is Action.FLAG_PAYLOAD
        assert outcome.removed is False
        assert held(reg, token).foreground is True
        assert reg.app(SHOP).payload_flagged_at == 1.0

    @pytest.mark.parametrize("legacy", ["NotRegistered", "InvalidRegistration", "MismatchSenderId"])
    def test_legacy_fcm_error_strings_remove_the_token(self, legacy):
        """§2: the legacy FCM strings named by the source map onto v1 codes that remove."""
        reg, token = one_token_for(Provider.FCM)
        outcome = reg.handle_response(1.0, token, legacy_fcm_result(legacy))
        assert outcome.action is Action.REMOVE
        assert outcome.removed is True
        assert reg.token(token) is None

    def test_an_accepted_send_keeps_the_token_and_records_a_sign_of_life(self):
        reg, token = one_token_for(Provider.APNS)
        outcome = reg.handle_response(1.0, token, SendResult(Provider.APNS, 200))
        assert outcome.action is Action.DELIVERED
        assert outcome.removed is False
        assert held(reg, token).last_accepted_at == 1.0
        assert held(reg, token).last_push_at == 1.0

    def test_an_answer_for_a_token_no_longer_held_changes_nothing(self):
        """A late answer for a token already removed is reported as not held and ignored."""
        reg, token = one_token_for(Provider.FCM)
        reg.handle_response(1.0, token, SendResult(Provider.FCM, 404, "UNREGISTERED"))
        log = record_events(reg)
        outcome = reg.handle_response(1.1, token, SendResult(Provider.FCM, 404, "UNREGISTERED"))
        assert outcome.held is False
        assert outcome.removed is False
        assert log == []


# -- R6 / R7: bounces and uninstall tracking -----------------------------------------------


class TestUninstallsAreSeenThroughBounces:
    def test_the_first_push_after_uninstall_removes_the_token_but_not_the_opt_in(self):
        """R6/R7: ann opts in on day 0, last opens the app on day 2, receives a push on day 2.5
        and uninstalls on day 3. The registry is not told. The day-5 campaign bounces: the token
        is removed, ann stays opted_in, and the uninstall is estimated at her last sign of life."""
        reg, token = one_token_for(Provider.FCM)
        android_session(reg, 2.0, device="pixel", token=token)
        reg.handle_response(2.5, token, SendResult(Provider.FCM, 200))
        # day 3: uninstall, unseen by the registry
        assert reg.audience(SHOP) == ["ann"]
        assert reg.uninstall_estimate("pixel", SHOP) is None

        outcome = reg.handle_response(5.0, token, SendResult(Provider.FCM, 404, "UNREGISTERED"))
        assert outcome.removed is True
        assert reg.token(token) is None
        assert state_of(reg, "ann") is OPTED_IN
        assert reg.audience(SHOP) == []
        assert reg.audience(SHOP, include_unsubscribed=True) == []
        estimate = reg.uninstall_estimate("pixel", SHOP)
        assert estimate is not None
        assert (estimate.profile, estimate.token, estimate.detected_at) == ("ann", token, 5.0)
        assert estimate.uninstalled_at == 2.5

    def test_without_an_accepted_push_the_last_session_is_the_estimate(self):
        reg, token = one_token_for(Provider.FCM)
        android_session(reg, 2.0, device="pixel", token=token)
        reg.handle_response(5.0, token, SendResult(Provider.FCM, 404, "UNREGISTERED"))
        estimate = reg.uninstall_estimate("pixel", SHOP)
        assert estimate is not None
        assert estimate.uninstalled_at == 2.0

    def test_apns_timestamp_is_the_uninstall_estimate_when_present(self):
        """R7: APNs' 410 carries the time since which the token is invalid: that is the best
        estimate of the uninstall, better than the last sign of life."""
        reg, token = one_token_for(Provider.APNS)
        ios_session(reg, 2.0, device="phone", token=token)
        answer = SendResult(Provider.APNS, 410, "Unregistered", timestamp=3.0)
        outcome = reg.handle_response(12.0, token, answer)
        assert outcome.removed is True
        estimate = reg.uninstall_estimate("phone", SHOP)
        assert estimate is not None
        assert estimate.uninstalled_at == 3.0
        assert estimate.detected_at == 12.0

    def test_uninstall_tracking_probes_tokens_quiet_for_24_hours(self):
        """R7: with uninstall tracking on, the nightly probe targets tokens with no session and
        no push in the last 24 h, oldest first."""
        reg = new_registry(tracking=True)
        ios_session(reg, 0.0, device="phone", token="ios-tok")
        android_session(reg, 0.5, device="pixel", token="fcm-tok")

        assert reg.probe_targets(0.9, SHOP) == []
        assert reg.probe_targets(1.0 + HOUR, SHOP) == ["ios-tok"]
        assert reg.probe_targets(1.5 + HOUR, SHOP) == ["ios-tok", "fcm-tok"]

    def test_a_session_resets_the_quiet_clock(self):
        reg = new_registry(tracking=True)
        ios_session(reg, 0.0, device="phone", token="ios-tok")
        ios_session(reg, 0.9, device="phone", token="ios-tok")
        assert reg.probe_targets(1.5, SHOP) == []
        assert reg.probe_targets(2.0, SHOP) == ["ios-tok"]

    def test_an_answered_push_resets_the_quiet_clock(self):
        """R7: "no push in the last 24 h": an answered send, even a transient error, counts."""
        reg = new_registry(tracking=True)
        ios_session(reg, 0.0, device="phone", token="ios-tok")
        android_session(reg, 0.0, device="pixel", token="fcm-tok")
        reg.handle_response(1.2, "ios-tok", SendResult(Provider.APNS, 200))
        reg.handle_response(1.2, "fcm-tok", SendResult(Provider.FCM, 503, "UNAVAILABLE"))
        assert reg.probe_targets(1.5, SHOP) == []
        assert reg.probe_targets(2.3, SHOP) == ["ios-tok", "fcm-tok"]

    def test_only_apps_with_uninstall_tracking_are_probed(self):
        reg = new_registry(tracking=False)
        ios_session(reg, 0.0, device="phone", token="ios-tok")
        web_session(reg, 0.0, device="laptop", token="web-tok")
        assert reg.probe_targets(30.0, SHOP) == []
        assert reg.probe_targets(30.0, SITE) == []

    def test_a_probe_that_bounces_removes_the_token(self):
        reg = new_registry(tracking=True)
        reg.change_user(0.0, device="phone", app=SHOP, user="ann")
        ios_session(reg, 0.0, device="phone", token="ios-tok")
        (target,) = reg.probe_targets(1.5, SHOP)
        answer = SendResult(Provider.APNS, 410, "Unregistered", timestamp=0.5)
        assert reg.handle_response(1.5, target, answer).removed is True
        assert reg.probe_targets(3.0, SHOP) == []
        assert state_of(reg, "ann") is OPTED_IN


# -- R8: reinstall is a new install ----------------------------------------------------------


class TestReinstall:
    def test_a_reinstall_is_unreachable_until_the_app_is_launched(self):
        """R8: day 3 ann uninstalls and reinstalls without opening the app. The day-4 campaign
        bounces on the old token; ann is not in the audience until the day-6 launch registers the
        new token, which is hers."""
        reg = new_registry()
        reg.change_user(0.0, device="pixel", app=SHOP, user="ann")
        android_session(reg, 0.0, device="pixel", token="old-tok")
        assert reg.audience(SHOP) == ["ann"]

        outcome = reg.handle_response(4.0, "old-tok", SendResult(Provider.FCM, 404, "UNREGISTERED"))
        assert outcome.removed is True
        assert reg.audience(SHOP) == []
        assert reg.audience_size(SHOP) == 0
        assert reg.campaign_tokens(SHOP) == []
        assert engagement_view(reg, "ann") == [EngagementLine("pixel", "--")]

        log = record_events(reg)
        android_session(reg, 6.0, device="pixel", token="new-tok")
        assert reg.audience(SHOP) == ["ann"]
        assert reg.audience_size(SHOP) == 1
        assert summary(log) == [("add", "registered", "new-tok", "ann")]

    def test_a_launch_before_the_bounce_replaces_the_dead_token(self):
        """R1 + R8: launched before any bounce, the new token replaces the dead one at once."""
        reg = new_registry()
        reg.change_user(0.0, device="pixel", app=SHOP, user="ann")
        android_session(reg, 0.0, device="pixel", token="old-tok")
        android_session(reg, 3.0, device="pixel", token="new-tok")
        assert reg.token("old-tok") is None
        outcome = reg.handle_response(4.0, "old-tok", SendResult(Provider.FCM, 404, "UNREGISTERED"))
        assert outcome.held is False
        assert held(reg, "new-tok").profile == "ann"


# -- §2: APNs 410 timestamp ------------------------------------------------------------------


class TestApnsTimestamp:
    def test_a_410_older_than_the_latest_registration_keeps_the_token(self):
        """§2: the token was re-registered at the day-5 session start, after the 410's
        timestamp (day 3): the 410 is stale and the token is kept."""
        reg, token = one_token_for(Provider.APNS)
        ios_session(reg, 5.0, device="phone", token=token)
        assert held(reg, token).registered_at == 5.0
        log = record_events(reg)
        answer = SendResult(Provider.APNS, 410, "Unregistered", timestamp=3.0)
        outcome = reg.handle_response(6.0, token, answer)
        assert outcome.stale_410 is True
        assert outcome.removed is False
        assert reg.token(token) is not None
        assert log == []
        assert reg.uninstall_estimate("phone", SHOP) is None

    def test_a_410_newer_than_the_latest_registration_removes_the_token(self):
        reg, token = one_token_for(Provider.APNS)
        ios_session(reg, 5.0, device="phone", token=token)
        answer = SendResult(Provider.APNS, 410, "ExpiredToken", timestamp=5.5)
        outcome = reg.handle_response(6.0, token, answer)
        assert outcome.stale_410 is False
        assert outcome.removed is True

    def test_when_the_timestamp_is_not_honoured_a_stale_410_removes_the_token(self):
        reg = new_registry(RegistryPolicy(honour_apns_timestamp=False))
        ios_session(reg, 0.0, device="phone", token="tok")
        ios_session(reg, 5.0, device="phone", token="tok")
        answer = SendResult(Provider.APNS, 410, "Unregistered", timestamp=3.0)
        outcome = reg.handle_response(6.0, "tok", answer)
        assert outcome.stale_410 is False
        assert outcome.removed is True
        assert reg.token("tok") is None

    def test_without_session_refresh_the_registration_time_is_the_first_report(self):
        """With refresh_on_session_start=False a session does not re-register the token, so a
        410 after the first registration removes it."""
        reg = new_registry(RegistryPolicy(refresh_on_session_start=False))
        ios_session(reg, 0.0, device="phone", token="tok")
        ios_session(reg, 5.0, device="phone", token="tok")
        assert held(reg, "tok").registered_at == 0.0
        answer = SendResult(Provider.APNS, 410, "Unregistered", timestamp=3.0)
        assert reg.handle_response(6.0, "tok", answer).removed is True


# -- R9: audience ----------------------------------------------------------------------------


def five_users() -> Registry:
    """alice: iPhone, allowed; bob: Android 12, implicit; carol: iPhone, denied;
    dave: Android 13, allowed then unsubscribed in the app; erin: the website only."""
    reg = new_registry()
    for user, device in [
        ("alice", "alice-phone"),
        ("bob", "bob-pixel"),
        ("carol", "carol-phone"),
        ("dave", "dave-pixel"),
    ]:
        reg.change_user(0.0, device=device, app=SHOP, user=user)
    reg.change_user(0.0, device="erin-laptop", app=SITE, user="erin")
    ios_session(reg, 0.0, device="alice-phone", token="alice-tok", foreground=True)
    android_session(reg, 0.0, device="bob-pixel", token="bob-tok", implicit=True)
    ios_session(reg, 0.0, device="carol-phone", token="carol-tok", foreground=False)
    android_session(reg, 0.0, device="dave-pixel", token="dave-tok", foreground=True)
    reg.set_subscription(0.5, "dave", UNSUBSCRIBED)
    web_session(reg, 0.0 + 1.0, device="erin-laptop", token="erin-tok")
    return reg


class TestAudience:
    def test_a_default_campaign_targets_subscribed_profiles_with_a_foreground_token(self):
        """R9: subscribed or opted_in, and foreground-enabled for the app."""
        reg = five_users()
        assert sorted(reg.audience(SHOP)) == ["alice", "bob"]
        assert reg.audience_size(SHOP) == 2
        assert reg.audience(SITE) == ["erin"]
        assert reg.audience_size(SITE) == 1

    def test_background_or_foreground_includes_background_only_tokens(self):
        reg = five_users()
        assert sorted(reg.audience(SHOP, foreground_only=False)) == ["alice", "bob", "carol"]
        assert reg.audience_size(SHOP, foreground_only=False) == 3

    def test_the_audience_can_be_narrowed_to_a_platform(self):
        reg = five_users()
        assert reg.audience(SHOP, platform="ios") == ["alice"]
        assert reg.audience(SHOP, platform=Platform.ANDROID) == ["bob"]
        assert reg.audience_size(SHOP, platform="ios") == 1
        assert reg.audience_size(SHOP, platform="android") == 1
        assert sorted(reg.audience(SHOP, platform="ios", foreground_only=False)) == [
            "alice",
            "carol",
        ]
        assert reg.audience_size(SHOP, platform="ios", foreground_only=False) == 2

    def test_unsubscribed_profiles_are_excluded_unless_asked_for(self):
        reg = five_users()
        assert "dave" not in reg.audience(SHOP)
        assert sorted(reg.audience(SHOP, include_unsubscribed=True)) == ["alice", "bob", "dave"]
        assert sorted(reg.audience(SHOP, foreground_only=False, include_unsubscribed=True)) == [
            "alice",
            "bob",
            "carol",
            "dave",
        ]

    def test_resubscribing_brings_the_profile_back(self):
        reg = five_users()
        reg.set_subscription(2.0, "dave", "opted_in")
        assert sorted(reg.audience(SHOP)) == ["alice", "bob", "dave"]
        assert reg.audience_size(SHOP) == 3
        assert reg.audience_size(SHOP, platform="android") == 2
        reg.set_subscription(3.0, "alice", UNSUBSCRIBED)
        assert sorted(reg.audience(SHOP)) == ["bob", "dave"]
        assert reg.audience_size(SHOP) == 2
        assert reg.audience_size(SHOP, foreground_only=False) == 3

    def test_campaign_tokens_are_the_audiences_matching_tokens(self):
        """R9: a campaign sends to the audience's foreground tokens for the app only."""
        reg = five_users()
        # alice also has an Android tablet with notifications off, and uses the website
        reg.change_user(2.0, device="alice-tablet", app=SHOP, user="alice")
        android_session(reg, 2.0, device="alice-tablet", token="alice-tab-tok", foreground=False)
        reg.change_user(2.0, device="alice-laptop", app=SITE, user="alice")
        web_session(reg, 2.0, device="alice-laptop", token="alice-web-tok")

        def tokens(*, foreground_only: bool = True, platform: str | None = None) -> list[str]:
            records = reg.campaign_tokens(SHOP, foreground_only=foreground_only, platform=platform)
            return sorted(r.token for r in records)

        assert tokens() == ["alice-tok", "bob-tok"]
        assert tokens(foreground_only=False) == [
            "alice-tab-tok",
            "alice-tok",
            "bob-tok",
            "carol-tok",
        ]
        assert tokens(platform="android") == ["bob-tok"]
        assert tokens(platform="android", foreground_only=False) == ["alice-tab-tok", "bob-tok"]
        assert [r.token for r in reg.campaign_tokens(SITE)] == ["erin-tok", "alice-web-tok"]

    def test_a_profile_with_two_foreground_devices_counts_once(self):
        reg = five_users()
        reg.change_user(2.0, device="alice-ipad", app=SHOP, user="alice")
        ios_session(reg, 2.0, device="alice-ipad", token="alice-ipad-tok")
        assert sorted(reg.audience(SHOP)) == ["alice", "bob"]
        assert reg.audience_size(SHOP) == 2
        assert len(reg.campaign_tokens(SHOP)) == 3


# -- R10: web push ---------------------------------------------------------------------------


class TestWebPush:
    def test_a_visit_without_opt_in_registers_nothing(self):
        """R10: a web token exists only after an explicit opt-in; a session with no token
        registers nothing."""
        reg = new_registry()
        log = record_events(reg)
        reg.change_user(0.0, device="laptop", app=SITE, user="erin")
        assert web_session(reg, 0.0, device="laptop", token=None) is None
        assert log == []
        assert reg.token_count == 0
        assert reg.audience(SITE, foreground_only=False) == []
        assert engagement_view(reg, "erin") == [EngagementLine("laptop", "--")]

    def test_opting_in_through_the_browser_prompt_registers_a_foreground_token(self):
        reg = new_registry()
        reg.change_user(0.0, device="laptop", app=SITE, user="erin")
        web_session(reg, 0.0, device="laptop", token=None)
        web_session(reg, 1.0, device="laptop", token="web-tok")
        assert held(reg, "web-tok").platform is Platform.WEB
        assert reg.audience(SITE) == ["erin"]
        assert state_of(reg, "erin") is OPTED_IN

    def test_a_session_without_a_token_purges_the_held_web_token(self):
        """R10 / R1: the browser no longer has a subscription (revoked, cleared): the SDK reports
        no token and the registry purges the one it held."""
        reg = new_registry()
        reg.change_user(0.0, device="laptop", app=SITE, user="erin")
        web_session(reg, 0.0, device="laptop", token="web-tok")
        log = record_events(reg)
        assert web_session(reg, 3.0, device="laptop", token=None) is None
        assert reg.token("web-tok") is None
        assert summary(log) == [("remove", "purged", "web-tok", "erin")]
        assert reg.audience(SITE) == []


# -- R11 / R12: views ------------------------------------------------------------------------


class TestViews:
    def test_the_engagement_tab_shows_one_line_per_device(self):
        """R11: Foreground: <app>, Background: <app>, or -- when no app information exists."""
        reg = new_registry()
        reg.change_user(0.0, device="phone", app=SHOP, user="ann")
        reg.change_user(0.0, device="tablet", app=SHOP, user="ann")
        reg.change_user(0.0, device="laptop", app=SITE, user="ann")
        ios_session(reg, 0.0, device="phone", token="phone-tok", foreground=True)
        android_session(reg, 0.0, device="tablet", token="tablet-tok", foreground=False)
        web_session(reg, 0.0, device="laptop", token=None)

        assert engagement_view(reg, "ann") == [
            EngagementLine("phone", "Foreground: shop"),
            EngagementLine("tablet", "Background: shop"),
            EngagementLine("laptop", "--"),
        ]

    def test_the_export_lists_push_subscribe_and_the_push_tokens(self):
        """R12: push_subscribe and push_tokens with app, platform, token, device_id,
        notifications_enabled."""
        reg = new_registry()
        reg.change_user(0.0, device="phone", app=SHOP, user="ann")
        reg.change_user(0.0, device="tablet", app=SHOP, user="ann")
        ios_session(reg, 0.0, device="phone", token="phone-tok", foreground=True)
        android_session(reg, 0.0, device="tablet", token="tablet-tok", foreground=False)

        assert export_profile(reg, "ann") == {
            "external_id": "ann",
            "push_subscribe": "opted_in",
            "push_tokens": [
                {
                    "app": "shop",
                    "platform": "ios",
                    "token": "phone-tok",
                    "device_id": "phone",
                    "notifications_enabled": True,
                },
                {
                    "app": "shop",
                    "platform": "android",
                    "token": "tablet-tok",
                    "device_id": "tablet",
                    "notifications_enabled": False,
                },
            ],
        }

    def test_the_export_follows_the_token_to_its_new_owner(self):
        reg, _ = charlies_phone()
        reg.change_user(1.0, device="charlie-phone", app=SHOP, user="kim")
        assert export_profile(reg, "charlie")["push_tokens"] == []
        assert [t["token"] for t in export_profile(reg, "kim")["push_tokens"]] == ["charlie-tok"]
        assert export_profile(reg, "kim")["push_subscribe"] == "subscribed"

    def test_an_anonymous_profile_exports_no_external_id(self):
        reg = new_registry()
        ios_session(reg, 0.0, device="phone", token="tok")
        exported = export_profile(reg, anonymous_profile_id("phone", SHOP))
        assert "external_id" not in exported
        assert [t["token"] for t in exported["push_tokens"]] == ["tok"]


# -- R13: token state changes are events -----------------------------------------------------


class TestEvents:
    def test_add_update_and_remove_each_emit_one_event_with_every_field(self):
        """R13: day 1 ann's phone registers on provisional authorisation (add), day 2 she turns
        notifications off (update), day 3 the token bounces (remove): one event each, carrying
        token, device, profile, foreground, provisional, change type and time."""
        reg = new_registry()
        log = record_events(reg)
        reg.change_user(0.0, device="phone", app=SHOP, user="ann")
        ios_session(reg, 1.0, token="tok", foreground=False, provisional=True)
        ios_session(reg, 2.0, token="tok", foreground=False, provisional=False)
        reg.handle_response(3.0, "tok", SendResult(Provider.APNS, 400, "BadDeviceToken"))

        def event(time: float, change: Change, cause: Cause, shown: bool) -> TokenEvent:
            return TokenEvent(
                time=time,
                change=change,
                cause=cause,
                token="tok",
                app=SHOP,
                platform=Platform.IOS,
                device="phone",
                profile="ann",
                foreground=shown,
                provisional=shown,
            )

        assert log == [
            event(1.0, Change.ADD, Cause.REGISTERED, True),
            event(2.0, Change.UPDATE, Cause.PERMISSION, False),
            event(3.0, Change.REMOVE, Cause.BOUNCE, False),
        ]

    def test_a_move_is_a_remove_and_an_add_of_the_same_token(self):
        reg, log = charlies_phone()
        reg.change_user(1.0, device="charlie-phone", app=SHOP, user="kim")
        removed, added = log
        assert (removed.change, added.change) == (Change.REMOVE, Change.ADD)
        assert removed.cause is added.cause is Cause.MOVED
        assert removed.token == added.token == "charlie-tok"
        assert (removed.profile, added.profile) == ("charlie", "kim")
        assert removed.time == added.time == 1.0
        assert removed.device == added.device == "charlie-phone"
        assert removed.foreground is added.foreground is True

    def test_nothing_that_leaves_tokens_alone_emits_an_event(self):
        """Sessions with nothing new, subscription changes, logins without a token, transient
        answers and queries emit nothing."""
        reg = new_registry()
        ios_session(reg, 0.0, token="tok")
        log = record_events(reg)
        ios_session(reg, 1.0, token="tok")
        reg.set_subscription(1.0, anonymous_profile_id("phone", SHOP), UNSUBSCRIBED)
        reg.change_user(1.0, device="other-phone", app=SHOP, user="zed")
        reg.log_out(1.0, device="phone", app=SHOP)
        reg.handle_response(2.0, "tok", SendResult(Provider.APNS, 503, "ServiceUnavailable"))
        reg.audience(SHOP)
        reg.probe_targets(3.0, SHOP)
        reg.prune_inactive(3.0)
        assert log == []

    def test_an_unsubscribed_listener_hears_nothing_more(self):
        reg = new_registry()
        first: list[TokenEvent] = []
        second: list[TokenEvent] = []
        stop = reg.subscribe(first.append)
        reg.subscribe(second.append)
        ios_session(reg, 0.0, token="tok-1")
        stop()
        ios_session(reg, 1.0, token="tok-2")
        assert len(first) == 1
        assert len(second) == 3


# -- pruning policy --------------------------------------------------------------------------


class TestPruning:
    def test_tokens_with_no_session_for_the_window_are_pruned(self):
        """Policy prune_after_days=30: a token whose last session is 30 days old is removed
        (cause PRUNED); one seen more recently is kept until its own window ends."""
        reg = new_registry(RegistryPolicy(prune_after_days=30.0))
        ios_session(reg, 0.0, device="phone", token="old-tok")
        android_session(reg, 10.0, device="pixel", token="recent-tok")
        log = record_events(reg)

        assert reg.prune_inactive(29.0) == []
        assert reg.prune_inactive(30.5) == ["old-tok"]
        assert reg.token("old-tok") is None
        assert reg.token("recent-tok") is not None
        assert summary(log) == [
            ("remove", "pruned", "old-tok", anonymous_profile_id("phone", SHOP))
        ]
        assert reg.prune_inactive(40.5) == ["recent-tok"]

    def test_a_push_is_not_a_session_for_pruning(self):
        reg = new_registry(RegistryPolicy(prune_after_days=30.0))
        ios_session(reg, 0.0, device="phone", token="tok")
        reg.handle_response(29.0, "tok", SendResult(Provider.APNS, 200))
        assert reg.prune_inactive(31.0) == ["tok"]

    def test_a_session_keeps_the_token(self):
        reg = new_registry(RegistryPolicy(prune_after_days=30.0))
        ios_session(reg, 0.0, device="phone", token="tok")
        ios_session(reg, 25.0, device="phone", token="tok")
        assert reg.prune_inactive(50.0) == []
        assert reg.prune_inactive(56.0) == ["tok"]

    def test_pruning_is_off_by_default(self):
        reg = new_registry()
        ios_session(reg, 0.0, device="phone", token="tok")
        log = record_events(reg)
        assert reg.prune_inactive(10_000.0) == []
        assert reg.token("tok") is not None
        assert log == []


# -- domain errors ---------------------------------------------------------------------------


class TestImpossibleInputIsRefused:
    def test_an_unknown_app_is_refused(self):
        reg = new_registry()
        with pytest.raises(UnknownAppError):
            reg.session_start(
                0.0, device="d", app="nope", platform="ios", token="t", foreground=True
            )
        with pytest.raises(UnknownAppError):
            reg.change_user(0.0, device="d", app="nope", user="ann")
        with pytest.raises(UnknownAppError):
            reg.log_out(0.0, device="d", app="nope")
        with pytest.raises(UnknownAppError):
            reg.audience("nope")
        with pytest.raises(UnknownAppError):
            reg.audience_size("nope")
        with pytest.raises(UnknownAppError):
            reg.campaign_tokens("nope")
        with pytest.raises(UnknownAppError):
            reg.probe_targets(0.0, "nope")
        with pytest.raises(UnknownAppError):
            reg.app("nope")
        assert reg.token_count == 0
        assert not reg.has_profile("ann")

    def test_a_platform_the_app_is_not_published_on_is_refused(self):
        reg = new_registry()
        with pytest.raises(PlatformNotSupportedError):
            reg.session_start(0.0, device="d", app=SITE, platform="ios", token="t", foreground=True)
        with pytest.raises(PlatformNotSupportedError):
            reg.audience(SHOP, platform="web")
        with pytest.raises(PlatformNotSupportedError):
            reg.audience_size(SHOP, platform="web")
        assert reg.token_count == 0

    def test_an_unknown_platform_name_is_refused(self):
        reg = new_registry()
        with pytest.raises(RegistryError, match="windows"):
            reg.session_start(
                0.0, device="d", app=SHOP, platform="windows", token="t", foreground=True
            )
        with pytest.raises(RegistryError):
            reg.audience(SHOP, platform="IOS")
        with pytest.raises(RegistryError):
            reg.add_app("desktop", ["windows"])
        assert reg.token_count == 0

    @pytest.mark.parametrize("bad_now", [4.0, math.nan])
    def test_time_going_backwards_is_refused(self, bad_now):
        reg = new_registry()
        ios_session(reg, 5.0, token="tok")
        with pytest.raises(TimeWentBackwardsError):
            ios_session(reg, bad_now, token="tok-2")
        with pytest.raises(TimeWentBackwardsError):
            reg.handle_response(bad_now, "tok", SendResult(Provider.APNS, 200))
        with pytest.raises(TimeWentBackwardsError):
            reg.change_user(bad_now, device="phone", app=SHOP, user="ann")
        with pytest.raises(TimeWentBackwardsError):
            reg.prune_inactive(bad_now)
        assert held(reg, "tok").profile == anonymous_profile_id("phone", SHOP)
        assert reg.now == 5.0
        ios_session(reg, 5.0, token="tok")  # the same instant is fine

    def test_an_unknown_subscription_state_is_refused(self):
        reg = new_registry()
        reg.change_user(0.0, device="phone", app=SHOP, user="ann")
        with pytest.raises(InvalidSubscriptionStateError):
            reg.set_subscription(1.0, "ann", "maybe")
        assert state_of(reg, "ann") is SUBSCRIBED

    @pytest.mark.parametrize("bad_user", ["", "anon:phone:shop"])
    def test_a_bad_user_id_is_refused(self, bad_user):
        reg = new_registry()
        ios_session(reg, 0.0, token="tok")
        with pytest.raises(RegistryError):
            reg.change_user(1.0, device="phone", app=SHOP, user=bad_user)
        assert held(reg, "tok").profile == anonymous_profile_id("phone", SHOP)

    def test_an_unknown_profile_is_refused(self):
        reg = new_registry()
        with pytest.raises(UnknownProfileError):
            reg.profile("ghost")
        with pytest.raises(UnknownProfileError):
            engagement_view(reg, "ghost")
        with pytest.raises(UnknownProfileError):
            export_profile(reg, "ghost")
        with pytest.raises(UnknownProfileError):
            reg.set_subscription(0.0, "anon:ghost-phone:shop", UNSUBSCRIBED)

    def test_an_answer_from_the_wrong_provider_is_refused(self):
        reg, token = one_token_for(Provider.APNS)
        with pytest.raises(RegistryError):
            reg.handle_response(1.0, token, SendResult(Provider.FCM, 404, "UNREGISTERED"))
        assert reg.token(token) is not None

    def test_a_token_reported_for_another_app_is_refused_and_changes_nothing(self):
        """A token string belongs to one app: reporting the app's token for the website is a
        caller bug; it is refused before anything changes (no event, the site keeps its token)."""
        reg = new_registry()
        ios_session(reg, 0.0, device="phone", token="tok")
        web_session(reg, 0.0, device="laptop", token="web-tok")
        log = record_events(reg)
        with pytest.raises(RegistryError):
            web_session(reg, 1.0, device="laptop", token="tok")
        assert held(reg, "tok").app == SHOP
        assert held(reg, "web-tok").device == "laptop"
        assert log == []


def test_an_app_update_rotating_the_token_does_not_resubscribe_an_unsubscribed_user():
    """R4 vs explicit unsubscribe: a rotated token on a slot that already showed notifications is
    not a new grant, so the user's explicit `unsubscribed` stands."""
    registry = Registry()
    registry.add_app("app", ["ios"])
    registry.session_start(0.0, device="d", app="app", platform="ios", token="t1", foreground=True)
    registry.change_user(0.1, device="d", app="app", user="ann")
    registry.set_subscription(1.0, "ann", "unsubscribed")
    registry.session_start(2.0, device="d", app="app", platform="ios", token="t2", foreground=True)
    assert registry.profile("ann").state is SubscriptionState.UNSUBSCRIBED
    assert registry.token_for("d", "app") is not None


def test_a_refused_call_does_not_advance_the_clock():
    registry = Registry()
    registry.add_app("app", ["ios"])
    with pytest.raises(UnknownAppError):
        registry.session_start(
            100.0, device="d", app="nope", platform="ios", token="t", foreground=True
        )
    registry.session_start(0.0, device="d", app="app", platform="ios", token="t", foreground=True)
    assert registry.now == 0.0
