"""Every message speaks the file's words: no Python class names, no pydantic jargon.

Every key of the scenario schema and of the story schema gets every kind of wrong value (a number,
a string, true, a date, a list, a table, nan, a huge integer); every message that comes back must
name the key path and must not mention a class of the schema (``PopulationParams``, ``StepTable``),
a Python type (``dictionary``, ``Tuple``) or pydantic's internals (``after validation``).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterator
from typing import Any

import pytest
import tomli_w
from pydantic import BaseModel

from sim.scenario import Scenario, ScenarioError
from sim.scenario.load import scenario_from_dict
from sim.scenario.story_file import StoryFile, parse_story
from sim.scenario.validation import _model_in

#: every kind of value a TOML file can hold, most of them wrong somewhere
WRONG = [
    5,
    -1,
    1.5,
    1e9,
    math.nan,
    math.inf,
    10**30,
    True,
    "x",
    "",
    datetime.date(2024, 1, 1),
    [1],
    [1, 2, 3],
    [{"a": 1}],
    {},
    {"a": 1},
]

#: Python and pydantic words a message must not use
JARGON = (
    "dictionary",
    "instance of",
    "Tuple",
    "after validation",
    "Field required",
    "valid tuple",
)


def model_names(root: type[BaseModel]) -> set[str]:
    """The names of ``root`` and of every model it holds."""
    names: set[str] = set()
    todo = [root]
    while todo:
        model = todo.pop()
        if model.__name__ in names:
            continue
        names.add(model.__name__)
        for info in model.model_fields.values():
            inner = _model_in(info.annotation)
            if inner is not None:
                todo.append(inner)
    return names


CLASS_NAMES = model_names(Scenario) | model_names(StoryFile) | {"WorldParams", "Sweep"}


def key_paths(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every key path of ``model``'s documents (tables and values)."""
    for key, info in model.model_fields.items():
        path = (*prefix, key)
        yield path
        inner = _model_in(info.annotation)
        if inner is not None:
            yield from key_paths(inner, path)


def with_value(document: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in document.items()}
    table = out
    for key in path[:-1]:
        nested = table.get(key)
        table[key] = nested = dict(nested) if isinstance(nested, dict) else {}
        table = nested
    table[path[-1]] = value
    return out


def check(messages: list[tuple[str, str]], where: str) -> None:
    for path, message in messages:
        text = f"{path}: {message}"
        for word in (*JARGON, *CLASS_NAMES):
            assert word not in text, (where, text)


SCENARIO = {"scenario": {"name": "words"}}
SCENARIO_PATHS = [path for path in key_paths(Scenario) if path[0] != "sweep"] + [
    ("sweep",),
    ("sweep", "mode"),
    ("sweep", "values"),
]


@pytest.mark.parametrize("path", SCENARIO_PATHS, ids=".".join)
def test_scenario_messages_use_the_files_words(path: tuple[str, ...]):
    refused = 0
    for value in WRONG:
        document = with_value(SCENARIO, path, value)
        if path[0] == "sweep" and path != ("sweep",):
            document["sweep"].setdefault("values", {"policy.uninstall_tracking": [True]})
        try:
            scenario_from_dict(document, "words.toml")
        except ScenarioError as error:
            refused += 1
            assert error.problems
            assert all(p for p, _ in error.problems), error.problems  # every one has a key path
            check(error.problems, str(error))
    assert refused, "some wrong value must be refused"


STORY: dict[str, Any] = {
    "story": {"name": "words"},
    "devices": [{"id": "phone", "kind": "ios", "owner": "kim"}],
    "steps": [{"day": 0.0, "do": "install", "device": "phone"}],
    "expect": [{"day": 1.0, "check": "audience_size", "equals": 0}],
}


def story_paths() -> Iterator[tuple[Any, ...]]:
    for key, info in StoryFile.model_fields.items():
        yield (key,)
        inner = _model_in(info.annotation)
        if inner is None:
            continue
        listed = isinstance(STORY.get(key), list)
        for field in inner.model_fields:
            yield (key, 0, field) if listed else (key, field)


@pytest.mark.parametrize("path", list(story_paths()), ids=lambda p: ".".join(map(str, p)))
def test_story_messages_use_the_files_words(path: tuple[Any, ...]):
    for value in WRONG:
        document: dict[str, Any] = {
            k: [dict(i) for i in v] if isinstance(v, list) else dict(v) for k, v in STORY.items()
        }
        if len(path) == 1:
            document[path[0]] = value
        elif isinstance(path[1], int):
            document[path[0]][path[1]][path[2]] = value
        else:
            document.setdefault(path[0], {})[path[1]] = value
        try:
            text = tomli_w.dumps(document)
        except (TypeError, ValueError):
            continue  # not writable as TOML (e.g. a mixed array tomli_w refuses)
        try:
            parse_story(text, "words.toml")
        except ScenarioError as error:
            assert error.problems
            assert all(p for p, _ in error.problems), error.problems  # every one has a key path
            check(error.problems, str(error))
