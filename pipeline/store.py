"""The only SQL user: a SQLite store of articles, their versions, raw pages, HTTP validators and runs.

The schema is built by numbered migrations recorded in `schema_migrations`, so opening a store of any
earlier version is always safe. WAL mode and one transaction per logical change keep it consistent
when a run is killed at any point."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pipeline.errors import StoreError
from pipeline.faults import pause_point
from pipeline.model import Alert, Article, Page, StoredArticle, Version

STORE_FILE = "panui.sqlite3"
SaveOutcome = Literal["new", "updated", "unchanged"]
RUNS_KEPT = 1000  # the runs table is recent history, not an archive: a daemon must not grow it for ever

MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema.
    """
    CREATE TABLE raw_pages (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        url TEXT NOT NULL,
        fetched_at TEXT NOT NULL,
        status INTEGER NOT NULL,
        headers TEXT NOT NULL,
        size INTEGER NOT NULL,
        body BLOB NOT NULL
    );
    CREATE TABLE http_cache (
        url TEXT PRIMARY KEY,
        etag TEXT,
        last_modified TEXT,
        raw_page_id INTEGER REFERENCES raw_pages(id),
        checked_at TEXT NOT NULL
    );
    CREATE TABLE articles (
        id INTEGER PRIMARY KEY,
        source_id TEXT NOT NULL,
        url TEXT NOT NULL UNIQUE,
        slug TEXT NOT NULL,
        timezone TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        last_checked TEXT NOT NULL,
        current_version INTEGER NOT NULL,
        UNIQUE (source_id, slug)
    );
    CREATE TABLE revisions (
        id INTEGER PRIMARY KEY,
        article_id INTEGER NOT NULL REFERENCES articles(id),
        version INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        retrieved_at TEXT NOT NULL,
        title TEXT NOT NULL,
        published TEXT NOT NULL,
        news_type TEXT,
        topics TEXT NOT NULL,
        summary TEXT NOT NULL,
        body_html TEXT NOT NULL,
        raw_page_id INTEGER REFERENCES raw_pages(id),
        UNIQUE (article_id, version)
    );
    CREATE TABLE url_aliases (
        url TEXT PRIMARY KEY,
        article_id INTEGER NOT NULL REFERENCES articles(id)
    );
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        exit_code INTEGER,
        report TEXT
    );
    CREATE INDEX articles_by_source ON articles (source_id);
    """,
    # 2: change tracking: articles that the source stopped serving, and site alerts.
    """
    ALTER TABLE articles ADD COLUMN missing_since TEXT;
    ALTER TABLE articles ADD COLUMN withdrawn_at TEXT;
    CREATE TABLE alerts (
        id TEXT PRIMARY KEY,
        source_id TEXT NOT NULL,
        title TEXT NOT NULL,
        issued TEXT NOT NULL,
        text_html TEXT NOT NULL,
        page_url TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL
    );
    CREATE INDEX alerts_by_source ON alerts (source_id, issued);
    """,
    # 3: which extractor produced a version: the source's selectors, or the generic fallback.
    """
    ALTER TABLE revisions ADD COLUMN extractor TEXT NOT NULL DEFAULT 'selectors';
    """,
)


class Store:
    """An open store. Use as a context manager, or call close()."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / STORE_FILE
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
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

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

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
                db.execute("INSERT INTO schema_migrations VALUES (?, ?)", (number, _iso(datetime.now(UTC))))

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("SELECT max(version) FROM schema_migrations").fetchone()[0])

    # -- HTTP responses and raw pages -------------------------------------------------------------

    def validators(self, url: str) -> tuple[str | None, str | None] | None:
        row = self._db.execute("SELECT etag, last_modified FROM http_cache WHERE url = ?", (url,)).fetchone()
        return (row[0], row[1]) if row else None

    def cached_body(self, url: str) -> bytes | None:
        row = self._db.execute(
            "SELECT raw_pages.body FROM http_cache JOIN raw_pages ON raw_pages.id = http_cache.raw_page_id WHERE http_cache.url = ?",
            (url,),
        ).fetchone()
        return zlib.decompress(row[0]) if row else None

    def remember_response(self, page: Page) -> int:
        """Keep the raw bytes (once per distinct body, compressed) and the page's validators."""
        digest = hashlib.sha256(page.body).hexdigest()
        with self.transaction() as db:
            previous = db.execute("SELECT raw_page_id FROM http_cache WHERE url = ?", (page.url,)).fetchone()
            row = db.execute("SELECT id FROM raw_pages WHERE sha256 = ?", (digest,)).fetchone()
            if row:
                raw_id = int(row[0])
            else:
                cursor = db.execute(
                    "INSERT INTO raw_pages (sha256, url, fetched_at, status, headers, size, body) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        digest,
                        page.final_url,
                        _iso(page.fetched_at),
                        page.status,
                        json.dumps(dict(page.headers), sort_keys=True),
                        len(page.body),
                        zlib.compress(page.body, 6),
                    ),
                )
                raw_id = int(cursor.lastrowid or 0)
            db.execute(
                "INSERT INTO http_cache (url, etag, last_modified, raw_page_id, checked_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified, "
                "raw_page_id = excluded.raw_page_id, checked_at = excluded.checked_at",
                (page.url, page.etag, page.last_modified, raw_id, _iso(page.fetched_at)),
            )
            if previous and previous[0] is not None and previous[0] != raw_id:
                # A superseded copy that no article version cites is only a cache entry: drop it, so a
                # page that changes on every visit (a home page) does not grow the store without bound.
                db.execute(
                    "DELETE FROM raw_pages WHERE id = ? AND NOT EXISTS (SELECT 1 FROM revisions WHERE raw_page_id = ?) "
                    "AND NOT EXISTS (SELECT 1 FROM http_cache WHERE raw_page_id = ?)",
                    (previous[0], previous[0], previous[0]),
                )
        return raw_id

    def checked_at(self, url: str) -> datetime | None:
        row = self._db.execute("SELECT checked_at FROM http_cache WHERE url = ?", (url,)).fetchone()
        return _parse(row[0]) if row else None

    def mark_checked(self, url: str, when: datetime) -> None:
        with self.transaction() as db:
            db.execute("UPDATE http_cache SET checked_at = ? WHERE url = ?", (_iso(when), url))
            db.execute(
                "UPDATE articles SET last_checked = ? WHERE id = (SELECT article_id FROM url_aliases WHERE url = ?)",
                (_iso(when), url),
            )

    def raw_page_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM raw_pages").fetchone()[0])

    # -- articles ---------------------------------------------------------------------------------

    def has_article(self, canonical_url: str) -> bool:
        return self._db.execute("SELECT 1 FROM articles WHERE url = ?", (canonical_url,)).fetchone() is not None

    def known_url(self, url: str) -> bool:
        """True when `url` (canonical or an alias) already leads to a stored article."""
        return self._db.execute("SELECT 1 FROM url_aliases WHERE url = ?", (url,)).fetchone() is not None

    def save_article(
        self,
        article: Article,
        *,
        source_id: str,
        timezone: str,
        requested_url: str,
        retrieved_at: datetime,
        raw_page_id: int | None,
        extractor: str = "selectors",
        rebuilding: bool = False,
    ) -> SaveOutcome:
        """Add the article, or a new version of it when its content changed. When `rebuilding`, a
        re-extraction of the very raw page the current version came from corrects that version in
        place (a selector fix is not an edit by the source, so it is not announced as one)."""
        when = _iso(retrieved_at)
        digest = article.content_hash
        values = (
            article.title,
            article.published.isoformat(),
            article.news_type,
            json.dumps(list(article.topics), ensure_ascii=False),
            article.summary,
            article.body_html,
            extractor,
        )
        with self.transaction() as db:
            row = db.execute("SELECT id, current_version FROM articles WHERE url = ?", (article.url,)).fetchone()
            outcome: SaveOutcome
            if row is None:
                slug = self._free_slug(db, source_id, article.url)
                article_id = int(
                    db.execute(
                        "INSERT INTO articles (source_id, url, slug, timezone, first_seen, last_checked, current_version) "
                        "VALUES (?, ?, ?, ?, ?, ?, 1)",
                        (source_id, article.url, slug, timezone, when, when),
                    ).lastrowid
                    or 0
                )
                version, outcome = 1, "new"
            else:
                article_id, current = int(row[0]), int(row[1])
                latest = db.execute(
                    "SELECT content_hash, raw_page_id FROM revisions WHERE article_id = ? AND version = ?",
                    (article_id, current),
                ).fetchone()
                for alias in {article.url, requested_url}:
                    db.execute("INSERT OR IGNORE INTO url_aliases VALUES (?, ?)", (alias, article_id))
                if latest and latest[0] == digest:
                    if not rebuilding:
                        db.execute("UPDATE articles SET last_checked = ? WHERE id = ?", (when, article_id))
                    elif latest[1] == raw_page_id:  # same content, but say which extractor now produces it
                        db.execute(
                            "UPDATE revisions SET extractor = ? WHERE article_id = ? AND version = ?",
                            (extractor, article_id, current),
                        )
                    return "unchanged"
                if rebuilding and latest and latest[1] == raw_page_id:
                    db.execute(
                        "UPDATE revisions SET content_hash = ?, title = ?, published = ?, news_type = ?, topics = ?, "
                        "summary = ?, body_html = ?, extractor = ? WHERE article_id = ? AND version = ?",
                        (digest, *values, article_id, current),
                    )
                    return "updated"
                if not rebuilding:
                    db.execute("UPDATE articles SET last_checked = ? WHERE id = ?", (when, article_id))
                version, outcome = current + 1, "updated"
                db.execute("UPDATE articles SET current_version = ? WHERE id = ?", (version, article_id))
            db.execute(
                "INSERT INTO revisions (article_id, version, content_hash, retrieved_at, title, published, news_type, "
                "topics, summary, body_html, extractor, raw_page_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (article_id, version, digest, when, *values, raw_page_id),
            )
            for alias in {article.url, requested_url}:
                db.execute("INSERT OR IGNORE INTO url_aliases VALUES (?, ?)", (alias, article_id))
            pause_point("store")  # test-only (pipeline/faults.py): a crash test kills the run mid-transaction
        return outcome

    def stored_responses(self) -> list[Page]:
        """The latest stored answer for every URL fetched so far (what `rebuild` re-extracts)."""
        rows = self._db.execute(
            "SELECT c.url, r.url, r.status, r.headers, r.body, r.fetched_at, r.id FROM http_cache c "
            "JOIN raw_pages r ON r.id = c.raw_page_id ORDER BY c.url"
        )
        return [
            Page(
                url=url,
                final_url=final,
                status=status,
                headers=json.loads(headers),
                body=zlib.decompress(body),
                fetched_at=_parse(fetched),
            )
            for url, final, status, headers, body, fetched, _ in rows
        ]

    def raw_page_id(self, url: str) -> int | None:
        row = self._db.execute("SELECT raw_page_id FROM http_cache WHERE url = ?", (url,)).fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def articles(self, source_id: str | None = None, *, with_bodies: bool = True) -> list[StoredArticle]:
        """Every stored article at its latest version, newest published first (ties: newest seen).
        Without bodies the list stays small for any archive; bodies() fetches the ones needed."""
        body = "r.body_html" if with_bodies else "''"
        query = (
            "SELECT a.id, a.source_id, a.slug, a.timezone, a.first_seen, r.version, r.retrieved_at, r.content_hash, "
            f"a.url, r.title, r.published, r.news_type, r.topics, r.summary, {body}, a.withdrawn_at FROM articles a "
            "JOIN revisions r ON r.article_id = a.id AND r.version = a.current_version"
        )
        parameters: tuple[str, ...] = ()
        if source_id is not None:
            query += " WHERE a.source_id = ?"
            parameters = (source_id,)
        stored = [_stored_article(row) for row in self._db.execute(query, parameters)]
        stored.sort(key=lambda item: (item.article.published, item.first_seen, item.article.url), reverse=True)
        return stored

    def versions(self, article_ids: Iterable[int]) -> dict[int, list[Version]]:
        """Every stored version of each named article, oldest first."""
        ids = list(article_ids)
        found: dict[int, list[Version]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = self._db.execute(
                "SELECT r.article_id, r.version, r.retrieved_at, a.url, r.title, r.published, r.news_type, r.topics, "
                "r.summary, r.body_html, a.timezone FROM revisions r JOIN articles a ON a.id = r.article_id "
                f"WHERE r.article_id IN ({','.join('?' * len(chunk))}) ORDER BY r.article_id, r.version",
                chunk,
            )
            for article_id, number, retrieved, url, title, published, kind, topics, summary, body, zone in rows:
                article = Article(
                    url=url,
                    title=title,
                    published=datetime.fromisoformat(published).astimezone(ZoneInfo(zone)),
                    news_type=kind,
                    topics=tuple(json.loads(topics)),
                    summary=summary,
                    body_html=body,
                )
                found.setdefault(int(article_id), []).append(Version(int(number), _parse(retrieved), article))
        return found

    def revisit_candidates(self, source_id: str) -> list[tuple[str, datetime, datetime]]:
        """(url, published, last checked) of each article of the source still served by it."""
        rows = self._db.execute(
            "SELECT a.url, r.published, a.last_checked FROM articles a JOIN revisions r ON r.article_id = a.id "
            "AND r.version = a.current_version WHERE a.source_id = ? AND a.withdrawn_at IS NULL ORDER BY a.id",
            (source_id,),
        )
        return [(url, datetime.fromisoformat(published), _parse(checked)) for url, published, checked in rows]

    def record_missing(self, url: str, when: datetime, grace_seconds: float) -> str:
        """The source answered 404/410 for an article. The first time it is only noted; once it has been
        missing for `grace_seconds` or more, the article is withdrawn (a passing error is never a removal).
        Returns "noted", "withdrawn", "already-withdrawn" or "unknown"."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT a.id, a.missing_since, a.withdrawn_at FROM articles a JOIN url_aliases u ON u.article_id = a.id "
                "WHERE u.url = ?",
                (url,),
            ).fetchone()
            if row is None:
                return "unknown"
            article_id, missing_since, withdrawn_at = row
            if withdrawn_at:
                return "already-withdrawn"
            if missing_since is None:
                db.execute("UPDATE articles SET missing_since = ? WHERE id = ?", (_iso(when), article_id))
                return "noted"
            if (when - _parse(missing_since)).total_seconds() < grace_seconds:
                return "noted"
            db.execute("UPDATE articles SET withdrawn_at = ? WHERE id = ?", (_iso(when), article_id))
            return "withdrawn"

    def record_present(self, url: str) -> bool:
        """The source served the article again: forget any missing mark. True when it had been withdrawn."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT a.id, a.withdrawn_at, a.missing_since FROM articles a JOIN url_aliases u ON u.article_id = a.id "
                "WHERE u.url = ?",
                (url,),
            ).fetchone()
            if row is None or (row[1] is None and row[2] is None):
                return False  # nothing to forget: no write
            db.execute("UPDATE articles SET missing_since = NULL, withdrawn_at = NULL WHERE id = ?", (row[0],))
            return row[1] is not None

    def save_alert(self, alert: Alert, seen_at: datetime) -> bool:
        """Keep a site alert; True when it is new."""
        with self.transaction() as db:
            exists = db.execute("SELECT 1 FROM alerts WHERE id = ?", (alert.id,)).fetchone()
            if exists:
                db.execute("UPDATE alerts SET last_seen = ? WHERE id = ?", (_iso(seen_at), alert.id))
                return False
            db.execute(
                "INSERT INTO alerts (id, source_id, title, issued, text_html, page_url, first_seen, last_seen) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    alert.id,
                    alert.source_id,
                    alert.title,
                    alert.issued.isoformat(),
                    alert.text_html,
                    alert.page_url,
                    _iso(seen_at),
                    _iso(seen_at),
                ),
            )
            return True

    def alerts(self, source_id: str) -> list[Alert]:
        """The source's alerts, newest issued first."""
        rows = self._db.execute(
            "SELECT id, source_id, title, issued, text_html, page_url, first_seen FROM alerts WHERE source_id = ? "
            "ORDER BY issued DESC, id",
            (source_id,),
        )
        return [
            Alert(
                id=row[0],
                source_id=row[1],
                title=row[2],
                issued=datetime.fromisoformat(row[3]),
                text_html=row[4],
                page_url=row[5],
                first_seen=_parse(row[6]),
            )
            for row in rows
        ]

    def article_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM articles").fetchone()[0])

    def bodies(self, article_ids: Iterable[int]) -> dict[int, str]:
        """The current body of each named article."""
        ids = list(article_ids)
        found: dict[int, str] = {}
        for start in range(0, len(ids), 500):  # SQLite caps the number of bound parameters
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                "SELECT a.id, r.body_html FROM articles a JOIN revisions r ON r.article_id = a.id "
                f"AND r.version = a.current_version WHERE a.id IN ({marks})",
                chunk,
            )
            found.update((int(row[0]), str(row[1])) for row in rows)
        return found

    def _free_slug(self, db: sqlite3.Connection, source_id: str, url: str) -> str:
        """The last path segment, made unique within the source. Assigned once, so archive URLs never move."""
        segments = [part for part in urlsplit(url).path.split("/") if part]
        base = (
            re.sub(r"[^a-z0-9-]+", "-", (segments[-1] if segments else "index").lower()).strip("-")[:120] or "article"
        )
        slug, number = base, 1
        while db.execute("SELECT 1 FROM articles WHERE source_id = ? AND slug = ?", (source_id, slug)).fetchone():
            number += 1
            slug = f"{base}-{number}"
        return slug

    # -- runs -------------------------------------------------------------------------------------

    def start_run(self, started_at: datetime) -> int:
        with self.transaction() as db:
            return int(db.execute("INSERT INTO runs (started_at) VALUES (?)", (_iso(started_at),)).lastrowid or 0)

    def finish_run(self, run_id: int, finished_at: datetime, exit_code: int, report: dict[str, object]) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE runs SET finished_at = ?, exit_code = ?, report = ? WHERE id = ?",
                (
                    _iso(finished_at),
                    exit_code,
                    json.dumps(report, sort_keys=True, ensure_ascii=False),
                    run_id,
                ),
            )
            db.execute("DELETE FROM runs WHERE id <= ?", (run_id - RUNS_KEPT,))

    def run_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM runs").fetchone()[0])


def _stored_article(row: tuple[object, ...]) -> StoredArticle:
    (
        article_id,
        source_id,
        slug,
        timezone,
        first_seen,
        version,
        retrieved_at,
        digest,
        url,
        title,
        published,
        news_type,
        topics,
        summary,
        body,
        withdrawn_at,
    ) = row
    zone = ZoneInfo(str(timezone))
    return StoredArticle(
        id=int(str(article_id)),
        source_id=str(source_id),
        slug=str(slug),
        first_seen=_parse(str(first_seen)),
        version=int(str(version)),
        retrieved_at=_parse(str(retrieved_at)),
        content_hash=str(digest),
        withdrawn_at=_parse(str(withdrawn_at)) if withdrawn_at else None,
        article=Article(
            url=str(url),
            title=str(title),
            published=datetime.fromisoformat(str(published)).astimezone(zone),
            news_type=str(news_type) if news_type is not None else None,
            topics=tuple(json.loads(str(topics))),
            summary=str(summary),
            body_html=str(body),
        ),
    )


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)
