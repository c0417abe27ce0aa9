"""An article is in several feeds of one publication (the site's, its source's, its type's, each of its
topics'): its feed item, body read from the store and attribution added, is made once and shared."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from pipeline.config import load_config
from pipeline.model import Alert, Article, StoredArticle, Version
from pipeline.publish.entries import Entry, make_entry
from pipeline.publish.render import FeedItems
from tests.helpers import REPO_ROOT

SOURCE = load_config(REPO_ROOT / "sources.yaml").source("inz")
WHEN = datetime(2026, 7, 1, tzinfo=UTC)


class CountingStore:
    """Bodies from memory, counting which articles were read."""

    def __init__(self) -> None:
        self.read: list[int] = []

    def bodies(self, article_ids: Iterable[int]) -> dict[int, str]:
        ids = list(article_ids)
        self.read += ids
        return {article_id: f"<p>Body of {article_id}</p>" for article_id in ids}

    def versions(self, article_ids: Iterable[int]) -> dict[int, list[Version]]:
        return {}

    def alerts(self, source_id: str, limit: int = -1) -> list[Alert]:
        return []


def stored(number: int, *, version: int = 1) -> StoredArticle:
    url = f"{SOURCE.base_url}about-us/media-centre/news-notifications/article-{number}"
    title = f"Article {number}" + (f", version {version}" if version > 1 else "")
    article = Article(url, title, WHEN, "Announcement", ("Work",), "Summary.", "")
    return StoredArticle(number, SOURCE.id, f"article-{number}", WHEN, version, WHEN, f"hash{version}", article)


def entries(*numbers: int) -> list[Entry]:
    return [make_entry(stored(number), SOURCE, "https://panui.example/") for number in numbers]


def test_an_article_in_several_feeds_has_its_body_read_once() -> None:
    store = CountingStore()
    items = FeedItems(store)

    site_feed = items.of(entries(3, 2, 1))
    topic_feed = items.of(entries(3, 1))

    assert sorted(store.read) == [1, 2, 3]
    assert topic_feed == [site_feed[0], site_feed[2]]
    assert "<p>Body of 3</p>" in site_feed[0].content_html
    assert SOURCE.licence.url in site_feed[0].content_html  # the attribution is part of the shared item


def test_a_new_version_is_a_new_item() -> None:
    store = CountingStore()
    items = FeedItems(store)
    items.of(entries(1))

    (edited,) = items.of([make_entry(stored(1, version=2), SOURCE, "https://panui.example/")])

    assert store.read == [1, 1]
    assert edited.title == "Article 1, version 2"


def test_only_a_bounded_number_of_items_is_kept() -> None:
    store = CountingStore()
    items = FeedItems(store, keep=2)
    items.of(entries(1, 2, 3))  # 1 is the least recently shown: dropped

    items.of(entries(3, 2))
    items.of(entries(1))

    assert store.read == [1, 2, 3, 1]
