"""The plots of an experiment: replications, sweeps and paired comparisons, with 95 % CIs.

Each function draws on a fresh :class:`~matplotlib.figure.Figure` with an Agg canvas (never
``pyplot``), as :mod:`sim.report.plots` does, and copes with too few replications for an interval
(NaN bounds: the mean alone is drawn). Colours are Okabe–Ito's colour-blind-safe palette; heat
maps use viridis (perceptually uniform, readable in grey and under colour-vision deficiencies).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from scipy import stats

from sim.experiment.plan import Plan, format_value
from sim.experiment.stats import CONFIDENCE

#: Okabe–Ito, black first
OKABE_ITO = (
    "#000000",
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
)
#: believed reachable (blue) and truly reachable (vermillion)
BELIEVED, TRULY = "#0072B2", "#D55E00"
PLATFORM_NAMES = {"all": "All platforms", "ios": "iOS", "android": "Android", "web": "Web"}
DPI = 110
_GRID: dict[str, Any] = {"color": "#e5e5e5", "linewidth": 0.8}


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _finite(value: float) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def t_band(values: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 95 % t interval per column of ``values`` (rows: replications)."""
    array = values.to_numpy(dtype=float)
    n = np.sum(np.isfinite(array), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nanmean(array, axis=0) if array.size else np.full(array.shape[1], np.nan)
        sd = np.nanstd(array, axis=0, ddof=1) if array.shape[0] > 1 else np.full_like(mean, np.nan)
        t = stats.t.ppf(0.5 + CONFIDENCE / 2, np.maximum(n - 1, 1))
        half = np.where(n > 1, t * sd / np.sqrt(np.maximum(n, 1)), np.nan)
    return mean, mean - half, mean + half


def label(name: str) -> str:
    """``truly_reachable`` → ``truly reachable``."""
    return name.replace("_", " ")


def _warm_up(ax: Axes, warm: float) -> None:
    if warm > 0:
        ax.axvspan(0, warm, color="#f0f0f0", zorder=0)
        ax.text(
            warm / 2,
            0.02,
            "warm-up",
            transform=ax.get_xaxis_transform(),
            ha="center",
            fontsize=8,
            color="#777777",
        )


def plot_reachability_bands(table: pd.DataFrame, plan: Plan, title: str) -> Figure:
    """Believed vs truly reachable over time, mean of the replications with its 95 % CI band.

    One panel per platform in the long table (all platforms first).
    """
    point = plan.points[0]
    runs = {run.run_id for run in plan.runs_of(point.index)}
    rows = table[table["run_id"].isin(runs) & ~table["metric"].str.startswith("summary.")]
    platforms = [p for p in PLATFORM_NAMES if p in set(rows["platform"])]
    cols = 2 if len(platforms) > 1 else 1
    nrows = math.ceil(len(platforms) / cols) or 1
    fig = _figure(6.0 * cols, 3.4 * nrows)
    axes = fig.subplots(nrows, cols, squeeze=False).ravel()
    warm = point.scenario.measurement.warm_up_days
    for ax, platform in zip(axes, platforms, strict=False):
        mine = rows[rows["platform"] == platform]
        for metric, colour, style in (
            ("believed_reachable", BELIEVED, "-"),
            ("truly_reachable", TRULY, "--"),
        ):
            wide = mine[mine["metric"] == metric].pivot_table(
                index="run_id", columns="time", values="value", aggfunc="first"
            )
            if wide.empty:
                continue
            t = wide.columns.to_numpy(dtype=float)
            mean, low, high = t_band(wide)
            ax.fill_between(t, low, high, color=colour, alpha=0.25, linewidth=0)
            ax.plot(t, mean, color=colour, linestyle=style, linewidth=1.8)
        _warm_up(ax, warm)
        ax.set_title(PLATFORM_NAMES[platform], loc="left", fontsize=11)
        ax.set_xlabel("day")
        ax.set_ylabel("profiles")
        ax.grid(True, **_GRID)
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
    for ax in axes[len(platforms) :]:
        ax.set_visible(False)
    handles = [
        Line2D([], [], color=BELIEVED, linewidth=1.8, label="believed reachable (mean)"),
        Line2D([], [], color=TRULY, linewidth=1.8, linestyle="--", label="truly reachable (mean)"),
        Patch(color="#777777", alpha=0.3, label=f"{CONFIDENCE:.0%} CI over replications"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, frameon=False)
    fig.suptitle(
        f"Believed vs truly reachable — {title}\n"
        f"{plan.replications} replications, mean and {CONFIDENCE:.0%} CI per sample time",
        fontsize=12,
    )
    return fig


def plot_figure_intervals(
    result_values: dict[str, np.ndarray], summary: pd.DataFrame, title: str
) -> Figure:
    """Dot-and-interval: one small panel per figure (own scale), replications as faint dots."""
    names = list(result_values)
    fig = _figure(7.5, 0.62 * len(names) + 1.2)
    axes = fig.subplots(len(names), 1, squeeze=False).ravel()
    for ax, name in zip(axes, names, strict=True):
        row = summary[summary["figure"] == name].iloc[0]
        values = result_values[name]
        values = values[np.isfinite(values)]
        ax.plot(
            values, np.full_like(values, 0.45), "o", color=OKABE_ITO[2], alpha=0.7, markersize=4
        )
        if _finite(row["ci_low"]):
            ax.plot([row["ci_low"], row["ci_high"]], [0, 0], color=OKABE_ITO[0], linewidth=2.2)
        if _finite(row["mean"]):
            ax.plot([row["mean"]], [0], "D", color=OKABE_ITO[6], markersize=7)
        ax.set_yticks([0], [label(name)])
        ax.set_ylim(-1, 1)
        ax.grid(True, axis="x", **_GRID)
        ax.tick_params(axis="x", labelsize=8)
        ax.margins(x=0.15)
    handles = [
        Line2D([], [], marker="D", color=OKABE_ITO[6], linestyle="", label="mean"),
        Line2D([], [], color=OKABE_ITO[0], linewidth=2.2, label=f"{CONFIDENCE:.0%} CI"),
        Line2D(
            [], [], marker="o", color=OKABE_ITO[2], alpha=0.5, linestyle="", label="one replication"
        ),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, frameon=False)
    fig.suptitle(f"Headline figures — {title}\n(each on its own scale)", fontsize=12)
    return fig


def _numeric(values: Sequence[Any]) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _axis_values(values: Sequence[Any]) -> tuple[np.ndarray, list[str] | None]:
    """Numeric x positions of swept values; tick labels when the values are not numbers."""
    if _numeric(values):
        return np.asarray(values, dtype=float), None
    return np.arange(len(values), dtype=float), [format_value(v) for v in values]


def plot_sweep(summary: pd.DataFrame, plan: Plan, names: Sequence[str], title: str) -> Figure:
    """Each figure against a swept key (one panel per figure), mean and 95 % CI.

    Numeric values get a band, other values (booleans, text) bars at evenly spaced ticks. With two
    keys in a grid, the numeric one (else the first) is the x axis and the other one line per
    value; other sweeps are drawn point by point.
    """
    params = plan.parameters
    if len(params) == 2 and not _numeric([p.values[params[0]] for p in plan.points]):
        params = params[::-1]  # numbers on the x axis, the other key as lines
    x_key = params[0] if params else None
    group_key = params[1] if len(params) > 1 and plan.mode == "grid" else None
    by_point = x_key is None or (len(params) > 1 and group_key is None) or len(params) > 2
    cols = 3 if len(names) > 4 else 2
    nrows = math.ceil(len(names) / cols)
    fig = _figure(4.0 * cols, 2.8 * nrows + 0.8)
    axes = fig.subplots(nrows, cols, squeeze=False).ravel()
    frame = summary.copy()
    if by_point:
        order = [p.label for p in plan.points]
        frame["_x"] = frame["point"].map({p: i for i, p in enumerate(order)})
        ticks: list[str] | None = order
        groups: list[Any] = [None]
    else:
        xs = list(dict.fromkeys(point.values[x_key] for point in plan.points))  # type: ignore[index]
        positions, ticks = _axis_values(xs)
        frame["_x"] = [
            positions[xs.index(next(p.values[x_key] for p in plan.points if p.label == lab))]  # type: ignore[index]
            for lab in frame["point"]
        ]
        groups = (
            list(dict.fromkeys(p.values[group_key] for p in plan.points)) if group_key else [None]
        )
    for ax, name in zip(axes, names, strict=False):
        mine = frame[frame["figure"] == name]
        for index, group in enumerate(groups):
            colour = OKABE_ITO[(index + 5) % len(OKABE_ITO)] if group_key else OKABE_ITO[5]
            if group_key is not None:
                labels = {p.label for p in plan.points if p.values[group_key] == group}
                rows = mine[mine["point"].isin(labels)]
            else:
                rows = mine
            rows = rows.sort_values("_x")
            x = rows["_x"].to_numpy(dtype=float)
            if ticks is not None and len(groups) > 1:  # dodge categories' groups apart
                x = x + 0.12 * (index - (len(groups) - 1) / 2)
            mean = rows["mean"].to_numpy(dtype=float)
            low, high = rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float)
            if ticks is None:  # a band between numbers; categories get bars only
                ax.fill_between(x, low, high, color=colour, alpha=0.22, linewidth=0)
            ax.errorbar(
                x,
                mean,
                yerr=[mean - low, high - mean] if np.isfinite(low).all() else None,
                color=colour,
                marker="o",
                linewidth=1.6 if ticks is None else 0.8,
                linestyle="-" if ticks is None else ":",
                capsize=4,
                markersize=5,
                elinewidth=2,
                label=None if group is None else f"{group_key} = {format_value(group)}",
            )
        ax.set_title(label(name), fontsize=10, loc="left")
        ax.grid(True, **_GRID)
        ax.tick_params(labelsize=8)
        if ticks is not None:
            ax.set_xticks(np.arange(len(ticks)), ticks)
            ax.set_xlim(-0.5, len(ticks) - 0.5)
        ax.set_xlabel("point" if by_point else str(x_key), fontsize=8)
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    if group_key is not None:
        handles, labels_ = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels_, loc="outside lower center", ncol=len(groups), frameon=False)
    fig.suptitle(
        f"Headline figures across the sweep — {title}\n"
        f"mean and {CONFIDENCE:.0%} CI over {plan.replications} replications per point",
        fontsize=12,
    )
    return fig


