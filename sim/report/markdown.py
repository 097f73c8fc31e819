"""The markdown report of one run: what it says in a paragraph, a headline table, the plots.

Every number is computed from the :class:`RunResult`; floats are formatted with fixed precision so
that the same result always renders to the same text. The figures are those of docs/model.md §5:
audiences count profiles — believed, truly reachable (part of believed) and, beside it, reachable
but not targeted (never added to it); send outcomes count sends (tokens), a push shown to someone
other than its target split into shown to another logged-in user and shown with nobody logged in.
Where both Android OS classes are present, a section weighs Android 13+'s permission prompt against
Android ≤ 12's implicit permission (docs/model.md §3), from the tables by OS class.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sim.metrics.latency import ROTATION, SWITCH, UNINSTALL
from sim.metrics.results import ANDROID_12, ANDROID_13, ANDROID_CLASSES, ClassEnd, RunResult
from sim.metrics.survival import SurvivalCurve
from sim.metrics.timeseries import ALL
from sim.report.plots import (
    ANDROID_PLOT,
    CLASS_LABELS,
    FUNNEL_LABELS,
    PLATFORM_LABELS,
    PLATFORMS,
    SMOOTH_DAYS,
    both_android_classes,
    campaign_outcomes,
    days_phrase,
)

_NA = "–"


# -- formatting -------------------------------------------------------------------------------


def fmt_int(value: int) -> str:
    """An integer with thousands separators: ``9,437``."""
    return f"{value:,}"


def fmt_pct(part: float, whole: float) -> str:
    """``part / whole`` as a percentage with one decimal (``82.8%``); a dash if ``whole`` is 0."""
    return f"{100.0 * part / whole:.1f}%" if whole else _NA


def fmt_rate(rate: float) -> str:
    """A rate in [0, 1] as a percentage with one decimal."""
    return f"{100.0 * rate:.1f}%"


def fmt_ratio(ratio: float | None) -> str:
    """An overstatement ratio, ``1.17×``, or a dash when undefined."""
    return f"{ratio:.2f}×" if ratio is not None else _NA


def fmt_duration(days: float | None) -> str:
    """A latency in the unit that reads best: ``13.8 days``, ``5.2 h``, ``3.0 min`` or ``10 s``."""
    if days is None or math.isnan(days):
        return _NA
    if days >= 1.0:
        return f"{days:.1f} days"
    if days >= 1.0 / 24:
        return f"{days * 24:.1f} h"
    if days >= 1.0 / 1440:
        return f"{days * 1440:.1f} min"
    return f"{days * 86_400:.0f} s"


# -- figures computed from the result ---------------------------------------------------------


@dataclass(frozen=True)
class _End:
    """End-of-run state for one platform (or all)."""

    believed: int
    truly: int
    not_targeted: int
    foreground: int
    dead: int
    zombie: int
    mean_stale_rate: float

    @property
    def overstatement(self) -> float | None:
        return self.believed / self.truly if self.truly else None

    @property
    def stale(self) -> int:
        return self.dead + self.zombie


@dataclass(frozen=True)
class _Sends:
    """Campaign push outcomes for one platform (or all)."""

    targeted: int
    sent: int
    displayed: int
    other_user: int
    nobody: int
    bounced: int
    dropped: int

    @property
    def wasted(self) -> int:
        return self.bounced + self.dropped


def _end(result: RunResult, platform: str) -> _End | None:
    rows = result.timeseries[result.timeseries["platform"] == platform]
    if rows.empty:
        return None
    last = rows.sort_values("time", kind="stable").iloc[-1]
    return _End(
        believed=int(last["believed_reachable"]),
        truly=int(last["truly_reachable"]),
        not_targeted=int(last["reachable_not_targeted"]),
        foreground=int(last["foreground_tokens"]),
        dead=int(last["stale_dead"]),
        zombie=int(last["stale_zombie"]),
        mean_stale_rate=float(rows["stale_rate"].mean()),
    )


def _sends(result: RunResult, platform: str, *, os_class: bool = False) -> _Sends:
    """Campaign sends on ``platform`` (or all); with ``os_class``, ``platform`` is an OS class."""
    table, column = (result.sends_by_os, "os_class") if os_class else (result.sends, "platform")
    sends = table[table["kind"] == "campaign"]
    if platform != ALL:
        sends = sends[sends[column] == platform]

    def total(column: str) -> int:
        return int(sends[column].sum())

    return _Sends(
        targeted=total("targeted"),
        sent=total("sent"),
        displayed=total("displayed"),
        other_user=total("shown_to_other_user"),
        nobody=total("shown_to_nobody"),
        bounced=total("bounced"),
        dropped=total("dropped"),
    )


def fmt_median(curve: SurvivalCurve) -> str:
    """A Kaplan–Meier median latency: ``13.8 days``, ``> 335.0 days`` or a dash.

    ``>`` the longest time followed when fewer than half had ended by then; a dash when nothing
    was followed.
    """
    if not curve.observations:
        return _NA
    if curve.median is None:
        return f"> {fmt_duration(curve.last)}"
    return fmt_duration(curve.median)


def _uninstall_sentence(result: RunResult) -> str:
    """The uninstall → detection medians per platform, and how many were still undetected."""
    total = result.latency_curve(UNINSTALL)
    if not int(total.events.sum()):
        tail = (
            f" ({fmt_int(total.censored)} uninstalls still undetected at the end)"
            if total.censored
            else ""
        )
        return f"No uninstall was detected in this run{tail}."
    parts = []
    for platform in PLATFORMS[1:]:
        curve = result.latency_curve(UNINSTALL, platform)
        if not curve.observations:
            continue
        median = (
            fmt_duration(curve.median)
            if curve.median is not None
            else f"more than {fmt_duration(curve.last)}"
        )
        parts.append(f"{median} on {PLATFORM_LABELS[platform]}")
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + f" and {parts[-1]}"
    return (
        f"The registry learned of an uninstall after a median of {listed} (Kaplan–Meier: of "
        f"{fmt_int(total.observations)} uninstalls, {fmt_int(total.censored)} "
        f"({fmt_pct(total.censored, total.observations)}) were still undetected at the end of "
        "the run and count as undetected until then, not dropped)."
    )


def _registry_model(result: RunResult) -> str:
    """The registry model the run measured ("reference" unless the scenario chose another)."""
    registry = result.params.get("registry")
    model = registry.get("model") if isinstance(registry, dict) else None
    return model if isinstance(model, str) else "reference"


def _devices(result: RunResult) -> int | None:
    population = result.params.get("population")
    if isinstance(population, dict) and isinstance(population.get("devices"), int):
        return int(population["devices"])
    return None


# -- the text ---------------------------------------------------------------------------------


def _what_it_says(result: RunResult) -> str:
    day = f"{result.days:g}"
    sentences: list[str] = []
    end = _end(result, ALL)
    if end is None:
        sentences.append("This run recorded no samples, so there is no audience to compare.")
    else:
        if end.truly:
            over = end.believed / end.truly - 1.0
            sentences.append(
                f"At day {day} the registry believes **{fmt_int(end.believed)}** profiles can be "
                f"reached by a foreground push, but only **{fmt_int(end.truly)}** truly can: it "
                f"overstates the reachable audience by **{100 * over:.1f}%** "
                f"({fmt_ratio(end.overstatement)})."
            )
        else:
            sentences.append(
                f"At day {day} the registry believes **{fmt_int(end.believed)}** profiles can be "
                "reached by a foreground push, and **none** truly can."
            )
        if end.not_targeted:
            sentences.append(
                f"Beside them, {fmt_int(end.not_targeted)} more profiles are reachable but not "
                "targeted: they would see a push on a device where they are logged in, but the "
                "registry does not target them there (token not yet registered, held as "
                "background-only, or held for another profile); they are not counted as truly "
                "reachable."
            )
        if end.foreground:
            sentences.append(
                f"**{fmt_pct(end.stale, end.foreground)}** of its {fmt_int(end.foreground)} "
                f"foreground tokens would show nothing: {fmt_pct(end.dead, end.foreground)} are "
                f"dead (the provider would reject them) and {fmt_pct(end.zombie, end.foreground)} "
                f"are zombies (accepted, never shown); the stale rate averaged "
                f"{fmt_rate(end.mean_stale_rate)} over the run."
            )
        else:
            sentences.append("At the end the registry holds no foreground token.")
    sends = _sends(result, ALL)
    campaigns = len(campaign_outcomes(result))
    if sends.targeted:
        sentences.append(
            f"Of the {fmt_int(sends.targeted)} pushes (sends, one per token) targeted by "
            f"{fmt_int(campaigns)} campaign{'s' if campaigns != 1 else ''}, "
            f"**{fmt_pct(sends.displayed, sends.targeted)}** were displayed to the intended "
            f"person, {fmt_pct(sends.other_user, sends.targeted)} were shown to another "
            f"logged-in user, {fmt_pct(sends.nobody, sends.targeted)} were shown on a device "
            f"where nobody was logged in, "
            f"and **{fmt_pct(sends.wasted, sends.targeted)}** were wasted "
            f"({fmt_pct(sends.bounced, sends.targeted)} bounced, "
            f"{fmt_pct(sends.dropped, sends.targeted)} silently dropped)."
        )
    else:
        sentences.append("No campaign push was sent in this run.")
    sentences.append(_uninstall_sentence(result))
    cost = result.android_13_cost() if both_android_classes(result) else None
    if cost is not None:
        share = (
            f", {fmt_rate(cost.share)} of what its devices would reach at Android ≤ 12's rate"
            if cost.share is not None
            else ""
        )
        sentences.append(
            f"Android 13+'s permission prompt costs about **{fmt_int(round(cost.people))} "
            f"people** of reach{share} (section “Android 13+'s prompt”)."
        )
    return " ".join(sentences)


def _table(result: RunResult) -> list[str]:
    ends = {p: _end(result, p) for p in PLATFORMS}
    sends = {p: _sends(result, p) for p in PLATFORMS}
    day = f"{result.days:g}"

    def fmt_end(label: str, render: Callable[[_End], str]) -> str:
        cells = [_NA if (e := ends[p]) is None else render(e) for p in PLATFORMS]
        return f"| {label} | " + " | ".join(cells) + " |"

    def send_row(label: str, part: str | None) -> str:
        cells = []
        for p in PLATFORMS:
            s = sends[p]
            if part is None:
                cells.append(fmt_int(s.targeted))
            else:
                n = int(getattr(s, part))
                cells.append(f"{fmt_int(n)} ({fmt_pct(n, s.targeted)})")
        return f"| {label} | " + " | ".join(cells) + " |"

    def latency_row(label: str, kind: str) -> str:
        cells = [fmt_median(result.latency_curve(kind, p)) for p in PLATFORMS]
        return f"| {label} | " + " | ".join(cells) + " |"

    lines = [
        "| | " + " | ".join(PLATFORM_LABELS[p] for p in PLATFORMS) + " |",
        "|---|" + "---:|" * len(PLATFORMS),
        fmt_end(f"Believed reachable at day {day} (profiles)", lambda e: fmt_int(e.believed)),
        fmt_end(f"Truly reachable at day {day} (profiles)", lambda e: fmt_int(e.truly)),
        fmt_end("Overstatement (believed ÷ truly)", lambda e: fmt_ratio(e.overstatement)),
        fmt_end(
            "Reachable but not targeted (profiles; beside truly reachable, not in it)",
            lambda e: fmt_int(e.not_targeted),
        ),
        fmt_end("Foreground tokens held", lambda e: fmt_int(e.foreground)),
        fmt_end(
            f"Stale at day {day} (would show nothing)",
            lambda e: f"{fmt_int(e.stale)} ({fmt_pct(e.stale, e.foreground)})",
        ),
        fmt_end(
            "Stale: dead (provider would reject)",
            lambda e: f"{fmt_int(e.dead)} ({fmt_pct(e.dead, e.foreground)})",
        ),
        fmt_end(
            "Stale: zombie (accepted, not shown)",
            lambda e: f"{fmt_int(e.zombie)} ({fmt_pct(e.zombie, e.foreground)})",
        ),
        fmt_end("Mean stale rate over the run", lambda e: fmt_rate(e.mean_stale_rate)),
        send_row("Campaign pushes targeted (sends)", None),
    ]
    if sends[ALL].targeted:
        lines += [
            send_row("Displayed to the intended person", "displayed"),
            send_row("Shown to another logged-in user", "other_user"),
            send_row("Shown with nobody logged in", "nobody"),
            send_row("Bounced", "bounced"),
            send_row("Silently dropped", "dropped"),
            send_row("Wasted (bounced + dropped)", "wasted"),
        ]
    lines += [
        latency_row("Median uninstall → detection", UNINSTALL),
        latency_row("Median token rotation → re-registration", ROTATION),
        latency_row("Median user switch → token move", SWITCH),
    ]
    return lines


def _table_notes(result: RunResult) -> str:
    sends = _sends(result, ALL)
    return (
        "Audiences count profiles: the truly reachable are part of the believed audience, and "
        "those reachable but not targeted (would see a push on a device where they are logged "
        "in, but the registry does not target them there) are reported beside them, never added. "
        "Campaign figures count sends (one per token targeted; percentages of the pushes "
        "targeted); a push shown, but not to its target, was shown either to another logged-in "
        "user or with nobody logged in. Retries are not pushes of their own: counting them, "
        f"{fmt_int(sends.sent)} sends were made (`campaign_sent`) for the "
        f"{fmt_int(sends.targeted)} pushes targeted (`campaign_targeted`). " + _latency_note(result)
    )


def _latency_note(result: RunResult) -> str:
    """How the latency medians were estimated, and how many were censored."""
    censored = {kind: result.latency_curve(kind).censored for kind in (UNINSTALL, ROTATION, SWITCH)}
    return (
        "Latency medians are Kaplan–Meier estimates: what the registry had not caught up with at "
        f"the end of the run ({fmt_int(censored[UNINSTALL])} uninstalls, "
        f"{fmt_int(censored[ROTATION])} token rotations, {fmt_int(censored[SWITCH])} user "
        "switches) counts as censored there, not dropped; “>” marks a median not reached by the "
        "longest time followed."
    )


# -- Android 13+'s prompt ----------------------------------------------------------------------


def _rate(rate: float | None) -> str:
    """Truly reachable per installed device, two decimals (``0.81``), or a dash."""
    return f"{rate:.2f}" if rate is not None else _NA


def _campaign_range(result: RunResult, os_class: str) -> str:
    """Displayed ÷ targeted per campaign on ``os_class``: ``80.1% (75.0%–84.2%, 22 campaigns)``."""
    shares = result.campaign_display_shares(os_class)["share"]
    if shares.empty:
        return _NA
    count = len(shares)
    campaigns = f"{fmt_int(count)} campaign{'s' if count != 1 else ''}"
    if count == 1:
        return f"{fmt_rate(float(shares.iloc[0]))} ({campaigns})"
    return (
        f"{fmt_rate(float(shares.median()))} ({fmt_rate(float(shares.min()))}–"
        f"{fmt_rate(float(shares.max()))}, {campaigns})"
    )


def _opt_in_share(result: RunResult) -> float | None:
    """The scenario's Android 13+ opt-in share per prompt (``permission`` parameters)."""
    permission = result.params.get("permission")
    share = permission.get("android_13_opt_in_share") if isinstance(permission, dict) else None
    return float(share) if isinstance(share, int | float) else None


