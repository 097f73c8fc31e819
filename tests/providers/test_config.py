"""ProviderConfig: defaults from DESIGN §2 and validation of every field."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest

from sim.platforms import MINUTE, Provider
from sim.providers import ProviderConfig, ProviderConfigError, ProviderError


def test_provider_defaults_follow_design() -> None:
    apns, fcm, web = ProviderConfig.apns(), ProviderConfig.fcm(), ProviderConfig.webpush()
    assert apns.uninstall_lag_days == (9.0, 11.0)
    assert apns.inactivity_expiry_days is None
    assert fcm.uninstall_lag_days == (1.0, 2.0)
    assert fcm.inactivity_expiry_days == 270.0
    assert fcm.stale_after_days == 30.0
    assert web.uninstall_lag_days == (0.0, 0.0)
    assert web.inactivity_expiry_days == 60.0
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


def test_lag_window_is_normalised_to_a_float_tuple() -> None:
    config = ProviderConfig(uninstall_lag_days=[1, 3])  # type: ignore[arg-type]
    assert config.uninstall_lag_days == (1.0, 3.0)
    assert all(isinstance(x, float) for x in config.uninstall_lag_days)


def test_config_is_frozen() -> None:
    config = ProviderConfig.apns()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.transient_error_rate = 0.5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"uninstall_lag_days": (-1.0, 2.0)}, "uninstall_lag_days low"),
        ({"uninstall_lag_days": (1.0, math.inf)}, "uninstall_lag_days high"),
        ({"uninstall_lag_days": (3.0, 2.0)}, "low must be <= high"),
        ({"uninstall_lag_days": (1.0, 2.0, 3.0)}, "pair"),
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
    ProviderConfig(uninstall_lag_days=(2.0, 2.0), retry_after_days=0.0, max_payload_bytes=1)
