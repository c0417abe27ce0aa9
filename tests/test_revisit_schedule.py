"""The revisit schedule: which known articles a sync asks for again. Exactly those its rules make due
(daily while young, weekly for a year, then monthly; a withdrawn article at the slowest pace), and found
without reading the many old articles that are not due: a quiet sync's store work follows the young
articles and the due ones, not the archive (issue 20). So do replacing a discovery page's stored copy and
finding the corrections."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipeline.config import load_config
from pipeline.model import Article, Page, RevisitRule, Source
from pipeline.store import Store
from pipeline.sync.candidates import revisit_candidates
from tests.helpers import REPO_ROOT, stored_value

AUCKLAND = ZoneInfo("Pacific/Auckland")
NEWS = "https://www.immigration.govt.nz/about-us/news-centre/"
NOW = datetime(2026, 7, 13, 1, 0, tzinfo=UTC)
DAY = 86_400


@pytest.fixture(scope="module")
def source() -> Source:
    return load_config(REPO_ROOT / "sources.yaml").source("inz")  # daily < 30 d, weekly < 365 d, then monthly


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "state") as opened:
        yield opened


def add(store: Store, serial: int, *, published: datetime, checked: datetime, withdrawn: bool = False) -> str:
    url = f"{NEWS}article-{serial}/"
    article = Article(
        url=url,
        title=f"Article {serial}",
        published=published.astimezone(AUCKLAND),
        news_type="News",
        topics=(),
        summary="",
        body_html=f"<p>Article {serial}.</p>",
    )
    store.save_article(article, source_id="inz", timezone="Pacific/Auckland", requested_url=url, retrieved_at=checked)
    if withdrawn:
        assert store.record_missing(url, checked - timedelta(hours=2), 3600) == "noted"
        assert store.record_missing(url, checked, 3600) == "withdrawn"
    return url


def expected_due(source: Source, articles: dict[str, tuple[datetime, datetime, bool]], now: datetime) -> set[str]:
    """What the rules say, article by article (Source.revisit_every), for comparison."""
    return {
        url
        for url, (published, checked, withdrawn) in articles.items()
        if (now - checked).total_seconds()
        >= source.revisit_every(math.inf if withdrawn else (now - published).total_seconds())
    }


def due(source: Source, store: Store, now: datetime) -> set[str]:
    return {candidate.link.url for candidate in revisit_candidates(source, store, now)}


def test_the_articles_asked_for_again_are_those_the_rules_make_due(source: Source, store: Store) -> None:
    rng = random.Random(20)
    edges = [0, 1, DAY - 1, DAY, 7 * DAY - 1, 7 * DAY, 7 * DAY + 1, 30 * DAY, 31 * DAY, 365 * DAY, 366 * DAY]
    articles: dict[str, tuple[datetime, datetime, bool]] = {}
    for serial in range(160):
        published = NOW - timedelta(seconds=rng.choice([*edges, rng.randrange(0, 900 * DAY)]))
        checked = NOW - timedelta(seconds=rng.choice([*edges, rng.randrange(0, 90 * DAY)]))
        withdrawn = serial % 11 == 0
        articles[add(store, serial, published=published, checked=checked, withdrawn=withdrawn)] = (
            published.replace(microsecond=0),
            checked,
            withdrawn,
        )
    hourly_then_every_3_days = replace(source, revisit=(RevisitRule(3600, 60), RevisitRule(None, 3 * DAY)))
    for rules in (source, hourly_then_every_3_days):
        for later in (0, 1, 3600, DAY, DAY + 1, 8 * DAY, 40 * DAY, 400 * DAY):
            now = NOW + timedelta(seconds=later)
            assert due(rules, store, now) == expected_due(rules, articles, now), (rules.revisit, later)


def store_work(store: Store, source: Source, now: datetime) -> int:
    """SQLite's virtual machine steps in finding the articles due: its work, counted, not timed."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    store._db.set_progress_handler(count, 1)
    try:
        due(source, store, now)
    finally:
        store._db.set_progress_handler(None, 1)
    return steps


def test_finding_the_articles_due_does_not_read_the_old_ones_not_due(source: Source, store: Store) -> None:
    for serial in range(20):  # two months of articles, two a week, checked this morning
        add(store, serial, published=NOW - timedelta(days=3 * serial), checked=NOW - timedelta(hours=3))
    work = store_work(store, source, NOW)
    for serial in range(20, 420):  # eight more years of them, each checked within its month
        add(store, serial, published=NOW - timedelta(days=365 + 7 * serial), checked=NOW - timedelta(days=serial % 29))

    assert store_work(store, source, NOW) <= work * 1.1 + 50  # 20 times the articles, the same work
    assert due(source, store, NOW + timedelta(days=31)) >= {f"{NEWS}article-{serial}/" for serial in range(20, 420)}


def test_a_discovery_page_that_changed_replaces_its_copy_without_reading_the_archive(
    source: Source, store: Store
) -> None:
    """The sitemap gains a link on each new article: its superseded copy is dropped (no article cites
    it) at the same cost however many articles the store holds."""

    def replace_sitemap(body: bytes) -> int:
        steps = 0

        def count() -> int:
            nonlocal steps
            steps += 1
            return 0

        url = "https://www.immigration.govt.nz/sitemap.xml"
        store._db.set_progress_handler(count, 1)
        try:
            store.remember_response(Page(url, url, 200, {}, body, NOW))
        finally:
            store._db.set_progress_handler(None, 1)
        return steps

    for serial in range(20):
        add(store, serial, published=NOW - timedelta(days=3 * serial), checked=NOW)
    replace_sitemap(b"<urlset>0</urlset>")
    work = replace_sitemap(b"<urlset>1</urlset>")
    for serial in range(20, 420):
        add(store, serial, published=NOW - timedelta(days=3 * serial), checked=NOW)

    assert replace_sitemap(b"<urlset>2</urlset>") <= work * 1.1 + 50
    assert stored_value(store, "SELECT count(*) FROM raw_pages") == 1  # the sitemap's newest copy only


def test_finding_the_corrections_does_not_read_every_article(store: Store) -> None:
    """The feed of corrections lists the few articles with a later version, or withdrawn: they are found
    through their own index, at the same cost however many articles the store holds."""

    def corrected() -> tuple[set[str], int]:
        steps = 0

        def count() -> int:
            nonlocal steps
            steps += 1
            return 0

        catalogue = store.catalogue(None)
        store._db.set_progress_handler(count, 1)
        try:
            found = {stored.article.url for stored in catalogue.corrected("inz", 50)}
        finally:
            store._db.set_progress_handler(None, 1)
            catalogue.close()
        return found, steps

    revised = add(store, 0, published=NOW - timedelta(days=40), checked=NOW - timedelta(days=40))
    changed = Article(revised, "Article 0, corrected", NOW, "News", (), "", "<p>Article 0, corrected.</p>")
    store.save_article(changed, source_id="inz", timezone="Pacific/Auckland", requested_url=revised, retrieved_at=NOW)
    withdrawn = add(store, 1, published=NOW - timedelta(days=30), checked=NOW, withdrawn=True)
    for serial in range(2, 22):
        add(store, serial, published=NOW - timedelta(days=serial), checked=NOW)
    found, work = corrected()
    assert found == {revised, withdrawn}
    for serial in range(22, 822):
        add(store, serial, published=NOW - timedelta(days=serial), checked=NOW)

    again, more_work = corrected()
    assert again == found
    assert more_work <= work * 1.1 + 50  # 40 times the articles, the same work