def _android_text(result: RunResult, old: ClassEnd, new: ClassEnd) -> str:
    """The section's paragraph: permission, reach per device, the cost, the campaigns."""
    day = f"{result.days:g}"
    opt_in = _opt_in_share(result)
    per_prompt = (
        f"; in this scenario a prompt is granted with probability {fmt_rate(opt_in)}"
        if opt_in is not None
        else ""
    )
    sentences = [
        f"At day {day}, **{fmt_pct(new.permission, new.launched)}** of the "
        f"{fmt_int(new.launched)} launched Android 13+ devices allow notifications (funnel step "
        f'"notifications allowed"{per_prompt}), against '
        f"**{fmt_pct(old.permission, old.launched)}** of the {fmt_int(old.launched)} launched "
        "Android ≤ 12 devices, where permission is implicit and only a user turning it off in "
        "the settings takes it away.",
        f"Truly reachable profiles per installed device: **{_rate(new.reach_rate)}** on Android "
        f"13+ ({fmt_int(new.truly)} profiles, {fmt_int(new.installed)} devices) against "
        f"**{_rate(old.reach_rate)}** on Android ≤ 12 ({fmt_int(old.truly)} profiles, "
        f"{fmt_int(old.installed)} devices).",
    ]
    cost = result.android_13_cost()
    if cost is not None and old.reach_rate is not None:
        expected = old.reach_rate * new.installed
        lost = "lost" if cost.people >= 0 else "gained"
        share = f" ({fmt_rate(abs(cost.share))} of that reach {lost})" if cost.share else ""
        sentences.append(
            "The prompt's cost in reach, (reach rate on Android ≤ 12 − reach rate on Android "
            f"13+) × Android 13+ devices, is **{fmt_int(round(cost.people))} people**: at "
            f"Android ≤ 12's rate the {fmt_int(new.installed)} Android 13+ devices would reach "
            f"about {fmt_int(round(expected))} people, not {fmt_int(new.truly)}{share}."
        )
    sentences.append(
        "Per campaign, displayed ÷ targeted (sends) was "
        f"{_campaign_range(result, ANDROID_13)} on Android 13+ and "
        f"{_campaign_range(result, ANDROID_12)} on Android ≤ 12 (median, range): a default "
        "campaign targets foreground tokens only (R9), so a device whose user did not allow "
        "notifications is left out of what is targeted rather than counted in this ratio."
    )
    return " ".join(sentences)


