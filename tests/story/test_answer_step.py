"""The ``answer`` step: a scripted provider answer for the next sends to a device's last token."""

from __future__ import annotations

import pytest

from sim.platforms import Provider
from sim.providers import SendResult
from sim.scenario import ScenarioError, load_story, story_files
from sim.story import Step, StepKind, StoryError, provider_answer
from sim.story.steps import ScriptedAnswers
from tests.story.stories import device, expect, header, play, ready, step, story

IDA = header() + device("ida_phone", "ios", "ida") + ready("ida_phone", "ida")


def stale_410(policy: str = "") -> str:
    """Ida registers again on day 3; on day 4 APNs says her token is invalid since day 2."""
    return (
        header(policy=policy)
        + device("ida_phone", "ios", "ida")
        + ready("ida_phone", "ida")
        + step(3.0, "session", device="ida_phone")
        + step(
            4.0,
            "answer",
            device="ida_phone",
            status=410,
            reason="Unregistered",
            timestamp_day=2.0,
        )
        + step(4.0, "campaign", campaign="c")
        + expect(4.01, "campaign", "{ targeted = 1, bounced = 1 }", campaign="c")
        + expect(4.01, "token_held", "true", device="ida_phone")
        + expect(4.01, "stale_cause", '"live"', device="ida_phone")
    )


def test_an_apns_410_older_than_the_registration_is_ignored():
    report = play(stale_410())
    assert report.passed, report.diff()


def test_the_same_410_removes_the_token_when_the_policy_does_not_honour_the_timestamp():
    report = play(stale_410("honour_apns_timestamp = false"))
    assert [(r.check, r.actual) for r in report.failures] == [
        ("token_held", False),
        ("stale_cause", "none"),
    ]


def test_a_410_after_the_registration_removes_the_token_and_records_the_uninstall():
    text = (
        IDA
        + step(4.0, "answer", device="ida_phone", status=410, reason="Unregistered")
        + step(4.0, "campaign", campaign="c")
        + expect(4.01, "token_held", "false", device="ida_phone")
        + expect(4.01, "uninstall_detected", "true", device="ida_phone")
        + expect(4.01, "provider_accepts", "true", device="ida_phone")
    )
    report = play(text)
    assert report.passed, report.diff()


def test_a_429_then_the_retry_succeeds_through_the_model():
    text = (
        IDA
        + step(2.0, "answer", device="ida_phone", status=429, reason="TooManyRequests")
        + step(2.0, "campaign", campaign="c")
        + expect(2.0, "campaign", "{ targeted = 1, displayed = 0, gave_up = 0 }", campaign="c")
        + expect(2.01, "campaign", '{ displayed = 1, shown_to = ["ida"] }', campaign="c")
        + step(3.0, "campaign", campaign="next")
        + expect(3.01, "campaign", "{ targeted = 1, displayed = 1 }", campaign="next")
    )
    report = play(text)
    assert report.passed, report.diff()


def test_answers_beyond_the_retry_budget_give_up_and_keep_the_token():
    text = (
        IDA
        + step(2.0, "answer", device="ida_phone", status=503, reason="ServiceUnavailable", times=6)
        + step(2.0, "campaign", campaign="c")
        + expect(2.01, "campaign", "{ targeted = 1, gave_up = 1, displayed = 0 }", campaign="c")
        + expect(2.01, "token_held", "true", device="ida_phone")
    )
    report = play(text)
    assert report.passed, report.diff()


def test_a_credential_error_flags_and_keeps_the_token():
    text = (
        IDA
        + step(2.0, "answer", device="ida_phone", status=403, reason="InvalidProviderToken")
        + step(2.0, "campaign", campaign="c")
        + expect(2.01, "campaign", "{ targeted = 1, flagged = 1, bounced = 0 }", campaign="c")
        + expect(2.01, "token_held", "true", device="ida_phone")
        + expect(2.01, "in_audience", "true", profile="ida")
    )
    report = play(text)
    assert report.passed, report.diff()


def test_answers_queue_up_and_retries_use_them_too():
    text = (
        IDA
        + step(2.0, "answer", device="ida_phone", status=429, reason="TooManyRequests")
        + step(2.0, "answer", device="ida_phone", status=410, reason="Unregistered")
        + step(2.0, "campaign", campaign="c")
        + expect(2.01, "campaign", "{ targeted = 1, bounced = 1, displayed = 0 }", campaign="c")
        + expect(2.01, "token_held", "false", device="ida_phone")
    )
    report = play(text)
    assert report.passed, report.diff()


def test_fcm_and_web_push_answers():
    text = (
        header()
        + device("kai_phone", "android_legacy", "kai")
        + device("kai_laptop", "web", "kai", browser="chrome")
        + ready("kai_phone", "kai")
        + step(0.0, "install", device="kai_laptop")
        + step(0.0, "launch", device="kai_laptop", answer="grant")
        + step(2.0, "answer", device="kai_phone", status=404, reason="NotRegistered")
        + step(2.0, "answer", device="kai_laptop", status=410)
        + step(2.0, "campaign", campaign="c")
        + expect(2.01, "campaign", "{ targeted = 2, bounced = 2 }", campaign="c")
        + expect(2.01, "token_held", "false", device="kai_phone")
        + expect(2.01, "token_held", "false", device="kai_laptop")
    )
    report = play(text)
    assert report.passed, report.diff()


