"""Tests of experiments: seeds, sweeps, statistics, the long table, executors, resume, commands.

Every world here is small (a few hundred devices, 30–40 days) so that the whole folder runs in
well under a minute and a half on two cores.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SWEEP_FILE = REPO / "scenarios" / "uninstall_tracking_sweep.toml"
BASELINE = REPO / "scenarios" / "baseline.toml"
TRACKING = REPO / "scenarios" / "uninstall_tracking.toml"

#: a small world: a run takes a few tenths of a second
SMALL = [
    "population.devices=300",
    "population.arrivals_per_day=2",
    "measurement.days=30",
    "measurement.warm_up_days=5",
]
#: smaller still, for tests that only need some rows
TINY = [
    "population.devices=150",
    "population.arrivals_per_day=1",
    "measurement.days=12",
    "measurement.warm_up_days=2",
]
