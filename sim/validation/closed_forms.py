"""The worlds whose steady states have a closed form, as the test suite builds them.

- **dead tokens, periodic campaigns** (tests/world/test_simulation.py): Android ≤ 12 devices,
  steady installs (μN a day) and uninstalls (rate μ), nothing else; campaigns every T days; the
  provider reports an uninstall at once. Dead tokens pile up at μN a day since the last campaign:
  time-average μN·T/2.
- **the Poisson form**: the same world with campaigns at Poisson times, rate λ. The time since the
  last campaign averages 1/λ, so dead tokens average μN/λ.
- **the lagged form**: the periodic world with the default FCM lag L drawn per token. A token is a
  zombie (accepted, not shown) for L, dead from its report to the next campaign: stale = dead +
  zombie averages μN·(E[L] + T/2) (Little's law).
- **rotation latency, Poisson sessions** (tests/metrics/test_latency.py): iOS devices with
  sessions at rate s and provider rotations at rate r, nothing else; a session registers the
  newest token, so rotation → re-registration averages 1/s.

Each ``*_world`` function returns the parameters; :func:`expected` computes the closed-form value
from them (nothing here is a measured number).
"""

from __future__ import annotations

import math
from typing import Any

from sim.world.params import (
    DEFAULT_FCM_LAG,
    BehaviourParams,
    CampaignParams,
    PermissionParams,
    PopulationParams,
    ProviderParams,
    WorldParams,
)

#: μ: uninstalls per installed device per day (the tests' value)
UNINSTALL_RATE = 0.01
#: T: days between campaigns, and λ = 1/T for the Poisson form
PERIOD_DAYS = 7.0
#: the first campaign (periodic), or the start of the Poisson schedule
FIRST_CAMPAIGN_DAY = 0.25
#: samples before this day are left out: the installed base settles first (the tests' value)
WARM_UP_DAYS = 28.25
#: the samples' interval (days)
SAMPLE_EVERY_DAYS = 0.5
#: s and r of the rotation world: sessions and rotations per device per day (the test's values)
SESSION_RATE = 0.5
ROTATION_RATE = 0.25
#: rotations that started this long before the end have all been caught up with (but e^(-s·30))
ROTATION_MARGIN_DAYS = 30.0


def steady_world(
    devices: int,
    lag: dict[str, Any],
    campaigns: CampaignParams,
    *,
    uninstall_rate: float = UNINSTALL_RATE,
) -> WorldParams:
    """Android ≤ 12 devices installing and uninstalling at a steady rate μ, and nothing else.

    No reinstall, rotation, replacement, user switch or settings toggle; the FCM lag as given,
    no transient error, no inactivity expiry: the world of the closed forms (also the test
    suite's, tests/world/test_simulation.py).
    """
    mu = uninstall_rate
    return WorldParams(
        population=PopulationParams(
            devices=devices,
            platform_share={"android_legacy": 1.0},
            shared_device_share=0.0,
            login_share=0.0,
            arrivals_per_day=mu * devices,
        ),
        behaviour=BehaviourParams(
            session_rate_per_day=0.05,
            session_rate_log_sigma=0.0,
            uninstall_by_day1_share=1 - math.exp(-mu),
            uninstall_by_day30_share=1 - math.exp(-30 * mu),
            uninstall_later_per_day=mu,
            reinstall_share=0.0,
            first_launch_delay_mean_days=0.0,
            app_update_per_day=0.0,
            os_reinstall_per_day=0.0,
            provider_rotation_per_day=0.0,
            device_replacement_per_day=0.0,
            user_switch_per_day=0.0,
            logout_per_day=0.0,
        ),
        permission=PermissionParams(turn_off_per_day=0.0, turn_on_per_day=0.0),
        providers=ProviderParams.model_validate(
            {"fcm_lag": lag, "transient_error_share": 0.0, "fcm_inactivity_days": 36_500.0}
        ),
        campaigns=campaigns,
    )


def periodic_world(devices: int) -> WorldParams:
    """Steady installs and uninstalls, campaigns every T days, reports at once."""
    return steady_world(
        devices,
        {"distribution": "fixed", "days": 0.0},
        CampaignParams(every_days=PERIOD_DAYS, first_campaign_day=FIRST_CAMPAIGN_DAY),
    )


def poisson_world(devices: int) -> WorldParams:
    """The same world, campaigns at Poisson times with rate 1/T."""
    return steady_world(
        devices,
        {"distribution": "fixed", "days": 0.0},
        CampaignParams(
            schedule="poisson",
            rate_per_day=1.0 / PERIOD_DAYS,
            first_campaign_day=FIRST_CAMPAIGN_DAY,
        ),
    )


def lagged_world(devices: int) -> WorldParams:
    """The periodic world with the default FCM lag (a shifted log-normal) drawn per token."""
    return steady_world(
        devices,
        DEFAULT_FCM_LAG.model_dump(exclude_none=True),
        CampaignParams(every_days=PERIOD_DAYS, first_campaign_day=FIRST_CAMPAIGN_DAY),
    )


def rotation_world(devices: int) -> WorldParams:
    """Devices on iOS with Poisson sessions (rate s) and provider rotations (rate r), only."""
    return WorldParams().changed(
        population={"devices": devices, "platform_share": {"ios": 1.0}, "shared_device_share": 0.0},
        permission={"turn_off_per_day": 0.0, "turn_on_per_day": 0.0},
        behaviour={
            "session_rate_per_day": SESSION_RATE,
            "session_rate_log_sigma": 0.0,
            "dormant_session_rate_per_day": SESSION_RATE,
            "uninstall_by_day1_share": 0.0,
            "uninstall_by_day30_share": 0.0,
            "uninstall_later_per_day": 0.0,
            "app_update_per_day": 0.0,
            "os_reinstall_per_day": 0.0,
            "provider_rotation_per_day": ROTATION_RATE,
            "device_replacement_per_day": 0.0,
            "user_switch_per_day": 0.0,
            "logout_per_day": 0.0,
        },
        campaigns={"every_days": 0.0, "sdk_flush_delay_days": 0.0},
    )


def mean_gap(params: WorldParams) -> float:
    """The mean time since the last campaign: T/2 (periodic) or 1/λ (Poisson)."""
    campaigns = params.campaigns
    if campaigns.schedule == "poisson":
        return 1.0 / campaigns.rate_per_day
    return campaigns.every_days / 2


def expected(params: WorldParams) -> dict[str, float]:
    """The closed-form values of a world built here, from its parameters.

    ``dead_expected`` μN × (mean time since the last campaign), ``stale_expected`` μN × (E[L] +
    that), for the steady worlds; ``rotation_expected_days`` 1/s for the rotation world.
    """
    behaviour = params.behaviour
    if behaviour.provider_rotation_per_day > 0:
        return {"rotation_expected_days": 1.0 / behaviour.session_rate_per_day}
    flow = behaviour.uninstall_later_per_day * params.population.devices
    gap = mean_gap(params)
    lag = params.providers.uninstall_lag("fcm").mean
    return {"dead_expected": flow * gap, "stale_expected": flow * (lag + gap)}
