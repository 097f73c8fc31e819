"""The report's plots: one function per figure, each drawing a :class:`RunResult` on a fresh Figure.

Only the object-oriented matplotlib API is used (``matplotlib.figure.Figure`` with an Agg canvas,
never ``pyplot``), so plotting holds no global state, needs no display, and is safe in threads and
worker processes. Every function copes with a tiny or empty result (no campaigns, no latencies, a
single sample) by drawing what there is and saying in the figure what is missing.

``title`` names the run (usually the scenario); each figure's heading is ``"<subject> — <title>"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.metrics.latency import UNINSTALL
from sim.metrics.results import ANDROID_12, ANDROID_13, ANDROID_CLASSES, RunResult
from sim.metrics.survival import SurvivalCurve
from sim.metrics.timeseries import ALL

#: platforms in drawing order (the total first, then iOS, Android, web)
PLATFORMS = (ALL, "ios", "android", "web")
#: one colour per platform, the same in every figure: Okabe–Ito's blue, bluish green and orange
#: (colour-blind safe; see :data:`OKABE_ITO`) beside a neutral dark grey for the total
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
}
PLATFORM_COLOURS = {
    ALL: "#3b3b3b",
    "ios": OKABE_ITO["blue"],
    "android": OKABE_ITO["bluish green"],
    "web": OKABE_ITO["orange"],
}
PLATFORM_LABELS = {ALL: "All platforms", "ios": "iOS", "android": "Android", "web": "Web"}
#: Android's OS classes (docs/model.md §3, drawn in :data:`ANDROID_CLASSES` order), their labels and
#: colours: a light and a dark shade of Android's bluish green, apart by lightness under any
#: colour-vision deficiency
CLASS_LABELS = {ANDROID_12: "Android ≤ 12", ANDROID_13: "Android 13+"}
CLASS_COLOURS = {ANDROID_12: "#8fd6c1", ANDROID_13: "#00573f"}
#: stale tokens: dead (dark) and zombie (light), apart by lightness as well as hue
STALE_COLOURS = {"dead": OKABE_ITO["vermillion"], "zombie": "#f5d28a"}

#: send outcomes stacked bottom to top: (label, colour, columns summed), all Okabe–Ito (no
#: red/green pair). The two kinds of misdirected push sit on the displayed ones: reddish purple
#: and sky blue, apart from each other and from every other outcome under any colour-vision
#: deficiency.
OUTCOMES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("displayed", OKABE_ITO["blue"], ("displayed",)),
    ("shown to another logged-in user", OKABE_ITO["reddish purple"], ("shown_to_other_user",)),
    ("shown with nobody logged in", OKABE_ITO["sky blue"], ("shown_to_nobody",)),
    ("delivered in background", OKABE_ITO["yellow"], ("delivered_background",)),
    ("dropped (zombie)", OKABE_ITO["orange"], ("dropped",)),
    ("bounced", OKABE_ITO["vermillion"], ("bounced",)),
    ("flagged + gave up", OKABE_ITO["black"], ("flagged", "gave_up")),
    ("pending retry", "#bbbbbb", ("pending",)),
)

#: outcomes drawn (and listed in the legend) only when a campaign had any
OPTIONAL_OUTCOMES = ("delivered in background", "flagged + gave up", "pending retry")

#: file names written by :func:`write_plots`, in order
PLOT_FILES = (
    "reachability.png",
    "funnel.png",
    "stale_tokens.png",
    "send_outcomes.png",
    "uninstall_latency.png",
)
#: written by :func:`write_plots` after :data:`PLOT_FILES` when both Android OS classes have
#: installed devices (:func:`both_android_classes`): what Android 13+'s prompt costs
ANDROID_PLOT = "android_13_prompt.png"

#: funnel steps and the words on their bars
FUNNEL_LABELS = {
    "installed": "app installed",
    "launched": "launched since install",
    "permission": "notifications allowed",
    "token_valid": "provider token valid",
    "registry_holds": "registry holds it (foreground)",
    "right_profile": "held for the logged-in user",
    "subscribed": "not unsubscribed = truly reachable",
}

DPI = 110
#: below this many foreground tokens a platform's stale rate is drawn as a noisy (dotted) line
FEW_TOKENS = 50
_NOTE = {"ha": "center", "va": "center", "fontsize": 12, "color": "#555555"}

FloatArray = npt.NDArray[np.float64]


def days_phrase(days: float) -> str:
    """``"1 day"``, ``"90 days"``, ``"0.5 days"``."""
    return f"{days:g} day" if days == 1 else f"{days:g} days"


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _heading(fig: Figure, subject: str, title: str) -> None:
    fig.suptitle(f"{subject} — {title}", fontsize=13, fontweight="bold")


def _note(ax: Axes, text: str) -> None:
    """A visible message in the middle of an axes (used for missing data)."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, **_NOTE)  # type: ignore[arg-type]


