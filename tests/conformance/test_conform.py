"""``pushsim conform``: the reference conforms; broken registries deviate or break, and say where.

The broken registries are in :mod:`tests.conformance.broken`: each is the reference with one
change. They are loaded as a user's model would be, by ``module:factory`` or ``file.py:factory``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sim.conformance.command import OptionError, conform, main, parse_option
from sim.conformance.invariants import (
    EVENTS,
    ONE_OWNER,
    RAISED,
    Operation,
    check_invariants,
    shorten,
)
from sim.conformance.stories import StoriesError, load_stories, packaged_stories
from sim.conformance.table import DEVIATES, FOLLOWS, UNTESTED, Conformance, rule_verdicts
from sim.scenario import load_story
from sim.scenario.story_file import RULES
from sim.story import run_story

BROKEN = "tests.conformance.broken"
BROKEN_FILE = str(Path(__file__).with_name("broken.py"))


@pytest.fixture(scope="module")
def reference() -> Conformance:
    return conform("reference")


def verdicts(result: Conformance) -> dict[str, str]:
    return {row.rule: row.verdict for row in result.rules}


# -- the reference ------------------------------------------------------------------------------


def test_the_reference_conforms(reference: Conformance):
    assert verdicts(reference) == dict.fromkeys(RULES, FOLLOWS)
    assert reference.invariants.holds
    assert reference.exit_code == 0
    assert reference.summary() == "follows 14/14 rules (100 %)"
    assert all(run.passed for run in reference.runs)


def test_every_rule_is_listed_by_a_packaged_story():
    listed = {rule for file in load_stories() for rule in file.story.rules}
    assert listed == set(RULES)


def test_the_table_is_aligned_and_ends_with_the_percentage(reference: Conformance):
    text = reference.render()
    lines = text.splitlines()
    rows = [line for line in lines if line.split(" ", 1)[0] in RULES]
    assert len(rows) == 14
    assert len({line.index("follows") for line in rows}) == 1  # one column
    assert "invariants  holds" in text
    assert lines[-1] == "follows 14/14 rules (100 %)"


def test_command_exit_0_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "conform.json"
    assert main(["reference", "--operations", "50", "--json", str(out)]) == 0
    assert "follows 14/14 rules (100 %)" in capsys.readouterr().out
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["implementation"] == "reference"
    assert data["follows"] == 14 and data["percent"] == 100.0 and data["exit_code"] == 0
    assert [row["verdict"] for row in data["rules"]] == [FOLLOWS] * 14
    assert data["invariants"]["verdict"] == "holds"
    assert data["invariants"]["operations"] == 50


def test_the_reference_as_a_users_model_conforms_too():
    """Loaded by module:factory it runs behind the guard: the same verdicts."""
    result = conform(f"{BROKEN}:reference", operations=100)
    assert result.exit_code == 0


# -- deviations -----------------------------------------------------------------------------------


def test_a_login_that_moves_nothing_deviates_from_r2(capsys: pytest.CaptureFixture[str]):
    assert main([f"{BROKEN}:no_login_move", "--operations", "100"]) == 3
    out = capsys.readouterr().out
    assert "invariants  holds" in out
    result = conform(f"{BROKEN}:no_login_move", operations=50)
    row = next(row for row in result.rules if row.rule == "R2")
    assert row.verdict == DEVIATES
    assert row.deviation is not None
    assert row.deviation.file == "charlie_and_kim.toml"
    assert row.deviation.check == "token_owner"
    assert (row.deviation.expected, row.deviation.actual) == ("charlie", "anon:charlie_phone.1:app")
    assert row.deviation.note == "Charlie's login moved the anonymous token to him"
    assert "charlie_and_kim.toml, day 0.51, token_owner(charlie_phone): expected 'charlie'" in out
    assert result.invariants.holds


def test_the_same_model_loaded_from_a_file():
    result = conform(f"{BROKEN_FILE}:no_login_move", operations=50)
    assert verdicts(result)["R2"] == DEVIATES
    assert result.exit_code == 3


def test_a_team_story_adds_its_verdict(tmp_path: Path):
    shipped = packaged_stories()
    assert shipped is not None
    text = (shipped / "charlie_and_kim.toml").read_text(encoding="utf-8")
    text = text.replace('rules = ["R2", "R3", "R9"]', 'rules = ["R5"]')
    text = re.sub(r'^rule = "R\d+"\n', "", text, flags=re.MULTILINE)  # a story without tags
    text = text.replace('equals = "kim"\nnote = "Charlie', 'equals = "charlie"\nnote = "Charlie')
    (tmp_path / "ours.toml").write_text(text, encoding="utf-8")
    result = conform("reference", stories=[tmp_path], operations=20)
    row = next(row for row in result.rules if row.rule == "R5")
    assert row.verdict == DEVIATES
    assert row.deviation is not None and row.deviation.file == str(tmp_path / "ours.toml")
    assert (row.deviation.day, row.deviation.expected, row.deviation.rule) == (
        1.01,
        "charlie",
        None,
    )
    assert result.exit_code == 3


def test_untested_rules():
    shipped = packaged_stories()
    assert shipped is not None
    files = [f for f in load_stories() if f.path.name == "charlie_and_kim.toml"]
    from sim.conformance.stories import play_stories

    rows = {row.rule: row for row in rule_verdicts(play_stories(files, "reference"))}
    assert rows["R2"].verdict == FOLLOWS
    assert rows["R1"].verdict == UNTESTED and rows["R1"].stories == ()


# -- invariants -----------------------------------------------------------------------------------


def test_two_owners_break_the_invariants(capsys: pytest.CaptureFixture[str]):
    assert main([f"{BROKEN}:two_owners"]) == 1
    out = capsys.readouterr().out
    assert "invariants  BROKEN" in out
    report = check_invariants(f"{BROKEN}:two_owners")
    assert report.broken is not None
    assert report.broken.invariant == ONE_OWNER
    # shortened: a session start and the login that left the token with two owners
    names = [op.name for op in report.broken.operations]
    assert names[-1] == "change_user" and "session_start" in names and len(names) <= 4
    assert report.broken.found_after >= len(names)


def test_a_registry_that_emits_no_events_breaks_them():
    result = conform(f"{BROKEN}:silent", operations=50)
    assert result.exit_code == 1
    assert result.invariants.broken is not None
    assert result.invariants.broken.invariant == EVENTS
    assert verdicts(result)["R13"] == DEVIATES


def test_a_registry_that_raises_is_reported_not_crashed():
    result = conform(f"{BROKEN}:raises_on_logout", operations=100)
    assert result.exit_code == 1
    broken = result.invariants.broken
    assert broken is not None and broken.invariant == RAISED
    assert "KeyError" in broken.message and broken.operations[-1].name == "log_out"
    row = next(row for row in result.rules if row.rule == "R3")
    assert row.verdict == DEVIATES
    assert row.deviation is not None and "raised KeyError" in str(row.deviation.actual)


def test_the_driver_is_deterministic():
    first = check_invariants(f"{BROKEN}:two_owners", seed=3)
    again = check_invariants(f"{BROKEN}:two_owners", seed=3)
    assert first == again


def test_shorten_keeps_the_last_operation_and_what_it_needs():
    ops = [Operation("prune_inactive", float(day)) for day in range(40)]
    needed = {ops[7], ops[23], ops[39]}

    def breaks(candidate):
        return object() if needed <= set(candidate) and candidate[-1] is ops[-1] else None

    assert shorten(ops, breaks) == [ops[7], ops[23], ops[39]]


# -- a model that raises during a story ------------------------------------------------------------


def test_expectations_after_a_failure_fail_with_its_message():
    shipped = packaged_stories()
    assert shipped is not None
    story = load_story(shipped / "charlie_and_kim.toml")
    report = run_story(story, f"{BROKEN}:raises_on_logout")
    before = [r for r in report.results if r.day < 1.0]
    after = [r for r in report.results if r.day >= 1.0]
    assert before and all(r.passed for r in before)
    assert after and not any(r.passed for r in after)
    assert all("raised KeyError" in str(r.actual) for r in after)
    checks = [r for r in after if r.check not in ("world", "step")]
    assert checks and all(r.rule in story.rules for r in checks)  # not checked, still its rule
    assert len([r for r in report.results if r.check not in ("world", "step")]) == len(
        story.expectations
    )


# -- unusable implementations and arguments -------------------------------------------------------


def test_an_object_that_is_no_registry_exits_2(capsys: pytest.CaptureFixture[str]):
    assert main([f"{BROKEN}:not_a_registry"]) == 2
    err = capsys.readouterr().err
    assert "does not implement the registry protocol" in err
    for member in ("subscribe", "session_start", "change_user", "audience_size", "profile"):
        assert f"{member}: missing" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nosuch_module_xyz:factory"], "nosuch_module_xyz"),
        (["reference", "--option", "colour=blue"], "takes no options"),
        (["reference", "--option", "nokey"], "expected KEY=VALUE"),
        (["reference", "--stories", "/no/such/folder"], "'/no/such/folder' does not exist"),
    ],
)
def test_bad_arguments_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_folder_without_stories_and_an_invalid_story(tmp_path: Path):
    with pytest.raises(StoriesError, match="has no story files"):
        load_stories([tmp_path])
    (tmp_path / "bad.toml").write_text('[story]\nname = "x"\n', encoding="utf-8")
    with pytest.raises(StoriesError, match=r"bad\.toml"):
        load_stories([tmp_path])


def test_options_are_toml_values_or_text():
    assert parse_option("url=http://localhost:8080") == ("url", "http://localhost:8080")
    assert parse_option("timeout=5") == ("timeout", 5)
    assert parse_option("strict=true") == ("strict", True)
    assert parse_option("name=") == ("name", "")
    with pytest.raises(OptionError):
        parse_option("=3")
