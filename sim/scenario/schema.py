"""The scenario file schema: a world (population … policy), a name, and how to measure it.

A scenario file is TOML with the sections of :class:`~sim.world.params.WorldParams` plus
``[scenario]`` (name, description), ``[measurement]`` (duration, sampling, warm-up, seed,
replications, household shards) and an optional ``[sweep]`` (keys to vary across runs). Every
key has a default except ``scenario.name``; unknown keys are errors.

``scenario.name`` becomes a folder name (``results/<name>``), so it must be one safe path segment:
no separators, not ``.`` or ``..``, not hidden, short enough for every suffix pushsim adds.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sim.scenario.errors import ScenarioError
from sim.scenario.validation import allowed_keys, key_path, problems
from sim.world.params import MAX_DAYS, WorldParams

#: The longest scenario name. The name is a folder name (``results/<name>``) to which pushsim adds
#: up to ~40 characters (``.<name>-replications.partial-xxxxxxxx`` while it writes, ``-sweep``,
#: ``-2``, ``.lock``...). Filesystems allow 255 bytes per name, and Windows 260 characters per
#: whole path: 100 (ASCII, so 100 bytes) leaves room for every suffix and for the folders above.
MAX_NAME_LENGTH = 100
#: What a scenario name is made of: letters, digits, ``_``, ``-``, ``.``; first a letter, a digit
#: or ``_`` (so never ``.``, ``..``, a hidden name or something that reads as an option).
NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"
#: Names Windows reserves for devices, with or without an extension (``nul``, ``con.x``).
_RESERVED_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"{port}{n}" for port in ("COM", "LPT") for n in range(1, 10)}
)
_NAME_CHARS = re.compile(r"[A-Za-z0-9_.-]")
_ALLOWED = "letters, digits, '_', '-' and '.'"


def _folder_name(name: str) -> str:
    """Check that the scenario name ``name`` is one safe folder name; say why not."""
    if name in (".", ".."):
        raise ValueError(
            f"{name!r} is not a folder name of its own (results/{name} is "
            f"{'results' if name == '.' else 'the folder above it'}): use {_ALLOWED}"
        )
    separators = sorted({c for c in name if c in "/\\"})
    if separators:
        shown = " or ".join(repr(c) for c in separators)
        raise ValueError(f"must be one folder name, without {shown}: use {_ALLOWED}")
    others = sorted({c for c in name if not _NAME_CHARS.fullmatch(c)})
    if others:
        shown = ", ".join(repr(c) for c in others[:5])
        raise ValueError(f"has {shown}: use only {_ALLOWED} (it names the results folder)")
    if name.startswith("."):
        raise ValueError(
            "must not start with '.': a hidden folder, and pushsim's staging folders start with '.'"
        )
    if name.startswith("-"):
        raise ValueError("must not start with '-': it would read as an option on a command line")
    if name.endswith("."):
        raise ValueError("must not end with '.': Windows drops it from folder names")
    if name.split(".")[0].upper() in _RESERVED_NAMES:
        raise ValueError(f"{name!r} is a device name on Windows, not a folder name")
    return name


class ScenarioMeta(BaseModel):
    """What the scenario is called and what question it answers."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: Annotated[str, AfterValidator(_folder_name)] = Field(
        min_length=1,
        max_length=MAX_NAME_LENGTH,
        json_schema_extra={"pattern": NAME_PATTERN},
        description="short id; the results folder's name (results/<name>): letters, digits, "
        "'_', '-' and '.', not starting with '.' or '-', at most 100 characters",
    )
    description: str = Field("", description="the question the scenario answers")


