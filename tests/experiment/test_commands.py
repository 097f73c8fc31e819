"""``sweep`` and ``compare`` on the command line, and ``run --replications``.

The commands run through :func:`sim.experiment.commands.main` (``python -m sim.experiment``); the
``run`` options are added to ``pushsim``'s own ``run`` parser, as ``sim.cli`` wires them.
"""

from __future__ import annotations

import argparse
import json
import sys

import pandas as pd
import pytest

from sim.cli import build_parser as pushsim_parser
from sim.experiment.arguments import add_commands, add_replication_options
from sim.experiment.commands import build_parser, main, run_replications
from sim.scenario import ScenarioError
from tests.experiment import BASELINE, SWEEP_FILE, TINY, TRACKING

SETS = [arg for assignment in TINY for arg in ("--set", assignment)]


def subcommand(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found: argparse.ArgumentParser = action.choices[name]
            return found
    raise LookupError(name)


def test_help_says_what_and_gives_an_example(capsys):
    for name in ("sweep", "compare"):
        with pytest.raises(SystemExit) as caught:
            main([name, "--help"])
        assert caught.value.code == 0
        text = capsys.readouterr().out
        assert "example:\n  pushsim " + name in text
        for option in ("--out", "--replications", "--workers", "--dask", "--resume", "--set"):
            assert option in text
        assert "%%" not in text


def test_add_commands_to_any_subparsers():
    parser = argparse.ArgumentParser(prog="pushsim")
    add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sweep", "x.toml", "--workers", "2", "--set", "a.b=1", "--resume"])
    assert (args.workers, args.overrides, args.resume, args.replications) == (
        2,
        ["a.b=1"],
        True,
        None,
    )
    args = parser.parse_args(["compare", "a.toml", "b.toml", "--dask", "local"])
    assert (str(args.a), str(args.b), args.dask) == ("a.toml", "b.toml", "local")


def test_workers_and_replications_must_be_positive(capsys):
    for bad in (["--workers", "0"], ["--replications", "-1"], ["--workers", "two"]):
        with pytest.raises(SystemExit) as caught:
            build_parser().parse_args(["sweep", "x.toml", *bad])
        assert caught.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err


def test_sweep_lists_the_runs_first(tmp_path, capsys):
    assert main(["sweep", str(SWEEP_FILE), "--dry-run", "--replications", "3", *SETS]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "sweep uninstall_tracking_sweep: 2 points × 3 replications = 6 runs"
    assert "p000  uninstall_tracking_sweep  policy.uninstall_tracking = false" in out[1]
    assert "p001  uninstall_tracking_sweep  policy.uninstall_tracking = true" in out[2]
    assert "runs p001-r000 … p001-r002" in out[2]
    assert out[3].startswith("  seeds by replication (every point): ")


def test_sweep_runs_and_reports(tmp_path, capsys):
    out = tmp_path / "sweep"
    code = main(
        [
            "sweep",
            str(SWEEP_FILE),
            "--replications",
            "2",
            "--workers",
            "1",
            "--out",
            str(out),
            *SETS,
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    text = captured.out
    assert text.index("2 points × 2 replications") < text.index("stale_rate  (mean, 95 % CI)")
    assert "first 2 days (warm-up) excluded" in text
    assert f"results: {out}/results.parquet" in text
    assert "[4/4] p001-r001 saved" in captured.err
    table = pd.read_parquet(out / "results.parquet")
    assert set(table["policy.uninstall_tracking"]) == {False, True}


def test_compare_one_sweep_file_of_two_points(tmp_path, capsys):
    out = tmp_path / "cmp"
    code = main(
        [
            "compare",
            str(SWEEP_FILE),
            "--replications",
            "3",
            "--workers",
            "1",
            "--out",
            str(out),
            "--quiet",
            *SETS,
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert text.strip() == (
        f"results: {out}/results.parquet (long table), {out}/summary.csv, "
        f"{out}/experiment.json, {out}/comparison.csv"
    )
    figures = pd.read_csv(out / "comparison.csv")
    assert list(figures["figure"][:10]) == [
        "believed_reachable",
        "truly_reachable",
        "reachable_not_targeted",
        "overstatement",
        "stale_rate",
        "mean_stale_rate",
        "campaign_bounced",
        "campaign_displayed",
        "campaign_shown_to_other_user",
        "campaign_shown_to_nobody",
    ]
    assert list(figures.columns) == [
        "figure",
        "mean_a",
        "mean_b",
        "difference",
        "paired_low",
        "paired_high",
        "welch_low",
        "welch_high",
        "width_ratio",
        "n",
    ]
    # a survival median is missing (n = 0) where fewer than half were caught up in the tiny run
    counted = figures[~figures["figure"].str.startswith("median_")]
    assert set(counted["n"]) == {3}
    assert set(figures["n"]) <= {0, 3}


def test_compare_two_files_prints_the_table(tmp_path, capsys):
    out = tmp_path / "cmp"
    args = ["compare", str(BASELINE), str(TRACKING), "--replications", "2", "--workers", "1"]
    assert main([*args, "--out", str(out), *SETS]) == 0
    text = capsys.readouterr().out
    assert "A: p000 baseline" in text and "B: p001 uninstall_tracking" in text
    assert "B − A over 2 paired replications (common random numbers: yes)" in text
    header = next(line for line in text.splitlines() if "paired 95 % CI" in line)
    assert "Welch 95 % CI" in header and "paired/Welch width" in header
    assert any(line.strip().startswith("stale_rate ") for line in text.splitlines())
    plan = json.loads((out / "experiment.json").read_text())
    assert plan["kind"] == "compare" and plan["name"] == "baseline_vs_uninstall_tracking"


def test_bad_input_exits_2_naming_the_file(tmp_path, capsys):
    assert main(["sweep", str(BASELINE), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{BASELINE}: sweep: missing")
    assert main(["compare", str(BASELINE), str(TRACKING), "--replications", "1", "--dry-run"]) == 2
    assert "at least 2 replications" in capsys.readouterr().err
    assert main(["sweep", str(SWEEP_FILE), "--set", "policy.nope=1", "--dry-run"]) == 2
    assert "policy" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text('[scenario]\nname = "bad"\n[sweep.values]\n"population.devices" = [10, -1]\n')
    assert main(["sweep", str(bad), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        f'{bad}: sweep.values."population.devices": '
        "Input should be greater than or equal to 0 (got -1)"
    )


def test_dask_without_dask_says_what_to_install(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)
    code = main(["sweep", str(SWEEP_FILE), "--dask", "local", "--out", str(tmp_path), *SETS])
    assert code == 2
    assert "pip install 'pushsim[distributed]'" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def run_parser() -> argparse.ArgumentParser:
    parser = pushsim_parser()
    add_replication_options(subcommand(parser, "run"))
    add_replication_options(subcommand(parser, "run"))  # twice is harmless
    return parser


def test_run_with_replications(tmp_path, capsys):
    out = tmp_path / "reps"
    args = run_parser().parse_args(
        ["run", str(BASELINE), "--replications", "3", "--workers", "1", "--out", str(out), *SETS]
    )
    assert run_replications(args) == 0
    text = capsys.readouterr().out
    assert "baseline: 3 replications, 12 days, first 2 days (warm-up) excluded" in text
    header = next(line for line in text.splitlines() if "95 % CI" in line)
    assert header.split() == ["figure", "mean", "95", "%", "CI", "n"]
    assert any(line.split()[0] == "mean_stale_rate" for line in text.splitlines()[2:-1])
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["n"]) - {0} == {3}
    assert json.loads((out / "experiment.json").read_text())["kind"] == "replicate"


def test_run_with_replications_seed_and_days(tmp_path, capsys):
    out = tmp_path / "reps"
    args = run_parser().parse_args(
        [
            "run",
            str(BASELINE),
            "--replications",
            "2",
            "--workers",
            "1",
            "--out",
            str(out),
            "--seed",
            "5",
            "--days",
            "8",
            "--quiet",
            *SETS,
        ]
    )
    assert run_replications(args) == 0
    plan = json.loads((out / "experiment.json").read_text())
    assert plan["points"][0]["base_seed"] == 5 and plan["points"][0]["days"] == 8
    capsys.readouterr()
    for bad in (["--seed", "-1"], ["--days", "nan"]):
        args = run_parser().parse_args(["run", str(BASELINE), "--replications", "2", *bad])
        with pytest.raises(ScenarioError) as caught:
            run_replications(args)
        assert caught.value.problems[0][0] == bad[0]
    args = run_parser().parse_args(["run", str(BASELINE), "--replications", "2", "--events"])
    assert run_replications(args) == 2
    assert "--events" in capsys.readouterr().err


def test_a_foreign_out_folder_is_refused_and_left_alone(tmp_path, capsys):
    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "summary.csv").write_text("my own file\n")
    assert main(["sweep", str(SWEEP_FILE), "--out", str(mine), *SETS]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{SWEEP_FILE}: --out: {mine} exists and is not a pushsim experiment")
    assert [p.name for p in mine.iterdir()] == ["summary.csv"]
    assert (mine / "summary.csv").read_text() == "my own file\n"


def test_run_days_shorter_than_the_warm_up_runs_without_it(tmp_path, capsys):
    out = tmp_path / "reps"
    options = ["--replications", "2", "--workers", "1", "--days", "2", "--quiet"]
    args = run_parser().parse_args(["run", str(BASELINE), *options, "--out", str(out), *SETS])
    assert run_replications(args) == 0
    assert "running without warm-up" in capsys.readouterr().err
    plan = json.loads((out / "experiment.json").read_text())
    assert plan["points"][0]["days"] == 2 and plan["points"][0]["warm_up_days"] == 0
