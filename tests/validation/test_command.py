"""``pushsim validation`` end to end at small size: every row filled, verdicts from the numbers,
the same bytes twice, and never a file it did not write overwritten."""

from __future__ import annotations

import argparse
import copy
import math
from pathlib import Path

import pytest

from sim.validation import command
from sim.validation.execute import run_jobs
from sim.validation.figures import FIGURES
from sim.validation.output import ReportRefused, write_report
from sim.validation.report import MARKER, render
from sim.validation.rows import FULL_SIZE_ONLY, OUTSIDE, WITHIN, build_rows, verdict
from sim.validation.runs import SIZES, plan

SMALL = SIZES["small"]


@pytest.fixture(scope="module")
def measured():
    """The small size's jobs and values, measured on 2 workers."""
    jobs = plan(SMALL, 1)
    return jobs, run_jobs(jobs, workers=2)


@pytest.fixture(scope="module")
def small(measured, tmp_path_factory):
    """The small report rendered from those values, written as the command writes it."""
    jobs, values = measured
    out = tmp_path_factory.mktemp("validation") / "validation.md"
    write_report(out, render(SMALL, 1, jobs, values, build_rows(jobs, values)))
    return out


def test_every_row_is_filled_and_its_verdict_comes_from_its_numbers(measured):
    jobs, measured_values = measured
    values = copy.deepcopy(measured_values)
    rows = build_rows(jobs, values)
    assert [row.figure.key for row in rows] == [f.key for f in FIGURES]
    for row in rows:
        if row.verdict == FULL_SIZE_ONLY:
            assert row.reason, row.figure.key
            assert SMALL.days < row.figure.min_days
            continue
        assert row.interval is not None and row.interval.n == SMALL.replications, row.figure.key
        assert math.isfinite(row.interval.low) and math.isfinite(row.interval.high)
        assert row.verdict in (WITHIN, OUTSIDE)
        assert row.verdict == verdict(row.band, row.interval)
    # the verdict follows the numbers: move one figure's values into its band and out again
    key = "uninstalled_by_day30"
    for run, run_values in zip(jobs, values, strict=True):
        if run.run == "baseline":
            run_values[key] = 0.475
    moved = {row.figure.key: row for row in build_rows(jobs, values)}
    assert moved[key].verdict == WITHIN
    for run, run_values in zip(jobs, values, strict=True):
        if run.run == "baseline":
            run_values[key] = 0.60 + 0.001 * run.replication
    moved = {row.figure.key: row for row in build_rows(jobs, values)}
    assert moved[key].verdict == OUTSIDE


def test_the_report_starts_with_its_marker_and_shows_every_row(small):
    text = small.read_text(encoding="utf-8")
    assert text.splitlines()[0] == MARKER
    for number, f in enumerate(FIGURES, start=1):
        assert f"| {number} | {f.name} |" in text
    assert text.count("| full size only |") == sum(f.min_days > SMALL.days for f in FIGURES)
    for f in FIGURES:
        if f.min_days > SMALL.days:
            assert f"skipped at this size: {f.why_full_size}" in text
    assert "Size **small**" in text


def test_the_command_gives_the_same_bytes_on_one_worker(small, tmp_path, capsys):
    """Determinism: the command, serial, writes byte for byte the report of the 2 workers."""
    again = tmp_path / "again.md"
    assert command.main(["--size", "small", "--workers", "1", "--out", str(again)]) == 0
    assert again.read_bytes() == small.read_bytes()
    assert "wrote" in capsys.readouterr().out  # the run time is printed, never in the report


def test_a_report_it_wrote_is_replaced_and_any_other_file_refused(tmp_path, capsys):
    ours = tmp_path / "ours.md"
    write_report(ours, f"{MARKER}\nold\n")
    write_report(ours, f"{MARKER}\nnew\n")
    assert ours.read_text(encoding="utf-8") == f"{MARKER}\nnew\n"
    theirs = tmp_path / "notes.md"
    theirs.write_text("# my notes\n", encoding="utf-8")
    with pytest.raises(ReportRefused, match="not written by pushsim validation"):
        write_report(theirs, f"{MARKER}\n")
    code = command.main(["--size", "small", "--out", str(theirs)])
    assert code == 2
    assert theirs.read_text(encoding="utf-8") == "# my notes\n"
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not written by pushsim validation" in err
    assert "Traceback" not in err
    assert command.main(["--size", "small", "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.md", "ours.md"]


@pytest.mark.parametrize(
    "argv",
    [
        ["--size", "huge"],
        ["--replications", "1"],
        ["--devices", "zero"],
        ["--days", "5"],
        ["--seed", "-1"],
        ["--workers", "0"],
    ],
)
def test_bad_arguments_are_one_message_and_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as stop:
        command.build_parser().parse_args(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err


def test_the_command_plugs_into_a_parent_parser():
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    args = parser.parse_args(["--size", "small", "--out", "x.md"])
    assert args.size == "small" and args.out == Path("x.md")
    assert "pushsim validation" in command.EXAMPLE