#: The finest sampling interval: a minute. A sample counts belief and truth, which change at
#: sessions, sends and provider answers, hours to days apart for one device; finer shows nothing.
MIN_SAMPLE_EVERY_DAYS = 1 / 1440
#: The largest seed: TOML integers are 64-bit, and the resolved scenario (scenario.resolved.toml)
#: and the results tables store the seed as one.
MAX_SEED = 2**63 - 1
#: The most replications: the confidence interval narrows as 1/√R, and at 10,000 it is 1 % of the
#: spread of one run; more describe nothing new.
MAX_REPLICATIONS = 10_000
#: The most points a sweep may have: each is at least one run (times the replications) and is
#: validated when the file is read; 10,000 runs is beyond any experiment pushsim is for.
MAX_SWEEP_POINTS = 10_000
#: The most household shards: one per worker process, and no machine or cluster pushsim drives has
#: a thousand; more only adds the fixed cost of each shard (each makes the whole population's
#: draws, about 2 µs a device, and returns its own result tables).
MAX_SHARDS = 1_000


class Measurement(BaseModel):
    """How long to run and how to measure."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    days: float = Field(
        365.0,
        gt=0,
        le=MAX_DAYS,
        allow_inf_nan=False,
        description="simulated days (at most a century, 36,500)",
    )
    # Not bounded by ``days``: a run shortened with --days keeps the file's interval, and an
    # interval longer than the run only means samples at the start and the end.
    sample_every_days: float = Field(
        1.0,
        ge=MIN_SAMPLE_EVERY_DAYS,
        le=MAX_DAYS,
        allow_inf_nan=False,
        description="time-series sampling interval (at least a minute, 1/1440)",
    )
    warm_up_days: float = Field(
        0.0,
        ge=0,
        le=MAX_DAYS,
        allow_inf_nan=False,
        description="excluded from every figure (shorter than days)",
    )
    seed: int = Field(
        0,
        ge=0,
        le=MAX_SEED,
        description="base random seed (a 64-bit TOML integer: at most 9223372036854775807)",
    )
    replications: int = Field(
        1,
        ge=1,
        le=MAX_REPLICATIONS,
        description="independent runs of the scenario (at most 10,000)",
    )
    shards: int = Field(
        1,
        ge=1,
        le=MAX_SHARDS,
        description="split the households into this many independent worlds, simulated on "
        "separate workers and merged (1: no split; other values give statistically equivalent, "
        "not equal, results; at most 1,000)",
    )

    @field_validator("warm_up_days")
    @classmethod
    def _warm_up_inside(cls, warm_up: float, info: ValidationInfo) -> float:
        days = info.data.get("days")
        if days is not None and warm_up >= days:
            raise ValueError(f"must be shorter than days ({days:g})")
        return warm_up


def _swept_key(path: str) -> str:
    """Check that the sweep key ``path`` (``"policy.uninstall_tracking"``) names a scenario key."""
    keys = path.split(".")
    if not all(keys):
        raise ValueError("expected a dotted key path such as policy.uninstall_tracking")
    if keys[0] == "sweep":
        raise ValueError("the sweep cannot vary its own keys")
    for depth, key in enumerate(keys):
        allowed = allowed_keys(Scenario, tuple(keys[:depth]))
        if not allowed:
            table = ".".join(keys[:depth])
            raise ValueError(f"{table} is a value, not a table: it has no key {key!r}")
        if key not in allowed:
            where = ".".join(keys[:depth]) or "the top level"
            raise ValueError(f"unknown key {key!r} in {where}; allowed keys: {', '.join(allowed)}")
    return path


class Sweep(BaseModel):
    """Keys to vary across runs: every combination (grid) or lists taken side by side (zip).

    ``values`` maps a quoted dotted key path to the list of values it takes, e.g.
    ``"policy.uninstall_tracking" = [false, true]``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    mode: Literal["grid", "zip"] = Field(
        "grid",
        description="grid: every combination (full factorial); zip: the i-th value of every list",
    )
    values: dict[Annotated[str, AfterValidator(_swept_key)], list[Any]] = Field(
        description='key path → values, e.g. "policy.uninstall_tracking" = [false, true]',
    )

    @model_validator(mode="after")
    def _lists(self) -> Sweep:
        if not self.values:
            example = '"policy.uninstall_tracking" = [false, true]'
            raise ValueError(f"values needs at least one key path, e.g. {example}")
        empty = [path for path, listed in self.values.items() if not listed]
        if empty:
            raise ValueError(f"every key needs at least one value; empty: {', '.join(empty)}")
        lengths = {path: len(listed) for path, listed in self.values.items()}
        if self.mode == "zip" and len(set(lengths.values())) > 1:
            given = ", ".join(f"{path}: {n}" for path, n in lengths.items())
            raise ValueError(f"zip mode needs lists of equal length, got {given}")
        count = math.prod(lengths.values()) if self.mode == "grid" else max(lengths.values())
        if count > MAX_SWEEP_POINTS:
            raise ValueError(
                f"{count:,} run points ({self.mode} mode); at most {MAX_SWEEP_POINTS:,}: every "
                "point is validated when the file is read and is at least one run"
            )
        return self

    def points(self) -> list[dict[str, Any]]:
        """The swept values of every run point, in order (the first key varies slowest)."""
        paths = list(self.values)
        lists = [self.values[path] for path in paths]
        rows = itertools.product(*lists) if self.mode == "grid" else zip(*lists, strict=True)
        return [dict(zip(paths, row, strict=True)) for row in rows]


