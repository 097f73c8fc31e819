"""Stories and invariants of the subscription-per-device model (docs/model.md §8, OneSignal).

Each story names the rule of :mod:`sim.registry.subscriptions` it shows; the property test at the
end drives random timelines and checks the invariants every registry must keep.
"""

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.models import problems
from sim.platforms import Platform, Provider
from sim.providers.answers import SendResult
from sim.registry import (
    Cause,
    Change,
    InvalidTimeError,
    RegistryArgumentError,
    RegistryError,
    RegistryPolicy,
    SubscriptionState,
    TimeWentBackwardsError,
    TokenEvent,
    TokenRecord,
    UnknownProfileError,
    anonymous_profile_id,
    engagement_view,
    export_profile,
)
from sim.registry.protocol import RegistryProtocol
from sim.registry.subscriptions import SubscriptionRegistry

SHOP = "shop"  # iOS + Android
SITE = "site"  # Web Push
OPTED_IN = SubscriptionState.OPTED_IN
SUBSCRIBED = SubscriptionState.SUBSCRIBED
UNSUBSCRIBED = SubscriptionState.UNSUBSCRIBED


def new_registry(
    policy: RegistryPolicy | None = None, *, max_subscriptions: int = 20
) -> SubscriptionRegistry:
    reg = SubscriptionRegistry(policy, max_subscriptions=max_subscriptions)
    reg.add_app(SHOP, ["ios", "android"], uninstall_tracking=True)
    reg.add_app(SITE, [Platform.WEB])
    return reg


def record_events(reg: SubscriptionRegistry) -> list[TokenEvent]:
    log: list[TokenEvent] = []
    reg.subscribe(log.append)
    return log


def summary(events: list[TokenEvent]) -> list[tuple[str, str, str, str]]:
    return [(e.change.value, e.cause.value, e.token, e.profile) for e in events]


def session(
    reg: SubscriptionRegistry,
    now: float,
    device: str = "phone",
    token: str | None = "tok",
    *,
    foreground: bool = True,
) -> TokenRecord | None:
    return reg.session_start(
        now, device=device, app=SHOP, platform=Platform.IOS, token=token, foreground=foreground
    )


def held(reg: SubscriptionRegistry, token: str) -> TokenRecord:
    record = reg.token(token)
    assert record is not None, f"the registry should hold {token!r}"
    return record


def campaign(reg: SubscriptionRegistry, app: str = SHOP) -> list[tuple[str, str]]:
    return [(r.token, r.profile) for r in reg.campaign_tokens(app)]


# -- the seam ------------------------------------------------------------------------------------


def test_the_model_has_the_shape_of_a_registry() -> None:
    assert problems(SubscriptionRegistry()) == []
    assert isinstance(SubscriptionRegistry(), RegistryProtocol)


def test_the_factory_of_the_model_builds_it() -> None:
    from sim.models import build_registry

    reg = build_registry("subscriptions", RegistryPolicy(), {"max_subscriptions": 3})
    assert isinstance(reg, SubscriptionRegistry)
    assert reg.max_subscriptions == 3


@pytest.mark.parametrize("bad", [0, -1, True, 2.0, "20"])
def test_a_limit_that_is_not_a_positive_whole_number_is_refused(bad: object) -> None:
    with pytest.raises(RegistryArgumentError):
        SubscriptionRegistry(max_subscriptions=bad)  # type: ignore[arg-type]


# -- login and logout ----------------------------------------------------------------------------


