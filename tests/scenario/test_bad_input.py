"""Bad input to ``pushsim run``: exit code 2, one clear message, no traceback, no results folder.

Every message names the file and the key path and says what is allowed there. A few cases run
through a real subprocess (as a user would see them), the rest through ``main(argv)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from sim.cli import main
from sim.scenario import ScenarioError, load_scenario
from tests.cli import REPO, pushsim, staging_folders

BASELINE = REPO / "scenarios" / "baseline.toml"

HEADER = '[scenario]\nname = "bad_input"\n\n[measurement]\ndays = 5\nseed = 3\n\n'
GOOD = HEADER + "[population]\ndevices = 50\n"


@dataclass(frozen=True)
class Case:
    """One bad input: the scenario file's text (None: no file), extra arguments, what to expect."""

    id: str
    text: str | None
    key: str | None  # the key path the message names (None: the problem has none)
    says: tuple[str, ...]  # what the message must also say (what is allowed, what was given)
    args: tuple[str, ...] = ()
    subprocess: bool = False


CASES = [
    Case(
        "typo-top-level",
        HEADER + "[populaton]\ndevices = 50\n",
        "populaton",
        ("unknown key", "allowed keys: population, permission, behaviour", "measurement"),
        subprocess=True,
    ),
    Case(
        "typo-nested",
        HEADER + "[population]\ndevicez = 50\n",
        "population.devicez",
        ("unknown key", "allowed keys: devices, platform_share", "arrivals_per_day"),
    ),
    Case(
        "typo-in-measurement",
        '[scenario]\nname = "bad_input"\n\n[measurement]\nday = 5\n',
        "measurement.day",
        ("unknown key", "allowed keys: days, sample_every_days, warm_up_days, seed"),
    ),
    Case(
        "negative-rate",
        HEADER + "[population]\narrivals_per_day = -1.0\n",
        "population.arrivals_per_day",
        ("greater than or equal to 0", "got -1.0"),
    ),
    Case(
        "negative-count",
        HEADER + "[population]\ndevices = -10\n",
        "population.devices",
        ("greater than or equal to 0", "got -10"),
    ),
    Case(
        "share-above-1",
        HEADER + "[permission]\nios_opt_in_share = 1.5\n",
        "permission.ios_opt_in_share",
        ("less than or equal to 1", "got 1.5"),
    ),
    Case(
        "unknown-device-kind",
        HEADER + "[population.platform_share]\nios = 0.5\niphone = 0.5\n",
        "population.platform_share.iphone",
        ("'ios', 'android_legacy', 'android_13' or 'web'", "got 'iphone'"),
    ),
    Case(
        "shares-not-summing-to-1",
        HEADER + "[population.platform_share]\nios = 0.5\nweb = 0.3\n",
        "population.platform_share",
        ("must sum to 1", "0.8"),
    ),
    Case(
        "broken-toml",
        HEADER + "[population\ndevices = 50\n",
        None,
        ("invalid TOML", "line 8"),
        subprocess=True,
    ),
    Case(
        "string-for-an-integer",
        HEADER + '[population]\ndevices = "many"\n',
        "population.devices",
        ("valid integer", "got 'many'"),
    ),
    Case(
        "string-for-a-number",
        HEADER + '[behaviour]\nsession_rate_per_day = "0.7"\n',
        "behaviour.session_rate_per_day",
        ("valid number", "got '0.7'"),
    ),
    Case(
        "string-in-a-window",
        HEADER + '[providers]\nfcm_lag_days = ["1", 2.0]\n',
        "providers.fcm_lag_days[0]",
        ("valid number", "got '1'"),
    ),
    Case(
        "table-for-a-value",
        HEADER + "[population.devices]\ncount = 50\n",
        "population.devices",
        ("valid integer",),
    ),
    Case(
        "warm-up-not-shorter-than-days",
        '[scenario]\nname = "bad_input"\n\n[measurement]\ndays = 10\nwarm_up_days = 10\n',
        "measurement.warm_up_days",
        ("must be shorter than days (10)",),
    ),
    Case(
        "lag-window-low-above-high",
        HEADER + "[providers]\napns_lag_days = [11.0, 9.0]\n",
        "providers.apns_lag_days",
        ("must be [low, high] with low <= high", "[11.0, 9.0]"),
    ),
    Case(
        "unknown-ios-strategy",
        HEADER + '[permission]\nios_strategy = "silent"\n',
        "permission.ios_strategy",
        ("'prompt' or 'provisional'", "got 'silent'"),
    ),
    Case(
        "no-scenario-name",
        "[population]\ndevices = 50\n",
        "scenario",
        ("required key is missing",),
    ),
    Case(
        "bad-scenario-name",
        '[scenario]\nname = "has spaces"\n',
        "scenario.name",
        ("should match pattern", "got 'has spaces'"),
    ),
    Case("missing-file", None, None, ("cannot read the file",), subprocess=True),
    Case(
        "set-unknown-section",
        GOOD,
        "--set populaton",
        ("unknown key", "allowed keys: population, permission"),
        args=("--set", "populaton.devices=3"),
    ),
    Case(
        "set-unknown-key",
        GOOD,
        "population.devicez",
        ("unknown key", "allowed keys: devices, platform_share"),
        args=("--set", "population.devices=3", "--set", "population.devicez=3"),
    ),
    Case(
        "set-unknown-top-level-key",
        GOOD,
        "seed",
        ("unknown key", "allowed keys: population", "measurement"),
        args=("--set", "seed=3"),
    ),
    Case(
        "set-below-a-value",
        GOOD,
        "--set population.devices.count",
        ("devices is not a table",),
        args=("--set", "population.devices.count=3"),
    ),
    Case(
        "set-without-equals",
        GOOD,
        "--set",
        ("expected key.path=value", "'population.devices'"),
        args=("--set", "population.devices"),
    ),
    Case(
        "set-empty-key",
        GOOD,
        "--set",
        ("expected key.path=value",),
        args=("--set", "population..devices=3"),
    ),
    Case(
        "set-bad-value",
        GOOD,
        "permission.android_13_opt_in_share",
        ("less than or equal to 1", "got 63"),
        args=("--set", "permission.android_13_opt_in_share=63"),
    ),
    Case(
        "negative-seed",
        GOOD,
        "--seed",
        ("must be >= 0", "got -1"),
        args=("--seed", "-1"),
        subprocess=True,
    ),
    Case(
        "zero-shards",
        '[scenario]\nname = "bad_input"\n\n[measurement]\ndays = 5\nshards = 0\n',
        "measurement.shards",
        ("greater than or equal to 1", "got 0"),
    ),
    Case(
        "fractional-shards",
        GOOD,
        "measurement.shards",
        ("valid integer", "got 1.5"),
        args=("--set", "measurement.shards=1.5"),
    ),
    Case("zero-days", GOOD, "--days", ("> 0", "got 0.0"), args=("--days", "0")),
    Case("negative-days", GOOD, "--days", ("> 0", "got -3.0"), args=("--days", "-3")),
    Case("infinite-days", GOOD, "--days", ("finite", "got inf"), args=("--days", "inf")),
    Case("nan-days", GOOD, "--days", ("> 0", "got nan"), args=("--days", "nan")),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_exits_2_with_a_clear_message_and_writes_nothing(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    scenario = tmp_path / "bad_input.toml"
    if case.text is not None:
        scenario.write_text(case.text, encoding="utf-8")
    out = tmp_path / "results" / "res"
    argv = ["run", str(scenario), "--out", str(out), "--quiet", *case.args]
    if case.subprocess:
        done = pushsim(*argv)
        code, stdout, stderr = done.returncode, done.stdout, done.stderr
    else:
        code = main(argv)
        stdout, stderr = capsys.readouterr()

    assert code == 2, stderr
    assert "Traceback" not in stderr
    assert stdout == "", "nothing may look like a result"
    # "<file>: <key.path>: <what is allowed>"
    prefix = f"{scenario}: {case.key}: " if case.key is not None else f"{scenario}: "
    assert stderr.startswith(prefix), stderr
    for text in case.says:
        assert text in stderr, stderr
    # no results folder, no staging folder, not even the parent folder
    assert not out.exists()
    assert not staging_folders(out)
    assert not out.parent.exists()


FILE_CASES = [case for case in CASES if not case.args]


@pytest.mark.parametrize("case", FILE_CASES, ids=[case.id for case in FILE_CASES])
def test_validate_reports_the_same_problem(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    scenario = tmp_path / "bad_input.toml"
    if case.text is not None:
        scenario.write_text(case.text, encoding="utf-8")
    good = tmp_path / "good.toml"
    good.write_text(GOOD, encoding="utf-8")

    assert main(["validate", str(good), str(scenario)]) == 2
    stdout, stderr = capsys.readouterr()
    assert f"ok  {good}  (scenario: bad_input, hash " in stdout, "the good file is still checked"
    assert str(scenario) not in stdout
    prefix = f"{scenario}: {case.key}: " if case.key is not None else f"{scenario}: "
    assert stderr.startswith(prefix), stderr
    for text in case.says:
        assert text in stderr


def test_several_problems_are_reported_together(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    scenario = tmp_path / "many.toml"
    scenario.write_text(
        HEADER + "[population]\ndevicez = 5\narrivals_per_day = -1.0\n\n"
        '[permission]\nios_strategy = "silent"\n',
        encoding="utf-8",
    )
    assert main(["run", str(scenario), "--out", str(tmp_path / "res"), "--quiet"]) == 2
    stderr = capsys.readouterr().err
    lines = stderr.splitlines()
    assert lines[0] == f"{scenario}: 3 problems"
    assert any(
        line.startswith("  population.devicez: unknown key; allowed keys:") for line in lines
    )
    assert any(line.startswith("  population.arrivals_per_day: ") for line in lines)
    assert any(line.startswith("  permission.ios_strategy: ") for line in lines)
    assert not (tmp_path / "res").exists()


def test_story_with_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    story = tmp_path / "typo_story.toml"
    story.write_text(
        '[story]\nname = "typo"\n\n[[devices]]\nid = "phone"\nkind = "iphone"\nowner = "kim"\n\n'
        '[[expect]]\nday = 0.0\ncheck = "audience_size"\nequals = 0\n',
        encoding="utf-8",
    )
    assert main(["story", str(story)]) == 2
    stderr = capsys.readouterr().err
    assert stderr.startswith(f"{story}: devices[0].kind: "), stderr
    assert "'ios'" in stderr and "'web'" in stderr and "got 'iphone'" in stderr


def test_argument_errors_exit_2_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    out = tmp_path / "res"
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "scenarios/baseline.toml", "--days", "a week", "--out", str(out)])
    assert exit_info.value.code == 2
    stderr = capsys.readouterr().err
    assert "--days: invalid float value: 'a week'" in stderr
    assert "Traceback" not in stderr
    assert not out.exists()

    with pytest.raises(SystemExit) as exit_info:
        main(["frobnicate"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err


def test_run_refuses_to_replace_a_folder_that_is_not_results(tmp_path: Path):
    precious = tmp_path / "documents"
    precious.mkdir()
    (precious / "thesis.txt").write_text("do not delete")
    code = main(["run", str(BASELINE), "--out", str(precious), "--quiet", "--days", "1"])
    assert code == 2
    assert (precious / "thesis.txt").read_text() == "do not delete"


def test_string_lag_values_are_refused(tmp_path: Path):
    path = tmp_path / "lag.toml"
    path.write_text('[scenario]\nname = "x"\n[providers]\napns_lag_days = ["9", "11"]\n')
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert "providers.apns_lag_days" in str(caught.value)


def test_warm_up_error_names_the_key(tmp_path: Path):
    path = tmp_path / "warm.toml"
    path.write_text('[scenario]\nname = "x"\n[measurement]\ndays = 10\nwarm_up_days = 10\n')
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert "measurement.warm_up_days" in str(caught.value)
