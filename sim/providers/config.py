"""Configuration and shared vocabulary of the push-provider models (DESIGN §2).

This module holds the ways a token dies (:class:`TokenDeath`), the knobs of one provider model
(:class:`ProviderConfig`, with defaults taken from observed provider behaviour), the protocol a
random source must satisfy (:class:`RandomSource`), and the domain errors the providers raise.
Nothing here draws random numbers or reads a clock.

Every constraint :class:`ProviderConfig` checks on a value a scenario key feeds (lag windows,
transient error share, inactivity expiry > 0) is also in the scenario schema
(:mod:`sim.world.params`), so that ``pushsim validate`` refuses it with the key path before a run
could fail here; ``tests/scenario/test_world_builds.py`` checks that they agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Protocol

from sim.platforms import MINUTE, Provider


class TokenDeath(StrEnum):
    """Why a token stopped delivering (the "opaque expiry" of DESIGN §2)."""

    UNINSTALL = "uninstall"
    REINSTALL = "reinstall"
    DATA_CLEARED = "data_cleared"
    RESTORE = "restore"  # restore onto a new device
    OS_REINSTALL = "os_reinstall"
    APP_UPDATE = "app_update"  # some app and OS updates
    ROTATION = "rotation"  # provider-side rotation, or a new token issued for the same install
    PERMISSION_REVOKED = "permission_revoked"  # web only: the user revoked the site's permission
    INACTIVITY = "inactivity"  # no connection for the provider's expiry period (FCM, web)


class RandomSource(Protocol):
    """Anything with ``random() -> float`` in [0, 1), e.g. ``numpy.random.Generator``."""

    def random(self) -> float:
        """Return the next uniform draw in [0, 1)."""
        ...


class ProviderError(ValueError):
    """An impossible request to a provider model: a bug in the caller, never a provider answer."""


class ProviderConfigError(ProviderError):
    """A :class:`ProviderConfig` with values that cannot describe a provider."""


class TimeWentBackwardsError(ProviderError):
    """A call carried a ``now`` earlier than one the service has already seen."""


class UnknownTokenError(ProviderError):
    """A token (or a device/app pair) the service never issued was used where one is required."""


class UnsupportedCauseError(ProviderError):
    """A :class:`TokenDeath` cause that cannot apply to this provider or operation."""


def _check_non_negative(name: str, value: float) -> None:
    if not math.isfinite(value) or value < 0.0:
        raise ProviderConfigError(f"{name} must be a finite number >= 0, got {value!r}")


def _check_positive_or_none(name: str, value: float | None) -> None:
    if value is not None and (not math.isfinite(value) or value <= 0.0):
        raise ProviderConfigError(f"{name} must be None or a finite number > 0, got {value!r}")


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    """How one provider model behaves. All durations are in days.

    - ``uninstall_lag_days``: (low, high) window between an uninstall and the first permanent-error
      answer; during it sends are answered 200 but nothing is shown. The lag of each uninstall is
      drawn uniformly in the window when a random source is given, else it is ``low``.
    - ``transient_error_rate``: share of sends answered with a transient error (needs a random
      source at send time).
    - ``inactivity_expiry_days``: a token with no connection for longer than this is dead (FCM 270,
      web 60); ``None`` for no expiry (APNs).
    - ``stale_after_days``: informational (FCM considers a token stale after 30 days).
    - ``credentials_valid``: False makes every send a credentials error.
    - ``legacy_fcm_strings``: FCM answers with legacy reason strings (``NotRegistered``, …).
    - ``max_payload_bytes``: larger payloads are refused.
    - ``reissue_same_token_on_reinstall``: after an uninstall/reinstall, the next token issued for
      the same device and app is the old token string, valid again (APNs may do this).
    - ``retry_after_days``: the Retry-After carried by 429 answers.

    Fields that a provider does not use (e.g. ``legacy_fcm_strings`` on APNs) are ignored by it.
    """

    uninstall_lag_days: tuple[float, float] = (0.0, 0.0)
    transient_error_rate: float = 0.0
    inactivity_expiry_days: float | None = None
    stale_after_days: float | None = None
    credentials_valid: bool = True
    legacy_fcm_strings: bool = False
    max_payload_bytes: int = 4096
    reissue_same_token_on_reinstall: bool = False
    retry_after_days: float = 1 * MINUTE

    def __post_init__(self) -> None:
        """Validate the values and normalise the lag window to a tuple of floats."""
        lag = tuple(self.uninstall_lag_days)
        if len(lag) != 2:
            raise ProviderConfigError(
                f"uninstall_lag_days must be a (low, high) pair, got {self.uninstall_lag_days!r}"
            )
        low, high = float(lag[0]), float(lag[1])
        _check_non_negative("uninstall_lag_days low", low)
        _check_non_negative("uninstall_lag_days high", high)
        if low > high:
            raise ProviderConfigError(
                f"uninstall_lag_days low must be <= high, got low={low!r} > high={high!r}"
            )
        object.__setattr__(self, "uninstall_lag_days", (low, high))
        rate = self.transient_error_rate
        if not 0.0 <= rate <= 1.0:  # also rejects NaN
            raise ProviderConfigError(f"transient_error_rate must be in [0, 1], got {rate!r}")
        _check_positive_or_none("inactivity_expiry_days", self.inactivity_expiry_days)
        _check_positive_or_none("stale_after_days", self.stale_after_days)
        if isinstance(self.max_payload_bytes, bool) or self.max_payload_bytes <= 0:
            raise ProviderConfigError(
                f"max_payload_bytes must be a positive integer, got {self.max_payload_bytes!r}"
            )
        _check_non_negative("retry_after_days", self.retry_after_days)

    @classmethod
    def apns(cls, **overrides: Any) -> ProviderConfig:
        """APNs defaults: first 410 9–11 days after an uninstall (observed iOS lag), no expiry."""
        return replace(cls(uninstall_lag_days=(9.0, 11.0)), **overrides)

    @classmethod
    def fcm(cls, **overrides: Any) -> ProviderConfig:
        """FCM defaults: 1–2 days uninstall lag, stale after 30 days, expired after 270."""
        base = cls(
            uninstall_lag_days=(1.0, 2.0), inactivity_expiry_days=270.0, stale_after_days=30.0
        )
        return replace(base, **overrides)

    @classmethod
    def webpush(cls, **overrides: Any) -> ProviderConfig:
        """Web Push defaults: no uninstall lag, expired after 60 days without a web session."""
        return replace(cls(uninstall_lag_days=(0.0, 0.0), inactivity_expiry_days=60.0), **overrides)

    @classmethod
    def for_provider(cls, provider: Provider, **overrides: Any) -> ProviderConfig:
        """The default configuration of ``provider``, with ``overrides`` applied."""
        if provider is Provider.APNS:
            return cls.apns(**overrides)
        if provider is Provider.FCM:
            return cls.fcm(**overrides)
        return cls.webpush(**overrides)
