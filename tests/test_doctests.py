"""Every ``>>>`` example in ``sim/`` runs and shows what it says (examples never run go stale)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import sim

#: modules that run something on import: the entry points, ``python -m PACKAGE``
ENTRY_POINT = "__main__"
#: the optional extras' packages: a module that needs one is skipped only where it is missing
OPTIONAL = {"httpx", "starlette", "uvicorn", "distributed", "dask"}
MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(sim.__path__, "sim.")
    if info.name.rpartition(".")[2] != ENTRY_POINT
)


def test_the_walk_finds_the_modules_with_examples() -> None:
    assert {"sim.simulation", "sim.world.params", "sim.metrics.survival"} <= set(MODULES)
    assert not [name for name in MODULES if name.endswith(".__main__") or name == "__main__"]


@pytest.mark.parametrize("name", MODULES)
def test_the_examples_of_a_module_pass(name: str) -> None:
    try:
        module = importlib.import_module(name)
    except ImportError as error:
        if error.name not in OPTIONAL:
            raise
        pytest.skip(f"{name} needs the optional {error.name}")  # `make test` installs them all
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed"
