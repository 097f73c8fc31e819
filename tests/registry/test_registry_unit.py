"""Unit tests of the registry's modules: errors, policy, audience index, activity order, events,
views, small registry queries, and the provider-answer classification the registry relies on."""

import dataclasses
import math

import pytest

from sim.platforms import Platform, Provider
from sim.providers.answers import (
    CLASSIFICATION,
    FCM_STATUS,
    LEGACY_FCM_REASONS,
    Action,
    SendResult,
    UnclassifiedAnswerError,
    classify,
    legacy_fcm_result,
    normalise_reason,
)
from sim.registry import (
    PROBE_QUIET_DAYS,
    Cause,
    Change,
    EngagementLine,
    InvalidSubscriptionStateError,
    PlatformNotSupportedError,
    Profile,
    Registry,
    RegistryError,
    RegistryPolicy,
    ResponseOutcome,
    SubscriptionState,
    TimeWentBackwardsError,
    TokenEvent,
    UnknownAppError,
    UnknownProfileError,
    anonymous_profile_id,
    engagement_view,
    export_profile,
)
from sim.registry.activity import ActivityOrder
from sim.registry.audience import AudienceIndex
from sim.registry.events import EventStream
from tests.registry.test_stories import SECTION_2_ROWS

IOS = Platform.IOS
ANDROID = Platform.ANDROID


def new_registry(policy: RegistryPolicy | None = None) -> Registry:
    reg = Registry(policy)
    reg.add_app("shop", ["ios", "android"])
    reg.add_app("site", [Platform.WEB])
    return reg


def session(reg: Registry, now: float, device: str, token: str | None, fg: bool = True) -> None:
    reg.session_start(now, device=device, app="shop", platform="ios", token=token, foreground=fg)


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        TimeWentBackwardsError,
        UnknownAppError,
        PlatformNotSupportedError,
        UnknownProfileError,
        InvalidSubscriptionStateError,
    ],
)
def test_every_domain_error_is_a_registry_error_and_a_value_error(error):
    assert issubclass(error, RegistryError)
    assert issubclass(error, ValueError)


def test_an_app_cannot_be_registered_twice():
    reg = new_registry()
    with pytest.raises(RegistryError, match="already registered"):
        reg.add_app("shop", ["ios"])
    assert reg.app("shop").platforms == frozenset({IOS, ANDROID})


def test_an_app_needs_at_least_one_platform():
    reg = Registry()
    with pytest.raises(RegistryError):
        reg.add_app("nothing", [])
    with pytest.raises(UnknownAppError):
        reg.app("nothing")


def test_an_app_on_an_unknown_platform_is_refused_and_not_registered():
    reg = Registry()
    with pytest.raises(RegistryError, match="blackberry"):
        reg.add_app("old", ["ios", "blackberry"])
    with pytest.raises(UnknownAppError):
        reg.app("old")


def test_unknown_app_error_names_the_registered_apps():
    reg = new_registry()
    with pytest.raises(UnknownAppError, match="shop, site"):
        reg.app("nope")


def test_set_subscription_accepts_state_names_and_refuses_others():
    reg = new_registry()
    reg.set_subscription(0.0, "ann", "unsubscribed")
    assert reg.profile("ann").state is SubscriptionState.UNSUBSCRIBED
    assert reg.profile("ann").state_changed_at == 0.0
    reg.set_subscription(1.0, "ann", SubscriptionState.OPTED_IN)
    assert reg.profile("ann").state is SubscriptionState.OPTED_IN
    for bad in ("Opted_In", "", "opted-in"):
        with pytest.raises(InvalidSubscriptionStateError):
            reg.set_subscription(2.0, "ann", bad)
    assert reg.profile("ann").state is SubscriptionState.OPTED_IN


def test_time_may_stand_still_but_not_go_back_nor_be_nan():
    reg = new_registry()
    assert reg.now == -math.inf
    reg.set_subscription(1.0, "ann", "subscribed")
    reg.set_subscription(1.0, "ann", "opted_in")
    assert reg.now == 1.0
    with pytest.raises(TimeWentBackwardsError):
        reg.set_subscription(0.5, "ann", "subscribed")
    with pytest.raises(TimeWentBackwardsError):
        reg.log_out(math.nan, device="d", app="shop")
    with pytest.raises(TimeWentBackwardsError):
        reg.probe_targets(0.0, "shop")
    assert reg.now == 1.0


# -- policy ----------------------------------------------------------------------------------


