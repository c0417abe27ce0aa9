"""Raw pages (compressed, once per distinct body) and the HTTP validators of every URL fetched."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, cast

from pipeline.feed_item import FeedItem
from pipeline.model import Page
from pipeline.store.database import Database, iso
from pipeline.store.rows import CURRENT, chunks, marks, moment, stored, text_map, texts, utc_moment

# Raw pages are zlib streams made by ISA-L (the standard library reads them too, and the stores written
# before it). Its level 1 on the site's pages (the captures, 15 KB a page): 39 µs and 4.5 KB a page, where
# zlib's level 3 took 187 µs for 4.4 KB; on a 50,000-URL sitemap, kept each time it changes: 4 ms, not 20.
RAW_PAGE_LEVEL = 1
MAX_SIZE_HINT = 64 * 1024 * 1024  # above the largest body fetched (a sitemap's 50 MB): a damaged size allocates no more
DOCUMENT = (
    "SELECT {} FROM " + CURRENT + " JOIN raw_pages p ON p.id = r.raw_page_id WHERE a.id = ? AND r.extractor = 'pdf'"
)


class PageStore(Database):
    def validators(self, url: str) -> tuple[str | None, str | None] | None:
        row = self._db.execute("SELECT etag, last_modified FROM http_cache WHERE url = ?", (url,)).fetchone()
        return (row[0], row[1]) if row else None

    def cached_body(self, url: str) -> bytes | None:
        row = self._db.execute(
            "SELECT raw_pages.body, raw_pages.size FROM http_cache JOIN raw_pages ON raw_pages.id = http_cache.raw_page_id "
            "WHERE http_cache.url = ?",
            (url,),
        ).fetchone()
        return _decompressed(row[0], row[1]) if row else None  # a copy that cannot be read is fetched afresh

    def remember_response(self, page: Page) -> int:
        """Keep the raw bytes (once per distinct body, compressed) and the page's validators."""
        with self.transaction() as db:
            return remember_in(db, page)

    def checked_times(self, urls: Sequence[str]) -> dict[str, datetime]:
        """When each of `urls` was last checked (those never checked are left out), in one query a chunk."""
        found: dict[str, datetime] = {}
        for chunk in chunks(urls):
            rows = self._db.execute(f"SELECT url, checked_at FROM http_cache WHERE url IN ({marks(chunk)})", chunk)
            found.update((str(url), stored(utc_moment, checked, "http_cache.checked_at", url)) for url, checked in rows)
        return found

    def mark_checked(self, url: str, when: datetime) -> None:
        with self.transaction() as db:
            _mark_checked(db, url, when)

    def recall_read(self, url: str, reader: str) -> dict[str, Any] | None:
        """What `reader` found in the stored body of `url` (remember_read), or None when it has not read
        that very body."""
        row = self._db.execute(
            "SELECT d.found FROM discovery_reads d JOIN http_cache c ON c.url = d.url JOIN raw_pages r "
            "ON r.id = c.raw_page_id AND r.sha256 = d.sha256 WHERE d.url = ? AND d.reader = ?",
            (url, reader),
        ).fetchone()
        return _found(row[0]) if row else None

    def previous_read(self, url: str, reader: str, *, body_for: str) -> tuple[dict[str, Any], bytes | None] | None:
        """What `reader` found in the last body of `url` it read, whatever body is stored now, or None if
        it never read one; and, when what it found holds `body_for`, that body (kept until a read of
        another replaces it: see remember_in)."""
        row = self._db.execute(
            "SELECT found, sha256 FROM discovery_reads WHERE url = ? AND reader = ?", (url, reader)
        ).fetchone()
        found = _found(row[0]) if row else None
        if found is None or body_for not in found:
            return None if found is None else (found, None)
        body = self._db.execute("SELECT body, size FROM raw_pages WHERE sha256 = ?", (row[1],)).fetchone()
        return found, None if body is None else _decompressed(body[0], body[1])

    def remember_read(self, url: str, reader: str, found: dict[str, Any]) -> None:
        """Keep what `reader` found in the stored body of `url` (plain JSON data); the body its last read
        was made of goes, unless something else cites it."""
        with self.transaction() as db:
            before = db.execute("SELECT sha256 FROM discovery_reads WHERE url = ?", (url,)).fetchone()
            db.execute(
                "INSERT OR REPLACE INTO discovery_reads (url, sha256, reader, found) SELECT c.url, r.sha256, ?, ? "
                "FROM http_cache c JOIN raw_pages r ON r.id = c.raw_page_id WHERE c.url = ?",
                (reader, json.dumps(found, sort_keys=True), url),
            )
            if before is not None:
                _drop_uncited(db, "sha256 = ?", before[0])

    def confirm_unchanged(self, url: str, when: datetime) -> None:
        """`url` answered 304 and is not read again: checked now, and the alerts its last read showed are
        still shown (seen now, as a read of the same body would have them)."""
        with self.transaction() as db:
            db.execute(
                "UPDATE alerts SET last_seen = ? WHERE page_url = ? AND last_seen != '' "
                "AND last_seen >= (SELECT checked_at FROM http_cache WHERE url = ?)",
                (iso(when), url, url),
            )
            _mark_checked(db, url, when)

    def stored_responses(self, batch: int = 200) -> Iterator[tuple[str, Page | None]]:
        """The latest stored answer for every URL fetched so far (what `rebuild` re-extracts), in URL
        order; None for an answer whose stored body is damaged (it no longer decompresses). Read a
        batch at a time, so memory holds a batch, not the archive, and the caller may write between."""
        after = ""
        while True:
            rows = self._db.execute(
                "SELECT c.url, r.url, r.status, r.headers, r.body, r.fetched_at FROM http_cache c "
                "JOIN raw_pages r ON r.id = c.raw_page_id WHERE c.url > ? ORDER BY c.url LIMIT ?",
                (after, batch),
            ).fetchall()
            for url, final, status, headers, kept, fetched in rows:
                body = _decompressed(kept)
                if body is None:
                    yield url, None
                    continue
                when = stored(utc_moment, fetched, "raw_pages.fetched_at", final)
                yield url, Page(url, final, status, stored(text_map, headers, "raw_pages.headers", final), body, when)
            if len(rows) < batch:
                return
            after = rows[-1][0]

    def document_size(self, article_id: int) -> int | None:
        """The size of the PDF the article's current version was read from (None: not a PDF, or not kept)."""
        row = self._db.execute(DOCUMENT.format("p.size"), (article_id,)).fetchone()
        return int(row[0]) if row else None

    def document(self, article_id: int) -> bytes | None:
        """The PDF the article's current version was read from, as fetched; None when it cannot be read."""
        row = self._db.execute(DOCUMENT.format("p.body"), (article_id,)).fetchone()
        return _decompressed(row[0]) if row else None

    def remember_feed_item(self, item: FeedItem) -> None:
        published = item.published.isoformat() if item.published else None
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO feed_items (url, title, published, summary, categories) VALUES (?, ?, ?, ?, ?)",
                (item.url, item.title, published, item.summary, json.dumps(list(item.categories), ensure_ascii=False)),
            )

    def feed_item(self, url: str) -> FeedItem | None:
        """What a feed last said of `url` when its page was read, or None."""
        row = self._db.execute(
            "SELECT title, published, summary, categories FROM feed_items WHERE url = ?", (url,)
        ).fetchone()
        if row is None:
            return None
        published = stored(moment, row[1], "feed_items.published", url) if row[1] else None
        return FeedItem(url, row[0], published, row[2], stored(texts, row[3], "feed_items.categories", url))

    def raw_page_id(self, url: str) -> int | None:
        row = self._db.execute("SELECT raw_page_id FROM http_cache WHERE url = ?", (url,)).fetchone()
        return int(row[0]) if row and row[0] is not None else None


