"""Android ≤ 12 and 13+ counted apart (docs/model.md §3, §5): per-class figures beside platforms.

An OS class is a breakdown of its platform, kept in tables of its own (``*_by_os``) so that
nothing summing platform rows counts Android twice. Token, device and send counts of the two
Android classes add up to Android's; profile counts count a profile under each class where it
qualifies (a person reachable on an Android 13+ device counts under android_13_plus, and under
android_12_or_lower too if they are also reachable on such a device), once under android and all.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd
import pytest

from sim.metrics.results import ANDROID_12, ANDROID_13
from sim.metrics.sends import SendLedger
from sim.metrics.timeseries import ALL, OS_CLASSES, TimeSeries
from sim.metrics.truth import Snapshot, snapshot
from sim.platforms import Platform
from sim.scenario import load_scenario
from sim.simulation import Simulation, simulate
from sim.story import Step
from sim.story.runner import StoryWorld
from sim.story.steps import STEP_ACTIONS
from sim.world import WorldParams
from sim.world.device import DeviceKind, OsClass
from tests.story.stories import device, expect, header, ready, step, story

A12, A13 = OsClass.ANDROID_12_OR_LOWER, OsClass.ANDROID_13_PLUS
SCENARIOS = Path(__file__).parents[2] / "scenarios"

#: one device of each class, plus an Android 13+ user who denies and an Android 13+ tablet of the
#: Android ≤ 12 phone's owner (bob: reachable on both classes)
EVERY_CLASS = (
    header('"R4", "R9"')
    + device("iphone", "ios", "ann")
    + device("old", "android_legacy", "bob")
    + device("tab", "android_13", "bob")
    + device("new", "android_13", "cat")
    + device("denied", "android_13", "eve")
    + device("browser", "web", "dan", browser="chrome")
    + ready("iphone", "ann")
    + step(0.0, "install", device="old")
    + step(0.0, "launch", device="old")
    + step(0.01, "login", device="old", user="bob")
    + ready("tab", "bob")
    + ready("new", "cat")
    + ready("denied", "eve", answer="deny")
    + ready("browser", "dan")
    + step(1.0, "campaign", campaign="c1")
    + expect(1.5, "truly_reachable", "true", profile="cat")
)


class Played:
    """A story's world run to a day, with a time series and a send ledger attached."""

    def __init__(self, text: str, day: float) -> None:
        self.ctx = StoryWorld(story(text))
        world = self.ctx.world
        self.series = TimeSeries(world, 1.0)
        self.ledger = SendLedger(world.actions.installs)
        world.signals.send.append(self.ledger.record)
        for planned in self.ctx.story.steps:
            world.env.timeout(planned.day).callbacks.append(self._play(planned))
        world.run(day)
        self.series.sample()
        self.full = snapshot(world, day)
        self.kept = self.series.tally.snapshot(day)

    def _play(self, planned: Step) -> Callable[[object], None]:
        def play(_event: object) -> None:
            STEP_ACTIONS[planned.do](self.ctx, planned)

        return play


@pytest.fixture(scope="module")
def played() -> Played:
    return Played(EVERY_CLASS, 1.5)


def test_the_classes_of_the_device_kinds() -> None:
    assert DeviceKind.ANDROID_LEGACY.os_class is A12
    assert DeviceKind.ANDROID_13.os_class is A13
    assert DeviceKind.IOS.os_class is None and DeviceKind.WEB.os_class is None
    assert all(c.platform is Platform.ANDROID for c in OsClass)
    assert OS_CLASSES == ("ios", "android_12_or_lower", "android_13_plus", "web", "all")


def test_one_device_of_each_class_counts_under_its_class(played: Played) -> None:
    for snap in (played.full, played.kept):
        funnel = {
            group: [snap.funnel[group, s] for s in ("installed", "permission", "subscribed")]
            for group in (Platform.IOS, A12, A13, Platform.ANDROID, Platform.WEB, None)
        }
        assert funnel == {
            Platform.IOS: [1, 1, 1],
            A12: [1, 1, 1],
            A13: [3, 2, 2],  # eve said "Don't allow"
            Platform.ANDROID: [4, 3, 3],
            Platform.WEB: [1, 1, 1],
            None: [6, 5, 5],
        }
        # eve's token is held background-only: a token, not a foreground one
        assert [snap.tokens[g] for g in (A12, A13, Platform.ANDROID)] == [1, 3, 4]
        assert [snap.foreground_tokens[g] for g in (A12, A13, Platform.ANDROID)] == [1, 2, 3]
        assert [snap.dead[g] + snap.zombie[g] for g in (A12, A13)] == [0, 0]
        # profiles: bob under both classes, once under Android and all
        assert [snap.believed[g] for g in (A12, A13, Platform.ANDROID, None)] == [1, 2, 2, 4]
        assert [snap.truly[g] for g in (A12, A13, Platform.ANDROID, None)] == [1, 2, 2, 4]
        assert [snap.not_targeted[g] for g in (A12, A13)] == [0, 0]


