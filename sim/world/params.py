"""Parameters of a simulated world, with defaults taken from the published figures of DESIGN §3.

Rates are per day, durations in days, shares in [0, 1]. Every number here that comes from a
published figure says so; the others are modelling choices, named as such.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

from sim.registry.policy import RegistryPolicy


def _check_share(owner: object, *names: str) -> None:
    for name in names:
        value = getattr(owner, name)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{type(owner).__name__}.{name} must be in [0, 1], got {value!r}")


def _check_non_negative(owner: object, *names: str) -> None:
    for name in names:
        value = getattr(owner, name)
        if not (value >= 0.0 and math.isfinite(value)):
            raise ValueError(
                f"{type(owner).__name__}.{name} must be a finite number >= 0, got {value!r}"
            )


@dataclass(frozen=True, slots=True)
class PopulationParams:
    """Who owns which device, and who shares it."""

    devices: int = 10_000
    #: device mix by kind; keys: ios, android_legacy (≤ 12), android_13 (13+), web
    platform_share: dict[str, float] = field(
        default_factory=lambda: {
            "ios": 0.40,
            "android_legacy": 0.15,
            "android_13": 0.35,
            "web": 0.10,
        }
    )
    #: share of web devices on Safari (its revoked subscriptions keep answering 200)
    web_safari_share: float = 0.2
    #: share of devices shared with other people of the household (family tablet, lent phone)
    shared_device_share: float = 0.1
    #: people sharing a shared device, the owner included (2 or more)
    sharers_per_shared_device: int = 2
    #: share of installs whose user logs in (the rest stay on an anonymous profile)
    login_share: float = 0.6
    #: new people installing the app per day, each with one personal device (modelling choice)
    arrivals_per_day: float = 0.0

    def __post_init__(self) -> None:
        if self.devices < 0:
            raise ValueError(f"PopulationParams.devices must be >= 0, got {self.devices}")
        if self.sharers_per_shared_device < 2:
            raise ValueError("PopulationParams.sharers_per_shared_device must be >= 2")
        allowed = {"ios", "android_legacy", "android_13", "web"}
        unknown = set(self.platform_share) - allowed
        if unknown:
            raise ValueError(
                f"unknown platform kind(s) {sorted(unknown)} in platform_share; "
                f"allowed: {sorted(allowed)}"
            )
        if any(v < 0 for v in self.platform_share.values()) or not math.isclose(
            sum(self.platform_share.values()), 1.0, abs_tol=1e-9
        ):
            raise ValueError("PopulationParams.platform_share must be >= 0 and sum to 1")
        _check_share(self, "web_safari_share", "shared_device_share", "login_share")
        _check_non_negative(self, "arrivals_per_day")


@dataclass(frozen=True, slots=True)
class PermissionParams:
    """Answers to the permission prompt and later changes in OS settings."""

    #: iOS opt-in 45–56 % (DESIGN §3): the middle of the range
    ios_opt_in_share: float = 0.50
    #: iOS prompt strategy: "prompt" (standard alert) or "provisional" (quiet, counts as foreground)
    ios_strategy: str = "prompt"
    #: Android 13+ opt-in 60–67 % (DESIGN §3)
    android_13_opt_in_share: float = 0.63
    #: share of Android 13+ non-grants that dismiss (asked again next session) rather than deny
    android_13_dismiss_share: float = 0.3
    #: web opt-in: 1–15 % with a prompt on a user gesture, ≈ 1–5 % on page load (DESIGN §3)
    web_prompt: str = "gesture"
    web_gesture_opt_in_share: float = 0.08
    web_page_load_opt_in_share: float = 0.03
    #: OS-settings toggles (modelling choice): granted → off, and off → on again
    turn_off_per_day: float = 1 / 365
    turn_on_per_day: float = 1 / 730

    def __post_init__(self) -> None:
        _check_share(
            self,
            "ios_opt_in_share",
            "android_13_opt_in_share",
            "android_13_dismiss_share",
            "web_gesture_opt_in_share",
            "web_page_load_opt_in_share",
        )
        _check_non_negative(self, "turn_off_per_day", "turn_on_per_day")
        if self.ios_strategy not in ("prompt", "provisional"):
            raise ValueError(
                f"PermissionParams.ios_strategy must be 'prompt' or 'provisional', "
                f"got {self.ios_strategy!r}"
            )
        if self.web_prompt not in ("gesture", "page_load"):
            raise ValueError(
                f"PermissionParams.web_prompt must be 'gesture' or 'page_load', "
                f"got {self.web_prompt!r}"
            )


@dataclass(frozen=True, slots=True)
class BehaviourParams:
    """Sessions, dormancy, uninstalls, reinstalls and the events that rotate tokens."""

    #: median session rate of an active install; heterogeneity as a log-normal sigma
    session_rate_per_day: float = 0.7
    session_rate_sigma: float = 1.0
    #: mean active period before an install goes dormant; 15.3 days gives day-30 retention ≈ 7 %
    #: among installs not uninstalled by then (DESIGN §3: day-30 retention ≈ 7 %)
    active_days_mean: float = 15.3
    #: session rate once dormant (modelling choice)
    dormant_session_rate_per_day: float = 1 / 90
    #: ≈ half of installs uninstalled within 30 days, half of those on day 0–1 (DESIGN §3)
    uninstall_by_day1_share: float = 0.25
    uninstall_by_day30_share: float = 0.50
    #: hazard after day 30 (modelling choice)
    uninstall_later_per_day: float = 0.002
    #: mean days between last open and uninstall: 5.8 (DESIGN §3)
    last_open_before_uninstall_days: float = 5.8
    #: 34–40 % of uninstallers reinstall (DESIGN §3): the middle of the range
    reinstall_share: float = 0.37
    reinstall_delay_days_mean: float = 20.0
    #: days from (re)install to first launch; reinstalls may never be launched
    first_launch_delay_days_mean: float = 0.05
    reinstall_launch_delay_days_mean: float = 1.0
    reinstall_never_launched_share: float = 0.1
    #: events that rotate the token (modelling choices)
    app_update_per_day: float = 1 / 30
    app_update_rotation_share: float = 0.05
    os_reinstall_per_day: float = 1 / 3650
    provider_rotation_per_day: float = 1 / 730
    #: device replaced, with the app restored from a backup onto the new one
    device_replacement_per_day: float = 1 / 900
    restore_share: float = 0.7
    #: shared devices: rate at which another sharer logs in; logouts with no new login
    user_switch_per_day: float = 0.1
    logout_per_day: float = 1 / 365

    def __post_init__(self) -> None:
        _check_share(
            self,
            "uninstall_by_day1_share",
            "uninstall_by_day30_share",
            "reinstall_share",
            "reinstall_never_launched_share",
            "app_update_rotation_share",
            "restore_share",
        )
        if self.uninstall_by_day1_share > self.uninstall_by_day30_share:
            raise ValueError("uninstall_by_day1_share cannot exceed uninstall_by_day30_share")
        _check_non_negative(
            self,
            "session_rate_per_day",
            "session_rate_sigma",
            "active_days_mean",
            "dormant_session_rate_per_day",
            "uninstall_later_per_day",
            "last_open_before_uninstall_days",
            "reinstall_delay_days_mean",
            "first_launch_delay_days_mean",
            "reinstall_launch_delay_days_mean",
            "app_update_per_day",
            "os_reinstall_per_day",
            "provider_rotation_per_day",
            "device_replacement_per_day",
            "user_switch_per_day",
            "logout_per_day",
        )


@dataclass(frozen=True, slots=True)
class ProviderParams:
    """Provider behaviour (DESIGN §2)."""

    #: observed uninstall-detection lag: iOS 9–11 days, Android 1–2 days (DESIGN §2)
    apns_lag_days: tuple[float, float] = (9.0, 11.0)
    fcm_lag_days: tuple[float, float] = (1.0, 2.0)
    #: FCM expires tokens after 270 days without connection; web after 60 days (DESIGN §2)
    fcm_inactivity_days: float = 270.0
    web_inactivity_days: float = 60.0
    #: share of sends answered with a transient error (modelling choice)
    transient_error_share: float = 0.005
    credentials_valid: bool = True

    def __post_init__(self) -> None:
        _check_share(self, "transient_error_share")
        for name in ("apns_lag_days", "fcm_lag_days"):
            low, high = getattr(self, name)
            if not 0 <= low <= high:
                raise ValueError(f"ProviderParams.{name} must be (low, high) with 0 <= low <= high")
        _check_non_negative(self, "fcm_inactivity_days", "web_inactivity_days")


@dataclass(frozen=True, slots=True)
class CampaignParams:
    """Campaigns sent through the providers, and the SDK's flush delay."""

    #: days between campaigns (0: no campaigns); first one at ``first_day``
    every_days: float = 7.0
    first_day: float = 0.5
    #: "foreground" (R9 default audience) or "background" (any token, nothing shown)
    kind: str = "foreground"
    #: the SDK flushes queued calls to the registry after this delay (days; 10 s by default)
    sdk_flush_delay_days: float = 10 / 86_400
    #: uninstall-tracking probe time of day (fraction of a day)
    probe_time_of_day: float = 2 / 24

    def __post_init__(self) -> None:
        _check_non_negative(self, "every_days", "first_day", "sdk_flush_delay_days")
        if self.kind not in ("foreground", "background"):
            raise ValueError(
                f"CampaignParams.kind must be 'foreground' or 'background', got {self.kind!r}"
            )
        if not 0 <= self.probe_time_of_day < 1:
            raise ValueError("CampaignParams.probe_time_of_day must be in [0, 1)")


