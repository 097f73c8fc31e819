"""Helpers shared by tests: the reference registry behind a world built with the default model."""

from __future__ import annotations

from typing import Any

from sim.registry import Registry


def reference(world: Any) -> Registry:
    """The world's registry, which tests built with the default model know is the reference."""
    registry = world.registry
    assert isinstance(registry, Registry), f"expected the reference registry, got {registry!r}"
    return registry
