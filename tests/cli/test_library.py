"""The packaged scenario library on the command line: names for files, and ``pushsim init``."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main
from sim.scenario import SCENARIOS_DIR, STORIES_DIR
from sim.scenario.library import UnknownName, names, packaged_file, resolve
from tests.cli import REPO, pushsim


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty current folder outside the repository."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_library_is_the_repositorys_scenarios_folder():
    assert SCENARIOS_DIR == REPO / "scenarios"
    assert STORIES_DIR == REPO / "scenarios" / "stories"
    assert "baseline" in names("scenario")
    assert "charlie_and_kim" in names("story")
    assert "charlie_and_kim" not in names("scenario")


def test_a_bare_name_is_the_packaged_file(elsewhere: Path):
    assert resolve("baseline") == SCENARIOS_DIR / "baseline.toml"
    assert resolve("charlie_and_kim", "story") == STORIES_DIR / "charlie_and_kim.toml"
    assert resolve("charlie_and_kim", "any") == STORIES_DIR / "charlie_and_kim.toml"
    assert packaged_file("web_push") == SCENARIOS_DIR / "web_push.toml"


def test_a_file_or_a_path_is_taken_as_given(elsewhere: Path):
    (elsewhere / "baseline").write_text("mine")
    assert resolve("baseline") == Path("baseline")  # an existing file wins over the library
    assert resolve("baseline.toml") == Path("baseline.toml")  # missing: reported when read
    assert resolve("sub/baseline") == Path("sub/baseline")


@pytest.mark.parametrize("kind", ["scenario", "story", "any"])
def test_an_unknown_name_lists_the_packaged_ones(elsewhere: Path, kind):
    with pytest.raises(UnknownName) as caught:
        resolve("nosuch", kind)
    message = str(caught.value)
    assert "'nosuch'" in message
    assert ("baseline" in message) == (kind != "story")
    assert ("charlie_and_kim" in message) == (kind != "scenario")


def test_run_an_unknown_name_exits_2_listing_the_packaged_scenarios(
    elsewhere: Path, capsys: pytest.CaptureFixture[str]
):
    with pytest.raises(SystemExit) as stop:
        main(["run", "nosuch"])
    assert stop.value.code == 2
    error = capsys.readouterr().err
    assert "no packaged scenario named 'nosuch'" in error
    assert "baseline" in error and "web_push" in error


def test_story_and_validate_take_packaged_names(
    elsewhere: Path, capsys: pytest.CaptureFixture[str]
):
    assert main(["story", "charlie_and_kim"]) == 0
    assert capsys.readouterr().out.startswith(f"pass  {STORIES_DIR / 'charlie_and_kim.toml'}")
    assert main(["validate", "baseline", "charlie_and_kim"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"ok  {SCENARIOS_DIR / 'baseline.toml'}  (scenario: baseline")
    assert out[1].startswith(f"ok  {STORIES_DIR / 'charlie_and_kim.toml'}  (story:")


def test_sweep_and_compare_take_packaged_names(elsewhere: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["sweep", "uninstall_tracking_sweep", "--dry-run", "--replications", "1"]) == 0
    assert "sweep uninstall_tracking_sweep" in capsys.readouterr().out
    assert (
        main(["compare", "baseline", "uninstall_tracking", "--dry-run", "--replications", "2"]) == 0
    )
    assert "compare baseline_vs_uninstall_tracking" in capsys.readouterr().out


def test_run_a_packaged_scenario_by_name(elsewhere: Path):
    out = elsewhere / "out"
    code = main(
        [
            "run",
            "baseline",
            "--set",
            "population.devices=200",
            "--days",
            "5",
            "--quiet",
            "--workers",
            "1",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert (out / "report.md").is_file()


def test_init_copies_baseline_byte_for_byte(elsewhere: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["init"]) == 0
    assert (elsewhere / "baseline.toml").read_bytes() == (
        SCENARIOS_DIR / "baseline.toml"
    ).read_bytes()
    assert "pushsim run baseline.toml" in capsys.readouterr().out


def test_init_never_replaces_a_file(elsewhere: Path, capsys: pytest.CaptureFixture[str]):
    mine = elsewhere / "web_push.toml"
    mine.write_text("# mine\n")
    assert main(["init", "web_push"]) == 2
    assert "web_push.toml already exists; not replaced" in capsys.readouterr().err
    assert mine.read_text() == "# mine\n"


def test_init_to_a_file_or_a_folder_and_of_a_story(
    elsewhere: Path, capsys: pytest.CaptureFixture[str]
):
    assert main(["init", "web_push.toml", "--to", "mine.toml"]) == 0
    assert (elsewhere / "mine.toml").read_bytes() == (SCENARIOS_DIR / "web_push.toml").read_bytes()
    (elsewhere / "stories").mkdir()
    assert main(["init", "charlie_and_kim", "--to", "stories"]) == 0
    copied = elsewhere / "stories" / "charlie_and_kim.toml"
    assert copied.read_bytes() == (STORIES_DIR / "charlie_and_kim.toml").read_bytes()
    assert "pushsim story stories/charlie_and_kim.toml" in capsys.readouterr().out


def test_init_an_unknown_name_or_into_a_missing_folder_exits_2(
    elsewhere: Path, capsys: pytest.CaptureFixture[str]
):
    assert main(["init", "nosuch"]) == 2
    error = capsys.readouterr().err
    assert "no packaged scenario or story named 'nosuch'" in error
    assert "baseline" in error and "charlie_and_kim" in error
    assert main(["init", "--to", "missing/folder/x.toml"]) == 2
    assert "cannot write missing/folder/x.toml" in capsys.readouterr().err
    assert list(elsewhere.iterdir()) == []


def test_help_of_init_shows_an_example():
    done = pushsim("init", "--help")
    assert done.returncode == 0, done.stderr
    assert "example:\n  pushsim init" in done.stdout
