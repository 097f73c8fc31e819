"""A frozen dataclass with :func:`sim.fastinit.fast_frozen_init` behaves exactly as without it."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from dataclasses import dataclass, field

import pytest

from sim.fastinit import fast_frozen_init
from sim.platforms import Platform
from sim.world.signals import Outcome, SendRecord


@dataclass(frozen=True, slots=True)
class Plain:
    time: float
    name: str
    note: str | None = None
    count: int = 0
    flag: bool = field(default=True, kw_only=True)


@fast_frozen_init
@dataclass(frozen=True, slots=True)
class Fast:
    time: float
    name: str
    note: str | None = None
    count: int = 0
    flag: bool = field(default=True, kw_only=True)


CALLS: list[tuple[tuple[object, ...], dict[str, object]]] = [
    ((1.5, "a"), {}),
    ((1.5, "a", "n"), {}),
    ((1.5, "a", None, 3), {"flag": False}),
    ((), {"time": 2.0, "name": "b", "count": 7}),
]


def _fields(record: object) -> tuple[object, ...]:
    return tuple(getattr(record, f.name) for f in dataclasses.fields(record))  # type: ignore[arg-type]


@pytest.mark.parametrize(("args", "kwargs"), CALLS)
def test_values_defaults_equality_hash_and_repr_are_unchanged(
    args: tuple[object, ...], kwargs: dict[str, object]
) -> None:
    plain, fast = Plain(*args, **kwargs), Fast(*args, **kwargs)  # type: ignore[arg-type]
    assert _fields(fast) == _fields(plain)
    assert repr(fast) == repr(plain).replace("Plain(", "Fast(", 1)
    assert fast == Fast(*args, **kwargs)  # type: ignore[arg-type]
    assert hash(fast) == hash(Fast(*args, **kwargs))  # type: ignore[arg-type]
    assert dataclasses.astuple(fast) == dataclasses.astuple(plain)


def test_it_stays_frozen_and_slotted() -> None:
    fast = Fast(1.0, "a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.name = "b"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del fast.name
    assert not hasattr(fast, "__dict__")


def test_the_signature_and_argument_errors_are_unchanged() -> None:
    assert str(inspect.signature(Fast)) == str(inspect.signature(Plain))
    for args, kwargs in [((1.0,), {}), ((1.0, "a", None, 0, True), {}), ((1.0, "a"), {"x": 1})]:
        with pytest.raises(TypeError):
            Plain(*args, **kwargs)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            Fast(*args, **kwargs)  # type: ignore[arg-type]


def test_replace_copy_and_pickle_still_work() -> None:
    fast = Fast(1.0, "a", count=2)
    assert dataclasses.replace(fast, name="b") == Fast(1.0, "b", count=2)
    assert copy.copy(fast) == fast
    assert copy.deepcopy(fast) == fast
    assert pickle.loads(pickle.dumps(fast)) == fast


def test_send_record_has_it_and_is_unchanged() -> None:
    record = SendRecord(2.0, "c0001", "apns-1", Platform.IOS, "p1", 0, 200, "", Outcome.DISPLAYED)
    assert record.shown_to is None and record.install_id == ""
    assert record == SendRecord(
        2.0, "c0001", "apns-1", Platform.IOS, "p1", 0, 200, "", Outcome.DISPLAYED, None, ""
    )
    assert repr(record).startswith("SendRecord(time=2.0, campaign='c0001', token='apns-1'")
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.outcome = None  # type: ignore[misc]


def test_it_refuses_what_it_would_not_reproduce() -> None:
    @dataclass(slots=True)
    class Mutable:
        a: int

    @dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclass(frozen=True, slots=True)
    class Factory:
        a: list[int] = field(default_factory=list)

    @dataclass(frozen=True, slots=True)
    class NotInit:
        a: int = field(default=0, init=False)

    @dataclass(frozen=True, slots=True)
    class PostInit:
        a: int

        def __post_init__(self) -> None:
            pass

    @dataclass(frozen=True, slots=True)
    class WithInitVar:
        a: int
        b: dataclasses.InitVar[int] = 0

    for cls in (Mutable, NoSlots, Factory, NotInit, PostInit, WithInitVar, int):
        with pytest.raises(TypeError):
            fast_frozen_init(cls)
