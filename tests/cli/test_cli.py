"""``pushsim run / validate / story / schema`` through a real subprocess, as a user runs them.

The runs are shortened (300 devices, 15 days) so that the whole file takes a few seconds.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sim import __version__
from sim.cli import main
from sim.scenario import load_scenario
from tests.cli import REPO, pushsim, staging_folders

BASELINE = "scenarios/baseline.toml"
OVERRIDES = ["population.devices=300"]
SHORT = ("--set", OVERRIDES[0], "--days", "15", "--quiet")
#: what --days 15 adds to the scenario: the days, and no warm-up (baseline's is 30 days)
RESOLVED = [*OVERRIDES, "measurement.days=15.0", "measurement.warm_up_days=0.0"]
TABLES = (
    "timeseries",
    "sends",
    "bounces",
    "latencies",
    "funnel",
    "stale_causes",
    "timeseries_by_os",
    "funnel_by_os",
    "sends_by_os",
)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Run:
    out: Path
    stdout: str
    stderr: str


def run_short(out: Path, *extra: str) -> Run:
    done = pushsim("run", BASELINE, *SHORT, *extra, "--out", out)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return Run(out, done.stdout, done.stderr)


def summary(out: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return document


@pytest.fixture(scope="module")
def baseline_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return run_short(tmp_path_factory.mktemp("cli") / "x")


# -- run -----------------------------------------------------------------------------------------


def test_run_writes_tables_in_csv_and_parquet(baseline_run: Run):
    out = baseline_run.out
    assert baseline_run.stdout.strip().startswith(f"results: {out}/")
    for name in TABLES:
        csv = pd.read_csv(out / f"{name}.csv")
        parquet = pd.read_parquet(out / f"{name}.parquet")
        assert list(csv.columns) == list(parquet.columns), name
        assert len(csv) == len(parquet), name
    series = pd.read_csv(out / "timeseries.csv")
    assert not series.empty
    assert series["time"].max() == pytest.approx(15.0)
    assert {"time", "platform", "believed_reachable", "truly_reachable"} <= set(series.columns)
    assert not pd.read_csv(out / "sends.csv").empty


def test_run_writes_a_summary_naming_scenario_hash_seed_and_version(baseline_run: Run):
    document = summary(baseline_run.out)
    expected = load_scenario(REPO / BASELINE, RESOLVED)
    assert document["scenario"] == "baseline"
    assert document["scenario_hash"] == expected.digest()
    assert re.fullmatch(r"[0-9a-f]{16}", document["scenario_hash"])
    assert document["seed"] == expected.measurement.seed
    assert document["pushsim_version"] == __version__
    assert document["days"] == 15.0
    figures = document["figures"]
    assert {"believed_reachable", "truly_reachable", "stale_rate"} <= set(figures)
    assert figures["seed"] == document["seed"]
    # the overridden scenario is not the file's scenario
    assert document["scenario_hash"] != load_scenario(REPO / BASELINE).digest()


def test_run_writes_the_resolved_scenario_which_validates_to_the_same_hash(baseline_run: Run):
    resolved_path = baseline_run.out / "scenario.resolved.toml"
    resolved = load_scenario(resolved_path)
    expected = load_scenario(REPO / BASELINE, RESOLVED)
    assert resolved.population.devices == 300
    assert resolved.measurement.days == 15.0  # --days is recorded in the resolved scenario
    assert resolved.digest() == expected.digest() == summary(baseline_run.out)["scenario_hash"]
    assert resolved == expected
    # every key is written out, defaults included
    text = resolved_path.read_text(encoding="utf-8")
    for key in ("session_rate_per_day", "sdk_flush_delay_days", "replications"):
        assert key in text
    # and the CLI accepts it like any scenario file
    done = pushsim("validate", resolved_path)
    assert done.returncode == 0, done.stderr
    assert f"hash {expected.digest()}" in done.stdout


def test_run_writes_the_plots_and_a_report_linking_them(baseline_run: Run):
    out = baseline_run.out
    plots = sorted(out.glob("*.png"))
    # reachability, stale tokens, send outcomes, uninstall latency (and any added since)
    assert len(plots) >= 4, plots
    for plot in plots:
        assert plot.read_bytes()[:8] == PNG_MAGIC, plot.name
        assert plot.stat().st_size > 1000, plot.name
    report = (out / "report.md").read_text(encoding="utf-8")
    for plot in plots:
        assert f"]({plot.name})" in report, f"report.md does not link {plot.name}"
    assert "baseline" in report
    assert summary(out)["scenario_hash"] in report


def test_run_leaves_only_the_results_folder(baseline_run: Run):
    out = baseline_run.out
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]
    assert not staging_folders(out)
    names = {p.name for p in out.iterdir()}
    expected = {f"{t}.{ext}" for t in TABLES for ext in ("csv", "parquet")}
    expected |= {"summary.json", "scenario.resolved.toml", "report.md"}
    assert expected <= names
    assert not {n for n in names if n.startswith(".")}, "no hidden leftovers inside"


def test_the_same_command_twice_gives_identical_files(baseline_run: Run, tmp_path: Path):
    again = run_short(tmp_path / "x")
    csvs = sorted(p.name for p in baseline_run.out.glob("*.csv"))
    assert csvs == sorted(p.name for p in again.out.glob("*.csv"))
    assert {f"{t}.csv" for t in TABLES} <= set(csvs)
    for name in [*csvs, "summary.json", "scenario.resolved.toml"]:
        first = (baseline_run.out / name).read_bytes()
        assert first == (again.out / name).read_bytes(), f"{name} differs between equal runs"
    for name in TABLES:
        pd.testing.assert_frame_equal(
            pd.read_parquet(baseline_run.out / f"{name}.parquet"),
            pd.read_parquet(again.out / f"{name}.parquet"),
        )


def test_seed_changes_the_results(baseline_run: Run, tmp_path: Path):
    other = run_short(tmp_path / "x", "--seed", "7")
    document = summary(other.out)
    assert document["seed"] == 7
    assert document["figures"]["seed"] == 7
    assert summary(baseline_run.out)["seed"] != 7
    first = (baseline_run.out / "timeseries.csv").read_bytes()
    assert first != (other.out / "timeseries.csv").read_bytes()
    assert document["figures"] != summary(baseline_run.out)["figures"]


def test_run_in_process_without_quiet_prints_the_summary_and_uses_the_default_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    shutil.copy(REPO / BASELINE, tmp_path / "baseline.toml")
    monkeypatch.chdir(tmp_path)
    argv = ["run", "baseline.toml", "--set", "population.devices=60", "--days", "3", "--events"]
    assert main(argv) == 0
    stdout = capsys.readouterr().out
    digest = load_scenario(
        tmp_path / "baseline.toml",
        ["population.devices=60", "measurement.days=3.0", "measurement.warm_up_days=0.0"],
    ).digest()
    assert f"pushsim {__version__} — baseline (hash {digest})" in stdout
    assert re.search(r"^\s+believed_reachable\s+\d+$", stdout, re.MULTILINE)
    out = tmp_path / "results" / "baseline"
    assert "results: results/baseline/" in stdout
    assert (out / "summary.json").is_file()
    assert (out / "events.csv").is_file() and (out / "events.parquet").is_file()
    assert not pd.read_csv(out / "events.csv").empty


# -- validate ------------------------------------------------------------------------------------


def test_validate_exit_codes(tmp_path: Path):
    done = pushsim("validate", BASELINE, "scenarios/stories/charlie_and_kim.toml")
    assert done.returncode == 0, done.stderr
    digest = load_scenario(REPO / BASELINE).digest()
    assert f"ok  {BASELINE}  (scenario: baseline, hash {digest})" in done.stdout
    assert "ok  scenarios/stories/charlie_and_kim.toml  (story: Charlie and Kim" in done.stdout

    bad = tmp_path / "typo.toml"
    bad.write_text('[scenario]\nname = "typo"\n\n[policy]\nuninstall_traking = true\n')
    done = pushsim("validate", BASELINE, bad)
    assert done.returncode == 2
    assert f"ok  {BASELINE}" in done.stdout, "the other files are still checked"
    assert done.stderr.startswith(f"{bad}: policy.uninstall_traking: unknown key; allowed keys: ")
    assert "uninstall_tracking" in done.stderr
    assert "Traceback" not in done.stderr


# -- story ---------------------------------------------------------------------------------------


def test_story_passes(tmp_path: Path):
    done = pushsim("story", "scenarios/stories/charlie_and_kim.toml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("pass  scenarios/stories/charlie_and_kim.toml  (")
    assert "expectations)" in done.stdout


def test_a_broken_story_fails_with_a_diff(tmp_path: Path):
    text = (REPO / "scenarios/stories/charlie_and_kim.toml").read_text(encoding="utf-8")
    assert text.count('equals = "kim"') >= 1
    broken = tmp_path / "charlie_and_kim_broken.toml"
    broken.write_text(text.replace('equals = "kim"', 'equals = "bob"', 1), encoding="utf-8")
    done = pushsim("story", "scenarios/stories/charlie_and_kim.toml", broken)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "pass  scenarios/stories/charlie_and_kim.toml" in done.stdout
    assert f"FAIL  {broken}" in done.stdout
    assert "1 of 16 results failed" in done.stdout
    assert re.search(
        r"token_owner\(charlie_phone\).*\n\s+expected: 'bob'\n\s+actual: +'kim'", done.stdout
    )
    assert "Traceback" not in done.stderr


# -- schema, version, help -----------------------------------------------------------------------


def test_schema_is_json_with_descriptions():
    done = pushsim("schema")
    assert done.returncode == 0, done.stderr
    schema = json.loads(done.stdout)
    properties = schema["properties"]
    assert {"scenario", "population", "measurement", "policy"} <= set(properties)
    assert schema["additionalProperties"] is False
    assert "scenario" in schema["required"]

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        ref = node.get("$ref")
        if ref is None:
            return node
        resolved: dict[str, Any] = schema["$defs"][ref.rsplit("/", 1)[-1]]
        return resolved

    population = resolve(properties["population"])
    devices = population["properties"]["devices"]
    assert devices["description"]
    assert devices["type"] == "integer" and devices["minimum"] == 0
    measurement = resolve(properties["measurement"])
    assert measurement["properties"]["days"]["description"]


def test_version():
    done = pushsim("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"pushsim {__version__}"


@pytest.mark.parametrize("command", [None, "run", "validate", "story", "schema"])
def test_help_of_every_command_shows_an_example(command: str | None):
    done = pushsim(*([command] if command else []), "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: pushsim{' ' + command if command else ''}")
    assert "example:\n  pushsim " in done.stdout


def test_no_command_prints_the_help(capsys: pytest.CaptureFixture[str]):
    assert main([]) == 0
    stdout = capsys.readouterr().out
    assert stdout.startswith("usage: pushsim")
    for command in ("run", "validate", "story", "schema"):
        assert command in stdout
