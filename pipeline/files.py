"""Atomic, byte-stable writes: a file whose bytes did not change is not touched (so its mtime, and any
static server's ETag and Last-Modified, stay valid); a changed file is replaced by rename, so a reader or
a crash only ever sees the old or the new complete file.

A copy is put on disk (fdatasync) as it is written, before it is renamed over a published file, or a
power cut could leave an empty file behind the new name; and the renames are put on disk (fsync of their
folders) before the catalogue records the files as published, or a publication that was cut off would take
the old files for the new ones. Syncing each file also reports that file's write error.

A publication's files are named by strings (os.path), not Paths: over tens of thousands of files, pathlib's
parsing and formatting cost more CPU than the rest of the Python around the system calls."""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Callable, Iterable
from contextlib import suppress
from pathlib import Path
from types import TracebackType

from pipeline.errors import PanuiError

# Temporary copies: ".<name>.<writer's pid>.<random>.tmp", so a leftover is told by its writer.
TEMPORARY = re.compile(r"^\..+\.(\d+)\.[^.]+\.tmp$")
COPY_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
# A copy lives for one batch of a publication, seconds: one this old was left by a run that died, even if
# its pid now belongs to another process (in a container, every run may be pid 1).
STALE_COPY_SECONDS = 3600
PROCESS_STARTED = time.time()  # (when Pānui's modules were imported: close enough)
FOLDER_MODE = 0o755  # published folders, whatever the umask: a web server must be able to enter them
_data_sync: Callable[[int], None] = getattr(os, "fdatasync", os.fsync)  # (macOS has no fdatasync)


def flush_folders(folders: Iterable[str | Path]) -> None:
    """Put the entries of `folders` (the renames, removals and new folders just made in them) on disk."""
    for folder in folders:
        _sync_one(folder, os.fsync)


def flush_tree(root: Path) -> None:
    """Put every folder entry under `root` on disk: after a run was killed, the renames it made may
    not be yet, and the next run must not record them as published before they are."""
    flush_folders(Path(folder) for folder, _, _ in os.walk(root))


def _sync_one(path: str | Path, sync: Callable[[int], None]) -> None:
    handle = os.open(path, os.O_RDONLY)
    try:
        sync(handle)
    finally:
        os.close(handle)


def _parent(path: str) -> str:
    """The folder `path` is in, as Path.parent names it: "." for a name relative to the working folder
    (os.path.dirname's "" is no folder: the loop below would never end, and a folder cannot be synced)."""
    return os.path.dirname(path) or os.curdir


