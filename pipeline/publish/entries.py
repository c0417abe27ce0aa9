"""What every output shows of one article: its archive address, its dates and its attribution."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property
from zoneinfo import ZoneInfo

from markupsafe import escape

from pipeline.model import Source, StoredArticle


@dataclass(frozen=True)
class Entry:
    stored: StoredArticle
    source: Source
    archive_path: str  # relative to output_dir, ends with "/": "inz/articles/<slug>/"
    archive_url: str  # absolute, under site_url

    @property
    def attribution_html(self) -> str:
        """Made when an output shows it, not for every entry a plan holds (a large archive's plan
        would otherwise carry a few KB of HTML per article)."""
        return attribution_html(self.stored, self.source)

    @property
    def url(self) -> str:
        return self.stored.article.url

    @property
    def updated(self) -> datetime:
        """When the content last changed: the publication date, or when a later version was retrieved."""
        if self.stored.version == 1:
            return self.stored.article.published
        return self.stored.retrieved_at.astimezone(ZoneInfo(self.source.timezone))

    @property
    def categories(self) -> tuple[str, ...]:
        kind = (self.stored.article.news_type,) if self.stored.article.news_type else ()
        return tuple(dict.fromkeys((*kind, *self.stored.article.topics)))

    @cached_property  # asked for by every output that shows the entry (a frozen dataclass may cache)
    def dependency(self) -> tuple[object, ...]:
        """Everything about the entry that any output shows: when it changes, those outputs change."""
        stored = self.stored
        return (
            stored.id,
            stored.slug,
            stored.version,
            stored.content_hash,
            stored.retrieved_at.isoformat(),
            stored.withdrawn_at.isoformat() if stored.withdrawn_at else None,
            self.source.id,
        )

    def with_body(self, body_html: str) -> Entry:
        return replace(self, stored=replace(self.stored, article=replace(self.stored.article, body_html=body_html)))

    @property
    def content_html(self) -> str:
        """The sanitised body followed by the attribution block, as feeds carry it."""
        return f"{self.stored.article.body_html}\n{self.attribution_html}"


def make_entry(stored: StoredArticle, source: Source, site_url: str) -> Entry:
    path = f"{source.id}/articles/{stored.slug}/"
    return Entry(stored, source, archive_path=path, archive_url=site_url + path)


MAX_DOCUMENT_COPY = 20_000_000  # bytes: a larger PDF is linked at its source, not copied into the archive


def document_name(stored: StoredArticle) -> str:
    """The file name of an article's PDF copy, beside its archive page: its slug ("circular-2026-01-pdf")
    as a file name ("circular-2026-01.pdf")."""
    return stored.slug.removesuffix("-pdf") + ".pdf"


MONTH_NAMES = tuple(datetime(2000, month, 1).strftime("%B") for month in range(1, 13))  # (strftime's, once)


def nz_date(value: datetime, timezone: str) -> str:
    """'2 March 2026' in the source's zone, the way a person there reads a date (a listing's every entry
    asks: the month's name looked up costs a fifth of strftime)."""
    local = value.astimezone(ZoneInfo(timezone))
    return f"{local.day} {MONTH_NAMES[local.month - 1]} {local.year}"


def attribution_html(stored: StoredArticle, source: Source) -> str:
    """Names the source and its licence, links the original, dates the copy and says it was reformatted
    (what CC BY asks of a republished copy); written text only, never the source's logos."""
    article = stored.article
    retrieved = nz_date(stored.retrieved_at, source.timezone)
    # escape() on each value, as Markup.format would, without the cost of string.Formatter (this runs
    # for every item of every feed).
    return (
        '<aside class="attribution" role="note">'
        f'<p>Source: <a href="{escape(article.url)}">{escape(article.title)}</a>, {escape(source.name)}. '
        f"Retrieved {escape(retrieved)}.</p>"
        f"<p>{escape(source.attribution)}</p>"
        f'<p>Licence: <a href="{escape(source.licence.url)}">{escape(source.licence.name)}</a>. '
        "Reformatted by Pānui from the original page.</p>"
        "</aside>"
    )
