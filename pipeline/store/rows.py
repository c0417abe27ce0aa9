"""What several parts of the store share: the columns of an article at its current version and how
to read them back, a value read back refused when Pānui would not have written it, and how to split a
long list of values into statements SQLite accepts."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pipeline.batching import batched
from pipeline.bounds import shorten
from pipeline.errors import StoreDamaged
from pipeline.model import Article, StoredArticle
from pipeline.store.database import STORE_FILE

T = TypeVar("T")
CHUNK = 500  # SQLite caps the number of bound parameters in one statement
CURRENT = "articles a JOIN revisions r ON r.article_id = a.id AND r.version = a.current_version"


# The columns stored_article reads, from CURRENT, without the body (read only where it is shown).
ARTICLE_COLUMNS = (
    "a.id, a.source_id, a.slug, a.timezone, a.first_seen, r.version, r.retrieved_at, r.content_hash, a.url, "
    "r.title, r.published, r.news_type, r.topics, r.summary, '', a.withdrawn_at, a.kind, r.extractor"
)


def moment(value: str) -> datetime:
    """A time as Pānui writes one, with its UTC offset (a time without one, `astimezone` would take for
    the machine's local time)."""
    found = datetime.fromisoformat(value)
    if found.tzinfo is None:
        raise ValueError(value)
    return found


def utc_moment(value: str) -> datetime:
    return moment(value).astimezone(UTC)


def texts(value: str) -> tuple[str, ...]:
    found = json.loads(value)
    if type(found) is not list or not all(type(item) is str for item in found):
        raise TypeError(value)
    return tuple(found)


def text_map(value: str) -> dict[str, str]:
    found = json.loads(value)
    if type(found) is not dict or not all(type(item) is str for item in found.values()):
        raise TypeError(value)
    return found


EXPECTED: dict[Callable[[Any], object], str] = {
    moment: "a time in ISO 8601 with its UTC offset",
    utc_moment: "a time in ISO 8601 with its UTC offset",
    texts: "a JSON list of texts",
    text_map: "a JSON object of texts",
    ZoneInfo: "a time zone name such as Pacific/Auckland",
}


def stored(read: Callable[[Any], T], value: object, column: str, row: object) -> T:
    """`read(value)`, `value` being read from `column` ("table.column") of `row` (its URL or id), with
    `read` one of EXPECTED's. SQLite keeps whatever a hand or another tool puts there: a value Pānui would
    not have written stops the command with StoreDamaged naming it, not a traceback, and is not written over."""
    try:
        return read(value)
    # (json's errors are ValueErrors; a zone not found is a KeyError, and one that is a folder an OSError)
    except (ValueError, TypeError, KeyError, OSError):
        raise StoreDamaged(
            f"the store holds a value Pānui did not write: {column} of {row} is {shorten(repr(value), 80)}, "
            f"not {EXPECTED[read]}. Nothing was written to it",
            f"set that value back with sqlite3 (a backup of {STORE_FILE} has it), or restore {STORE_FILE} from a backup",
        ) from None


def chunks(items: Iterable[T]) -> Iterator[list[T]]:
    return batched(items, CHUNK)


def marks(chunk: Sequence[object]) -> str:
    """The "?, ?, ..." of an IN (...) for `chunk`."""
    return ",".join("?" * len(chunk))


def stored_article(row: tuple[object, ...]) -> StoredArticle:
    """The StoredArticle of a row of ARTICLE_COLUMNS."""
    article_id, source_id, slug, timezone, first_seen, version, retrieved_at, digest = row[:8]
    *content, withdrawn_at, kind, extractor = row[8:]
    url = content[0]
    return StoredArticle(
        id=int(str(article_id)),
        source_id=str(source_id),
        slug=str(slug),
        first_seen=stored(utc_moment, first_seen, "articles.first_seen", url),
        version=int(str(version)),
        retrieved_at=stored(utc_moment, retrieved_at, "revisions.retrieved_at", url),
        content_hash=str(digest),
        withdrawn_at=stored(utc_moment, withdrawn_at, "articles.withdrawn_at", url) if withdrawn_at else None,
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
        published=stored(moment, published, "revisions.published", url).astimezone(
            stored(ZoneInfo, timezone, "articles.timezone", url)
        ),
        news_type=str(news_type) if news_type is not None else None,
        topics=stored(texts, topics, "revisions.topics", url),
        summary=str(summary),
        body_html=str(body),
    )