def test_the_tables_by_os_class_and_the_sends(played: Played) -> None:
    rows = {row[1]: row for row in played.series.os_rows()}
    assert list(rows) == list(OS_CLASSES)
    platform_rows = {row[1]: row for row in played.series.rows()}
    for same in ("ios", "web", ALL):  # one class per platform: the platform's own row
        assert rows[same] == platform_rows[same]
    assert rows["android_12_or_lower"][2:5] == (1, 1, 0)  # believed, truly, not targeted
    assert rows["android_13_plus"][2:5] == (2, 2, 0)
    funnel = {(r[1], r[2]): r[3] for r in played.series.os_funnel_rows()}
    assert funnel["android_13_plus", "installed"] == 3
    assert funnel["android_13_plus", "launched"] == 3
    assert funnel["android_13_plus", "permission"] == 2
    assert funnel["android_12_or_lower", "permission"] == 1
    sends = {row[3]: row for row in played.ledger.os_rows()}
    assert set(sends) == {"ios", "android_12_or_lower", "android_13_plus", "web"}
    # targeted and displayed: bob's phone; bob's tablet and cat's phone (not eve's background token)
    assert sends["android_12_or_lower"][4] == 1 and sends["android_12_or_lower"][9] == 1
    assert sends["android_13_plus"][4] == 2 and sends["android_13_plus"][9] == 2
    (android,) = [row for row in played.ledger.rows() if row[3] == "android"]
    old, new = (_counts(sends[c]) for c in ("android_12_or_lower", "android_13_plus"))
    assert _counts(android) == [a + b for a, b in zip(old, new, strict=True)]


def _counts(row: tuple[object, ...]) -> list[int]:
    """The counts of a send row (from ``targeted`` on)."""
    return [cast(int, value) for value in row[4:]]


def test_an_android_send_whose_install_is_unknown_is_android() -> None:
    """Without the world's installs, a send cannot say its OS class: it is just ``android``."""
    ledger = SendLedger()
    played = Played(EVERY_CLASS, 1.5)
    played.ctx.world.signals.send.append(ledger.record)
    STEP_ACTIONS[played.ctx.story.steps[-1].do](played.ctx, played.ctx.story.steps[-1])
    assert {row[3] for row in ledger.os_rows()} == {"ios", "android", "web"}


# -- along runs with both classes --------------------------------------------------------------


def _nonzero(snap: Snapshot) -> dict[str, dict[object, int]]:
    return {
        name: {key: value for key, value in getattr(snap, name).items() if value}
        for name in Snapshot.__slots__
    }


@pytest.mark.parametrize("seed", [3, 11])
def test_the_tally_equals_the_snapshot_per_class_along_a_run(seed: int) -> None:
    """Both Android classes, people with devices of both, shared ones: tally == full walk."""
    scenario = load_scenario(
        SCENARIOS / "android13_optin.toml",
        [
            "population.devices=400",
            "population.arrivals_per_day=2",
            "population.shared_device_share=0.4",
            "permission.turn_off_per_day=0.02",
            "permission.turn_on_per_day=0.05",
            "behaviour.logout_per_day=0.05",
        ],
    )
    simulation = Simulation(scenario.world(), seed=seed)
    world, tally = simulation.world, simulation.timeseries.tally
    both = 0
    for now in np.arange(0.7, 60.0, 0.9):
        simulation.run(float(now))
        kept, full = tally.snapshot(float(now)), snapshot(world, float(now))
        assert _nonzero(kept) == _nonzero(full), now
        for counts in (full.tokens, full.foreground_tokens, full.dead, full.zombie):
            assert counts[A12] + counts[A13] == counts[Platform.ANDROID]
        for step_name in ("installed", "permission", "subscribed"):
            assert (
                full.funnel[A12, step_name] + full.funnel[A13, step_name]
                == full.funnel[Platform.ANDROID, step_name]
            )
        for people in (full.believed, full.truly):
            assert max(people[A12], people[A13]) <= people[Platform.ANDROID]
        for people in (full.believed, full.truly, full.not_targeted):
            # not targeted on one class may be truly reachable on the other: not in Android's
            assert people[Platform.ANDROID] <= people[A12] + people[A13]
        both += full.truly[A12] + full.truly[A13] - full.truly[Platform.ANDROID]
    assert both > 0, "some people are truly reachable on devices of both classes"


