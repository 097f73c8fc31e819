"""Every story in scenarios/stories must pass — and must fail when the rule it guards is broken.

The "teeth" tests break one registry rule at a time (by patching one registry method) and check
that the stories guarding that rule fail.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from sim.providers import Action, SendResult, classify
from sim.registry import Registry, ResponseOutcome
from sim.scenario import load_story, story_files
from sim.world.story import StoryReport, run_story

STORY_FILES = story_files()


@cache
def _story(path: Path) -> Any:
    return load_story(path)


def run_all() -> dict[str, StoryReport]:
    return {path.stem: run_story(_story(path)) for path in STORY_FILES}


def failing() -> set[str]:
    return {name for name, report in run_all().items() if not report.passed}


def test_the_stories_are_there():
    names = {path.stem for path in STORY_FILES}
    assert {
        "charlie_and_kim",
        "charlie_and_kim_detach",
        "reinstall_without_launch",
        "first_push_after_uninstall",
        "permission_off_then_on",
        "token_rotation_on_app_update",
        "device_restored_onto_new_phone",
        "family_tablet_three_users",
        "apns_late_410",
        "web_prompt_on_page_load",
        "uninstall_tracking_probe",
        "android13_dont_allow",
    } <= names


@pytest.mark.parametrize("path", STORY_FILES, ids=lambda p: p.stem)
def test_story(path: Path):
    story = _story(path)
    assert story.rules, f"{path.name} names no rule"
    assert path.read_text(encoding="utf-8").startswith("#"), f"{path.name} needs a header comment"
    report = run_story(story)
    assert report.results, f"{path.name} checked nothing"
    assert report.passed, report.diff()


# -- teeth: break one rule, see the stories guarding it fail --------------------------------------


def _patch(monkeypatch: pytest.MonkeyPatch, name: str, make: Callable[[Any], Any]) -> None:
    original = getattr(Registry, name)
    monkeypatch.setattr(Registry, name, make(original))


def test_r2_token_not_moved_on_login(monkeypatch: pytest.MonkeyPatch):
    """R2 broken: change_user moves nothing."""
    _patch(monkeypatch, "change_user", lambda original: lambda self, now, **kw: None)
    assert {"charlie_and_kim", "family_tablet_three_users", "charlie_and_kim_detach"} <= failing()


def test_r3_logout_detaches(monkeypatch: pytest.MonkeyPatch):
    """R3 broken: logout removes the token even under the default policy."""

    def make(original: Any) -> Any:
        def log_out(self: Registry, now: float, *, device: str, app: str) -> None:
            saved = self.policy
            self.policy = dataclasses.replace(saved, detach_on_logout=True)
            try:
                original(self, now, device=device, app=app)
            finally:
                self.policy = saved

        return log_out

    _patch(monkeypatch, "log_out", make)
    broken = failing()
    assert "charlie_and_kim" in broken
    assert "charlie_and_kim_detach" not in broken  # that story expects the detach


def test_r4_permission_not_refreshed(monkeypatch: pytest.MonkeyPatch):
    """R4 broken: a session start re-reports a known token without its new permission."""

    def make(original: Any) -> Any:
        def session_start(self: Registry, now: float, **kw: Any) -> Any:
            held = self.token_for(kw["device"], kw["app"])
            if held is not None and held.token == kw["token"]:
                kw["foreground"], kw["provisional"] = held.foreground, held.provisional
            return original(self, now, **kw)

        return session_start

    _patch(monkeypatch, "session_start", make)
    broken = failing()
    assert {"permission_off_then_on", "first_push_after_uninstall"} <= broken


def test_r6_bounce_does_not_remove(monkeypatch: pytest.MonkeyPatch):
    """R6 broken: a permanent error is classified as such but the token is kept."""

    def make(original: Any) -> Any:
        def handle_response(self: Registry, now: float, token: str, result: SendResult) -> Any:
            if classify(result) is Action.REMOVE and self.token(token) is not None:
                return ResponseOutcome(Action.REMOVE, held=True)
            return original(self, now, token, result)

        return handle_response

    _patch(monkeypatch, "handle_response", make)
    assert {
        "first_push_after_uninstall",
        "apns_late_410",
        "token_rotation_on_app_update",
        "uninstall_tracking_probe",
        "reinstall_without_launch",
    } <= failing()


def test_r7_no_uninstall_tracking_probes(monkeypatch: pytest.MonkeyPatch):
    """R7 broken: uninstall tracking never finds a token to probe."""
    _patch(monkeypatch, "probe_targets", lambda original: lambda self, now, app: [])
    assert failing() == {"uninstall_tracking_probe"}


def test_unbroken_registry_passes_everything():
    assert failing() == set()