def plot_heatmap(summary: pd.DataFrame, plan: Plan, names: Sequence[str], title: str) -> Figure:
    """One heat map per figure over the first two swept keys (cell: the mean)."""
    x_key, y_key = plan.parameters[0], plan.parameters[1]
    xs = list(dict.fromkeys(p.values[x_key] for p in plan.points))
    ys = list(dict.fromkeys(p.values[y_key] for p in plan.points))
    cols = 3 if len(names) > 4 else 2
    nrows = math.ceil(len(names) / cols)
    fig = _figure(4.2 * cols, 3.2 * nrows + 0.8)
    axes = fig.subplots(nrows, cols, squeeze=False).ravel()
    where = {p.label: (ys.index(p.values[y_key]), xs.index(p.values[x_key])) for p in plan.points}
    for ax, name in zip(axes, names, strict=False):
        grid = np.full((len(ys), len(xs)), np.nan)
        for _, row in summary[summary["figure"] == name].iterrows():
            grid[where[row["point"]]] = row["mean"]
        image = ax.imshow(grid, cmap="viridis", aspect="auto", origin="lower")
        fig.colorbar(image, ax=ax, shrink=0.85)
        finite = grid[np.isfinite(grid)]
        middle = (finite.min() + finite.max()) / 2 if finite.size else 0
        for (i, j), value in np.ndenumerate(grid):
            if math.isfinite(value):
                ax.text(
                    j,
                    i,
                    f"{value:.3g}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="black" if value > middle else "white",
                )
        ax.set_xticks(range(len(xs)), [format_value(v) for v in xs], fontsize=8)
        ax.set_yticks(range(len(ys)), [format_value(v) for v in ys], fontsize=8)
        ax.set_xlabel(x_key, fontsize=8)
        ax.set_ylabel(y_key, fontsize=8)
        ax.set_title(label(name), fontsize=10, loc="left")
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    fig.suptitle(f"Mean of each figure over two swept keys — {title}", fontsize=12)
    return fig


