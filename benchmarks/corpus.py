"""A generated stand-in for immigration.govt.nz at any size: N article pages derived from the real
captures (tests/fixture_site.derive_article) with varied titles, bodies, news types, topics and dates
over several years; a home page whose "Latest announcements" block lists the 3 newest; a sitemap
listing all of them. Deterministic: the same N gives the same bytes."""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from benchmarks.server import HTML, XML, Resource
from pipeline.extract.sanitise import sanitise_html
from pipeline.model import Article
from tests.fixture_site import (
    ARTICLE_CAPTURES,
    ROBOTS,
    SITEMAP_URLSET_PATH,
    article_path,
    derive_article,
    home_page,
    read_capture,
    sitemap_index,
    sitemap_urlset,
)

TIMEZONE = "Pacific/Auckland"
ARTICLES_A_DAY = 2
MIN_SPAN_DAYS = 3 * 365  # even a small site has articles in several years (per-year pages and shards)
LIVE_HOST = "https://www.immigration.govt.nz"
OPENINGS = (
    "Changes to",
    "Update on",
    "New rules for",
    "Fee changes for",
    "Reminder about",
    "Processing times for",
    "Consultation opens on",
    "Improvements to",
    "Temporary measures for",
    "Applications reopen for",
)
SUBJECTS = (
    "the Accredited Employer Work Visa",
    "Pathway Student Visas",
    "the Skilled Migrant Category",
    "Working Holiday schemes",
    "Recognised Seasonal Employer workers",
    "partners of New Zealanders",
    "Business Investor visas",
    "Parent Boost visas",
    "Specific Purpose Work Visas",
    "visitor visas and the NZeTA",
    "the Green List",
    "refugee family support",
)
TOPICS = (
    "Visa holders and applicants",
    "Study to work",
    "Compliance",
    "Invest or start a business",
    "Immigration rules and processes",
    "Employers",
    "Refugees and protection",
    "Family",
    "Visitors",
    "Residence",
    "Fees and levies",
    "Work",
)
NEWS_TYPES = ("Announcement", "Announcement", "Announcement", "Media release")
TOPIC_LIST = re.compile(r'(<ul class="content-page__topics-list">)(.*?)(</ul>)', re.S)


@dataclass(frozen=True)
class ArticleSpec:
    """One generated article: what its page says, and so what extraction must find in it."""

    serial: int
    slug: str
    title: str
    published: date
    news_type: str
    topics: tuple[str, ...]
    summary: str
    body_html: str
    template: str  # the capture whose markup the page is derived from

    @property
    def path(self) -> str:
        return article_path(self.slug)

    def page(self) -> bytes:
        html = derive_article(
            self.template,
            slug=self.slug,
            title=self.title,
            published=self.published.strftime("%d %B %Y"),
            body_html=self.body_html,
            news_type=self.news_type,
            summary=self.summary,
        )
        items = "".join(
            f'<li class="topic-item"><a href="/about-us/news-centre/?topic_ids={TOPICS.index(topic) + 20}" '
            f'class="btn btn--tag">{topic}</a></li>\n'
            for topic in self.topics
        )
        return TOPIC_LIST.sub(lambda match: match[1] + items + match[3], html, count=1).encode("utf-8")

    def article(self, base_url: str) -> Article:
        """The article as the store keeps it, without fetching and extracting the page (the fast way to
        fill a store with thousands of articles); equal to what extraction makes of page()."""
        return Article(
            url=base_url.rstrip("/") + self.path,
            title=self.title,
            published=datetime.combine(self.published, time(0, 0), tzinfo=ZoneInfo(TIMEZONE)),
            news_type=self.news_type,
            topics=self.topics,
            summary=self.summary,
            body_html=sanitise_html(self.body_html),
        )


@cache
def body_blocks() -> tuple[str, ...]:
    """Paragraphs, headings and lists of the real articles' bodies, links made absolute on the live host."""
    blocks: list[str] = []
    for name in ARTICLE_CAPTURES:
        text = read_capture(name)
        start = text.index("</p>", text.index("content-page__summary")) + len("</p>")
        region = text[start : text.index('<div class="page-utilities">')]
        blocks += [match[0] for match in re.finditer(r"<(p|h2|h3|ul|ol)\b[^>]*>.*?</\1>", region, re.S)]
    return tuple(re.sub(r'href="/', f'href="{LIVE_HOST}/', block) for block in blocks)


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")  # fmt: skip
QUOTED_DATE = re.compile(rf"\b(\d{{1,2}}) ({'|'.join(MONTHS)}) (\d{{4}})\b")


