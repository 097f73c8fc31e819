"""A small world where every path a device can take happens, for tests of the world's machinery."""

from __future__ import annotations

from sim.scenario import SCENARIOS_DIR, load_scenario
from sim.world import WorldParams


def busy_world(devices: int, arrivals_per_day: float) -> WorldParams:
    """The baseline world, small, with shared devices, logouts, probes, pruning and retries.

    Every path a session can take: user switches on shared devices, logouts, Android 13
    dismissals, web subscriptions dying silently and expiring after 60 quiet days, uninstall
    probes, nightly pruning and transient provider errors with their retries.
    """
    scenario = load_scenario(SCENARIOS_DIR / "baseline.toml")
    return scenario.world().changed(
        population={
            "devices": devices,
            "arrivals_per_day": arrivals_per_day,
            "shared_device_share": 0.3,
        },
        behaviour={"logout_per_day": 1 / 60},
        providers={"transient_error_share": 0.05},
        policy={"uninstall_tracking": True, "prune_after_days": 20.0},
    )
