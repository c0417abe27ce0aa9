"""The values that flow between the stages. Frozen, so a stage can never change another's input."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.subscriptions import NotifySettings


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
class RevisitRule:
    """Re-check articles younger than `younger_than_seconds` (None: any age) every `every_seconds`."""

    younger_than_seconds: float | None
    every_seconds: float


DEFAULT_REVISIT = (
    RevisitRule(30 * 86400, 86400),  # daily for a month
    RevisitRule(365 * 86400, 7 * 86400),  # weekly for a year
    RevisitRule(None, 30 * 86400),  # then monthly
)


@dataclass(frozen=True)
class AlertSelectors:
    """Where a source shows a site-wide urgent notice, and how to read it."""

    path: str
    container: str
    title: str
    issued: str
    issued_format: str
    text: str


@dataclass(frozen=True)
class Expectations:
    """What a source's articles and discovery must meet (see pipeline/extract/__init__.py, and docs/configuration.md on why)."""

    max_future_days: float = 1.0
    min_links: int = 1  # discovery must find at least this many article links


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
    revisit: tuple[RevisitRule, ...] = DEFAULT_REVISIT
    removal_grace_seconds: float = 3600.0
    alerts: AlertSelectors | None = None
    expect: Expectations = Expectations()
    fallback: bool = True  # try the generic extractor when the selectors miss

    def revisit_every(self, age_seconds: float) -> float:
        """How long to leave an article of this age before checking it again."""
        for rule in self.revisit:
            if rule.younger_than_seconds is None or age_seconds < rule.younger_than_seconds:
                return rule.every_seconds
        return self.revisit[-1].every_seconds if self.revisit else DEFAULT_REVISIT[-1].every_seconds

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc.lower()


@dataclass(frozen=True)
class FeedSettings:
    title: str
    description: str
    max_items: int
    language: str


@dataclass(frozen=True)
class HealthSettings:
    """`health:` in sources.yaml: whether to publish a public health.json in output_dir (off by default:
    it changes with every run, and output should change only when content does), and when a source whose
    last success is older than `stale_after` times its schedule's interval counts as unhealthy."""

    public: bool = False
    stale_after: float = 3.0


@dataclass(frozen=True)
class Config:
    path: Path
    site_url: str
    output_dir: Path
    state_dir: Path
    user_agent: str
    feeds: FeedSettings
    sources: tuple[Source, ...]
    websub_hub: str | None = None
    warc: bool = False  # also keep every response in a WARC file per run (state_dir/warc/)
    run_budget: float = 1800.0  # seconds of wall clock one run may spend before it stops fetching articles
    health: HealthSettings = HealthSettings()
    contact: str = ""  # how a site's operators reach whoever runs Pānui: contact, or the user_agent replacing it
    notify: NotifySettings = field(default_factory=NotifySettings)  # subscriptions: who is told what, and how

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


# White space next to a block-level tag is never rendered; a re-indented or minified page is not new content.
BLOCK_TAG = re.compile(
    r"(</?(?:p|div|h[1-6]|ul|ol|li|dl|dt|dd|table|thead|tbody|tfoot|tr|td|th|caption|blockquote|"
    r"figure|figcaption|details|summary|pre|hr|br)\b[^>]*>)",
    re.IGNORECASE,
)


def without_block_tag_space(html: str) -> str:
    r"""`html` without the white space before and after each block-level tag: what
    re.sub(r"\s*(<block tag>)\s*", r"\1", html) gives, at a tenth of the cost (the pattern starts at a
    "<", which re finds fast; a leading \s* is tried at every character). Stored hashes depend on it."""
    pieces = BLOCK_TAG.split(html)  # text, tag, text, ..., tag, text
    last = len(pieces) - 1
    for index in range(0, last + 1, 2):
        text = pieces[index]
        if index > 0:
            text = text.lstrip()  # str.strip and re's \s take the same characters for white space
        if index < last:
            text = text.rstrip()
        pieces[index] = text
    return "".join(pieces)


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
            without_block_tag_space(self.body_html),
        ]
        # " ".join(part.split()) is re.sub(r"\s+", " ", part).strip(), both splitting at str.isspace()
        # characters, at a third of the cost: the hashes of stored versions stay the same.
        normalised = "\x1e".join(" ".join(part.split()) for part in parts)
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
    content_hash: str
    article: Article  # body_html is "" when the store was asked for metadata only
    withdrawn_at: datetime | None = None  # when the source was found to have removed it


@dataclass(frozen=True)
class Version:
    """One stored version of an article's content."""

    number: int
    retrieved_at: datetime
    article: Article


@dataclass(frozen=True)
class Alert:
    """A site-wide urgent notice (INZ's home page banner)."""

    id: str  # stable: derived from the source, title and issued time
    source_id: str
    title: str
    issued: datetime
    text_html: str
    page_url: str
    first_seen: datetime | None = None


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
    withdrawn: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)  # titles of alerts seen for the first time
    fallback: list[str] = field(default_factory=list)  # articles extracted by the generic fallback
    degraded: list[str] = field(default_factory=list)  # what broke in discovery or extraction

    def degrade(self, reason: str) -> None:
        """Mark the source degraded, once per distinct reason ("... (e.g. URL)": the first URL is kept)."""
        key = reason.rsplit(" (e.g. ", 1)[0]
        if all(known.rsplit(" (e.g. ", 1)[0] != key for known in self.degraded):
            self.degraded.append(reason)

    unchanged: int = 0
    skipped: int = 0
    requests: int = 0
    notes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    held_back: list[Problem] = field(default_factory=list)  # articles read but not published (also in problems)
    stored: list[str] = field(default_factory=list)  # URLs (as requested) read into the store: no longer held back
    articles_read: int = 0  # article pages read this run, whatever came of them (a 304 too): drift's base


@dataclass
class SyncReport:
    started_at: datetime
    finished_at: datetime | None = None
    sources: list[SourceReport] = field(default_factory=list)
    files_written: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)  # reported, but the run still succeeded
    empty_store: bool = False  # no article stored yet, so nothing was (or ever has been) published

    @property
    def all_problems(self) -> list[Problem]:
        return [p for s in self.sources for p in s.problems] + self.problems

    @property
    def exit_code(self) -> int:
        return 1 if self.all_problems or any(source.degraded for source in self.sources) else 0
