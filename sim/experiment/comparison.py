"""Paired comparison of two scenarios run on the same seeds (common random numbers).

Replication ``r`` of A and of B run with the same seed, so they see the same people, devices and
behaviour; the difference B − A of each headline figure is measured replication by replication.
The paired 95 % CI (t interval of the differences) is set against the Welch CI that treats the two
samples as independent: their width ratio says how much the pairing (and the common random
numbers behind it) narrowed the interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.experiment.api import ExperimentResult, ScenarioLike, _source, as_scenario, run_reported
from sim.experiment.plan import plan_comparison
from sim.experiment.stats import CONFIDENCE, paired_interval, welch_interval
from sim.experiment.store import COMPARISON, write_atomic

#: the headline figures the time series give per platform (the campaign ones are totals only)
TIMESERIES_FIGURES = (
    "believed_reachable",
    "truly_reachable",
    "reachable_not_targeted",
    "overstatement",
    "stale_rate",
    "mean_stale_rate",
)
#: the figures a comparison reports first (all summary figures are compared)
HEADLINE = (
    *TIMESERIES_FIGURES,
    "campaign_bounced",
    "campaign_displayed",
    "campaign_shown_to_other_user",
    "campaign_shown_to_nobody",
)


@dataclass
class Comparison:
    """Both scenarios' runs and, per figure, the mean difference B − A with paired and Welch CIs."""

    experiment: ExperimentResult
    #: figure, mean_a, mean_b, difference, paired_low, paired_high, welch_low, welch_high,
    #: width_ratio (paired width ÷ Welch width), n
    figures: pd.DataFrame

    @property
    def table(self) -> pd.DataFrame:
        """The long table of every run of A and B."""
        return self.experiment.table

    def figure(self, name: str) -> pd.Series:
        """The comparison row of figure ``name``."""
        rows = self.figures[self.figures["figure"] == name]
        if rows.empty:
            raise KeyError(f"no figure {name!r}; known: {', '.join(self.figures['figure'])}")
        return rows.iloc[0]


def paired_figures(result: ExperimentResult, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Per summary figure: B − A with its paired and Welch CIs (points 0 and 1 of the plan)."""
    names = list(
        result.summary.loc[result.summary["point"] == result.plan.points[0].label, "figure"]
    )
    ordered = [n for n in HEADLINE if n in names] + [n for n in names if n not in HEADLINE]
    rows = []
    for name in ordered:
        a = result.values(name, 0)
        b = result.values(name, 1).reindex(a.index)
        paired = paired_interval(a.to_numpy(), b.to_numpy(), confidence)
        welch = welch_interval(a.to_numpy(), b.to_numpy(), confidence)
        rows.append(
            {
                "figure": name,
                "mean_a": float(a.mean()),
                "mean_b": float(b.mean()),
                "difference": paired.mean,
                "paired_low": paired.low,
                "paired_high": paired.high,
                "welch_low": welch.low,
                "welch_high": welch.high,
                "width_ratio": (paired.width / welch.width) if welch.width > 0 else float("nan"),
                "n": paired.n,
            }
        )
    return pd.DataFrame(rows)


def compare(
    a: ScenarioLike,
    b: ScenarioLike | None,
    replications: int | None = None,
    workers: int = 1,
    *,
    out: Path | str | None = None,
    dask: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    common_random_numbers: bool = True,
    overrides: tuple[str, ...] | list[str] = (),
    progress: bool = True,
    report: bool = True,
) -> Comparison:
    """Run A and B on the same seeds and compare every summary figure.

    ``b`` None: ``a`` declares a ``[sweep]`` of two points, the first A and the second B.
    ``replications`` defaults to the scenarios' ``measurement.replications`` (at least 2).
    With ``out`` the folder gets ``comparison.csv`` and, unless ``report=False``, the report;
    ``progress`` shows a bar when interactive (see :mod:`sim.experiment.api`).
    """
    first = as_scenario(a, overrides)
    second = as_scenario(b, overrides) if b is not None else None
    sources = (_source(a), _source(b) if b is not None else _source(a))
    plan = plan_comparison(
        first, second, replications, common_random_numbers=common_random_numbers, sources=sources
    )
    written: list[pd.DataFrame] = []

    def write_comparison(result: ExperimentResult, directory: Path) -> pd.DataFrame:
        figures = paired_figures(result)
        write_atomic(directory / COMPARISON, figures.to_csv(index=False).encode("utf-8"))
        written.append(figures)
        return figures

    result = run_reported(
        plan,
        out,
        workers=workers,
        dask=dask,
        resume=resume,
        overwrite=overwrite,
        progress=progress,
        report=report,
        after=write_comparison,
    )
    return Comparison(result, written[0] if written else paired_figures(result))
