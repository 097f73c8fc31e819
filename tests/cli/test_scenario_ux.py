"""The command line says what to do: the wrong kind of file, a mistyped command, ``--days`` on
experiments, scenarios that extend others, and ``pushsim diff`` (issue 14, item 6)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from sim.cli import main
from sim.scenario import ScenarioError, load_scenario, to_toml
from tests.cli import REPO, pushsim

SCENARIOS = REPO / "scenarios"
STORY = SCENARIOS / "stories" / "charlie_and_kim.toml"
BASELINE = SCENARIOS / "baseline.toml"
SWEEP = SCENARIOS / "uninstall_tracking_sweep.toml"


def cli(*argv: str | Path) -> tuple[int, str, str]:
    """``pushsim ARGV`` in this process: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


# -- 1. the wrong kind of file -------------------------------------------------------------------


def test_run_on_a_story_names_the_story_command(tmp_path: Path):
    code, out, err = cli("run", STORY, "--out", tmp_path / "out")
    assert code == 2 and out == ""
    assert err.strip() == (
        f"{STORY}: a story file (it has [story]): run it with `pushsim story {STORY}`"
    )
    assert not (tmp_path / "out").exists()


def test_story_on_a_scenario_names_the_run_or_sweep_command():
    code, _, err = cli("story", BASELINE)
    assert code == 2
    assert f"run it with `pushsim run {BASELINE}`" in err and "problems" not in err
    code, _, err = cli("story", SWEEP)
    assert code == 2 and f"`pushsim sweep {SWEEP}`" in err


def test_experiments_on_a_story_name_the_story_command():
    argvs: list[list[str | Path]] = [["sweep", STORY], ["compare", BASELINE, STORY]]
    for argv in argvs:
        code, _, err = cli(*argv, "--dry-run")
        assert code == 2 and f"`pushsim story {STORY}`" in err, err


def test_a_packaged_name_of_the_other_kind_says_so():
    done = pushsim("story", "baseline")
    assert done.returncode == 2
    assert "baseline is a packaged scenario: pushsim run baseline" in done.stderr


def test_a_name_too_long_for_the_file_system_is_an_unknown_name():
    done = pushsim("run", "z" * 300)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "no packaged scenario named 'zzz" in done.stderr


def test_run_on_a_sweep_file_names_the_sweep_command(tmp_path: Path):
    code, out, err = cli("run", SWEEP, "--out", tmp_path / "out", "--days", "1")
    assert code == 2 and out == ""
    assert err.startswith(f"{SWEEP}: sweep: this file declares a [sweep]")
    assert f"`pushsim sweep {SWEEP}`" in err
    assert not (tmp_path / "out").exists()


# -- 2. a mistyped command -----------------------------------------------------------------------


def test_a_mistyped_command_suggests_the_nearest():
    done = pushsim("rn", "scenarios/baseline.toml")
    assert done.returncode == 2 and done.stdout == ""
    assert "pushsim: error: unknown command 'rn'; did you mean 'run'?" in done.stderr
    assert "invalid choice" not in done.stderr and "Traceback" not in done.stderr


