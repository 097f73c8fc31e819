"""What the two registration models share: the argument checks and :class:`RegistryCore`.

The reference and the subscription-per-device model extend one core; these tests pin that the
shared rules behave alike in both, and that each model's own rules (opt-in on a grant, uninstall
probes, the slot's first user) stay its own.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.platforms import Platform, Provider
from sim.providers.answers import SendResult
from sim.registry import (
    InvalidTimeError,
    Registry,
    RegistryArgumentError,
    RegistryPolicy,
    SubscriptionState,
    TimeWentBackwardsError,
    anonymous_profile_id,
)
from sim.registry.base import RegistryCore
from sim.registry.checks import check_id, check_policy, check_time, check_user
from sim.registry.subscriptions import Subscription, SubscriptionRegistry

SHOP = "shop"
MODELS = [Registry, SubscriptionRegistry]


def new_registry(model: type[RegistryCore]) -> RegistryCore:
    reg = model()
    reg.add_app(SHOP, ["ios", "android"], uninstall_tracking=True)
    return reg


def ios_session(reg: RegistryCore, now: float, token: str | None, *, foreground: bool = True):
    return reg.session_start(
        now, device="phone", app=SHOP, platform=Platform.IOS, token=token, foreground=foreground
    )


# -- the checks --------------------------------------------------------------------------------


@pytest.mark.parametrize("now", [0, 2.5, np.float64(3.0), np.int64(4), 10**300])
def test_a_finite_real_now_not_earlier_than_the_latest_passes(now: object):
    check_time(now, 0.0)


@pytest.mark.parametrize("now", [None, "1", math.inf, -math.inf, math.nan, 10**400, complex(1, 0)])
def test_a_now_that_is_not_a_finite_number_is_refused(now: object):
    with pytest.raises(InvalidTimeError, match="now must be a finite number of days"):
        check_time(now, 0.0)


def test_an_earlier_now_went_backwards():
    with pytest.raises(TimeWentBackwardsError, match="earlier than the registry's latest time"):
        check_time(1.0, 2.0)


@pytest.mark.parametrize("bad", ["", None, 7, b"phone"])
def test_an_id_must_be_a_non_empty_string(bad: object):
    with pytest.raises(RegistryArgumentError, match="device must be a non-empty string"):
        check_id("device", bad)
    check_id("device", "phone")


@pytest.mark.parametrize("bad", ["", None, "anon:phone:shop"])
def test_a_user_id_must_be_an_external_id(bad: object):
    with pytest.raises(RegistryArgumentError, match="non-empty external id"):
        check_user(bad)
    check_user("ann")


def test_a_policy_must_be_a_registry_policy():
    with pytest.raises(RegistryArgumentError, match="policy must be a RegistryPolicy"):
        check_policy({"detach_on_logout": True})
    check_policy(RegistryPolicy())


# -- the shared core, in both models -------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_both_models_refuse_the_same_arguments_with_the_same_messages(model: type[RegistryCore]):
    reg = new_registry(model)
    with pytest.raises(RegistryArgumentError, match="platforms must be a list of platforms"):
        reg.add_app("site", "web")
    with pytest.raises(RegistryArgumentError, match="uninstall_tracking must be true or false"):
        reg.add_app("site", ["web"], uninstall_tracking=1)  # type: ignore[arg-type]
    with pytest.raises(RegistryArgumentError, match="policy must be a RegistryPolicy"):
        model(policy=object())  # type: ignore[arg-type]
    ios_session(reg, 2.0, "tok")
    with pytest.raises(TimeWentBackwardsError, match="earlier than the registry's latest time"):
        ios_session(reg, 1.0, "tok")
    assert reg.now == 2.0


@pytest.mark.parametrize("model", MODELS)
def test_a_slot_first_session_belongs_to_its_anonymous_user(model: type[RegistryCore]):
    reg = new_registry(model)
    record = ios_session(reg, 1.0, "tok")
    anonymous = anonymous_profile_id("phone", SHOP)
    assert record is not None and record.profile == anonymous
    assert reg.current_user("phone", SHOP) == anonymous
    assert reg.profile(anonymous).anonymous and reg.profile(anonymous).devices == ("phone",)
    assert reg.token_for("phone", SHOP) is record and reg.token_count == 1


@pytest.mark.parametrize("model", MODELS)
def test_a_bounce_removes_the_token_and_estimates_the_uninstall_alike(model: type[RegistryCore]):
    reg = new_registry(model)
    ios_session(reg, 1.0, "tok")
    stale = reg.handle_response(2.0, "tok", SendResult(Provider.APNS, 410, "Unregistered", 0.5))
    assert stale.stale_410 and reg.token("tok") is not None
    gone = reg.handle_response(3.0, "tok", SendResult(Provider.APNS, 410, "Unregistered", 1.5))
    assert gone.removed and reg.token("tok") is None
    estimate = reg.uninstall_estimate("phone", SHOP)
    assert estimate is not None and estimate.uninstalled_at == 1.5 and estimate.detected_at == 3.0
    assert reg.current_user("phone", SHOP) == anonymous_profile_id("phone", SHOP)


# -- each model's own rules ----------------------------------------------------------------------


def test_a_grant_opts_the_profile_in_only_in_the_reference():
    reference, subscriptions = new_registry(Registry), new_registry(SubscriptionRegistry)
    for reg in (reference, subscriptions):
        ios_session(reg, 1.0, "tok", foreground=False)
        ios_session(reg, 2.0, "tok", foreground=True)
    anonymous = anonymous_profile_id("phone", SHOP)
    assert reference.profile(anonymous).state is SubscriptionState.OPTED_IN
    assert subscriptions.profile(anonymous).state is SubscriptionState.SUBSCRIBED
    assert subscriptions.token_for("phone", SHOP).foreground  # type: ignore[union-attr]


def test_only_the_reference_probes_quiet_tokens():
    assert Registry.uninstall_probes and not SubscriptionRegistry.uninstall_probes
    reference, subscriptions = new_registry(Registry), new_registry(SubscriptionRegistry)
    for reg in (reference, subscriptions):
        ios_session(reg, 1.0, "tok")
    assert reference.probe_targets(3.0, SHOP) == ["tok"]
    assert subscriptions.probe_targets(3.0, SHOP) == []


def test_a_subscription_reads_as_its_user_last_session_and_token():
    reg = SubscriptionRegistry()
    reg.add_app(SHOP, ["ios"])
    assert reg.subscription("phone", SHOP) is None
    reg.change_user(1.0, device="phone", app=SHOP, user="ann")
    assert reg.subscription("phone", SHOP) == Subscription("phone", SHOP, "ann")
    record = ios_session(reg, 2.0, "tok")
    assert reg.subscription("phone", SHOP) == Subscription("phone", SHOP, "ann", 2.0, record)
    ios_session(reg, 3.0, None)
    assert reg.subscription("phone", SHOP) == Subscription("phone", SHOP, "ann", 3.0)
    reg.log_out(4.0, device="phone", app=SHOP)
    detached = f"{anonymous_profile_id('phone', SHOP)}:1"
    assert reg.subscription("phone", SHOP) == Subscription("phone", SHOP, detached, 3.0)
    assert reg.user_of("phone", SHOP) == reg.current_user("phone", SHOP) == detached
