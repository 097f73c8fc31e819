"""Domain errors raised by the registry for input that cannot happen in a correct caller."""

from __future__ import annotations


class RegistryError(ValueError):
    """Base class of every error the registry raises for impossible input."""


class TimeWentBackwardsError(RegistryError):
    """An operation carried a ``now`` earlier than one the registry has already seen."""


class UnknownAppError(RegistryError):
    """A token or session names an app that was never registered with :meth:`Registry.add_app`."""


class PlatformNotSupportedError(RegistryError):
    """A token's platform is not one of the platforms its app was registered for."""


class UnknownProfileError(RegistryError):
    """A query names a profile the registry has never created."""


class InvalidSubscriptionStateError(RegistryError):
    """A subscription change names a state outside ``subscribed``/``opted_in``/``unsubscribed``."""
