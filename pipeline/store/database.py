"""The SQLite connection under every part of the store: WAL mode, one transaction per logical change,
and the migrations applied on open, once the file has been found sound (pipeline/store/inspect.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

from pipeline.errors import StoreDamaged, StoreError
from pipeline.store.inspect import damaged, inspect_store
from pipeline.store.schema import MIGRATIONS
from pipeline.store.seal import note_damage

STORE_FILE = "panui.sqlite3"


class Database:
    """An open store file. Use as a context manager, or call close()."""

    def __init__(self, state_dir: Path, *, inspected: bool = False) -> None:
        """`inspected`: the caller has just run inspect_store on this store (so it is not read twice)."""
        self.path = state_dir / STORE_FILE
        if not inspected:
            inspect_store(self.path)  # damage is refused before anything is written
        with store_errors(self.path):
            try:
                if not self.path.exists():
                    state_dir.mkdir(parents=True, exist_ok=True)
                    create_store(self.path)
            except OSError as error:
                raise StoreError(
                    f"cannot create the store {self.path}: {error.strerror or error}",
                    "check that state_dir is a folder the user running Pānui can write",
                ) from None
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self._db.executescript("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;")
            migrate(self._db)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return immediate_transaction(self._db)


def create_store(path: Path) -> None:
    """A new store, made whole under a temporary name and renamed into place: a first run stopped at any
    point leaves no half-made store file, which the next run would have to refuse as damaged."""
    temporary = path.with_name(f".{path.name}.new")
    for leftover in (temporary, Path(f"{temporary}-journal")):  # of a first run that was stopped
        leftover.unlink(missing_ok=True)
    with closing(sqlite3.connect(temporary, isolation_level=None)) as db:
        migrate(db)
    temporary.replace(path)


def copy_if_behind(path: Path, folder: Path) -> bool:
    """When the sound store at `path` lacks migrations this Pānui would apply on opening it, copy it to
    `folder` (read through SQLite: consistent while a run writes) and return True: what a preview opens
    instead, so that a dry run of a new release never upgrades the store an older daemon still uses."""
    inspect_store(path)
    # (Not mode=ro: a read-only connection to a WAL store leaves its -wal and -shm files behind.)
    with store_errors(path), closing(sqlite3.connect(path, timeout=30)) as source:
        if int(source.execute("SELECT count(*) FROM schema_migrations").fetchone()[0]) >= len(MIGRATIONS):
            return False
        with closing(sqlite3.connect(folder / STORE_FILE)) as copy:
            source.backup(copy)
    return True


def migrate(db: sqlite3.Connection) -> None:
    """Apply the migrations this store has not had yet, each in its own transaction."""
    db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {row[0] for row in db.execute("SELECT version FROM schema_migrations")}
    for number, script in enumerate(MIGRATIONS, start=1):
        if number in done:
            continue
        try:  # (executescript commits a transaction it finds open, so this one begins in the script)
            db.executescript(f"BEGIN IMMEDIATE;\n{script}")
            db.execute("INSERT INTO schema_migrations VALUES (?, ?)", (number, iso(datetime.now(UTC))))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise


def is_store_failure(error: BaseException) -> bool:
    """True for SQLite's errors that are the store's state (damaged, full, locked, unreadable), and for a
    stored value Pānui cannot read (pipeline/store/rows.py), not a bug."""
    return isinstance(error, (sqlite3.OperationalError, StoreDamaged)) or type(error) is sqlite3.DatabaseError


@contextmanager
def store_errors(path: Path) -> Iterator[None]:
    """SQLite's errors during a run as the store's own: damage found while reading is refused like
    damage found before, and a full disk or lost permission is named, with no traceback."""
    try:
        yield
    except sqlite3.OperationalError as error:
        raise StoreError(
            f"cannot use the store {path}: {error}", "check state_dir: its permissions and free space"
        ) from None
    except sqlite3.DatabaseError as error:
        if not is_store_failure(error):
            raise  # a constraint or a programming error: a bug, with its traceback
        note_damage(error)
        raise damaged(path, str(error)) from None


@contextmanager
def catalogue_errors(path: Path | None) -> Iterator[None]:
    """SQLite's errors about the catalogue as the store's own error, with what to do."""
    try:
        yield
    except sqlite3.Error as error:
        if type(error) is sqlite3.DatabaseError:  # damage, of this index or of the store it reads
            note_damage(error)
        raise StoreError(
            f"publishing's index {path or '(in memory)'} failed: {error}",
            "check state_dir (space, permissions); deleting publish.sqlite3 is safe: the next sync rebuilds it",
        ) from None


@contextmanager
def immediate_transaction(db: sqlite3.Connection, begin: str = "BEGIN IMMEDIATE") -> Iterator[sqlite3.Connection]:
    """One transaction, rolled back on any error. IMMEDIATE takes the write lock at once (no upgrade
    deadlock); a plain BEGIN locks only the databases it writes to."""
    db.execute(begin)
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds")


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)
