"""The argument checks every registration model makes before it changes anything.

Each check returns when its argument is usable and raises a :class:`RegistryArgumentError`
(:class:`InvalidTimeError` for a ``now``) naming it otherwise. The hot paths test the exact type
inline first (``x.__class__ is str``) and call these only when that fails, for the message.
"""

from __future__ import annotations

import numbers
import sys

from sim.registry.errors import InvalidTimeError, RegistryArgumentError, TimeWentBackwardsError
from sim.registry.policy import RegistryPolicy

#: the largest finite float: a later ``now`` (inf, or an int too large for a float) is refused
LAST_TIME = sys.float_info.max
#: a registry's clock before any operation: the lowest finite float (its ``now`` reads -inf)
BEFORE_ANY = -LAST_TIME


def check_time(now: object, latest: float) -> None:
    """Refuse a ``now`` the fast test of a registry's clock let through; return if usable.

    A usable ``now`` is a finite real number (a float, an int, a NumPy number) not earlier than
    ``latest``.
    """
    if not isinstance(now, numbers.Real):
        raise InvalidTimeError(f"now must be a finite number of days, got {now!r}")
    try:
        finite = abs(float(now)) <= LAST_TIME
    except OverflowError:  # an int too large for a float
        finite = False
    if not finite:
        raise InvalidTimeError(f"now must be a finite number of days, got {now!r}")
    if now < latest:
        raise TimeWentBackwardsError(
            f"now={now!r} is earlier than the registry's latest time {latest!r}"
        )


def check_id(kind: str, value: object) -> None:
    """Refuse an id that is not a non-empty string (``kind`` names it in the message)."""
    if not isinstance(value, str) or not value:
        raise RegistryArgumentError(f"{kind} must be a non-empty string, got {value!r}")


def check_user(user: object) -> None:
    """Refuse a user id that is not a non-empty external id (anonymous ids are the SDK's own)."""
    if not isinstance(user, str) or not user or user.startswith("anon:"):
        raise RegistryArgumentError(f"user id must be a non-empty external id, got {user!r}")


def check_policy(policy: object) -> None:
    """Refuse a policy that is not a :class:`RegistryPolicy`."""
    if not isinstance(policy, RegistryPolicy):
        raise RegistryArgumentError(f"policy must be a RegistryPolicy, got {policy!r}")
