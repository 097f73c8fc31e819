"""Experiment folders: chosen and locked before anything runs, resumed when asked, never clobbered.

``run --replications`` resumes like a sweep (byte-identical to an uninterrupted run), a second
experiment on a folder in use is refused, an earlier experiment is kept unless ``--resume`` or
``--overwrite`` says otherwise, and an experiment that never started leaves no folder.
"""

from __future__ import annotations

from pathlib import Path

from sim.cli import main
from sim.experiment import commands, store
from sim.experiment.store import Store
from sim.folders import FolderLock
from tests.experiment import BASELINE, SWEEP_FILE, TINY, TRACKING

SETS = [arg for assignment in TINY for arg in ("--set", assignment)]


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def replications(out: Path, *extra: str) -> list[str]:
    return ["run", str(BASELINE), "--replications", "3", "--workers", "1", "--out", str(out),
            *SETS, "--quiet", *extra]  # fmt: skip


def test_run_replications_resume_after_an_interruption(tmp_path, capsys, monkeypatch):
    reference = tmp_path / "reference"
    assert main(replications(reference)) == 0

    out = tmp_path / "interrupted"
    save = Store.save
    saved: list[str] = []

    def interrupt_after_the_first_run(self: Store, run, rows):
        if saved:
            raise KeyboardInterrupt
        saved.append(run.run_id)
        return save(self, run, rows)

    monkeypatch.setattr(Store, "save", interrupt_after_the_first_run)
    assert main(replications(out)) == 130
    err = capsys.readouterr().err
    assert "run the same command with --resume to continue" in err
    assert [p.name for p in (out / "runs").iterdir()] == [f"{saved[0]}.parquet"]
    monkeypatch.setattr(Store, "save", save)

    first = (out / "runs" / f"{saved[0]}.parquet").stat()
    assert main(replications(out, "--resume")) == 0
    again = (out / "runs" / f"{saved[0]}.parquet").stat()
    assert (again.st_ino, again.st_mtime_ns) == (first.st_ino, first.st_mtime_ns), "recomputed"
    assert files(out) == files(reference)


def test_an_interrupted_numbered_experiment_says_where_to_resume(tmp_path, capsys, monkeypatch):
    out = tmp_path / "reps"
    assert main(replications(out)) == 0

    def interrupt(self: Store, run, rows):
        raise KeyboardInterrupt

    monkeypatch.setattr(Store, "save", interrupt)
    assert main(replications(out)) == 130
    err = capsys.readouterr().err
    assert f"--resume --out {tmp_path / 'reps-2'} to continue" in err


def test_resume_on_a_single_run_is_refused(tmp_path, capsys):
    code = main(["run", str(BASELINE), "--out", str(tmp_path / "x"), *SETS, "--resume"])
    assert code == 2
    assert "--resume: continues an experiment" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_second_experiment_on_a_folder_in_use_is_refused(tmp_path, capsys):
    out = tmp_path / "sweep"
    assert main(["sweep", str(SWEEP_FILE), "--replications", "2", "--workers", "1",
                 "--out", str(out), *SETS, "--quiet"]) == 0  # fmt: skip
    before = files(out)
    other = FolderLock(out)  # the first experiment, still running
    assert other.acquire()
    try:
        for option in ("--resume", "--overwrite"):
            code = main(["sweep", str(SWEEP_FILE), "--replications", "2", "--workers", "1",
                         "--out", str(out), *SETS, "--quiet", option])  # fmt: skip
            assert code == 2
            err = capsys.readouterr().err
            assert err.count("\n") == 1
            assert f"--out: {out} is in use by another pushsim process (pid " in err
            assert files(out) == before
    finally:
        other.release()


def test_an_earlier_experiment_is_kept_without_resume_or_overwrite(tmp_path, capsys):
    out = tmp_path / "reps"
    assert main(replications(out)) == 0
    before = files(out)
    assert main(replications(out)) == 0
    captured = capsys.readouterr()
    assert f"{out} holds an earlier run, which is kept" in captured.err
    assert f"results: {tmp_path / 'reps-2'}/results.parquet" in captured.out
    assert files(out) == before
    assert files(tmp_path / "reps-2") == before, "same seeds, same results"


def test_resume_and_overwrite_together_are_refused(tmp_path, capsys):
    code = main([*replications(tmp_path / "r"), "--resume", "--overwrite"])
    assert code == 2
    assert "--overwrite: cannot be combined with --resume" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_dask_cluster_leaves_no_folder(tmp_path, capsys):
    out = tmp_path / "new" / "reps"
    code = main([*replications(out), "--dask", "tcp://127.0.0.1:9"])
    assert code == 2
    assert "cannot use the Dask cluster at tcp://127.0.0.1:9" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_an_experiment_folder_that_cannot_be_created_is_refused_first(tmp_path, capsys):
    (tmp_path / "file").write_text("x\n")
    code = main(replications(tmp_path / "file" / "reps"))
    assert code == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_compare_writes_its_table_while_it_still_holds_the_folder(tmp_path, monkeypatch):
    out = tmp_path / "cmp"
    free: list[bool] = []
    write = store.write_atomic

    def write_and_look(target: Path, data: bytes) -> None:
        lock = FolderLock(out)
        free.append(lock.acquire())
        lock.release()
        write(target, data)

    monkeypatch.setattr(commands, "write_atomic", write_and_look)
    code = main(["compare", str(BASELINE), str(TRACKING), "--replications", "2", "--workers",
                 "1", "--out", str(out), *SETS, "--quiet"])  # fmt: skip
    assert code == 0
    assert free == [False], "comparison.csv was written after the lock was released"
    assert (out / "comparison.csv").is_file()
