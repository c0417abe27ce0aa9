"""Atomic, byte-stable writes: a file whose bytes did not change is not touched (so its mtime, and any
static server's ETag and Last-Modified, stay valid); a changed file is replaced by rename, so a reader or
a crash only ever sees the old or the new complete file.

A copy must be on disk before it is renamed over the file, or a power cut could leave an empty file
behind the new name. OutputWriter makes a whole batch durable at once, as dpkg does: one syncfs of the
filesystem costs one journal commit, where an fsync per file cost one commit each (on ext4, 228 files:
about 17 ms instead of 106 ms of wall time, and a fifth of the CPU, the kernel's threads included)."""

from __future__ import annotations

import ctypes
import os
import re
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

from pipeline.errors import PanuiError
from pipeline.faults import pause_point

# Temporary copies: ".<name>.<writer's pid>.<random>.tmp", so a leftover is told by its writer.
TEMPORARY = re.compile(r"^\..+\.(\d+)\.[^.]+\.tmp$")
COPY_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def write_atomic(path: Path, data: bytes) -> bool:
    """Write `data` to `path` unless it already holds exactly that. True when the file was written."""
    if _holds(path, data):
        return False
    temporary, _ = _copy(path, data)
    try:
        _fsync_each([temporary])
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return True


def _holds(path: Path, data: bytes) -> bool:
    try:
        return path.read_bytes() == data
    except FileNotFoundError:
        return False


def _copy(path: Path, data: bytes) -> tuple[Path, int]:
    """A temporary copy of `data` beside `path` (not yet flushed to disk), and its filesystem's device."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        handle = os.open(temporary, COPY_FLAGS, 0o644)
    except FileNotFoundError:  # a new folder: made only then, not tried for every file
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(temporary, COPY_FLAGS, 0o644)
    try:
        os.fchmod(handle, 0o644)  # whatever the umask: published files are for a web server to read
        with open(handle, "wb", closefd=False) as stream:
            stream.write(data)
        return temporary, os.fstat(handle).st_dev
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    finally:
        os.close(handle)


def _fsync_each(paths: Sequence[Path]) -> None:
    for path in paths:
        handle = os.open(path, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def _find_syncfs() -> Callable[[int], int] | None:
    """The C library's syncfs(2) (Linux), or None where there is none."""
    try:
        function: Callable[[int], int] = ctypes.CDLL(None, use_errno=True).syncfs
    except (AttributeError, OSError):
        return None
    return function


_syncfs = _find_syncfs()


def make_durable(paths: Sequence[Path], devices: dict[int, Path]) -> None:
    """Flush the files `paths` to disk. `devices` maps each filesystem they are on to one of them: one
    syncfs of each filesystem where the C library has it, else an fsync of each file."""
    if _syncfs is None:
        _fsync_each(paths)
        return
    for path in devices.values():
        handle = os.open(path, os.O_RDONLY)
        try:
            if _syncfs(handle) != 0:
                error = ctypes.get_errno()
                raise OSError(error, f"syncfs: {os.strerror(error)}", str(path))
        finally:
            os.close(handle)


def remove_leftovers(root: Path) -> list[Path]:
    """Delete the temporary copies under `root` whose writer was killed before it could (SIGKILL, a power
    cut): never complete, they must not be published. A copy whose writer is still running is left alone."""
    removed: list[Path] = []
    for path in root.rglob(".*.tmp"):
        match = TEMPORARY.match(path.name)
        if match is None or _running(int(match[1])):
            continue
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


class OutputWriter:
    """Writes a whole publication under one folder, a batch at a time: `write` leaves each changed file's
    new bytes in a temporary copy beside it, `commit` makes the batch durable and renames each copy over
    its file. Leaving the `with` block commits; an error discards the uncommitted copies. It refuses to
    write one path twice in a run (two pages claiming one address is a bug, not something to resolve
    silently)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.written: list[str] = []
        self._claimed: set[str] = set()
        self._pending: list[tuple[Path, Path]] = []  # (temporary copy, file it replaces)
        self._devices: dict[int, Path] = {}

    def write(self, relative: str, data: bytes) -> None:
        if relative in self._claimed:
            raise PanuiError(f"two outputs claim {relative}", "this is a bug in Pānui; please report it")
        self._claimed.add(relative)
        path = self.root / relative
        if _holds(path, data):
            return
        temporary, device = _copy(path, data)
        self._pending.append((temporary, path))
        self._devices.setdefault(device, temporary)
        self.written.append(relative)

    def commit(self) -> None:
        """Put every file written since the last commit in place, durably."""
        try:
            if self._pending:
                make_durable([temporary for temporary, _ in self._pending], self._devices)
            while self._pending:
                temporary, path = self._pending[0]
                pause_point("publish")  # test-only (pipeline/faults.py): a crash test kills the run before a rename
                temporary.replace(path)
                del self._pending[0]
        finally:
            self.discard()  # after a failure, the copies not yet in place

    def discard(self) -> None:
        for temporary, _ in self._pending:
            temporary.unlink(missing_ok=True)
        self._pending.clear()
        self._devices.clear()

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

    @property
    def claimed(self) -> frozenset[str]:
        return frozenset(self._claimed)
