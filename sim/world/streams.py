"""Named random streams derived from one seed (common random numbers), optionally per shard.

Each stochastic source of the world draws from its own numpy Generator, derived from the run's seed
and the source's name with :class:`numpy.random.SeedSequence`. Adding a source, or changing how
much one source draws (say, a registry policy that sends more probes), never shifts another
source's draws, so two policies run on the same seed see the same people, devices and behaviour.

A shard of a household-sharded run (:mod:`sim.sharding`) has streams of its own, derived from
(seed, shard index, name): spawn key ``(name, SHARD_KEY, index)`` instead of ``(name,)``. The
unsharded streams (``shard=None``) are exactly those of a run without sharding.
"""

from __future__ import annotations

import zlib

import numpy as np

#: Every stream the world uses; a typo in a name is a bug, so unknown names are refused.
STREAM_NAMES = (
    "population",  # households, devices, platforms, sharing; then arrivals of new people
    "behaviour",  # per-install rates drawn at install (sessions, dormancy, uninstall time)
    "sessions",  # session arrival times
    "permission",  # prompt answers and OS-settings toggles
    "lifecycle",  # uninstalls, reinstalls, updates, restores, OS reinstalls, rotations
    "users",  # logins, logouts, user switches on shared devices
    "lag",  # provider report lag after an uninstall (APNs/FCM)
    "provider",  # provider answers: transient errors per send
    "retry",  # back-off jitter
    "campaigns",  # times of a Poisson campaign schedule (unsharded: every shard sends alike)
    "lifetime",  # a new token's silent death (web subscriptions), drawn when it is issued
)

#: The spawn-key word that marks a shard's streams (so they cannot coincide with unsharded ones).
SHARD_KEY = zlib.crc32(b"shard")


def stream(seed: int, name: str, shard: int | None = None) -> np.random.Generator:
    """The generator of stream ``name`` for ``seed`` (and shard index ``shard``, if sharded)."""
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    if name not in STREAM_NAMES:
        raise KeyError(f"unknown random stream {name!r}; known: {', '.join(STREAM_NAMES)}")
    if shard is not None and shard < 0:
        raise ValueError(f"shard index must be >= 0, got {shard}")
    key: tuple[int, ...] = (zlib.crc32(name.encode("ascii")),)
    if shard is not None:
        key += (SHARD_KEY, shard)
    sequence = np.random.SeedSequence(entropy=seed, spawn_key=key)
    return np.random.Generator(np.random.PCG64(sequence))


class Streams:
    """One numpy Generator per named stochastic source, derived from ``seed`` (and ``shard``)."""

    __slots__ = ("_generators", "seed", "shard")

    def __init__(self, seed: int, shard: int | None = None) -> None:
        self.seed = seed
        self.shard = shard
        self._generators: dict[str, np.random.Generator] = {
            name: stream(seed, name, shard) for name in STREAM_NAMES
        }

    def __getitem__(self, name: str) -> np.random.Generator:
        try:
            return self._generators[name]
        except KeyError:
            raise KeyError(
                f"unknown random stream {name!r}; known: {', '.join(STREAM_NAMES)}"
            ) from None