def _platform_rows(result: RunResult, platform: str) -> pd.DataFrame:
    ts = result.timeseries
    return ts[ts["platform"] == platform].sort_values("time")


def _floats(frame: pd.DataFrame, column: str) -> FloatArray:
    return frame[column].to_numpy(dtype=np.float64)


def _percent(part: FloatArray, whole: FloatArray) -> FloatArray:
    out = np.zeros_like(part)
    np.divide(100.0 * part, whole, out=out, where=whole > 0)
    return out


def _day_axis(ax: Axes, days: float) -> None:
    ax.set_xlim(0, max(days, 1.0))
    ax.grid(True, color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)


def _marker(n: int) -> str:
    """Show sample markers when there are too few samples to draw a line."""
    return "o" if n <= 2 else ""


#: the warm-up's shade, and what it is (legend of the reachability plot, note on the others)
WARM_UP_COLOUR = "#ececec"


def warm_up_phrase(result: RunResult) -> str:
    """What the blank first days are: ``"warm-up (days 0–30): left out, …"``."""
    return (
        f"warm-up (days 0–{result.warm_up_days:g}): left out while the simulated population "
        "settles from its starting state"
    )


def _shade_warm_up(ax: Axes, result: RunResult, *, label: bool = False) -> None:
    """Shade the warm-up (days 0 to ``warm_up_days``), left out of the figures, and name it."""
    if result.warm_up_days <= 0:
        return
    ax.axvspan(0, result.warm_up_days, color=WARM_UP_COLOUR, zorder=0, linewidth=0)
    if label:
        ax.text(
            result.warm_up_days / 2,
            0.5,
            "warm-up\n(left out)",
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="center",
            rotation=90,
            fontsize=8,
            color="#777777",
        )


def plot_reachability(result: RunResult, title: str) -> Figure:
    """Believed (solid) vs truly (dashed) reachable profiles over time, one panel per platform.

    Reachable but not targeted (dotted) is drawn beside them: profiles not truly reachable who
    would see a push on a device they are logged in to, which the registry does not target there.
    It is never added to the truly reachable line (docs/model.md §5).
    """
    fig = _figure(11, 7.5)
    grid = fig.subplots(2, 2, sharex=True, squeeze=False)
    axes: list[Axes] = list(grid.flat)
    for ax, platform in zip(axes, PLATFORMS, strict=True):
        rows = _platform_rows(result, platform)
        colour = PLATFORM_COLOURS[platform]
        name = PLATFORM_LABELS[platform]
        _day_axis(ax, result.days)
        _shade_warm_up(ax, result, label=True)
        ax.set_ylabel("reachable audience (profiles)")
        if rows.empty:
            ax.set_title(name, loc="left", fontsize=11)
            _note(ax, "no samples")
            continue
        t = _floats(rows, "time")
        believed = _floats(rows, "believed_reachable")
        truly = _floats(rows, "truly_reachable")
        not_targeted = _floats(rows, "reachable_not_targeted")
        marker = _marker(len(t))
        ax.fill_between(t, truly, believed, color=colour, alpha=0.18, linewidth=0)
        ax.plot(t, believed, color=colour, linewidth=2.0, marker=marker, clip_on=not marker)
        ax.plot(
            t, truly, color=colour, linewidth=2.0, linestyle="--", marker=marker, clip_on=not marker
        )
        ax.plot(
            t,
            not_targeted,
            color=colour,
            linewidth=1.3,
            linestyle=":",
            marker=marker,
            clip_on=not marker,
        )
        top = max(float(believed.max()), float(truly.max()), float(not_targeted.max()), 1.0)
        ax.set_ylim(bottom=0, top=top * 1.08)
        end_b, end_t = int(believed[-1]), int(truly[-1])
        ratio = f" (×{end_b / end_t:.2f})" if end_t else ""
        ax.set_title(
            f"{name}: at day {t[-1]:g}, {end_b:,} believed vs {end_t:,} truly{ratio}\n"
            f"and {int(not_targeted[-1]):,} reachable but not targeted",
            loc="left",
            fontsize=11,
            color=colour,
        )
    for ax in axes[2:]:
        ax.set_xlabel("time since start (days)")
    handles: list[Artist] = [
        Line2D([], [], color="#3b3b3b", linewidth=2.0, label="believed reachable (registry, R9)"),
        Line2D([], [], color="#3b3b3b", linewidth=2.0, linestyle="--", label="truly reachable"),
        Patch(color="#3b3b3b", alpha=0.18, label="gap: counted but not reachable"),
        Line2D(
            [],
            [],
            color="#3b3b3b",
            linewidth=1.3,
            linestyle=":",
            label="reachable but not targeted (beside truly reachable, not part of it)",
        ),
    ]
    if result.warm_up_days > 0:
        handles.append(Patch(color=WARM_UP_COLOUR, label=warm_up_phrase(result)))
    fig.legend(handles=handles, loc="outside lower center", ncols=2, frameon=False)
    _heading(fig, "Believed vs truly reachable audience", title)
    return fig