class TestCharlieAndKimShareAPhone:
    """Login moves the subscription; logout detaches it to a new anonymous user."""

    def test_first_session_belongs_to_the_install_s_anonymous_user(self) -> None:
        reg = new_registry()
        session(reg, 0.0)
        anonymous = anonymous_profile_id("phone", SHOP)
        assert held(reg, "tok").profile == anonymous
        assert reg.profile(anonymous).anonymous
        assert reg.subscriptions(anonymous) == [("phone", SHOP)]

    def test_kim_s_login_moves_the_subscription_and_logout_detaches_it(self) -> None:
        reg = new_registry()
        session(reg, 0.0)
        reg.change_user(0.1, device="phone", app=SHOP, user="charlie")
        assert campaign(reg) == [("tok", "charlie")]

        reg.change_user(1.0, device="phone", app=SHOP, user="kim")
        assert campaign(reg) == [("tok", "kim")]
        assert reg.profile("charlie").tokens == {}
        assert reg.subscriptions("charlie") == []
        assert reg.audience(SHOP) == ["kim"]

        reg.log_out(2.0, device="phone", app=SHOP)
        detached = f"{anonymous_profile_id('phone', SHOP)}:1"
        assert reg.user_of("phone", SHOP) == detached
        assert reg.audience(SHOP) == [detached]  # Kim is no longer in the audience...
        assert campaign(reg) == [("tok", detached)]  # ...and the token is still pushable
        assert reg.profile(detached).anonymous
        assert reg.profile("kim").tokens == {}
        assert reg.subscriptions("kim") == []

        reg.change_user(3.0, device="phone", app=SHOP, user="charlie")
        assert campaign(reg) == [("tok", "charlie")]

    def test_every_logout_makes_a_fresh_anonymous_user(self) -> None:
        reg = new_registry()
        session(reg, 0.0)
        base = anonymous_profile_id("phone", SHOP)
        for n, user in enumerate(["kim", "charlie", "kim"], start=1):
            reg.change_user(float(n), device="phone", app=SHOP, user=user)
            reg.log_out(n + 0.5, device="phone", app=SHOP)
            assert reg.user_of("phone", SHOP) == f"{base}:{n}"
        assert [p.profile_id for p in reg.profiles() if p.anonymous] == [
            base,
            f"{base}:1",
            f"{base}:2",
            f"{base}:3",
        ]

    def test_a_logout_with_nobody_logged_in_changes_nothing(self) -> None:
        reg = new_registry()
        log = record_events(reg)
        session(reg, 0.0)
        reg.log_out(1.0, device="phone", app=SHOP)
        reg.log_out(1.0, device="nowhere", app=SHOP)
        assert reg.user_of("phone", SHOP) == anonymous_profile_id("phone", SHOP)
        assert [e.change for e in log] == [Change.ADD]

    def test_the_views_follow_the_subscription(self) -> None:
        reg = new_registry()
        session(reg, 0.0)
        reg.change_user(0.1, device="phone", app=SHOP, user="kim")
        assert export_profile(reg, "kim")["push_tokens"][0]["token"] == "tok"
        reg.log_out(1.0, device="phone", app=SHOP)
        assert engagement_view(reg, "kim")[0].text == "--"
        assert export_profile(reg, "kim")["push_tokens"] == []


class TestIdentity:
    """R14: a never-seen id takes the anonymous user's state; an existing one keeps its own."""

    def test_a_new_id_takes_over_the_anonymous_state(self) -> None:
        reg = new_registry()
        session(reg, 0.0)
        anonymous = anonymous_profile_id("phone", SHOP)
        reg.set_subscription(0.5, anonymous, UNSUBSCRIBED)
        reg.change_user(1.0, device="phone", app=SHOP, user="kim")
        assert reg.profile("kim").state is UNSUBSCRIBED
        assert not reg.is_targetable("kim")
        assert reg.audience(SHOP) == []
        assert held(reg, "tok").profile == "kim"

    def test_an_existing_id_keeps_its_own_state(self) -> None:
        reg = new_registry()
        reg.set_subscription(0.0, "kim", OPTED_IN)
        session(reg, 0.5)
        reg.set_subscription(0.6, anonymous_profile_id("phone", SHOP), UNSUBSCRIBED)
        reg.change_user(1.0, device="phone", app=SHOP, user="kim")
        assert reg.profile("kim").state is OPTED_IN
        assert reg.audience(SHOP) == ["kim"]

    def test_a_login_before_any_session_creates_the_subscription_for_the_user(self) -> None:
        reg = new_registry()
        reg.change_user(0.0, device="phone", app=SHOP, user="kim")
        session(reg, 0.1)
        assert held(reg, "tok").profile == "kim"
        assert not reg.has_profile(anonymous_profile_id("phone", SHOP))

    def test_anonymous_ids_are_not_external_ids(self) -> None:
        reg = new_registry()
        with pytest.raises(RegistryArgumentError):
            reg.change_user(0.0, device="phone", app=SHOP, user="anon:phone:shop")
        with pytest.raises(UnknownProfileError):
            reg.set_subscription(0.0, "anon:nobody:shop", UNSUBSCRIBED)
        with pytest.raises(UnknownProfileError):
            reg.profile("nobody")


