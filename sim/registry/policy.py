"""Registry policy switches; the defaults follow the source document's behaviour."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from sim.registry.errors import RegistryArgumentError


def _positive_days(value: object) -> bool:
    """True for a finite number of days > 0 (not a bool, not a string)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    try:
        days = float(value)
    except OverflowError:  # an int too large for a float
        return False
    return math.isfinite(days) and days > 0


@dataclass(frozen=True, slots=True)
class RegistryPolicy:
    """How the registry treats sessions, logouts, stale tokens and APNs' 410 timestamp.

    - ``refresh_on_session_start``: the SDK re-registers the token and permission at every session
      start (R1, R4). Off: only a new token string is registered; permission changes are missed.
    - ``detach_on_logout``: logging out removes the device's token instead of leaving it with the
      last user (R3 switch).
    - ``prune_after_days``: remove tokens with no session for that many days (None: never).
    - ``honour_apns_timestamp``: an APNs 410 older than the token's latest registration does not
      remove it (docs/model.md §2).
    """

    refresh_on_session_start: bool = True
    detach_on_logout: bool = False
    prune_after_days: float | None = None
    honour_apns_timestamp: bool = True

    def __post_init__(self) -> None:
        """Refuse values of the wrong kind (:class:`RegistryArgumentError`, a ``ValueError``)."""
        for name in ("refresh_on_session_start", "detach_on_logout", "honour_apns_timestamp"):
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise RegistryArgumentError(f"{name} must be true or false, got {value!r}")
        window: object = self.prune_after_days
        if window is not None and not _positive_days(window):
            raise RegistryArgumentError(
                f"prune_after_days must be a finite positive number of days or None, got {window!r}"
            )