#: the smoothing window of the stale-token plots' trend line (days): a week, one campaign cycle
#: of the default scenario, so the campaign-day sawtooth averages out
SMOOTH_DAYS = 7.0


def _rolling_mean(t: FloatArray, values: FloatArray, window: float) -> FloatArray:
    """The mean of ``values`` over the ``window`` days up to each sample (trailing)."""
    if not len(t):
        return values
    series = pd.Series(values, index=pd.to_timedelta(t, unit="D"))
    smoothed = series.rolling(pd.Timedelta(days=window), min_periods=1).mean()
    return smoothed.to_numpy(dtype=np.float64)


def plot_stale_tokens(result: RunResult, title: str) -> Figure:
    """Stale share of foreground tokens, one panel per platform (each with its own axis).

    In each panel dead and zombie tokens are stacked, in % of that platform's foreground tokens,
    sample by sample (pale), under a line of their total averaged over the past
    :data:`SMOOTH_DAYS` days. A platform with few tokens says so in its title: each token moves
    its rate by several points.
    """
    fig = _figure(11, 7.5)
    grid = fig.subplots(2, 2, sharex=True, squeeze=False)
    axes: list[Axes] = list(grid.flat)
    for ax, platform in zip(axes, PLATFORMS, strict=True):
        rows = _platform_rows(result, platform)
        name = PLATFORM_LABELS[platform]
        colour = PLATFORM_COLOURS[platform]
        _day_axis(ax, result.days)
        _shade_warm_up(ax, result, label=True)
        ax.set_ylabel("stale (% of foreground tokens)")
        if rows.empty or not float(rows["foreground_tokens"].max()):
            ax.set_title(name, loc="left", fontsize=11, color=colour)
            ax.set_ylim(0, 1)
            _note(ax, "no samples" if rows.empty else "no foreground token held")
            continue
        t = _floats(rows, "time")
        foreground = _floats(rows, "foreground_tokens")
        dead = _percent(_floats(rows, "stale_dead"), foreground)
        zombie = _percent(_floats(rows, "stale_zombie"), foreground)
        ax.stackplot(
            t,
            dead,
            zombie,
            colors=(STALE_COLOURS["dead"], STALE_COLOURS["zombie"]),
            alpha=0.75,
        )
        total = dead + zombie
        smooth = _rolling_mean(t, total, SMOOTH_DAYS)
        ax.plot(t, smooth, color=colour, linewidth=2.2, marker=_marker(len(t)), clip_on=len(t) > 2)
        ax.set_ylim(0, max(float(total.max()) * 1.1, 1.0))
        few = int(np.median(foreground))
        noisy = f"; few tokens (median {few:,}): noisy" if few < FEW_TOKENS else ""
        ax.set_title(
            f"{name}: {total[-1]:.1f}% stale at day {t[-1]:g}, mean {total.mean():.1f}%{noisy}",
            loc="left",
            fontsize=11,
            color=colour,
        )
    for ax in axes[2:]:
        ax.set_xlabel("time since start (days)")
    handles: list[Artist] = [
        Patch(color=STALE_COLOURS["dead"], alpha=0.75, label="dead (provider would reject)"),
        Patch(color=STALE_COLOURS["zombie"], alpha=0.75, label="zombie (accepted, nothing shown)"),
        Line2D(
            [],
            [],
            color="#3b3b3b",
            linewidth=2.2,
            label=f"dead + zombie, mean of the past {days_phrase(SMOOTH_DAYS)} (platform colour)",
        ),
    ]
    if result.warm_up_days > 0:
        handles.append(Patch(color=WARM_UP_COLOUR, label=warm_up_phrase(result)))
    fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=9, frameon=False)
    _heading(fig, "Stale foreground tokens", title)
    return fig


