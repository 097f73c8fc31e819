"""Configuration and shared vocabulary of the push-provider models (docs/model.md §2).

This module holds the ways a token dies (:class:`TokenDeath`), the knobs of one provider model
(:class:`ProviderConfig`, with defaults taken from observed provider behaviour), the random lags and
lifetimes a provider draws per token (:class:`FixedLag`, :class:`UniformLag`,
:class:`LognormalLag`, :class:`WeibullLifetime`), the protocol a random source must satisfy
(:class:`RandomSource`), and the domain errors the providers raise. Nothing here reads a clock, and
nothing draws a random number except from a :class:`RandomSource` passed in.

Every constraint :class:`ProviderConfig` checks on a value a scenario key feeds (lag distributions,
subscription lifetimes, transient error share, inactivity expiry > 0) is also in the scenario
schema (:mod:`sim.world.params`), so that ``pushsim validate`` refuses it with the key path before a
run could fail here; ``tests/scenario/test_world_builds.py`` and ``tests/providers/test_lags.py``
check that they agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import StrEnum
from statistics import NormalDist
from typing import Any, Protocol

from sim.platforms import MINUTE, Provider


class TokenDeath(StrEnum):
    """Why a token stopped delivering (the "opaque expiry" of docs/model.md §2)."""

    UNINSTALL = "uninstall"
    REINSTALL = "reinstall"
    DATA_CLEARED = "data_cleared"  # also a web subscription's silent death (WeibullLifetime)
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


#: The smallest uniform draw a quantile function is given: 2**-53, the smallest positive value
#: ``numpy.random.Generator.random`` returns, so that a draw of exactly 0 (which would be the
#: distribution's -inf quantile) is read as the next possible draw.
_SMALLEST_DRAW = 2.0**-53
_STANDARD_NORMAL = NormalDist()


def _check_finite(owner: str, name: str, value: float) -> float:
    """``value`` as a float, or a :class:`ProviderConfigError` if it is not a finite number >= 0."""
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else math.nan
    if not math.isfinite(number) or number < 0.0:
        raise ProviderConfigError(f"{owner}: {name} must be a finite number >= 0, got {value!r}")
    return float(number)


@dataclass(frozen=True, slots=True)
class FixedLag:
    """The same lag for every token: ``days`` (deterministic, for checks and comparisons).

    Draws nothing from the random source.
    """

    days: float

    def __post_init__(self) -> None:
        """Refuse a negative or non-finite lag."""
        object.__setattr__(self, "days", _check_finite("FixedLag", "days", self.days))

    def draw(self, rng: RandomSource | None) -> float:
        """The lag of one token: always ``days``."""
        return self.days

    @property
    def mean(self) -> float:
        """Mean lag in days."""
        return self.days

    def survival(self, days: float) -> float:
        """Share of tokens whose lag is longer than ``days``."""
        return 1.0 if self.days > days else 0.0


@dataclass(frozen=True, slots=True)
class UniformLag:
    """A lag drawn uniformly in [``low_days``, ``high_days``]; ``low_days`` without a random source.

    One draw per token (the older ``*_lag_days = [low, high]`` window of scenario files).
    """

    low_days: float
    high_days: float

    def __post_init__(self) -> None:
        """Refuse negative, non-finite or reversed ends."""
        low = _check_finite("UniformLag", "low_days", self.low_days)
        high = _check_finite("UniformLag", "high_days", self.high_days)
        if low > high:
            raise ProviderConfigError(
                f"UniformLag: low_days must be <= high_days, got low={low!r} > high={high!r}"
            )
        object.__setattr__(self, "low_days", low)
        object.__setattr__(self, "high_days", high)

    def draw(self, rng: RandomSource | None) -> float:
        """The lag of one token (one draw from ``rng``; ``low_days`` without one)."""
        low = self.low_days
        return low if rng is None else low + (self.high_days - low) * rng.random()

    @property
    def mean(self) -> float:
        """Mean lag in days."""
        return (self.low_days + self.high_days) / 2

    def survival(self, days: float) -> float:
        """Share of tokens whose lag is longer than ``days``."""
        low, high = self.low_days, self.high_days
        if days < low:
            return 1.0
        if days >= high:
            return 0.0
        return (high - days) / (high - low)


@dataclass(frozen=True, slots=True)
class LognormalLag:
    """A shifted (three-parameter) log-normal lag: ``shift_days + exp(N(mu, sigma**2))``.

    ``shift_days`` is the shortest lag (no permanent error comes earlier), ``median_days`` the
    median of the whole lag (so ``exp(mu) = median_days - shift_days``) and ``sigma`` the spread
    of its logarithm: the right tail (tokens still answered 200 weeks after the uninstall) grows
    with ``sigma``. One draw per token, through the normal quantile function, so a token's lag is
    a function of one uniform draw; ``median_days`` without a random source.

    >>> lag = LognormalLag(median_days=10.0, sigma=1.35, shift_days=7.0)  # APNs default
    >>> round(lag.mean, 1), round(lag.survival(30.0), 3)
    (14.5, 0.066)
    """

    median_days: float
    sigma: float
    shift_days: float = 0.0

    def __post_init__(self) -> None:
        """Refuse a median not above the shift, or a negative or non-finite value."""
        median = _check_finite("LognormalLag", "median_days", self.median_days)
        sigma = _check_finite("LognormalLag", "sigma", self.sigma)
        shift = _check_finite("LognormalLag", "shift_days", self.shift_days)
        if not median > shift:
            raise ProviderConfigError(
                f"LognormalLag: median_days must be greater than shift_days, got "
                f"median_days={median!r} <= shift_days={shift!r}"
            )
        object.__setattr__(self, "median_days", median)
        object.__setattr__(self, "sigma", sigma)
        object.__setattr__(self, "shift_days", shift)

    def draw(self, rng: RandomSource | None) -> float:
        """The lag of one token (one draw from ``rng``; ``median_days`` without one)."""
        if rng is None:
            return self.median_days
        z = _STANDARD_NORMAL.inv_cdf(max(rng.random(), _SMALLEST_DRAW))
        return self.shift_days + (self.median_days - self.shift_days) * math.exp(self.sigma * z)

    @property
    def mean(self) -> float:
        """Mean lag in days: ``shift + (median - shift) * exp(sigma**2 / 2)``."""
        scale = self.median_days - self.shift_days
        return self.shift_days + scale * math.exp(self.sigma**2 / 2)

    def survival(self, days: float) -> float:
        """Share of tokens whose lag is longer than ``days``."""
        if days <= self.shift_days:
            return 1.0
        ratio = math.log((days - self.shift_days) / (self.median_days - self.shift_days))
        if self.sigma == 0.0:
            return 1.0 if ratio < 0.0 else 0.0
        return 0.5 * math.erfc(ratio / (self.sigma * math.sqrt(2.0)))


#: How long after an uninstall a provider keeps answering 200 (see :class:`ProviderConfig`).
UninstallLag = FixedLag | UniformLag | LognormalLag


@dataclass(frozen=True, slots=True)
class WeibullLifetime:
    """A token lifetime drawn per token: survival ``S(t) = exp(-(t / scale_days) ** shape)``.

    ``shape`` > 1 is a hazard that grows with the token's age (old subscriptions die faster),
    1 a constant hazard, < 1 one that falls. One draw per token (inverse transform).
    :meth:`through` fits the two parameters to two points of a survival curve.
    """

    scale_days: float
    shape: float

    def __post_init__(self) -> None:
        """Refuse a scale or shape that is not a finite positive number."""
        for name in ("scale_days", "shape"):
            value = getattr(self, name)
            number = _check_finite("WeibullLifetime", name, value)
            if number == 0.0:
                raise ProviderConfigError(
                    f"WeibullLifetime: {name} must be a finite number > 0, got {value!r}"
                )
            object.__setattr__(self, name, number)

    @classmethod
    def through(cls, first: tuple[float, float], second: tuple[float, float]) -> WeibullLifetime:
        """The Weibull lifetime whose survival passes through two (days, share alive) points.

        ``-ln S(t) = (t / scale) ** shape``, so the two points give ``shape`` from the ratio of
        their ``ln(-ln S)`` and ``ln t``, then ``scale``.

        >>> fit = WeibullLifetime.through((91.3125, 50 / 70), (273.9375, 7 / 70))
        >>> round(fit.shape, 2), round(fit.scale_days, 1)
        (1.75, 170.1)
        """
        (t1, s1), (t2, s2) = first, second
        if not (0.0 < t1 < t2 and 1.0 > s1 > s2 > 0.0):
            raise ProviderConfigError(
                "WeibullLifetime.through: needs 0 < t1 < t2 and 1 > S(t1) > S(t2) > 0, got "
                f"{first!r}, {second!r}"
            )
        shape = math.log(math.log(s2) / math.log(s1)) / math.log(t2 / t1)
        return cls(scale_days=t1 / (-math.log(s1)) ** (1.0 / shape), shape=shape)

    def draw(self, rng: RandomSource) -> float:
        """The lifetime of one token, in days (one draw from ``rng``)."""
        return self.scale_days * math.pow(-math.log1p(-rng.random()), 1.0 / self.shape)

    @property
    def mean(self) -> float:
        """Mean lifetime in days: ``scale * Gamma(1 + 1 / shape)``."""
        return self.scale_days * math.gamma(1.0 + 1.0 / self.shape)

    @property
    def median(self) -> float:
        """Median lifetime in days: ``scale * ln(2) ** (1 / shape)``."""
        return self.scale_days * math.pow(math.log(2.0), 1.0 / self.shape)

    def survival(self, days: float) -> float:
        """Share of tokens still alive at age ``days``."""
        return math.exp(-((max(days, 0.0) / self.scale_days) ** self.shape))


#: APNs uninstall → first 410: median 10 days (the observed 9–11), none before a week (Apple:
#: 410s come "after several days"), and 6.6 % of tokens still answered 200 past 30 days
#: (developer reports of tokens accepted more than a month after the uninstall). Mean 14.5 days.
APNS_UNINSTALL_LAG = LognormalLag(median_days=10.0, sigma=1.35, shift_days=7.0)
#: FCM uninstall → first 404: median 1.5 days (the observed 1–2), none before half a day, a short
#: tail (1.9 % past a week, 0.01 % past 30 days). Mean 2.0 days.
FCM_UNINSTALL_LAG = LognormalLag(median_days=1.5, sigma=0.9, shift_days=0.5)
#: Pushpad, 2018 ("Web push subscription age affects delivery rates"): delivery ≈ 70 % for new
#: subscriptions, ≈ 50 % at 3 months, < 10 % at 9 months (taken as 7 %). Relative to age 0 that
#: is S(3 months) = 50/70 and S(9 months) = 7/70 = 0.10, months of 365.25/12 days.
PUSHPAD_2018_SURVIVAL = ((365.25 / 4, 50 / 70), (3 * 365.25 / 4, 7 / 70))
#: Web subscriptions' silent death (site data cleared, browser reinstalled or abandoned, push
#: service expiry): the Weibull through :data:`PUSHPAD_2018_SURVIVAL`, rounded (shape 1.7506,
#: scale 170.1 days). Mean 151 days, median 138; S = 0.95 at 1 month, 0.32 at 6 months.
WEB_SUBSCRIPTION_LIFETIME = WeibullLifetime(scale_days=170.0, shape=1.75)


def _as_lag(value: Any) -> UninstallLag:
    """A lag object from a lag object, a (low, high) window or a number of days."""
    if isinstance(value, FixedLag | UniformLag | LognormalLag):
        return value
    if isinstance(value, tuple | list):
        if len(value) != 2:
            raise ProviderConfigError(
                f"uninstall_lag: a window must be a (low, high) pair, got {value!r}"
            )
        return UniformLag(float(value[0]), float(value[1]))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return FixedLag(float(value))
    raise ProviderConfigError(
        "uninstall_lag must be a FixedLag, UniformLag or LognormalLag (or a (low, high) window, "
        f"or a number of days), got {value!r}"
    )


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    """How one provider model behaves. All durations are in days.

    - ``uninstall_lag``: the lag between an uninstall and the first permanent-error answer, drawn
      per token (:class:`FixedLag`, :class:`UniformLag` or :class:`LognormalLag`; a (low, high)
      window is read as a :class:`UniformLag`, a number as a :class:`FixedLag`); during it sends
      are answered 200 but nothing is shown. Without a random source the lag is the
      distribution's nominal value (``days``, ``low_days``, ``median_days``).
    - ``silent_death``: a lifetime drawn per token when it is issued (with a random source), after
      which the token no longer delivers, with no uninstall and nothing said to the app or site:
      the Web Push subscriptions that browsers and push services drop (docs/model.md §2,
      Pushpad 2018).
      ``None``: tokens live until something kills them. Recorded as ``TokenDeath.DATA_CLEARED``.
    - ``silent_death_reported``: True, the provider answers sends with a permanent error from the
      silent death on (404/410); False, it keeps answering 2xx (accepted, never shown) until the
      inactivity expiry.
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

    uninstall_lag: UninstallLag = FixedLag(0.0)
    silent_death: WeibullLifetime | None = None
    silent_death_reported: bool = True
    transient_error_rate: float = 0.0
    inactivity_expiry_days: float | None = None
    stale_after_days: float | None = None
    credentials_valid: bool = True
    legacy_fcm_strings: bool = False
    max_payload_bytes: int = 4096
    reissue_same_token_on_reinstall: bool = False
    retry_after_days: float = 1 * MINUTE

    def __post_init__(self) -> None:
        """Validate the values and normalise the uninstall lag to a lag object."""
        object.__setattr__(self, "uninstall_lag", _as_lag(self.uninstall_lag))
        if self.silent_death is not None and not isinstance(self.silent_death, WeibullLifetime):
            raise ProviderConfigError(
                f"silent_death must be None or a WeibullLifetime, got {self.silent_death!r}"
            )
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
        """APNs defaults: :data:`APNS_UNINSTALL_LAG` (median 10 days, tail past 30), no expiry."""
        return replace(cls(uninstall_lag=APNS_UNINSTALL_LAG), **overrides)

    @classmethod
    def fcm(cls, **overrides: Any) -> ProviderConfig:
        """FCM defaults: :data:`FCM_UNINSTALL_LAG`, stale after 30 days, expired after 270."""
        base = cls(
            uninstall_lag=FCM_UNINSTALL_LAG, inactivity_expiry_days=270.0, stale_after_days=30.0
        )
        return replace(base, **overrides)

    @classmethod
    def webpush(cls, **overrides: Any) -> ProviderConfig:
        """Web Push defaults: no lag, :data:`WEB_SUBSCRIPTION_LIFETIME`, 60-day inactivity expiry.

        Subscriptions die silently at the age drawn from the lifetime (answered 410 from then on)
        or after 60 days without a web session, whichever comes first.
        """
        base = cls(
            uninstall_lag=FixedLag(0.0),
            silent_death=WEB_SUBSCRIPTION_LIFETIME,
            inactivity_expiry_days=60.0,
        )
        return replace(base, **overrides)

    @classmethod
    def for_provider(cls, provider: Provider, **overrides: Any) -> ProviderConfig:
        """The default configuration of ``provider``, with ``overrides`` applied."""
        if provider is Provider.APNS:
            return cls.apns(**overrides)
        if provider is Provider.FCM:
            return cls.fcm(**overrides)
        return cls.webpush(**overrides)
