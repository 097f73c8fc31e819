"""Time series of belief against truth, sampled at a fixed interval, by platform.

``believed_reachable``, ``truly_reachable`` and ``reachable_not_targeted`` count profiles (DESIGN
§5, :func:`sim.metrics.truth.snapshot`): truly reachable is part of believed; reachable but not
targeted (would see a push on a device they are logged in to, but the registry does not target
them there) is reported beside truly reachable, never part of it. The other columns count tokens.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from sim.metrics.tally import TruthTally
from sim.metrics.truth import FUNNEL_STEPS, StaleCause
from sim.platforms import Platform
from sim.registry import Change, TokenEvent
from sim.world.world import World

#: the platform label of the all-platforms rows
ALL = "all"

COLUMNS = (
    "time",
    "platform",
    "believed_reachable",
    "truly_reachable",
    "reachable_not_targeted",
    "tokens",
    "foreground_tokens",
    "stale_dead",
    "stale_zombie",
    "stale_rate",
    "token_adds",
    "token_updates",
    "token_removes",
)
FUNNEL_COLUMNS = ("time", "platform", "step", "devices")
CAUSE_COLUMNS = ("time", "platform", "cause", "tokens")


class TimeSeries:
    """Samples the world every ``interval`` days; rows are plain tuples until :meth:`rows`."""

    def __init__(self, world: World, interval: float) -> None:
        if not interval > 0:
            raise ValueError(f"sampling interval must be > 0 days, got {interval}")
        self.world = world
        self.interval = interval
        self._rows: list[tuple[Any, ...]] = []
        self._funnel: list[tuple[float, str, str, int]] = []
        self._causes: list[tuple[float, str, str, int]] = []
        #: token events since the last sample, per (platform, change); None: all platforms
        self._churn: dict[tuple[Platform | None, Change], int] = {}
        world.registry.subscribe(self._on_token_event)
        self.tally = TruthTally(world)

    def _on_token_event(self, event: TokenEvent) -> None:
        key = (event.platform, event.change)
        self._churn[key] = self._churn.get(key, 0) + 1

    def process(self) -> Generator[Any, Any, None]:
        """SimPy process: a sample every ``interval`` days."""
        env = self.world.env
        while True:
            yield env.timeout(self.interval)
            self.sample()

    def sample(self) -> None:
        """Record one row per platform (and one for all platforms) at the current time."""
        now = self.world.env.now
        snap = self.tally.snapshot(now)
        churn, self._churn = self._churn, {}
        for change in Change:
            churn[None, change] = sum(churn.get((p, change), 0) for p in Platform)
        for key in (*Platform, None):
            label = key.value if key is not None else ALL
            foreground = snap.foreground_tokens[key]
            stale = snap.dead[key] + snap.zombie[key]
            self._rows.append(
                (
                    now,
                    label,
                    snap.believed[key],
                    snap.truly[key],
                    snap.not_targeted[key],
                    snap.tokens[key],
                    foreground,
                    snap.dead[key],
                    snap.zombie[key],
                    stale / foreground if foreground else 0.0,
                    churn.get((key, Change.ADD), 0),
                    churn.get((key, Change.UPDATE), 0),
                    churn.get((key, Change.REMOVE), 0),
                )
            )
            for step in FUNNEL_STEPS:
                self._funnel.append((now, label, step, snap.funnel.get((key, step), 0)))
            for cause in StaleCause:
                self._causes.append((now, label, cause.value, snap.causes.get((key, cause), 0)))

    def rows(self) -> list[tuple[Any, ...]]:
        """The rows sampled so far, in :data:`COLUMNS` order."""
        return list(self._rows)

    def funnel_rows(self) -> list[tuple[float, str, str, int]]:
        """Devices passing each funnel step, per sample and platform (:data:`FUNNEL_COLUMNS`)."""
        return list(self._funnel)

    def cause_rows(self) -> list[tuple[float, str, str, int]]:
        """Registry tokens by why they would not reach their profile (:data:`CAUSE_COLUMNS`)."""
        return list(self._causes)