def test_the_default_policy_follows_the_source():
    policy = RegistryPolicy()
    assert policy.refresh_on_session_start is True
    assert policy.detach_on_logout is False
    assert policy.prune_after_days is None
    assert policy.honour_apns_timestamp is True
    assert Registry().policy == policy


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, -math.inf])
def test_the_pruning_window_must_be_a_positive_number_of_days(bad):
    with pytest.raises(ValueError, match="prune_after_days"):
        RegistryPolicy(prune_after_days=bad)


def test_a_policy_is_immutable():
    policy = RegistryPolicy(prune_after_days=60.0)
    assert policy.prune_after_days == 60.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.detach_on_logout = True  # type: ignore[misc]


def test_pruning_switched_on_mid_run_prunes_what_pruning_from_the_start_prunes():
    """The registry orders tokens by last session only while it prunes; switching pruning on
    builds the order from the records."""
    always = new_registry(RegistryPolicy(prune_after_days=5.0))
    later = new_registry()
    for reg in (always, later):
        for day, device in enumerate(["a", "b", "c", "d", "b", "e", "a"]):
            session(reg, float(day), device, f"tok-{device}")
        reg.session_start(6.5, device="w", app="site", platform="web", token="w", foreground=True)
        session(reg, 7.0, "b", None)  # purged: no longer held
    assert later.prune_inactive(10.0) == []  # not pruning
    later.policy = RegistryPolicy(prune_after_days=5.0)
    assert later.policy == always.policy
    assert later.prune_inactive(10.0) == always.prune_inactive(10.0) == ["tok-c", "tok-d", "tok-e"]
    later.policy = RegistryPolicy()
    later.policy = RegistryPolicy(prune_after_days=1.0)
    assert later.prune_inactive(10.0) == ["tok-a", "w"]


# -- audience index --------------------------------------------------------------------------


def test_the_audience_index_counts_a_profile_once_however_many_tokens_it_holds():
    index = AudienceIndex()
    ann = Profile("ann")
    index.add(ann, "shop", IOS, True)
    index.add(ann, "shop", IOS, True)
    index.add(ann, "shop", ANDROID, False)
    assert list(index.holders("shop", IOS, foreground_only=True)) == ["ann"]
    assert list(index.holders("shop", None, foreground_only=True)) == ["ann"]
    assert list(index.holders("shop", ANDROID, foreground_only=True)) == []
    assert list(index.holders("shop", ANDROID, foreground_only=False)) == ["ann"]
    assert index.targetable_count("shop", None, foreground_only=True) == 1
    assert index.targetable_count("shop", None, foreground_only=False) == 1
    assert ann.foreground_counts == {("shop", IOS): 2, ("shop", None): 2}
    assert ann.any_counts == {("shop", IOS): 2, ("shop", ANDROID): 1, ("shop", None): 3}

    index.remove(ann, "shop", IOS, True)
    assert list(index.holders("shop", IOS, foreground_only=True)) == ["ann"]
    index.remove(ann, "shop", IOS, True)
    assert list(index.holders("shop", IOS, foreground_only=True)) == []
    assert list(index.holders("shop", None, foreground_only=False)) == ["ann"]
    assert index.targetable_count("shop", None, foreground_only=True) == 0
    index.remove(ann, "shop", ANDROID, False)
    assert ann.foreground_counts == {}
    assert ann.any_counts == {}
    assert index.targetable_count("shop", None, foreground_only=False) == 0


def test_the_audience_index_follows_foreground_switches():
    index = AudienceIndex()
    ann = Profile("ann")
    index.add(ann, "shop", IOS, False)
    assert index.targetable_count("shop", IOS, foreground_only=True) == 0
    index.set_foreground(ann, "shop", IOS, True)
    assert list(index.holders("shop", IOS, foreground_only=True)) == ["ann"]
    assert index.targetable_count("shop", IOS, foreground_only=True) == 1
    index.set_foreground(ann, "shop", IOS, False)
    assert index.targetable_count("shop", IOS, foreground_only=True) == 0
    assert index.targetable_count("shop", IOS, foreground_only=False) == 1


