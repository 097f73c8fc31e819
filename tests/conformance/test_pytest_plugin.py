"""The pytest plugin: a team's CI runs the conformance run as test items.

Each run is an in-process pytest session in a temporary folder, with plugin autoloading off so
that the plugin is loaded only by ``-p`` (as a team would, before the entry point exists).
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

PLUGIN = ("-p", "sim.conformance.pytest_plugin")
BROKEN_FILE = str(Path(__file__).with_name("broken.py"))


@pytest.fixture(autouse=True)
def _only_this_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def story_count() -> int:
    from sim.conformance.stories import load_stories

    return len(load_stories())


def test_the_reference_runs_green(pytester: pytest.Pytester):
    result = pytester.runpytest(*PLUGIN, "--pushsim-registry=reference", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=story_count() + 1)
    assert result.ret == 0


def test_a_broken_registry_runs_red_with_where_it_deviates(pytester: pytest.Pytester):
    result = pytester.runpytest(
        *PLUGIN, f"--pushsim-registry={BROKEN_FILE}:silent", "-p", "no:cacheprovider", "-rf"
    )
    result.assert_outcomes(passed=story_count() - 1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*deviates from R13* in token_events_audit_trail.toml*",
            "*first failing expectation: token_events_audit_trail.toml, day 0.01, events*",
            "*invariants BROKEN*",
            "FAILED pushsim-conform::story[[]token_events_audit_trail[]]*",
            "FAILED pushsim-conform::invariants*",
        ]
    )


def test_a_model_that_cannot_load_is_one_failure(pytester: pytest.Pytester):
    result = pytester.runpytest(
        *PLUGIN, f"--pushsim-registry={BROKEN_FILE}:not_a_registry", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*subscribe: missing*", "FAILED pushsim-conform::model*"])


def test_without_the_option_it_adds_nothing(pytester: pytest.Pytester):
    pytester.makepyfile("def test_one():\n    assert True\n")
    result = pytester.runpytest(*PLUGIN, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_k_selects_among_its_items(pytester: pytest.Pytester):
    result = pytester.runpytest(
        *PLUGIN, "--pushsim-registry=reference", "-p", "no:cacheprovider", "-k", "invariants"
    )
    result.assert_outcomes(passed=1, deselected=story_count())
