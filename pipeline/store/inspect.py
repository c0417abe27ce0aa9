"""Is the store file sound? Asked before a run writes anything, so damage is refused, never written over.

Reads only: it takes no lock and leaves no file behind (no -wal, -shm or journal), so a damaged store is
left byte for byte as it was found, ready to be restored or recovered. A missing file is the only fresh
install: an empty, cut or foreign file is refused, however much it looks like a new start.

The deep check is `PRAGMA quick_check`: it reads every page once (b-trees, overflow chains, the free list,
NOT NULL), which is what damage to the file breaks. `integrity_check` would also compare every index entry
with its row, O(N log N) and slower, to find logical faults SQLite itself never writes. On a 1.1 GB store
of 50,000 articles quick_check takes 0.6 s when the file is in the page cache (as it is for a daemon that
runs every few minutes) and as long as reading the file from disk when it is not. So it runs when the
store's seal (pipeline/store/seal.py) does not vouch for the file: when anything but a clean run of
Pānui changed it, after a restart, and at least daily; the cheap checks (the header, the length, the
schema's version) run every time."""

from __future__ import annotations

import sqlite3
import stat
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from pipeline.errors import StoreDamaged, StoreError
from pipeline.store.schema import MIGRATIONS
from pipeline.store.seal import identity, sealed_since

HEADER = b"SQLite format 3\x00"
HEADER_SIZE = 100
PROBLEMS_SHOWN = 3


def inspect_store(path: Path) -> bool:
    """True when `path` is a sound store this code can use; False when there is none yet (a fresh
    install). Raises StoreDamaged (or StoreError when it cannot be read at all)."""
    return sound_since(path) is not None


def sound_since(path: Path) -> datetime | None:
    """When the deep check that vouches for the store at `path` ran: now, when the store's seal does
    not vouch for it; None when there is no store yet. Raises as inspect_store does."""
    now = datetime.now(UTC)
    seen = identity(path)
    try:
        status = path.stat()
    except (FileNotFoundError, NotADirectoryError):  # state_dir's own checks say what is wrong with it
        return None
    except OSError as error:
        raise unreadable(path, error) from None
    if not stat.S_ISREG(status.st_mode):  # never opened: a FIFO would block, a device could act
        raise damaged(path, "it is not a regular file")
    if status.st_size == 0:
        raise damaged(path, "it is empty (0 bytes), which a store never is; it is not taken for a new store")
    try:
        with path.open("rb") as stream:
            header = stream.read(HEADER_SIZE)
    except OSError as error:
        raise unreadable(path, error) from None
    if not header.startswith(HEADER):
        raise damaged(path, "it is not a SQLite database (its first bytes are not a SQLite header)")
    wal = Path(f"{path}-wal")
    wal_exists = wal.exists()
    # (With a WAL, the file may legitimately end before its header says.)
    if not wal_exists and (shortfall := _truncation(header, status.st_size)):
        raise damaged(path, shortfall)
    checked = sealed_since(path, now)  # (never with a -wal beside the file)
    problems = _check(path, immutable=not wal_exists, deep=checked is None)
    if problems and not wal_exists and (wal.exists() or identity(path) != seen):
        # A run opened the store while it was being read: read it again, through SQLite's locks.
        problems = _check(path, immutable=False, deep=True)
    if problems:
        raise damaged(path, "PRAGMA quick_check found: " + "; ".join(problems))
    return checked or now


def _truncation(header: bytes, size: int) -> str:
    """Why a file of `size` bytes cannot hold what its header describes, or ""."""
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if len(header) < HEADER_SIZE or page_size < 512 or page_size & (page_size - 1):
        return "its SQLite header is damaged"
    pages = int.from_bytes(header[28:32], "big")
    header_is_current = header[24:28] == header[92:96]  # else the page count predates an old SQLite's writes
    if header_is_current and size < pages * page_size:
        return f"it is truncated: {size:,} bytes of the {pages * page_size:,} its header gives"
    if size % page_size:
        return f"it is truncated: {size:,} bytes, not a whole number of its {page_size}-byte pages"
    return ""


def _check(path: Path, *, immutable: bool, deep: bool) -> list[str]:
    """What quick_check (when `deep`) and the schema check find wrong, or []. `immutable` reads the file
    as it is, without locks or a -wal/-shm file; only safe when no connection has the store open."""
    uri = f"file:{quote(str(path.absolute()))}?mode=ro" + ("&immutable=1" if immutable else "")
    try:
        db = sqlite3.connect(uri, uri=True, timeout=30)
    except sqlite3.Error as error:
        raise unreadable(path, error) from None
    try:
        found = [row[0] for row in db.execute(f"PRAGMA quick_check({PROBLEMS_SHOWN})")] if deep else ["ok"]
        if found != ["ok"]:
            return [line for problem in found for line in str(problem).splitlines() if not line.startswith("***")]
        return _schema_problems(path, db)
    except sqlite3.OperationalError as error:
        raise unreadable(path, error) from None  # locked or unreadable: not damage
    except sqlite3.DatabaseError as error:
        return [str(error)]
    finally:
        db.close()


def _schema_problems(path: Path, db: sqlite3.Connection) -> list[str]:
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        return []  # a store whose first run stopped before it made a table: nothing in it to lose
    if "schema_migrations" not in tables:
        return ["it holds no Pānui store (it has no schema_migrations table)"]
    version = db.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] or 0
    if version > len(MIGRATIONS):
        raise StoreError(
            f"the store {path} is from a newer Pānui (schema {version}; this one knows up to {len(MIGRATIONS)}); "
            "nothing was written to it",
            "upgrade Pānui, or restore a backup made by this version",
        )
    return []


def unreadable(path: Path, error: Exception) -> StoreError:
    reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    return StoreError(
        f"cannot read the store {path}: {reason}", f"check that the user running Pānui can read {path.parent}"
    )


def damaged(path: Path, what: str) -> StoreDamaged:
    return StoreDamaged(
        f"the store {path} is damaged: {what}. Nothing was written to it",
        f"restore {path.name} from a backup; or save what SQLite can still read with "
        f"`sqlite3 {path} .recover | sqlite3 recovered.sqlite3` and put recovered.sqlite3 in its place; "
        f"or, to start afresh deliberately and lose the history, move {path} aside",
    )
