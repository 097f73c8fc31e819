"""The README's "Bring your own registry" example: shown verbatim, and as good as its claim.

The README says the 40-line wrapper in ``examples/registries/detach_on_logout.py`` gives the same
results as the reference registry's built-in ``detach_on_logout`` switch; this checks both.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.scenario import load_scenario
from sim.simulation import Simulation

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "registries" / "detach_on_logout.py"


def test_the_example_is_at_most_40_lines_and_the_readme_shows_it_verbatim() -> None:
    text = EXAMPLE.read_text()
    assert len(text.splitlines()) <= 40
    readme = (REPO / "README.md").read_text()
    assert f"```python\n{text}```" in readme


def test_the_wrapper_gives_the_results_of_the_built_in_switch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(REPO)  # the model's file path is relative to the current folder
    world = load_scenario(REPO / "scenarios" / "shared_devices.toml").world()
    small = world.changed(population={"devices": 600, "arrivals_per_day": 2.0})
    switch = small.changed(policy={"detach_on_logout": True})
    wrapper = small.changed(
        registry={"model": "examples/registries/detach_on_logout.py:build", "options": {}}
    )
    results = []
    for params in (switch, wrapper, small):
        simulation = Simulation(params, seed=3)
        simulation.run(40)
        results.append(simulation.result())
    switched, wrapped = results[0].frames(), results[1].frames()
    assert switched.keys() == wrapped.keys()
    for name, frame in switched.items():
        pd.testing.assert_frame_equal(frame, wrapped[name])
    assert results[0].open_latencies == results[1].open_latencies
    assert results[0].sends["targeted"].sum() > 0
    # and detaching matters in this world: the reference rules (no detach) give other figures
    assert not results[2].timeseries.equals(results[0].timeseries)
