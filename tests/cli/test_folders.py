"""pushsim never deletes or overwrites what it did not write, and checks the place before running.

The cases of issue 11 that lost a user's files, as regressions: a folder that merely holds a
``summary.json``, a user's file added to a results folder, a rerun of the README's second example,
``--out .``; and the places that failed only after the whole simulation ran (a file in the path, a
name too long, a read-only parent, a full disk). Every refusal is exit 2 with one message naming
``--out``, before anything is simulated; a write that fails later is exit 1, leaving nothing.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import tempfile
from collections import namedtuple
from pathlib import Path

import pytest

import sim.output
import sim.runner
from sim.cli import main
from sim.folders import (
    MANIFEST,
    STAGING_MARK,
    FolderError,
    FolderLock,
    ResultsFolder,
    foreign_entries,
)
from tests.cli import REPO

BASELINE = REPO / "scenarios" / "baseline.toml"
TINY = ["--set", "population.devices=40", "--days", "2", "--set", "measurement.warm_up_days=0"]


def run(out: Path | str | None, *extra: str) -> list[str]:
    where = [] if out is None else ["--out", str(out)]
    return ["run", str(BASELINE), *where, *TINY, "--quiet", *extra]


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def hidden(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


@pytest.fixture
def no_simulation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the command gets as far as simulating."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the run simulated before refusing its output folder")

    monkeypatch.setattr(sim.runner, "run_scenario", refuse)


# -- never delete what pushsim did not write ------------------------------------------------------


def test_a_folder_with_a_summary_json_is_not_a_results_folder(tmp_path, capsys, no_simulation):
    p = tmp_path / "p"
    (p / "src").mkdir(parents=True)
    (p / "summary.json").write_text("{}\n")
    (p / "src" / "notes.tex").write_text("precious\n")
    before = tree(p)
    for extra in ((), ("--overwrite",)):
        assert main(run(p, *extra)) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"--out: {p} holds files pushsim did not write" in err
        assert "src/" in err and "summary.json" in err
        assert tree(p) == before
        assert sorted(x.name for x in tmp_path.iterdir()) == ["p"]


def test_a_users_file_in_a_results_folder_is_never_deleted(tmp_path, capsys):
    out = tmp_path / "res"
    assert main(run(out)) == 0
    (out / "my-notes.md").write_text("mine\n")
    before = tree(out)
    assert main(run(out, "--overwrite")) == 2
    err = capsys.readouterr().err
    assert "my-notes.md (not written by pushsim)" in err and "--out" in err
    assert tree(out) == before
    # without --overwrite the earlier folder is kept and a numbered one written beside it
    assert main(run(out)) == 0
    assert tree(out) == before
    assert (tmp_path / "res-2" / "summary.json").is_file()


def test_a_changed_result_file_makes_the_folder_the_users(tmp_path, capsys):
    out = tmp_path / "res"
    assert main(run(out)) == 0
    with (out / "report.md").open("a") as report:
        report.write("my conclusions\n")
    before = tree(out)
    assert main(run(out, "--overwrite")) == 2
    assert "report.md (changed since pushsim wrote it)" in capsys.readouterr().err
    assert tree(out) == before


def test_overwrite_replaces_a_folder_pushsim_wrote_whole(tmp_path, capsys):
    out = tmp_path / "res"
    assert main(run(out)) == 0
    first = tree(out)
    assert main([*run(out, "--overwrite"), "--seed", "7"]) == 0
    second = tree(out)
    assert second != first and set(second) == set(first)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]
    manifest = json.loads((out / MANIFEST).read_text())
    assert set(manifest["files"]) == set(second) - {MANIFEST}
    assert foreign_entries(out) == []


def test_the_readme_rerun_keeps_the_earlier_results(tmp_path, monkeypatch, capsys):
    """``pushsim run scenarios/baseline.toml --seed 2 --days 90 …`` after a first run."""
    monkeypatch.chdir(tmp_path)
    assert main(run(None)) == 0
    first = tree(tmp_path / "results" / "baseline")
    assert main([*run(None), "--seed", "2"]) == 0
    captured = capsys.readouterr()
    assert "results/baseline holds an earlier run, which is kept" in captured.err
    assert "writing results/baseline-2" in captured.err
    assert "results: results/baseline-2/" in captured.out
    assert tree(tmp_path / "results" / "baseline") == first
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["baseline", "baseline-2"]


def test_an_empty_folder_is_used(tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    assert main(run(out)) == 0
    assert (out / "summary.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


# -- the place is checked before simulating -------------------------------------------------------


@pytest.mark.parametrize("where", [".", "..", "/"])
def test_the_working_folder_and_its_parents_are_refused(
    where, tmp_path, monkeypatch, capsys, no_simulation
):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert main(run(where)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is the working folder or one of its parents" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]
    assert list(work.iterdir()) == []


def test_a_path_under_a_file_is_refused(tmp_path, capsys, no_simulation):
    (tmp_path / "somefile").write_text("x\n")
    assert main(run(tmp_path / "somefile" / "sub")) == 2
    assert "somefile is a file, not a folder" in capsys.readouterr().err
    assert main(run(tmp_path / "somefile")) == 2
    assert "somefile exists and is not a folder" in capsys.readouterr().err
    assert (tmp_path / "somefile").read_text() == "x\n"


def test_a_name_too_long_is_refused(tmp_path, capsys, no_simulation):
    assert main(run(tmp_path / "deeper" / ("x" * 300))) == 2
    err = capsys.readouterr().err
    assert "is 300 bytes long" in err and "--out" in err
    assert list(tmp_path.iterdir()) == []


def test_a_parent_that_cannot_be_written_is_refused(tmp_path, capsys, monkeypatch, no_simulation):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    real_access = os.access
    # root ignores permission bits: make the check see what an ordinary user would
    monkeypatch.setattr(
        os,
        "access",
        lambda path, mode: False if Path(path) == locked else real_access(path, mode),
    )
    try:
        assert main(run(locked / "res")) == 2
    finally:
        locked.chmod(stat.S_IRWXU)
    assert f"cannot create {locked / 'res'}: {locked} is not writable" in capsys.readouterr().err
    assert list(locked.iterdir()) == []


def test_a_staging_folder_that_cannot_be_created_is_refused_before_simulating(
    tmp_path, capsys, monkeypatch, no_simulation
):
    def denied(*args: object, **kwargs: object) -> str:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkdtemp", denied)
    assert main(run(tmp_path / "new" / "res")) == 2
    assert "cannot create" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [], "the parent folder created for it is removed again"


def test_no_space_is_refused_before_simulating(tmp_path, capsys, monkeypatch, no_simulation):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9, 2**20))
    assert main(run(tmp_path / "res")) == 2
    err = capsys.readouterr().err
    assert "not enough space" in err and "1 MiB free" in err
    assert list(tmp_path.iterdir()) == []


def test_a_disk_that_fills_up_while_writing_leaves_nothing(tmp_path, capsys, monkeypatch):
    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sim.output, "write_plots", full)
    out = tmp_path / "new" / "res"
    assert main(run(out)) == 1
    err = capsys.readouterr().err
    assert err == (
        f"pushsim: cannot write the results to {out}: No space left on device; "
        "nothing was written\n"
    )
    assert list(tmp_path.iterdir()) == [], "no results, staging, lock or created parent left"


# -- staging folders and locks --------------------------------------------------------------------


def test_a_stale_staging_folder_is_removed_by_the_next_run(tmp_path, capsys):
    out = tmp_path / "res"
    stale = tmp_path / ".res.partial-killed1"  # what a SIGKILLed run leaves
    stale.mkdir()
    (stale / STAGING_MARK).write_text("12345\n")
    (stale / "timeseries.csv").write_text("half\n")
    foreign = tmp_path / ".res.partial-notours"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("keep\n")
    assert main(run(out)) == 0
    err = capsys.readouterr().err
    assert f"removed {stale}, left by an interrupted run" in err
    assert f"left alone: {foreign}" in err
    assert not stale.exists()
    assert (foreign / "keep.txt").read_text() == "keep\n"
    assert hidden(tmp_path) == [foreign.name]


def test_a_folder_being_written_is_not_taken(tmp_path, capsys):
    out = tmp_path / "res"
    other = FolderLock(out)  # another pushsim process writing res
    assert other.acquire()
    try:
        assert main(run(out, "--overwrite")) == 2
        assert "is in use by another pushsim process" in capsys.readouterr().err
        assert main(run(out)) == 0
        captured = capsys.readouterr()
        assert "is being written by another pushsim process" in captured.err
        assert f"results: {tmp_path / 'res-2'}/" in captured.out
    finally:
        other.release()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res-2"]


def test_a_lock_is_taken_by_one_holder_and_released(tmp_path):
    first, second = FolderLock(tmp_path / "res"), FolderLock(tmp_path / "res")
    assert first.acquire()
    assert not second.acquire()
    assert first.holder() == str(os.getpid())
    first.release()
    assert not first.path.exists()
    assert second.acquire()
    second.release()


# -- ResultsFolder as a library -------------------------------------------------------------------


def test_results_appear_whole_with_their_manifest(tmp_path):
    target = tmp_path / "deeper" / "res"
    with ResultsFolder(target) as results:
        assert results.staging.parent == target.parent
        assert results.staging.name.startswith(".res.partial-")
        assert not target.exists(), "the target appears only at the end"
        (results.staging / "a.csv").write_text("1\n")
        assert results.publish() == target
    assert sorted(tree(target)) == ["a.csv", MANIFEST]
    assert sorted(p.name for p in target.parent.iterdir()) == ["res"]


def test_the_results_folder_is_not_private(tmp_path):
    umask = os.umask(0o022)
    try:
        with ResultsFolder(tmp_path / "res") as results:
            results.publish()
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "res").stat().st_mode) == 0o755


def test_an_unpublished_folder_leaves_nothing(tmp_path):
    target = tmp_path / "new" / "res"
    with pytest.raises(KeyboardInterrupt), ResultsFolder(target) as results:
        (results.staging / "a.csv").write_text("1\n")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_an_unpublished_folder_leaves_an_existing_target_untouched(tmp_path):
    target = tmp_path / "res"
    with ResultsFolder(target) as results:
        (results.staging / "old.csv").write_text("old\n")
        results.publish()
    before = tree(target)
    with pytest.raises(RuntimeError), ResultsFolder(target, overwrite=True) as results:
        (results.staging / "new.csv").write_text("new\n")
        raise RuntimeError
    assert tree(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_a_file_added_during_the_run_sends_the_results_elsewhere(tmp_path):
    target = tmp_path / "res"
    with ResultsFolder(target) as results:
        results.publish()
    with ResultsFolder(target, overwrite=True) as results:
        (target / "added-meanwhile.txt").write_text("mine\n")
        assert results.publish() == tmp_path / "res-2"
        assert any("changed during the run" in note for note in results.notes)
    assert (target / "added-meanwhile.txt").read_text() == "mine\n"


def test_folder_errors_name_the_problem(tmp_path):
    (tmp_path / "f").write_text("")
    with (
        pytest.raises(FolderError, match="is a file, not a folder"),
        ResultsFolder(tmp_path / "f" / "x"),
    ):
        pass
    assert [p.name for p in tmp_path.iterdir()] == ["f"]


# -- sizes that cannot finish, and options a single run cannot use --------------------------------


@pytest.mark.parametrize(
    ("assignment", "key"),
    [
        ("population.devices=50000000", "population.devices"),
        ("population.arrivals_per_day=900000", "population.arrivals_per_day"),
    ],
)
def test_a_run_too_big_for_this_machine_is_refused_before_anything(
    assignment, key, tmp_path, capsys, no_simulation
):
    assert main(["run", str(BASELINE), "--out", str(tmp_path / "big"), "--set", assignment]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"baseline.toml: {key}: " in err and "Way out:" in err
    assert list(tmp_path.iterdir()) == []


def test_dask_on_a_single_run_of_one_shard_is_refused(tmp_path, capsys, no_simulation):
    assert main(run(tmp_path / "res", "--dask", "local")) == 2
    assert "--dask: runs a single run's household shards" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