def _android_table(result: RunResult, ends: dict[str, ClassEnd]) -> list[str]:
    """Headline figures per Android OS class (a breakdown of the Android column)."""
    sends = {c: _sends(result, c, os_class=True) for c in ANDROID_CLASSES}

    def row(label: str, render: Callable[[str], str]) -> str:
        return f"| {label} | " + " | ".join(render(c) for c in ANDROID_CLASSES) + " |"

    def part(n: int, whole: int) -> str:
        return f"{fmt_int(n)} ({fmt_pct(n, whole)})"

    day = f"{result.days:g}"
    lines = [
        "| | " + " | ".join(CLASS_LABELS[c] for c in ANDROID_CLASSES) + " |",
        "|---|" + "---:|" * len(ANDROID_CLASSES),
        row(f"Installed devices at day {day}", lambda c: fmt_int(ends[c].installed)),
        row("Launched since install", lambda c: fmt_int(ends[c].launched)),
        row(
            "Notifications allowed (% of launched; `permission_share`)",
            lambda c: part(ends[c].permission, ends[c].launched),
        ),
        row("Believed reachable (profiles)", lambda c: fmt_int(ends[c].believed)),
        row("Truly reachable (profiles)", lambda c: fmt_int(ends[c].truly)),
        row("Truly reachable per installed device", lambda c: _rate(ends[c].reach_rate)),
        row("Reachable but not targeted (profiles)", lambda c: fmt_int(ends[c].not_targeted)),
        row("Foreground tokens held", lambda c: fmt_int(ends[c].foreground)),
        row(
            "Stale (would show nothing)",
            lambda c: part(ends[c].dead + ends[c].zombie, ends[c].foreground),
        ),
        row("Campaign pushes targeted (sends)", lambda c: fmt_int(sends[c].targeted)),
    ]
    if any(sends[c].targeted for c in ANDROID_CLASSES):
        lines += [
            row(
                "Displayed to the intended person",
                lambda c: part(sends[c].displayed, sends[c].targeted),
            ),
            row("Shown with nobody logged in", lambda c: part(sends[c].nobody, sends[c].targeted)),
            row(
                "Shown to another logged-in user",
                lambda c: part(sends[c].other_user, sends[c].targeted),
            ),
            row("Silently dropped", lambda c: part(sends[c].dropped, sends[c].targeted)),
            row("Bounced", lambda c: part(sends[c].bounced, sends[c].targeted)),
            row(
                "Displayed ÷ targeted per campaign: median (range)",
                lambda c: _campaign_range(result, c),
            ),
        ]
    return lines


