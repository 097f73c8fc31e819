"""One run's results as rows of the experiment's long table.

Columns: ``run_id, scenario, scenario_hash, <one per swept key path>, replication, seed, metric,
platform, time, value``. Every time-series column is a metric (``time`` = sample time, ``platform``
= ios / android / web / all), sampled over the whole run, warm-up included. Every headline figure
of :meth:`RunResult.summary` — computed after the warm-up — is a metric named
``summary.<figure>`` with ``platform = "all"`` and ``time`` = the run's days. Values are floats
(NaN where a figure is undefined, e.g. a median of no latencies).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from sim.experiment.plan import Run
from sim.metrics.results import RunResult
from sim.metrics.timeseries import ALL, COLUMNS

#: the time-series metrics (every column but time and platform)
TIMESERIES_METRICS = tuple(c for c in COLUMNS if c not in ("time", "platform"))
#: prefix of summary-figure metrics
SUMMARY = "summary."
#: summary() entries that describe the run rather than measure it (they are columns already)
NOT_FIGURES = ("seed", "days", "warm_up_days")
#: the columns before and after the swept parameters
LEADING = ("run_id", "scenario", "scenario_hash")
TRAILING = ("replication", "seed", "metric", "platform", "time", "value")


def columns(parameters: list[str] | tuple[str, ...]) -> list[str]:
    """The long table's columns for an experiment sweeping ``parameters``."""
    return [*LEADING, *parameters, *TRAILING]


def figures(result: RunResult) -> dict[str, float]:
    """The headline figures of ``result`` after its warm-up, as floats (None → NaN)."""
    summary = result.after_warm_up().summary()
    return {
        name: (math.nan if value is None else float(value))
        for name, value in summary.items()
        if name not in NOT_FIGURES
    }


def long_table(result: RunResult, run: Run) -> pd.DataFrame:
    """The rows of one run: its time series, then its summary figures."""
    series = result.timeseries.melt(
        id_vars=["time", "platform"], value_vars=list(TIMESERIES_METRICS), var_name="metric"
    )
    found = figures(result)
    n = len(series) + len(found)
    body: dict[str, Any] = {
        "metric": [*series["metric"], *(SUMMARY + name for name in found)],
        "platform": [*series["platform"], *([ALL] * len(found))],
        "time": np.concatenate(
            [series["time"].to_numpy(dtype=float), np.full(len(found), float(result.days))]
        ),
        "value": np.concatenate(
            [series["value"].to_numpy(dtype=float), np.fromiter(found.values(), float)]
        ),
    }
    labels: dict[str, Any] = {
        "run_id": [run.run_id] * n,
        "scenario": [run.scenario_name] * n,
        "scenario_hash": [run.scenario_hash] * n,
        **{path: [value] * n for path, value in run.params},
        "replication": np.full(n, run.replication, dtype=np.int64),
        "seed": np.full(n, run.seed, dtype=np.int64),
    }
    return pd.DataFrame({**labels, **body})