def _set_path(document: dict[str, Any], path: str, value: Any) -> None:
    *tables, last = path.split(".")
    for key in tables:
        document = document.setdefault(key, {})
    document[last] = copy.deepcopy(value)


class Scenario(WorldParams):
    """A whole scenario file."""

    scenario: ScenarioMeta
    measurement: Measurement = Field(default_factory=Measurement)
    sweep: Sweep | None = Field(None, description="keys to vary across runs (pushsim sweep)")

    def world(self) -> WorldParams:
        """The world parameters alone."""
        return WorldParams.model_validate(
            self.model_dump(exclude={"scenario", "measurement", "sweep"}), strict=False
        )

    def with_values(self, values: Mapping[str, Any], source: str = "<scenario>") -> Scenario:
        """A copy of the scenario without its sweep, with the keys of ``values`` (path → value) set.

        A value the schema refuses raises :class:`ScenarioError` naming ``source``, the key path
        ``sweep.values."policy.x"`` and what is allowed there.
        """
        document = self.model_dump(mode="json", exclude={"sweep"})
        for path, value in values.items():
            _set_path(document, path, value)
        try:
            return Scenario.model_validate(document)
        except ValidationError as error:
            found: list[tuple[str, str]] = []
            for where, message in problems(Scenario, error):
                swept = [p for p in values if where == p or where.startswith((f"{p}.", f"{p}["))]
                if not swept:
                    point = ", ".join(f"{p} = {v!r}" for p, v in values.items())
                    found.append(("sweep.values", f"with {point}: {where}: {message}"))
                    continue
                inner = where[len(swept[0]) :].lstrip(".")
                label = key_path(("sweep", "values", swept[0]))
                found.append((label, f"{inner}: {message}" if inner else message))
            raise ScenarioError(source, found) from None

    def points(self, source: str = "<scenario>") -> list[tuple[dict[str, Any], Scenario]]:
        """Each run point of the sweep: (swept values, scenario); one point without a sweep.

        Every point is validated: a bad swept value raises one :class:`ScenarioError` listing
        each problem once.
        """
        if self.sweep is None:
            return [({}, self.with_values({}, source))]
        out: list[tuple[dict[str, Any], Scenario]] = []
        found: list[tuple[str, str]] = []
        for values in self.sweep.points():
            try:
                out.append((values, self.with_values(values, source)))
            except ScenarioError as error:
                found += [p for p in error.problems if p not in found]
        if found:
            order = [key_path(("sweep", "values", path)) for path in self.sweep.values]
            found.sort(key=lambda p: order.index(p[0]) if p[0] in order else len(order))
            raise ScenarioError(source, found)
        return out

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
    schema.setdefault("properties", {})["extends"] = {
        "type": "string",
        "description": "a scenario file to load first (relative to this file's folder, or a "
        "packaged scenario's name); this file's tables override it key by key",
    }
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
