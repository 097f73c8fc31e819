"""The results of one run as pandas DataFrames, each carrying the run's seed and parameters.

:func:`merge` joins the results of the shards of one household-sharded run into one result of the
same shape as an unsharded run's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.metrics.latency import ROTATION, SWITCH, UNINSTALL
from sim.metrics.sends import OS_SEND_COLUMNS
from sim.metrics.survival import SurvivalCurve, kaplan_meier
from sim.metrics.timeseries import (
    ALL,
    CAUSE_COLUMNS,
    COLUMNS,
    FUNNEL_COLUMNS,
    OS_COLUMNS,
    OS_FUNNEL_COLUMNS,
)
from sim.world.device import OsClass

#: the latency kinds, each with a ``median_<kind>_days`` figure in :meth:`RunResult.summary`
LATENCY_KINDS = (UNINSTALL, ROTATION, SWITCH)
#: the send counts totalled over the campaigns in :meth:`RunResult.summary`, as
#: ``campaign_<column>`` (sends, not profiles)
SUMMARY_SENDS = (
    "targeted",
    "sent",
    "bounced",
    "displayed",
    "shown_to_other_user",
    "shown_to_nobody",
    "dropped",
)
#: the OS classes with figures of their own in :meth:`RunResult.summary` (``<figure>_<class>``):
#: Android's two, whose permission rules differ (docs/model.md §3)
ANDROID_CLASSES = tuple(c.value for c in OsClass)
#: the class whose prompt :meth:`RunResult.android_13_cost` measures, and the one it is measured
#: against
ANDROID_13, ANDROID_12 = OsClass.ANDROID_13_PLUS.value, OsClass.ANDROID_12_OR_LOWER.value


@dataclass(frozen=True)
class ClassEnd:
    """The end-of-run state of one OS class: its devices, audiences and tokens.

    ``installed``, ``launched`` and ``permission`` count devices (funnel steps: installed;
    launched since install; and notifications allowed); the audiences count profiles, a profile
    reachable on devices of several classes counting under each; the tokens are the registry's.
    """

    installed: int
    launched: int
    permission: int
    believed: int
    truly: int
    not_targeted: int
    foreground: int
    dead: int
    zombie: int

    @property
    def permission_share(self) -> float | None:
        """Launched devices with notifications allowed, as a share of those launched."""
        return self.permission / self.launched if self.launched else None

    @property
    def reach_rate(self) -> float | None:
        """Truly reachable profiles per installed device."""
        return self.truly / self.installed if self.installed else None

    @property
    def stale_rate(self) -> float:
        """Foreground tokens that would show nothing, as a share of foreground tokens."""
        return (self.dead + self.zombie) / self.foreground if self.foreground else 0.0


@dataclass(frozen=True)
class PromptCost:
    """What Android 13+'s runtime prompt costs in reach, measured against Android ≤ 12.

    ``people``: (reach rate on Android ≤ 12 − reach rate on Android 13+) × Android 13+ devices
    installed — the truly reachable people the Android 13+ devices would add at Android ≤ 12's
    rate. ``share``: that as a share of the reach they would have at that rate (1 − the ratio of
    the rates). Rates are truly reachable profiles per installed device (:class:`ClassEnd`).
    """

    people: float
    share: float | None


@dataclass
class RunResult:
    """Everything one run measured.

    - ``timeseries``: one row per (sample time, platform), ``platform == "all"`` for the total:
      believed and truly reachable profiles, and beside them the profiles reachable but not
      targeted (docs/model.md §5); tokens held, stale and churned;
    - ``sends``: one row per (campaign or probe, platform) with the outcome counts, of sends
      (tokens): a push shown to someone other than its target is counted as
      ``shown_to_other_user`` (another profile logged in) or ``shown_to_nobody``;
    - ``bounces``: bounces per (campaign, platform, status, reason);
    - ``latencies``: one row per truth change followed (:mod:`sim.metrics.latency`): completed
      (``observed``), or still open at the end of the run and censored there; ``open_latencies``
      counts the censored ones per kind, and :meth:`latency_curve` gives their survival estimate;
    - ``funnel``: per (sample time, platform, step) the installed devices passing every step from
      "installed" to "subscribed" (truly reachable on that device);
    - ``stale_causes``: per (sample time, platform, cause) the registry's foreground tokens that
      would not reach their profile: dead or zombie by cause, or held for another user;
    - ``timeseries_by_os``, ``funnel_by_os``, ``sends_by_os``: ``timeseries``, ``funnel`` and
      ``sends`` by ``os_class`` instead of platform — ios, android_12_or_lower, android_13_plus,
      web (and all, where the platform table has it): the android rows split by the OS class of
      the device (docs/model.md §3, §5). Separate tables, so that summing platform rows never counts
      Android twice; token, device and send counts of the two classes add up to the android
      row, profile counts count a profile under each class where it qualifies;
    - ``events``: the full event log when asked for, else None.

    Every DataFrame's ``attrs`` hold ``seed``, ``days`` and ``params``.
    """

    seed: int
    days: float
    params: dict[str, Any]
    timeseries: pd.DataFrame
    sends: pd.DataFrame
    bounces: pd.DataFrame
    latencies: pd.DataFrame
    open_latencies: dict[str, int]
    funnel: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(FUNNEL_COLUMNS)))
    stale_causes: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(CAUSE_COLUMNS))
    )
    timeseries_by_os: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(OS_COLUMNS))
    )
    funnel_by_os: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(OS_FUNNEL_COLUMNS))
    )
    sends_by_os: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(OS_SEND_COLUMNS))
    )
    events: pd.DataFrame | None = None
    #: samples and sends before this day are left out of the time-averaged figures of summary()
    warm_up_days: float = 0.0

    def __post_init__(self) -> None:
        for frame in self.frames().values():
            frame.attrs.update({"seed": self.seed, "days": self.days, "params": self.params})

    def frames(self) -> dict[str, pd.DataFrame]:
        """The result tables by name."""
        frames = {
            "timeseries": self.timeseries,
            "sends": self.sends,
            "bounces": self.bounces,
            "latencies": self.latencies,
            "funnel": self.funnel,
            "stale_causes": self.stale_causes,
            "timeseries_by_os": self.timeseries_by_os,
            "funnel_by_os": self.funnel_by_os,
            "sends_by_os": self.sends_by_os,
        }
        if self.events is not None:
            frames["events"] = self.events
        return frames

    def after_warm_up(self) -> RunResult:
        """The same result with everything before ``warm_up_days`` left out.

        Samples and sends before the warm-up end, and latencies of truth changes before it, are
        dropped; the event log is kept whole. (Latencies are chosen by when they start, not by
        when they end: choosing by end would keep the long latencies of the warm-up and drop its
        short ones.)
        """
        warm = self.warm_up_days
        if warm <= 0:
            return self
        ts, sends, lat = self.timeseries, self.sends, self.latencies

        def after(frame: pd.DataFrame) -> pd.DataFrame:
            return frame[frame["time"] >= warm].reset_index(drop=True)

        kept = set(sends.loc[sends["time"] >= warm, "campaign"])
        return RunResult(
            seed=self.seed,
            days=self.days,
            params=self.params,
            timeseries=ts[ts["time"] >= warm].reset_index(drop=True),
            sends=sends[sends["time"] >= warm].reset_index(drop=True),
            bounces=self.bounces[self.bounces["campaign"].isin(kept)].reset_index(drop=True),
            latencies=lat[lat["start"] >= warm].reset_index(drop=True),
            funnel=self.funnel[self.funnel["time"] >= warm].reset_index(drop=True),
            stale_causes=self.stale_causes[self.stale_causes["time"] >= warm].reset_index(
                drop=True
            ),
            timeseries_by_os=after(self.timeseries_by_os),
            funnel_by_os=after(self.funnel_by_os),
            sends_by_os=after(self.sends_by_os),
            open_latencies=self.open_latencies,
            events=self.events,
            warm_up_days=warm,
        )

    def final(self, platform: str = ALL) -> pd.Series:
        """The last time-series row for ``platform``."""
        rows = self.timeseries[self.timeseries["platform"] == platform]
        if rows.empty:
            raise ValueError(f"no samples for platform {platform!r}")
        return rows.iloc[-1]

    def class_end(self, os_class: str) -> ClassEnd | None:
        """The end-of-run state of ``os_class`` (an ``os_class`` label); None with no samples."""
        ts = self.timeseries_by_os
        rows = ts[ts["os_class"] == os_class]
        if rows.empty:
            return None
        last = rows.iloc[-1]
        funnel = self.funnel_by_os
        at_end = funnel[(funnel["os_class"] == os_class) & (funnel["time"] == last["time"])]
        steps = dict(zip(at_end["step"], at_end["devices"], strict=True))
        return ClassEnd(
            installed=int(steps.get("installed", 0)),
            launched=int(steps.get("launched", 0)),
            permission=int(steps.get("permission", 0)),
            believed=int(last["believed_reachable"]),
            truly=int(last["truly_reachable"]),
            not_targeted=int(last["reachable_not_targeted"]),
            foreground=int(last["foreground_tokens"]),
            dead=int(last["stale_dead"]),
            zombie=int(last["stale_zombie"]),
        )

    def android_13_cost(self) -> PromptCost | None:
        """What Android 13+'s prompt costs in reach at the end of the run (:class:`PromptCost`).

        None unless both Android classes have installed devices.
        """
        new, old = self.class_end(ANDROID_13), self.class_end(ANDROID_12)
        if new is None or old is None or new.reach_rate is None or old.reach_rate is None:
            return None
        people = (old.reach_rate - new.reach_rate) * new.installed
        share = 1.0 - new.reach_rate / old.reach_rate if old.reach_rate else None
        return PromptCost(people=people, share=share)

    def campaign_display_shares(self, os_class: str) -> pd.DataFrame:
        """Per campaign, displayed ÷ targeted on ``os_class``'s devices (campaigns targeting any).

        Columns ``campaign``, ``time`` and ``share``, one row per campaign in order of time;
        probes are left out.
        """
        sends = self.sends_by_os
        rows = sends[
            (sends["kind"] == "campaign")
            & (sends["os_class"] == os_class)
            & (sends["targeted"] > 0)
        ].sort_values(["time", "campaign"], kind="stable")
        return pd.DataFrame(
            {
                "campaign": rows["campaign"].to_numpy(),
                "time": rows["time"].to_numpy(dtype=float),
                "share": rows["displayed"].to_numpy(dtype=float)
                / rows["targeted"].to_numpy(dtype=float),
            }
        )

    def latency_curve(self, kind: str, platform: str = ALL) -> SurvivalCurve:
        """The Kaplan–Meier estimate of ``kind``'s latency on ``platform`` (``"all"``: every one).

        Taken over the latencies of truth changes from the end of the warm-up on, the open ones
        censored at the end of the run.
        """
        lat = self.latencies
        rows = lat[(lat["kind"] == kind) & (lat["start"] >= self.warm_up_days)]
        if platform != ALL:
            rows = rows[rows["platform"] == platform]
        return kaplan_meier(
            rows["latency_days"].to_numpy(dtype=float), rows["observed"].to_numpy(dtype=bool)
        )

    def summary(self) -> dict[str, Any]:
        """Headline figures: the end-of-run state, and totals and means after the warm-up.

        Audience figures count profiles (docs/model.md §5): ``believed_reachable``,
        ``truly_reachable`` (part of believed) and, beside it, ``reachable_not_targeted`` (would
        see a push on a device they are logged in to, but the registry does not target them there;
        never part of truly reachable). ``campaign_<outcome>`` figures count sends (tokens): a push
        shown to someone other than its target is ``campaign_shown_to_other_user`` (another profile
        was logged in) or ``campaign_shown_to_nobody`` (nobody was), never lumped together.
        ``median_<kind>_days`` is the Kaplan–Meier median of each latency kind (open latencies
        censored at the end of the run): None when there is none, or when fewer than half had
        ended by the longest time followed.

        Per Android OS class (``<figure>_android_12_or_lower``, ``<figure>_android_13_plus``,
        :meth:`android_figures`): devices installed, profiles believed and truly reachable, truly
        reachable per installed device, the share of launched devices with notifications
        allowed, the stale rate, and campaign sends targeted and displayed; and what Android 13+'s
        prompt costs in reach, ``android_13_reach_cost_people`` and ``_share``.
        """
        last = self.final()
        warm = self.warm_up_days
        sends = self.sends[self.sends["time"] >= warm]
        campaigns = sends[sends["kind"] == "campaign"]
        totals = {column: int(campaigns[column].sum()) for column in SUMMARY_SENDS}
        medians = {
            f"median_{kind}_days": self.latency_curve(kind).median for kind in sorted(LATENCY_KINDS)
        }
        return {
            "seed": self.seed,
            "days": self.days,
            "believed_reachable": int(last["believed_reachable"]),
            "truly_reachable": int(last["truly_reachable"]),
            "reachable_not_targeted": int(last["reachable_not_targeted"]),
            "overstatement": (
                float(last["believed_reachable"] / last["truly_reachable"])
                if last["truly_reachable"]
                else None
            ),
            "stale_rate": float(last["stale_rate"]),
            "stale_dead": int(last["stale_dead"]),
            "stale_zombie": int(last["stale_zombie"]),
            "warm_up_days": warm,
            "mean_stale_rate": float(
                self.timeseries[
                    (self.timeseries["platform"] == ALL) & (self.timeseries["time"] >= warm)
                ]["stale_rate"].mean()
            ),
            **{f"campaign_{k}": v for k, v in totals.items()},
            **medians,
            **self.android_figures(),
        }

    def android_figures(self) -> dict[str, float | int | None]:
        """The summary's figures per Android OS class, and the prompt's cost (see :meth:`summary`).

        None where a class has no samples (or a share nothing to divide by).
        """
        warm = self.warm_up_days
        sends = self.sends_by_os
        campaigns = sends[(sends["time"] >= warm) & (sends["kind"] == "campaign")]
        out: dict[str, float | int | None] = {}
        for os_class in ANDROID_CLASSES:
            end = self.class_end(os_class)
            mine = campaigns[campaigns["os_class"] == os_class]
            targeted, displayed = int(mine["targeted"].sum()), int(mine["displayed"].sum())
            figures: dict[str, float | int | None] = {
                "installed": None if end is None else end.installed,
                "believed_reachable": None if end is None else end.believed,
                "truly_reachable": None if end is None else end.truly,
                "reach_rate": None if end is None else end.reach_rate,
                "permission_share": None if end is None else end.permission_share,
                "stale_rate": None if end is None else end.stale_rate,
                "campaign_targeted": targeted,
                "campaign_displayed": displayed,
                "campaign_displayed_share": displayed / targeted if targeted else None,
            }
            out.update({f"{name}_{os_class}": value for name, value in figures.items()})
        cost = self.android_13_cost()
        out["android_13_reach_cost_people"] = None if cost is None else cost.people
        out["android_13_reach_cost_share"] = None if cost is None else cost.share
        return out

    def write(self, directory: Path | str) -> Path:
        """Write every table as CSV and the summary as JSON into ``directory``."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in self.frames().items():
            frame.to_csv(out / f"{name}.csv", index=False)
        (out / "summary.json").write_text(json.dumps(self.summary(), indent=2, sort_keys=True))
        return out


