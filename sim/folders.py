"""Results folders that never cost a user a file: where a run writes, and what it may replace.

A run's results go to a folder of their own. The rules, checked *before* anything is simulated:

- **The place.** The target must be able to hold a results folder: not the working folder or one
  of its parents, not under a file, a name short enough for the file system, a parent folder that
  can be created and written, and room on its disk.
- **pushsim's own folders.** A folder is pushsim's when its ``manifest.json`` lists every entry in
  it, each with the size and SHA-256 pushsim wrote. Only such a folder is ever replaced; a file a
  user added or changed makes it someone else's.
- **An existing target.** An empty folder is used. A pushsim results folder is kept, and the run
  goes to the first free numbered sibling (``results/baseline-2``, ``-3``…), unless the caller
  asks to overwrite it. Anything else is refused, with the entries that are in the way.
- **Whole or nothing.** A run writes into a staging folder ``.NAME.partial-*`` beside the target,
  renamed into place at the end; an interruption removes it. A staging folder left by a killed
  process (SIGKILL cannot be cleaned up after) carries a marker file and is removed by the next run
  on the same target.
- **One writer.** A run holds the lock file ``.NAME.lock`` beside its target for its whole life
  (``flock``: the kernel releases it when the process dies, however it dies). A second run on the
  same target goes to the next numbered folder, or is refused when it asked for that very folder.

The experiment folders of :mod:`sim.experiment.store` use the same place checks, lock and numbering.
This module imports nothing heavy: the command line runs these checks before loading pandas.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

#: the file that lists what pushsim wrote in a results folder
MANIFEST = "manifest.json"
#: the file that marks a staging (or set-aside) folder as pushsim's, while it is one
STAGING_MARK = ".pushsim-staging"
#: numbered siblings tried before giving up (``NAME-2`` … ``NAME-1000``)
MAX_NUMBER = 1000
#: what a results folder's name may need on top of itself: ``.NAME.partial-`` + 8 random
#: characters for the staging folder, and ``-1000`` for a numbered sibling
NAME_ROOM = len("..partial-") + 8 + len(f"-{MAX_NUMBER}")
#: minimum free space required beside any results folder (the plots and tables of a short run)
MIN_FREE_BYTES = 16 * 2**20

#: what a folder is to pushsim: missing, empty, its own results, its own results with files added
#: or changed by someone else, or someone else's
State = Literal["absent", "empty", "pushsim", "changed", "foreign"]


class FolderError(Exception):
    """A results folder that cannot be used; the message says why and what to do."""


class FolderBusyError(FolderError):
    """Another pushsim process holds the folder's lock."""


# -- the place ------------------------------------------------------------------------------------


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def existing_ancestor(path: Path) -> Path:
    """The nearest of ``path`` and its parents that exists (``/`` at worst)."""
    for candidate in (path, *path.parents):
        if candidate.exists() or candidate.is_symlink():
            return candidate
    return Path(path.anchor or ".")


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def check_place(target: Path, *, needed_bytes: int = 0) -> None:
    """Refuse a ``target`` that cannot become a results folder (see the module docstring).

    Nothing is created; :class:`FolderError` says what is wrong.
    """
    absolute = Path(os.path.abspath(target))
    here = Path.cwd()
    if absolute == here or absolute in here.parents or absolute == Path(absolute.anchor):
        raise FolderError(
            f"{target} is the working folder or one of its parents; results go in a folder of "
            "their own: choose a new name such as results/my-run"
        )
    found = existing_ancestor(absolute.parent)
    if not found.is_dir():
        raise FolderError(f"{found} is a file, not a folder: it cannot hold {target}")
    longest = _name_max(found) - NAME_ROOM
    for part in absolute.relative_to(found).parts:
        size = len(os.fsencode(part))
        if size > longest:
            raise FolderError(
                f"the name {part[:40]}… is {size} bytes long; this file system allows {longest} "
                f"for a results folder (pushsim adds up to {NAME_ROOM} for staging and numbering)"
            )
    if not os.access(found, os.W_OK | os.X_OK):
        raise FolderError(f"cannot create {target}: {found} is not writable")
    if needed_bytes:
        free = shutil.disk_usage(found).free
        needed = max(needed_bytes, MIN_FREE_BYTES)
        if free < needed:
            raise FolderError(
                f"not enough space for {target}: {free / 2**20:.0f} MiB free on its disk, the "
                f"results need about {needed / 2**20:.0f} MiB"
            )


