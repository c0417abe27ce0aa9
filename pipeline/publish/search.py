"""The archive's search index, split so that a query downloads what it matches, not the archive:

- `search/terms/<ab>.json`: every word beginning with "ab" (a one-letter word: its own file), each with
  its posting (the catalogue's encoding: the articles that have it, newest first), whose older entries
  leave the shard for files of their own a page (PAGE entries, counted from the oldest) at a time: under
  "w", its newest entries, after its full pages (1 to PAGE of them: all, for a word of PAGE articles or
  fewer), and under "f", for a word that has full pages, how many entries they hold (its article count
  is that and its newest entries');
- `search/postings/<word>.<n>.txt`: its full pages, FILE entries a file counted from its oldest (n from
  1, the oldest; the newest file fewer when "f" is not a multiple of FILE), fetched only by a query that
  matches that word (by a query of that word alone, only as far as its newest 100 articles): the
  shard's entries and the files, newest first, join into the posting;
- `search/articles/<n>.json`: what a result shows (title, address, date, type, summary) of the articles
  whose ids are n * GROUP to n * GROUP + GROUP - 1, fetched for the results a query shows.

A new article changes the shards of its words and its group, and the newest file of a word whose page
it completes (once in PAGE of its articles); nothing else, however large the archive."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence

from pipeline.dom import html_text
from pipeline.model import Article
from pipeline.publish.entries import Entry, nz_date

GROUP = 16  # articles per file of results
# Entries of a posting's page: a word's part of its shard is its newest 1 to PAGE entries (up to 0.6
# KB, more for a rare word), and its newest file is rewritten once in PAGE of its articles. The
# catalogue keeps each posting's page ends: a new PAGE or FILE needs a new catalogue SCHEMA_VERSION
# (pipeline/store/catalogue.py), which makes them and every file anew.
PAGE = 256
# Entries of a posting's file (about 5 KB; a multiple of PAGE): a query of every article of a word
# downloads one per FILE.
FILE = 2048
# Each ASCII byte as search_words reads it: a letter in lower case, a digit as it is, anything else a space.
WORD_BYTES = bytes(
    ord(char.lower()) if char.isascii() and char.isalnum() else ord(" ") for char in map(chr, range(256))
)


def search_words(article: Article, body_text: str | None = None) -> str:
    """The distinct lower-case ASCII words of everything searchable about an article, in first-seen
    order (the search script folds accents the same way, so "Māori" finds "maori"). `body_text`: its
    body's html_text, when the caller has it already."""
    if body_text is None:
        body_text = html_text(article.body_html)
    text = " ".join((article.title, article.summary, " ".join(article.topics), article.news_type or "", body_text))
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").translate(WORD_BYTES).decode("ascii")
    return " ".join(dict.fromkeys(folded.split()))


def shard_path(shard: str) -> str:
    return f"search/terms/{shard}.json"


POSTINGS = "search/postings/"


def file_path(term: str, number: int) -> str:
    """A word's posting file `number` (from 1, the oldest)."""
    return f"{POSTINGS}{term}.{number}.txt"


def first_page(page: int) -> int:
    """The first page (from 1, the oldest) of the file that holds page `page`."""
    return page - (page - 1) % (FILE // PAGE)


def files_of(pages: int) -> int:
    """How many files hold a word's `pages` full pages."""
    return -(-pages // (FILE // PAGE))


def posting_files(term: str, pages: Sequence[tuple[int, str]]) -> dict[str, bytes]:
    """The files of a word's full `pages` (number, text), oldest first, from the first of a file on."""
    files: dict[int, list[str]] = {}
    for number, text in pages:
        files.setdefault((number - 1) // (FILE // PAGE) + 1, []).append(text)
    return {
        file_path(term, number): "".join(reversed(texts)).encode("ascii") + b"\n" for number, texts in files.items()
    }


def group_path(group: int) -> str:
    return f"search/articles/{group}.json"


def _json(value: object) -> bytes:
    return (json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n").encode("utf-8")


def render_shard(rows: Sequence[tuple[str, int, str]]) -> bytes:
    """One shard: {"w": {word: its newest entries}, "f": {word: the entries in its files, if any}}, of
    the catalogue's (word, full pages, newest entries)."""
    return _json(
        {"w": {term: text for term, _, text in rows}, "f": {term: pages * PAGE for term, pages, _ in rows if pages}}
    )


def render_group(entries: Sequence[Entry]) -> bytes:
    """What the results show of a group's articles, by article id."""
    return _json(
        {
            "a": {
                str(entry.stored.id): {
                    "t": entry.stored.article.title,
                    "u": entry.archive_path + "index.html",
                    "d": nz_date(entry.stored.article.published, entry.source.timezone),
                    "k": entry.stored.article.news_type or "",
                    "s": entry.stored.article.summary,
                }
                for entry in entries
            }
        }
    )
