"""Platforms and push providers: the closed vocabulary shared by the registry and the providers.

Time everywhere in the domain layer is a float number of days since the start of a run.
"""

from __future__ import annotations

from enum import StrEnum

#: One hour and one minute expressed in days, the unit of ``now`` throughout pushsim.
HOUR = 1.0 / 24.0
MINUTE = HOUR / 60.0
SECOND = MINUTE / 60.0


class Platform(StrEnum):
    """The platform a token belongs to (docs/model.md §1: ``ios``, ``android``, ``web``)."""

    IOS = "ios"
    ANDROID = "android"
    WEB = "web"


class Provider(StrEnum):
    """The push service that issues and delivers a platform's tokens."""

    APNS = "apns"
    FCM = "fcm"
    WEBPUSH = "webpush"


PROVIDER_OF: dict[Platform, Provider] = {
    Platform.IOS: Provider.APNS,
    Platform.ANDROID: Provider.FCM,
    Platform.WEB: Provider.WEBPUSH,
}


class UnknownPlatformError(ValueError):
    """Raised for a platform name outside :class:`Platform`."""


def parse_platform(value: str | Platform) -> Platform:
    """Return the :class:`Platform` named by ``value`` or raise :class:`UnknownPlatformError`."""
    if isinstance(value, Platform):
        return value
    try:
        return Platform(value)
    except ValueError:
        allowed = ", ".join(p.value for p in Platform)
        raise UnknownPlatformError(f"unknown platform {value!r}; allowed: {allowed}") from None