@contextlib.contextmanager
def created_parents(folder: Path) -> Iterator[list[Path]]:
    """Create ``folder`` and its missing parents; remove the ones created if they stay empty.

    Yields the folders created here (outermost first). On the way out, every one of them that is
    still empty is removed, so a refused or interrupted run leaves no empty ``results/``.
    """
    missing = [p for p in (folder, *folder.parents) if not (p.exists() or p.is_symlink())]
    created: list[Path] = []
    try:
        for path in reversed(missing):
            try:
                path.mkdir()
            except FileExistsError:
                continue
            except OSError as error:
                raise FolderError(f"cannot create {path}: {_reason(error)}") from None
            created.append(path)
        yield created
    finally:
        for path in reversed(created):
            with contextlib.suppress(OSError):
                path.rmdir()


# -- pushsim's folders ----------------------------------------------------------------------------


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(2**20), b""):
            sha.update(block)
    return sha.hexdigest()


def _entries(folder: Path) -> Iterator[tuple[str, Path]]:
    """(relative posix path, path) of every file, folder and link under ``folder``."""
    for root, folders, files in os.walk(folder):
        base = Path(root)
        for name in sorted(folders) + sorted(files):
            path = base / name
            yield path.relative_to(folder).as_posix(), path


def write_manifest(folder: Path) -> None:
    """List every file in ``folder`` (size and SHA-256) in its ``manifest.json``."""
    files = {
        name: {"bytes": path.stat().st_size, "sha256": _digest(path)}
        for name, path in _entries(folder)
        if path.is_file() and not path.is_symlink() and name not in (MANIFEST, STAGING_MARK)
    }
    document = {"written_by": "pushsim", "files": dict(sorted(files.items()))}
    (folder / MANIFEST).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def foreign_entries(folder: Path) -> list[str]:
    """The entries of ``folder`` its manifest does not vouch for (empty: pushsim wrote it all).

    Each entry is named with why: not written by pushsim, or changed since (a listed file that was
    deleted costs nothing and is not named). Without a readable manifest, every top-level entry is
    foreign (folders end with ``/``).
    """
    try:
        document = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        listed = document["files"] if document.get("written_by") == "pushsim" else None
        listed = listed if isinstance(listed, dict) else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        listed = None
    if listed is None:
        return [
            f"{path.name}/" if path.is_dir() and not path.is_symlink() else path.name
            for path in sorted(folder.iterdir())
        ]
    found = []
    for name, path in _entries(folder):
        if name == MANIFEST or (path.is_dir() and not path.is_symlink()):
            continue
        known = listed.get(name)
        if not isinstance(known, dict) or not path.is_file() or path.is_symlink():
            found.append(f"{name} (not written by pushsim)")
        elif path.stat().st_size != known.get("bytes") or _digest(path) != known.get("sha256"):
            found.append(f"{name} (changed since pushsim wrote it)")
    return found


def state_of(folder: Path, is_ours: Callable[[Path], bool] | None = None) -> State:
    """What ``folder`` is (see :data:`State`); ``is_ours`` replaces the manifest test."""
    if not (folder.exists() or folder.is_symlink()):
        return "absent"
    if folder.is_symlink() or not folder.is_dir():
        return "foreign"
    if not any(folder.iterdir()):
        return "empty"
    if is_ours is not None:
        return "pushsim" if is_ours(folder) else "foreign"
    if not (folder / MANIFEST).is_file():
        return "foreign"
    return "changed" if foreign_entries(folder) else "pushsim"


def listing(entries: list[str], shown: int = 5) -> str:
    """The first ``shown`` entries, and how many more."""
    more = len(entries) - shown
    return ", ".join(entries[:shown]) + (f" and {more} more" if more > 0 else "")


def refuse_results_folder(folder: Path) -> FolderError:
    """The refusal for a folder holding what pushsim did not write."""
    if folder.is_symlink() or not folder.is_dir():
        return FolderError(f"{folder} exists and is not a folder; choose another name")
    manifest = "" if (folder / MANIFEST).is_file() else f" (it has no pushsim {MANIFEST})"
    return FolderError(
        f"{folder} holds files pushsim did not write{manifest}, so it is left alone: "
        f"{listing(foreign_entries(folder))}. Choose a new or empty folder"
    )


def numbered(target: Path, number: int) -> Path:
    """``target`` itself for 1, else its numbered sibling ``NAME-number``."""
    return target if number == 1 else target.with_name(f"{target.name}-{number}")


# -- one writer -----------------------------------------------------------------------------------


