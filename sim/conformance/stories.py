"""The stories of a conformance run: found, loaded and played against a registry model.

The packaged stories (``scenarios/stories``) come first, then the files of each ``--stories``
folder a team adds, in the same format. Each story is played with :func:`sim.world.story.run_story`
against the model under test; a story the model cannot play (the factory refuses the story's
policy, a crash outside the registry) is a failed story with the reason, never the end of the run.
A failed expectation counts against the rule it names (``rule``), or against every rule of its
story when it names none: :meth:`StoryRun.failures_for`.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.models import ModelError
from sim.scenario import STORIES_DIR, ScenarioError, load_story, story_files
from sim.story import ExpectationResult, Story, StoryReport, run_story


class StoriesError(ValueError):
    """A stories folder that cannot be used, or a story file in it that is not valid."""


def packaged_stories() -> Path | None:
    """The folder of the stories that ship with pushsim, if this installation has it.

    The wheel's package data (``sim/library/stories``) or a checkout's ``scenarios/stories``:
    :data:`sim.scenario.STORIES_DIR`.
    """
    return STORIES_DIR if STORIES_DIR.is_dir() else None


@dataclass(frozen=True, slots=True)
class StoryFile:
    """A story to play: where it came from, the name shown for it, the story."""

    path: Path
    label: str
    story: Story


def _files_of(folder: Path) -> list[Path]:
    if not folder.exists():
        raise StoriesError(f"stories folder {str(folder)!r} does not exist")
    if not folder.is_dir():
        raise StoriesError(f"stories folder {str(folder)!r} is not a folder")
    found = story_files(folder)
    if not found:
        raise StoriesError(f"stories folder {str(folder)!r} has no story files (*.toml)")
    return found


def load_stories(extra: Sequence[Path] = (), *, packaged: bool = True) -> list[StoryFile]:
    """The packaged stories (unless ``packaged`` is false), then those of each ``extra`` folder.

    Packaged stories are labelled by file name, a team's by their path. Raises
    :class:`StoriesError` for a folder that is missing, not a folder or holds no story, and for
    a story file that is not valid (the message names the file and the key path).
    """
    paths: list[tuple[Path, str]] = []
    if packaged:
        folder = packaged_stories()
        if folder is not None:
            paths += [(path, path.name) for path in story_files(folder)]
    for folder in extra:
        paths += [(path, str(path)) for path in _files_of(Path(folder))]
    if not paths:
        raise StoriesError(
            "no stories to play: this installation has no packaged stories "
            "(scenarios/stories); give a folder of story files with --stories DIR"
        )
    stories: list[StoryFile] = []
    for path, label in paths:
        try:
            stories.append(StoryFile(path, label, load_story(path)))
        except ScenarioError as error:
            raise StoriesError(str(error)) from None
    return stories


@dataclass(frozen=True, slots=True)
class StoryRun:
    """One story played against the model under test."""

    file: StoryFile
    report: StoryReport

    @property
    def passed(self) -> bool:
        """True when every expectation of the story held."""
        return self.report.passed

    @property
    def first_failure(self) -> ExpectationResult | None:
        """The first result that did not pass, in the order they were evaluated."""
        failures = self.report.failures
        return failures[0] if failures else None

    def failures_for(self, rule: str) -> list[ExpectationResult]:
        """The failed results that count against ``rule``, in the order they were evaluated.

        A failed expectation that names a rule counts against that rule only; one that names
        none (and a step the world could not play, or a story that could not be played) counts
        against every rule the story lists. A rule the story does not list has no failures.
        """
        rules = self.file.story.rules
        if rule not in rules:
            return []
        return [
            result
            for result in self.report.failures
            if result.rule is None or result.rule == rule or result.rule not in rules
        ]

    def passed_for(self, rule: str) -> bool:
        """True when no failed result counts against ``rule`` (see :meth:`failures_for`)."""
        return not self.failures_for(rule)


def _unplayable(story: Story, reason: str) -> StoryReport:
    return StoryReport(
        story.name,
        (ExpectationResult(0.0, "story", "the story could not be played", "a run", reason, False),),
    )


def play_story(file: StoryFile, model: str, options: Mapping[str, Any] | None = None) -> StoryRun:
    """Play one story against ``model``; every failure is a failed report, never an exception."""
    try:
        report = run_story(file.story, model, options)
    except ModelError as error:
        report = _unplayable(file.story, str(error))
    except Exception as error:  # a model whose answers break the world: report, go on
        where = traceback.extract_tb(error.__traceback__)[-1]
        report = _unplayable(
            file.story,
            f"{type(error).__name__}: {error} (at {Path(where.filename).name}:{where.lineno})",
        )
    return StoryRun(file, report)


def play_stories(
    stories: Sequence[StoryFile], model: str, options: Mapping[str, Any] | None = None
) -> list[StoryRun]:
    """Play every story against ``model``, in order."""
    return [play_story(file, model, options) for file in stories]
