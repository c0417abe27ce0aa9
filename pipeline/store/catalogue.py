"""Publishing's index of the store: where each article is listed (the site, a source, a year, a topic...)
and in what order, and the key of every file the last publication wrote. Asked for one collection at a
time, so a publication holds what it shows, never the archive. Its own SQLite file, attached to the
store's connection (one query joins it with the articles); derived data: losing it costs one full
publication and nothing else. A dry run keeps it in memory."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from pipeline.model import StoredArticle
from pipeline.store.database import catalogue_errors, immediate_transaction, parse_time
from pipeline.store.postings import SCHEMA as SEARCH_SCHEMA
from pipeline.store.postings import TABLES as SEARCH_TABLES
from pipeline.store.postings import SearchPostings
from pipeline.store.rows import ARTICLE_COLUMNS, CURRENT, chunks, marks, stored_article

PUBLISH_FILE = "publish.sqlite3"
SCHEMA_VERSION = "8"  # a file of another version is rebuilt from the store, never migrated

# What of an article any output shows, as one string: when it differs from what the index recorded at
# the last publication, the article is republished (new, edited, withdrawn, reinstated, re-extracted).
ARTICLE_STATE = (
    "a.source_id || '|' || a.slug || '|' || a.current_version || '|' || r.content_hash || '|' || "
    "r.retrieved_at || '|' || coalesce(a.withdrawn_at, '')"
)
# A publication reads an article in each collection listing it (its year, its topics'...): made once from its
# row (the row is the key). A listing is fetched whole first: a value refused mid-read would leave pub locked.
_article = lru_cache(maxsize=1024)(stored_article)
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS pub.state (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    # `words`: what the archive's search finds the article by (computed once per version, from its body);
    # `dates`: the calendar's events of the article, followed through its versions (JSON; "" for none);
    # `last_day`: the latest of their days, so that the calendar reads only the articles of its window.
    "CREATE TABLE IF NOT EXISTS pub.entries (article_id INTEGER PRIMARY KEY, state TEXT NOT NULL, "
    "words TEXT NOT NULL, dates TEXT NOT NULL, last_day TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS pub.entries_by_last_day ON entries (last_day) WHERE last_day != ''",
    # One row per article and collection it is listed in; sort_key orders a collection newest first.
    "CREATE TABLE IF NOT EXISTS pub.members (collection TEXT NOT NULL, article_id INTEGER NOT NULL, "
    "kind TEXT NOT NULL, parent TEXT NOT NULL, name TEXT NOT NULL, sort_key TEXT NOT NULL, "
    "PRIMARY KEY (collection, article_id))",
    "CREATE INDEX IF NOT EXISTS pub.members_in_order ON members (collection, sort_key)",
    "CREATE INDEX IF NOT EXISTS pub.members_by_kind ON members (kind, parent, collection)",
    "CREATE INDEX IF NOT EXISTS pub.members_by_article ON members (article_id)",
    "CREATE TABLE IF NOT EXISTS pub.files (path TEXT PRIMARY KEY, key TEXT NOT NULL)",
    # Each non-empty collection with its size and name, kept up to date as articles are indexed, so that
    # listing the topics of a source does not scan their members.
    "CREATE TABLE IF NOT EXISTS pub.collections (collection TEXT PRIMARY KEY, kind TEXT NOT NULL, "
    "parent TEXT NOT NULL, name TEXT NOT NULL, newest TEXT NOT NULL, size INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS pub.collections_by_kind ON collections (kind, parent)",
    *SEARCH_SCHEMA,
)


@dataclass(frozen=True)
class Membership:
    """One collection an article is listed in. `collection` is the folder of its pages ("" for the
    site, "inz/", "years/2026/", "inz/topics/work/", "inz/topics/work/2026/"); `parent` is the
    collection it belongs under ("inz/" for a topic), `name` what it is called ("Work", "2026")."""

    collection: str
    kind: str
    parent: str
    name: str


@dataclass(frozen=True)
class CollectionInfo:
    collection: str
    name: str  # as the newest member names it (two spellings of one topic share its folder)
    count: int


class Catalogue(SearchPostings):
    def __init__(self, db: sqlite3.Connection, state_dir: Path | None) -> None:
        self._db = db
        self._memory = state_dir is None
        path = state_dir / PUBLISH_FILE if state_dir else None
        with catalogue_errors(path):
            try:
                self._open(path)
            except sqlite3.OperationalError:
                raise  # locked, unreadable, out of space: not a reason to throw the index away
            except sqlite3.DatabaseError:
                # Damaged (or not a database): it is derived data, so start it again from the store.
                with suppress(sqlite3.OperationalError):  # it may have failed before it was attached
                    db.execute("DETACH DATABASE pub")
                for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if path else ():
                    leftover.unlink(missing_ok=True)
                self._open(path)

    def _open(self, path: Path | None) -> None:
        db = self._db
        db.execute("ATTACH DATABASE ? AS pub", (str(path) if path else ":memory:",))
        if path is not None:
            db.execute("PRAGMA pub.journal_mode=WAL")
        db.execute("CREATE TABLE IF NOT EXISTS pub.state (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        if self.state("schema") != SCHEMA_VERSION:
            with self._writing():
                published = self._published_paths()
                for table in ("entries", "members", "files", "collections", "state", *SEARCH_TABLES):
                    db.execute(f"DROP TABLE IF EXISTS pub.{table}")
                for statement in SCHEMA:
                    db.execute(statement)
                db.execute("INSERT INTO pub.state VALUES ('schema', ?)", (SCHEMA_VERSION,))
                # Still on disk: recorded with no key, so that the full publication that follows removes
                # those it no longer plans (the files of an earlier layout) and writes the others anew.
                db.executemany("INSERT INTO pub.files VALUES (?, '')", ((path,) for path in published))

    def _published_paths(self) -> list[str]:
        """The files an earlier catalogue recorded as published (none if it kept no such table)."""
        try:
            return [str(row[0]) for row in self._db.execute("SELECT path FROM pub.files")]
        except sqlite3.Error:
            return []

    def close(self) -> None:
        self._db.execute("DROP TABLE IF EXISTS temp.planned")  # (see plan_files: each publication its own)
        self._db.execute("DETACH DATABASE pub")

    def _writing(self) -> AbstractContextManager[sqlite3.Connection]:
        # Its own transactions, not the store's: a dry run's store refuses writes, but the catalogue
        # it publishes from is in memory and must take them. Deferred, so that a dry run's writes to
        # its in-memory catalogue never lock the live store (publishing itself holds the store lock).
        return immediate_transaction(self._db, "BEGIN")

    # What the last publication was made from.

    def state(self, name: str) -> str | None:
        row = self._db.execute("SELECT value FROM pub.state WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_state(self, name: str, value: str) -> None:
        with self._writing() as db:
            db.execute("INSERT OR REPLACE INTO pub.state VALUES (?, ?)", (name, value))

    def archive_began(self) -> datetime:
        """When the store was made (its first migration): the date of a feed that never had an item."""
        return parse_time(str(self._db.execute("SELECT min(applied_at) FROM main.schema_migrations").fetchone()[0]))

    def changed_ids(self) -> list[int]:
        """Articles whose shown state differs from the index (new ones included), and indexed articles no
        longer in the store: the store's journal when paired with this index, else every one compared."""
        token = self._db.execute("SELECT token FROM main.publication").fetchone()
        if token is not None and token[0] and self.state("store_token") == token[0]:
            return [int(row[0]) for row in self._db.execute("SELECT article_id FROM main.unpublished ORDER BY 1")]
        rows = self._db.execute(
            f"SELECT a.id FROM {CURRENT} LEFT JOIN pub.entries e ON e.article_id = a.id "
            f"WHERE e.state IS NOT ({ARTICLE_STATE}) "
            "UNION SELECT article_id FROM pub.entries WHERE article_id NOT IN (SELECT id FROM articles) ORDER BY 1"
        )
        return [int(row[0]) for row in rows]

    def settle(self, published: Sequence[int], *, everything: bool) -> None:
        """The articles a publication published (`everything`: all) leave the store's journal, which is
        paired with this index by a new token (a crash between the two writes unpairs them: see above)."""
        if self._memory:
            return  # a dry run's index, in memory: the store is not written
        token = secrets.token_hex(8)
        with immediate_transaction(self._db, "BEGIN IMMEDIATE") as db:
            if everything:
                db.execute("DELETE FROM main.unpublished")
            for chunk in chunks(published):
                db.execute(f"DELETE FROM main.unpublished WHERE article_id IN ({marks(chunk)})", chunk)
            db.execute("UPDATE main.publication SET token = ?", (token,))
        self.set_state("store_token", token)

    def all_ids(self) -> list[int]:
        rows = self._db.execute("SELECT id FROM articles UNION SELECT article_id FROM pub.entries ORDER BY 1")
        return [int(row[0]) for row in rows]

    def articles(self, ids: Sequence[int]) -> list[StoredArticle]:
        """The named articles at their current version, without bodies, in the order of `ids`."""
        found: dict[int, StoredArticle] = {}
        for chunk in chunks(ids):
            query = f"SELECT {ARTICLE_COLUMNS} FROM {CURRENT} WHERE a.id IN ({marks(chunk)})"
            found.update((item.id, item) for item in map(_article, self._db.execute(query, chunk)))
        return [found[article_id] for article_id in ids if article_id in found]

    def memberships(self, ids: Sequence[int]) -> dict[int, set[Membership]]:
        found: dict[int, set[Membership]] = {}
        for chunk in chunks(ids):
            rows = self._db.execute(
                f"SELECT article_id, collection, kind, parent, name FROM pub.members WHERE article_id IN ({marks(chunk)})",
                chunk,
            )
            for article_id, *membership in rows:
                found.setdefault(int(article_id), set()).add(Membership(*membership))
        return found

    def index(
        self, listed: Iterable[tuple[int, str, str, str, str, Iterable[Membership]]], ids: Sequence[int]
    ) -> set[str]:
        """Record where each of `ids` is listed now ((id, sort key, search words, dates, the last of their
        days, memberships) of the
        published ones; the others are listed nowhere), bring its collections' sizes and names up to date,
        and return those whose name changed, appeared or went (a topic newly spelled is renamed everywhere)."""
        with self._writing() as db:
            folders = {
                str(row[0])
                for chunk in chunks(ids)
                for row in db.execute(
                    f"SELECT DISTINCT collection FROM pub.members WHERE article_id IN ({marks(chunk)})", chunk
                )
            }
            dated = False  # an article that gave dates, or gives them now: the calendar's outputs change
            for chunk in chunks(ids):
                query = f"SELECT 1 FROM pub.entries WHERE dates != '' AND article_id IN ({marks(chunk)}) LIMIT 1"
                dated = dated or db.execute(query, chunk).fetchone() is not None
                db.execute(f"DELETE FROM pub.members WHERE article_id IN ({marks(chunk)})", chunk)
                db.execute(f"DELETE FROM pub.entries WHERE article_id IN ({marks(chunk)})", chunk)
                db.execute(
                    f"INSERT INTO pub.entries SELECT a.id, {ARTICLE_STATE}, '', '', '' FROM {CURRENT} WHERE a.id IN ({marks(chunk)})",
                    chunk,
                )
            rows = list(listed)
            if dated or any(row[3] for row in rows):
                db.execute("INSERT INTO pub.state VALUES ('dates', 1) ON CONFLICT DO UPDATE SET value = value + 1")
            db.executemany(
                "UPDATE pub.entries SET words = ?, dates = ?, last_day = ? WHERE article_id = ?",
                ((r[2], r[3], r[4], r[0]) for r in rows),
            )
            db.executemany(
                "INSERT INTO pub.members VALUES (?, ?, ?, ?, ?, ?)",
                (
                    (member.collection, article_id, member.kind, member.parent, member.name, sort_key)
                    for article_id, sort_key, _, _, _, members in rows
                    for member in members
                ),
            )
            folders.update(member.collection for *_, members in rows for member in members)
            before = self._names(sorted(folders))
            for group in chunks(sorted(folders)):
                db.execute(f"DELETE FROM pub.collections WHERE collection IN ({marks(group)})", group)
            # Named as its newest member names it (two spellings of one topic show as the newest article
            # spells it), counted on the index alone: at 50,000 articles, a GROUP BY that read every
            # member's row cost a publication of one article 0.6 s.
            db.executemany(
                "INSERT INTO pub.collections SELECT collection, kind, parent, name, sort_key, "
                "(SELECT count(*) FROM pub.members WHERE collection = ?1) "
                "FROM pub.members WHERE collection = ?1 ORDER BY sort_key DESC LIMIT 1",
                ((folder,) for folder in sorted(folders)),
            )
            after = self._names(sorted(folders))
        return {folder for folder in folders if before.get(folder) != after.get(folder)}

    def _names(self, folders: Sequence[str]) -> dict[str, str]:
        return {str(folder): str(name) for folder, name in self._lookup("collections", "collection", "name", folders)}

    def _lookup(self, table: str, key: str, value: str, keys: Sequence[object]) -> Iterator[tuple[object, object]]:
        """(key, value) of the rows of pub.<table> whose `key` is one of `keys`, a chunk at a time."""
        for chunk in chunks(keys):
            yield from self._db.execute(
                f"SELECT {key}, {value} FROM pub.{table} WHERE {key} IN ({marks(chunk)})", chunk
            )

    # What a collection lists.

    def listed(self, collection: str, *, limit: int | None = None, current_only: bool = False) -> list[StoredArticle]:
        """The collection's articles newest first, without bodies; `current_only` leaves out the ones the
        source withdrew (feeds carry only what the source still serves)."""
        query = (
            f"SELECT {ARTICLE_COLUMNS} FROM pub.members m CROSS JOIN {CURRENT} WHERE m.collection = ? "
            f"AND a.id = m.article_id{' AND a.withdrawn_at IS NULL' if current_only else ''} "
            "ORDER BY m.sort_key DESC LIMIT ?"  # (-1: no limit)
        )
        return list(map(_article, self._db.execute(query, (collection, -1 if limit is None else limit)).fetchall()))

    def collections(self, kind: str, parent: str | None = None) -> list[CollectionInfo]:
        """The collections of one kind (under `parent`) that list something, by folder, with their sizes."""
        query = "SELECT collection, name, size FROM pub.collections WHERE kind = ? AND coalesce(?, parent) = parent"
        found = [
            CollectionInfo(str(collection), str(name), int(size))
            for collection, name, size in self._db.execute(query, (kind, parent))
        ]
        return sorted(found, key=lambda info: info.collection.rstrip("/"))  # "a/" before "a-b/", like their names

    def size(self, collection: str) -> int:
        row = self._db.execute("SELECT size FROM pub.collections WHERE collection = ?", (collection,)).fetchone()
        return 0 if row is None else int(row[0])

    def dated(self, since: date) -> list[tuple[int, str]]:
        """(article id, dates) of every published article with a date on or after `since`, by id."""
        # (`last_day != ''` lets SQLite use the partial index; sorting here keeps it from walking the table.)
        query = "SELECT article_id, dates FROM pub.entries WHERE last_day >= ? AND last_day != ''"
        return sorted(
            (int(article_id), str(dates)) for article_id, dates in self._db.execute(query, (since.isoformat(),))
        )

    def corrected(self, source_id: str, limit: int) -> list[StoredArticle]:
        """The articles behind the source's `limit` newest corrections (a later version, or a withdrawal),
        ties at the edge included, so the newest `limit` correction items are all among theirs."""
        events = (
            # (CROSS JOIN: from the later versions, through their index, to their articles; not the other way.)
            "SELECT r.article_id AS id, r.retrieved_at AS at FROM revisions r CROSS JOIN articles a ON a.id = r.article_id "
            "WHERE a.source_id = :source AND r.version > 1 AND a.kind = 'article' "
            "UNION ALL SELECT id, withdrawn_at FROM articles WHERE source_id = :source AND withdrawn_at IS NOT NULL "
            "AND kind = 'article'"  # a watched page's changes have a feed of their own
        )
        edge = self._db.execute(
            f"SELECT at FROM ({events}) ORDER BY at DESC LIMIT 1 OFFSET :offset",
            {"source": source_id, "offset": max(limit - 1, 0)},
        ).fetchone()
        rows = self._db.execute(
            f"SELECT DISTINCT id FROM ({events}) WHERE at >= :edge ORDER BY id",
            {"source": source_id, "edge": edge[0] if edge else ""},
        )
        return self.articles([int(row[0]) for row in rows])

    def watched(self, source_id: str) -> list[StoredArticle]:
        """The source's watched pages (`watch:`), at their latest version, in the order first seen."""
        rows = self._db.execute(
            f"SELECT {ARTICLE_COLUMNS} FROM {CURRENT} WHERE a.source_id = ? AND a.kind = 'watch' ORDER BY a.id",
            (source_id,),
        )
        return [_article(tuple(row)) for row in rows]

    # The key of each file the last publication wrote.

    def file_keys(self, paths: Sequence[str]) -> dict[str, str]:
        return {str(path): str(key) for path, key in self._lookup("files", "path", "key", paths)}

    def record_files(self, keys: Iterable[tuple[str, str]]) -> None:
        with self._writing() as db:
            db.executemany("INSERT OR REPLACE INTO pub.files VALUES (?, ?)", keys)

    def forget_files(self, paths: Sequence[str]) -> None:
        with self._writing() as db:
            for chunk in chunks(paths):
                db.execute(f"DELETE FROM pub.files WHERE path IN ({marks(chunk)})", chunk)

    def plan_files(self, paths: Sequence[str]) -> None:
        """Note paths a full publication plans, in SQLite's temporary store: held in memory they were
        9 MiB of a publication's peak at 50,000 articles."""
        with self._writing() as db:
            db.execute("CREATE TEMP TABLE IF NOT EXISTS planned (path TEXT PRIMARY KEY)")
            db.executemany("INSERT OR IGNORE INTO temp.planned VALUES (?)", ((path,) for path in paths))

    def unplanned_files(self) -> list[str]:
        """The recorded files that no output noted by plan_files claims (stale ones), by path."""
        self.plan_files([])  # (none noted: every recorded file)
        query = "SELECT path FROM pub.files WHERE path NOT IN (SELECT path FROM temp.planned) ORDER BY path"
        return [str(row[0]) for row in self._db.execute(query)]
