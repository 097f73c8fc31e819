"""Registry policy switches; the defaults follow the source document's behaviour."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RegistryPolicy:
    """How the registry treats sessions, logouts, stale tokens and APNs' 410 timestamp.

    - ``refresh_on_session_start``: the SDK re-registers the token and permission at every session
      start (R1, R4). Off: only a new token string is registered; permission changes are missed.
    - ``detach_on_logout``: logging out removes the device's token instead of leaving it with the
      last user (R3 switch).
    - ``prune_after_days``: remove tokens with no session for that many days (None: never).
    - ``honour_apns_timestamp``: an APNs 410 older than the token's latest registration does not
      remove it (DESIGN §2).
    """

    refresh_on_session_start: bool = True
    detach_on_logout: bool = False
    prune_after_days: float | None = None
    honour_apns_timestamp: bool = True

    def __post_init__(self) -> None:
        if self.prune_after_days is not None and not self.prune_after_days > 0:
            raise ValueError(
                f"prune_after_days must be a positive number of days or None, "
                f"got {self.prune_after_days!r}"
            )