def campaign_outcomes(result: RunResult) -> pd.DataFrame:
    """Campaign sends (probes excluded) summed over platforms, one row per campaign by time."""
    sends = result.sends[result.sends["kind"] == "campaign"]
    columns = [c for _, _, cols in OUTCOMES for c in cols]
    if sends.empty:
        return pd.DataFrame(columns=["campaign", "time", "targeted", *columns])
    grouped = sends.groupby("campaign", sort=True).agg(
        time=("time", "min"), targeted=("targeted", "sum"), **{c: (c, "sum") for c in columns}
    )
    return grouped.reset_index().sort_values(["time", "campaign"]).reset_index(drop=True)


def plot_send_outcomes(result: RunResult, title: str) -> Figure:
    """Outcome of every campaign push, per campaign at its day: shares above, counts below.

    The main (top) panel stacks each outcome's share of the pushes the campaign targeted to
    100 %, the displayed share written on each bar; the panel below stacks the same outcomes in
    sends, so a campaign's size shows too. Retries are not counted again: a push counts once,
    by its final outcome.
    """
    fig = _figure(11, 7.0)
    share_ax, count_ax = fig.subplots(2, 1, sharex=True, height_ratios=(2.2, 1))
    for ax in (share_ax, count_ax):
        _day_axis(ax, result.days)
        ax.grid(True, axis="y", color="#e5e5e5", linewidth=0.8)
        ax.grid(False, axis="x")
        _shade_warm_up(ax, result)
    count_ax.set_xlabel("campaign day (days)")
    share_ax.set_ylabel("share of the pushes targeted (%)")
    count_ax.set_ylabel("pushes targeted (sends)")
    table = campaign_outcomes(result)
    if table.empty:
        _note(share_ax, "no campaigns in this run")
        _heading(fig, "Campaign send outcomes", title)
        return fig
    t = table["time"].to_numpy(dtype=np.float64)
    gaps = np.diff(t)
    gaps = gaps[gaps > 0]
    width = 0.7 * float(gaps.min()) if gaps.size else max(result.days, 1.0) / 15
    targeted = table["targeted"].to_numpy(dtype=np.float64)
    share_bottom = np.zeros(len(table))
    count_bottom = np.zeros(len(table))
    for label, colour, cols in OUTCOMES:
        values = table[list(cols)].sum(axis=1).to_numpy(dtype=np.float64)
        if label in OPTIONAL_OUTCOMES and not values.any():
            continue  # rare outcomes appear only when they happen; keeps the legend short
        shares = _percent(values, targeted)
        share_ax.bar(t, shares, width=width, bottom=share_bottom, color=colour, label=label)
        count_ax.bar(t, values, width=width, bottom=count_bottom, color=colour)
        share_bottom += shares
        count_bottom += values
    displayed = _percent(table["displayed"].to_numpy(dtype=np.float64), targeted)
    many = len(table) > 16  # narrow bars: the labels turn upright
    for x, total, shown in zip(t, targeted, displayed, strict=True):
        share_ax.text(
            x,
            shown / 2 if total and shown >= 12 else 2,
            f"{shown:.0f}%" if total else "–",
            ha="center",
            va="center" if total and shown >= 12 else "bottom",
            rotation=90 if many else 0,
            fontsize=7 if many else 8.5,
            color="white" if total and shown >= 12 else "black",
        )
    share_ax.set_ylim(0, 100)
    count_ax.set_ylim(0, max(float(count_bottom.max()), 1.0) * 1.08)
    for ax in (share_ax, count_ax):
        ax.set_xlim(min(0.0, float(t.min()) - width), max(result.days, float(t.max()) + width))
    share_ax.set_title(
        "Share of each campaign's pushes by outcome (number in the bar: % displayed)",
        loc="left",
        fontsize=11,
    )
    count_ax.set_title("The same, in pushes (sends)", loc="left", fontsize=10)
    fig.legend(
        title="outcome",
        loc="outside right center",
        fontsize=9,
        title_fontsize=9,
        frameon=False,
        reverse=True,
    )
    _heading(fig, "Campaign send outcomes", title)
    return fig