def test_believed_per_class_is_the_registry_audience_on_that_class() -> None:
    """Believed reachable on a class: targetable profiles with a foreground token there (R9)."""
    params = WorldParams().changed(population={"devices": 500, "shared_device_share": 0.4})
    simulation = Simulation(params, seed=2)
    simulation.run(30.0)
    world = simulation.world
    registry, installs = world.registry, world.actions.installs
    audience = set(registry.audience(world.actions.app, platform=Platform.ANDROID))
    by_class: dict[OsClass, set[str]] = {A12: set(), A13: set()}
    for record in registry.tokens():
        os_class = installs[record.device].os_class
        if record.foreground and os_class is not None and registry.is_targetable(record.profile):
            by_class[os_class].add(record.profile)
    assert by_class[A12] | by_class[A13] == audience
    snap = snapshot(world, 30.0)
    assert (snap.believed[A12], snap.believed[A13]) == (len(by_class[A12]), len(by_class[A13]))


def test_result_tables_split_android_and_add_up() -> None:
    result = simulate(WorldParams().changed(population={"devices": 600}), days=20, seed=4)
    ts, by_os = result.timeseries, result.timeseries_by_os
    assert set(ts["platform"]) == {"ios", "android", "web", ALL}  # the platform table is as was
    assert list(by_os["os_class"][:5]) == list(OS_CLASSES)
    android = ts[ts["platform"] == "android"].set_index("time")
    parts = by_os[by_os["os_class"].isin([ANDROID_12, ANDROID_13])].groupby("time")
    summed = parts[["tokens", "foreground_tokens", "stale_dead", "stale_zombie", "token_adds"]]
    pd.testing.assert_frame_equal(
        summed.sum(), android[list(summed.sum().columns)], check_names=False
    )
    for label in ("ios", "web", ALL):
        pd.testing.assert_frame_equal(
            by_os[by_os["os_class"] == label].drop(columns="os_class").reset_index(drop=True),
            ts[ts["platform"] == label].drop(columns="platform").reset_index(drop=True),
        )
    sends, by_class = result.sends, result.sends_by_os
    counts = [c for c in sends.columns if c not in ("campaign", "kind", "time", "platform")]
    android_sends = sends[sends["platform"] == "android"].set_index("campaign")[counts]
    class_sends = by_class[by_class["os_class"].isin([ANDROID_12, ANDROID_13])]
    pd.testing.assert_frame_equal(
        class_sends.groupby("campaign")[counts].sum().sort_index(),
        android_sends.sort_index(),
        check_names=False,
    )
    funnel, by_step = result.funnel, result.funnel_by_os
    mine = by_step[by_step["os_class"].isin([ANDROID_12, ANDROID_13])]
    android_funnel = funnel[funnel["platform"] == "android"].set_index(["time", "step"])
    assert (
        mine.groupby(["time", "step"])["devices"].sum().sort_index()
        == android_funnel["devices"].sort_index()
    ).all()


def test_the_summary_has_figures_per_android_class() -> None:
    result = simulate(WorldParams().changed(population={"devices": 600}), days=20, seed=4)
    summary = result.summary()
    for os_class in (ANDROID_12, ANDROID_13):
        end = result.class_end(os_class)
        assert end is not None
        assert summary[f"installed_{os_class}"] == end.installed > 0
        assert summary[f"truly_reachable_{os_class}"] == end.truly
        assert summary[f"believed_reachable_{os_class}"] == end.believed
        assert summary[f"reach_rate_{os_class}"] == pytest.approx(end.truly / end.installed)
        assert summary[f"permission_share_{os_class}"] == pytest.approx(
            end.permission / end.launched
        )
    old, new = (summary[f"reach_rate_{c}"] for c in (ANDROID_12, ANDROID_13))
    assert summary["android_13_reach_cost_people"] == pytest.approx(
        (old - new) * summary[f"installed_{ANDROID_13}"]
    )
    assert summary["android_13_reach_cost_share"] == pytest.approx(1 - new / old)
    assert summary[f"permission_share_{ANDROID_12}"] > summary[f"permission_share_{ANDROID_13}"]


def test_without_android_13_the_cost_is_undefined() -> None:
    params = WorldParams().changed(
        population={"devices": 200, "platform_share": {"ios": 0.5, "android_legacy": 0.5}}
    )
    result = simulate(params, days=5, seed=1)
    summary = result.summary()
    assert summary[f"installed_{ANDROID_13}"] == 0
    assert summary[f"reach_rate_{ANDROID_13}"] is None
    assert summary["android_13_reach_cost_people"] is None
    assert result.android_13_cost() is None
