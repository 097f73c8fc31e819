"""What validation accepts, the world runs: boundary values of every numeric key build and run.

For every numeric key of a scenario, values at and just inside and outside each bound (and 0, the
smallest float, 1/24, 0.5, 1, ...) are validated; every value the schema accepts must build the
world (provider and registry configurations included) and run it for up to a day with 20 devices.
A constraint a world part enforces that the schema lacks (``fcm_inactivity_days = 0`` once passed
validation and then crashed in ``ProviderConfig``) fails here.
"""

from __future__ import annotations

import math
from typing import Any, get_args, get_origin

import pytest
from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.scenario import Scenario, ScenarioError
from sim.scenario.load import scenario_from_dict
from sim.scenario.schema import Measurement
from sim.simulation import Simulation
from sim.world.params import MAX_SHARERS
from sim.world.population import HOUSEHOLD_SIZES
from sim.world.world import World

DEVICES = 20
#: arrivals a run may create at most (a bound at a million a day must still run quickly)
ARRIVALS = 100


def _constraints(info: FieldInfo) -> list[Any]:
    """The constraints of a key; those of its items for a [low, high] window."""
    if get_origin(info.annotation) is tuple:
        item = get_args(info.annotation)[0]  # Annotated[float, FieldInfo(ge=..., le=...)]
        return [c for meta in get_args(item)[1:] for c in getattr(meta, "metadata", [meta])]
    return list(info.metadata)


def _bounds(info: FieldInfo) -> tuple[float | None, float | None]:
    low = high = None
    for item in _constraints(info):
        if isinstance(item, Ge | Gt):
            low = item.ge if isinstance(item, Ge) else item.gt
        if isinstance(item, Le | Lt):
            high = item.le if isinstance(item, Le) else item.lt
    return (
        float(low) if low is not None else None,  # type: ignore[arg-type]
        float(high) if high is not None else None,  # type: ignore[arg-type]
    )


def boundary_values(info: FieldInfo, whole: bool) -> list[float]:
    """0, tiny and everyday values, and each bound with its neighbours on both sides."""
    values = [0.0, 5e-324, 1e-300, 1 / 24, 0.5, 1.0, 2.0, 24.0]
    for bound in _bounds(info):
        if bound is not None:
            if whole:
                values += [bound, bound - 1, bound + 1]
            else:
                values += [bound, math.nextafter(bound, -math.inf), math.nextafter(bound, math.inf)]
    return values


def numeric_keys() -> list[tuple[str, str, FieldInfo]]:
    keys = []
    for section, field in Scenario.model_fields.items():
        model = field.annotation
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        for key, info in model.model_fields.items():
            text = str(info.annotation)
            numeric = any(kind in text for kind in ("int", "float", "tuple"))
            if numeric and "bool" not in text and "dict" not in text:
                keys.append((section, key, info))
    return keys


KEYS = numeric_keys()


def run_briefly(scenario: Scenario, section: str, key: str) -> None:
    world = scenario.world()
    if section == "population" and key == "devices":
        World(world, seed=0)  # the world's parts, without drawing a huge population
        return
    measurement = scenario.measurement
    simulation = Simulation(
        world, seed=measurement.seed, sample_every_days=measurement.sample_every_days
    )
    arrivals = world.population.arrivals_per_day
    days = min(1.0, measurement.days, ARRIVALS / arrivals if arrivals > 0 else 1.0)
    simulation.run(days)
    assert simulation.result().days == pytest.approx(days)


def test_every_numeric_key_is_probed():
    names = {f"{section}.{key}" for section, key, _ in KEYS}
    assert {
        "population.devices",
        "population.arrivals_per_day",
        "providers.fcm_inactivity_days",
        "providers.web_inactivity_days",
        "providers.apns_lag_days",
        "policy.prune_after_days",
        "campaigns.sdk_flush_delay_days",
        "measurement.sample_every_days",
        "measurement.seed",
    } <= names
    assert len(names) >= 45


@pytest.mark.parametrize(("section", "key", "info"), KEYS, ids=[f"{s}.{k}" for s, k, _ in KEYS])
def test_every_accepted_boundary_value_builds_and_runs(section: str, key: str, info: FieldInfo):
    accepted = refused = 0
    is_int = "int" in str(info.annotation) and "float" not in str(info.annotation)
    for number in boundary_values(info, is_int):
        value: Any = number
        if is_int:
            if not number.is_integer():
                continue
            value = int(number)
        if "tuple" in str(info.annotation):
            value = [value, value]
        document: dict[str, Any] = {
            "scenario": {"name": "bounds"},
            "population": {"devices": DEVICES},
            "measurement": {"days": 1.0},
        }
        document.setdefault(section, {})[key] = value
        if section == "measurement" and key == "warm_up_days":
            document["measurement"]["days"] = 36_500.0
        try:
            scenario = scenario_from_dict(document, "bounds.toml")
        except ScenarioError as error:
            refused += 1
            where = error.problems[0][0]
            assert where == section or where.startswith(f"{section}."), error
            continue
        accepted += 1
        run_briefly(scenario, section, key)
    assert accepted and refused, (accepted, refused)


def test_no_value_is_refused_by_a_world_part_once_validated():
    """The known cases: each used to pass validation and crash when the world was built or run."""
    for text in (
        "providers.fcm_inactivity_days=0",
        "providers.web_inactivity_days=0",
        "behaviour.uninstall_by_day30_share=1.0",
        "policy.prune_after_days=0",
    ):
        path, _, value = text.partition("=")
        section, key = path.split(".")
        with pytest.raises(ScenarioError) as caught:
            scenario_from_dict(
                {"scenario": {"name": "x"}, section: {key: float(value)}}, "known.toml"
            )
        assert caught.value.problems[0][0] == path


def test_all_uninstalled_by_day_one_still_runs():
    """A share of 1 at day 30 is fine when it is 1 at day 1 too (everyone leaves on day 0–1)."""
    scenario = scenario_from_dict(
        {
            "scenario": {"name": "x"},
            "population": {"devices": DEVICES},
            "behaviour": {"uninstall_by_day1_share": 1.0, "uninstall_by_day30_share": 1.0},
        },
        "gone.toml",
    )
    Simulation(scenario.world(), seed=0).run(2.0)


def test_the_sharers_bound_is_the_largest_household():
    assert max(HOUSEHOLD_SIZES) == MAX_SHARERS


def test_measurement_keys_are_probed_too():
    assert {key for section, key, _ in KEYS if section == "measurement"} == set(
        Measurement.model_fields
    )