def test_the_audience_index_counts_only_targetable_profiles():
    index = AudienceIndex()
    ann = Profile("ann")
    bob = Profile("bob", state=SubscriptionState.UNSUBSCRIBED)
    index.add(ann, "shop", IOS, True)
    index.add(bob, "shop", IOS, True)
    assert list(index.holders("shop", IOS, foreground_only=True)) == ["ann", "bob"]
    assert index.targetable_count("shop", IOS, foreground_only=True) == 1

    ann.state = SubscriptionState.UNSUBSCRIBED
    index.targetability_changed(ann, False)
    assert index.targetable_count("shop", IOS, foreground_only=True) == 0
    assert index.targetable_count("shop", None, foreground_only=False) == 0
    bob.state = SubscriptionState.OPTED_IN
    index.targetability_changed(bob, True)
    assert index.targetable_count("shop", IOS, foreground_only=True) == 1
    index.remove(bob, "shop", IOS, True)
    assert index.targetable_count("shop", IOS, foreground_only=True) == 0


def test_the_audience_index_refuses_to_count_below_zero():
    index = AudienceIndex()
    with pytest.raises(AssertionError):
        index.remove(Profile("ann"), "shop", IOS, True)


def test_the_audience_index_knows_nothing_of_unseen_apps():
    index = AudienceIndex()
    assert dict(index.holders("shop", None, foreground_only=True)) == {}
    assert index.targetable_count("shop", IOS, foreground_only=False) == 0


def test_audiences_keep_the_order_in_which_profiles_became_reachable():
    reg = new_registry()
    for user in ("zoe", "adam", "mia"):
        reg.change_user(0.0, device=f"{user}-phone", app="shop", user=user)
        session(reg, 0.0, f"{user}-phone", f"{user}-tok")
    assert reg.audience("shop") == ["zoe", "adam", "mia"]
    session(reg, 1.0, "zoe-phone", "zoe-tok", fg=False)
    session(reg, 2.0, "zoe-phone", "zoe-tok", fg=True)
    assert reg.audience("shop") == ["adam", "mia", "zoe"]


# -- activity order --------------------------------------------------------------------------


def test_the_activity_order_yields_the_quiet_tokens_oldest_first():
    order = ActivityOrder()
    order.touch("a", 1.0)
    order.touch("b", 2.0)
    order.touch("c", 3.0)
    assert len(order) == 3
    assert list(order.quiet_since(0.5)) == []
    assert list(order.quiet_since(2.0)) == ["a", "b"]  # inclusive at the cutoff
    order.touch("a", 4.0)
    assert list(order.quiet_since(3.5)) == ["b", "c"]
    order.discard("b")
    order.discard("never-seen")
    assert list(order.quiet_since(10.0)) == ["c", "a"]
    assert len(order) == 2


# -- events ----------------------------------------------------------------------------------


def test_the_event_stream_delivers_in_subscription_order_until_unsubscribed():
    stream = EventStream()
    active_before = stream.active
    heard: list[tuple[str, Change]] = []
    stop_first = stream.subscribe(lambda e: heard.append(("first", e.change)))
    stream.subscribe(lambda e: heard.append(("second", e.change)))
    assert (active_before, stream.active) == (False, True)
    event = TokenEvent(0.0, Change.ADD, Cause.REGISTERED, "t", "shop", IOS, "d", "p", True, False)
    stream.emit(event)
    stop_first()
    stop_first()  # unsubscribing twice is harmless
    stream.emit(dataclasses.replace(event, change=Change.REMOVE))
    assert heard == [("first", Change.ADD), ("second", Change.ADD), ("second", Change.REMOVE)]


