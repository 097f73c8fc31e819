"""Refuse a scenario's ``[registry]`` before anything runs (the command line's check, exit 2)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from sim.models.choice import ModelError, check_model
from sim.scenario.errors import ScenarioError
from sim.world.params import WorldParams


def check_scenarios(worlds: Iterable[WorldParams], source: str) -> None:
    """Refuse, before anything runs, a ``[registry]`` that cannot run: exit 2 with its problems.

    Each distinct (model, options) among ``worlds`` (a sweep may vary them) is built once and
    checked against the protocol; a problem raises :class:`~sim.scenario.errors.ScenarioError`
    naming the file and the key.
    """
    seen: set[str] = set()
    for world in worlds:
        choice = world.registry
        key = json.dumps([choice.model, choice.options], sort_keys=True, default=repr)
        if key in seen:
            continue
        seen.add(key)
        try:
            check_model(choice.model, world.policy.registry_policy(), choice.options)
        except ModelError as error:
            raise ScenarioError(source, [("registry.model", str(error))]) from None
