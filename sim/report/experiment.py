"""The report of an experiment: ``report.md``, its plots and ``summary.json``, in its folder.

:func:`write_experiment_report` writes, for a replicated scenario, a table of every headline
figure with its mean and 95 % CI, the time series of believed vs truly reachable with CI bands and
a dot-and-interval chart; for a sweep, a table per figure across the points, one panel per figure
against the swept key (and heat maps when two keys are swept in a grid); for a comparison, the
key-by-key difference of the two resolved scenarios (defaults included), B − A with its paired
and Welch CIs, and a forest plot of the paired differences. ``summary.json`` holds, per point,
figure and platform, the mean and 95 % CI over the replications: the summary figures for all
platforms, and the figures the long table's time series give per platform. Every file is written
atomically; the text is deterministic (no dates).
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiment.api import ExperimentResult
from sim.experiment.comparison import HEADLINE, TIMESERIES_FIGURES
from sim.experiment.formatting import interval, number
from sim.experiment.plan import Plan, format_value
from sim.experiment.stats import CONFIDENCE, t_interval
from sim.experiment.store import (
    COMPARISON,
    FIGURES_PLOT,
    FOREST_PLOT,
    HEATMAP_PLOT,
    REACHABILITY_PLOT,
    REPORT,
    RESULTS,
    SUMMARY,
    SUMMARY_JSON,
    SWEEP_PLOT,
    write_atomic,
)
from sim.experiment.table import SUMMARY as SUMMARY_PREFIX

#: figures computed per platform from the long table's time series (end of run, or mean after
#: the warm-up for ``mean_stale_rate``)
PLATFORM_FIGURES = TIMESERIES_FIGURES
PLATFORMS = ("all", "ios", "android", "web")
#: resolved-scenario tables left out of a comparison's key-by-key difference
NOT_COMPARED = ("scenario", "sweep")


# -- numbers ----------------------------------------------------------------------------------


def _json_number(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


# -- per-platform figures -----------------------------------------------------------------------


def _run_platform_figures(rows: pd.DataFrame, warm: float) -> dict[str, dict[str, float]]:
    """One run's time-series rows → platform → figure → value."""
    out: dict[str, dict[str, float]] = {}
    for platform, mine in rows.groupby("platform", sort=False):
        wide = mine.pivot_table(index="time", columns="metric", values="value", aggfunc="first")
        if wide.empty:
            continue
        last = wide.iloc[-1]
        figures: dict[str, float] = {}
        for name in ("believed_reachable", "truly_reachable", "reachable_not_targeted"):
            if name in wide:
                figures[name] = float(last[name])
        if "stale_rate" in wide:
            figures["stale_rate"] = float(last["stale_rate"])
            after = wide.loc[wide.index >= warm, "stale_rate"]
            figures["mean_stale_rate"] = float(after.mean()) if len(after) else math.nan
        believed, truly = figures.get("believed_reachable"), figures.get("truly_reachable")
        if believed is not None and truly is not None:
            figures["overstatement"] = believed / truly if truly else math.nan
        out[str(platform)] = figures
    return out


def platform_summary(result: ExperimentResult) -> list[dict[str, Any]]:
    """Per point: figure → platform → mean, 95 % CI and n (see :data:`PLATFORM_FIGURES`)."""
    table = result.table
    series = table[~table["metric"].str.startswith(SUMMARY_PREFIX)]
    points = []
    for point in result.plan.points:
        warm = point.scenario.measurement.warm_up_days
        per_run: list[dict[str, dict[str, float]]] = []
        for run in result.plan.runs_of(point.index):
            per_run.append(_run_platform_figures(series[series["run_id"] == run.run_id], warm))
        mine = result.summary[result.summary["point"] == point.label]
        figures: dict[str, dict[str, Any]] = {}
        for _, row in mine.iterrows():
            figures[row["figure"]] = {
                "all": {
                    "mean": _json_number(row["mean"]),
                    "ci_low": _json_number(row["ci_low"]),
                    "ci_high": _json_number(row["ci_high"]),
                    "n": int(row["n"]),
                }
            }
        for name in PLATFORM_FIGURES:
            for platform in PLATFORMS[1:]:
                values = [run[platform][name] for run in per_run if name in run.get(platform, {})]
                if not values:
                    continue
                found = t_interval(values)
                figures.setdefault(name, {})[platform] = {
                    "mean": _json_number(found.mean),
                    "ci_low": _json_number(found.low),
                    "ci_high": _json_number(found.high),
                    "n": found.n,
                }
        points.append(
            {
                "point": point.label,
                "scenario": point.scenario.scenario.name,
                "scenario_hash": point.scenario_hash,
                "values": point.values,
                "figures": figures,
            }
        )
    return points


