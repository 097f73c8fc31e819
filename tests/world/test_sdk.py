"""The SDK's batches: when each call reaches the registry, with no SimPy event spent on a flush."""

from __future__ import annotations

import math
from typing import Any

import pytest

from sim.platforms import Platform
from sim.world.sdk import Sdk


class Calls:
    """A stand-in registry that records each SDK call with the time it was told."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float, str]] = []

    def session_start(self, now: float, *, device: str, **_: Any) -> None:
        self.calls.append(("session_start", now, device))

    def change_user(self, now: float, *, device: str, app: str, user: str) -> None:
        self.calls.append(("change_user", now, device))

    def log_out(self, now: float, *, device: str, app: str) -> None:
        self.calls.append(("log_out", now, device))


def session(sdk: Sdk, now: float, device: str) -> None:
    sdk.session_start(
        now,
        device=device,
        app="app",
        platform=Platform.IOS,
        token="t",
        foreground=True,
        provisional=False,
        implicit_permission=False,
    )


@pytest.fixture
def registry() -> Calls:
    return Calls()


def test_a_batch_reaches_the_registry_delay_days_after_its_first_call(registry: Calls) -> None:
    sdk = Sdk(registry, 0.5)  # type: ignore[arg-type]
    session(sdk, 1.0, "a")
    sdk.change_user(1.2, device="b", app="app", user="kim")
    sdk.log_out(1.4, device="a", app="app")
    assert sdk.due == 1.5
    sdk.settle(1.49)
    assert registry.calls == []  # not due yet
    sdk.settle(1.5)  # due now: delivered (a read at the moment a batch is due sees it)
    assert registry.calls == [
        ("session_start", 1.5, "a"),
        ("change_user", 1.5, "b"),
        ("log_out", 1.5, "a"),
    ]
    assert sdk.due == math.inf


def test_a_call_at_the_moment_a_batch_is_due_opens_the_next_batch(registry: Calls) -> None:
    sdk = Sdk(registry, 0.5)  # type: ignore[arg-type]
    session(sdk, 1.0, "a")
    session(sdk, 1.5, "b")  # the first batch went first, at 1.5
    assert registry.calls == [("session_start", 1.5, "a")]
    assert sdk.due == 2.0
    session(sdk, 7.0, "c")  # long after: the batch due at 2.0 was delivered then, with now = 2.0
    assert registry.calls[-1] == ("session_start", 2.0, "b")
    assert sdk.due == 7.5


def test_the_end_of_a_run_is_exclusive(registry: Calls) -> None:
    sdk = Sdk(registry, 0.5)  # type: ignore[arg-type]
    session(sdk, 1.0, "a")
    sdk.settle(math.nextafter(1.5, -math.inf))  # World.run(until=1.5) stops before 1.5
    assert registry.calls == []
    sdk.settle(1.5000001)
    assert registry.calls == [("session_start", 1.5, "a")]


def test_without_delay_each_call_reaches_the_registry_at_once(registry: Calls) -> None:
    sdk = Sdk(registry, 0.0)  # type: ignore[arg-type]
    session(sdk, 3.0, "a")
    assert registry.calls == [("session_start", 3.0, "a")]
    assert sdk.due == math.inf


def test_a_negative_delay_is_refused(registry: Calls) -> None:
    with pytest.raises(ValueError, match="delay must be >= 0"):
        Sdk(registry, -1.0)  # type: ignore[arg-type]