def test_an_answer_for_a_device_without_a_token_is_an_impossible_step():
    text = (
        header()
        + device("ida_phone", "ios", "ida")
        + step(0.0, "install", device="ida_phone")
        + step(0.5, "answer", device="ida_phone", status=410, reason="Unregistered")
        + expect(1.0, "token_held", "false", device="ida_phone")
    )
    report = play(text)
    assert [(r.check, r.passed) for r in report.results] == [("step", False), ("token_held", True)]
    assert "steps[1]: answer 410 Unregistered on ida_phone" in report.results[0].description
    assert "ida_phone has no token yet" in str(report.results[0].actual)


def test_an_answer_after_an_uninstall_goes_to_the_last_token():
    text = (
        IDA
        + step(1.0, "uninstall", device="ida_phone")
        + step(2.0, "answer", device="ida_phone", status=410, reason="Unregistered")
        + step(2.0, "campaign", campaign="c")
        + expect(2.01, "campaign", "{ targeted = 1, bounced = 1, dropped = 0 }", campaign="c")
        + expect(2.01, "uninstall_detected", "true", device="ida_phone")
    )
    report = play(text)
    assert report.passed, report.diff()


# -- what is refused ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (
            {"status": 410, "reason": "Gone"},
            "t.toml: steps[3].reason: apns does not answer 410 'Gone' (docs/model.md §2); "
            "its answers: 410 Unregistered, 410 ExpiredToken,",
        ),
        ({"status": 410}, "steps[3].reason: apns does not answer 410 ''"),
        ({"status": 404, "reason": "Unregistered"}, "steps[3].status: apns does not answer 404"),
        ({"status": 200}, "steps[3].status: 200 accepts the send"),
        (
            {"status": 403, "reason": "InvalidProviderToken", "timestamp_day": 0.5},
            "steps[3].timestamp_day: only an APNs 410 carries a timestamp (this is apns 403)",
        ),
        (
            {"status": 410, "reason": "Unregistered", "timestamp_day": 3.0},
            "steps[3].timestamp_day: APNs' timestamp says since when the token is invalid: at "
            "most the step's day (2), got 3",
        ),
        ({"status": 410, "reason": "Unregistered", "times": 0}, "steps[3].times"),
        ({"status": 1000}, "steps[3].status"),
        ({"status": "410"}, "steps[3].status"),
        ({"reason": "Unregistered"}, "steps[3].status: do = 'answer' needs 'status'"),
        ({"status": 410, "reason": "Unregistered", "user": "ida"}, "steps[3].user"),
    ],
)
def test_answers_the_table_does_not_know_are_refused(keys: dict[str, object], message: str):
    text = IDA + step(2.0, "answer", device="ida_phone", **keys) + expect(3.0, "audience_size", "1")
    with pytest.raises(ScenarioError) as caught:
        story(text)
    assert message in str(caught.value)


def test_the_provider_is_the_devices_and_a_replacement_keeps_it():
    base = header() + device("kai_laptop", "web", "kai", browser="firefox")
    tail = expect(3.0, "audience_size", "0")
    with pytest.raises(ScenarioError, match=r"steps\[0\]\.reason: Web Push answers carry no"):
        story(base + step(2.0, "answer", device="kai_laptop", status=410, reason="Gone") + tail)
    replaced = step(1.0, "replace", device="kai_laptop", new_device="new_laptop")
    with pytest.raises(ScenarioError, match=r"steps\[1\]\.reason: Web Push"):
        story(
            base
            + replaced
            + step(2.0, "answer", device="new_laptop", status=410, reason="x")
            + tail
        )
    story(base + replaced + step(2.0, "answer", device="new_laptop", status=503) + tail)


def test_python_steps_are_checked_too():
    with pytest.raises(StoryError, match="status: must be a whole number >= 100"):
        Step(1.0, StepKind.ANSWER, device="phone", status=True)
    with pytest.raises(StoryError, match="does not apply to do = 'answer'"):
        Step(1.0, StepKind.ANSWER, device="phone", status=410, campaign="c")
    with pytest.raises(StoryError, match="reason: apns does not answer 410 'Gone'"):
        provider_answer(Provider.APNS, 410, "Gone")
    assert provider_answer(Provider.FCM, 404, "UNREGISTERED") == SendResult(
        Provider.FCM, 404, "UNREGISTERED"
    )
    assert provider_answer(Provider.WEBPUSH, 502).status == 502


def test_scripted_answers_are_used_in_order_then_the_model_answers():
    script = ScriptedAnswers()
    first, second = SendResult(Provider.APNS, 429, "x"), SendResult(Provider.APNS, 410, "y")
    script.add("t", first, 2)
    script.add("t", second, 1)
    assert script.pending("t") == 3
    assert [script("t"), script("t"), script("t"), script("t")] == [first, first, second, None]
    assert script("other") is None
    assert script.pending("t") == 0


def test_the_packaged_stories_use_the_answer_step():
    answering = {
        path.stem
        for path in story_files()
        if any(s.do is StepKind.ANSWER for s in load_story(path).steps)
    }
    assert {"apns_stale_410", "provider_errors_keep_the_token"} <= answering