class FolderLock:
    """The lock file ``.NAME.lock`` beside a folder, held with ``flock`` by one process at a time.

    The kernel releases the lock when the process ends, however it ends; the file itself is
    removed by the holder on release, and a file left by a killed holder is simply locked again.
    """

    def __init__(self, folder: Path) -> None:
        self.path = folder.parent / f".{folder.name}.lock"
        self._descriptor: int | None = None

    def acquire(self) -> bool:
        """Take the lock if it is free; False when another process holds it."""
        while True:
            try:
                descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as error:
                raise FolderError(f"cannot create {self.path}: {_reason(error)}") from None
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(descriptor)
                return False
            # the last holder may have removed the file between our open and our flock
            try:
                current = os.stat(self.path).st_ino == os.fstat(descriptor).st_ino
            except FileNotFoundError:
                current = False
            if current:
                os.ftruncate(descriptor, 0)
                os.write(descriptor, f"{os.getpid()}\n".encode())
                self._descriptor = descriptor
                return True
            os.close(descriptor)

    def holder(self) -> str:
        """The process id written by the holder, for messages."""
        try:
            return self.path.read_text(encoding="utf-8").strip() or "?"
        except OSError:
            return "?"

    def release(self) -> None:
        """Remove the lock file and release the lock."""
        if self._descriptor is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
            os.close(self._descriptor)
            self._descriptor = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._descriptor is not None


def busy(folder: Path, lock: FolderLock) -> FolderBusyError:
    """The refusal for a folder another pushsim process is writing."""
    return FolderBusyError(
        f"{folder} is in use by another pushsim process (pid {lock.holder()}); wait for it to "
        "finish or choose another folder"
    )


def claim(
    target: Path,
    *,
    reuse: bool,
    is_ours: Callable[[Path], bool] | None = None,
    refusal: Callable[[Path], FolderError] = refuse_results_folder,
) -> tuple[Path, FolderLock, State, list[str]]:
    """Choose and lock the folder a run writes: ``target``, or its first free numbered sibling.

    ``reuse``: an existing folder of pushsim's at ``target`` is the one to write (overwrite or
    resume) rather than a reason to move to the next number. Returns the folder, its held lock,
    its state and notes for the user. ``is_ours`` tells pushsim's folders (default: the
    manifest); ``refusal`` is the error when ``target`` itself holds something else.
    """
    reason = ""
    for number in range(1, MAX_NUMBER + 1):
        folder = numbered(target, number)
        if number > 1 and (folder.exists() or folder.is_symlink()):
            continue
        lock = FolderLock(folder)
        if not lock.acquire():
            if number == 1 and reuse:
                raise busy(folder, lock)
            if number == 1:
                reason = f"is being written by another pushsim process (pid {lock.holder()})"
            continue
        state = state_of(folder, is_ours)
        if number == 1 and (state == "foreign" or (state == "changed" and reuse)):
            lock.release()
            raise refusal(folder)
        if state in ("absent", "empty") or (state == "pushsim" and reuse):
            notes = [f"{target} {reason}: writing {folder}"] if number > 1 else []
            return folder, lock, state, notes
        if number == 1 and state == "pushsim":
            reason = "holds an earlier run, which is kept (--overwrite replaces it)"
        elif number == 1:
            reason = "holds an earlier run with files pushsim did not write, which is kept"
        lock.release()
    raise FolderError(f"{target} and its numbered siblings up to -{MAX_NUMBER} are all taken")


# -- a run's results folder -----------------------------------------------------------------------


def _marked(folder: Path) -> bool:
    return (folder / STAGING_MARK).is_file()


def remove_stale_staging(folder: Path) -> list[str]:
    """Remove staging folders a killed run left beside ``folder`` (call with its lock held).

    Only folders with pushsim's staging mark are removed; others with the same name pattern are
    left alone and reported.
    """
    notes = []
    for pattern in (f".{folder.name}.partial-*", f".{folder.name}.old-*"):
        for stale in sorted(folder.parent.glob(pattern)):
            if stale.is_dir() and not stale.is_symlink() and _marked(stale):
                shutil.rmtree(stale, ignore_errors=True)
                notes.append(f"removed {stale}, left by an interrupted run")
            else:
                notes.append(f"left alone: {stale} (not marked as pushsim's staging folder)")
    return notes