# -- merging the shards of one run ---------------------------------------------------------------

#: the time-series columns that are counts (summed across shards); ``stale_rate`` is recomputed
TIMESERIES_COUNTS = tuple(c for c in COLUMNS if c not in ("time", "platform", "stale_rate"))
#: the columns of ``sends`` that identify a row; every other column but ``time`` is a count
SEND_KEYS = ("campaign", "kind", "platform")
#: the same for ``sends_by_os``
OS_SEND_KEYS = ("campaign", "kind", "os_class")


def _sum_aligned(frames: Sequence[pd.DataFrame], keys: Sequence[str], name: str) -> pd.DataFrame:
    """Frames with identical key columns row by row; every other numeric column summed."""
    first = frames[0]
    for number, frame in enumerate(frames[1:], start=1):
        if len(frame) != len(first) or not frame[list(keys)].equals(first[list(keys)]):
            raise ValueError(
                f"cannot merge {name}: shard {number} was not sampled at the same "
                f"({', '.join(keys)}) rows as shard 0 (same days and sampling interval needed)"
            )
    out = first.copy()
    for column in first.columns:
        if column not in keys:
            out[column] = sum((frame[column] for frame in frames[1:]), first[column])
    return out


def _dtypes(frames: Sequence[pd.DataFrame]) -> dict[str, Any]:
    """The column types of the first non-empty frame (empty frames may have typeless columns)."""
    reference = next((frame for frame in frames if not frame.empty), frames[0])
    return {str(column): dtype for column, dtype in reference.dtypes.items()}


