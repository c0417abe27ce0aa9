"""The archive's search index, split so that a query downloads what it matches, not the archive:

- `search/terms/<ab>.json`: every word beginning with "ab" (a one-letter word: its own file), each with
  its posting (the catalogue's encoding: the articles that have it, newest first), or, when the posting
  is longer than OWN_FILE characters, only its article count: its posting is then in files of its own,
  fetched only by a query that matches that word: its pages of PAGE entries counted from its oldest,
  `search/postings/<word>.<n>.txt` (n from 1, the oldest; the count says how many there are), and
  the newest entries after them, `search/postings/<word>.txt`; the files, newest first, join into the
  posting;
- `search/articles/<n>.json`: what a result shows (title, address, date, type, summary) of the articles
  whose ids are n * GROUP to n * GROUP + GROUP - 1, fetched for the results a query shows.

A new article changes the files of its words and its group, nothing else: of a long posting, its
newest file (and a page it completes)."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence

from pipeline.dom import html_text
from pipeline.model import Article
from pipeline.publish.entries import Entry, nz_date

OWN_FILE = 1024  # characters of posting (about 400 articles) past which a word's posting is a file of its own
GROUP = 16  # articles per file of results
# Entries of a page of a long posting (about 5 KB): at 50,000 articles, a new article's words rewrote
# 11 MB of postings as whole files, and 0.3 MB as pages. The catalogue keeps each posting's page ends:
# a new PAGE needs a new catalogue SCHEMA_VERSION (pipeline/store/catalogue.py), which finds them anew.
PAGE = 2048
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


def posting_path(term: str, page: int = 0) -> str:
    """The file of a long posting's page `page` (from 1, the oldest), or of its newest entries (0)."""
    return f"{POSTINGS}{term}.{page}.txt" if page else f"{POSTINGS}{term}.txt"


def posting_files(term: str, posting: str, pages: Sequence[str], first: int) -> dict[str, bytes]:
    """A long posting's files: its newest entries, and its full `pages` from page `first` on (as
    the catalogue's search_posting gives them: the posting begins with its newest entries, then those
    pages, newest first)."""
    newest = posting[: len(posting) - sum(map(len, pages))]
    files = {posting_path(term): render_posting(newest)}
    for page, text in enumerate(pages, start=first):
        files[posting_path(term, page)] = render_posting(text)
    return files


def group_path(group: int) -> str:
    return f"search/articles/{group}.json"


def _json(value: object) -> bytes:
    return (json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n").encode("utf-8")


def render_shard(rows: Sequence[tuple[str, int, str | None]]) -> bytes:
    """One shard: {"w": {word: posting, or its article count when the posting has a file of its own}}."""
    return _json({"w": {term: size if posting is None else posting for term, size, posting in rows}})


def render_posting(posting: str) -> bytes:
    return posting.encode("ascii") + b"\n"


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