class ClaimedFolder:
    """A folder one command writes: its place checked, then chosen and locked until it closes.

    The chosen folder is ``target`` or its first free numbered sibling (see :func:`claim`);
    parents created for it are removed again if they stay empty. Subclasses say in :meth:`open`
    what may be reused and what is made up front.
    """

    def __init__(self, target: Path | str) -> None:
        self.target = Path(target)
        #: what the user should be told (a numbered folder chosen, stale staging removed…)
        self.notes: list[str] = []
        self._stack = contextlib.ExitStack()
        self._folder: Path | None = None

    @property
    def folder(self) -> Path:
        """The folder chosen: ``target`` or its numbered sibling."""
        if self._folder is None:
            raise RuntimeError(f"the folder for {self.target} is not open")
        return self._folder

    def open(self) -> Self:
        """Check, choose and lock the folder; :class:`FolderError` when it cannot be used."""
        raise NotImplementedError

    def _claim(
        self,
        *,
        reuse: bool,
        needed_bytes: int,
        is_ours: Callable[[Path], bool] | None = None,
        refusal: Callable[[Path], FolderError] = refuse_results_folder,
    ) -> State:
        """Check the place, create missing parents, choose and lock; the chosen folder's state."""
        check_place(self.target, needed_bytes=needed_bytes)
        self._stack.enter_context(created_parents(self.target.parent))
        folder, lock, state, notes = claim(
            self.target, reuse=reuse, is_ours=is_ours, refusal=refusal
        )
        self._stack.callback(lock.release)
        self._folder = folder
        self.notes += notes
        return state

    def close(self) -> None:
        """Undo what :meth:`open` left for the way out; release the lock."""
        self._stack.close()

    def __enter__(self) -> Self:
        try:
            return self.open()
        except BaseException:
            self.close()
            raise

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


class ResultsFolder(ClaimedFolder):
    """The folder one run writes: checked and locked before the run, published whole at the end.

    >>> with ResultsFolder(Path("results/x")) as results:  # doctest: +SKIP
    ...     write_files(results.staging)  # everything goes into the staging folder
    ...     final = results.publish()  # the folder appears now, with its manifest

    ``overwrite``: replace ``target`` when it is one of pushsim's results folders (checked again
    just before the replacement: if a file was added meanwhile, the run goes to a numbered sibling
    instead). Without it an existing results folder is kept and a numbered sibling is written.
    Leaving the block without :meth:`publish` removes the staging folder and every parent folder
    created for it.
    """

    def __init__(
        self, target: Path | str, *, overwrite: bool = False, needed_bytes: int = 0
    ) -> None:
        super().__init__(target)
        self.overwrite = overwrite
        self.needed_bytes = needed_bytes
        self._staging: Path | None = None
        #: where :meth:`publish` put the results
        self.published: Path | None = None

    @property
    def staging(self) -> Path:
        """The staging folder to write into."""
        if self._staging is None:
            raise RuntimeError(f"the results folder for {self.target} is not open")
        return self._staging

    def open(self) -> Self:
        """Check, choose and lock the folder, clear stale staging, create the staging folder."""
        self._claim(reuse=self.overwrite, needed_bytes=self.needed_bytes)
        folder = self.folder
        self.notes += remove_stale_staging(folder)
        try:
            staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.partial-", dir=folder.parent))
        except OSError as error:
            raise FolderError(f"cannot create {folder}: {_reason(error)}") from None
        self._staging = staging
        self._stack.callback(shutil.rmtree, staging, ignore_errors=True)
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; results are ordinary files
        try:
            (staging / STAGING_MARK).write_text(f"{os.getpid()}\n", encoding="utf-8")
        except OSError as error:
            raise FolderError(f"cannot write in {folder.parent}: {_reason(error)}") from None
        return self

    def publish(self) -> Path:
        """Write the manifest and move the staging folder into place; returns the final folder."""
        staging, folder = self.staging, self.folder
        write_manifest(staging)
        (staging / STAGING_MARK).unlink()  # from here on, a killed run leaves a folder unmarked
        state = state_of(folder)
        if state == "pushsim" and self.overwrite:
            self._replace(staging, folder)
        else:
            if state not in ("absent", "empty"):
                folder = self._move_on(folder)
            try:
                os.replace(staging, folder)
            except OSError as error:  # a folder appeared there meanwhile
                if error.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                    raise
                folder = self._move_on(folder)
                os.replace(staging, folder)
        self._staging = None
        self.published = folder
        return folder

    def _move_on(self, folder: Path) -> Path:
        """Someone wrote into ``folder`` during the run: take the next free numbered sibling."""
        chosen, lock, _, _ = claim(self.target, reuse=False)
        self._stack.callback(lock.release)
        self.notes.append(f"{folder} changed during the run; the results went to {chosen}")
        self._folder = chosen
        return chosen

    @staticmethod
    def _replace(staging: Path, folder: Path) -> None:
        aside = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old-", dir=folder.parent))
        (aside / STAGING_MARK).write_text(f"{os.getpid()}\n", encoding="utf-8")
        os.replace(folder, aside / folder.name)
        os.replace(staging, folder)
        shutil.rmtree(aside, ignore_errors=True)

    def close(self) -> None:
        """Remove what an unpublished run created; release the lock."""
        super().close()
        self._staging = None
