"""The archive search's index, kept in publishing's catalogue: for each word, its posting (the articles
that have it, newest first, as pipeline/store/posting_text.py encodes them), kept in full pages and the
newest entries after them (its open part), so that a new article rewrites its words' open parts alone."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import date

from pipeline.batching import batched
from pipeline.store.posting_text import Entry, Run, add, decode, encode, first_entry, page_ends, run_of
from pipeline.store.rows import CHUNK, chunks, marks

LONGEST_TERM = 40  # letters of a word that are indexed: a longer one is found by its first 40
PENDING_CHARS = 4_000_000  # of new entries held back before they are written (a first publication's)

SCHEMA = (
    # What each article's postings were made from: its day and its terms (to take it out of them).
    "CREATE TABLE IF NOT EXISTS pub.search_docs (article_id INTEGER PRIMARY KEY, day INTEGER NOT NULL, "
    "terms TEXT NOT NULL)",
    # `shard`: the file the term is listed in (its first two letters); `posting`: its open part, the
    # entries newer than its full pages (all of them, when it has none); `tail`: its oldest entry;
    # `pages`: where its full pages end (see page_ends), space-separated.
    "CREATE TABLE IF NOT EXISTS pub.search_terms (term TEXT PRIMARY KEY, shard TEXT NOT NULL, "
    "posting TEXT NOT NULL, tail_day INTEGER NOT NULL, tail_id INTEGER NOT NULL, pages TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS pub.search_terms_by_shard ON search_terms (shard, term)",
    # Each full page's text (page 1 the oldest), a row of its own: a new article rewrites the open parts
    # of its words' postings, not the whole postings (at 50,000 articles, 11 MB a sync).
    "CREATE TABLE IF NOT EXISTS pub.search_pages (term TEXT NOT NULL, page INTEGER NOT NULL, text TEXT NOT NULL, "
    "PRIMARY KEY (term, page)) WITHOUT ROWID",
)
TABLES = ("search_docs", "search_terms", "search_pages")


def shard_of(term: str) -> str:
    return term[:2]


def terms_of(words: str) -> list[str]:
    """The distinct indexed terms of an article's search words (each cut at LONGEST_TERM letters)."""
    split = words.split()
    if max(map(len, split), default=0) > LONGEST_TERM:
        return list(dict.fromkeys(word[:LONGEST_TERM] for word in split))
    return list(dict.fromkeys(split))  # (most articles: no word to cut)


def day_of(sort_key: str) -> int:
    """The day of a catalogue sort key (it begins with the published date in UTC, as YYYY-MM-DD),
    counted from 1 January of year 1, so that no date makes it negative."""
    return date.fromisoformat(sort_key[:10]).toordinal()


