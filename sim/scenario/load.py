"""Loading scenario files: TOML, then ``--set key.path=value`` overrides, then validation.

What ``pushsim validate`` accepts is what ``pushsim run`` runs: every constraint of the world
(the provider and registry configurations included) is in the schema, so a file that loads here
builds a world without error.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import ValidationError

from sim.scenario.errors import ScenarioError
from sim.scenario.library import SCENARIOS_DIR
from sim.scenario.schema import Scenario
from sim.scenario.validation import (
    MAX_NESTING,
    allowed_keys,
    nesting_problem,
    parse_toml,
    problems,
    read_text,
)


def parse_value(text: str) -> Any:
    """A ``--set`` value as TOML (``2000``, ``0.5``, ``true``, ``[1, 2]``), else a plain string."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def apply_override(raw: dict[str, Any], assignment: str, source: str) -> None:
    """Apply ``key.path=value`` to the raw document ``raw`` (before validation)."""
    path_text, sep, value_text = assignment.partition("=")
    keys = [k.strip() for k in path_text.split(".")]
    if not sep or not all(keys):
        raise ScenarioError(source, [("--set", f"expected key.path=value, got {assignment!r}")])
    table = raw
    for depth, key in enumerate(keys[:-1]):
        allowed = allowed_keys(Scenario, tuple(keys[:depth]))
        if key not in allowed:
            where = ".".join(keys[: depth + 1])
            raise ScenarioError(
                source, [(f"--set {where}", f"unknown key; allowed keys: {', '.join(allowed)}")]
            )
        nested = table.setdefault(key, {})
        if not isinstance(nested, dict):
            raise ScenarioError(source, [(f"--set {path_text}", f"{key} is not a table")])
        table = nested
    try:
        value = parse_value(value_text.strip())
    except RecursionError:
        raise ScenarioError(
            source,
            [(f"--set {path_text}", f"value nested too deeply (at most {MAX_NESTING} levels)")],
        ) from None
    table[keys[-1]] = value


def scenario_from_dict(raw: dict[str, Any], source: str, overrides: Sequence[str] = ()) -> Scenario:
    """Validate a raw document (after applying ``overrides``)."""
    for assignment in overrides:
        apply_override(raw, assignment, source)
    problem = nesting_problem(raw)  # also for documents built in Python, not read by parse_toml
    if problem is not None:
        raise ScenarioError(source, [problem])
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as error:
        raise ScenarioError(source, problems(Scenario, error)) from None
    if scenario.sweep is not None:
        scenario.points(source)  # every swept value is checked when the file is read
    return scenario


def parse_scenario(
    text: str, source: str = "<scenario>", overrides: Sequence[str] = ()
) -> Scenario:
    """Parse and validate scenario TOML ``text``; ``source`` names it in errors."""
    return scenario_from_dict(parse_toml(text, source), source, overrides)


def load_scenario(path: str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """Read, parse and validate the scenario file at ``path``."""
    return parse_scenario(read_text(path), str(path), overrides)


def is_story(path: str | Path) -> bool:
    """True when the TOML file at ``path`` is a story (has a ``[story]`` table)."""
    raw = parse_toml(read_text(path), str(path))
    return "story" in raw


def to_toml(scenario: Scenario) -> str:
    """The resolved scenario as TOML (every key, defaults included; None values omitted)."""

    def drop_none(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: drop_none(v) for k, v in value.items() if v is not None}
        return value

    return tomli_w.dumps(drop_none(scenario.resolved()))


def scenario_files(directory: str | Path = SCENARIOS_DIR) -> list[Path]:
    """The scenario files (``*.toml``, stories excluded) of ``directory``, sorted by name."""
    return sorted(Path(directory).glob("*.toml"))
