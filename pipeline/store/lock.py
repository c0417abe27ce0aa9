"""One lock per store, shared by `sync` and the daemon, so two runs never work on one store at once.

It is an flock on a file in state_dir: the kernel releases it when its holder exits, however it exits,
so a crashed run never blocks the next one."""

from __future__ import annotations

import fcntl
import os
import sys
import time
from pathlib import Path

from pipeline.errors import LockError, StoreError

LOCK_FILE = "panui.lock"
HOLDER_GRACE = 1.0  # seconds a refused run waits for the holder to name itself


class StoreLock:
    def __init__(self, state_dir: Path, *, wait: float = 0.0) -> None:
        self.path = state_dir / LOCK_FILE
        self.wait = wait
        self._handle: int | None = None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise StoreError(
                f"state_dir {self.path.parent} is not a folder Pānui can write: cannot open {self.path.name}: "
                f"{error.strerror or error}",
                f"make {self.path.parent} writable by the user running Pānui, or set state_dir in sources.yaml",
            ) from None
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                now = time.monotonic()
                if now >= deadline:
                    # The holder writes its name just after it takes the lock (and empties the file just
                    # before it lets go): an empty file is a holder starting or ending. Give it a moment
                    # to name itself, or to be gone, before refusing without a name.
                    holder = os.pread(handle, 200, 0).decode("utf-8", "replace").strip()
                    if holder or now >= deadline + HOLDER_GRACE:
                        os.close(handle)
                        raise LockError(
                            f"the store in {self.path.parent} is in use by {holder or 'another process'}",
                            "wait for that run to finish (or stop it); a crashed run releases the lock by itself",
                        ) from None
                time.sleep(0.05 if now >= deadline else 0.2)
        os.ftruncate(handle, 0)
        os.pwrite(handle, f"pid {os.getpid()} ({' '.join(sys.argv[:2]) or 'panui'})\n".encode(), 0)
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            os.ftruncate(self._handle, 0)
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            os.close(self._handle)
            self._handle = None

    def __enter__(self) -> StoreLock:
        self.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()
