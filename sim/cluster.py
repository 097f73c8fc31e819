"""A Dask ``distributed`` cluster to run on: a scheduler at an address, or a LocalCluster here.

Used by the experiment executor (:class:`sim.experiment.execute.DaskExecutor`: the runs of an
experiment) and by household sharding (:func:`sim.sharding.simulate_sharded`: the shards of one
run). :func:`dask_client` connects (``"tcp://host:8786"``) or starts a ``LocalCluster`` of worker
processes, one thread each (``"local"``), and closes everything when its block ends, however it
ends (Ctrl-C, SIGTERM, an error). Dask is the optional ``pushsim[distributed]`` extra: without it,
:class:`MissingDaskError`. Remote workers need the same pushsim installed; results come back to
the caller, which alone writes files.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import Any

from sim.interruption import deferred

#: the exit message when Dask is asked for but not installed
NO_DASK = "--dask needs Dask distributed: pip install 'pushsim[distributed]'"

#: the ``--dask`` value that starts a LocalCluster on this machine
LOCAL = "local"


class MissingDaskError(ImportError):
    """Dask distributed is not installed (install the ``pushsim[distributed]`` extra)."""

    def __init__(self) -> None:
        super().__init__(NO_DASK)


def import_distributed() -> Any:
    """The ``distributed`` module, or :class:`MissingDaskError`."""
    try:
        return importlib.import_module("distributed")
    except ImportError:
        raise MissingDaskError() from None


def is_remote(address: str) -> bool:
    """True for a scheduler address, False for ``"local"`` (a LocalCluster on this machine)."""
    return address != LOCAL


def describe(address: str, workers: int) -> str:
    """Where :func:`dask_client` runs work, for messages.

    >>> describe("local", 2)
    'Dask LocalCluster of 2 worker processes'
    >>> describe("tcp://10.0.0.5:8786", 2)
    'Dask cluster at tcp://10.0.0.5:8786'
    """
    if is_remote(address):
        return f"Dask cluster at {address}"
    return f"Dask LocalCluster of {workers} worker process{'es' if workers != 1 else ''}"


@contextlib.contextmanager
def dask_client(address: str, workers: int) -> Iterator[Any]:
    """A ``distributed.Client`` to ``address``, or to a LocalCluster of ``workers`` processes.

    The client (and the LocalCluster, if started here) is closed when the block ends, however it
    ends. The caller cancels its own unfinished futures first (closing the client abandons them
    anyway). A remote scheduler that does not answer within 10 s raises ``OSError`` (or
    ``TimeoutError``).
    """
    distributed = import_distributed()
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    with contextlib.ExitStack() as stack:
        if is_remote(address):
            client = distributed.Client(address, timeout="10s")
            stack.callback(client.close)
        else:
            # a cluster stopped in the middle of its start cannot be closed (and complains at
            # exit): Ctrl-C or SIGTERM take effect once it has started, and close it
            with deferred():
                cluster = distributed.LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=40,  # logging.ERROR
                )
                stack.callback(cluster.close)
                client = distributed.Client(cluster)
                stack.callback(client.close)
        yield client