def _median_phrase(curve: SurvivalCurve) -> str:
    """``median 10.3 days``, or ``median > 335 days`` when fewer than half ended in the run."""
    if curve.median is None:
        return f"median > {curve.last:.0f} days (not reached)"
    return f"median {curve.median:.1f} days"


def plot_uninstall_latency(result: RunResult, title: str) -> Figure:
    """Survival curves of uninstall → detection: the share of uninstalls not yet detected.

    One Kaplan–Meier step curve per platform, S(t) in % against days since the uninstall, each
    median marked where its curve crosses 50 %. Uninstalls still undetected at the end of the run
    count as undetected until then (censored), so a curve that flattens above 0 shows the share
    the registry never finds. When most detections happen early in a long run, the left panel
    zooms on them (up to a quarter past the time by which 95 % of each curve's eventual drop has
    happened) and a narrow right panel shows the whole time followed.
    """
    subject = "Uninstall → detection latency"
    curves = {p: result.latency_curve(UNINSTALL, p) for p in PLATFORMS[1:]}
    curves = {p: c for p, c in curves.items() if c.observations}
    followed = sum(c.observations for c in curves.values())
    if not followed:
        fig = _figure(11, 4.5)
        ax = fig.add_subplot()
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("days since the uninstall")
        ax.set_ylabel("uninstalls not yet detected (%)")
        _note(ax, "no uninstall of a registered app in this run")
        _heading(fig, subject, title)
        return fig
    last = max(c.last for c in curves.values())
    detected_by = max((_mostly_detected_by(c) for c in curves.values()), default=0.0)
    zoom = max(1.0, 1.25 * detected_by)
    split = zoom < 0.6 * last
    fig = _figure(11, 6.0)
    if split:
        grid = fig.subplots(1, 2, sharey=True, width_ratios=(3, 1), squeeze=False)
        axes: list[Axes] = list(grid.flat)
    else:
        axes = [fig.add_subplot()]
    for ax in axes:
        ax.axhline(50, color="#777777", linestyle="--", linewidth=1.0)
        ax.grid(True, color="#e5e5e5", linewidth=0.8)
        ax.set_axisbelow(True)
        ax.set_ylim(0, 102)
        ax.set_xlabel("days since the uninstall")
    axes[0].set_ylabel("uninstalls not yet detected (%)")
    for platform, curve in curves.items():
        colour = PLATFORM_COLOURS[platform]
        x, y = curve.steps()
        label = (
            f"{PLATFORM_LABELS[platform]}: {_median_phrase(curve)}\n"
            f"{100 * curve.censored_share:.0f}% of {curve.observations:,} undetected at the end"
        )
        axes[0].step(x, 100 * y, where="post", color=colour, linewidth=2.0, label=label)
        if curve.median is not None:
            axes[0].plot([curve.median] * 2, [0, 50], color=colour, linestyle=":", linewidth=1.2)
            axes[0].plot([curve.median], [50], "o", color=colour, markersize=6)
        if split:
            axes[1].step(x, 100 * y, where="post", color=colour, linewidth=2.0)
    axes[0].set_title(
        "Share of uninstalls the registry has not yet detected, by days since the uninstall",
        loc="left",
        fontsize=11,
    )
    if split:
        axes[0].set_xlim(0, zoom)
        axes[1].set_xlim(0, last)
        axes[1].set_title(f"all {last:.0f} days followed", loc="left", fontsize=10)
    else:
        axes[0].set_xlim(0, max(last, 1.0))
    censored = sum(c.censored for c in curves.values())
    axes[0].legend(loc="best", fontsize=9, framealpha=0.95)
    fig.supxlabel(
        f"Kaplan–Meier estimate over the {followed:,} uninstalls while the registry held the "
        f"app's token{_from_day(result)}.\nThe {censored:,} ({100 * censored / followed:.0f}%) "
        "still undetected at the end of the run count as undetected for as long as they were "
        "followed (censored), not dropped.\nA curve that stays flat above 0 is the share the "
        "registry never found. Dashed: 50%; dots: the medians.",
        fontsize=9,
        color="#555555",
    )
    _heading(fig, subject, title)
    return fig