def test_unknown_commands_exit_2_like_other_argument_errors(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as stop:
        main(["vaildate", str(BASELINE)])
    assert stop.value.code == 2
    assert "did you mean 'validate'?" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        main(["xyzzy"])
    assert stop.value.code == 2
    assert "unknown command 'xyzzy'; commands: run, validate, story" in capsys.readouterr().err


def test_options_and_known_commands_are_untouched():
    with pytest.raises(SystemExit) as stop:  # --version exits through argparse
        cli("--version")
    assert stop.value.code == 0
    code, out, _ = cli("validate", BASELINE)
    assert code == 0 and out.startswith("ok  ")


# -- 3. --days on experiments --------------------------------------------------------------------


def test_compare_days_applies_to_both_and_drops_a_longer_warm_up(tmp_path: Path):
    out = tmp_path / "cmp"
    code, _, err = cli(
        "compare",
        BASELINE,
        SCENARIOS / "uninstall_tracking.toml",
        "--days",
        "2",
        "--set",
        "population.devices=40",
        "--set",
        "population.arrivals_per_day=1",
        "--replications",
        "2",
        "--workers",
        "1",
        "--quiet",
        "--out",
        out,
    )
    assert code == 0, err
    assert err.count("is not shorter than --days 2; running without warm-up") == 2
    points = json.loads((out / "experiment.json").read_text())["points"]
    assert [(p["days"], p["warm_up_days"]) for p in points] == [(2, 0), (2, 0)]


def test_sweep_days_is_checked():
    code, _, err = cli("sweep", SWEEP, "--days", "nan", "--dry-run")
    assert code == 2 and "--days: must be a finite number > 0" in err


# -- 4. extends ----------------------------------------------------------------------------------


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_extends_merges_table_by_table(tmp_path: Path):
    write(
        tmp_path,
        "base.toml",
        '[scenario]\nname = "base"\n[population]\ndevices = 500\narrivals_per_day = 3\n'
        "[measurement]\ndays = 40\nwarm_up_days = 5\n",
    )
    child = write(
        tmp_path,
        "child.toml",
        'extends = "base.toml"\n[scenario]\nname = "child"\n[population]\ndevices = 700\n',
    )
    scenario = load_scenario(child)
    assert scenario.scenario.name == "child"
    assert scenario.population.devices == 700 and scenario.population.arrivals_per_day == 3
    assert scenario.measurement.days == 40
    assert "extends" not in to_toml(scenario)
    code, out, _ = cli("validate", child)
    assert code == 0 and f"hash {scenario.digest()}" in out


def test_extends_chains_and_finds_packaged_scenarios(tmp_path: Path):
    middle = write(tmp_path, "middle.toml", 'extends = "baseline"\n[scenario]\nname = "middle"\n')
    top = write(tmp_path, "top.toml", 'extends = "middle.toml"\n[population]\ndevices = 123\n')
    scenario = load_scenario(top)
    assert scenario.scenario.name == "middle" and scenario.population.devices == 123
    base = load_scenario(BASELINE)
    assert scenario.measurement == base.measurement
    assert load_scenario(middle).population == base.population


def test_an_extends_cycle_is_refused_with_the_chain(tmp_path: Path):
    a = write(tmp_path, "a.toml", 'extends = "b.toml"\n[scenario]\nname = "a"\n')
    write(tmp_path, "b.toml", 'extends = "a.toml"\n[scenario]\nname = "b"\n')
    with pytest.raises(ScenarioError) as caught:
        load_scenario(a)
    assert str(caught.value) == (
        f"{a}: extends: a cycle: a.toml → b.toml → a.toml; a file cannot extend itself"
    )


def test_a_missing_or_bad_base_names_the_file_and_key(tmp_path: Path):
    child = write(tmp_path, "child.toml", 'extends = "nowhere.toml"\n[scenario]\nname = "c"\n')
    code, _, err = cli("validate", child)
    assert code == 2
    assert err.startswith(f"{child}: extends: no file {tmp_path / 'nowhere.toml'}")
    for value in ("5", '""', "[1]", "{ a = 1 }", '"charlie_and_kim"', f'"{"y" * 290}"'):
        write(tmp_path, "child.toml", f'extends = {value}\n[scenario]\nname = "c"\n')
        code, out, err = cli("validate", child)
        assert code == 2 and out == "" and err.startswith(f"{child}: extends: "), (value, err)
        assert "Traceback" not in err


def test_subscription_model_extends_shared_devices():
    text = (SCENARIOS / "subscription_model.toml").read_text(encoding="utf-8")
    assert 'extends = "shared_devices.toml"' in text and "[population]" not in text
    sub = load_scenario(SCENARIOS / "subscription_model.toml")
    shared = load_scenario(SCENARIOS / "shared_devices.toml")
    assert sub.digest() == "d829a60fc30a2279"  # the hash before it extended shared_devices
    assert sub.population == shared.population and sub.behaviour == shared.behaviour
    assert sub.measurement == shared.measurement


# -- 5. diff -------------------------------------------------------------------------------------


def test_diff_lists_differing_keys_and_exits_1():
    code, out, err = cli("diff", "shared_devices", "subscription_model")
    assert code == 1
    assert out.splitlines() == [
        'registry.model: "reference" → "subscriptions"',
        'scenario.name: "shared_devices" → "subscription_model"',
        'scenario.description: "A third of devices shared by three people each; frequent user '
        'switches and logouts." → "shared_devices under the subscription-per-device model '
        '(login moves, logout detaches)."',
        "registry.options.max_subscriptions: (absent) → 20",
    ]
    assert "4 keys differ" in err


def test_diff_of_equal_scenarios_exits_0_and_trouble_exits_2(tmp_path: Path):
    code, out, _ = cli("diff", BASELINE, "baseline")
    assert code == 0 and out.startswith("no differences")
    code, out, _ = cli("diff", BASELINE, "baseline", "--set", "population.devices=10")
    assert code == 0
    code, out, err = cli("diff", BASELINE, tmp_path / "missing.toml")
    assert code == 2 and out == "" and "cannot read the file" in err
    done = pushsim("diff", "baseline", "uninstall_tracking")
    assert done.returncode == 1
    assert "policy.uninstall_tracking: false → true" in done.stdout
