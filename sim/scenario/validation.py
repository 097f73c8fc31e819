"""Reading TOML and turning pydantic validation errors into one clear :class:`ScenarioError`.

Shared by scenario files and story files: every problem is reported with the file, the key path
(``population.devices``, ``steps[3].do``) and what is allowed there, in the words of the file
(table, list, integer, number, true/false), never the name of a Python class.

What is read:

- **Text.** Files are UTF-8. A UTF-8 byte order mark (BOM) at the start, which some Windows
  editors write, is accepted and ignored (TOML 1.0 allows it). A UTF-16 file gets a message that
  says so and asks for UTF-8.
- **Nesting.** No scenario or story key nests deeper than a few levels, so arrays and tables
  nested more than :data:`MAX_NESTING` levels deep are refused with the key path where the limit
  is crossed. Nesting too deep for the TOML reader itself (hundreds of ``[`` in a row, which makes
  ``tomllib`` recurse until Python's recursion limit) is refused as invalid TOML, not a crash.
"""

from __future__ import annotations

import datetime
import json
import math
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
#: the byte order mark some editors put at the start of a UTF-8 file
BOM = "\ufeff"
#: the deepest nesting of tables and lists a document may have. The deepest real key is a swept
#: table (``sweep`` → ``values`` → key → list → table → value: 5 levels) or a story's ``equals``
#: table of lists (4); 20 leaves room and stops documents that would make validation, hashing or
#: the resolved TOML recurse without end.
MAX_NESTING = 20


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


def _unwrap(annotation: Any) -> Any:
    """The annotation without ``Annotated[...]`` and without ``| None``."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(members) == 1:
            return _unwrap(members[0])
    return annotation


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


def _annotation_at(root: type[BaseModel], loc: tuple[int | str, ...]) -> Any:
    """The declared type of the value at ``loc`` (unwrapped), or None when there is none."""
    annotation: Any = root
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(part, int):
            if get_origin(annotation) is list:
                annotation = get_args(annotation)[0]
                continue
            if get_origin(annotation) is tuple:
                args = get_args(annotation)
                annotation = args[0] if args else None
                continue
            return None
        model = _model_in(annotation)
        info = model.model_fields.get(part) if model is not None else None
        if info is None:
            return None
        annotation = info.annotation
    return _unwrap(annotation)


def _entries(count: int) -> str:
    return "1 entry" if count == 1 else f"{count} entries"


def describe(value: Any) -> str:
    """A value as the file would write it: ``true``, ``'text'``, ``1.5``, ``nan``, ``[1, 2]``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        text = repr(value)
        return text if len(text) <= 40 else f"an integer of {len(text)} digits"
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else f"{value[:57]!r}… ({len(value)} characters)"
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        if len(value) <= 6 and not any(isinstance(v, dict | list | tuple) for v in value):
            return "[" + ", ".join(describe(v) for v in value) + "]"
        return "a list of 1 value" if len(value) == 1 else f"a list of {len(value)} values"
    if isinstance(value, dict):
        return "a table"
    return repr(value)


def _message(root: type[BaseModel], error: ErrorDetails) -> str:
    kind, loc, given = error["type"], error["loc"], error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        return f"unknown key; allowed keys: {', '.join(allowed_keys(root, loc[:-1]))}"
    if kind == "missing":
        return "required key is missing"
    annotation = _annotation_at(root, loc)
    message = error["msg"].removeprefix("Value error, ")
    if kind in ("model_type", "model_attributes_type", "dataclass_type"):
        keys = allowed_keys(root, loc)
        return f"must be a table of keys: {', '.join(keys)} (got {describe(given)})"
    if kind == "dict_type":
        return f"must be a table of key = value pairs (got {describe(given)})"
    if kind in ("tuple_type", "too_short", "too_long") and get_origin(annotation) is tuple:
        count = len(get_args(annotation))
        shape = "[low, high]" if count == 2 else f"of {count} values"
        return f"must be a list of {count} numbers {shape} (got {describe(given)})"
    if kind == "list_type":
        model = _model_in(annotation)
        if model is not None:
            name = key_path(tuple(p for p in loc if isinstance(p, str)))
            return f"must be a list of tables, each written [[{name}]] (got {describe(given)})"
        return f"must be a list [...] (got {describe(given)})"
    if kind == "too_short" and "min_length" in ctx:
        return f"needs at least {_entries(int(ctx['min_length']))}"
    if kind == "too_long" and "max_length" in ctx:
        return f"takes at most {_entries(int(ctx['max_length']))} (got {len(given)})"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters (got {len(given)})"
    if kind == "int_type" and isinstance(given, bool):
        return f"{message}, not true or false (got {describe(given)})"
    if kind == "int_type" and isinstance(given, float) and math.isfinite(given):
        hint = "a whole number written without a decimal point or exponent"
        if given.is_integer() and abs(given) < 1e18:
            hint += f", e.g. {int(given)}"
        return f"{message}: {hint} (got {describe(given)})"
    if not isinstance(given, dict | list):
        message += f" (got {describe(given)})"
    return message


def problems(root: type[BaseModel], error: ValidationError) -> list[tuple[str, str]]:
    """(key path, message) for every error of a validation of a ``root`` document."""
    out = []
    for e in error.errors():
        # drop pydantic's internal tags (e.g. function-after[...]) from the location
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and "[" in p))
        out.append((key_path(loc), _message(root, e)))
    return out


def nesting_problem(value: Any, loc: tuple[int | str, ...] = ()) -> tuple[str, str] | None:
    """(key path, message) where ``value`` nests deeper than :data:`MAX_NESTING`, else None.

    Walks without recursion, so that any depth can be checked.
    """
    stack: list[tuple[Any, tuple[int | str, ...]]] = [(value, loc)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, dict):
            children: list[tuple[Any, tuple[int | str, ...]]] = [
                (v, (*where, str(k))) for k, v in item.items()
            ]
        elif isinstance(item, list | tuple):
            children = [(v, (*where, i)) for i, v in enumerate(item)]
        else:
            continue
        if len(where) - len(loc) >= MAX_NESTING and children:
            return (
                key_path(where),
                f"nested more than {MAX_NESTING} levels deep (tables and lists inside each "
                "other); no key of pushsim nests that deep",
            )
        stack.extend(reversed(children))
    return None


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """Parse TOML ``text``; a syntax error becomes a :class:`ScenarioError` naming ``source``.

    A leading byte order mark is ignored; nesting deeper than :data:`MAX_NESTING` is refused.
    """
    text = text.removeprefix(BOM)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(source, [("", f"invalid TOML: {error}")]) from None
    except RecursionError:
        raise ScenarioError(
            source,
            [
                (
                    "",
                    "invalid TOML: lists or inline tables nested too deeply to read (hundreds "
                    f"of levels); no key of pushsim nests more than {MAX_NESTING} levels",
                )
            ],
        ) from None
    problem = nesting_problem(document)
    if problem is not None:
        raise ScenarioError(source, [problem])
    return document


def read_text(path: str | Path) -> str:
    """The text of a file, or a :class:`ScenarioError` saying why it cannot be read."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as error:
        reason = error.strerror or str(error)
        raise ScenarioError(str(file), [("", f"cannot read the file: {reason}")]) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ScenarioError(
            str(file), [("", "cannot read the file: it is UTF-16 text; save it as UTF-8")]
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ScenarioError(
            str(file), [("", f"cannot read the file: not UTF-8 text (byte {error.start})")]
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")  # universal newlines, as open()
