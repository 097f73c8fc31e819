"""Every story in scenarios/stories must pass — and must fail when the rule it guards is broken.

The "teeth" tests break one registry rule at a time (by patching one registry method) and check
that the stories guarding that rule fail. Every rule R1–R14 is guarded by at least one story. The
``export`` and ``events`` checks and the ``set_subscription`` step are checked at the end (the
other steps and checks: ``tests/story``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from sim.platforms import Provider
from sim.providers import Action, SendResult, classify
from sim.registry import Registry, ResponseOutcome, SubscriptionState
from sim.scenario import ScenarioError, load_story, parse_story, story_files
from sim.scenario.story_file import RULES
from sim.story import StoryReport, run_story

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
        "export_view",
        "token_events_audit_trail",
        "anonymous_then_identified",
        "apns_stale_410",
        "provider_errors_keep_the_token",
    } <= names


def test_every_rule_is_guarded_by_a_story():
    listed = {rule for path in STORY_FILES for rule in _story(path).rules}
    assert listed == set(RULES)


def test_every_expectation_names_the_rule_it_guards():
    """``pushsim conform`` counts a failure against its expectation's rule: every one has one."""
    untagged = [
        f"{path.name}: expect[{i}] ({expectation.describe()})"
        for path in STORY_FILES
        for i, expectation in enumerate(_story(path).expectations)
        if expectation.rule is None
    ]
    assert untagged == [], 'give each expectation its rule = "R…"'


@pytest.mark.parametrize("path", STORY_FILES, ids=lambda p: p.stem)
def test_every_rule_a_story_lists_is_guarded_by_one_of_its_expectations(path: Path):
    story = _story(path)
    tagged = {expectation.rule for expectation in story.expectations}
    assert set(story.rules) <= tagged, f"{path.name} lists {set(story.rules) - tagged} unguarded"


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


def test_r5_the_apns_timestamp_is_not_compared(monkeypatch: pytest.MonkeyPatch):
    """R5 broken: an APNs 410 removes the token even when it predates the registration."""

    def make(original: Any) -> Any:
        def handle_response(self: Registry, now: float, token: str, result: SendResult) -> Any:
            return original(self, now, token, dataclasses.replace(result, timestamp=None))

        return handle_response

    _patch(monkeypatch, "handle_response", make)
    assert "apns_stale_410" in failing()


#: a permanent error of each provider, for a registry that takes every error as one
_PERMANENT = {
    Provider.APNS: SendResult(Provider.APNS, 410, "Unregistered"),
    Provider.FCM: SendResult(Provider.FCM, 404, "UNREGISTERED"),
    Provider.WEBPUSH: SendResult(Provider.WEBPUSH, 410),
}


def test_r5_transient_and_credential_errors_remove_the_token(monkeypatch: pytest.MonkeyPatch):
    """R5 broken: a transient or credential error is acted on as a permanent one."""

    def make(original: Any) -> Any:
        def handle_response(self: Registry, now: float, token: str, result: SendResult) -> Any:
            if classify(result) in (Action.RETRY, Action.FLAG_CONFIG):
                result = _PERMANENT[result.provider]
            return original(self, now, token, result)

        return handle_response

    _patch(monkeypatch, "handle_response", make)
    assert failing() == {"provider_errors_keep_the_token"}


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


def test_r12_export_lists_one_token_only(monkeypatch: pytest.MonkeyPatch):
    """R12 broken: a profile's token list (what the export reads) forgets all but one token."""

    def make(original: Any) -> Any:
        def profile(self: Registry, profile_id: str) -> Any:
            real = original(self, profile_id)
            first = dict(list(real.tokens.items())[:1])
            return dataclasses.replace(real, tokens=first)

        return profile

    _patch(monkeypatch, "profile", make)
    assert "export_view" in failing()


def test_r13_no_events(monkeypatch: pytest.MonkeyPatch):
    """R13 broken: no token event reaches a listener."""
    _patch(monkeypatch, "subscribe", lambda original: lambda self, listener: lambda: None)
    assert "token_events_audit_trail" in failing()