def _concat(frames: Sequence[pd.DataFrame], order_by: str | None) -> pd.DataFrame:
    """Frames one after another (shard order), then stably sorted by ``order_by``."""
    kept = [frame for frame in frames if not frame.empty]
    if not kept:
        return frames[0].copy()
    out = pd.concat(kept, ignore_index=True)
    if order_by is not None:
        out = out.sort_values(order_by, kind="stable", ignore_index=True)
    return out


def _merge_sends(frames: Sequence[pd.DataFrame], keys: Sequence[str] = SEND_KEYS) -> pd.DataFrame:
    """One row per ``keys`` (campaign, platform): counts summed, time the earliest, by time.

    Rows appear in order of first appearance, shard by shard, then stably sorted by time, so a
    single shard's table comes back unchanged.
    """
    columns = list(frames[0].columns)
    counts = [c for c in columns if c not in (*keys, "time")]
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for frame in frames:
        for row in frame.itertuples(index=False, name=None):
            values = dict(zip(columns, row, strict=True))
            key = tuple(values[k] for k in keys)
            into = merged.get(key)
            if into is None:
                merged[key] = dict(values)
                continue
            into["time"] = min(into["time"], values["time"])
            for column in counts:
                into[column] += values[column]
    out = pd.DataFrame(list(merged.values()), columns=columns).astype(_dtypes(frames))
    return out.sort_values("time", kind="stable", ignore_index=True)