def _android_section(result: RunResult, plots: Sequence[Path]) -> list[str]:
    """The section "Android 13+'s prompt", when both Android OS classes have installed devices."""
    if not both_android_classes(result):
        return []
    ends = {c: result.class_end(c) for c in ANDROID_CLASSES}
    old, new = ends[ANDROID_12], ends[ANDROID_13]
    assert old is not None and new is not None  # both have installed devices
    lines = [
        "## Android 13+'s prompt",
        "",
        _android_text(result, old, new),
        "",
        *_android_table(result, {ANDROID_12: old, ANDROID_13: new}),
        "",
        "A breakdown of the Android column above by the device's OS class (tables "
        "`timeseries_by_os`, `funnel_by_os` and `sends_by_os`): device, token and send counts of "
        "the two classes add up to Android's; a profile reachable on devices of both classes "
        "counts under each. Truly reachable per installed device counts profiles per device.",
        "",
    ]
    for path in plots:
        if Path(path).name == ANDROID_PLOT:
            heading = _PLOT_TITLES[Path(path).stem]
            lines += [f"![{heading}]({Path(path).name})", "", _android_caption(result), ""]
    return lines


def _android_caption(result: RunResult) -> str:
    cost = result.android_13_cost()
    hatched = (
        f" The hatched part is the reach Android 13+ devices would add at Android ≤ 12's rate "
        f"(≈ {fmt_int(round(cost.people))} people)."
        if cost is not None and cost.people > 0
        else ""
    )
    return (
        "Left: per OS class at the end of the run, launched devices with notifications allowed "
        "and truly reachable profiles per 100 installed devices." + hatched + " Right: each "
        "campaign's displayed ÷ targeted on each class."
    )


