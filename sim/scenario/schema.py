"""The scenario file schema: a world (population … policy), a name, and how to measure it.

A scenario file is TOML with the sections of :class:`~sim.world.params.WorldParams` plus
``[scenario]`` (name, description) and ``[measurement]`` (duration, sampling, warm-up, seed,
replications). Every key has a default except ``scenario.name``; unknown keys are errors.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.world.params import WorldParams


class ScenarioMeta(BaseModel):
    """What the scenario is called and what question it answers."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$", description="short id")
    description: str = Field("", description="the question the scenario answers")


class Measurement(BaseModel):
    """How long to run and how to measure."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    days: float = Field(365.0, gt=0, allow_inf_nan=False, description="simulated days")
    sample_every_days: float = Field(
        1.0, gt=0, allow_inf_nan=False, description="time-series sampling interval"
    )
    warm_up_days: float = Field(
        0.0, ge=0, allow_inf_nan=False, description="excluded from every figure"
    )
    seed: int = Field(0, ge=0, description="base random seed")
    replications: int = Field(1, ge=1, description="independent runs of the scenario")

    @model_validator(mode="after")
    def _warm_up_inside(self) -> Measurement:
        if self.warm_up_days >= self.days:
            raise ValueError(
                f"warm_up_days ({self.warm_up_days:g}) must be shorter than days ({self.days:g})"
            )
        return self


class Scenario(WorldParams):
    """A whole scenario file."""

    scenario: ScenarioMeta
    measurement: Measurement = Field(default_factory=Measurement)

    def world(self) -> WorldParams:
        """The world parameters alone."""
        return WorldParams.model_validate(
            self.model_dump(exclude={"scenario", "measurement"}), strict=False
        )

    def resolved(self) -> dict[str, Any]:
        """Every key with its value, defaults included (what the run really used)."""
        return self.model_dump(mode="json")

    def digest(self) -> str:
        """A short hash of the resolved scenario: equal hashes, equal scenarios."""
        canonical = json.dumps(self.resolved(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files, for editors."""
    schema = Scenario.model_json_schema()
    schema["title"] = "pushsim scenario"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
