"""``[registry] model`` on the command line: a model that cannot run is refused before the run
(exit 2), one that raises during it stops the run with what raised (exit 1); nothing is written."""

from __future__ import annotations

from pathlib import Path

from tests.cli import pushsim, staging_folders

SHORT = ("--set", "population.devices=200", "--days", "5", "--quiet")


def _run(out: Path, model: str, *extra: str):
    return pushsim(
        "run",
        "scenarios/baseline.toml",
        *SHORT,
        "--set",
        f'registry.model="{model}"',
        *extra,
        "--out",
        out,
    )


def test_a_model_missing_members_is_refused_before_the_run(tmp_path: Path) -> None:
    out = tmp_path / "results"
    done = _run(out, "tests.models.registries:incomplete")
    assert done.returncode == 2, done.stderr
    assert (
        "scenarios/baseline.toml: registry.model: model 'tests.models.registries:incomplete' "
        "does not implement the registry protocol" in done.stderr
    )
    assert "  - log_out: missing" in done.stderr
    assert "  - tokens: is a list, not a method" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists() and staging_folders(out) == []
    assert not tmp_path.joinpath(".results.lock").exists()


def test_a_malformed_model_name_says_what_is_allowed(tmp_path: Path) -> None:
    done = _run(tmp_path / "results", "my registry")
    assert done.returncode == 2
    assert 'registry.model: must be "reference", "subscriptions", "http"' in done.stderr


def test_an_exception_inside_the_model_stops_the_run_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "results"
    done = _run(out, "tests.models.registries:raising", "--set", "registry.options={fail_at=5}")
    assert done.returncode == 1, done.stderr
    message = done.stderr.strip().splitlines()[-1]
    assert message.startswith(
        "pushsim: registry model 'tests.models.registries:raising' raised KeyError at scenario day "
    )
    assert " in change_user(" in message and "user='p" in message
    assert message.endswith("; no results written")
    assert "Traceback" not in done.stderr
    assert not out.exists() and staging_folders(out) == []


def test_a_working_model_of_ones_own_runs(tmp_path: Path) -> None:
    out = tmp_path / "results"
    done = _run(out, "tests.models.registries:detach_on_logout")
    assert done.returncode == 0, done.stderr
    resolved = (out / "scenario.resolved.toml").read_text()
    assert 'model = "tests.models.registries:detach_on_logout"' in resolved


def test_an_experiment_with_a_raising_model_stops_and_says_why(tmp_path: Path) -> None:
    out = tmp_path / "experiment"
    done = _run(
        out,
        "tests.models.registries:raising",
        "--replications",
        "2",
        "--workers",
        "1",
        "--set",
        "registry.options={fail_at=5}",
    )
    assert done.returncode == 1, done.stderr
    assert "raised KeyError at scenario day" in done.stderr
    assert "Traceback" not in done.stderr
