"""Loading scenario files: TOML, then ``--set key.path=value`` overrides, then validation.

A scenario file may build on another: ``extends = "baseline.toml"`` at its top level loads the
named file first (a path relative to the extending file's folder, else a packaged scenario of
that name), then the extending file's keys override it table by table: tables merge key by key,
arrays and values replace. Chains are allowed (at most :data:`MAX_EXTENDS` files); a cycle is
refused with the chain (``a.toml → b.toml → a.toml``). The scenario that runs, its resolved
copy and its hash are the merged document; ``extends`` itself is not part of it.

What ``pushsim validate`` accepts is what ``pushsim run`` runs: every constraint of the world
(the provider and registry configurations included) is in the schema, so a file that loads here
builds a world without error.
"""

from __future__ import annotations

import contextlib
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import ValidationError

from sim.scenario.errors import ScenarioError
from sim.scenario.library import SCENARIOS_DIR, UnknownName, is_name, names, packaged_file
from sim.scenario.schema import Scenario
from sim.scenario.validation import (
    MAX_NESTING,
    allowed_keys,
    describe,
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
    if "extends" in raw:  # load_scenario merges it; text parsed alone has no folder to look in
        raise ScenarioError(
            source, [("extends", "only a scenario file read by load_scenario can extend another")]
        )
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


#: the longest chain of ``extends`` (the extending file included)
MAX_EXTENDS = 10
#: the longest ``extends`` value, in characters
_MAX_EXTENDS_LENGTH = 300


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``over``'s keys: tables merge key by key, arrays and values replace."""
    merged = dict(base)
    for key, value in over.items():
        below = merged.get(key)
        if isinstance(value, dict) and isinstance(below, dict):
            merged[key] = merge(below, value)
        else:
            merged[key] = value
    return merged


def _base_file(value: Any, file: Path, source: str) -> Path:
    """The file ``extends = value`` in ``file`` names (``source`` is reported)."""
    if not isinstance(value, str):
        got = describe(value)
        raise ScenarioError(source, [("extends", f"must be a file name in quotes (got {got})")])
    if not value.strip():
        raise ScenarioError(source, [("extends", "must not be empty")])
    if len(value) > _MAX_EXTENDS_LENGTH:
        raise ScenarioError(
            source,
            [("extends", f"must be at most {_MAX_EXTENDS_LENGTH} characters (got {len(value)})")],
        )
    candidate = file.parent / value
    with contextlib.suppress(OSError):  # a name too long for the file system: not a file
        if candidate.is_file():
            return candidate
    name = value.removesuffix(".toml")
    if is_name(name) and name not in (".", ".."):
        with contextlib.suppress(UnknownName):
            return packaged_file(name, "scenario")
    raise ScenarioError(
        source,
        [
            (
                "extends",
                f"no file {candidate} (a path is relative to this file's folder) and no "
                f"packaged scenario named {describe(name)} (packaged: {', '.join(names())})",
            )
        ],
    )


def load_document(path: str | Path) -> dict[str, Any]:
    """The raw document of the scenario file at ``path``, its ``extends`` chain merged in."""
    source = str(path)
    file = Path(path)
    raw = parse_toml(read_text(file), source)
    chain = [file]
    while "extends" in raw:
        here = chain[-1]
        base = _base_file(raw.pop("extends"), here, source)
        seen = [p.resolve() for p in chain]
        if base.resolve() in seen:
            loop = [p.name for p in chain[seen.index(base.resolve()) :]] + [base.name]
            raise ScenarioError(
                source, [("extends", f"a cycle: {' → '.join(loop)}; a file cannot extend itself")]
            )
        if len(chain) >= MAX_EXTENDS:
            raise ScenarioError(
                source,
                [("extends", f"a chain of more than {MAX_EXTENDS} files ({chain[0].name} → …)")],
            )
        document = parse_toml(read_text(base), str(base))
        if "story" in document:
            raise ScenarioError(
                source, [("extends", f"{base} is a story file; a scenario extends a scenario")]
            )
        chain.append(base)
        over = raw
        raw = document
        raw_extends = raw.pop("extends", None)
        raw = merge(raw, over)
        if raw_extends is not None:
            raw["extends"] = raw_extends
        problem = nesting_problem(raw)
        if problem is not None:
            raise ScenarioError(source, [problem])
    return raw


def load_scenario(path: str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """Read, parse and validate the scenario file at ``path`` (its ``extends`` chain merged)."""
    return scenario_from_dict(load_document(path), str(path), overrides)


def is_story(path: str | Path) -> bool:
    """True when the TOML file at ``path`` is a story (has a ``[story]`` table)."""
    raw = parse_toml(read_text(path), str(path))
    return "story" in raw


def wrong_kind(path: str | Path, command: str) -> None:
    """Refuse, naming the command to use, a story file given to a scenario command or back.

    ``command`` is the one the user ran (``run``, ``sweep``, ``compare``, ``story``).
    """
    story = is_story(path)
    if command == "story" and not story:
        raw = parse_toml(read_text(path), str(path))
        use = "sweep" if "sweep" in raw else "run"
        raise ScenarioError(
            str(path),
            [
                (
                    "",
                    "a scenario file, not a story (it has no [story]): "
                    f"run it with `pushsim {use} {path}`",
                )
            ],
        )
    if command != "story" and story:
        raise ScenarioError(
            str(path),
            [("", f"a story file (it has [story]): run it with `pushsim story {path}`")],
        )


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
