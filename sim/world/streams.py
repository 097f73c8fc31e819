"""Named random streams derived from one seed (common random numbers).

Each stochastic source of the world draws from its own numpy Generator, derived from the run's seed
and the source's name with :class:`numpy.random.SeedSequence`. Adding a source, or changing how
much one source draws (say, a registry policy that sends more probes), never shifts another
source's draws, so two policies run on the same seed see the same people, devices and behaviour.
"""

from __future__ import annotations

import zlib

import numpy as np

#: Every stream the world uses; a typo in a name is a bug, so unknown names are refused.
STREAM_NAMES = (
    "population",  # households, devices, platforms, sharing
    "behaviour",  # per-install rates drawn at install (sessions, dormancy, uninstall time)
    "sessions",  # session arrival times
    "permission",  # prompt answers and OS-settings toggles
    "lifecycle",  # uninstalls, reinstalls, updates, restores, OS reinstalls, rotations
    "users",  # logins, logouts, user switches on shared devices
    "lag",  # provider report lag after an uninstall (APNs/FCM)
    "provider",  # provider answers: transient errors per send
    "retry",  # back-off jitter
)


class Streams:
    """One numpy Generator per named stochastic source, all derived from ``seed``."""

    __slots__ = ("_generators", "seed")

    def __init__(self, seed: int) -> None:
        if seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed}")
        self.seed = seed
        self._generators: dict[str, np.random.Generator] = {}
        for name in STREAM_NAMES:
            key = zlib.crc32(name.encode("ascii"))
            sequence = np.random.SeedSequence(entropy=seed, spawn_key=(key,))
            self._generators[name] = np.random.Generator(np.random.PCG64(sequence))

    def __getitem__(self, name: str) -> np.random.Generator:
        try:
            return self._generators[name]
        except KeyError:
            raise KeyError(
                f"unknown random stream {name!r}; known: {', '.join(STREAM_NAMES)}"
            ) from None
