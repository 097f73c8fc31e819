"""The composition root of registries: from ``[registry] model`` to a registry a world can drive.

A model is named by a string:

- ``"reference"``: :class:`sim.registry.Registry`, the rules R1–R14;
- ``"subscriptions"``: :class:`sim.registry.subscriptions.SubscriptionRegistry`, one subscription
  per (device, app) install, OneSignal's user model;
- ``"http"``: a registry behind the HTTP protocol (:mod:`sim.remote`, the ``pushsim[http]`` extra);
  its options name the service (``url``, ``timeout``);
- ``"package.module:factory"`` (importable, the current folder included) or
  ``"path/to/file.py:factory"`` (a file, relative to the current folder): a callable of the user's.

Every factory is called as ``factory(policy, **options)``: ``policy`` is the world's
:class:`~sim.registry.RegistryPolicy` (the ``[policy]`` switches; a model ignores those it has no
use for), ``options`` the ``[registry.options]`` table. This module is the one place outside
:mod:`sim.registry` that names the concrete reference class (a test over imports keeps it so).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from sim.models.conformity import problems
from sim.models.guard import GuardedRegistry, RegistryFailure
from sim.registry.policy import RegistryPolicy
from sim.registry.protocol import RegistryProtocol

#: A callable that builds a registry: ``factory(policy, **options)``.
RegistryFactory = Callable[..., RegistryProtocol]

#: The models that ship with pushsim, by name, with what each is.
BUILT_IN: dict[str, str] = {
    "reference": "the reference rules R1-R14 (sim.registry.Registry)",
    "subscriptions": "one subscription per install, OneSignal's user model "
    "(sim.registry.subscriptions)",
    "http": "a registry served over pushsim's HTTP protocol (options: url, timeout)",
}

_ALLOWED = (
    '"reference", "subscriptions", "http", "package.module:factory" or "path/to/file.py:factory"'
)

#: modules loaded from a file path, by absolute path (each file is executed once per process)
_FILE_MODULES: dict[Path, ModuleType] = {}


class ModelError(ValueError):
    """A registry model that cannot be loaded, built, or does not satisfy the protocol."""


def _reference(policy: RegistryPolicy, **options: Any) -> RegistryProtocol:
    from sim.registry.registry import Registry  # the composition root's one use of the class

    if options:
        raise TypeError(f"the reference registry takes no options, got {sorted(options)}")
    return Registry(policy)


def _subscriptions(policy: RegistryPolicy, **options: Any) -> RegistryProtocol:
    from sim.registry.subscriptions import SubscriptionRegistry

    return SubscriptionRegistry(policy, **options)


def _http(policy: RegistryPolicy, **options: Any) -> RegistryProtocol:
    try:
        from sim.remote.client import HttpRegistry
    except ImportError as error:
        raise ModelError(
            f'model "http" needs the http extra ({error.name} is missing): '
            "pip install 'pushsim[http]'"
        ) from None
    return HttpRegistry(policy, **options)


_BUILDERS: dict[str, RegistryFactory] = {
    "reference": _reference,
    "subscriptions": _subscriptions,
    "http": _http,
}


def _module_from_file(path_text: str) -> ModuleType:
    path = Path(path_text).expanduser().resolve()
    loaded = _FILE_MODULES.get(path)
    if loaded is not None:
        return loaded
    if not path.is_file():
        raise ModelError(f"model file {path_text!r} not found (looked for {path})")
    name = f"pushsim_model_{len(_FILE_MODULES)}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ModelError(f"model file {path_text!r} cannot be loaded as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[name]
        raise ModelError(
            f"model file {path_text!r} raised {type(error).__name__} on import: {error}"
        ) from None
    _FILE_MODULES[path] = module
    return module


def _module(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        here = os.getcwd()
        if error.name is None or not name.startswith(error.name) or here in sys.path:
            raise ModelError(f"model module {name!r} cannot be imported: {error}") from None
        sys.path.insert(0, here)  # as `python -m` would: the current folder's modules
        return _module(name)
    except Exception as error:
        raise ModelError(
            f"model module {name!r} raised {type(error).__name__} on import: {error}"
        ) from None


def load_factory(model: str) -> RegistryFactory:
    """The factory ``model`` names; :class:`ModelError` says what is wrong if none."""
    builder = _BUILDERS.get(model)
    if builder is not None:
        return builder
    where, colon, name = model.rpartition(":")
    if not colon or not where or not name.isidentifier():
        raise ModelError(f"unknown registry model {model!r}; allowed: {_ALLOWED}")
    module = _module_from_file(where) if where.endswith(".py") else _module(where)
    factory = getattr(module, name, None)
    if factory is None:
        raise ModelError(f"model {model!r}: {where} has no attribute {name!r}")
    if not callable(factory):
        raise ModelError(f"model {model!r}: {name} is a {type(factory).__name__}, not callable")
    return factory  # type: ignore[no-any-return]


def _construct(model: str, policy: RegistryPolicy, options: Mapping[str, Any]) -> object:
    factory = load_factory(model)
    try:
        return factory(policy, **options)
    except (ModelError, RegistryFailure):  # RegistryFailure: a service that did not answer
        raise
    except Exception as error:
        given = f" with options {dict(options)}" if options else ""
        raise ModelError(
            f"model {model!r}: the factory raised {type(error).__name__}{given}: {error}"
        ) from None


def check_model(model: str, policy: RegistryPolicy, options: Mapping[str, Any]) -> None:
    """Build ``model`` once and check it against the protocol; raise :class:`ModelError` if not.

    Run before a simulation starts, so that a model that cannot run is refused with every
    missing or mistyped member named, and nothing is written.
    """
    registry = _construct(model, policy, options)
    found = problems(registry)
    if found:
        listed = "\n".join(f"  - {problem}" for problem in found)
        raise ModelError(
            f"model {model!r} does not implement the registry protocol "
            f"(sim.registry.protocol.RegistryProtocol):\n{listed}"
        )
    close = getattr(registry, "close", None)
    if callable(close):
        close()


def build_registry(
    model: str, policy: RegistryPolicy, options: Mapping[str, Any] | None = None
) -> RegistryProtocol:
    """The registry a world runs against.

    A user's model is wrapped in :class:`~sim.models.guard.GuardedRegistry`, so that an exception
    inside it ends the run naming the operation, its arguments and the scenario time; the models
    that ship with pushsim are used as they are (the reference path pays nothing).
    """
    registry = _construct(model, policy, options or {})
    if model in _BUILDERS:
        return registry  # type: ignore[return-value]
    found = problems(registry)
    if found:
        raise ModelError(f"model {model!r} does not implement the registry protocol: {found[0]}")
    return GuardedRegistry(registry, model)  # type: ignore[arg-type]
