"""Time series of belief against truth, sampled at a fixed interval, by platform and OS class.

``believed_reachable``, ``truly_reachable`` and ``reachable_not_targeted`` count profiles
(docs/model.md §5, :func:`sim.metrics.truth.snapshot`): truly reachable is part of believed;
reachable but not targeted (would see a push on a device they are logged in to, but the registry
does not target them there) is reported beside truly reachable, never part of it. The other
columns count tokens.

Two sets of tables: by ``platform`` (ios, android, web, all: :data:`COLUMNS`,
:data:`FUNNEL_COLUMNS`, :data:`CAUSE_COLUMNS`) and by ``os_class`` (ios, android_12_or_lower,
android_13_plus, web, all: :data:`OS_COLUMNS`, :data:`OS_FUNNEL_COLUMNS`), where the OS class
changes the permission rules (docs/model.md §3, §5). The OS-class tables are the platform tables
with the android rows split in two — a separate table, so that nothing summing platform rows counts
Android twice. Token and device counts of the two Android classes add up to the android row;
profile counts count a profile under each class where it qualifies (as under each platform).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from sim.metrics.tally import TruthTally
from sim.metrics.truth import FUNNEL_STEPS, Group, StaleCause
from sim.platforms import Platform
from sim.registry import Change, TokenEvent
from sim.world.device import OsClass
from sim.world.world import World

#: the platform label of the all-platforms rows
ALL = "all"
#: the OS-class rows, in order: each platform, or its OS classes where it has several, then all
OS_GROUPS: tuple[Group, ...] = (
    *(
        group
        for platform in Platform
        for group in (tuple(c for c in OsClass if c.platform is platform) or (platform,))
    ),
    None,
)
#: the ``os_class`` labels of :data:`OS_GROUPS`: ios, android_12_or_lower, android_13_plus, web, all
OS_CLASSES = tuple(ALL if group is None else group.value for group in OS_GROUPS)

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
#: the time series by OS class: :data:`COLUMNS` with ``os_class`` for ``platform``
OS_COLUMNS = ("time", "os_class", *COLUMNS[2:])
#: the funnel by OS class: :data:`FUNNEL_COLUMNS` with ``os_class`` for ``platform``
OS_FUNNEL_COLUMNS = ("time", "os_class", "step", "devices")


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
        self._os_rows: list[tuple[Any, ...]] = []
        self._os_funnel: list[tuple[float, str, str, int]] = []
        #: token events since the last sample, per (group, change); None: all platforms
        self._churn: dict[tuple[Group, Change], int] = {}
        world.registry.subscribe(self._on_token_event)
        self.tally = TruthTally(world)

    def _on_token_event(self, event: TokenEvent) -> None:
        churn, change = self._churn, event.change
        key: tuple[Group, Change] = (event.platform, change)
        churn[key] = churn.get(key, 0) + 1
        if event.platform is Platform.ANDROID:
            device = self.world.actions.installs.get(event.device)
            if device is not None and device.os_class is not None:
                key = (device.os_class, change)
                churn[key] = churn.get(key, 0) + 1

    def process(self) -> Generator[Any, Any, None]:
        """SimPy process: a sample every ``interval`` days."""
        env = self.world.env
        while True:
            yield env.timeout(self.interval)
            self.world.settle(env.now)
            self.sample()

    def sample(self) -> None:
        """Record one row per platform, and per OS class, and one for all, at the current time."""
        now = self.world.env.now
        snap = self.tally.snapshot(now)
        churn, self._churn = self._churn, {}
        for change in Change:
            churn[None, change] = sum(churn.get((p, change), 0) for p in Platform)
        rows: dict[Group, tuple[Any, ...]] = {}
        for key in (*Platform, *OsClass, None):
            label = key.value if key is not None else ALL
            foreground = snap.foreground_tokens[key]
            stale = snap.dead[key] + snap.zombie[key]
            rows[key] = (
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
        for key in (*Platform, None):
            label = key.value if key is not None else ALL
            self._rows.append(rows[key])
            for step in FUNNEL_STEPS:
                self._funnel.append((now, label, step, snap.funnel.get((key, step), 0)))
            for cause in StaleCause:
                self._causes.append((now, label, cause.value, snap.causes.get((key, cause), 0)))
        for key, label in zip(OS_GROUPS, OS_CLASSES, strict=True):
            self._os_rows.append(rows[key])
            for step in FUNNEL_STEPS:
                self._os_funnel.append((now, label, step, snap.funnel.get((key, step), 0)))

    def rows(self) -> list[tuple[Any, ...]]:
        """The rows sampled so far, in :data:`COLUMNS` order."""
        return list(self._rows)

    def funnel_rows(self) -> list[tuple[float, str, str, int]]:
        """Devices passing each funnel step, per sample and platform (:data:`FUNNEL_COLUMNS`)."""
        return list(self._funnel)

    def cause_rows(self) -> list[tuple[float, str, str, int]]:
        """Registry tokens by why they would not reach their profile (:data:`CAUSE_COLUMNS`)."""
        return list(self._causes)

    def os_rows(self) -> list[tuple[Any, ...]]:
        """The rows sampled so far by OS class, in :data:`OS_COLUMNS` order."""
        return list(self._os_rows)

    def os_funnel_rows(self) -> list[tuple[float, str, str, int]]:
        """Devices passing each funnel step, per sample and OS class (:data:`OS_FUNNEL_COLUMNS`)."""
        return list(self._os_funnel)