def _merge_bounces(frames: Sequence[pd.DataFrame], campaigns: Sequence[str]) -> pd.DataFrame:
    """Bounces per (campaign, platform, status, reason) summed, in the campaigns' order."""
    keys = ["campaign", "platform", "status", "reason"]
    totals: dict[tuple[Any, ...], int] = {}
    for frame in frames:
        for *key, count in frame[[*keys, "count"]].itertuples(index=False, name=None):
            totals[tuple(key)] = totals.get(tuple(key), 0) + int(count)
    position = {campaign: number for number, campaign in enumerate(dict.fromkeys(campaigns))}
    rows = sorted(totals.items(), key=lambda item: position.get(item[0][0], len(position)))
    out = pd.DataFrame([(*key, count) for key, count in rows], columns=[*keys, "count"])
    return out.astype(_dtypes(frames))


def _restale(timeseries: pd.DataFrame) -> pd.DataFrame:
    """``stale_rate`` recomputed from the (summed) dead, zombie and foreground tokens."""
    foreground = timeseries["foreground_tokens"]
    stale = timeseries["stale_dead"] + timeseries["stale_zombie"]
    timeseries["stale_rate"] = (stale / foreground.where(foreground > 0, 1)).where(
        foreground > 0, 0.0
    )
    return timeseries


