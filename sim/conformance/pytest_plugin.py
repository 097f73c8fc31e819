"""A pytest plugin: the conformance run of ``pushsim conform``, as test items in a team's CI.

Load it with ``-p sim.conformance.pytest_plugin`` (or through its ``pytest11`` entry point) and
name the registry to check::

    pytest -p sim.conformance.pytest_plugin --pushsim-registry=mymod:factory
    pytest -p sim.conformance.pytest_plugin --pushsim-registry=http \\
        --pushsim-option url=http://localhost:8080 --pushsim-stories tests/stories

With ``--pushsim-registry`` the session gains one item per story (``pushsim-conform::story
[charlie_and_kim]``) and one for the invariants (``pushsim-conform::invariants``); each fails
with the first failing expectation, or the invariant break and the operations that led to it.
A model that cannot be loaded is one failing item (``pushsim-conform::model``) with the reason.
Without the option the plugin adds nothing: it registers its options and imports nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from sim.conformance.stories import StoryFile

#: The name of the collector the items hang from (``pushsim-conform::invariants``).
NODE = "pushsim-conform"


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--pushsim-registry`` and its companions (``--pushsim-option``, ``--pushsim-stories``…)."""
    group = parser.getgroup("pushsim", "pushsim conformance (docs/model.md §8)")
    group.addoption(
        "--pushsim-registry",
        metavar="MODEL",
        default=None,
        help="check this registry model against pushsim's stories and invariants "
        '("reference", "subscriptions", "http", "package.module:factory", '
        '"path/to/file.py:factory")',
    )
    group.addoption(
        "--pushsim-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="keyword argument for the model's factory (TOML value, or text), repeatable",
    )
    group.addoption(
        "--pushsim-stories",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of your own story files, played besides the packaged ones; repeatable",
    )
    group.addoption(
        "--pushsim-seed",
        type=int,
        default=0,
        metavar="N",
        help="seed of the invariants' operation sequences (default 0)",
    )
    group.addoption(
        "--pushsim-operations",
        type=int,
        default=None,
        metavar="N",
        help="operations per invariant sequence (default: as pushsim conform)",
    )


class ConformanceFailure(Exception):
    """A story or the invariants did not hold: the message says where and how."""


class _Settings:
    """The model under test and its options, read from the command line once."""

    def __init__(self, config: pytest.Config, model: str) -> None:
        from sim.models.options import OptionError, parse_options

        self.model = model
        try:
            self.options = parse_options(config.getoption("--pushsim-option"))
        except OptionError as error:
            raise pytest.UsageError(str(error)) from None
        self.stories = [Path(p) for p in config.getoption("--pushsim-stories")]
        self.seed = int(config.getoption("--pushsim-seed"))
        operations = config.getoption("--pushsim-operations")
        if operations is not None and operations < 1:
            raise pytest.UsageError(f"--pushsim-operations must be at least 1, got {operations}")
        self.operations: int | None = operations


class ConformanceItem(pytest.Item):
    """One story, the invariants, or the model check."""

    def __init__(
        self,
        *,
        settings: _Settings,
        story: StoryFile | None = None,
        problem: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.story = story
        self.problem = problem

    def runtest(self) -> None:
        """Play the story (or drive the invariants); raise :class:`ConformanceFailure` if not."""
        settings = self.settings
        if self.problem is not None:
            raise ConformanceFailure(self.problem)
        if self.story is not None:
            from sim.conformance.stories import play_story
            from sim.conformance.table import Deviation

            run = play_story(self.story, settings.model, settings.options)
            deviation = Deviation.of(run)
            if deviation is not None:
                failed = [rule for rule in self.story.story.rules if not run.passed_for(rule)]
                rules = ", ".join(failed) or "no rule"
                raise ConformanceFailure(
                    f"{settings.model} deviates from {rules} in {run.file.label} "
                    f"({run.report.story})\nfirst failing expectation: {deviation.describe()}\n"
                    f"{run.report.diff()}"
                )
            return
        from sim.conformance.invariants import OPERATIONS, check_invariants

        operations = settings.operations if settings.operations is not None else OPERATIONS
        report = check_invariants(
            settings.model, settings.options, seed=settings.seed, operations=operations
        )
        if report.broken is not None:
            raise ConformanceFailure(f"{settings.model}: invariants {report.describe()}")

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str:
        """The message alone for a conformance failure (no traceback into pushsim)."""
        if isinstance(excinfo.value, ConformanceFailure):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the item comes from: the story file, or the plugin."""
        where = self.story.path if self.story is not None else Path(__file__)
        return where, None, self.name


class ConformanceCollector(pytest.Collector):
    """The items of a conformance run."""

    def __init__(self, *, settings: _Settings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings

    def collect(self) -> Iterator[ConformanceItem]:
        """The model check (only when it fails), then one item per story, then the invariants."""
        from sim.conformance.stories import StoriesError, load_stories
        from sim.models import ModelError, check_model
        from sim.registry import RegistryPolicy

        settings = self.settings
        try:
            stories = load_stories(settings.stories)
        except StoriesError as error:
            raise pytest.UsageError(f"--pushsim-stories: {error}") from None
        try:
            check_model(settings.model, RegistryPolicy(), settings.options)
        except ModelError as error:
            yield ConformanceItem.from_parent(
                self, name="model", settings=settings, problem=str(error)
            )
            return
        for story in stories:
            name = story.path.stem if story.label == story.path.name else story.label
            yield ConformanceItem.from_parent(
                self, name=f"story[{name}]", settings=settings, story=story
            )
        yield ConformanceItem.from_parent(self, name="invariants", settings=settings)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Add the conformance items when ``--pushsim-registry`` is given (before ``-k`` selects)."""
    model = config.getoption("--pushsim-registry")
    if not model:
        return
    collector = ConformanceCollector.from_parent(
        session, name=NODE, nodeid=NODE, settings=_Settings(config, model)
    )
    items.extend(collector.collect())
