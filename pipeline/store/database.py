"""The SQLite connection under every part of the store: WAL mode, one transaction per logical change
(or, in a burst of changes, one savepoint each in a transaction committed once a second), and the
migrations applied on open."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pipeline.errors import StoreError
from pipeline.store.schema import MIGRATIONS

STORE_FILE = "panui.sqlite3"


class Database:
    """An open store file. Use as a context manager, or call close()."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / STORE_FILE
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self._grouped: GroupedCommits | None = None
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except (OSError, sqlite3.Error) as error:
            raise StoreError(
                f"cannot open the store {self.path}: {error}",
                "check state_dir and its permissions; the file may be damaged",
            ) from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """One change, all or nothing: its own transaction, or a savepoint within grouped_commits."""
        if self._grouped is not None:
            return self._grouped.change()
        return immediate_transaction(self._db)

    @contextmanager
    def grouped_commits(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> Iterator[None]:
        """Within, each change is a savepoint in a transaction that is committed once `seconds` have
        passed since the last commit, and on the way out (after an exception too: each change it holds
        is complete). A burst of changes (a sync with no request delay, a rebuild) then costs a commit a
        second instead of one each, which writes the shared pages of the tables and indexes once, not
        once per change; with a pause between changes, each is committed as it ends. A process killed
        in between loses the changes since the last commit, at most `seconds` of work, and nothing else:
        the next run makes them again."""
        if self._grouped is not None:
            yield
            return
        self._grouped = GroupedCommits(self._db, seconds, clock)
        try:
            yield
        except BaseException:
            self._grouped.close(failed=True)
            raise
        else:
            self._grouped.close(failed=False)
        finally:
            self._grouped = None

    def _migrate(self) -> None:
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        done = {row[0] for row in self._db.execute("SELECT version FROM schema_migrations")}
        if done and max(done) > len(MIGRATIONS):
            raise StoreError(f"the store {self.path} is from a newer Pānui (schema {max(done)})", "upgrade Pānui")
        for number, script in enumerate(MIGRATIONS, start=1):
            if number in done:
                continue
            with self.transaction() as db:
                for statement in script.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute("INSERT INTO schema_migrations VALUES (?, ?)", (number, iso(datetime.now(UTC))))

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("SELECT max(version) FROM schema_migrations").fetchone()[0])


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


class GroupedCommits:
    """The open transaction of Database.grouped_commits."""

    def __init__(self, db: sqlite3.Connection, seconds: float, clock: Callable[[], float]) -> None:
        self._db = db
        self._seconds = seconds
        self._clock = clock
        self._last_commit = clock()

    @contextmanager
    def change(self) -> Iterator[sqlite3.Connection]:
        if not self._db.in_transaction:
            self._db.execute("BEGIN IMMEDIATE")
        self._db.execute("SAVEPOINT change")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK TO change")  # this change only: the ones before it stand
            self._db.execute("RELEASE change")
            raise
        self._db.execute("RELEASE change")
        if self._clock() - self._last_commit >= self._seconds:
            self._commit()

    def close(self, *, failed: bool) -> None:
        if not self._db.in_transaction:
            return
        try:
            self._commit()
        except sqlite3.Error:
            self._db.execute("ROLLBACK")
            if not failed:  # after an exception, that one is the error to report
                raise

    def _commit(self) -> None:
        if self._db.in_transaction:
            self._db.execute("COMMIT")
        self._last_commit = self._clock()


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds")


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)