def relative(value: float, base: float) -> float:
    """``value`` as a percentage of ``|base|`` (NaN when ``base`` is 0 or undefined)."""
    if not (_finite(value) and _finite(base)) or base == 0:
        return math.nan
    return 100.0 * value / abs(base)


def plot_forest(figures: pd.DataFrame, names: Sequence[str], title: str, subtitle: str) -> Figure:
    """Paired differences B − A relative to A's mean (%), paired 95 % CI, zero line.

    Beside each row, the difference in the figure's own unit with its paired CI.
    """
    rows = figures.set_index("figure").loc[list(names)]
    fig = _figure(9.5, 0.45 * len(names) + 2.4)
    ax = fig.subplots()
    y = np.arange(len(names))[::-1]
    right = ax.get_yaxis_transform()
    for yi, (_, row) in zip(y, rows.iterrows(), strict=True):
        mid = relative(row["difference"], row["mean_a"])
        low = relative(row["paired_low"], row["mean_a"])
        high = relative(row["paired_high"], row["mean_a"])
        absolute = f"{row['difference']:+.3g}"
        if _finite(row["paired_low"]):
            absolute += f"  [{row['paired_low']:.3g}, {row['paired_high']:.3g}]"
        ax.text(1.02, yi, absolute, transform=right, va="center", fontsize=8, color="#333333")
        if not math.isfinite(mid):
            ax.text(
                0.5,
                yi,
                f"A's mean is {row['mean_a']:.3g}: no relative difference",
                transform=right,
                va="center",
                ha="center",
                fontsize=8,
                color="#555555",
            )
            continue
        excludes_zero = math.isfinite(low) and (low > 0 or high < 0)
        colour = OKABE_ITO[6] if excludes_zero else OKABE_ITO[5]
        if math.isfinite(low):
            ax.plot([low, high], [yi, yi], color=colour, linewidth=2.2)
        ax.plot([mid], [yi], "D" if excludes_zero else "o", color=colour, markersize=7)
    ax.axvline(0, color="#333333", linewidth=1.0)
    ax.set_yticks(y, [label(str(n)) for n in names])
    ax.set_ylim(-0.7, len(names) - 0.3)
    ax.set_xlabel("B − A, % of A's mean (paired 95 % CI)")
    ax.text(
        1.02,
        len(names) - 0.4,
        "B − A [paired CI]",
        transform=right,
        va="bottom",
        fontsize=8,
        fontweight="bold",
    )
    ax.grid(True, axis="x", **_GRID)
    ax.margins(x=0.1)
    handles = [
        Line2D([], [], marker="D", color=OKABE_ITO[6], linewidth=2.2, label="CI excludes 0"),
        Line2D([], [], marker="o", color=OKABE_ITO[5], linewidth=2.2, label="CI includes 0"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=2, frameon=False, fontsize=9)
    wrapped = "\n".join(textwrap.wrap(subtitle, 110))
    fig.suptitle(f"B − A — {title}\n{wrapped}", fontsize=10)
    return fig
