"""The registry's records: apps, profiles and push token records (docs/model.md §1, Entities).

Plain slotted classes with no behaviour beyond small derived properties; the registry owns every
mutation so that its indexes and event stream never drift from the records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NoReturn

from sim.platforms import Platform

#: A (device id, app id) pair: the slot that holds at most one token (rule R1).
Slot = tuple[str, str]
#: An audience key: (app id, platform) or (app id, None) for every platform of the app.
AudienceKey = tuple[str, Platform | None]


class _Shared(dict[Any, Any]):
    """A dict shared by many profiles; it refuses every write."""

    __slots__ = ()

    def _refuse(self, *_args: object, **_kwargs: object) -> NoReturn:
        raise TypeError("a shared dict is never written to: give the profile its own dict")

    __setitem__ = __delitem__ = setdefault = update = pop = popitem = clear = _refuse
    __ior__ = _refuse


class _Empty(_Shared):
    """The one shared empty dict of every profile that holds nothing."""

    __slots__ = ()

    def __reduce__(self) -> str:
        return "EMPTY"  # pickled and copied as the one shared instance


class _Ones(_Shared):
    """The shared audience counts of a profile that holds one token: one under each of its keys."""

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, ...]:
        return (one_each, (tuple(self),))  # pickled and copied as the one shared instance


#: A profile's ``tokens`` and audience counts until it holds something, and again once it holds
#: nothing: most profiles (the anonymous profiles of past installs) hold nothing, and a dict that
#: was emptied never gives its memory back. The registry swaps in a dict of the profile's own on
#: the first write and puts this one back when the dict empties.
EMPTY: dict[Any, Any] = _Empty()


def _empty() -> dict[Any, Any]:
    return EMPTY


_ONES: dict[tuple[AudienceKey, ...], _Ones] = {}


def one_each(keys: tuple[AudienceKey, ...]) -> dict[AudienceKey, int]:
    """The shared read-only counts ``{key: 1 for key in keys}``, one instance per ``keys``.

    A profile's audience counts while it holds a single token (most profiles that hold any): the
    audience index gives the profile a dict of its own at its second token.
    """
    ones = _ONES.get(keys)
    if ones is None:
        ones = _ONES[keys] = _Ones(dict.fromkeys(keys, 1))
    return ones


def is_shared(counts: dict[Any, Any]) -> bool:
    """True for :data:`EMPTY` and the dicts of :func:`one_each`, which refuse writes."""
    return isinstance(counts, _Shared)


class SubscriptionState(StrEnum):
    """A profile's push subscription state; it covers all the profile's devices."""

    SUBSCRIBED = "subscribed"
    OPTED_IN = "opted_in"
    UNSUBSCRIBED = "unsubscribed"

    @property
    def targetable(self) -> bool:
        """True when a default campaign may target the profile (rule R9)."""
        return self in TARGETABLE


#: The states a default campaign may target (R9). Hot paths test membership here rather than read
#: ``state.targetable``: on Python 3.11 a property of an enum member, and any member read off its
#: enum class, goes through ``EnumType``'s slow attribute hook.
TARGETABLE = frozenset({SubscriptionState.SUBSCRIBED, SubscriptionState.OPTED_IN})


@dataclass(slots=True)
class App:
    """An app (or website) known to the registry, with its per-app settings and flags."""

    app_id: str
    platforms: frozenset[Platform]
    uninstall_tracking: bool = False
    config_flagged_at: float | None = None
    payload_flagged_at: float | None = None


@dataclass(slots=True)
class Profile:
    """A user profile: an external id, or an anonymous profile created for a device's app."""

    profile_id: str
    anonymous: bool = False
    state: SubscriptionState = SubscriptionState.SUBSCRIBED
    state_changed_at: float | None = None
    #: the devices the profile has been seen on, stored lean (read :attr:`devices`): nothing (the
    #: shared empty tuple) until the first, that device's id while there is one (most profiles:
    #: no container to pay for), a tuple of ids in first-seen order once there are more
    seen_on: str | tuple[str, ...] = ()
    #: tokens held, by slot (the shared :data:`EMPTY` while none)
    tokens: dict[Slot, str] = field(default_factory=_empty)
    #: number of foreground / any tokens held per audience key (kept by the audience index;
    #: the shared :data:`EMPTY` while none, the shared :func:`one_each` counts while one)
    foreground_counts: dict[AudienceKey, int] = field(default_factory=_empty)
    any_counts: dict[AudienceKey, int] = field(default_factory=_empty)

    @property
    def devices(self) -> tuple[str, ...]:
        """Devices the profile has been seen on, in first-seen order (engagement view, R11)."""
        seen = self.seen_on
        return (seen,) if isinstance(seen, str) else seen


@dataclass(slots=True)
class TokenRecord:
    """One push token as the registry knows it.

    ``registered_at`` is the last time the SDK reported this token (its latest registration, the
    time APNs' 410 timestamp is compared with); ``last_session_at`` the last session on its slot;
    ``last_push_at`` the last send answered for it; ``last_accepted_at`` the last 2xx answer.
    """

    token: str
    app: str
    platform: Platform
    device: str
    profile: str
    foreground: bool
    provisional: bool
    created_at: float
    updated_at: float
    registered_at: float
    last_session_at: float
    last_push_at: float | None = None
    last_accepted_at: float | None = None

    @property
    def slot(self) -> Slot:
        """The (device, app) pair this token is registered for."""
        return (self.device, self.app)


@dataclass(frozen=True, slots=True)
class UninstallEstimate:
    """What the registry concluded when a bounce revealed an uninstall (rule R7)."""

    device: str
    app: str
    profile: str
    token: str
    detected_at: float
    #: best estimate of when the app was uninstalled: APNs' timestamp when given, otherwise the
    #: last sign of life (last session or last accepted push)
    uninstalled_at: float