def _mostly_detected_by(curve: SurvivalCurve) -> float:
    """The time by which 95 % of the curve's eventual drop has happened (0 with no detection)."""
    if not curve.times.size:
        return 0.0
    end = float(curve.survival[-1])
    return curve.time_to(end + 0.05 * (1.0 - end)) or float(curve.times[-1])


def _from_day(result: RunResult) -> str:
    """`` from day 30 on`` after a warm-up, else nothing."""
    return f" from day {result.warm_up_days:g} on" if result.warm_up_days > 0 else ""


def _funnel_counts(frame: pd.DataFrame, column: str, key: str, last: float | None) -> FloatArray:
    """Devices passing each funnel step at ``last`` for ``key`` of ``column``, in step order."""
    rows = frame[(frame["time"] == last) & (frame[column] == key)]
    counts = rows.set_index("step")["devices"].reindex(list(FUNNEL_LABELS), fill_value=0)
    return counts.to_numpy(dtype=np.float64)


def _installed(result: RunResult, os_class: str) -> int:
    """Installed devices of ``os_class`` at the last sample (0 with no samples)."""
    end = result.class_end(os_class)
    return end.installed if end is not None else 0


def both_android_classes(result: RunResult) -> bool:
    """True when both Android OS classes have installed devices at the last sample."""
    return all(_installed(result, os_class) > 0 for os_class in ANDROID_CLASSES)


#: the funnel's extra row: what the registry believes, beside the true funnel's last step
BELIEVED_LABEL = "registry believes reachable\n(foreground tokens it holds)"
#: hatch of the believed bars (the platform's colour, unfilled): a count, not a funnel step
BELIEVED_HATCH = "///"


def _believed_devices(frame: pd.DataFrame, column: str, key: str, last: float | None) -> float:
    """Foreground tokens held for ``key`` of ``column`` at ``last``: devices it would target."""
    rows = frame[(frame["time"] == last) & (frame[column] == key)]
    return float(rows["foreground_tokens"].sum()) if not rows.empty else 0.0


def _overstatement(believed: float, truly: float) -> str:
    return f", ×{believed / truly:.2f} the truly reachable" if truly else ""


def plot_funnel(result: RunResult, title: str) -> Figure:
    """The reachability funnel at the last sample: installed devices kept by each step.

    Below the true funnel, a hatched bar shows what the registry believes: the foreground tokens
    it holds (the devices a campaign would target), beside the truly reachable at the funnel's
    end, so the overstatement shows. With devices of both Android OS classes, the Android panel
    shows them side by side (each bar's percentage of its own class's installed devices): the
    "notifications allowed" step is where Android 13+'s prompt shows.
    """
    fig = _figure(13.5, 8.6)
    _heading(fig, "Reachability funnel: true steps, and what the registry believes", title)
    axes = fig.subplots(2, 2, sharey=True)
    funnel = result.funnel
    last = float(funnel["time"].max()) if len(funnel) else None
    steps = list(FUNNEL_LABELS)
    split = both_android_classes(result)
    # the believed row sits below the last step, a half row apart
    y = np.arange(len(steps))[::-1].astype(np.float64) + 1.5
    labels = [FUNNEL_LABELS[s] for s in steps]
    for ax, platform in zip(axes.flat, PLATFORMS, strict=True):
        colour = PLATFORM_COLOURS[platform]
        values = _funnel_counts(funnel, "platform", platform, last)
        top = values[0] if len(values) else 0.0
        ax.set_yticks([*y, 0.0], [*labels, BELIEVED_LABEL], fontsize=9)
        ax.tick_params(axis="y", labelleft=ax.get_subplotspec().is_first_col())
        ax.axhline(0.75, color="#999999", linewidth=0.8, linestyle="--")
        ax.set_xlabel("devices")
        ax.grid(True, axis="x", color="#e5e5e5", linewidth=0.8)
        ax.set_axisbelow(True)
        day = f"day {last:g}" if last is not None else "no samples"
        ax.set_title(f"{PLATFORM_LABELS[platform]} ({day})", color=colour, loc="left")
        if top <= 0:
            ax.barh(y, values, color=colour, alpha=0.85)
            ax.set_xlim(0, 1)
            ax.set_xticks([])
            _note(ax, "no installed devices")
            continue
        if platform == "android" and split:
            _android_funnel(ax, result, y, last, day)
            continue
        ax.barh(y, values, color=colour, alpha=0.85)
        for yi, value in zip(y, values, strict=True):
            ax.text(value, yi, f" {value:,.0f} ({100 * value / top:.0f}%)", va="center", fontsize=8)
        believed = _believed_devices(result.timeseries, "platform", platform, last)
        ax.barh(
            [0.0], [believed], color="none", edgecolor=colour, hatch=BELIEVED_HATCH, linewidth=1.2
        )
        ax.text(
            believed,
            0.0,
            f" {believed:,.0f} ({100 * believed / top:.0f}%){_overstatement(believed, values[-1])}",
            va="center",
            fontsize=8,
            fontweight="bold",
        )
        ax.set_xlim(0, max(top, believed) * 1.45)
    fig.supxlabel(
        "Solid bars: the true funnel, each step keeping the devices that pass it (% of installed). "
        "Hatched bar, below the dashed line: the devices the registry believes reachable\n(it "
        "holds a foreground token for them, stale or not), to set against the last step: the "
        "truly reachable.",
        fontsize=9,
        color="#555555",
    )
    return fig