def test_a_token_event_is_immutable():
    event = TokenEvent(0.0, Change.ADD, Cause.REGISTERED, "t", "shop", IOS, "d", "p", True, False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.token = "other"  # type: ignore[misc]


def test_registry_events_carry_the_record_state_after_the_change():
    reg = new_registry()
    log: list[TokenEvent] = []
    reg.subscribe(log.append)
    session(reg, 0.0, "phone", "tok", fg=True)
    session(reg, 1.0, "phone", "tok", fg=False)
    assert [(e.change, e.foreground) for e in log] == [(Change.ADD, True), (Change.UPDATE, False)]
    assert log[1].time == 1.0


# -- views -----------------------------------------------------------------------------------


def test_the_engagement_view_lists_devices_in_first_seen_order_and_every_app():
    reg = new_registry()
    reg.change_user(0.0, device="laptop", app="site", user="ann")
    reg.change_user(0.0, device="phone", app="shop", user="ann")
    reg.change_user(0.0, device="phone", app="site", user="ann")
    session(reg, 0.0, "phone", "app-tok", fg=False)
    reg.session_start(
        0.0, device="phone", app="site", platform="web", token="web-tok", foreground=True
    )
    lines = engagement_view(reg, "ann")
    assert [line.device for line in lines] == ["laptop", "phone"]
    assert lines[0] == EngagementLine("laptop", "--")
    assert "Background: shop" in lines[1].text
    assert "Foreground: site" in lines[1].text


def test_a_profile_seen_nowhere_has_an_empty_engagement_view_and_no_tokens():
    reg = new_registry()
    reg.set_subscription(0.0, "ann", "unsubscribed")
    assert engagement_view(reg, "ann") == []
    assert export_profile(reg, "ann") == {
        "external_id": "ann",
        "push_subscribe": "unsubscribed",
        "push_tokens": [],
    }


# -- registry queries ------------------------------------------------------------------------


def test_the_anonymous_profile_id_names_the_device_and_app():
    assert anonymous_profile_id("phone", "shop") == "anon:phone:shop"


def test_session_start_returns_the_record_held_for_the_slot():
    reg = new_registry()
    record = reg.session_start(
        0.0, device="phone", app="shop", platform=IOS, token="tok", foreground=True
    )
    assert record is not None
    assert record is reg.token("tok") is reg.token_for("phone", "shop")
    assert (record.created_at, record.updated_at, record.registered_at) == (0.0, 0.0, 0.0)
    assert record.slot == ("phone", "shop")
    assert reg.token_for("phone", "site") is None
    assert reg.current_user("phone", "shop") == "anon:phone:shop"
    assert reg.current_user("tablet", "shop") is None
    assert reg.profile("anon:phone:shop").anonymous is True


def test_profiles_and_tokens_are_listed_in_creation_order():
    reg = new_registry()
    reg.change_user(0.0, device="d2", app="shop", user="bob")
    session(reg, 0.0, "d1", "t1")
    session(reg, 0.0, "d2", "t2")
    assert [p.profile_id for p in reg.profiles()] == ["bob", "anon:d1:shop"]
    assert [r.token for r in reg.tokens()] == ["t1", "t2"]
    assert reg.token_count == 2
    assert reg.has_profile("bob") and not reg.has_profile("carol")


def test_set_subscription_creates_an_unknown_external_profile():
    reg = new_registry()
    reg.set_subscription(0.0, "newcomer", "unsubscribed")
    assert reg.has_profile("newcomer")
    assert reg.profile("newcomer").anonymous is False


def test_a_change_of_user_creates_the_profile_and_records_the_device():
    reg = new_registry()
    reg.change_user(0.0, device="phone", app="shop", user="ann")
    assert reg.profile("ann").devices == ("phone",)
    assert reg.profile("ann").state is SubscriptionState.SUBSCRIBED
    assert reg.current_user("phone", "shop") == "ann"


def test_a_profile_lists_its_devices_once_in_first_seen_order_and_keeps_one_as_a_plain_id():
    reg = new_registry()
    assert Profile("ann").devices == ()
    reg.change_user(0.0, device="phone", app="shop", user="ann")
    reg.change_user(0.0, device="phone", app="site", user="ann")
    assert reg.profile("ann").seen_on == "phone"  # one device: no container
    for device in ("tablet", "phone", "laptop", "tablet"):
        reg.change_user(0.0, device=device, app="shop", user="ann")
    assert reg.profile("ann").devices == ("phone", "tablet", "laptop")


def test_a_response_outcome_defaults_to_nothing_done():
    outcome = ResponseOutcome(Action.RETRY, held=True)
    assert (outcome.removed, outcome.stale_410) == (False, False)


def test_the_probe_window_is_24_hours():
    assert PROBE_QUIET_DAYS == 1.0


def test_audience_sizes_agree_with_audience_lists_after_churn():
    reg = new_registry()
    for i in range(6):
        device = f"d{i}"
        reg.change_user(float(i), device=device, app="shop", user=f"u{i % 3}")
        session(reg, float(i), device, f"t{i}", fg=i % 2 == 0)
    reg.set_subscription(7.0, "u1", "unsubscribed")
    reg.handle_response(8.0, "t0", SendResult(Provider.APNS, 410, "Unregistered", timestamp=7.0))
    reg.change_user(9.0, device="d2", app="shop", user="u1")
    for fg_only in (True, False):
        for platform in (None, "ios", "android"):
            listed = reg.audience("shop", foreground_only=fg_only, platform=platform)
            assert reg.audience_size("shop", foreground_only=fg_only, platform=platform) == len(
                listed
            )


# -- provider answer classification (docs/model.md §2) ------------------------------------


@pytest.mark.parametrize(
    ("provider", "status", "reason", "action"),
    SECTION_2_ROWS,
    ids=[f"{p.value}-{s}-{r or 'no-reason'}" for p, s, r, _ in SECTION_2_ROWS],
)
def test_classify_follows_section_2(provider, status, reason, action):
    assert classify(SendResult(provider, status, reason)) is action


@pytest.mark.parametrize("provider", list(Provider))
@pytest.mark.parametrize("status", [200, 201, 204])
def test_any_2xx_is_delivered(provider, status):
    result = SendResult(provider, status)
    assert result.accepted
    assert classify(result) is Action.DELIVERED


def test_fcm_invalid_argument_blaming_the_payload_flags_the_payload():
    result = SendResult(Provider.FCM, 400, "INVALID_ARGUMENT", payload_valid=False)
    assert classify(result) is Action.FLAG_PAYLOAD


@pytest.mark.parametrize("legacy", sorted(set(LEGACY_FCM_REASONS) - {"MessageTooBig"}))
def test_legacy_fcm_strings_classify_like_their_v1_codes(legacy):
    v1 = LEGACY_FCM_REASONS[legacy]
    assert normalise_reason(Provider.FCM, legacy) == v1
    expected = classify(SendResult(Provider.FCM, FCM_STATUS[v1], v1))
    assert classify(legacy_fcm_result(legacy)) is expected


def test_legacy_message_too_big_blames_the_payload_and_keeps_the_token():
    """MessageTooBig maps onto INVALID_ARGUMENT, but the payload is at fault, not the token."""
    assert classify(legacy_fcm_result("MessageTooBig")) is Action.FLAG_PAYLOAD
    reg = new_registry()
    reg.session_start(
        0.0, device="pixel", app="shop", platform="android", token="t", foreground=True
    )
    outcome = reg.handle_response(1.0, "t", legacy_fcm_result("MessageTooBig"))
    assert outcome.removed is False
    assert reg.token("t") is not None
    assert reg.app("shop").payload_flagged_at == 1.0


def test_legacy_strings_are_only_fcm_strings():
    assert normalise_reason(Provider.APNS, "NotRegistered") == "NotRegistered"
    with pytest.raises(UnclassifiedAnswerError):
        classify(SendResult(Provider.APNS, 404, "NotRegistered"))
    with pytest.raises(UnclassifiedAnswerError):
        legacy_fcm_result("NoSuchError")


def test_web_push_answers_are_classified_by_status_alone():
    assert classify(SendResult(Provider.WEBPUSH, 410, "Gone")) is Action.REMOVE
    assert classify(SendResult(Provider.WEBPUSH, 504, "Gateway Timeout")) is Action.RETRY


@pytest.mark.parametrize(
    "result",
    [
        SendResult(Provider.FCM, 404, "NO_SUCH_REASON"),
        SendResult(Provider.APNS, 410, ""),
        SendResult(Provider.APNS, 418, "Teapot"),
        SendResult(Provider.WEBPUSH, 418, ""),
    ],
)
def test_an_answer_outside_the_table_is_refused(result):
    with pytest.raises(UnclassifiedAnswerError):
        classify(result)


def test_every_table_entry_is_a_non_delivery_action():
    assert all(action is not Action.DELIVERED for action in CLASSIFICATION.values())


def test_an_unclassified_answer_changes_nothing_in_the_registry():
    reg = new_registry()
    session(reg, 0.0, "phone", "tok")
    with pytest.raises(UnclassifiedAnswerError):
        reg.handle_response(1.0, "tok", SendResult(Provider.APNS, 418, "Teapot"))
    record = reg.token("tok")
    assert record is not None
    assert record.last_push_at is None


def test_targetability_listeners_hear_only_real_changes():
    reg = Registry()
    heard: list[tuple[str, bool]] = []
    reg.on_targetability(lambda profile, targetable: heard.append((profile, targetable)))
    reg.set_subscription(0.0, "ann", "subscribed")  # new profile, already targetable: no change
    reg.set_subscription(1.0, "ann", "opted_in")  # targetable → targetable: no change
    reg.set_subscription(2.0, "ann", "unsubscribed")
    reg.set_subscription(3.0, "ann", "unsubscribed")
    reg.set_subscription(4.0, "ann", "opted_in")
    assert heard == [("ann", False), ("ann", True)]
