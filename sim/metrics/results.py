"""The results of one run as pandas DataFrames, each carrying the run's seed and parameters."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.metrics.timeseries import ALL, CAUSE_COLUMNS, FUNNEL_COLUMNS


@dataclass
class RunResult:
    """Everything one run measured.

    - ``timeseries``: one row per (sample time, platform), ``platform == "all"`` for the total;
    - ``sends``: one row per (campaign or probe, platform) with the outcome counts;
    - ``bounces``: bounces per (campaign, platform, status, reason);
    - ``latencies``: one row per completed latency; ``open_latencies`` counts the censored ones;
    - ``funnel``: per (sample time, platform, step) the installed devices passing every step from
      "installed" to "subscribed" (truly reachable on that device);
    - ``stale_causes``: per (sample time, platform, cause) the registry's foreground tokens that
      would not reach their profile: dead or zombie by cause, or held for another user;
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
        }
        if self.events is not None:
            frames["events"] = self.events
        return frames

    def after_warm_up(self) -> RunResult:
        """The same result with everything before ``warm_up_days`` left out.

        Samples and sends before the warm-up end, and latencies that ended before it, are
        dropped; the event log is kept whole.
        """
        warm = self.warm_up_days
        if warm <= 0:
            return self
        ts, sends, lat = self.timeseries, self.sends, self.latencies
        kept = set(sends.loc[sends["time"] >= warm, "campaign"])
        return RunResult(
            seed=self.seed,
            days=self.days,
            params=self.params,
            timeseries=ts[ts["time"] >= warm].reset_index(drop=True),
            sends=sends[sends["time"] >= warm].reset_index(drop=True),
            bounces=self.bounces[self.bounces["campaign"].isin(kept)].reset_index(drop=True),
            latencies=lat[lat["end"] >= warm].reset_index(drop=True),
            funnel=self.funnel[self.funnel["time"] >= warm].reset_index(drop=True),
            stale_causes=self.stale_causes[self.stale_causes["time"] >= warm].reset_index(
                drop=True
            ),
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

    def summary(self) -> dict[str, Any]:
        """Headline figures: the end-of-run state, and totals and means after the warm-up."""
        last = self.final()
        warm = self.warm_up_days
        sends = self.sends[self.sends["time"] >= warm]
        campaigns = sends[sends["kind"] == "campaign"]
        totals = {
            column: int(campaigns[column].sum())
            for column in ("targeted", "sent", "bounced", "displayed", "misdirected", "dropped")
        }
        lat = self.latencies[self.latencies["end"] >= warm]
        medians = {
            f"median_{kind}_days": float(lat[lat["kind"] == kind]["latency_days"].median())
            for kind in sorted(set(lat["kind"]))
        }
        return {
            "seed": self.seed,
            "days": self.days,
            "believed_reachable": int(last["believed_reachable"]),
            "truly_reachable": int(last["truly_reachable"]),
            "reachable_unknown": int(last["reachable_unknown"]),
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
        }

    def write(self, directory: Path | str) -> Path:
        """Write every table as CSV and the summary as JSON into ``directory``."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in self.frames().items():
            frame.to_csv(out / f"{name}.csv", index=False)
        (out / "summary.json").write_text(json.dumps(self.summary(), indent=2, sort_keys=True))
        return out
