"""``pushsim calibrate``: checks before running, the folder it writes, resuming, refusing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sim.calibration.store import POINTS, read_points
from sim.cli import main
from sim.scenario.load import load_scenario

OBSERVATIONS = """
[[observation]]
observable = "uninstalled_by_day30_share"
value = 0.45
n = 4000
window_days = 60

[[observation]]
observable = "opt_in_share"
platform = "ios"
value = 0.55
n = 3000
window_days = 1

[[observation]]
observable = "campaign_cadence_days"
value = 3
uncertainty = 0
window_days = 60
"""
SMALL = ["--devices", "300", "--days", "61", "--replications", "1", "--max-iterations", "1"]


def _calibrate(tmp_path: Path, *extra: str, text: str = OBSERVATIONS) -> int:
    observations = tmp_path / "obs.toml"
    observations.write_text(text, encoding="utf-8")
    return main(
        ["calibrate", str(observations), "--scenario", "baseline", "--workers", "1", *SMALL, *extra]
    )


def _copy(folder: Path, to: Path) -> Path:
    to.mkdir()
    for path in folder.iterdir():
        (to / path.name).write_bytes(path.read_bytes())
    return to


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp_path = tmp_path_factory.mktemp("calibrate")
    assert _calibrate(tmp_path, "--out", str(tmp_path / "cal"), "--quiet") == 0
    return tmp_path / "cal"


def test_the_folder_holds_the_scenario_the_fit_and_the_report(calibrated: Path) -> None:
    names = {p.name for p in calibrated.iterdir()}
    assert names == {"calibration.json", POINTS, "calibrated.toml", "fit.json", "report.md"}
    fit = json.loads((calibrated / "fit.json").read_text(encoding="utf-8"))
    scenario = load_scenario(calibrated / "calibrated.toml")
    assert scenario.scenario.name == "baseline_calibrated"
    assert scenario.campaigns.every_days == 3.0  # set from the cadence row
    for estimate in fit["estimates"]:
        section, key = estimate["parameter"].split(".")
        assert getattr(getattr(scenario, section), key) == estimate["value"]
    # every other key is the base's: the file extends it
    assert scenario.population.devices == 10_000
    text = (calibrated / "calibrated.toml").read_text(encoding="utf-8")
    assert 'extends = "baseline"' in text
    assert "fitted to uninstalled_by_day30_share = 0.45 (row 0)" in text
    report = (calibrated / "report.md").read_text(encoding="utf-8")
    assert "## Observed against simulated" in report and "## Fitted parameters" in report


def test_resume_reads_every_point_and_gives_the_same_fit(
    calibrated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = _copy(calibrated, tmp_path / "cal")
    before = json.loads((copy / "fit.json").read_text(encoding="utf-8"))
    assert _calibrate(tmp_path, "--out", str(copy), "--resume") == 0
    after = json.loads((copy / "fit.json").read_text(encoding="utf-8"))
    assert after["runs"] == 0 < before["runs"]
    assert after["estimates"] == before["estimates"] and after["rows"] == before["rows"]
    assert "points already run are read, not run" in capsys.readouterr().err


def test_a_point_cut_short_is_run_again(tmp_path: Path) -> None:
    points = tmp_path / POINTS
    whole = json.dumps({"x": [0.5], "replications": [[["opt_in_share", "ios", 0.5, 10, None]]]})
    points.write_text(whole + "\n" + whole[:20], encoding="utf-8")
    assert list(read_points(points)) == [(0.5,)]


def test_resuming_other_inputs_is_refused(
    calibrated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = _copy(calibrated, tmp_path / "cal")
    code = _calibrate(tmp_path, "--out", str(copy), "--resume", "--seed", "99")
    assert code == 2
    assert "holds a calibration of other inputs (they differ in setup)" in capsys.readouterr().err


def test_an_earlier_calibration_is_kept_and_a_numbered_folder_written(
    calibrated: Path, tmp_path: Path
) -> None:
    copy = _copy(calibrated, tmp_path / "cal")
    before = {p.name: p.read_bytes() for p in copy.iterdir()}
    assert _calibrate(tmp_path, "--out", str(copy), "--quiet", "--max-iterations", "1") == 0
    assert {p.name: p.read_bytes() for p in copy.iterdir()} == before
    assert (tmp_path / "cal-2" / "calibrated.toml").is_file()


def test_a_folder_that_is_not_a_calibration_is_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me", encoding="utf-8")
    assert _calibrate(tmp_path, "--out", str(mine), "--overwrite") == 2
    assert "is not a pushsim calibration folder" in capsys.readouterr().err
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[observation]]\nobservable = "opt_in_share"\nvalue = 1.4\nn = 10\nwindow_days = 1\n',
            "observation[0].platform: required for opt_in_share",
        ),
        (
            '[[observation]]\nobservable = "sessions_per_active_user_per_week"\nvalue = 3.0\n'
            "n = 1000\nwindow_days = 28\n",
            "observation[0]: sessions_per_active_user_per_week needs a standard error to be "
            "fitted: give uncertainty",
        ),
        ("[[observation]\n", "obs.toml"),
    ],
)
def test_bad_observations_exit_2_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    out = tmp_path / "cal"
    assert _calibrate(tmp_path, "--out", str(out), text=text) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_bad_arguments_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        _calibrate(tmp_path, "--days", "20")
    assert stop.value.code == 2
    assert "must be between 31 and 36500 days" in capsys.readouterr().err


def test_interrupted_it_keeps_its_points_and_resume_finishes_the_same_fit(
    calibrated: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from sim.calibration.store import CalibrationFolder

    add_point = CalibrationFolder.add_point
    calls: list[int] = []

    def interrupt_after_two(self: CalibrationFolder, *args: Any) -> None:
        add_point(self, *args)
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt

    out = tmp_path / "cal"
    with monkeypatch.context() as patch:
        patch.setattr(CalibrationFolder, "add_point", interrupt_after_two)
        assert _calibrate(tmp_path, "--out", str(out)) == 130
    err = capsys.readouterr().err
    assert f"the 2 points run so far are kept in {out}" in err and "--resume" in err
    assert sorted(p.name for p in out.iterdir()) == ["calibration.json", POINTS]
    assert len(read_points(out / POINTS)) == 2

    assert _calibrate(tmp_path, "--out", str(out), "--resume", "--quiet") == 0
    resumed = json.loads((out / "fit.json").read_text(encoding="utf-8"))
    whole = json.loads((calibrated / "fit.json").read_text(encoding="utf-8"))
    assert resumed["estimates"] == whole["estimates"] and resumed["rows"] == whole["rows"]
    assert 0 < resumed["runs"] < whole["runs"]
