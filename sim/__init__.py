"""pushsim: a discrete-event simulator of push-notification registration.

The import package is layered as docs/model.md §6 describes: ``sim.registry`` and ``sim.providers``
are pure domain code (no SimPy, no randomness of their own, no I/O, ``now`` passed in); everything
else drives or observes them.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pushsim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__"]
