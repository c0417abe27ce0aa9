"""The archive's search index, split so that a query downloads what it matches, not the archive:

- `search/terms/<ab>.json`: every word beginning with "ab" (a one-letter word: its own file), each with
  its posting (the catalogue's encoding: the articles that have it, newest first), or, when the posting
  is longer than OWN_FILE characters, only its article count: its posting is then
  `search/postings/<word>.txt`, fetched only by a query that matches that word;
- `search/articles/<n>.json`: what a result shows (title, address, date, type, summary) of the articles
  whose ids are n * GROUP to n * GROUP + GROUP - 1, fetched for the results a query shows.

A new article changes the files of its words and its group, nothing else."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence

from pipeline.dom import html_text
from pipeline.model import Article
from pipeline.publish.entries import Entry, nz_date

OWN_FILE = 1024  # characters of posting (about 400 articles) past which a word's posting is a file of its own
GROUP = 16  # articles per file of results
WORD = re.compile(r"[a-z0-9]+")


def search_words(article: Article, body_text: str | None = None) -> str:
    """The distinct lower-case ASCII words of everything searchable about an article, in first-seen
    order (the search script folds accents the same way, so "Māori" finds "maori"). `body_text`: its
    body's html_text, when the caller has it already."""
    if body_text is None:
        body_text = html_text(article.body_html)
    text = " ".join((article.title, article.summary, " ".join(article.topics), article.news_type or "", body_text))
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return " ".join(dict.fromkeys(WORD.findall(folded)))


def shard_path(shard: str) -> str:
    return f"search/terms/{shard}.json"


def posting_path(term: str) -> str:
    return f"search/postings/{term}.txt"


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
