"""Choosing a registry model: the seam over imports, loading, the protocol check, the guard."""

from __future__ import annotations

import ast
import pickle
from pathlib import Path

import pytest

from sim.models import GuardedRegistry, ModelError, RegistryFailure, build_registry, check_model
from sim.models import problems as protocol_problems
from sim.models.choice import load_factory
from sim.platforms import Platform
from sim.registry import Registry, RegistryPolicy
from sim.registry.protocol import MEMBERS, RegistryProtocol
from sim.world import World
from sim.world.params import WorldParams

SIM = Path(__file__).resolve().parents[2] / "sim"
#: the one module outside sim/registry allowed to name the reference class
COMPOSITION_ROOT = SIM / "models" / "choice.py"


def _imports_reference_class(path: Path) -> list[int]:
    """Lines of ``path`` that import the concrete class :class:`sim.registry.Registry`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module in (
            "sim.registry",
            "sim.registry.registry",
        ):
            names = {alias.name for alias in node.names}
            if "Registry" in names or "*" in names:
                found.append(node.lineno)
        elif isinstance(node, ast.Import):
            found += [node.lineno for a in node.names if a.name == "sim.registry.registry"]
    return found


def test_only_the_registry_package_and_the_composition_root_name_the_reference_class() -> None:
    outside = [
        f"{path.relative_to(SIM.parent)}:{line}"
        for path in sorted(SIM.rglob("*.py"))
        if SIM / "registry" not in path.parents and path != COMPOSITION_ROOT
        for line in _imports_reference_class(path)
    ]
    assert outside == []
    assert _imports_reference_class(COMPOSITION_ROOT), "the composition root builds the reference"


def test_the_seam_check_sees_every_form_of_import_of_the_class(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text(
        "from sim.registry import TokenEvent\n"  # not the class: allowed
        "from sim.registry import Registry, TokenEvent\n"
        "import sim.registry.registry\n"
        "def build():\n"
        "    from sim.registry.registry import Registry\n"
    )
    assert sorted(_imports_reference_class(module)) == [2, 3, 5]


def test_the_reference_registry_implements_the_protocol() -> None:
    registry = Registry()
    assert protocol_problems(registry) == []
    assert isinstance(registry, RegistryProtocol)


def test_a_world_builds_the_reference_by_default_and_unguarded() -> None:
    world = World(WorldParams().changed(population={"devices": 10}), seed=1)
    assert type(world.registry) is Registry


def test_a_world_takes_a_registry_model_by_name() -> None:
    params = WorldParams.model_validate(
        {"registry": {"model": "tests.models.registries:detach_on_logout"}}
    )
    world = World(params, seed=1)
    assert isinstance(world.registry, GuardedRegistry)
    assert world.registry.inner.policy.detach_on_logout  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("nonsense", "unknown registry model 'nonsense'"),
        ("no_such_module_anywhere:factory", "cannot be imported"),
        ("tests.models.registries:nowhere", "has no attribute 'nowhere'"),
        ("tests.models.registries:NOT_CALLABLE", "is a int, not callable"),
        ("missing_file.py:factory", "model file 'missing_file.py' not found"),
    ],
)
def test_a_model_that_cannot_be_loaded_is_named(model: str, message: str) -> None:
    with pytest.raises(ModelError, match=message.replace("(", r"\(")):
        load_factory(model)


def test_a_model_from_a_file_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mine.py").write_text(
        "from sim.registry import Registry\n\ndef build(policy):\n    return Registry(policy)\n"
    )
    monkeypatch.chdir(tmp_path)
    registry = build_registry("mine.py:build", RegistryPolicy())
    assert isinstance(registry, GuardedRegistry)
    assert protocol_problems(registry) == []


def test_every_missing_or_mistyped_member_is_named() -> None:
    with pytest.raises(ModelError) as caught:
        check_model("tests.models.registries:incomplete", RegistryPolicy(), {})
    message = str(caught.value)
    assert "change_user(self, now: float, device: str, app: str)" not in message  # bound method
    assert "change_user(now, device, app): cannot be called as change_user(0.0, device=…" in message
    assert "unexpected keyword argument 'user'" in message
    assert "tokens: is a list, not a method" in message
    missing = [m for m in MEMBERS if m not in ("add_app", "session_start", "change_user", "tokens")]
    for member in missing:
        assert f"  - {member}: missing" in message
    assert "  - add_app" not in message and "  - session_start" not in message


def test_options_a_factory_refuses_are_named() -> None:
    with pytest.raises(ModelError, match=r"'reference': the factory raised TypeError with options"):
        check_model("reference", RegistryPolicy(), {"colour": "blue"})


def test_an_exception_inside_a_users_registry_names_operation_arguments_and_time() -> None:
    registry = build_registry("tests.models.registries:raising", RegistryPolicy(), {"fail_at": 2})
    registry.add_app("app", [Platform.IOS])
    registry.change_user(1.0, device="d1", app="app", user="charlie")
    with pytest.raises(RegistryFailure) as caught:
        registry.change_user(2.5, device="d1", app="app", user="kim")
    failure = caught.value
    assert failure.operation == "change_user" and failure.time == 2.5
    assert str(failure) == (
        "registry model 'tests.models.registries:raising' raised KeyError at scenario day 2.5 "
        "in change_user(2.5, device='d1', app='app', user='kim'): 'no row for kim'"
    )
    again = pickle.loads(pickle.dumps(failure))  # a worker's failure reaches the parent whole
    assert str(again) == str(failure) and again.operation == "change_user" and again.time == 2.5


def test_an_unknown_profile_passes_the_guard_as_itself() -> None:
    from sim.registry import UnknownProfileError

    registry = build_registry("tests.models.registries:detach_on_logout", RegistryPolicy())
    with pytest.raises(UnknownProfileError):
        registry.profile("nobody")


def test_the_guard_has_the_optional_members_exactly_when_the_model_has_them() -> None:
    registry = build_registry("tests.models.registries:detach_on_logout", RegistryPolicy())
    assert getattr(registry, "flush", None) is None  # the reference batches nothing
    assert getattr(registry, "close", None) is None


def test_a_failing_read_names_the_latest_scenario_time() -> None:
    registry = build_registry("tests.models.registries:raising", RegistryPolicy(), {"fail_at": 9})
    registry.add_app("app", [Platform.IOS])
    registry.log_out(4.5, device="d1", app="app")
    with pytest.raises(RegistryFailure, match=r"UnknownAppError at scenario day 4\.5 in audience"):
        registry.audience("nope")  # a read: no time of its own
