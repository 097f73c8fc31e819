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


#: words of Python or pydantic that a message must never use (the file's words are table, list,
#: integer, number, true/false), and the names of the schema's classes
JARGON = (
    "dictionary",
    "instance of",
    "Tuple",
    "after validation",
    "Params",
    "ScenarioMeta",
    "Measurement",
    "Sweep",
    "Table",
    "Traceback",
)

#: deeper than Python's recursion limit lets ``tomllib`` read
DEEP = 5000
DEEP_HEADER_KEY = "population" + ".a" * 19  # where a 5000-level [population.a.a...] is refused


@dataclass(frozen=True)
class Case:
    """One bad input: the scenario file's text (None: no file), extra arguments, what to expect."""

    id: str
    text: str | None
    key: str | None  # the key path the message names (None: the problem has none)
    says: tuple[str, ...]  # what the message must also say (what is allowed, what was given)
    args: tuple[str, ...] = ()
    subprocess: bool = False
    encoding: str = "utf-8"


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
        ("has ' '", "use only letters, digits, '_', '-' and '.'", "got 'has spaces'"),
    ),
    # the name is the results folder, results/<name>: one safe path segment
    Case(
        "scenario-name-dot",
        '[scenario]\nname = "."\n',
        "scenario.name",
        ("'.' is not a folder name of its own", "got '.'"),
    ),
    Case(
        "scenario-name-dot-dot",
        '[scenario]\nname = ".."\n',
        "scenario.name",
        ("'..' is not a folder name of its own", "the folder above"),
    ),
    Case(
        "scenario-name-with-a-separator",
        '[scenario]\nname = "a/b"\n',
        "scenario.name",
        ("must be one folder name, without '/'",),
    ),
    Case(
        "scenario-name-hidden",
        '[scenario]\nname = ".baseline.partial-x"\n',
        "scenario.name",
        ("must not start with '.'",),
    ),
    Case(
        "scenario-name-too-long",
        f'[scenario]\nname = "{"x" * 300}"\n',
        "scenario.name",
        ("must be at most 100 characters", "got 300"),
    ),
    # what validate accepts, run runs: the providers' and the behaviour's own constraints
    Case(
        "fcm-inactivity-zero",
        HEADER + "[providers]\nfcm_inactivity_days = 0\n",
        "providers.fcm_inactivity_days",
        ("greater than 0", "got 0"),
    ),
    Case(
        "web-inactivity-zero",
        HEADER + "[providers]\nweb_inactivity_days = 0.0\n",
        "providers.web_inactivity_days",
        ("greater than 0", "got 0.0"),
    ),
    Case(
        "everyone-uninstalled-by-day-30",
        HEADER + "[behaviour]\nuninstall_by_day30_share = 1.0\n",
        "behaviour.uninstall_by_day30_share",
        ("can be 1 only if uninstall_by_day1_share is 1 too",),
    ),
    # nesting
    Case(
        "deep-array",
        HEADER + "x = " + "[" * DEEP + "]" * DEEP + "\n",
        None,
        ("invalid TOML", "nested too deeply"),
    ),
    Case(
        "deep-inline-table",
        HEADER + "x = " + "{a = " * DEEP + "1" + "}" * DEEP + "\n",
        None,
        ("invalid TOML", "nested too deeply"),
    ),
    Case(
        "deep-table-header",
        HEADER + "[population" + ".a" * DEEP + "]\nx = 1\n",
        DEEP_HEADER_KEY,
        ("nested more than 20 levels deep",),
    ),
    Case(
        "nested-array-in-a-value",
        HEADER + "[population]\ndevices = " + "[" * 30 + "1" + "]" * 30 + "\n",
        "population.devices" + "[0]" * 18,
        ("nested more than 20 levels deep",),
    ),
    Case(
        "set-deep-value",
        GOOD,
        "--set population.devices",
        ("nested too deeply",),
        args=("--set", "population.devices=" + "[" * DEEP + "]" * DEEP),
    ),
    Case(
        "utf-16-file",
        GOOD,
        None,
        ("cannot read the file: it is UTF-16 text; save it as UTF-8",),
        encoding="utf-16",
    ),
    # messages in the file's words
    Case(
        "set-a-whole-table",
        GOOD,
        "population",
        ("must be a table of keys: devices, platform_share, web_safari_share", "got 5"),
        args=("--set", "population=5"),
    ),
    Case(
        "array-of-tables-for-a-table",
        HEADER + "[[population]]\ndevices = 5\n",
        "population",
        ("must be a table of keys: devices, platform_share", "got a list of 1 value"),
    ),
    Case(
        "value-for-a-table",
        'measurement = 5\n\n[scenario]\nname = "bad_input"\n',
        "measurement",
        ("must be a table of keys: days, sample_every_days, warm_up_days",),
    ),
    Case(
        "value-for-the-device-mix",
        HEADER + "[population]\nplatform_share = 1.0\n",
        "population.platform_share",
        ("must be a table of key = value pairs", "got 1.0"),
    ),
    Case(
        "window-of-three",
        HEADER + "[providers]\napns_lag_days = [9.0, 10.0, 11.0]\n",
        "providers.apns_lag_days",
        ("must be a list of 2 numbers [low, high]", "got [9.0, 10.0, 11.0]"),
    ),
    Case(
        "window-of-one-number",
        HEADER + "[providers]\nfcm_lag_days = 2.0\n",
        "providers.fcm_lag_days",
        ("must be a list of 2 numbers [low, high]", "got 2.0"),
    ),
    Case(
        "float-for-an-integer",
        HEADER + "[population]\ndevices = 1e9\n",
        "population.devices",
        ("without a decimal point or exponent, e.g. 1000000000", "got 1000000000.0"),
    ),
    Case(
        "boolean-for-an-integer",
        HEADER + "[population]\ndevices = true\n",
        "population.devices",
        ("valid integer, not true or false", "got true"),
    ),
    Case(
        "date-for-a-number",
        HEADER.replace("seed = 3", "seed = 3\nwarm_up_days = 2024-01-01"),
        "measurement.warm_up_days",
        ("valid number", "got 2024-01-01"),
    ),
    # every key is bounded to what the model can mean
    Case(
        "a-billion-devices",
        HEADER + "[population]\ndevices = 1_000_000_000\n",
        "population.devices",
        ("less than or equal to 100000000", "got 1000000000"),
    ),
    Case(
        "arrivals-1e300",
        HEADER + "[population]\narrivals_per_day = 1e300\n",
        "population.arrivals_per_day",
        ("less than or equal to 1000000", "got 1e+300"),
    ),
    Case(
        "days-1e300",
        '[scenario]\nname = "bad_input"\n\n[measurement]\ndays = 1e300\n',
        "measurement.days",
        ("less than or equal to 36500", "got 1e+300"),
    ),
    Case(
        "a-million-sessions-a-day",
        HEADER + "[behaviour]\nsession_rate_per_day = 1e6\n",
        "behaviour.session_rate_per_day",
        ("less than or equal to 500", "got 1000000.0"),
    ),
    Case(
        "updates-every-minute",
        HEADER + "[behaviour]\napp_update_per_day = 1440\n",
        "behaviour.app_update_per_day",
        ("less than or equal to 100", "got 1440"),
    ),
    Case(
        "campaigns-every-minute",
        HEADER + "[campaigns]\nevery_days = 0.0007\n",
        "campaigns.every_days",
        ("must be 0 (no campaigns) or at least 1/24 (hourly)", "got 0.0007"),
    ),
    Case(
        "sampling-every-second",
        HEADER.replace("seed = 3", "seed = 3\nsample_every_days = 1e-5"),
        "measurement.sample_every_days",
        ("greater than or equal to 0.000694", "got 1e-05"),
    ),
    Case(
        "expiry-after-a-million-days",
        HEADER + "[providers]\nweb_inactivity_days = 1e6\n",
        "providers.web_inactivity_days",
        ("less than or equal to 36500",),
    ),
    Case(
        "ten-sharers",
        HEADER + "[population]\nsharers_per_shared_device = 10\n",
        "population.sharers_per_shared_device",
        ("less than or equal to 4", "got 10"),
    ),
    Case(
        "sweep-of-twenty-thousand-points",
        HEADER
        + "[sweep.values]\n"
        + f'"population.devices" = {list(range(200))}\n'
        + f'"measurement.seed" = {list(range(100))}\n',
        "sweep",
        ("20,000 run points (grid mode); at most 10,000",),
    ),
    Case(
        "seed-beyond-64-bits",
        GOOD,
        "measurement.seed",
        ("less than or equal to 9223372036854775807",),
        args=("--seed", str(2**64)),
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
        scenario.write_text(case.text, encoding=case.encoding)
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
    for word in JARGON:
        assert word not in stderr, stderr
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
        scenario.write_text(case.text, encoding=case.encoding)
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
    for word in JARGON:
        assert word not in stderr, stderr


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
    assert "unknown command 'frobnicate'; commands: run, validate" in capsys.readouterr().err


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


# -- the scenario name is a folder name -----------------------------------------------------------


@pytest.mark.parametrize("name", [".", "..", "../elsewhere", ".hidden", "x" * 300])
def test_a_name_that_is_not_one_folder_name_writes_nothing_anywhere(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    """Without --out a run writes to results/<name>: "." was results/ itself, ".." the folder
    the command runs in."""
    work = tmp_path / "work"
    work.mkdir()
    scenario = work / "named.toml"
    scenario.write_text(
        f'[scenario]\nname = "{name}"\n[population]\ndevices = 5\n', encoding="utf-8"
    )
    monkeypatch.chdir(work)
    assert main(["run", str(scenario), "--days", "1", "--quiet"]) == 2
    assert capsys.readouterr().err.startswith(f"{scenario}: scenario.name: ")
    assert sorted(tmp_path.rglob("*")) == [work, scenario]


# -- a byte order mark is accepted ----------------------------------------------------------------


def test_a_byte_order_mark_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """Windows editors write a UTF-8 BOM: the file means what it says without it."""
    plain = tmp_path / "plain.toml"
    plain.write_text(GOOD, encoding="utf-8")
    marked = tmp_path / "marked.toml"
    marked.write_bytes(b"\xef\xbb\xbf" + GOOD.encode("utf-8"))
    assert load_scenario(marked).digest() == load_scenario(plain).digest()
    assert main(["validate", str(marked)]) == 0
    assert f"ok  {marked}  (scenario: bad_input, hash " in capsys.readouterr().out
    out = tmp_path / "res"
    assert main(["run", str(marked), "--out", str(out), "--days", "1", "--quiet"]) == 0
    assert (out / "summary.json").exists()


def test_a_byte_order_mark_in_the_middle_is_invalid_toml(tmp_path: Path):
    path = tmp_path / "middle.toml"
    path.write_text(GOOD.replace("[population]", "\ufeff[population]"), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value).startswith(f"{path}: invalid TOML: ")


# -- story files ----------------------------------------------------------------------------------

STORY = (
    '[story]\nname = "one phone"\nrules = ["R2"]\n\n'
    '[[devices]]\nid = "phone"\nkind = "ios"\nowner = "kim"\n\n'
    '[[steps]]\nday = 0.0\ndo = "install"\ndevice = "phone"\n\n'
    '[[steps]]\nday = 1.0\ndo = "campaign"\ncampaign = "promo"\n\n'
    '[[steps]]\nday = 2.0\ndo = "probe"\n\n'
    '[[expect]]\nday = 1.5\ncheck = "campaign"\ncampaign = "promo"\nequals = { targeted = 0 }\n\n'
    '[[expect]]\nday = 2.5\ncheck = "campaign"\ncampaign = "probe"\nequals = { targeted = 0 }\n'
)


@pytest.mark.parametrize(
    ("change", "key", "says"),
    [
        (
            ('rules = ["R2"]', 'rules = ["R2", "R99"]'),
            "story.rules[1]",
            "unknown rule 'R99'; rules are R1 to R14 (docs/model.md §1)",
        ),
        (('rules = ["R2"]', 'rules = ["r2"]'), "story.rules[0]", "unknown rule 'r2'"),
        (('rules = ["R2"]', 'rules = ["R0"]'), "story.rules[0]", "unknown rule 'R0'"),
        (
            ('campaign = "promo"\nequals', 'campaign = "promo_2"\nequals'),
            "expect[0].campaign",
            "no step sends campaign 'promo_2'; campaigns the steps send: promo, probe",
        ),
        (
            ('do = "probe"\n', 'do = "probe"\ncampaign = "night"\n'),
            "expect[1].campaign",
            "no step sends campaign 'probe'; campaigns the steps send: promo, night",
        ),
        (
            ("[[devices]]", "[devices]"),
            "devices",
            "must be a list of tables, each written [[devices]] (got a table)",
        ),
        (("day = 1.0", "day = 1e300"), "steps[1].day", "less than or equal to 36500"),
    ],
    ids=[
        "unknown-rule",
        "lower-case-rule",
        "rule-0",
        "campaign-never-sent",
        "probe-renamed",
        "table-for-a-list",
        "day-1e300",
    ],
)
def test_story_files_are_refused_at_load(
    change: tuple[str, str],
    key: str,
    says: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
):
    good = tmp_path / "good_story.toml"
    good.write_text(STORY, encoding="utf-8")
    assert main(["validate", str(good)]) == 0, capsys.readouterr().err
    assert main(["story", str(good)]) == 0, capsys.readouterr().out
    capsys.readouterr()

    old, new = change
    assert old in STORY
    bad = tmp_path / "bad_story.toml"
    bad.write_text(STORY.replace(old, new, 1), encoding="utf-8")
    for command in ("validate", "story"):
        assert main([command, str(bad)]) == 2
        stdout, stderr = capsys.readouterr()
        assert stdout == ""
        assert stderr.startswith(f"{bad}: {key}: "), stderr
        assert says in stderr, stderr
        for word in JARGON:
            assert word not in stderr, stderr