def _funnel_caption(result: RunResult) -> str:
    funnel = result.funnel
    rows = funnel[(funnel["platform"] == ALL) & (funnel["time"] == funnel["time"].max())]
    counts = rows.set_index("step")["devices"]
    if rows.empty or int(counts.get("installed", 0)) == 0:
        return "No installed devices at the last sample."
    steps = list(counts.index)
    losses = [(int(counts[a]) - int(counts[b]), b) for a, b in itertools.pairwise(steps)]
    lost, step = max(losses)
    installed = int(counts["installed"])
    split = (
        " The Android panel shows its two OS classes side by side, each step as a share of the "
        "class's installed devices."
        if both_android_classes(result)
        else ""
    )
    end = _end(result, ALL)
    believed = (
        " The hatched bar under each panel is what the registry believes: "
        f"{fmt_int(end.foreground)} devices hold a foreground token (all platforms), against "
        f"{fmt_int(int(counts.iloc[-1]))} truly reachable at the funnel's end."
        if end is not None
        else ""
    )
    return (
        "Installed devices kept by each step, from installed to truly reachable; the biggest loss "
        f'across platforms is at "{FUNNEL_LABELS.get(step, step.replace("_", " "))}" '
        f"({fmt_int(lost)} devices, {fmt_pct(lost, installed)} of {fmt_int(installed)} "
        "installed)." + believed + split
    )


