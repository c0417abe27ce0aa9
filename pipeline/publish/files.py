"""Atomic, byte-stable writes: a file whose bytes did not change is not touched (so its mtime, and any
static server's ETag and Last-Modified, stay valid); a changed file is replaced by rename, so a reader or
a crash only ever sees the old or the new complete file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pipeline.errors import PanuiError


def write_atomic(path: Path, data: bytes) -> bool:
    """Write `data` to `path` unless it already holds exactly that. True when the file was written."""
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        Path(temporary).chmod(0o644)  # mkstemp makes 0600; published files are for a web server to read
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
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
