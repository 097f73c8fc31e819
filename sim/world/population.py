"""Building the population: households, people and their devices, from parameters and a stream."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.world.device import Device, DeviceKind
from sim.world.params import PopulationParams

#: household sizes and their shares (modelling choice; mean 2.3 people)
HOUSEHOLD_SIZES = (1, 2, 3, 4)
HOUSEHOLD_SHARES = (0.3, 0.3, 0.2, 0.2)


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
