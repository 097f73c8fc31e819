"""Which rule a failure counts against: the expectation's ``rule``, or every rule of its story.

A registry with one defect must deviate from the rule it breaks, not from every rule listed by a
story that happens to check a consequence of it. The packaged stories tag every expectation; a
team's story may not, and then its failures count against all the rules it lists.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sim.conformance.command import conform, main
from sim.conformance.stories import StoriesError, StoryFile, StoryRun, load_stories
from sim.conformance.table import DEVIATES, FOLLOWS, Conformance, Deviation, rule_verdicts
from sim.story import DeviceSpec, Expectation, ExpectationResult, Story, StoryReport
from sim.world import DeviceKind

BROKEN = "tests.conformance.broken"
REPO = Path(__file__).resolve().parents[2]
DETACH_EXAMPLE = REPO / "examples" / "registries" / "detach_on_logout.py"
STORIES = REPO / "scenarios" / "stories"


def verdicts(result: Conformance) -> dict[str, str]:
    return {row.rule: row.verdict for row in result.rules}


def untagged(text: str) -> str:
    """A story file's text with every expectation's ``rule`` taken out."""
    return re.sub(r'^rule = "R\d+"\n', "", text, flags=re.MULTILINE)


# -- the table, from results made up here ---------------------------------------------------------


def run_of(label: str, rules: tuple[str, ...], *results: ExpectationResult) -> StoryRun:
    story = Story(
        label,
        (DeviceSpec("phone", DeviceKind.IOS, "ann"),),
        (),
        (Expectation(1.0, "audience_size", 0),),
        rules=rules,
    )
    return StoryRun(StoryFile(Path(label), label, story), StoryReport(label, results))


def result(day: float, rule: str | None, passed: bool = False) -> ExpectationResult:
    return ExpectationResult(day, "audience_size", "audience_size()", 0, 1, passed, "", rule)


def test_a_tagged_failure_counts_against_its_rule_only():
    run = run_of("a.toml", ("R2", "R3", "R4"), result(1.0, "R2", True), result(2.0, "R4"))
    rows = {row.rule: row for row in rule_verdicts([run])}
    assert rows["R4"].verdict == DEVIATES and rows["R4"].failed == ("a.toml",)
    assert rows["R2"].verdict == FOLLOWS and rows["R3"].verdict == FOLLOWS
    assert rows["R2"].failed == () and rows["R2"].stories == ("a.toml",)
    assert run.passed_for("R2") and not run.passed_for("R4") and not run.passed
    assert run.failures_for("R9") == []  # not listed: nothing counts against it, no row


def test_an_untagged_failure_counts_against_every_rule_of_its_story():
    run = run_of("a.toml", ("R2", "R3"), result(1.0, None))
    rows = {row.rule: row for row in rule_verdicts([run])}
    assert rows["R2"].verdict == DEVIATES and rows["R3"].verdict == DEVIATES
    assert rows["R4"].verdict == "untested"
    deviation = rows["R3"].deviation
    assert deviation is not None and deviation.rule is None


def test_the_deviation_is_the_first_failure_counted_against_the_rule():
    runs = [
        run_of("a.toml", ("R2", "R3"), result(1.0, "R3"), result(2.0, "R2"), result(3.0, "R2")),
        run_of("b.toml", ("R2",), result(0.5, "R2")),
        run_of("c.toml", ("R2",), result(0.5, "R2", True)),
    ]
    rows = {row.rule: row for row in rule_verdicts(runs)}
    r2 = rows["R2"]
    assert r2.failed == ("a.toml", "b.toml") and r2.stories == ("a.toml", "b.toml", "c.toml")
    assert r2.deviation is not None
    assert (r2.deviation.file, r2.deviation.day, r2.deviation.rule) == ("a.toml", 2.0, "R2")
    r3 = rows["R3"].deviation
    assert r3 is not None and (r3.day, r3.rule) == (1.0, "R3")
    # the story's own first failure, whatever its rule (the pytest plugin shows this one)
    first = Deviation.of(runs[0])
    assert first is not None and (first.day, first.rule) == (1.0, "R3")


# -- the packaged stories -------------------------------------------------------------------------


def test_an_r4_defect_deviates_from_r4_not_from_the_rules_beside_it():
    """A grant never opts in: the stories of R6–R11 check opted_in too, but name R4 there."""
    result = conform(f"{BROKEN}:no_opt_in", operations=20)
    found = verdicts(result)
    assert found["R4"] == DEVIATES
    r4 = next(row for row in result.rules if row.rule == "R4")
    assert r4.deviation is not None and r4.deviation.rule == "R4"
    assert (r4.deviation.expected, r4.deviation.actual) == ("opted_in", "subscribed")
    # the export and the identity stories check R12 and R14 apart from the state R4 sets
    assert {rule for rule, verdict in found.items() if verdict == DEVIATES} == {"R4"}
    for rule in ("R1", "R2", "R3", "R5", "R6", "R7", "R8", "R9", "R10", "R11", "R12", "R13", "R14"):
        assert found[rule] == FOLLOWS, rule
    r9 = next(row for row in result.rules if row.rule == "R9")
    assert r9.failed == () and "first_push_after_uninstall.toml" in r9.stories
    assert result.invariants.holds and result.exit_code == 3


def test_detaching_on_logout_deviates_from_r3_only():
    result = conform(f"{DETACH_EXAMPLE}:build", operations=20)
    assert {rule for rule, verdict in verdicts(result).items() if verdict == DEVIATES} == {"R3"}
    r3 = next(row for row in result.rules if row.rule == "R3")
    assert r3.failed == ("charlie_and_kim.toml",)
    assert r3.deviation is not None and r3.deviation.rule == "R3"


def test_the_same_story_untagged_counts_against_all_its_rules(tmp_path: Path):
    text = (STORIES / "first_push_after_uninstall.toml").read_text(encoding="utf-8")
    ours = tmp_path / "first_push_untagged.toml"
    ours.write_text(untagged(text), encoding="utf-8")
    result = conform(f"{BROKEN}:no_opt_in", stories=[tmp_path], operations=20)
    rows = {row.rule: row for row in result.rules}
    for rule in ("R4", "R6", "R7", "R9"):  # the rules that story lists
        assert rows[rule].verdict == DEVIATES, rule
        assert str(ours) in rows[rule].failed
    deviation = rows["R7"].deviation
    assert deviation is not None and deviation.file == str(ours) and deviation.rule is None
    assert "first_push_after_uninstall.toml" not in rows["R7"].failed  # the tagged original
    assert rows["R1"].verdict == FOLLOWS


def test_the_json_names_each_failures_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "conform.json"
    assert main([f"{BROKEN}:no_opt_in", "--operations", "20", "--json", str(out)]) == 3
    capsys.readouterr()
    data = json.loads(out.read_text(encoding="utf-8"))
    rows = {row["rule"]: row for row in data["rules"]}
    assert rows["R4"]["deviation"]["rule"] == "R4"
    assert rows["R9"]["deviation"] is None and rows["R9"]["failed"] == []
    stories = {story["file"]: story for story in data["stories"]}
    first_push = stories["first_push_after_uninstall.toml"]
    assert first_push["passed"] is False and first_push["failed_rules"] == ["R4"]
    assert first_push["first_failure"]["rule"] == "R4"
    assert stories["charlie_and_kim.toml"]["failed_rules"] == []


# -- a rule the story does not list ---------------------------------------------------------------


def test_a_rule_not_in_the_storys_rules_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    text = (STORIES / "export_view.toml").read_text(encoding="utf-8")
    bad = tmp_path / "ours.toml"
    bad.write_text(text.replace('rule = "R12"', 'rule = "R9"', 1), encoding="utf-8")
    message = (
        f"{bad}: expect[0].rule: rule 'R9' is not one of the story's rules (R12, R4): add it to "
        "[story] rules, or name one of those"
    )
    with pytest.raises(StoriesError) as caught:
        load_stories([tmp_path])
    assert str(caught.value) == message
    assert main(["reference", "--stories", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
