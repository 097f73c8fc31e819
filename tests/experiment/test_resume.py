"""An interrupted sweep resumes with --resume, recomputes nothing it saved, and loses nothing.

The interrupted sweep is a real ``python -m sim.experiment sweep`` process killed (SIGKILL) as
soon as its first run file appears; the resumed folder must be byte-identical to an uninterrupted
run, and the run files saved before the kill must not have been rewritten.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.experiment import sweep
from sim.experiment.store import ForeignFolderError
from tests.experiment import REPO, SMALL, SWEEP_FILE, TINY
from tests.experiment.test_executors import same_files

REPLICATIONS = 3


def command(out: Path, *extra: str) -> list[str]:
    sets = [arg for assignment in SMALL for arg in ("--set", assignment)]
    return [
        sys.executable,
        "-m",
        "sim.experiment",
        "sweep",
        str(SWEEP_FILE),
        "--out",
        str(out),
        "--replications",
        str(REPLICATIONS),
        "--workers",
        "1",
        *sets,
        *extra,
    ]


def stamps(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.glob("*.parquet")}


def test_a_killed_sweep_resumes_without_recomputing(tmp_path):
    out = tmp_path / "interrupted"
    runs = out / "runs"
    process = subprocess.Popen(
        command(out, "--quiet"), cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while not (runs.is_dir() and any(runs.glob("*.parquet"))):
        assert process.poll() is None, f"the sweep ended before it was killed: {process.stderr}"
        assert time.monotonic() < deadline
        time.sleep(0.002)
    process.kill()
    process.wait()
    assert process.stderr is not None
    process.stderr.close()
    saved = stamps(runs)
    assert 1 <= len(saved) < 2 * REPLICATIONS, "the kill must leave runs to do"
    assert not (out / "results.parquet").exists()

    done = subprocess.run(
        command(out, "--resume"), cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert f"running {2 * REPLICATIONS - len(saved)} runs" in done.stderr
    assert f"{len(saved)} already done (--resume)" in done.stderr
    after = stamps(runs)
    assert len(after) == 2 * REPLICATIONS
    for name, stamp in saved.items():
        assert after[name] == stamp, f"{name} was recomputed"
    assert not list(runs.glob(".*.tmp"))

    reference = tmp_path / "uninterrupted"
    sweep(SWEEP_FILE, REPLICATIONS, out=reference, overrides=SMALL)
    same_files(reference, out)


def test_resume_recomputes_runs_that_do_not_match(tmp_path):
    sweep(SWEEP_FILE, 2, out=tmp_path, overrides=TINY)
    runs = tmp_path / "runs"
    first = stamps(runs)
    # a run file that does not read is recomputed; the others are kept
    broken = runs / "p001-r000.parquet"
    broken.write_bytes(broken.read_bytes()[:100])
    (runs / ".p000-r000.parquet.123.tmp").write_bytes(b"left by a killed process")
    (runs / ".mine.tmp").write_bytes(b"not pushsim's")
    sweep(SWEEP_FILE, 2, out=tmp_path, overrides=TINY, resume=True)
    second = stamps(runs)
    assert {n for n in first if second[n] != first[n]} == {"p001-r000.parquet"}
    assert [p.name for p in runs.glob(".*.tmp")] == [".mine.tmp"]
    (runs / ".mine.tmp").unlink()
    # another seed: every run is recomputed, and the folder equals a fresh experiment
    reseeded = [*TINY, "measurement.seed=9"]
    sweep(SWEEP_FILE, 2, out=tmp_path, overrides=reseeded, resume=True)
    third = stamps(runs)
    assert all(third[n] != second[n] for n in second)
    fresh = tmp_path.parent / f"{tmp_path.name}-fresh"
    sweep(SWEEP_FILE, 2, out=fresh, overrides=reseeded)
    same_files(fresh, tmp_path)


def test_more_replications_reuse_the_runs_already_done(tmp_path):
    sweep(SWEEP_FILE, 2, out=tmp_path, overrides=TINY)
    before = stamps(tmp_path / "runs")
    result = sweep(SWEEP_FILE, 3, out=tmp_path, overrides=TINY, resume=True)
    after = stamps(tmp_path / "runs")
    assert set(after) == set(before) | {"p000-r002.parquet", "p001-r002.parquet"}
    assert all(after[name] == stamp for name, stamp in before.items())
    # a survival median is missing (n = 0 or fewer) where fewer than half were caught up
    summary = result.summary
    assert set(summary.loc[~summary["figure"].str.startswith("median_"), "n"]) == {3}


def test_overwrite_starts_afresh_and_keeps_what_pushsim_did_not_write(tmp_path):
    out = tmp_path / "sweep"
    sweep(SWEEP_FILE, 2, out=out, overrides=TINY)
    stray = out / "runs" / "p009-r000.parquet"  # named like a run file, but not a pushsim run
    stray.write_bytes(b"")
    notes = out / "notes.txt"
    notes.write_text("mine\n")
    before = stamps(out / "runs")
    time.sleep(0.01)
    result = sweep(SWEEP_FILE, 2, out=out, overrides=TINY, overwrite=True)
    assert result.directory == out
    after = stamps(out / "runs")
    assert after[stray.name] == before[stray.name] and stray.read_bytes() == b""
    assert notes.read_text() == "mine\n"
    assert all(after[name] != before[name] for name in after if name != stray.name)
    assert os.path.exists(out / "results.parquet")


def test_without_resume_or_overwrite_an_earlier_experiment_is_kept(tmp_path):
    out = tmp_path / "sweep"
    first = sweep(SWEEP_FILE, 2, out=out, overrides=TINY)
    before = {p.name: p.read_bytes() for p in (out / "runs").iterdir()}
    second = sweep(SWEEP_FILE, 2, out=out, overrides=TINY)
    assert first.directory == out
    assert second.directory == tmp_path / "sweep-2"
    assert {p.name: p.read_bytes() for p in (out / "runs").iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep", "sweep-2"]
    third = sweep(SWEEP_FILE, 2, out=out, overrides=TINY)
    assert third.directory == tmp_path / "sweep-3"


def test_a_folder_that_is_not_an_experiment_is_left_alone(tmp_path):
    (tmp_path / "results.parquet").write_bytes(b"somebody else's")
    with pytest.raises(ForeignFolderError, match="not a pushsim experiment folder"):
        sweep(SWEEP_FILE, 2, out=tmp_path, overrides=TINY)
    assert [p.name for p in tmp_path.iterdir()] == ["results.parquet"]
