"""Choosing the registration model a world runs against (docs/model.md §8): load, check, guard.

``[registry] model`` in a scenario names it: ``"reference"`` (the rules R1–R14),
``"subscriptions"`` (the subscription-per-device model), ``"http"`` (a registry served over the
HTTP protocol), or a factory of the user's own, ``"package.module:factory"`` or
``"path/to/file.py:factory"``. :func:`~sim.models.choice.build_registry` is the one place that
builds a registry for a world.
"""

from sim.models.choice import (
    BUILT_IN,
    ModelError,
    RegistryFactory,
    build_registry,
    check_model,
    load_factory,
)
from sim.models.conformity import problems
from sim.models.guard import GuardedRegistry, RegistryFailure

__all__ = [
    "BUILT_IN",
    "GuardedRegistry",
    "ModelError",
    "RegistryFactory",
    "RegistryFailure",
    "build_registry",
    "check_model",
    "load_factory",
    "problems",
]
