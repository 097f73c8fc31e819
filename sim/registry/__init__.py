"""The registration logic (docs/model.md §1): profiles, token records and rules R1–R14.

Pure domain code: no SimPy, no randomness, no I/O; every operation takes ``now`` in days.
"""

from sim.registry.base import PROBE_QUIET_DAYS, ResponseOutcome, anonymous_profile_id
from sim.registry.errors import (
    InvalidSubscriptionStateError,
    InvalidTimeError,
    PlatformNotSupportedError,
    RegistryArgumentError,
    RegistryError,
    TimeWentBackwardsError,
    UnknownAppError,
    UnknownProfileError,
)
from sim.registry.events import Cause, Change, TokenEvent
from sim.registry.policy import RegistryPolicy
from sim.registry.records import App, Profile, SubscriptionState, TokenRecord, UninstallEstimate
from sim.registry.registry import Registry
from sim.registry.views import EngagementLine, engagement_view, export_profile

__all__ = [
    "PROBE_QUIET_DAYS",
    "App",
    "Cause",
    "Change",
    "EngagementLine",
    "InvalidSubscriptionStateError",
    "InvalidTimeError",
    "PlatformNotSupportedError",
    "Profile",
    "Registry",
    "RegistryArgumentError",
    "RegistryError",
    "RegistryPolicy",
    "ResponseOutcome",
    "SubscriptionState",
    "TimeWentBackwardsError",
    "TokenEvent",
    "TokenRecord",
    "UninstallEstimate",
    "UnknownAppError",
    "UnknownProfileError",
    "anonymous_profile_id",
    "engagement_view",
    "export_profile",
]