def _apns_shortest_lag(result: RunResult) -> float:
    """Days before APNs can first answer 410 for an uninstalled app (its lag's shift, or low)."""
    providers = result.params.get("providers")
    if not isinstance(providers, dict):
        return 0.0
    window = providers.get("apns_lag_days")  # the older form: [low, high]
    if isinstance(window, list | tuple) and window and isinstance(window[0], int | float):
        return float(window[0])
    lag = providers.get("apns_lag")
    if isinstance(lag, dict):
        for key in ("shift_days", "low_days", "days"):
            if isinstance(lag.get(key), int | float):
                return float(lag[key])
    return 0.0


def _early_ios_note(result: RunResult) -> str:
    """What the iOS curve's early drop is: detections before APNs can answer 410 at all."""
    shortest = _apns_shortest_lag(result)
    lat = result.latencies
    rows = lat[
        (lat["kind"] == UNINSTALL)
        & (lat["platform"] == "ios")
        & (lat["start"] >= result.warm_up_days)
        & lat["observed"]
    ]
    early = int((rows["latency_days"] < shortest).sum())
    if shortest <= 0 or early == 0:
        return ""
    return (
        f" The early drop of the iOS curve ({fmt_int(early)} of {fmt_int(len(rows))} iOS "
        f"detections, {fmt_pct(early, len(rows))}, within {shortest:g} days — before APNs can "
        "answer 410 at all) is phones replaced and restored from a backup: the restored app "
        "registers a new token for the same install, which replaces the old phone's (R1) with "
        "no bounce needed."
    )