# -- opt-in per subscription ---------------------------------------------------------------------


class TestOptInIsPerSubscription:
    def test_granting_permission_does_not_opt_the_user_in(self) -> None:
        reg = new_registry()
        session(reg, 0.0, "phone", "tok-phone", foreground=True)
        session(reg, 0.0, "tablet", "tok-tablet", foreground=False)
        for device in ("phone", "tablet"):
            reg.change_user(0.1, device=device, app=SHOP, user="charlie")
        assert reg.profile("charlie").state is SUBSCRIBED  # no automatic opted_in
        assert campaign(reg) == [("tok-phone", "charlie")]  # the tablet is not enabled
        all_tokens = reg.campaign_tokens(SHOP, foreground_only=False)
        assert {r.token for r in all_tokens} == {"tok-phone", "tok-tablet"}

    def test_permission_is_the_subscription_s_and_follows_the_session_reports(self) -> None:
        reg = new_registry()
        log = record_events(reg)
        session(reg, 0.0, foreground=False)
        session(reg, 1.0, foreground=True)  # granted in the OS settings
        assert held(reg, "tok").foreground
        assert reg.profile(anonymous_profile_id("phone", SHOP)).state is SUBSCRIBED
        assert (log[-1].change, log[-1].cause) == (Change.UPDATE, Cause.PERMISSION)
        session(reg, 2.0, foreground=False)
        assert reg.audience(SHOP) == []

    def test_an_unsubscribed_user_is_not_targeted_on_any_subscription(self) -> None:
        reg = new_registry()
        changes: list[tuple[str, bool]] = []
        reg.on_targetability(lambda p, t: changes.append((p, t)))
        for device in ("phone", "tablet"):
            session(reg, 0.0, device, f"tok-{device}")
        for device in ("phone", "tablet"):
            reg.change_user(0.1, device=device, app=SHOP, user="charlie")
        reg.set_subscription(1.0, "charlie", UNSUBSCRIBED)
        assert campaign(reg) == []
        assert reg.audience_size(SHOP) == 0
        assert reg.audience(SHOP, include_unsubscribed=True) == ["charlie"]
        reg.set_subscription(2.0, "charlie", OPTED_IN)
        assert reg.audience_size(SHOP) == 1
        assert changes == [("charlie", False), ("charlie", True)]


# -- the limit of subscriptions per user ---------------------------------------------------------


class TestTheLimitOfSubscriptions:
    def test_the_21st_subscription_detaches_the_one_with_the_oldest_last_session(self) -> None:
        reg = new_registry()
        for n in range(20):
            session(reg, float(n), f"d{n}", f"tok{n}")
            reg.change_user(float(n), device=f"d{n}", app=SHOP, user="kim")
        session(reg, 25.0, "d0", "tok0")  # d0 was used again: d1 is now the oldest
        session(reg, 30.0, "d20", "tok20")
        log = record_events(reg)
        reg.change_user(30.0, device="d20", app=SHOP, user="kim")

        kim = reg.subscriptions("kim")
        assert len(kim) == 20
        assert ("d1", SHOP) not in kim
        assert ("d0", SHOP) in kim and ("d20", SHOP) in kim
        detached = f"{anonymous_profile_id('d1', SHOP)}:1"
        assert held(reg, "tok1").profile == detached
        assert reg.subscriptions(detached) == [("d1", SHOP)]
        assert summary(log) == [
            ("remove", "moved", "tok20", anonymous_profile_id("d20", SHOP)),
            ("add", "moved", "tok20", "kim"),
            ("remove", "moved", "tok1", "kim"),
            ("add", "moved", "tok1", detached),
        ]

    def test_ties_go_to_the_subscription_that_joined_first(self) -> None:
        reg = new_registry(max_subscriptions=2)
        for device in ("b", "a", "c"):
            session(reg, 0.0, device, f"tok-{device}")
        for device in ("b", "a", "c"):
            reg.change_user(1.0, device=device, app=SHOP, user="kim")
        assert reg.subscriptions("kim") == [("a", SHOP), ("c", SHOP)]
        assert reg.user_of("b", SHOP) == f"{anonymous_profile_id('b', SHOP)}:1"

    def test_a_subscription_without_a_token_counts_and_the_new_one_is_never_detached(self) -> None:
        reg = new_registry(max_subscriptions=1)
        session(reg, 0.0, "old", None)  # a subscription with no token (never granted)
        reg.change_user(0.0, device="old", app=SHOP, user="kim")
        reg.change_user(0.0, device="new", app=SHOP, user="kim")  # never seen in a session
        assert reg.subscriptions("kim") == [("new", SHOP)]


