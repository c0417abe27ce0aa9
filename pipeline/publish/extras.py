"""The subscription lists (OPML 2.0) and the per-year search indexes of the archive."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from pipeline.dom import html_text
from pipeline.model import Article
from pipeline.publish.entries import Entry, nz_date


@dataclass(frozen=True)
class FeedOutline:
    title: str
    rss_url: str
    html_url: str
    group: str  # the outline it is listed under ("" for the top level)


def render_opml(title: str, feeds: Sequence[FeedOutline]) -> bytes:
    """One outline per feed, grouped by source. A group's outline has a text and nothing else: an outline
    with more must say its type (the W3C validator warns), and a group is not a feed."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        f"  <head><title>{_text(title)}</title></head>",
        "  <body>",
    ]
    current_group: str | None = None
    for feed in feeds:
        if feed.group != current_group:
            if current_group:
                lines.append("    </outline>")
            if feed.group:
                lines.append(f"    <outline text={quoteattr(feed.group)}>")
            current_group = feed.group
        indent = "      " if feed.group else "    "
        lines.append(
            f'{indent}<outline type="rss" text={quoteattr(feed.title)} title={quoteattr(feed.title)} '
            f"xmlUrl={quoteattr(feed.rss_url)} htmlUrl={quoteattr(feed.html_url)}/>"
        )
    if current_group:
        lines.append("    </outline>")
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines).encode("utf-8")


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


WORD = re.compile(r"[a-z0-9]+")


def search_words(article: Article) -> str:
    """The distinct lower-case ASCII words of everything searchable about an article, in first-seen
    order (the search script folds accents the same way, so "Māori" finds "maori")."""
    body_text = html_text(article.body_html)
    text = " ".join((article.title, article.summary, " ".join(article.topics), article.news_type or "", body_text))
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return " ".join(dict.fromkeys(WORD.findall(folded)))


def render_search_shard(entries: Sequence[Entry], words: Mapping[int, str]) -> bytes:
    """One year's search index: compact keys, since the page downloads every year's file. `words` are
    each article's search_words, kept by the catalogue (computed once per version, not per shard)."""
    articles = [
        {
            "t": entry.stored.article.title,
            "u": entry.archive_path + "index.html",
            "d": nz_date(entry.stored.article.published, entry.source.timezone),
            "k": entry.stored.article.news_type or "",
            "s": entry.stored.article.summary,
            "w": words.get(entry.stored.id, ""),
        }
        for entry in entries
    ]
    return (json.dumps({"articles": articles}, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
