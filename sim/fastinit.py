"""A faster ``__init__`` for frozen, slotted dataclasses built by the million.

A frozen dataclass's generated ``__init__`` sets each field with ``object.__setattr__(self, name,
value)``: a global look-up, an attribute look-up and a generic attribute set per field (about
0.65 µs for eleven fields on Python 3.11). A slotted class already holds one member descriptor per
field, whose ``__set__`` stores into the slot directly and bypasses the class's ``__setattr__``
(the hook that makes it frozen). :func:`fast_frozen_init` replaces the class's ``__init__`` with one
that calls those descriptors, bound once, taking the same parameters with the same defaults; the
class stays a frozen dataclass, with its ``__eq__``, ``__hash__``, ``__repr__``, ``__match_args__``,
pickling and :func:`dataclasses.replace` unchanged.

It refuses what it does not reproduce (``__post_init__``, ``InitVar`` and ``init=False`` fields,
``default_factory``): apply it only to plain records.
"""

from __future__ import annotations

import dataclasses
import types
from typing import Any, TypeVar

T = TypeVar("T")


def fast_frozen_init(cls: type[T]) -> type[T]:
    """Give the frozen, slotted dataclass ``cls`` a faster ``__init__``; returns ``cls``.

    Use it as a decorator above ``@dataclass(frozen=True, slots=True)``. Raises :class:`TypeError`
    for a class that is not a frozen, slotted dataclass, or has a field or hook the generated
    ``__init__`` would not honour.
    """
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen:
        raise TypeError(f"{cls.__name__} is not a frozen dataclass")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has a __post_init__, which the fast __init__ would skip")
    namespace: dict[str, Any] = {}
    positional: list[str] = []
    keyword: list[str] = []
    body: list[str] = []
    # dataclasses.fields leaves out InitVar pseudo-fields: look at every declared field
    for index, field in enumerate(cls.__dataclass_fields__.values()):  # type: ignore[attr-defined]
        if field._field_type is not dataclasses._FIELD:  # type: ignore[attr-defined]
            raise TypeError(f"{cls.__name__}.{field.name} is not a plain field")
        if field.name == "self":
            raise TypeError(f"{cls.__name__} has a field named self")
        if not field.init:
            raise TypeError(f"{cls.__name__}.{field.name} is init=False")
        if field.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{field.name} has a default_factory")
        slot = getattr(cls, field.name, None)
        if not isinstance(slot, types.MemberDescriptorType):
            raise TypeError(f"{cls.__name__}.{field.name} is not a slot (use slots=True)")
        # parameters are named after the fields; the helpers get names no field can take
        setter = f"__set_{index}"
        namespace[setter] = slot.__set__
        parameter = field.name
        if field.default is not dataclasses.MISSING:
            default = f"__default_{index}"
            namespace[default] = field.default
            parameter += f"={default}"
        (keyword if field.kw_only else positional).append(parameter)
        body.append(f"    {setter}(self, {field.name})")
    signature = ", ".join(["self", *positional, *(["*", *keyword] if keyword else [])])
    source = f"def __init__({signature}):\n" + ("\n".join(body) or "    pass") + "\n"
    exec(source, namespace)  # the source is built above from field names only
    init = namespace["__init__"]
    original = cls.__dict__["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__annotations__ = dict(original.__annotations__)
    setattr(cls, "__init__", init)  # noqa: B010 - mypy refuses assigning to __init__ directly
    return cls