def _android_funnel(
    ax: Axes, result: RunResult, y: FloatArray, last: float | None, day: str
) -> None:
    """The Android panel split by OS class: a pair of bars per step, one per class."""
    height = 0.4
    widest = 0.0
    for offset, os_class in zip((height / 2, -height / 2), ANDROID_CLASSES, strict=True):
        values = _funnel_counts(result.funnel_by_os, "os_class", os_class, last)
        top = values[0]
        believed = _believed_devices(result.timeseries_by_os, "os_class", os_class, last)
        widest = max(widest, top, believed)
        ax.barh(
            y + offset,
            values,
            height=height,
            color=CLASS_COLOURS[os_class],
            label=f"{CLASS_LABELS[os_class]}: {top:,.0f} installed",
        )
        for yi, value in zip(y + offset, values, strict=True):
            share = f"{100 * value / top:.0f}%" if top else "–"
            ax.text(value, yi, f" {value:,.0f} ({share})", va="center", fontsize=7.5)
        ax.barh(
            [offset],
            [believed],
            height=height,
            color="none",
            edgecolor=CLASS_COLOURS[os_class],
            hatch=BELIEVED_HATCH,
            linewidth=1.2,
        )
        share = f"{100 * believed / top:.0f}%" if top else "–"
        ax.text(
            believed,
            offset,
            f" {believed:,.0f} ({share}){_overstatement(believed, values[-1])}",
            va="center",
            fontsize=7.5,
            fontweight="bold",
        )
    ax.set_xlim(0, widest * 1.45)
    ax.set_title(
        f"Android by OS class ({day}; % of each class's installed)",
        color=PLATFORM_COLOURS["android"],
        loc="left",
    )
    ax.legend(loc="center right", fontsize=8, frameon=True, framealpha=0.95)