def _dates_after(published: date, body: str) -> str:
    """The body with each date it quotes moved to the next such day and month after `published`: an
    article quotes dates near its own (a deadline, a start), so an archive's calendar holds about a
    year of articles' dates whatever the archive's age, as a real one does. (The captures all quote
    July 2026: kept as they are, every article of a 50,000-article archive going back 68 years would
    still be in the calendar.)"""

    def moved(match: re.Match[str]) -> str:
        month, day = MONTHS.index(match[2]) + 1, min(max(int(match[1]), 1), 28)
        quoted = date(published.year, month, day)
        quoted = quoted if quoted > published else quoted.replace(year=published.year + 1)
        return f"{quoted.day} {match[2]} {quoted.year}"

    return QUOTED_DATE.sub(moved, body)


def today() -> date:
    return datetime.now(ZoneInfo(TIMEZONE)).date()


NEW_SERIALS = 10_000_000  # past every archive's serials (0 to N - 1)


def make_spec(serial: int, published: date) -> ArticleSpec:
    rng = random.Random(serial)  # each article depends on its serial alone, whatever N is
    title = f"{rng.choice(OPENINGS)} {rng.choice(SUBJECTS)}"
    if rng.random() < 0.5:
        title += f" from {published + timedelta(days=rng.randrange(7, 90)):%B %Y}"
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") + f"-{serial}"
    pool = body_blocks()
    body = _dates_after(published, "\n".join(rng.choice(pool) for _ in range(rng.randrange(6, 24))))
    return ArticleSpec(
        serial=serial,
        slug=slug,
        title=title,
        published=published,
        news_type=rng.choice(NEWS_TYPES),
        topics=tuple(rng.sample(TOPICS, rng.randrange(1, 4))),
        summary=f"What the {title.lower()} means for applicants and employers, and when it takes effect.",
        body_html=f"<p>Article {serial}: {title}.</p>\n{body}",
        template=ARTICLE_CAPTURES[serial % len(ARTICLE_CAPTURES)],
    )


def new_article(run: int, published: date) -> ArticleSpec:
    """The `run`th new article published into an archive: the same at every archive size (a third of
    articles quote a date that goes into the calendar, whose pages are then rendered too: measured with
    different new articles, two sizes would differ in that, not in the archive's size)."""
    return make_spec(NEW_SERIALS + run, published)


def make_specs(count: int, newest: date, *, steady: bool = False) -> list[ArticleSpec]:
    """`count` articles, newest first, the newest published the day before `newest`, spread over at
    least three years (about two a day beyond 2,000 articles). `steady`: always two a day, however
    few, so that archives of different sizes differ in how many years they cover, not in how full
    each year is (an archive grows by adding years; items 4 and 5)."""
    span = count // ARTICLES_A_DAY if steady else max(MIN_SPAN_DAYS, count // ARTICLES_A_DAY)
    return [make_spec(serial, newest - timedelta(days=1 + serial * span // count)) for serial in range(count)]


class SiteContent:
    """What the benchmark site serves for a list of articles (newest first). Article pages are made on
    first request (or by prepare()), so a site of 10,000 articles costs only the pages fetched."""

    def __init__(self, base_url: str, specs: Sequence[ArticleSpec]) -> None:
        self.specs = list(specs)
        self._by_path = {spec.path: spec for spec in self.specs}
        self._pages: dict[str, Resource] = {}
        self._lock = threading.Lock()
        newest = [(spec.path, spec.title, f"{spec.published.day} {spec.published:%b %Y}") for spec in self.specs[:3]]
        self._fixed = {
            "/robots.txt": Resource(ROBOTS.format(base_url=base_url).encode(), "text/plain; charset=utf-8"),
            "/": Resource(home_page(newest), HTML),
            "/sitemap.xml": Resource(sitemap_index(base_url), XML),
            SITEMAP_URLSET_PATH: Resource(
                sitemap_urlset(base_url, [(spec.path, spec.published.isoformat()) for spec in self.specs]), XML
            ),
        }

    def __call__(self, path: str) -> Resource | None:
        if path in self._fixed:
            return self._fixed[path]
        with self._lock:
            if path in self._pages:
                return self._pages[path]
        spec = self._by_path.get(path)
        if spec is None:
            return None
        resource = Resource(spec.page(), HTML)
        with self._lock:
            return self._pages.setdefault(path, resource)

    def prepare(self) -> list[bytes]:
        """Make every article page now (outside any measurement); their bytes, newest first."""
        return [resource.body for spec in self.specs if (resource := self(spec.path)) is not None]