def make_folders(folder: str) -> list[str]:
    """`folder` and any missing parents, each readable by a web server whatever the umask; returns the
    folders made (their entries in their parents are not on disk until those parents are flushed)."""
    missing: list[str] = []
    while not os.path.isdir(folder):
        missing.append(folder)
        folder = _parent(folder)
    for new in reversed(missing):
        try:
            os.mkdir(new)
        except FileExistsError:
            if not os.path.isdir(new):
                raise
        os.chmod(new, FOLDER_MODE)
    return missing


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` unless it already holds exactly that: one file on its own (health.json, the
    seal); a publication's files go through OutputWriter."""
    if holds(path, data):
        return
    temporary, _ = _copy(os.fspath(path), data)
    try:
        os.replace(temporary, path)
    except BaseException:
        _unlink(temporary)
        raise


def holds(path: str | Path, data: bytes) -> bool:
    """Whether `path` holds exactly `data` (not when it is missing or cannot be read: then it is written)."""
    try:
        with open(path, "rb") as stream:
            return stream.read() == data
    except OSError:
        return False


def _copy(path: str, data: bytes) -> tuple[str, list[str]]:
    """A temporary copy of `data` beside `path`, on disk, and the folders made for it (synced through the
    handle that wrote it: opening the copy again to sync it cost two more system calls a file)."""
    folder, name = os.path.split(path)
    temporary = os.path.join(folder, f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    made: list[str] = []
    try:
        handle = os.open(temporary, COPY_FLAGS, 0o644)
    except FileNotFoundError:  # a new folder: made only then, not tried for every file
        made = make_folders(folder)
        handle = os.open(temporary, COPY_FLAGS, 0o644)
    try:
        try:
            os.fchmod(handle, 0o644)  # whatever the umask: published files are for a web server to read
            unwritten = memoryview(data)
            while unwritten:
                unwritten = unwritten[os.write(handle, unwritten) :]
            _data_sync(handle)  # (which reports this file's write error)
        finally:
            os.close(handle)  # which may fail too (NFS reports write errors here)
    except BaseException:
        _unlink(temporary)
        raise
    return temporary, made


def _unlink(path: str) -> None:
    with suppress(FileNotFoundError):
        os.unlink(path)


def remove_leftovers(root: Path) -> None:
    """Delete the temporary copies under `root` whose writer was killed before it could (SIGKILL, a power
    cut): never complete, they must not be published. A copy whose writer may still be running is left
    alone. Callers hold the store's lock and have written nothing yet, so a copy named with this very
    process's pid is an earlier process's (pids are reused)."""
    for path in root.rglob(".*.tmp"):
        match = TEMPORARY.match(path.name)
        if match is not None and _left_over(path, int(match[1])):
            path.unlink(missing_ok=True)


def _left_over(path: Path, pid: int) -> bool:
    try:
        written = path.stat().st_mtime
    except FileNotFoundError:
        return False
    if time.time() - written > STALE_COPY_SECONDS:
        return True
    if pid == os.getpid():
        # Named with this process's pid, but older than this process: a dead run's. (A newer one may be
        # another container's, where every process is pid 1 too, writing health.json.)
        return written < PROCESS_STARTED

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's process
        return False
    return False


class OutputWriter:
    """Writes a whole publication under one folder, a batch at a time: `write` leaves each changed file's
    new bytes in a temporary copy beside it, on disk; `commit` renames each of the batch's copies over its
    file and puts the renames on disk. Leaving the `with` block commits; an error discards the
    uncommitted copies. `before_first_copy` runs once, before the first copy is made (publishing leaves
    a marker, so that a run killed with copies on disk is cleaned up after). It refuses to write one path
    twice in a run (two pages claiming one address is a bug, not something to resolve silently)."""

    def __init__(self, root: Path, before_first_copy: Callable[[], None] | None = None) -> None:
        self.root = root
        self._root = os.fspath(root)
        self.written: list[str] = []
        self._before_first_copy = before_first_copy
        self._claimed: set[str] = set()
        self._pending: list[tuple[str, str]] = []  # (temporary copy, file it replaces)
        self._renamed = 0  # how many of _pending are in place
        self._made: list[str] = []  # folders made for the batch's copies

    def write(self, relative: str, data: bytes) -> None:
        if relative in self._claimed:
            raise PanuiError(f"two outputs claim {relative}", "this is a bug in Pānui; please report it")
        self._claimed.add(relative)
        path = os.path.join(self._root, relative)
        if holds(path, data):
            return
        if self._before_first_copy is not None:
            self._before_first_copy()
            self._before_first_copy = None
        temporary, made = _copy(path, data)
        self._made += made
        self._pending.append((temporary, path))
        self.written.append(relative)

    def commit(self) -> None:
        """Put every file written since the last commit in place, durably."""
        if not self._pending:
            return
        try:
            # The renamed files' folders, and the parents of the folders made (their entries are there).
            folders = list(dict.fromkeys([*(_parent(path) for _, path in self._pending), *map(_parent, self._made)]))
            for temporary, path in self._pending:
                os.replace(temporary, path)
                self._renamed += 1
            flush_folders(folders)
        finally:
            self.discard()  # after a failure, the copies not yet in place

    def discard(self) -> None:
        for temporary, _ in self._pending[self._renamed :]:
            _unlink(temporary)
        self._pending.clear()
        self._renamed = 0
        self._made.clear()

    def __enter__(self) -> OutputWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if error is None:
            self.commit()
        else:
            self.discard()
