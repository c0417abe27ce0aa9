"""The archive's search index, split so that a query downloads what it matches, not the archive:

- `search/terms/<ab>.json`: every word beginning with "ab" (a one-letter word: its own file), each with
  its posting (the catalogue's encoding: the articles that have it, newest first) in pages of PAGE
  entries counted from its oldest, each followed by a newer entry: under "w", its open part (its 1 to
  PAGE entries newer than its full pages: all of them, for a word of PAGE articles or fewer), and under
  "p", for a word that has full pages, how many (its article count is PAGE times that, and its open
  part's);
- `search/postings/<word>.<n>.txt`: its full page n (from 1, the oldest), fetched only by a query that
  matches that word (and by a query of that word alone only as far as its newest 100 articles): the open
  part and the pages, newest first, join into the posting;
- `search/articles/<n>.json`: what a result shows (title, address, date, type, summary) of the articles
  whose ids are n * GROUP to n * GROUP + GROUP - 1, fetched for the results a query shows.

A new article changes the shards of its words and its group, and a page it completes (once, for good:
a page is written again only when an article in it changes or goes); nothing else."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence

from pipeline.dom import html_text
from pipeline.model import Article
from pipeline.publish.entries import Entry, nz_date

GROUP = 16  # articles per file of results
# Entries of a posting's page: a word's open part, in its shard, is at most a page (about 0.6 KB of an
# article in ten; twice that for a rarer word), and a query of every word's pages downloads a file per
# PAGE articles of each. The catalogue keeps each posting's page ends: a new PAGE needs a new catalogue
# SCHEMA_VERSION (pipeline/store/catalogue.py), which finds them anew.
PAGE = 256
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


def page_path(term: str, page: int) -> str:
    """The file of a posting's full page `page` (from 1, the oldest)."""
    return f"{POSTINGS}{term}.{page}.txt"


def group_path(group: int) -> str:
    return f"search/articles/{group}.json"


def _json(value: object) -> bytes:
    return (json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n").encode("utf-8")


def render_shard(rows: Sequence[tuple[str, int, str]]) -> bytes:
    """One shard: {"w": {word: its open part}, "p": {word: its full pages, when it has some}}, of the
    catalogue's (word, full pages, open part)."""
    return _json(
        {"w": {term: posting for term, _, posting in rows}, "p": {term: pages for term, pages, _ in rows if pages}}
    )


def render_page(text: str) -> bytes:
    return text.encode("ascii") + b"\n"


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
