"""The values that flow between the stages. Frozen, so a stage can never change another's input."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class Licence:
    name: str
    url: str


@dataclass(frozen=True)
class Listing:
    """A server-rendered page whose links (a CSS selector) point at articles."""

    path: str
    links: str


@dataclass(frozen=True)
class Discovery:
    listings: tuple[Listing, ...]
    sitemap: str | None
    article_paths: re.Pattern[str]
    never_fetch: tuple[str, ...]


@dataclass(frozen=True)
class PageTypeRule:
    """Which pages are articles: `selector`'s `attribute` must be one of `accept`."""

    selector: str
    attribute: str
    accept: tuple[str, ...]


@dataclass(frozen=True)
class Selectors:
    page_type: PageTypeRule | None
    title: str
    published: str
    published_format: str
    news_type: str | None
    topics: str | None
    summary: str | None
    body: str
    body_exclude: tuple[str, ...]


@dataclass(frozen=True)
class Schedule:
    interval_seconds: float | None
    cron: str | None
    jitter_seconds: float


@dataclass(frozen=True)
class Source:
    id: str
    name: str
    base_url: str
    timezone: str
    request_delay: float
    timeout: float
    retries: int
    backoff: float
    max_bytes: int
    discovery: Discovery
    extraction: Selectors
    licence: Licence
    attribution: str
    schedule: Schedule

    @property
    def host(self) -> str:
        from urllib.parse import urlsplit

        return urlsplit(self.base_url).netloc.lower()


@dataclass(frozen=True)
class FeedSettings:
    title: str
    description: str
    max_items: int
    language: str


@dataclass(frozen=True)
class Config:
    path: Path
    site_url: str
    output_dir: Path
    state_dir: Path
    user_agent: str
    feeds: FeedSettings
    sources: tuple[Source, ...]

    def source(self, source_id: str) -> Source:
        for source in self.sources:
            if source.id == source_id:
                return source
        raise KeyError(source_id)


@dataclass(frozen=True)
class Page:
    """One HTTP answer. `status` 304 means the stored copy is still current (body is then empty)."""

    url: str
    final_url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    fetched_at: datetime

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


@dataclass(frozen=True)
class Link:
    url: str
    found_on: str
    lastmod: datetime | None = None


@dataclass(frozen=True)
class Article:
    """What extraction makes of one page: plain values, the body already sanitised."""

    url: str
    title: str
    published: datetime
    news_type: str | None
    topics: tuple[str, ...]
    summary: str
    body_html: str

    @property
    def content_hash(self) -> str:
        """Changes when the content changes, not when only white space does."""
        parts = [
            self.url,
            self.title,
            self.published.date().isoformat(),
            self.news_type or "",
            "\x1f".join(self.topics),
            self.summary,
            self.body_html,
        ]
        normalised = "\x1e".join(re.sub(r"\s+", " ", part).strip() for part in parts)
        return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StoredArticle:
    """An article as the store keeps it: its latest version and where it lives in the archive."""

    id: int
    source_id: str
    slug: str
    first_seen: datetime
    version: int
    retrieved_at: datetime
    article: Article


@dataclass(frozen=True)
class Problem:
    source_id: str
    url: str
    stage: str
    message: str
    hint: str = ""

    def describe(self) -> str:
        text = f"[{self.source_id}] {self.stage} {self.url}: {self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text


@dataclass
class SourceReport:
    source_id: str
    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: int = 0
    requests: int = 0
    notes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass
class SyncReport:
    started_at: datetime
    finished_at: datetime | None = None
    sources: list[SourceReport] = field(default_factory=list)
    files_written: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def all_problems(self) -> list[Problem]:
        return [p for s in self.sources for p in s.problems] + self.problems

    @property
    def exit_code(self) -> int:
        return 1 if self.all_problems else 0
