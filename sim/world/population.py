"""Building the population: households, people and their devices, from parameters and a stream.

A household-sharded run (:mod:`sim.sharding`) makes every draw of the whole population exactly as
an unsharded run does, but builds only the households whose number (``h0``, ``h1``, …) modulo the
shard count is the shard's index, with every device of their people. Shard membership therefore
depends only on the population draw, never on the shard count's own random streams, and a shard
pays the draws of the other shards' households (a few microseconds each) but not their records.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

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


def build_population(
    params: PopulationParams, rng: np.random.Generator, shard: Shard | None = None
) -> tuple[list[Household], list[Device]]:
    """Draw households and exactly ``params.devices`` devices, one personal device per person.

    A device is shared (with other members of its owner's household) with a probability chosen so
    that the expected share of shared devices is ``shared_device_share``. With ``shard``, every
    draw is made as without it, but only the shard's households and their devices are built:
    households ``shard.index``, ``shard.index + shard.count``, … of the whole population, with
    every device of their people (a device's owner and sharers live in one household).
    """
    kinds = [DeviceKind(k) for k in params.platform_share]
    pick_kind = weighted_pick(np.array(list(params.platform_share.values()), dtype=float))
    pick_size = weighted_pick(np.array(HOUSEHOLD_SHARES, dtype=float))
    multi = sum(s for n, s in zip(HOUSEHOLD_SIZES, HOUSEHOLD_SHARES, strict=True) if n > 1)
    # people in multi-person households, as a share of all people
    people_multi = sum(
        n * s for n, s in zip(HOUSEHOLD_SIZES, HOUSEHOLD_SHARES, strict=True) if n > 1
    ) / sum(n * s for n, s in zip(HOUSEHOLD_SIZES, HOUSEHOLD_SHARES, strict=True))
    share_given_multi = min(1.0, params.shared_device_share / people_multi) if multi else 0.0
    web, safari_share = DeviceKind.WEB, params.web_safari_share
    households: list[Household] = []
    devices: list[Device] = []
    drawn = number = 0  # devices and households drawn, kept or not
    while drawn < params.devices:
        # (the same uniform as rng.choice(HOUSEHOLD_SIZES, p=HOUSEHOLD_SHARES) draws)
        size = HOUSEHOLD_SIZES[pick_size(float(rng.random()))]
        size = min(size, params.devices - drawn)
        kept = shard is None or shard.owns(number)
        people = tuple(f"p{drawn + i}" for i in range(size)) if kept else ()
        if kept:
            households.append(Household(f"h{number}", people))
        for i in range(size):
            kind = kinds[pick_kind(float(rng.random()))]
            shared = size > 1 and float(rng.random()) < share_given_multi
            picked = None
            if shared:
                count = min(size - 1, params.sharers_per_shared_device - 1)
                picked = rng.choice(size - 1, size=count, replace=False)
            browser = ""
            if kind is web:
                browser = "safari" if float(rng.random()) < safari_share else "chrome"
            if kept:
                owner = people[i]
                sharers: tuple[str, ...] = (owner,)
                if picked is not None:
                    others = [p for p in people if p != owner]
                    sharers = (owner, *(others[int(j)] for j in sorted(picked)))
                devices.append(Device(f"d{drawn + i}", kind, owner, sharers, browser=browser))
        drawn += size
        number += 1
    return households, devices