def _mark_checked(db: sqlite3.Connection, url: str, when: datetime) -> None:
    db.execute("UPDATE http_cache SET checked_at = ? WHERE url = ?", (iso(when), url))
    db.execute(
        "UPDATE articles SET last_checked = ? WHERE id = (SELECT article_id FROM url_aliases WHERE url = ?)",
        (iso(when), url),
    )


def remember_in(db: sqlite3.Connection, page: Page) -> int:
    """remember_response within the caller's transaction: the raw page's id."""
    digest = hashlib.sha256(page.body).hexdigest()
    previous = db.execute("SELECT raw_page_id FROM http_cache WHERE url = ?", (page.url,)).fetchone()
    row = db.execute("SELECT id, body FROM raw_pages WHERE sha256 = ?", (digest,)).fetchone()
    if row:
        raw_id = int(row[0])
        if _decompressed(row[1]) is None:  # its stored copy was damaged: the digest proves these are its bytes
            db.execute("UPDATE raw_pages SET body = ? WHERE id = ?", (_compressed(page.body), raw_id))
    else:
        cursor = db.execute(
            "INSERT INTO raw_pages (sha256, url, fetched_at, status, headers, size, body) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                digest,
                page.final_url,
                iso(page.fetched_at),
                page.status,
                json.dumps(dict(page.headers), sort_keys=True),
                len(page.body),
                _compressed(page.body),
            ),
        )
        raw_id = int(cursor.lastrowid or 0)
    db.execute(
        "INSERT INTO http_cache (url, etag, last_modified, raw_page_id, checked_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified, "
        "raw_page_id = excluded.raw_page_id, checked_at = excluded.checked_at",
        (page.url, page.etag, page.last_modified, raw_id, iso(page.fetched_at)),
    )
    if previous and previous[0] is not None and previous[0] != raw_id:
        # A superseded copy is only a cache entry, unless an article version cites it, or a discovery
        # read was made of it (the next read of a changed sitemap is compared with it): dropped, so a
        # page that changes on every visit (a home page) does not grow the store without bound.
        _drop_uncited(db, "id = ?", previous[0])
    return raw_id


