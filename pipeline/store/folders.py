"""The folders a run writes to, proved writable before the run starts: a run that could not keep what it
fetched, or publish it, stops at once with the folder's name instead of failing half-way."""

from __future__ import annotations

import tempfile
from pathlib import Path

from pipeline.errors import PanuiError


def writable_folder(folder: Path, key: str) -> None:
    """Raise unless `folder` (the sources.yaml `key`) can be written, or, while it does not exist yet,
    created. It writes a file there that no one sees (an O_TMPFILE where Linux has it), as only a real
    write tells: permission bits do not bind root, and a read-only mount ignores them. Creates nothing."""
    try:
        existing = next(path for path in (folder, *folder.parents) if path.exists())
        if not existing.is_dir():
            raise NotADirectoryError(0, f"{existing} is a file, not a folder")
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise PanuiError(
            f"{key} {folder} is not a folder Pānui can write: {error.strerror or error}",
            f"make {folder} writable by the user running Pānui, or set {key} in sources.yaml to a folder it can write",
        ) from None
