"""Atomic, byte-stable writes: a file whose bytes did not change is not touched (so its mtime, and any
static server's ETag and Last-Modified, stay valid); a changed file is replaced by rename, so a reader or
a crash only ever sees the old or the new complete file."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from pipeline.errors import PanuiError
from pipeline.faults import pause_point

# write_atomic's temporary copies: ".<name>.<writer's pid>.<random>.tmp", so a leftover is told by its writer.
TEMPORARY = re.compile(r"^\..+\.(\d+)\.[^.]+\.tmp$")


def write_atomic(path: Path, data: bytes) -> bool:
    """Write `data` to `path` unless it already holds exactly that. True when the file was written."""
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    prefix = f".{path.name}.{os.getpid()}."
    try:
        handle, temporary = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=path.parent)
    except FileNotFoundError:  # a new folder: made only then, not tried for every file
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        Path(temporary).chmod(0o644)  # mkstemp makes 0600; published files are for a web server to read
        pause_point("publish")  # test-only (pipeline/faults.py): a crash test kills the run before the rename
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


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
    """Writes a whole publication under one folder, refusing to write one path twice in a run
    (two pages claiming one address is a bug, not something to resolve silently)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.written: list[str] = []
        self._claimed: set[str] = set()

    def write(self, relative: str, data: bytes) -> None:
        if relative in self._claimed:
            raise PanuiError(f"two outputs claim {relative}", "this is a bug in Pānui; please report it")
        self._claimed.add(relative)
        if write_atomic(self.root / relative, data):
            self.written.append(relative)

    @property
    def claimed(self) -> frozenset[str]:
        return frozenset(self._claimed)
