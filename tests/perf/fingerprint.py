"""A fingerprint of a small run, pinned so that speed work cannot change results unnoticed."""

from __future__ import annotations

import hashlib

from sim.simulation import simulate
from sim.world import WorldParams

#: every code path worth pinning: shared devices, probes, pruning, retries, all platforms
PARAMS = WorldParams().changed(
    population={"devices": 1500, "arrivals_per_day": 6.0, "shared_device_share": 0.3},
    providers={"transient_error_share": 0.05},
    policy={"uninstall_tracking": True, "prune_after_days": 20.0},
)
DAYS = 60.0
SEED = 3


def fingerprint() -> str:
    """SHA-256 of every result table (event log included) of the pinned run, as CSV."""
    result = simulate(PARAMS, days=DAYS, seed=SEED, event_log=True)
    digest = hashlib.sha256()
    for name, frame in sorted(result.frames().items()):
        digest.update(name.encode())
        digest.update(frame.to_csv(index=False).encode())
    return digest.hexdigest()


if __name__ == "__main__":
    print(fingerprint())