def test_r13_a_move_emitted_as_an_update(monkeypatch: pytest.MonkeyPatch):
    """R13 broken: a move is emitted as one update instead of a remove plus an add."""
    from sim.registry import Cause, Change, TokenEvent

    def make(original: Any) -> Any:
        def subscribe(self: Registry, listener: Any) -> Any:
            pending: list[TokenEvent] = []

            def merged(event: TokenEvent) -> None:
                if event.cause is Cause.MOVED and event.change is Change.REMOVE:
                    pending.append(event)
                    return
                if event.cause is Cause.MOVED and pending:
                    pending.clear()
                    listener(dataclasses.replace(event, change=Change.UPDATE))
                    return
                listener(event)

            return original(self, merged)

        return subscribe

    _patch(monkeypatch, "subscribe", make)
    assert "token_events_audit_trail" in failing()


def test_r14_a_new_id_loses_the_anonymous_state(monkeypatch: pytest.MonkeyPatch):
    """R14 broken: a login to a new id starts from a fresh subscribed profile."""

    def make(original: Any) -> Any:
        def change_user(self: Registry, now: float, **kw: Any) -> None:
            new = not self.has_profile(kw["user"])
            original(self, now, **kw)
            if new:
                self.set_subscription(now, kw["user"], SubscriptionState.SUBSCRIBED)

        return change_user

    _patch(monkeypatch, "change_user", make)
    assert "anonymous_then_identified" in failing()


def test_r14_the_anonymous_state_overrides(monkeypatch: pytest.MonkeyPatch):
    """R14 broken: a login copies the anonymous profile's state over the identified one's."""

    def make(original: Any) -> Any:
        def change_user(self: Registry, now: float, **kw: Any) -> None:
            held = self.token_for(kw["device"], kw["app"])
            before = self.profile(held.profile).state if held is not None else None
            original(self, now, **kw)
            if before is not None:
                self.set_subscription(now, kw["user"], before)

        return change_user

    _patch(monkeypatch, "change_user", make)
    assert "anonymous_then_identified" in failing()


def test_unbroken_registry_passes_everything():
    assert failing() == set()


# -- the export and events checks, the set_subscription step --------------------------------------

PHONE = """
[story]
name = "t"
rules = ["R12"]

[[devices]]
id = "phone"
kind = "ios"
owner = "ann"
sharers = ["bo"]

[[steps]]
day = 0.0
do = "install"
device = "phone"

[[steps]]
day = 0.0
do = "launch"
device = "phone"
answer = "grant"

[[steps]]
day = 1.0
do = "login"
device = "phone"
user = "ann"
"""


def expect(check: str, equals: str, **keys: str) -> str:
    lines = ["day = 1.01", f'check = "{check}"', f"equals = {equals}"]
    lines += [f'{key} = "{value}"' for key, value in keys.items()]
    return "\n[[expect]]\n" + "\n".join(lines) + "\n"


def test_export_compares_the_keys_given_and_the_tokens_as_a_set():
    report = run_story(
        parse_story(
            PHONE
            + expect(
                "export",
                '{ push_subscribe = "opted_in", push_tokens = [{ device_id = "phone.1", '
                'token = "t1" }] }',
                profile="ann",
            )
            + expect("export", '{ external_id = "ann" }', profile="ann")
            + expect("export", "{ push_tokens = [] }", profile="anon:phone.1:app")
            + expect("export", "{ push_tokens = [] }", profile="ann")
            + expect("export", "{ push_tokens = [] }", profile="nobody_yet")
        )
    )
    assert [r.passed for r in report.results] == [True, True, True, False, False]
    assert report.results[0].actual == {
        "push_subscribe": "opted_in",
        "push_tokens": [{"device_id": "phone.1", "token": "t1"}],
    }
    assert report.results[4].actual == "none"


def test_events_since_the_last_check_of_the_device():
    text = (
        PHONE
        + expect(
            "events",
            '["add anon:phone.1:app t1 foreground", "remove anon:phone.1:app t1 foreground", '
            '"add ann t1 foreground"]',
            device="phone",
        )
        + expect("events", "[]", device="phone")
    )
    report = run_story(parse_story(text))
    assert report.passed, report.diff()


