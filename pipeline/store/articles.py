"""Articles, their versions, and what the source still serves (missing, withdrawn)."""

from __future__ import annotations

import json
import math
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pipeline.model import Article, Page, Version
from pipeline.store.catalogue import Catalogue
from pipeline.store.database import Database, iso
from pipeline.store.pages import remember_in
from pipeline.store.rows import CURRENT, chunks, marks, moment, stored, stored_content, utc_moment

SaveOutcome = Literal["new", "updated", "unchanged"]
DAY = 86_400.0


def _shifted(now: datetime, seconds: float) -> str:
    """`now` moved by `seconds`, as iso() writes it; "" before the calendar's first date (nothing is
    earlier), "~" after its last (everything is earlier)."""
    try:
        return iso(now + timedelta(seconds=seconds))
    except OverflowError:
        return "" if seconds < 0 else "~"


class ArticleStore(Database):
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
        raw_page_id: int | None = None,
        page: Page | None = None,
        extractor: str = "selectors",
        rebuilding: bool = False,
        kind: str = "article",
    ) -> SaveOutcome:
        """Add the article, or a new version of it when its content changed. When `rebuilding`, a
        re-extraction of the very raw page the current version came from corrects that version in
        place (a selector fix is not an edit by the source, so it is not announced as one). `page`:
        the raw page the article was extracted from, kept as remember_response keeps it, in the same
        transaction (a sync's usual case: one commit per article, not two); the version cites it."""
        if page is not None and raw_page_id is not None:
            raise ValueError("save_article takes the raw page or its id, not both")
        when = iso(retrieved_at)
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
            if page is not None:
                raw_page_id = remember_in(db, page)
            row = db.execute("SELECT id, current_version FROM articles WHERE url = ?", (article.url,)).fetchone()
            if row is None:
                slug = self._free_slug(db, source_id, article.url)
                cursor = db.execute(
                    "INSERT INTO articles (source_id, url, slug, timezone, first_seen, last_checked, current_version, "
                    "kind) VALUES (?, ?, ?, ?, ?, ?, 1, ?)",
                    (source_id, article.url, slug, timezone, when, when, kind),
                )
                article_id, current = int(cursor.lastrowid or 0), 0  # (version 1 is inserted below)
            else:
                article_id, current = int(row[0]), int(row[1])
            for alias in {article.url, requested_url}:
                db.execute("INSERT OR IGNORE INTO url_aliases VALUES (?, ?)", (alias, article_id))
            if current and not rebuilding:  # (a rebuild requests nothing: it checks no article)
                db.execute("UPDATE articles SET last_checked = ? WHERE id = ?", (when, article_id))
            if current:
                latest = db.execute(
                    "SELECT content_hash, raw_page_id FROM revisions WHERE article_id = ? AND version = ?",
                    (article_id, current),
                ).fetchone()
                if latest and latest[0] == digest:
                    if rebuilding and latest[1] == raw_page_id:  # same content, but say which extractor now produces it
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
                db.execute("UPDATE articles SET current_version = ? WHERE id = ?", (current + 1, article_id))
            db.execute(
                "INSERT INTO revisions (article_id, version, content_hash, retrieved_at, title, published, news_type, "
                "topics, summary, body_html, extractor, raw_page_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (article_id, current + 1, digest, when, *values, raw_page_id),
            )
        return "updated" if current else "new"

    def versions(self, article_ids: Iterable[int]) -> dict[int, list[Version]]:
        """Every stored version of each named article, oldest first."""
        found: dict[int, list[Version]] = {}
        for chunk in chunks(article_ids):
            rows = self._db.execute(
                "SELECT r.article_id, r.version, r.retrieved_at, a.url, r.title, r.published, r.news_type, r.topics, "
                "r.summary, r.body_html, a.timezone FROM revisions r JOIN articles a ON a.id = r.article_id "
                f"WHERE r.article_id IN ({marks(chunk)}) ORDER BY r.article_id, r.version",
                chunk,
            )
            for article_id, number, retrieved, *content in rows:
                retrieved_at = stored(utc_moment, retrieved, "revisions.retrieved_at", content[0])
                version = Version(int(number), retrieved_at, stored_content(*content))
                found.setdefault(int(article_id), []).append(version)
        return found

    def revisit_candidates(
        self, source_id: str, now: datetime, bands: Sequence[tuple[float, float, float]]
    ) -> Iterator[tuple[str, datetime, datetime, bool]]:
        """(url, published, last checked, withdrawn) of the source's articles that may be due for a check,
        read as they are asked for (a large archive is never held whole); read them all before writing.
        `bands` are (age from, age to, every) in seconds at `now`, a withdrawn article's age infinite:
        the articles of a band not checked for its `every`, give or take a second (the caller decides
        exactly). Each band is looked up by an index (migration 10): a band of young articles by the date
        published, the oldest band by the last check, so that a run reads the articles of the last year
        and those due, not every article of the source (at 50,000 articles, on every run)."""
        age = "(CASE WHEN a.withdrawn_at IS NULL THEN :now - CAST(strftime('%s', r.published) AS INTEGER) END)"
        checked = "CAST(strftime('%s', a.last_checked) AS INTEGER)"
        values: dict[str, object] = {"source": source_id, "now": int(now.timestamp())}
        selects: list[str] = []
        for n, (low, high, every) in enumerate(bands):
            band = [f"{checked} <= :now - :every{n} + 1"]
            if low > -math.inf:  # (a withdrawn article's age, NULL here, is above every bound)
                band.append(f"({age} IS NULL OR {age} >= :low{n} - 1)")
            if high < math.inf:
                # Read from the index of dates published (CROSS JOIN: revisions first), from the band's
                # earliest calendar date, two days early: a date is stored in its source's time zone.
                joined = "revisions r CROSS JOIN articles a ON a.id = r.article_id AND r.version = a.current_version"
                band += [f"{age} < :high{n} + 1", f"r.published >= :since{n}"]
                values[f"since{n}"] = _shifted(now, -high - 2 * DAY)[:10]
            else:  # read from the index of last checks (stored as iso() writes them, in UTC)
                joined = CURRENT
                band.append(f"a.last_checked <= :until{n}")
                values[f"until{n}"] = _shifted(now, 2 - every)
            values |= {f"low{n}": low, f"high{n}": high, f"every{n}": every}
            selects.append(
                f"SELECT a.id, a.url, r.published, a.last_checked, a.withdrawn_at IS NOT NULL FROM {joined} "
                f"WHERE a.source_id = :source AND a.kind = 'article' AND {' AND '.join(band)}"
            )
        if not selects:
            return
        rows = self._db.execute(" UNION ".join(selects) + " ORDER BY 1", values)  # (a boundary may be in two)
        for _, url, published, checked_at, withdrawn in rows:
            last = stored(utc_moment, checked_at, "articles.last_checked", url)
            yield url, stored(moment, published, "revisions.published", url), last, bool(withdrawn)

    def first_published(self, url: str) -> datetime | None:
        """The date the article of `url` was first stored with (a watched page keeps it: a change of
        its text is a new version of the page, not a new page)."""
        row = self._db.execute(
            "SELECT r.published, a.timezone FROM articles a JOIN revisions r ON r.article_id = a.id AND r.version = 1 "
            "WHERE a.url = ?",
            (url,),
        ).fetchone()
        if row is None:
            return None
        return stored(moment, row[0], "revisions.published", url).astimezone(
            stored(ZoneInfo, row[1], "articles.timezone", url)
        )

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
                # A check of a withdrawn article: its slow revisit pace counts from here. (A first miss
                # is not one: the article stays due, so the second 404 comes after removal_grace.)
                db.execute("UPDATE articles SET last_checked = ? WHERE id = ?", (iso(when), article_id))
                return "already-withdrawn"
            if missing_since is None:
                db.execute("UPDATE articles SET missing_since = ? WHERE id = ?", (iso(when), article_id))
                return "noted"
            if (
                when - stored(utc_moment, missing_since, "articles.missing_since", url)
            ).total_seconds() < grace_seconds:
                return "noted"
            db.execute(
                "UPDATE articles SET withdrawn_at = ?, last_checked = ? WHERE id = ?",
                (iso(when), iso(when), article_id),
            )
            return "withdrawn"

    def record_present(self, url: str) -> bool:
        """The source served the article again: forget any missing mark. True when it had been withdrawn."""
        row = self._db.execute(
            "SELECT a.id, a.withdrawn_at FROM articles a JOIN url_aliases u ON u.article_id = a.id "
            "WHERE u.url = ? AND (a.withdrawn_at IS NOT NULL OR a.missing_since IS NOT NULL)",
            (url,),
        ).fetchone()
        if row is None:
            return False  # the usual case, nothing to forget: no write, and no transaction for it
        with self.transaction() as db:  # (only the run that holds the store's lock writes to it)
            db.execute("UPDATE articles SET missing_since = NULL, withdrawn_at = NULL WHERE id = ?", (row[0],))
        return row[1] is not None

    def catalogue(self, state_dir: Path | None) -> Catalogue:
        """Publishing's index of this store, kept in state_dir (None: in memory, for a dry run).
        Close it before opening another on the same store."""
        return Catalogue(self._db, state_dir)

    def article_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM articles").fetchone()[0])

    def bodies(self, article_ids: Iterable[int]) -> dict[int, str]:
        """The current body of each named article."""
        found: dict[int, str] = {}
        for chunk in chunks(article_ids):
            rows = self._db.execute(
                f"SELECT a.id, r.body_html FROM {CURRENT} WHERE a.id IN ({marks(chunk)})",
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
