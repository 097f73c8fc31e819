"""ProviderConfig: defaults from docs/model.md §2 and validation of every field."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest

from sim.platforms import MINUTE, Provider
from sim.providers import (
    FixedLag,
    LognormalLag,
    ProviderConfig,
    ProviderConfigError,
    ProviderError,
    UniformLag,
    WeibullLifetime,
)
from sim.providers.config import (
    APNS_UNINSTALL_LAG,
    FCM_UNINSTALL_LAG,
    WEB_SUBSCRIPTION_LIFETIME,
)


def test_provider_defaults_follow_design() -> None:
    apns, fcm, web = ProviderConfig.apns(), ProviderConfig.fcm(), ProviderConfig.webpush()
    assert apns.uninstall_lag == APNS_UNINSTALL_LAG == LognormalLag(10.0, 1.35, 7.0)
    assert apns.inactivity_expiry_days is None
    assert fcm.uninstall_lag == FCM_UNINSTALL_LAG == LognormalLag(1.5, 0.9, 0.5)
    assert fcm.inactivity_expiry_days == 270.0
    assert fcm.stale_after_days == 30.0
    assert web.uninstall_lag == FixedLag(0.0)
    assert web.inactivity_expiry_days == 60.0
    assert web.silent_death == WEB_SUBSCRIPTION_LIFETIME == WeibullLifetime(170.0, 1.75)
    assert web.silent_death_reported
    assert apns.silent_death is None and fcm.silent_death is None
    for config in (apns, fcm, web):
        assert config.transient_error_rate == 0.0
        assert config.credentials_valid
        assert not config.legacy_fcm_strings
        assert not config.reissue_same_token_on_reinstall
        assert config.max_payload_bytes == 4096
        assert config.retry_after_days == pytest.approx(MINUTE)
    assert ProviderConfig.for_provider(Provider.APNS) == apns
    assert ProviderConfig.for_provider(Provider.FCM) == fcm
    assert ProviderConfig.for_provider(Provider.WEBPUSH) == web


def test_default_constructors_accept_overrides() -> None:
    config = ProviderConfig.fcm(legacy_fcm_strings=True, transient_error_rate=0.1)
    assert config.legacy_fcm_strings
    assert config.transient_error_rate == 0.1
    assert config.inactivity_expiry_days == 270.0
    with pytest.raises(TypeError):
        ProviderConfig.apns(no_such_field=1)


def test_a_lag_window_or_number_is_normalised_to_a_lag_object() -> None:
    config = ProviderConfig(uninstall_lag=[1, 3])  # type: ignore[arg-type]
    assert config.uninstall_lag == UniformLag(1.0, 3.0)
    assert isinstance(config.uninstall_lag, UniformLag)
    assert isinstance(config.uninstall_lag.low_days, float)
    window = ProviderConfig(uninstall_lag=(2.0, 2.0))  # type: ignore[arg-type]
    assert window.uninstall_lag == UniformLag(2.0, 2.0)
    assert ProviderConfig(uninstall_lag=4).uninstall_lag == FixedLag(4.0)  # type: ignore[arg-type]


def test_config_is_frozen() -> None:
    config = ProviderConfig.apns()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.transient_error_rate = 0.5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"uninstall_lag": (-1.0, 2.0)}, "low_days"),
        ({"uninstall_lag": (1.0, math.inf)}, "high_days"),
        ({"uninstall_lag": (3.0, 2.0)}, "low_days must be <= high_days"),
        ({"uninstall_lag": (1.0, 2.0, 3.0)}, "pair"),
        ({"uninstall_lag": "9 days"}, "uninstall_lag must be"),
        ({"uninstall_lag": True}, "uninstall_lag must be"),
        ({"silent_death": 170.0}, "silent_death"),
        ({"transient_error_rate": -0.01}, "transient_error_rate"),
        ({"transient_error_rate": 1.01}, "transient_error_rate"),
        ({"transient_error_rate": math.nan}, "transient_error_rate"),
        ({"inactivity_expiry_days": 0.0}, "inactivity_expiry_days"),
        ({"inactivity_expiry_days": -60.0}, "inactivity_expiry_days"),
        ({"stale_after_days": -1.0}, "stale_after_days"),
        ({"max_payload_bytes": 0}, "max_payload_bytes"),
        ({"retry_after_days": -MINUTE}, "retry_after_days"),
    ],
)
def test_invalid_config_raises_a_clear_value_error(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ProviderConfigError, match=message) as caught:
        ProviderConfig(**changes)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, ProviderError)
    # the default constructors validate their overrides too
    with pytest.raises(ValueError, match=message):
        ProviderConfig.fcm(**changes)


def test_boundary_values_are_valid() -> None:
    ProviderConfig(transient_error_rate=0.0)
    ProviderConfig(transient_error_rate=1.0)
    ProviderConfig(uninstall_lag=(2.0, 2.0), retry_after_days=0.0, max_payload_bytes=1)  # type: ignore[arg-type]
    ProviderConfig(
        uninstall_lag=LognormalLag(1e-300, 0.0), silent_death=WeibullLifetime(1e-300, 1e-3)
    )


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: FixedLag(-1.0), "FixedLag: days"),
        (lambda: FixedLag(math.nan), "FixedLag: days"),
        (lambda: UniformLag(2.0, 1.0), "low_days must be <= high_days"),
        (lambda: LognormalLag(10.0, -0.1), "sigma"),
        (lambda: LognormalLag(10.0, math.inf), "sigma"),
        (lambda: LognormalLag(7.0, 1.0, 7.0), "median_days must be greater than shift_days"),
        (lambda: LognormalLag(math.inf, 1.0), "median_days"),
        (lambda: WeibullLifetime(0.0, 1.0), "scale_days must be a finite number > 0"),
        (lambda: WeibullLifetime(10.0, 0.0), "shape must be a finite number > 0"),
        (lambda: WeibullLifetime(10.0, math.nan), "shape"),
        (lambda: WeibullLifetime.through((90.0, 0.5), (30.0, 0.7)), "t1 < t2"),
    ],
)
def test_invalid_lags_and_lifetimes_raise_a_clear_config_error(build: Any, message: str) -> None:
    with pytest.raises(ProviderConfigError, match=message):
        build()
