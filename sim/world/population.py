"""Building the population: households, people and their devices, from parameters and a stream.

A household-sharded run (:mod:`sim.sharding`) makes every draw of the whole population exactly as
an unsharded run does, but builds only the households whose number (``h0``, ``h1``, …) modulo the
shard count is the shard's index, with every device of their people. Shard membership therefore
depends only on the population draw, never on the shard count's own random streams, and a shard
pays the draws of the other shards' households (a few microseconds each) but not their records.
The draws are kept compactly (:class:`PopulationDraw`) and a process running several shards of
one run makes them once.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.world.device import Device, DeviceKind
from sim.world.params import PopulationParams

#: household sizes and their shares (modelling choice; mean 2.3 people)
HOUSEHOLD_SIZES = (1, 2, 3, 4)
HOUSEHOLD_SHARES = (0.3, 0.3, 0.2, 0.2)


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard ``index`` of ``count``: the households whose number modulo ``count`` is ``index``."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"shard count must be >= 1, got {self.count}")
        if not 0 <= self.index < self.count:
            raise ValueError(f"shard index must be in [0, {self.count}), got {self.index}")

    @property
    def sharded(self) -> bool:
        """True when the population is really split (more than one shard)."""
        return self.count > 1

    @property
    def prefix(self) -> str:
        """Prefix of ids created during the run (``"s1-"``), empty when not sharded."""
        return f"s{self.index}-" if self.sharded else ""

    def owns(self, household_number: int) -> bool:
        """True when household number ``household_number`` belongs to this shard."""
        return household_number % self.count == self.index


@dataclass(frozen=True, slots=True)
class Household:
    """People living together; they may share devices."""

    household_id: str
    people: tuple[str, ...]


def weighted_pick(weights: np.ndarray) -> Callable[[float], int]:
    """``rng.choice(len(weights), p=weights)`` as a function of the one uniform it draws.

    NumPy's ``Generator.choice`` with ``p`` draws one ``random()`` and searches it in the
    normalised cumulative weights (``side="right"``); doing the same with a precomputed list gives
    the same index for the same draw, without ``choice``'s checks on every call.
    """
    cdf = weights.cumsum()
    cdf /= cdf[-1]
    bounds = cdf.tolist()
    return lambda u: bisect_right(bounds, u)


@dataclass(frozen=True, slots=True)
class PopulationDraw:
    """Every draw of a whole population, kept compactly (about two bytes a device).

    Households are numbered ``h0``, ``h1``, … and people and devices ``p0``/``d0``, … in order, so
    the sizes alone place everyone; a shard builds its households from here (:func:`build_part`).
    """

    #: people in each household, in household order
    sizes: array[int]
    #: each device's kind, as an index into ``kinds``
    kind_codes: array[int]
    #: each device's browser, as an index into :data:`BROWSERS`
    browser_codes: array[int]
    #: shared device number → the places of its other sharers among the household's people
    #: other than the owner (ascending)
    sharers: dict[int, tuple[int, ...]]
    kinds: tuple[DeviceKind, ...]
    #: the stream's state once every draw is made
    state_after: Mapping[str, Any]


#: a device's browser, by code: none (an app), Chrome, Safari
BROWSERS = ("", "chrome", "safari")


def draw_population(params: PopulationParams, rng: np.random.Generator) -> PopulationDraw:
    """Make every draw of the population of ``params`` from ``rng``, and keep them compactly.

    A device is shared (with other members of its owner's household) with a probability chosen so
    that the expected share of shared devices is ``shared_device_share``.
    """
    kinds = tuple(DeviceKind(k) for k in params.platform_share)
    pick_kind = weighted_pick(np.array(list(params.platform_share.values()), dtype=float))
    pick_size = weighted_pick(np.array(HOUSEHOLD_SHARES, dtype=float))
    multi = sum(s for n, s in zip(HOUSEHOLD_SIZES, HOUSEHOLD_SHARES, strict=True) if n > 1)
    # people in multi-person households, as a share of all people
    people_multi = sum(
        n * s for n, s in zip(HOUSEHOLD_SIZES, HOUSEHOLD_SHARES, strict=True) if n > 1
    ) / sum(n * s for n, s in zip(HOUSEHOLD_SIZES, HOUSEHOLD_SHARES, strict=True))
    share_given_multi = min(1.0, params.shared_device_share / people_multi) if multi else 0.0
    web_code = kinds.index(DeviceKind.WEB) if DeviceKind.WEB in kinds else -1
    safari_share = params.web_safari_share
    sizes, kind_codes, browser_codes = array("b"), array("b"), array("b")
    sharers: dict[int, tuple[int, ...]] = {}
    known: dict[tuple[int, ...], tuple[int, ...]] = {}
    random = rng.random
    drawn = 0  # devices drawn
    while drawn < params.devices:
        # (the same uniform as rng.choice(HOUSEHOLD_SIZES, p=HOUSEHOLD_SHARES) draws)
        size = HOUSEHOLD_SIZES[pick_size(float(random()))]
        size = min(size, params.devices - drawn)
        sizes.append(size)
        for i in range(size):
            code = pick_kind(float(random()))
            kind_codes.append(code)
            if size > 1 and float(random()) < share_given_multi:
                count = min(size - 1, params.sharers_per_shared_device - 1)
                picked = rng.choice(size - 1, size=count, replace=False)
                places = tuple(sorted(int(j) for j in picked))
                # a handful of distinct tuples exist: keep one of each (10M devices hold 1M)
                sharers[drawn + i] = known.setdefault(places, places)
            browser = 0
            if code == web_code:
                browser = 2 if float(random()) < safari_share else 1
            browser_codes.append(browser)
        drawn += size
    return PopulationDraw(sizes, kind_codes, browser_codes, sharers, kinds, rng.bit_generator.state)


def build_part(
    draw: PopulationDraw, shard: Shard | None = None
) -> tuple[list[Household], list[Device]]:
    """The households of ``shard`` (every household without one) and their devices, in order."""
    first = np.zeros(len(draw.sizes) + 1, dtype=np.int64)  # each household's first person
    np.cumsum(np.frombuffer(draw.sizes, dtype=np.int8), out=first[1:])
    starts = first.tolist()
    kinds, kind_codes, browser_codes, shared = (
        draw.kinds,
        draw.kind_codes,
        draw.browser_codes,
        draw.sharers,
    )
    index, step = (shard.index, shard.count) if shard is not None else (0, 1)
    households: list[Household] = []
    devices: list[Device] = []
    for number in range(index, len(draw.sizes), step):
        begin, end = starts[number], starts[number + 1]
        people = tuple(f"p{d}" for d in range(begin, end))
        households.append(Household(f"h{number}", people))
        for d in range(begin, end):
            owner = people[d - begin]
            sharers: tuple[str, ...] = (owner,)
            picked = shared.get(d)
            if picked is not None:
                others = [p for p in people if p != owner]
                sharers = (owner, *(others[j] for j in picked))
            devices.append(
                Device(
                    f"d{d}",
                    kinds[kind_codes[d]],
                    owner,
                    sharers,
                    browser=BROWSERS[browser_codes[d]],
                )
            )
    return households, devices


#: the last population drawn for a shard in this process, and what it was drawn from
_last_draw: list[tuple[tuple[Any, ...], PopulationDraw]] = []


def _shared_draw(params: PopulationParams, rng: np.random.Generator) -> PopulationDraw:
    """The population's draws for a shard, made once per process for the shards of one run.

    Every shard of a run draws the same population from the same stream; a worker taking shard
    after shard keeps the last draw (about two bytes a device) and hands it to the next shard of
    the same run, leaving ``rng`` where the draws would have left it.
    """
    key = (
        params.devices,
        tuple(params.platform_share.items()),
        params.web_safari_share,
        params.shared_device_share,
        params.sharers_per_shared_device,
        repr(rng.bit_generator.state),
    )
    if _last_draw and _last_draw[0][0] == key:
        draw = _last_draw[0][1]
        rng.bit_generator.state = draw.state_after
        return draw
    _last_draw.clear()  # the previous run's draw goes before this one is made
    draw = draw_population(params, rng)
    _last_draw.append((key, draw))
    return draw


def build_population(
    params: PopulationParams, rng: np.random.Generator, shard: Shard | None = None
) -> tuple[list[Household], list[Device]]:
    """Draw households and exactly ``params.devices`` devices, one personal device per person.

    With ``shard``, every draw is made as without it, but only the shard's households and their
    devices are built: households ``shard.index``, ``shard.index + shard.count``, … of the whole
    population, with every device of their people (a device's owner and sharers live in one
    household). The draws of a sharded population are made once per process and run
    (:func:`_shared_draw`): a worker running several shards of one run draws it once.
    """
    if shard is not None and shard.sharded:
        return build_part(_shared_draw(params, rng), shard)
    return build_part(draw_population(params, rng), shard)