def plot_android_prompt(result: RunResult, title: str) -> Figure:
    """What Android 13+'s runtime prompt costs: reach per installed device, and per campaign.

    Left, per Android OS class at the last sample: notifications allowed (share of launched
    devices) and truly reachable profiles per installed device, with the reach Android 13+
    devices would have at Android ≤ 12's rate hatched above theirs — the cost in people
    (:meth:`RunResult.android_13_cost`). Right, per campaign, displayed ÷ targeted on each class.
    """
    subject = "Android 13+'s prompt"
    fig = _figure(12, 5.2)
    left, right = fig.subplots(1, 2, width_ratios=(1, 1.25))
    ends = {c: result.class_end(c) for c in ANDROID_CLASSES}
    cost = result.android_13_cost()
    measures = (
        "notifications allowed\n(% of launched devices)",
        "truly reachable\n(per 100 installed devices)",
    )
    x = np.arange(len(measures), dtype=np.float64)
    width = 0.36
    left.set_ylim(0, 115)
    left.set_ylabel("% (per 100 devices)")
    left.grid(True, axis="y", color="#e5e5e5", linewidth=0.8)
    left.set_axisbelow(True)
    left.set_xticks(x, measures, fontsize=9)
    old, new = ends[ANDROID_12], ends[ANDROID_13]
    hatched = cost is not None and old is not None and new is not None and cost.people > 0
    for offset, os_class in zip((-width / 2, width / 2), ANDROID_CLASSES, strict=True):
        end = ends[os_class]
        shares = [
            end.permission_share if end is not None else None,
            end.reach_rate if end is not None else None,
        ]
        heights = np.array([100 * (v or 0.0) for v in shares], dtype=np.float64)
        left.bar(
            x + offset,
            heights,
            width=width,
            color=CLASS_COLOURS[os_class],
            label=CLASS_LABELS[os_class],
        )
        for index, (value, height) in enumerate(zip(shares, heights, strict=True)):
            inside = hatched and os_class == ANDROID_13 and index == 1  # under the hatch
            left.annotate(
                f"{100 * value:.0f}" if value is not None else "–",
                (x[index] + offset, height),
                xytext=(0, -3 if inside else 2),
                textcoords="offset points",
                ha="center",
                va="top" if inside else "bottom",
                fontsize=9,
                color="white" if inside else "black",
            )
    if hatched:
        assert cost is not None and old is not None and new is not None
        low, high = 100 * (new.reach_rate or 0.0), 100 * (old.reach_rate or 0.0)
        left.bar(
            x[1] + width / 2,
            high - low,
            bottom=low,
            width=width,
            fill=False,
            hatch="///",
            edgecolor=CLASS_COLOURS[ANDROID_13],
            linewidth=0.8,
            label=(
                f"cost: ≈ {cost.people:,.0f} people, {100 * (cost.share or 0.0):.0f}% of\n"
                "their reach at Android ≤ 12's rate"
            ),
        )
    left.set_title("At the end of the run, per OS class", loc="left", fontsize=11)
    left.legend(loc="upper right", fontsize=8.5, framealpha=0.95)

    right.set_title("Each campaign: displayed ÷ targeted (sends)", loc="left", fontsize=11)
    right.set_xlabel("campaign day (days)")
    right.set_ylabel("displayed ÷ targeted (%)")
    _day_axis(right, result.days)
    right.set_ylim(0, 105)
    drawn = False
    for os_class in ANDROID_CLASSES:
        ratios = result.campaign_display_shares(os_class)
        if ratios.empty:
            continue
        share = _floats(ratios, "share")
        median = float(np.median(share))
        right.plot(
            _floats(ratios, "time"),
            100 * share,
            color=CLASS_COLOURS[os_class],
            marker="o",
            markersize=3.5,
            linewidth=1.4,
            label=f"{CLASS_LABELS[os_class]}: median {100 * median:.0f}%",
        )
        drawn = True
    if drawn:
        right.legend(loc="lower right", fontsize=9, framealpha=0.95)
    else:
        _note(right, "no campaign targeted Android devices")
    _heading(fig, subject, title)
    return fig


def _save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, dpi=DPI, format="png", metadata={"Software": None})
    fig.clear()
    return path


def write_plots(result: RunResult, directory: Path, scenario_name: str) -> list[Path]:
    """Draw every plot for ``result`` into ``directory`` as PNG; return the paths in order.

    :data:`PLOT_FILES`, then :data:`ANDROID_PLOT` when both Android OS classes have installed
    devices.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    title = f"{scenario_name} (seed {result.seed}, {days_phrase(result.days)})"
    painters: Sequence[tuple[str, Figure]] = (
        (PLOT_FILES[0], plot_reachability(result, title)),
        (PLOT_FILES[1], plot_funnel(result, title)),
        (PLOT_FILES[2], plot_stale_tokens(result, title)),
        (PLOT_FILES[3], plot_send_outcomes(result, title)),
        (PLOT_FILES[4], plot_uninstall_latency(result, title)),
    )
    if both_android_classes(result):
        painters = (*painters, (ANDROID_PLOT, plot_android_prompt(result, title)))
    return [_save(fig, directory / name) for name, fig in painters]