def test_set_subscription_step():
    text = (
        PHONE
        + '\n[[steps]]\nday = 1.0\ndo = "set_subscription"\nprofile = "ann"\n'
        + 'state = "unsubscribed"\n'
        + expect("subscription", '"unsubscribed"', profile="ann")
        + expect("in_audience", "false", profile="ann")
    )
    report = run_story(parse_story(text))
    assert report.passed, report.diff()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (expect("export", '"opted_in"', profile="ann"), "expect[0].equals: check 'export'"),
        (expect("export", "{ colour = 1 }", profile="ann"), "got 'colour'"),
        (expect("export", '{ push_subscribe = "yes" }', profile="ann"), "push_subscribe"),
        (
            expect("export", '{ push_tokens = [{ token = "t1" }, { app = "app" }] }', profile="a"),
            "each the same keys",
        ),
        (
            expect("export", "{ push_tokens = [{ notifications_enabled = 1 }] }", profile="a"),
            "notifications_enabled = true or false",
        ),
        (expect("export", "{}", device="phone"), "does not apply"),
        (expect("events", '["added ann t1 foreground"]', device="phone"), "got 'added"),
        (expect("events", '["add ann t1"]', device="phone"), "got 'add ann t1'"),
        (expect("events", '"add ann t1 foreground"', device="phone"), "a list of events"),
        (
            '\n[[steps]]\nday = 1.0\ndo = "set_subscription"\nprofile = "ann"\nstate = "maybe"\n',
            "steps[3].state",
        ),
        ('\n[[steps]]\nday = 1.0\ndo = "set_subscription"\nprofile = "ann"\n', "state"),
    ],
)
def test_invalid_new_checks_and_steps_are_refused(extra: str, message: str):
    text = PHONE + extra
    if "[[expect]]" not in extra:
        text += expect("token_held", "true", device="phone")
    with pytest.raises(ScenarioError) as caught:
        parse_story(text, "t.toml")
    assert message in str(caught.value)


# -- an expectation's rule -------------------------------------------------------------------------


def test_an_expectation_carries_its_rule_into_its_result():
    text = (
        PHONE
        + expect("token_owner", '"ann"', device="phone", rule="R12")
        + expect("token_held", "false", device="phone")
    )
    story = parse_story(text, "t.toml")
    assert [e.rule for e in story.expectations] == ["R12", None]
    report = run_story(story)
    assert [(r.rule, r.passed) for r in report.results] == [("R12", True), (None, False)]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            '"R4"',
            "t.toml: expect[0].rule: rule 'R4' is not one of the story's rules (R12): add it to "
            "[story] rules, or name one of those",
        ),
        ('"R99"', "t.toml: expect[0].rule: unknown rule 'R99'; rules are R1 to R14"),
        ('"r12"', "t.toml: expect[0].rule: unknown rule 'r12'"),
        ('""', "t.toml: expect[0].rule: unknown rule ''"),
        ("12", "t.toml: expect[0].rule: Input should be a valid string (got 12)"),
        ('["R12"]', "t.toml: expect[0].rule: Input should be a valid string"),
    ],
)
def test_an_expectations_rule_must_be_one_of_the_storys(rule: str, message: str):
    text = PHONE + expect("token_held", "true", device="phone") + f"rule = {rule}\n"
    with pytest.raises(ScenarioError) as caught:
        parse_story(text, "t.toml")
    assert str(caught.value).startswith(message)


def test_a_story_listing_no_rule_takes_no_rule_on_its_expectations():
    text = PHONE.replace('rules = ["R12"]\n', "") + expect("token_held", "true", device="phone")
    assert parse_story(text, "t.toml").rules == ()
    with pytest.raises(
        ScenarioError,
        match=r"expect\[0\]\.rule: rule 'R12' is not one of the story's rules \(none\)",
    ):
        parse_story(text + 'rule = "R12"\n', "t.toml")