@dataclass(frozen=True, slots=True)
class WorldParams:
    """Everything that defines a world and the registry policy it is measured under."""

    population: PopulationParams = field(default_factory=PopulationParams)
    permission: PermissionParams = field(default_factory=PermissionParams)
    behaviour: BehaviourParams = field(default_factory=BehaviourParams)
    providers: ProviderParams = field(default_factory=ProviderParams)
    campaigns: CampaignParams = field(default_factory=CampaignParams)
    policy: RegistryPolicy = field(default_factory=RegistryPolicy)
    #: uninstall tracking (nightly background probes) for the app (R7; off by default)
    uninstall_tracking: bool = False
    #: metric sampling interval in days
    sample_every_days: float = 1.0

    def __post_init__(self) -> None:
        if not self.sample_every_days > 0:
            raise ValueError("WorldParams.sample_every_days must be > 0")

    def as_dict(self) -> dict[str, object]:
        """Nested plain-dict view, for attaching to results."""

        def plain(value: object) -> object:
            if hasattr(value, "__dataclass_fields__"):
                return {f.name: plain(getattr(value, f.name)) for f in fields(value)}  # type: ignore[arg-type]
            if isinstance(value, tuple):
                return list(value)
            return value

        result = plain(self)
        assert isinstance(result, dict)
        return result