def _drop_uncited(db: sqlite3.Connection, which: str, value: object) -> None:
    """Delete the raw page `which` names if no article version, URL or discovery read cites it."""
    db.execute(
        f"DELETE FROM raw_pages WHERE {which} AND NOT EXISTS (SELECT 1 FROM revisions v WHERE v.raw_page_id = raw_pages.id) "
        "AND NOT EXISTS (SELECT 1 FROM http_cache c WHERE c.raw_page_id = raw_pages.id) "
        "AND NOT EXISTS (SELECT 1 FROM discovery_reads d WHERE d.sha256 = raw_pages.sha256)",
        (value,),
    )


def _found(text: str) -> dict[str, Any] | None:
    """What a read found, or None when it is damaged (edited by hand, on disk): the page is read again."""
    try:
        found = json.loads(text)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def _compressed(body: bytes) -> bytes:
    from isal import isal_zlib  # (here: `status` reads and keeps no page)

    return isal_zlib.compress(body, RAW_PAGE_LEVEL)


def _decompressed(stored: bytes, size: object = None) -> bytes | None:
    """A raw page's body, or None when its stored bytes are damaged: SQLite keeps no checksum of a
    value's content, so damage inside one body passes its checks and shows only here. `size`, the
    recorded size, sizes the buffer: a body of megabytes is not grown into (copied, its memory
    faulted in twice: 4 ms for a sitemap of 8 MB); a size out of bounds is no more than a hint."""
    from isal import isal_zlib

    hint = size if isinstance(size, int) and 0 < size <= MAX_SIZE_HINT else isal_zlib.DEF_BUF_SIZE
    try:
        return isal_zlib.decompress(stored, bufsize=hint)
    except cast("type[Exception]", isal_zlib.error):  # (the library's stub calls the class an instance)
        return None