def _warm_up_note(result: RunResult) -> str:
    """What the shaded first days are, when the run had a warm-up."""
    if result.warm_up_days <= 0:
        return ""
    return (
        f" The grey band over days 0–{result.warm_up_days:g} is the warm-up: the simulated "
        "population settles from its starting state, so those days are left out of the plots "
        "and figures, which start after it (the tables keep them)."
    )


def _caption(result: RunResult, stem: str) -> str:
    if stem == "funnel":
        return _funnel_caption(result)
    if stem == "reachability":
        end = _end(result, ALL)
        if end is None:
            return "No samples were recorded in this run."
        gap = end.believed - end.truly
        return (
            "The shaded gap is the audience the registry counts but cannot reach — watch whether "
            f"it widens, and on which platform; at day {result.days:g} it is {fmt_int(gap)} "
            f"profiles ({fmt_pct(gap, end.believed)} of the believed audience). The dotted line "
            "is the opposite error, drawn beside the truly reachable and never added to it: "
            "profiles who would see a push on a device where they are logged in, but whom the "
            f"registry does not target there ({fmt_int(end.not_targeted)} at day "
            f"{result.days:g})." + _warm_up_note(result)
        )
    if stem == "stale_tokens":
        rows = result.timeseries[result.timeseries["platform"] == ALL]
        if rows.empty:
            return "No samples were recorded in this run."
        peak = rows.iloc[int(rows["stale_rate"].to_numpy().argmax())]
        cleanup = (
            "dead ones (dark orange) are mostly cleared when a send bounces, so watch them fall "
            "on campaign days"
            if _sends(result, ALL).targeted
            else "dead ones (dark orange) are mostly cleared by bounces, and this run sent no "
            "campaign"
        )
        return (
            "One panel per platform, each on its own scale (a platform with few tokens is noisy "
            f"and says so). Foreground tokens that would show nothing: {cleanup}; zombies (light) "
            "are accepted by the provider, so no send reveals them. The line is their total "
            f"averaged over the past {days_phrase(SMOOTH_DAYS)}. The stale rate of all platforms "
            f"peaked at {fmt_rate(float(peak['stale_rate']))} on day {float(peak['time']):g}."
            + _warm_up_note(result)
        )

    if stem == "send_outcomes":
        table = campaign_outcomes(result)
        table = table[table["targeted"] > 0]
        if table.empty:
            return "No campaign was sent in this run."
        share = table["displayed"] / table["targeted"]
        sends = _sends(result, ALL)
        return (
            "Top: each campaign's pushes by outcome, as shares of the pushes it targeted (the "
            "number in each bar is the share displayed); bottom: the same in sends. Blue, at the "
            "bottom, is what reached the intended person; everything stacked above it missed — "
            f"the displayed share ranged from {fmt_rate(float(share.min()))} to "
            f"{fmt_rate(float(share.max()))} over {fmt_int(len(table))} campaigns "
            f"({fmt_int(sends.displayed)} of {fmt_int(sends.targeted)} pushes targeted, "
            f"{fmt_pct(sends.displayed, sends.targeted)}). Right above it, the pushes shown to "
            "someone other than their target: to another logged-in user (reddish purple, "
            f"{fmt_int(sends.other_user)} sends in all) and with nobody logged in (sky blue, "
            f"{fmt_int(sends.nobody)}). Each push counts once, by its final outcome: "
            f"{fmt_int(sends.sent)} sends were made counting retries (`campaign_sent`), against "
            f"{fmt_int(sends.targeted)} pushes targeted (`campaign_targeted`)."
        )
    if stem == "uninstall_latency":
        total = result.latency_curve(UNINSTALL)
        if not total.observations:
            return "No uninstall of an app whose token the registry held happened in this run."
        return (
            "How long an uninstalled app stays in the audience before the registry notices: the "
            "share of uninstalls not yet detected, by days since the uninstall (Kaplan–Meier "
            f"survival curves; the {fmt_int(total.censored)} "
            f"({fmt_pct(total.censored, total.observations)}) still undetected at the end of the "
            "run count as undetected until then). Where a curve crosses 50% is that platform's "
            "median; where it levels off above 0 is the share the registry never finds."
            + _early_ios_note(result)
        )
    return f"{stem.replace('_', ' ').capitalize()}."


