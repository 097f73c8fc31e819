"""R14 identity: what an anonymous profile set before login reaches the identified profile."""

from __future__ import annotations

from sim.registry import Registry, SubscriptionState, anonymous_profile_id

PHONE = "phone"


def _prompted_before_login(registry: Registry) -> str:
    """The app is launched and the OS prompt granted before anyone logs in."""
    registry.add_app("app", ["ios"])
    registry.session_start(
        0.0, device=PHONE, app="app", platform="ios", token="t1", foreground=True
    )
    anonymous = anonymous_profile_id(PHONE, "app")
    assert registry.profile(anonymous).state is SubscriptionState.OPTED_IN
    return anonymous


def test_a_new_id_becomes_the_anonymous_profile_state_included() -> None:
    registry = Registry()
    _prompted_before_login(registry)
    registry.change_user(1.0, device=PHONE, app="app", user="kim")
    kim = registry.profile("kim")
    assert kim.state is SubscriptionState.OPTED_IN
    assert kim.state_changed_at == 0.0  # carried over, not re-stamped
    assert dict(kim.tokens) == {(PHONE, "app"): "t1"}


def test_an_unsubscribe_before_login_reaches_the_new_user_and_the_audience() -> None:
    registry = Registry()
    anonymous = _prompted_before_login(registry)
    registry.set_subscription(0.5, anonymous, "unsubscribed")
    registry.change_user(1.0, device=PHONE, app="app", user="kim")
    assert registry.profile("kim").state is SubscriptionState.UNSUBSCRIBED
    assert registry.audience("app") == []
    assert registry.audience_size("app") == 0


def test_an_existing_user_keeps_their_own_state() -> None:
    registry = Registry()
    registry.set_subscription(0.0, "kim", "unsubscribed")
    _prompted_before_login(registry)
    registry.change_user(1.0, device=PHONE, app="app", user="kim")
    assert registry.profile("kim").state is SubscriptionState.UNSUBSCRIBED
    assert registry.token_for(PHONE, "app").profile == "kim"  # type: ignore[union-attr]


def test_an_existing_user_with_no_state_of_their_own_gets_the_anonymous_one() -> None:
    registry = Registry()
    registry.add_app("other", ["web"])
    registry.change_user(0.0, device="laptop", app="other", user="kim")  # kim exists, state unset
    _prompted_before_login(registry)
    registry.change_user(1.0, device=PHONE, app="app", user="kim")
    assert registry.profile("kim").state is SubscriptionState.OPTED_IN


def test_a_switch_between_identified_users_carries_nothing() -> None:
    registry = Registry()
    _prompted_before_login(registry)
    registry.change_user(1.0, device=PHONE, app="app", user="charlie")
    registry.set_subscription(1.5, "charlie", "unsubscribed")
    registry.change_user(2.0, device=PHONE, app="app", user="kim")
    assert registry.profile("kim").state is SubscriptionState.SUBSCRIBED  # R2 only
    assert registry.profile("charlie").state is SubscriptionState.UNSUBSCRIBED