# -- provider answers, rotation, pruning ---------------------------------------------------------


class TestTokens:
    def test_a_bounce_removes_the_token_not_the_user_s_state(self) -> None:
        reg = new_registry()
        session(reg, 0.0)
        reg.change_user(0.1, device="phone", app=SHOP, user="kim")
        reg.set_subscription(0.2, "kim", OPTED_IN)
        log = record_events(reg)
        outcome = reg.handle_response(5.0, "tok", SendResult(Provider.APNS, 410, "Unregistered"))
        assert outcome.removed
        assert reg.token("tok") is None
        assert reg.profile("kim").state is OPTED_IN
        assert reg.subscriptions("kim") == [("phone", SHOP)]  # the subscription stays
        assert summary(log) == [("remove", "bounce", "tok", "kim")]
        estimate = reg.uninstall_estimate("phone", SHOP)
        assert estimate is not None and estimate.uninstalled_at == 0.0

    def test_an_apns_410_older_than_the_latest_registration_is_ignored(self) -> None:
        reg = new_registry()
        session(reg, 0.0)
        session(reg, 3.0)
        answer = SendResult(Provider.APNS, 410, "Unregistered", timestamp=2.0)
        assert reg.handle_response(4.0, "tok", answer).stale_410
        assert reg.token("tok") is not None

    def test_transient_answers_keep_the_token(self) -> None:
        reg = new_registry()
        session(reg, 0.0)
        reg.handle_response(1.0, "tok", SendResult(Provider.APNS, 503, "ServiceUnavailable"))
        assert held(reg, "tok").last_push_at == 1.0

    def test_a_new_token_replaces_the_old_one_on_the_subscription(self) -> None:
        reg = new_registry()
        log = record_events(reg)
        session(reg, 0.0, token="old")
        reg.change_user(0.1, device="phone", app=SHOP, user="kim")
        session(reg, 1.0, token="new")
        assert reg.token("old") is None
        assert held(reg, "new").profile == "kim"
        assert summary(log)[-2:] == [
            ("remove", "replaced", "old", "kim"),
            ("add", "registered", "new", "kim"),
        ]

    def test_web_push_exists_only_after_opt_in(self) -> None:
        reg = new_registry()
        reg.session_start(
            0.0, device="laptop", app=SITE, platform="web", token=None, foreground=False
        )
        assert reg.token_for("laptop", SITE) is None
        reg.session_start(
            1.0, device="laptop", app=SITE, platform="web", token="w", foreground=True
        )
        assert campaign(reg, SITE) == [("w", anonymous_profile_id("laptop", SITE))]

    def test_pruning_removes_quiet_tokens_when_the_policy_asks(self) -> None:
        reg = new_registry(RegistryPolicy(prune_after_days=30))
        session(reg, 0.0, "quiet", "q")
        session(reg, 20.0, "busy", "b")
        assert reg.prune_inactive(31.0) == ["q"]
        assert [r.token for r in reg.tokens()] == ["b"]

    def test_there_are_no_uninstall_probes(self) -> None:
        reg = new_registry()
        session(reg, 0.0)
        assert reg.probe_targets(10.0, SHOP) == []


