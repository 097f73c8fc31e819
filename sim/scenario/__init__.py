"""Scenario files: stories (scripted edge cases) read from TOML and validated."""

from sim.scenario.errors import ScenarioError
from sim.scenario.story_file import STORIES_DIR, load_story, parse_story, story_files

__all__ = ["STORIES_DIR", "ScenarioError", "load_story", "parse_story", "story_files"]
