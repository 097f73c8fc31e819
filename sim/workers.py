"""Local worker processes: the cores this process may use, and how pools start their workers.

Pools start workers with ``forkserver`` (``spawn`` where there is none): workers never inherit the
caller's state (open files, threads, a half-built world), and the server imports the modules
named in ``preload`` once, so workers forked from it start without importing pushsim again.
Used by the experiment executors (:mod:`sim.experiment.execute`) and by household sharding
(:mod:`sim.sharding`).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence


def available_cores() -> int:
    """The CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def pool_context(preload: Sequence[str] = ()) -> multiprocessing.context.BaseContext:
    """Forkserver (workers forked from a clean server that has imported ``preload``), or spawn.

    The preload list takes effect when the server starts, that is at the first pool of the
    process; later calls cannot change it (their workers then import what they need).
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(preload))
        return context
    return multiprocessing.get_context("spawn")
