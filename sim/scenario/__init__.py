"""Scenario files and story files: TOML read, validated and turned into parameters and stories."""

from sim.scenario.errors import ScenarioError
from sim.scenario.library import SCENARIOS_DIR, STORIES_DIR
from sim.scenario.load import (
    is_story,
    load_scenario,
    parse_scenario,
    scenario_files,
    to_toml,
)
from sim.scenario.schema import Measurement, Scenario, ScenarioMeta, json_schema
from sim.scenario.story_file import load_story, parse_story, story_files

__all__ = [
    "SCENARIOS_DIR",
    "STORIES_DIR",
    "Measurement",
    "Scenario",
    "ScenarioError",
    "ScenarioMeta",
    "is_story",
    "json_schema",
    "load_scenario",
    "load_story",
    "parse_scenario",
    "parse_story",
    "scenario_files",
    "story_files",
    "to_toml",
]
