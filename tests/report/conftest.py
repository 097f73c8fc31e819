"""Shared results for the report tests: a small run, and an almost empty one."""

from __future__ import annotations

import pytest

from sim.metrics.results import RunResult
from sim.simulation import simulate
from sim.world import CampaignParams, PopulationParams, WorldParams


@pytest.fixture(scope="module")
def result() -> RunResult:
    """800 devices, 40 days: every table has rows."""
    return simulate(WorldParams(population=PopulationParams(devices=800)), days=40, seed=3)


@pytest.fixture(scope="module")
def empty() -> RunResult:
    """One day, 50 devices, no campaigns: no sends and (almost surely) no uninstall detected."""
    params = WorldParams(
        population=PopulationParams(devices=50), campaigns=CampaignParams(every_days=0)
    )
    return simulate(params, days=1, seed=1)