_PLOT_TITLES = {
    "reachability": "Believed vs truly reachable audience",
    "funnel": "Reachability funnel",
    "stale_tokens": "Stale foreground tokens",
    "send_outcomes": "Campaign send outcomes",
    "uninstall_latency": "Uninstall → detection: share not yet detected",
    "android_13_prompt": "Android 13+'s prompt: reach per device and per campaign",
}


def render_report(
    result: RunResult,
    *,
    scenario_name: str,
    scenario_hash: str,
    version: str,
    plots: Sequence[Path],
    description: str = "",
) -> str:
    """The markdown report of ``result``; ``plots`` are linked by file name (same directory)."""
    devices = _devices(result)
    meta = [
        f"scenario `{scenario_name}`",
        f"hash `{scenario_hash}`",
        f"pushsim {version}",
        f"seed {result.seed}",
        days_phrase(result.days),
        f"registry `{_registry_model(result)}`",
    ]
    if devices is not None:
        meta.append(f"{fmt_int(devices)} devices")
    if result.warm_up_days > 0:
        meta.append(f"figures from day {result.warm_up_days:g} on (warm-up left out)")
    lines = [f"# pushsim report — {scenario_name}", "", " · ".join(meta), ""]
    if description.strip():
        lines += [f"> {line}" if line else ">" for line in description.strip().splitlines()]
        lines.append("")
    lines += ["## What this run says", "", _what_it_says(result), ""]
    lines += ["## Headline figures", "", *_table(result), "", _table_notes(result), ""]
    lines += _android_section(result, plots)
    general = [path for path in plots if Path(path).name != ANDROID_PLOT]
    if general:
        lines += ["## Plots", ""]
        for path in general:
            name = Path(path).name
            stem = Path(path).stem
            heading = _PLOT_TITLES.get(stem, stem.replace("_", " ").capitalize())
            lines += [f"### {heading}", "", f"![{heading}]({name})", "", _caption(result, stem), ""]
    return "\n".join(lines).rstrip() + "\n"


__all__ = [
    "fmt_duration",
    "fmt_int",
    "fmt_median",
    "fmt_pct",
    "fmt_rate",
    "fmt_ratio",
    "render_report",
]
