"""Shared results for the report tests: a small run, and an almost empty one."""

from __future__ import annotations

import pytest

from sim.metrics.results import RunResult
from sim.simulation import simulate
from sim.world import CampaignParams, PopulationParams, WorldParams


@pytest.fixture(scope="module")
def result() -> RunResult:
    """800 devices, 40 days: every table has rows.

    A quarter of the devices are web, and 40 % of web visitors allow notifications, so that web
    has uninstall latencies of its own (at the defaults a few, or none, depending on the draws).
    """
    params = WorldParams().changed(
        population={
            "devices": 800,
            "platform_share": {"ios": 0.35, "android_legacy": 0.1, "android_13": 0.3, "web": 0.25},
        },
        permission={"web_gesture_opt_in_share": 0.4},
    )
    return simulate(params, days=40, seed=3)


@pytest.fixture(scope="module")
def empty() -> RunResult:
    """One day, 50 devices, no campaigns: no sends and (almost surely) no uninstall detected."""
    params = WorldParams(
        population=PopulationParams(devices=50), campaigns=CampaignParams(every_days=0)
    )
    return simulate(params, days=1, seed=1)