class SearchPostings:
    """The catalogue's search index (mixed into the Catalogue, over its connection)."""

    _db: sqlite3.Connection

    _writing: Callable[[], AbstractContextManager[sqlite3.Connection]]
    _page = 0  # entries of a posting's page (see page_ends), during update_search

    def update_search(self, ids: Sequence[int], page: int) -> dict[str, int]:
        """Bring the postings up to date for the articles `ids` (as the catalogue now lists them: an
        article listed nowhere has no terms), newest first, in pages of `page` entries; return the terms
        whose postings changed, each with the first of its pages (from 1, the oldest) that may have."""
        db = self._db
        self._page, changed = page, dict[str, int]()
        now: dict[int, int] = {}
        before: dict[int, int] = {}
        for chunk in chunks(ids):
            rows = db.execute(
                f"SELECT article_id, sort_key FROM pub.members WHERE collection = '' AND article_id IN ({marks(chunk)})",
                chunk,
            )
            now.update((int(article_id), day_of(str(key))) for article_id, key in rows)
            rows = db.execute(
                f"SELECT article_id, day FROM pub.search_docs WHERE article_id IN ({marks(chunk)})", chunk
            )
            before.update((int(article_id), int(day)) for article_id, day in rows)
        order = sorted(
            now.keys() | before.keys(), key=lambda item: (now.get(item, before.get(item)), item), reverse=True
        )
        pending: dict[str, Run] = {}
        # One transaction: a publication killed half-way leaves the postings as they were, with the
        # articles they were made from. New entries wait in `pending`, so that a first publication
        # writes each long posting a few times, not once per chunk of articles.
        with self._writing():
            for chunk in batched(order, CHUNK):
                self._update_chunk(chunk, now, pending, changed)
                if sum(len(run.text) for run in pending.values()) > PENDING_CHARS:
                    self._flush(pending, changed)
            self._flush(pending, changed)
        return changed

    def _flush(self, pending: dict[str, Run], changed: dict[str, int]) -> None:
        for term in sorted(pending):
            self._apply(term, set(), pending.pop(term), changed)

    def _update_chunk(
        self, chunk: Sequence[int], now: dict[int, int], pending: dict[str, Run], changed: dict[str, int]
    ) -> None:
        db = self._db
        old = {
            int(article_id): (int(day), str(terms).split())
            for article_id, day, terms in db.execute(
                f"SELECT article_id, day, terms FROM pub.search_docs WHERE article_id IN ({marks(chunk)})", chunk
            )
        }
        words = {
            int(article_id): terms_of(str(text))
            for article_id, text in db.execute(
                f"SELECT article_id, words FROM pub.entries WHERE article_id IN ({marks(chunk)})", chunk
            )
        }
        removals: dict[str, set[int]] = {}
        additions: defaultdict[str, list[Entry]] = defaultdict(list)
        for article_id in chunk:  # newest first, so each term's additions are in posting order
            day, terms = old.get(article_id, (None, []))
            new_terms = words.get(article_id, []) if article_id in now else []
            kept = set(terms) & set(new_terms) if day == now.get(article_id) else set()
            for term in terms:
                if term not in kept:
                    removals.setdefault(term, set()).add(article_id)
            if new_terms:
                entry = (now[article_id], article_id)
                # (A first publication's articles keep no terms: hundreds of tests an article spared.)
                for term in [term for term in new_terms if term not in kept] if kept else new_terms:
                    additions[term].append(entry)
        for term in sorted(removals):
            self._apply(term, removals[term], None, changed)
        for term, entries in additions.items():
            if (run := pending.get(term)) and entries[0] < run.last:
                run.extend(entries)
                continue
            if run:
                self._apply(term, set(), pending.pop(term), changed)
            pending[term] = run_of(entries)
        db.execute(f"DELETE FROM pub.search_docs WHERE article_id IN ({marks(chunk)})", chunk)
        db.executemany(
            "INSERT INTO pub.search_docs VALUES (?, ?, ?)",
            (
                (article_id, now[article_id], " ".join(words.get(article_id, [])))
                for article_id in chunk
                if article_id in now
            ),
        )

    def _apply(self, term: str, removed: set[int], run: Run | None, changed: dict[str, int]) -> None:
        db = self._db
        row = db.execute(
            "SELECT posting, tail_day, tail_id, pages FROM pub.search_terms WHERE term = ?", (term,)
        ).fetchone()
        posting, tail = (str(row[0]), (int(row[1]), int(row[2]))) if row else ("", None)
        # Entries newer than all it has leave its full pages as they are (each is differences from the
        # entry after it): only its open part is read and made anew (at most a page, whatever the size of
        # the archive). Anything else (an older article, one taken out) makes the whole posting anew.
        kept = [int(end) for end in str(row[3]).split()] if row else []
        if run is None or (posting and run.last < first_entry(posting)[0]):
            kept, posting = [], self.search_posting(term)
        first, offset = len(kept) + 1, kept[-1] if kept else 0  # (the kept pages' characters, at the end)
        if removed and posting:
            entries = [entry for entry in decode(posting) if entry[1] not in removed]
            posting, tail = encode(entries), (entries[-1] if entries else None)
        if run:
            posting, tail = add(posting, tail, run)
        changed[term] = min(changed.get(term, first), first)
        db.execute("DELETE FROM pub.search_pages WHERE term = ? AND page >= ?", (term, first))
        if tail is None:
            db.execute("DELETE FROM pub.search_terms WHERE term = ?", (term,))
            return
        ends = kept + [offset + end for end in page_ends(posting, self._page)]
        # In characters from the whole posting's end (page n is starts[n-1]..ends[n-1]): `posting` is all
        # but its last `offset`, so the slices below, which end before those, are the same.
        length, starts = offset + len(posting), [0, *ends]
        db.execute(
            "INSERT OR REPLACE INTO pub.search_terms VALUES (?, ?, ?, ?, ?, ?)",
            (term, shard_of(term), posting[: length - starts[-1]], *tail, " ".join(map(str, ends))),
        )
        db.executemany(
            "INSERT INTO pub.search_pages VALUES (?, ?, ?)",
            ((term, n, posting[length - ends[n - 1] : length - starts[n - 1]]) for n in range(first, len(ends) + 1)),
        )

    def search_shards(self) -> list[str]:
        return [str(row[0]) for row in self._db.execute("SELECT DISTINCT shard FROM pub.search_terms ORDER BY 1")]

    def shard_holds_terms(self, shard: str) -> bool:
        return (
            self._db.execute("SELECT 1 FROM pub.search_terms WHERE shard = ? LIMIT 1", (shard,)).fetchone() is not None
        )

    def search_shard(self, shard: str) -> list[tuple[str, int, str]]:
        """(term, full pages, open part) of every term listed in `shard`, by term."""
        rows = self._db.execute(
            "SELECT term, pages, posting FROM pub.search_terms WHERE shard = ? ORDER BY term", (shard,)
        )
        # (At 50,000 articles a new one's words touch nearly every shard: 50,000 rows, each counted in C.)
        return [(term, pages.count(" ") + 1 if pages else 0, posting) for term, pages, posting in rows]

    def search_pages(self, term: str, since: int = 1) -> list[tuple[int, str]]:
        """A term's full pages from page `since` on (from 1, the oldest): (page, text), oldest first."""
        rows = self._db.execute(
            "SELECT page, text FROM pub.search_pages WHERE term = ? AND page >= ? ORDER BY page", (term, since)
        )
        return [(int(page), str(text)) for page, text in rows]

    def search_posting(self, term: str) -> str:
        """A term's whole posting: its open part, then its pages, newest first."""
        row = self._db.execute("SELECT posting FROM pub.search_terms WHERE term = ?", (term,)).fetchone()
        pages = [text for _, text in reversed(self.search_pages(term))] if row else []
        return "".join([str(row[0]), *pages]) if row else ""

    def search_files_of(self, term: str, folder: str) -> list[str]:
        """The recorded files of `folder` named after `term` (its pages': `term`.1.txt, `term`.2.txt...)."""
        low = f"{folder}{term}."
        rows = self._db.execute("SELECT path FROM pub.files WHERE path >= ? AND path < ?", (low, low[:-1] + "/"))
        return [str(row[0]) for row in rows]

    def page_counts(self, terms: Sequence[str]) -> dict[str, int]:
        """How many full pages each term's posting has (a term no article has: none listed)."""
        found: dict[str, int] = {}
        for chunk in chunks(terms):
            rows = self._db.execute(f"SELECT term, pages FROM pub.search_terms WHERE term IN ({marks(chunk)})", chunk)
            found.update((str(term), len(str(pages).split())) for term, pages in rows)
        return found

    def paged_terms(self) -> list[str]:
        """The terms whose postings have full pages."""
        return [
            str(row[0]) for row in self._db.execute("SELECT term FROM pub.search_terms WHERE pages != '' ORDER BY 1")
        ]