def merge(results: Sequence[RunResult]) -> RunResult:
    """One result from the results of the shards of a household-sharded run.

    The shards ran the same days with the same sampling interval, seed and parameters. Counts are
    summed: time-series counts per (time, platform), with ``stale_rate`` recomputed from the
    summed dead, zombie and foreground tokens (not averaged); funnel steps and stale causes per
    (time, platform, step or cause); sends per (campaign, platform); the tables by OS class
    likewise, per OS class instead of platform; bounces per code; open
    latencies per kind. Latencies (completed, then the censored ones, which all end at the end of
    the run) and the event log are concatenated shard by shard and stably sorted by end time and
    by time.

    Distinct-profile counts (believed and truly reachable, reachable but not targeted) are summed
    too, which is exact because no profile spans two shards: a person's profile lives on the
    devices of their household (owned, shared, replaced or restored), anonymous profiles on one
    install, and a household is in one shard.
    """
    if not results:
        raise ValueError("nothing to merge: no results")
    first = results[0]
    if len(results) == 1:
        return first
    for number, result in enumerate(results[1:], start=1):
        if result.days != first.days or result.params != first.params:
            raise ValueError(f"cannot merge: shard {number} ran other days or parameters")
    timeseries = _restale(
        _sum_aligned([r.timeseries for r in results], ("time", "platform"), "timeseries")
    )
    by_os = _restale(
        _sum_aligned(
            [r.timeseries_by_os for r in results], ("time", "os_class"), "the time series by OS"
        )
    )
    sends = _merge_sends([r.sends for r in results])
    open_latencies: dict[str, int] = {}
    for result in results:
        for kind, count in result.open_latencies.items():
            open_latencies[kind] = open_latencies.get(kind, 0) + count
    events = [r.events for r in results if r.events is not None]
    if events and len(events) != len(results):
        raise ValueError("cannot merge: some shards kept an event log and others did not")
    return RunResult(
        seed=first.seed,
        days=first.days,
        params=first.params,
        timeseries=timeseries,
        sends=sends,
        bounces=_merge_bounces([r.bounces for r in results], list(sends["campaign"])),
        latencies=_concat([r.latencies for r in results], "end"),
        open_latencies=open_latencies,
        funnel=_sum_aligned(
            [r.funnel for r in results], ("time", "platform", "step"), "the funnel"
        ),
        stale_causes=_sum_aligned(
            [r.stale_causes for r in results], ("time", "platform", "cause"), "stale causes"
        ),
        timeseries_by_os=by_os,
        funnel_by_os=_sum_aligned(
            [r.funnel_by_os for r in results], ("time", "os_class", "step"), "the funnel by OS"
        ),
        sends_by_os=_merge_sends([r.sends_by_os for r in results], OS_SEND_KEYS),
        events=_concat(events, "time") if events else None,
        warm_up_days=first.warm_up_days,
    )