def summary_document(result: ExperimentResult, figures: pd.DataFrame | None) -> dict[str, Any]:
    """``summary.json``: the plan's outline, per-platform figures, and the comparison if any."""
    plan = result.plan
    document: dict[str, Any] = {
        "kind": plan.kind,
        "name": plan.name,
        "replications": plan.replications,
        "common_random_numbers": plan.common_random_numbers,
        "confidence": CONFIDENCE,
        "parameters": plan.parameters,
        "platforms": "all: every summary figure; ios, android, web: the figures of the time "
        "series (end of run; mean_stale_rate after the warm-up)",
        "points": platform_summary(result),
    }
    if figures is not None:
        document["comparison"] = [
            {key: _json_number(value) for key, value in row.items()}
            for row in figures.to_dict(orient="records")
        ]
    return document


# -- scenario difference ------------------------------------------------------------------------


def flatten(document: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` → ``{"a.b": 1}`` (lists and scalars are leaves)."""
    out: dict[str, Any] = {}
    for key, value in document.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


def scenario_diff(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """The keys whose values differ between two resolved scenarios: (path, A's, B's).

    ``[scenario]`` (name, description) and ``[sweep]`` are left out. A key one side lacks is
    reported with ``None`` on that side.
    """
    left = {k: v for k, v in flatten(a).items() if k.split(".")[0] not in NOT_COMPARED}
    right = {k: v for k, v in flatten(b).items() if k.split(".")[0] not in NOT_COMPARED}
    keys = sorted(set(left) | set(right))
    return [(k, left.get(k), right.get(k)) for k in keys if left.get(k) != right.get(k)]


def diff_phrase(diff: Sequence[tuple[str, Any, Any]], limit: int = 3) -> str:
    """``policy.uninstall_tracking: false → true`` (and how many more)."""
    if not diff:
        return "the resolved scenarios are identical"
    parts = [f"{k}: {format_value(a)} → {format_value(b)}" for k, a, b in diff[:limit]]
    more = len(diff) - limit
    return "; ".join(parts) + (f"; and {more} more (see report.md)" if more > 0 else "")


# -- markdown -----------------------------------------------------------------------------------


def _md_table(rows: list[list[str]]) -> list[str]:
    head, *body = rows
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    return lines + ["| " + " | ".join(cell.replace("|", "\\|") for cell in r) + " |" for r in body]


def _headline(result: ExperimentResult) -> list[str]:
    names = set(result.summary["figure"])
    return [n for n in HEADLINE if n in names]


def _what_ran(plan: Plan) -> str:
    days = sorted({p.scenario.measurement.days for p in plan.points})
    warm = sorted({p.scenario.measurement.warm_up_days for p in plan.points})
    seeds = (
        "common random numbers (every point on the same seeds)"
        if (plan.common_random_numbers)
        else "independent seeds per point"
    )
    text = (
        f"{len(plan.points)} point{'s' if len(plan.points) != 1 else ''} × "
        f"{plan.replications} replication{'s' if plan.replications != 1 else ''} = "
        f"{len(plan.runs)} runs of {'/'.join(f'{d:g}' for d in days)} days, {seeds}."
    )
    if any(warm):
        text += (
            f" Figures are measured after a warm-up of {'/'.join(f'{w:g}' for w in warm)} days "
            "(the time series include it, shaded)."
        )
    return text + (
        f" Intervals are {CONFIDENCE:.0%} Student-t confidence intervals of the mean over the "
        "replications."
    )


def _files_note(plan: Plan) -> str:
    extra = f", `{COMPARISON}`" if plan.kind == "compare" else ""
    return (
        f"Data: `{RESULTS}` (long table of every run), `{SUMMARY}` (mean and CI per point and "
        f"figure), `{SUMMARY_JSON}` (the same per platform){extra}, `experiment.json` (the plan, "
        "seeds and resolved scenarios)."
    )


def _figure_rows(summary: pd.DataFrame, names: Sequence[str]) -> list[list[str]]:
    rows = [["figure", "mean", f"{CONFIDENCE:.0%} CI", "n"]]
    for name in names:
        row = summary[summary["figure"] == name].iloc[0]
        rows.append(
            [name, number(row["mean"]), interval(row["ci_low"], row["ci_high"]), str(row["n"])]
        )
    return rows


def _platform_rows(point: dict[str, Any]) -> list[list[str]]:
    platforms = [
        p for p in PLATFORMS if any(p in point["figures"].get(n, {}) for n in PLATFORM_FIGURES)
    ]
    rows = [["figure", *platforms]]
    for name in PLATFORM_FIGURES:
        cells = point["figures"].get(name, {})
        row = [name]
        for platform in platforms:
            found = cells.get(platform)
            if found is None or found["mean"] is None:
                row.append("n/a")
                continue
            low, high = found["ci_low"], found["ci_high"]
            row.append(
                f"{number(found['mean'])} "
                + interval(math.nan if low is None else low, math.nan if high is None else high)
            )
        rows.append(row)
    return rows


def _replications_report(
    result: ExperimentResult, platforms: list[dict[str, Any]], plots: list[str]
) -> list[str]:
    plan = result.plan
    point = plan.points[0]
    names = _headline(result)
    summary = result.summary
    lines = [
        f"# {plan.name}: {plan.replications} replications",
        "",
        f"Scenario `{point.scenario.scenario.name}` (hash `{point.scenario_hash}`, base seed "
        f"{point.scenario.measurement.seed}). {_what_ran(plan)}",
        "",
    ]
    lines += _says(summary, names)
    lines += ["", "## Headline figures", "", *_md_table(_figure_rows(summary, names))]
    lines += ["", "## By platform", "", "Mean and CI per platform, from the time series.", ""]
    lines += _md_table(_platform_rows(platforms[0]))
    others = [n for n in dict.fromkeys(summary["figure"]) if n not in names]
    if others:
        lines += ["", "## Other figures", "", *_md_table(_figure_rows(summary, others))]
    lines += ["", "## Plots", ""]
    if REACHABILITY_PLOT in plots:
        lines += [
            f"![believed vs truly reachable]({REACHABILITY_PLOT})",
            "",
            "Believed (registry) and truly reachable profiles over time: the mean of the "
            f"replications with its {CONFIDENCE:.0%} CI band, per platform.",
            "",
        ]
    if FIGURES_PLOT in plots:
        lines += [
            f"![headline figures]({FIGURES_PLOT})",
            "",
            "Each headline figure on its own scale: the mean (diamond), its CI (bar) and every "
            "replication (dots).",
            "",
        ]
    return [*lines, _files_note(plan)]


def _says(summary: pd.DataFrame, names: Sequence[str]) -> list[str]:
    """A sentence on believed vs truly reachable, when both are there."""
    if (
        not {"believed_reachable", "truly_reachable"} <= set(names)
        or summary["point"].nunique() > 1
    ):
        return []
    get = {n: summary[summary["figure"] == n].iloc[0] for n in names}
    believed, truly = get["believed_reachable"], get["truly_reachable"]
    text = (
        f"At the end of the run the registry believes {number(believed['mean'])} profiles "
        f"reachable (CI {interval(believed['ci_low'], believed['ci_high'])}); "
        f"{number(truly['mean'])} truly are (CI {interval(truly['ci_low'], truly['ci_high'])})"
    )
    if "overstatement" in get and math.isfinite(get["overstatement"]["mean"]):
        text += f", an overstatement of {get['overstatement']['mean']:.3g}×"
    if "stale_rate" in get and math.isfinite(get["stale_rate"]["mean"]):
        s = get["stale_rate"]
        text += (
            f"; {100 * s['mean']:.1f} % of the tokens it holds are stale "
            f"(CI {interval(100 * s['ci_low'], 100 * s['ci_high'])} %)"
        )
    return [text + "."]


def _sweep_report(result: ExperimentResult, plots: list[str]) -> list[str]:
    plan = result.plan
    names = _headline(result)
    summary = result.summary
    swept = ", ".join(f"`{p}`" for p in plan.parameters) or "nothing"
    lines = [
        f"# {plan.name}: sweep of {swept}",
        "",
        _what_ran(plan),
        "",
        "## Points",
        "",
    ]
    lines += _md_table(
        [["point", *plan.parameters, "scenario hash"]]
        + [
            [p.label, *(format_value(p.values[k]) for k in plan.parameters), f"`{p.scenario_hash}`"]
            for p in plan.points
        ]
    )
    lines += [
        "",
        "## Headline figures by point",
        "",
        f"Each cell: mean and {CONFIDENCE:.0%} CI over the point's replications.",
        "",
    ]
    header = ["figure"] + [f"{p.label}: {p.describe_values() or p.label}" for p in plan.points]
    rows = [header]
    by_point = {
        p.label: summary[summary["point"] == p.label].set_index("figure") for p in plan.points
    }
    for name in names:
        cells = []
        for p in plan.points:
            mine = by_point[p.label]
            mean, low, high = (mine.at[name, c] for c in ("mean", "ci_low", "ci_high"))
            cells.append(f"{number(mean)} {interval(low, high)}")
        rows.append([name, *cells])
    lines += _md_table(rows)
    lines += ["", "## Plots", ""]
    if SWEEP_PLOT in plots:
        lines += [
            f"![figures across the sweep]({SWEEP_PLOT})",
            "",
            f"Each headline figure across the sweep ({swept}): the mean with its {CONFIDENCE:.0%} "
            "CI (bars; a band between numeric values).",
            "",
        ]
    if HEATMAP_PLOT in plots:
        lines += [
            f"![heat maps]({HEATMAP_PLOT})",
            "",
            f"The mean of each figure over `{plan.parameters[0]}` × `{plan.parameters[1]}`.",
            "",
        ]
    return [*lines, _files_note(plan)]


def _side(point: Any) -> str:
    values = point.describe_values()
    return (
        f"`{point.scenario.scenario.name}`{' (' + values + ')' if values else ''} "
        f"(hash `{point.scenario_hash}`)"
    )


def _compare_report(
    result: ExperimentResult,
    figures: pd.DataFrame,
    diff: list[tuple[str, Any, Any]],
    plots: list[str],
) -> list[str]:
    from sim.report.experiment_plots import relative

    plan = result.plan
    a, b = plan.points
    lines = [
        f"# {plan.name}: B − A",
        "",
        f"A is {_side(a)}, B is {_side(b)}. "
        + _what_ran(plan)
        + " Replication r of A and of B share a seed, so each difference is measured pair by "
        "pair (paired CI); the Welch CI treats the two samples as independent.",
        "",
        "## What differs",
        "",
    ]
    if diff:
        lines += [
            f"{len(diff)} key{'s' if len(diff) != 1 else ''} of the resolved scenarios "
            "(defaults included; `[scenario]` and `[sweep]` left out) differ:",
            "",
        ]
        lines += _md_table(
            [["key", "A", "B"]] + [[f"`{k}`", format_value(x), format_value(y)] for k, x, y in diff]
        )
    else:
        lines.append("The resolved scenarios are identical (apart from `[scenario]`).")
    head = figures[figures["figure"].isin(HEADLINE)]
    clear = [
        row
        for _, row in head.iterrows()
        if math.isfinite(row["paired_low"]) and (row["paired_low"] > 0 or row["paired_high"] < 0)
    ]
    lines += ["", "## Differences", ""]
    if clear:
        parts = [
            f"{row['figure']} {'rises' if row['difference'] > 0 else 'falls'} by "
            f"{number(abs(row['difference']))}"
            + (
                f" ({relative(row['difference'], row['mean_a']):+.1f} %)"
                if math.isfinite(relative(row["difference"], row["mean_a"]))
                else ""
            )
            for row in clear
        ]
        lines += [
            "Paired CIs that exclude zero: " + "; ".join(parts) + ".",
            "",
        ]
    else:
        lines += ["No headline figure's paired CI excludes zero.", ""]
    rows = [["figure", "A", "B", "B − A", "relative", "paired 95 % CI", "Welch 95 % CI", "n"]]
    for _, row in head.iterrows():
        rel = relative(row["difference"], row["mean_a"])
        rows.append(
            [
                row["figure"],
                number(row["mean_a"]),
                number(row["mean_b"]),
                number(row["difference"]),
                f"{rel:+.1f} %" if math.isfinite(rel) else "n/a",
                interval(row["paired_low"], row["paired_high"]),
                interval(row["welch_low"], row["welch_high"]),
                str(row["n"]),
            ]
        )
    lines += _md_table(rows)
    lines += ["", "## Plots", ""]
    if FOREST_PLOT in plots:
        lines += [
            f"![paired differences]({FOREST_PLOT})",
            "",
            "Each headline figure's paired difference B − A as a percentage of A's mean, with its "
            f"paired {CONFIDENCE:.0%} CI; the line at zero is no difference.",
            "",
        ]
    return [*lines, _files_note(plan)]


# -- writing --------------------------------------------------------------------------------------


def _png(fig: Any) -> bytes:
    from sim.report.experiment_plots import DPI

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def write_experiment_report(
    result: ExperimentResult, directory: Path | str, figures: pd.DataFrame | None = None
) -> list[Path]:
    """Write ``summary.json``, the plots and ``report.md`` into ``directory``; their paths.

    ``figures`` is the comparison's table (:func:`sim.experiment.comparison.paired_figures`),
    for a comparison.
    """
    from sim.report import experiment_plots as plots

    folder = Path(directory)
    plan = result.plan
    written: list[Path] = []
    images: dict[str, Any] = {}
    title = plan.name
    names = _headline(result)
    diff: list[tuple[str, Any, Any]] = []
    if plan.kind == "compare" and figures is not None:
        a, b = plan.points
        diff = scenario_diff(a.scenario.resolved(), b.scenario.resolved())
        subtitle = f"A = {a.scenario.scenario.name}, B = {b.scenario.scenario.name}: "
        images[FOREST_PLOT] = plots.plot_forest(figures, names, title, subtitle + diff_phrase(diff))
    elif len(plan.points) == 1:
        images[REACHABILITY_PLOT] = plots.plot_reachability_bands(result.table, plan, title)
        values = {n: result.values(n, 0).to_numpy(dtype=float) for n in names}
        images[FIGURES_PLOT] = plots.plot_figure_intervals(values, result.summary, title)
    else:
        images[SWEEP_PLOT] = plots.plot_sweep(result.summary, plan, names, title)
        if len(plan.parameters) == 2 and plan.mode == "grid":
            images[HEATMAP_PLOT] = plots.plot_heatmap(result.summary, plan, names, title)
    for name, fig in images.items():
        write_atomic(folder / name, _png(fig))
        written.append(folder / name)
    document = summary_document(result, figures if plan.kind == "compare" else None)
    text = json.dumps(document, indent=2, sort_keys=True, allow_nan=False) + "\n"
    write_atomic(folder / SUMMARY_JSON, text.encode("utf-8"))
    written.append(folder / SUMMARY_JSON)
    shown = list(images)
    if plan.kind == "compare" and figures is not None:
        lines = _compare_report(result, figures, diff, shown)
    elif len(plan.points) == 1:
        lines = _replications_report(result, document["points"], shown)
    else:
        lines = _sweep_report(result, shown)
    write_atomic(folder / REPORT, ("\n".join(lines).rstrip() + "\n").encode("utf-8"))
    written.append(folder / REPORT)
    return written
