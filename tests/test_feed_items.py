"""An article's feed item (its body read from the store, the attribution added) and the JSON Feed."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime

from pipeline.config import load_config
from pipeline.model import Alert, Article, StoredArticle, Version
from pipeline.publish.entries import Entry, make_entry
from pipeline.publish.feed_items import FeedItem
from pipeline.publish.feeds import FeedSpec, render_feeds
from pipeline.publish.render import feed_items
from tests.helpers import REPO_ROOT

SOURCE = load_config(REPO_ROOT / "sources.yaml").source("inz")
WHEN = datetime(2026, 7, 1, tzinfo=UTC)


class MemoryStore:
    """Bodies from memory."""

    def bodies(self, article_ids: Iterable[int]) -> dict[int, str]:
        return {article_id: f"<p>Body of {article_id}</p>" for article_id in article_ids}

    def versions(self, article_ids: Iterable[int]) -> dict[int, list[Version]]:
        return {}

    def alerts(self, source_id: str, limit: int = -1, *, current_only: bool = False) -> list[Alert]:
        return []

    def document_size(self, article_id: int) -> int | None:
        return None

    def document(self, article_id: int) -> bytes | None:
        return None


def stored(number: int, *, version: int = 1) -> StoredArticle:
    url = f"{SOURCE.base_url}about-us/media-centre/news-notifications/article-{number}"
    title = f"Article {number}" + (f", version {version}" if version > 1 else "")
    article = Article(url, title, WHEN, "Announcement", ("Work",), "Summary.", "")
    return StoredArticle(number, SOURCE.id, f"article-{number}", WHEN, version, WHEN, f"hash{version}", article)


def entries(*numbers: int) -> list[Entry]:
    return [make_entry(stored(number), SOURCE, "https://panui.example/") for number in numbers]


def feed(title: str, items: list[FeedItem]) -> FeedSpec:
    return FeedSpec(
        title=title,
        description=f"{title}: every announcement",
        language="en-NZ",
        home_url="https://panui.example/",
        folder_url="https://panui.example/",
        items=tuple(items),
        poll_minutes=60,
        since=WHEN,
    )


def made_items(*numbers: int) -> list[FeedItem]:
    return feed_items(MemoryStore(), entries(*numbers))


def test_a_feed_item_carries_the_articles_body_and_attribution() -> None:
    (item,) = made_items(3)

    assert item.content_html.startswith("<p>Body of 3</p>")
    assert SOURCE.licence.url in item.content_html


def test_json_feed_is_the_whole_feed_as_one_json_document() -> None:
    items = made_items(2, 1)
    items[0] = replace(items[0], title='Quotes " and \\ backslash, te reo Māori: ā ē ī ō ū', summary="")
    spec = replace(feed("Site", items), hub="https://hub.example/")

    data = render_feeds(spec)["feed.json"]

    parsed = json.loads(data)
    assert data.endswith(b"}\n")
    assert list(parsed)[-1] == "items"
    assert [item["title"] for item in parsed["items"]] == [items[0].title, "Article 1"]
    assert parsed["hubs"] == [{"type": "WebSub", "url": "https://hub.example/"}]


def test_an_empty_feed_is_valid_json_feed() -> None:
    parsed = json.loads(render_feeds(feed("Nothing yet", []))["feed.json"])

    assert parsed["items"] == []
    assert parsed["title"] == "Nothing yet"
