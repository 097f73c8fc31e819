"""Reading TOML and turning pydantic validation errors into one clear :class:`ScenarioError`.

Shared by scenario files and story files: every problem is reported with the file, the key path
(``population.devices``, ``steps[3].do``) and what is allowed there.
"""

from __future__ import annotations

import json
import re
import tomllib
import types
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from sim.scenario.errors import ScenarioError

#: a TOML bare key; other keys are written quoted in key paths
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def key_path(loc: tuple[int | str, ...]) -> str:
    """``("steps", 3, "do")`` → ``"steps[3].do"``; a key that is not bare TOML is quoted.

    ``("sweep", "values", "policy.x")`` → ``sweep.values."policy.x"``.
    """
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        key = part if _BARE_KEY.fullmatch(part) else json.dumps(part, ensure_ascii=False)
        text += f".{key}" if text else key
    return text


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds, through ``list[...]``, ``X | None`` and ``Annotated``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (list, Union, types.UnionType, Annotated):
        for arg in get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def allowed_keys(root: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The keys the table at ``loc`` of a ``root`` document allows."""
    model: type[BaseModel] | None = root
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        info = model.model_fields.get(part)
        model = _model_in(info.annotation) if info is not None else None
    return list(model.model_fields) if model is not None else []


def _message(root: type[BaseModel], error: ErrorDetails) -> str:
    kind, loc, given = error["type"], error["loc"], error.get("input")
    if kind == "extra_forbidden":
        return f"unknown key; allowed keys: {', '.join(allowed_keys(root, loc[:-1]))}"
    if kind == "missing":
        return "required key is missing"
    message = error["msg"].removeprefix("Value error, ")
    if not isinstance(given, dict | list):
        message += f" (got {given!r})"
    return message


def problems(root: type[BaseModel], error: ValidationError) -> list[tuple[str, str]]:
    """(key path, message) for every error of a validation of a ``root`` document."""
    out = []
    for e in error.errors():
        # drop pydantic's internal tags (e.g. function-after[...]) from the location
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and "[" in p))
        out.append((key_path(loc), _message(root, e)))
    return out


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """Parse TOML ``text``; a syntax error becomes a :class:`ScenarioError` naming ``source``."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(source, [("", f"invalid TOML: {error}")]) from None


def read_text(path: str | Path) -> str:
    """The text of a file, or a :class:`ScenarioError` saying why it cannot be read."""
    file = Path(path)
    try:
        return file.read_text(encoding="utf-8")
    except OSError as error:
        reason = error.strerror or str(error)
        raise ScenarioError(str(file), [("", f"cannot read the file: {reason}")]) from None
    except UnicodeDecodeError:
        raise ScenarioError(str(file), [("", "cannot read the file: not UTF-8 text")]) from None
