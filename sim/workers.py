"""Local worker processes: the cores this process may use, and pools whose workers never outlive it.

Pools start workers with ``forkserver`` (``spawn`` where there is none): workers never inherit the
caller's state (open files, threads, a half-built world), and the server imports the modules
named in ``preload`` once, so workers forked from it start without importing pushsim again.
Used by the experiment executors (:mod:`sim.experiment.execute`) and by household sharding
(:mod:`sim.sharding`).

No orphans. A worker exits as soon as the process that started the pool is gone, however it
went (even ``kill -9``): a thread in the worker waits on the parent's sentinel pipe
(:func:`multiprocessing.parent_process`), whose far end only that parent holds. This matters
because nothing else ends them: the forkserver lives until every process holding its liveness
pipe has exited, and each worker holds it; the resource tracker lives until the forkserver and
the workers have exited. So once the workers are gone, the forkserver and the tracker follow,
and nothing keeps the parent's stderr open (``pushsim … 2>&1 | tee log`` ends). A parent-death
signal (``prctl(PR_SET_PDEATHSIG)``) would not do: a worker's parent is the forkserver, which
outlives the caller for as long as the workers live.

Workers ignore Ctrl-C (the terminal sends it to every process of the foreground group), and so
does the forkserver from its first import on (:mod:`sim.server_start`): the caller decides. A
pool left with work unfinished (an interruption, ``kill``, an error) is stopped at once by
:func:`stop_pool`, its workers terminated rather than waited for (a run can take minutes);
workers starting when Ctrl-C comes are let start first (:func:`submit_all`).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TypeVar

from sim.interruption import deferred

Item = TypeVar("Item")
Result = TypeVar("Result")

#: the exit code of a worker whose parent died
EXIT_ORPHANED = 1
#: the module the forkserver imports first (see :mod:`sim.server_start`)
SERVER_START = "sim.server_start"


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
        context.set_forkserver_preload([SERVER_START, *preload])
        return context
    return multiprocessing.get_context("spawn")


def prepare_worker() -> None:
    """The initializer of every pool worker: ignore Ctrl-C, and exit when the parent dies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is None:  # pragma: no cover - called in a main process (tests)
        return
    threading.Thread(
        target=_exit_after, args=(parent,), name="pushsim-parent-watch", daemon=True
    ).start()


def _exit_after(parent: multiprocessing.process.BaseProcess) -> None:
    parent.join()  # returns once the parent's end of the sentinel pipe is closed: it is gone
    os._exit(EXIT_ORPHANED)


def start_pool(workers: int, preload: Sequence[str] = ()) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes (see :func:`pool_context`) that never outlive this one."""
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=pool_context(preload), initializer=prepare_worker
    )


def submit_all(
    pool: ProcessPoolExecutor, function: Callable[[Item], Result], items: Iterable[Item]
) -> list[Future[Result]]:
    """Submit ``function(item)`` for every item, in order; the pool starts its workers now.

    Ctrl-C or SIGTERM while the workers start takes effect once they have started: a worker
    stopped in the middle of its start is not yet the pool's to stop, and prints a traceback.
    """
    with deferred():
        return [pool.submit(function, item) for item in items]


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop ``pool`` now: cancel the work not started, terminate the workers, release the pool.

    Returns once the workers have exited; work in progress is lost (its futures fail).
    """
    # the workers are only reachable through a private attribute before Python 3.14
    # (ProcessPoolExecutor.terminate_workers); it has had this name and meaning since 3.2
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        with contextlib.suppress(ProcessLookupError, ValueError):  # ended, or closed
            process.terminate()
    # the pool's manager thread sees the workers die, fails the unfinished futures and joins
    # the workers; this waits for that thread
    pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def worker_pool(workers: int, preload: Sequence[str] = ()) -> Iterator[ProcessPoolExecutor]:
    """:func:`start_pool` as a context: shut down after the block, stopped at once if it fails.

    When the block ends with an exception (Ctrl-C, SIGTERM, an error) the workers are
    terminated rather than waited for; otherwise the pool shuts down normally.
    """
    pool = start_pool(workers, preload)
    try:
        yield pool
    except BaseException:
        stop_pool(pool)
        raise
    pool.shutdown(wait=True)
