"""What several parts of the store share: the columns of an article at its current version and how
to read them back, and how to split a long list of values into statements SQLite accepts."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from pipeline.batching import batched
from pipeline.model import Article, StoredArticle
from pipeline.store.database import parse_time

T = TypeVar("T")
CHUNK = 500  # SQLite caps the number of bound parameters in one statement
CURRENT = "articles a JOIN revisions r ON r.article_id = a.id AND r.version = a.current_version"


# The columns stored_article reads, from CURRENT, without the body (read only where it is shown).
ARTICLE_COLUMNS = (
    "a.id, a.source_id, a.slug, a.timezone, a.first_seen, r.version, r.retrieved_at, r.content_hash, a.url, "
    "r.title, r.published, r.news_type, r.topics, r.summary, '', a.withdrawn_at, a.kind, r.extractor"
)


def chunks(items: Iterable[T]) -> Iterator[list[T]]:
    return batched(items, CHUNK)


def marks(chunk: Sequence[object]) -> str:
    """The "?, ?, ..." of an IN (...) for `chunk`."""
    return ",".join("?" * len(chunk))


def stored_article(row: tuple[object, ...]) -> StoredArticle:
    """The StoredArticle of a row of ARTICLE_COLUMNS."""
    article_id, source_id, slug, timezone, first_seen, version, retrieved_at, digest = row[:8]
    *content, withdrawn_at, kind, extractor = row[8:]
    return StoredArticle(
        id=int(str(article_id)),
        source_id=str(source_id),
        slug=str(slug),
        first_seen=parse_time(str(first_seen)),
        version=int(str(version)),
        retrieved_at=parse_time(str(retrieved_at)),
        content_hash=str(digest),
        withdrawn_at=parse_time(str(withdrawn_at)) if withdrawn_at else None,
        kind=str(kind),
        extractor=str(extractor),
        article=stored_content(*content, timezone),
    )


def stored_content(*columns: object) -> Article:
    """The Article of a version's columns: url, title, published, news_type, topics, summary, body, and the
    article's time zone (its published date is shown in it)."""
    url, title, published, news_type, topics, summary, body, timezone = columns
    return Article(
        url=str(url),
        title=str(title),
        published=datetime.fromisoformat(str(published)).astimezone(ZoneInfo(str(timezone))),
        news_type=str(news_type) if news_type is not None else None,
        topics=tuple(json.loads(str(topics))),
        summary=str(summary),
        body_html=str(body),
    )
