"""Domain errors raised by the registry for input that cannot happen in a correct caller."""

from __future__ import annotations


class RegistryError(ValueError):
    """Base class of every error the registry raises for impossible input."""


class TimeWentBackwardsError(RegistryError):
    """An operation carried a ``now`` earlier than one the registry has already seen."""


class RegistryArgumentError(RegistryError):
    """An argument of the wrong kind, refused before anything changes.

    A ``now`` that is not a finite number of days, an id (device, app, token, user, profile) that
    is not a non-empty string, platforms given as one string instead of a list, a policy or a
    provider answer of the wrong type.
    """


class InvalidTimeError(RegistryArgumentError, TimeWentBackwardsError):
    """A ``now`` that is not a finite number of days (None, a string, ±inf, NaN).

    Also a :class:`TimeWentBackwardsError`, as a NaN ``now`` was reported before this error
    existed (NaN is never later than the registry's latest time): callers that catch that error
    for a bad clock keep working.
    """


class UnknownAppError(RegistryError):
    """A token or session names an app that was never registered with :meth:`Registry.add_app`."""


class PlatformNotSupportedError(RegistryError):
    """A token's platform is not one of the platforms its app was registered for."""


class UnknownProfileError(RegistryError):
    """A query names a profile the registry has never created."""


class InvalidSubscriptionStateError(RegistryError):
    """A subscription change names a state outside ``subscribed``/``opted_in``/``unsubscribed``."""