class TestEventsAndTime:
    def test_every_add_update_and_remove_is_an_event_and_a_move_is_remove_plus_add(self) -> None:
        reg = new_registry()
        log = record_events(reg)
        anonymous = anonymous_profile_id("phone", SHOP)
        session(reg, 0.0, foreground=False)
        session(reg, 1.0, foreground=True)
        reg.change_user(2.0, device="phone", app=SHOP, user="kim")
        session(reg, 3.0, token=None)
        assert summary(log) == [
            ("add", "registered", "tok", anonymous),
            ("update", "permission", "tok", anonymous),
            ("remove", "moved", "tok", anonymous),
            ("add", "moved", "tok", "kim"),
            ("remove", "purged", "tok", "kim"),
        ]
        assert [e.time for e in log] == [0.0, 1.0, 2.0, 2.0, 3.0]

    def test_time_going_backwards_is_refused_before_anything_changes(self) -> None:
        reg = new_registry()
        session(reg, 5.0)
        with pytest.raises(TimeWentBackwardsError):
            reg.change_user(4.0, device="phone", app=SHOP, user="kim")
        with pytest.raises(TimeWentBackwardsError):
            session(reg, 4.0, token="other")
        assert held(reg, "tok").profile == anonymous_profile_id("phone", SHOP)
        for bad in (math.nan, math.inf, None, "5"):
            with pytest.raises(InvalidTimeError):
                reg.log_out(bad, device="phone", app=SHOP)  # type: ignore[arg-type]

    def test_a_token_of_another_app_is_refused(self) -> None:
        reg = new_registry()
        session(reg, 0.0)
        with pytest.raises(RegistryError):
            reg.session_start(
                0.0, device="pc", app=SITE, platform="web", token="tok", foreground=True
            )


# -- invariants over random timelines ------------------------------------------------------------

DEVICES = {"d0": Platform.IOS, "d1": Platform.ANDROID, "d2": Platform.IOS, "d3": Platform.ANDROID}
SLOTS = [(device, app) for device in DEVICES for app in (SHOP, SITE)]
USERS = ("u0", "u1")  # few users, so that logins pile subscriptions up beyond the limit
LIMIT = 2


def platform_of(slot: tuple[str, str]) -> Platform:
    return Platform.WEB if slot[1] == SITE else DEVICES[slot[0]]


ANSWERS = {
    Platform.IOS: [
        SendResult(Provider.APNS, 200),
        SendResult(Provider.APNS, 410, "Unregistered", timestamp=0.0),
        SendResult(Provider.APNS, 503, "ServiceUnavailable"),
    ],
    Platform.ANDROID: [
        SendResult(Provider.FCM, 200),
        SendResult(Provider.FCM, 404, "UNREGISTERED"),
    ],
    Platform.WEB: [SendResult(Provider.WEBPUSH, 201), SendResult(Provider.WEBPUSH, 410)],
}

slots = st.sampled_from(SLOTS)
operations = st.one_of(
    # a session reporting: the slot's current token, a rotated one, a token of another slot, none
    st.tuples(
        st.just("session"),
        slots,
        st.sampled_from(["same", "rotate", "other", "none"]),
        st.booleans(),
        slots,
    ),
    st.tuples(st.just("login"), slots, st.sampled_from(USERS)),
    st.tuples(st.just("logout"), slots),
    st.tuples(st.just("state"), st.sampled_from(USERS), st.sampled_from(list(SubscriptionState))),
    st.tuples(st.just("answer"), slots, st.integers(0, 2)),
    st.tuples(st.just("prune")),
)


def check_invariants(
    reg: SubscriptionRegistry, reported: set[tuple[str, tuple[str, str]]], log: list[TokenEvent]
) -> None:
    records = list(reg.tokens())
    # a slot holds at most one token, a token has one record
    assert len({r.slot for r in records}) == len(records)
    assert len({r.token for r in records}) == len(records)
    for record in records:
        assert (record.token, record.slot) in reported  # nothing held that no session reported
        assert reg.token(record.token) is record
        assert reg.token_for(*record.slot) is record
        assert record.slot in reg.subscriptions(record.profile)
    # every profile's tokens agree with the look-ups, and a token is in one profile only
    owners: dict[str, str] = {}
    for profile in reg.profiles():
        assert len(reg.subscriptions(profile.profile_id)) <= LIMIT
        for slot, token in profile.tokens.items():
            assert token not in owners, f"{token} held by {owners.get(token)} and {profile}"
            owners[token] = profile.profile_id
            found = reg.token(token)
            assert found is not None and found.slot == slot
            assert found.profile == profile.profile_id
            assert reg.token_for(*slot) is found
    assert owners == {r.token: r.profile for r in records}
    # replaying the events gives the tokens held, with their owners
    replay: dict[str, str] = {}
    for event in log:
        if event.change is Change.ADD:
            assert event.token not in replay
            replay[event.token] = event.profile
        elif event.change is Change.REMOVE:
            assert replay.pop(event.token) == event.profile
        else:
            assert replay[event.token] == event.profile
    assert replay == owners
    # the audience agrees with the records
    for app in (SHOP, SITE):
        targeted = {r.profile for r in records if r.app == app and r.foreground}
        targeted = {p for p in targeted if reg.is_targetable(p)}
        assert set(reg.audience(app)) == targeted
        assert reg.audience_size(app) == len(targeted)


@settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.lists(operations, min_size=5, max_size=50), st.booleans())
def test_invariants_hold_over_random_timelines(
    timeline: list[tuple[object, ...]], prune: bool
) -> None:
    reg = SubscriptionRegistry(
        RegistryPolicy(prune_after_days=2.0 if prune else None), max_subscriptions=LIMIT
    )
    reg.add_app(SHOP, ["ios", "android"])
    reg.add_app(SITE, ["web"])
    log = record_events(reg)
    issued: dict[tuple[str, str], int] = {}
    reported: set[tuple[str, tuple[str, str]]] = set()
    now = 0.0
    for step in timeline:
        now += 0.5
        kind = step[0]
        if kind == "session":
            _, slot, which, shown, other = step
            assert isinstance(slot, tuple) and isinstance(other, tuple)
            token: str | None
            if which == "none":
                token = None
            elif (
                which == "other" and platform_of(other) is platform_of(slot) and other[1] == slot[1]
            ):
                token = f"{other[0]}/{other[1]}/{issued.get(other, 0)}"
            else:
                issued[slot] = issued.get(slot, 0) + (which == "rotate")
                token = f"{slot[0]}/{slot[1]}/{issued[slot]}"
            reg.session_start(
                now,
                device=slot[0],
                app=slot[1],
                platform=platform_of(slot),
                token=token,
                foreground=bool(shown),
            )
            if token is not None:
                reported.add((token, slot))
        elif kind == "login":
            _, slot, user = step
            assert isinstance(slot, tuple) and isinstance(user, str)
            reg.change_user(now, device=slot[0], app=slot[1], user=user)
            assert reg.user_of(*slot) == user
        elif kind == "logout":
            _, slot = step
            assert isinstance(slot, tuple)
            reg.log_out(now, device=slot[0], app=slot[1])
            user = reg.user_of(*slot)
            assert user is None or reg.profile(user).anonymous
        elif kind == "state":
            _, user, state = step
            assert isinstance(user, str) and isinstance(state, SubscriptionState)
            reg.set_subscription(now, user, state)
        elif kind == "answer":
            _, slot, index = step
            assert isinstance(slot, tuple) and isinstance(index, int)
            record = reg.token_for(*slot)
            if record is not None:
                answers = ANSWERS[record.platform]
                reg.handle_response(now, record.token, answers[index % len(answers)])
        else:
            reg.prune_inactive(now)
        check_invariants(reg, reported, log)


def test_a_logout_on_a_slot_first_seen_at_a_login_still_gets_a_numbered_anonymous_user() -> None:
    reg = new_registry()
    reg.change_user(0.0, device="phone", app=SHOP, user="kim")
    reg.log_out(1.0, device="phone", app=SHOP)
    assert reg.user_of("phone", SHOP) == f"{anonymous_profile_id('phone', SHOP)}:1"


def test_an_anonymous_id_taken_by_another_slot_is_skipped() -> None:
    reg = new_registry()
    reg.add_app("1", ["ios"])
    reg.session_start(0.0, device="d:shop", app="1", platform="ios", token="t1", foreground=True)
    assert reg.user_of("d:shop", "1") == "anon:d:shop:1"  # the id a logout on (d, shop) is due
    session(reg, 0.0, "d", "t2")
    reg.change_user(0.0, device="d", app=SHOP, user="kim")
    reg.log_out(0.0, device="d", app=SHOP)
    assert reg.user_of("d", SHOP) == "anon:d:shop:2"
    assert held(reg, "t1").profile == "anon:d:shop:1"
