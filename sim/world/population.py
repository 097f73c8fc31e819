"""Building the population: households, people and their devices, from parameters and a stream.

A household-sharded run (:mod:`sim.sharding`) draws the whole population exactly as an unsharded
run does, then keeps in each shard the households whose number (``h0``, ``h1``, …) modulo the shard
count is the shard's index, with every device of their people. Shard membership therefore depends
only on the population draw, never on the shard count's own random streams.
"""

from __future__ import annotations

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


def build_population(
    params: PopulationParams, rng: np.random.Generator
) -> tuple[list[Household], list[Device]]:
    """Draw households and exactly ``params.devices`` devices, one personal device per person.

    A device is shared (with other members of its owner's household) with a probability chosen so
    that the expected share of shared devices is ``shared_device_share``.
    """
    kinds = [DeviceKind(k) for k in params.platform_share]
    weights = np.array(list(params.platform_share.values()), dtype=float)
    multi = sum(s for n, s in zip(HOUSEHOLD_SIZES, HOUSEHOLD_SHARES, strict=True) if n > 1)
    # people in multi-person households, as a share of all people
    people_multi = sum(
        n * s for n, s in zip(HOUSEHOLD_SIZES, HOUSEHOLD_SHARES, strict=True) if n > 1
    ) / sum(n * s for n, s in zip(HOUSEHOLD_SIZES, HOUSEHOLD_SHARES, strict=True))
    share_given_multi = min(1.0, params.shared_device_share / people_multi) if multi else 0.0
    households: list[Household] = []
    devices: list[Device] = []
    person = 0
    while len(devices) < params.devices:
        size = int(rng.choice(HOUSEHOLD_SIZES, p=HOUSEHOLD_SHARES))
        size = min(size, params.devices - len(devices))
        people = tuple(f"p{person + i}" for i in range(size))
        person += size
        households.append(Household(f"h{len(households)}", people))
        for owner in people:
            kind = kinds[int(rng.choice(len(kinds), p=weights))]
            sharers: tuple[str, ...] = (owner,)
            if size > 1 and float(rng.random()) < share_given_multi:
                others = [p for p in people if p != owner]
                count = min(len(others), params.sharers_per_shared_device - 1)
                picked = rng.choice(len(others), size=count, replace=False)
                sharers = (owner, *(others[int(i)] for i in sorted(picked)))
            browser = ""
            if kind is DeviceKind.WEB:
                browser = "safari" if float(rng.random()) < params.web_safari_share else "chrome"
            devices.append(Device(f"d{len(devices)}", kind, owner, sharers, browser=browser))
    return households, devices


def shard_population(
    households: list[Household], devices: list[Device], shard: Shard
) -> tuple[list[Household], list[Device]]:
    """The households of ``shard`` and the devices of their people, in their original order.

    A device's owner and sharers live in one household, so every device lands in one shard.
    """
    kept = [household for number, household in enumerate(households) if shard.owns(number)]
    people = {person for household in kept for person in household.people}
    return kept, [device for device in devices if device.owner in people]
