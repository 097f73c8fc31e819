"""Experiments: replications, sweeps and paired comparisons of scenarios, on any executor.

An experiment is a :class:`~sim.experiment.plan.Plan` of runs — each one point (a scenario, a sweep
combination, a side of a comparison) and one replication with its seed (:mod:`.seeds`, common
random numbers by default) — executed serially, in a process pool or on Dask (:mod:`.execute`),
each run saved as it finishes (:mod:`.store`) as rows of one long table (:mod:`.table`), then
summarised with t confidence intervals (:mod:`.stats`) or compared pairwise (:mod:`.comparison`).
The command line is in :mod:`.commands`.

>>> from sim.experiment import replicate, sweep, compare  # doctest: +SKIP
>>> replicate("scenarios/baseline.toml", replications=8, workers=2).summary  # doctest: +SKIP
>>> compare("scenarios/baseline.toml", "scenarios/uninstall_tracking.toml", 8)  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below are imported on first use, keeping `pushsim --help` light
    from sim.experiment.api import ExperimentResult, replicate, run_experiment, summarize, sweep
    from sim.experiment.comparison import Comparison, compare
    from sim.experiment.plan import (
        Plan,
        Point,
        Run,
        plan_comparison,
        plan_replications,
        plan_sweep,
    )
    from sim.experiment.seeds import run_seed, run_seeds
    from sim.experiment.stats import Interval, paired_interval, t_interval, welch_interval

_HOME = {
    "ExperimentResult": "api",
    "replicate": "api",
    "run_experiment": "api",
    "summarize": "api",
    "sweep": "api",
    "Comparison": "comparison",
    "compare": "comparison",
    "Plan": "plan",
    "Point": "plan",
    "Run": "plan",
    "plan_comparison": "plan",
    "plan_replications": "plan",
    "plan_sweep": "plan",
    "run_seed": "seeds",
    "run_seeds": "seeds",
    "Interval": "stats",
    "paired_interval": "stats",
    "t_interval": "stats",
    "welch_interval": "stats",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'sim.experiment' has no attribute {name!r}")
    return getattr(importlib.import_module(f"sim.experiment.{home}"), name)


__all__ = [
    "Comparison",
    "ExperimentResult",
    "Interval",
    "Plan",
    "Point",
    "Run",
    "compare",
    "paired_interval",
    "plan_comparison",
    "plan_replications",
    "plan_sweep",
    "replicate",
    "run_experiment",
    "run_seed",
    "run_seeds",
    "summarize",
    "sweep",
    "t_interval",
    "welch_interval",
]
