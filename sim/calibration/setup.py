"""What a calibration runs: the size of its worlds, its seeds, its budget (nothing heavy here)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Setup:
    """What a calibration runs: the world (scaled), the seeds, the days, the budget."""

    devices: int = 5000
    days: float = 365.0
    replications: int = 2
    seed: int = 0
    #: the most evaluations of the objective (scipy's ``max_nfev``): each iteration makes one or
    #: more, plus one Jacobian (a run per parameter and replication)
    max_iterations: int = 12

    def seeds(self) -> list[int]:
        """The replication seeds, the same at every point (common random numbers)."""
        return [self.seed + k for k in range(self.replications)]
