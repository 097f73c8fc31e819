"""The scenario library: every file validates, runs shortened and says where its numbers come from.

Every story file validates through ``pushsim validate``, the way a user checks them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.runner import run_scenario
from sim.scenario import (
    SCENARIOS_DIR,
    STORIES_DIR,
    is_story,
    load_scenario,
    parse_scenario,
    scenario_files,
    story_files,
    to_toml,
)
from tests.cli import REPO, pushsim

SCENARIO_FILES = scenario_files()
STORY_FILES = story_files()
#: a small world: the whole library runs in well under a second
SHORT = ["population.devices=200", "population.arrivals_per_day=1"]
SHORT_DAYS = 20.0


def _ids(paths: list[Path]) -> list[str]:
    return [path.stem for path in paths]


def test_the_library_is_there():
    assert SCENARIOS_DIR == REPO / "scenarios"
    names = {path.stem for path in SCENARIO_FILES}
    assert {"baseline", "uninstall_tracking", "stale_token_pruning", "web_push"} <= names
    assert len(STORY_FILES) >= 10
    # stories live in their own folder and are never picked up as scenarios
    assert not any(is_story(path) for path in SCENARIO_FILES)
    assert all(is_story(path) for path in STORY_FILES)
    assert all(path.parent == STORIES_DIR for path in STORY_FILES)


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=_ids(SCENARIO_FILES))
def test_scenario_validates(path: Path):
    scenario = load_scenario(path)
    # the name is the file's stem: `pushsim run` writes to results/<name>
    assert scenario.scenario.name == path.stem
    assert scenario.scenario.description
    # the resolved form reads back as the same scenario
    resolved = to_toml(scenario)
    assert parse_scenario(resolved, f"{path.name} (resolved)").digest() == scenario.digest()


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=_ids(SCENARIO_FILES))
def test_scenario_runs_shortened(path: Path):
    scenario = load_scenario(path, SHORT)
    assert scenario.population.devices == 200
    result = run_scenario(scenario, days=SHORT_DAYS)
    series = result.timeseries
    assert not series.empty
    assert "all" in set(series["platform"])
    assert series["time"].max() == pytest.approx(SHORT_DAYS)
    assert (series[series["platform"] == "all"]["tokens"] >= 0).all()
    assert result.seed == scenario.measurement.seed
    summary = result.summary()
    assert summary["days"] == SHORT_DAYS
    assert summary["believed_reachable"] >= 0


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=_ids(SCENARIO_FILES))
def test_scenario_file_has_a_header_citing_the_model_docs(path: Path):
    lines = path.read_text(encoding="utf-8").splitlines()
    header = []
    for line in lines:
        if not line.startswith("#"):
            break
        header.append(line)
    assert header, f"{path.name} must start with a comment header"
    assert f"# {path.stem}" in header[0], "the header starts with the scenario's name"
    assert "docs/model.md" in "\n".join(header), (
        f"{path.name}: the header must say where its figures' sources are listed"
    )


def test_every_story_validates_through_the_command_line():
    done = pushsim("validate", *(path.relative_to(REPO) for path in STORY_FILES))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    for path in STORY_FILES:
        assert f"ok  {path.relative_to(REPO)}  (story: " in done.stdout


def test_every_scenario_validates_through_the_command_line():
    done = pushsim("validate", *(path.relative_to(REPO) for path in SCENARIO_FILES))
    assert done.returncode == 0, done.stderr
    for path in SCENARIO_FILES:
        digest = load_scenario(path).digest()
        assert (
            f"ok  {path.relative_to(REPO)}  (scenario: {path.stem}, hash {digest})" in done.stdout
        )
