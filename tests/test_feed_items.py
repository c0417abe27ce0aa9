"""An article is in several feeds of one publication (the site's, its source's, its type's, each of its
topics'): its feed item, body read from the store and attribution added, is made once and shared, and
so are its forms in the feed formats."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from feedgen.entry import FeedEntry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.config import load_config
from pipeline.model import Alert, Article, StoredArticle, Version
from pipeline.publish import feeds
from pipeline.publish.entries import Entry, make_entry
from pipeline.publish.feed_items import FeedItem, feed_entry
from pipeline.publish.feeds import FeedSpec, ItemForms, render_feeds
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

    def alerts(self, source_id: str, limit: int = -1, *, current_only: bool = False) -> list[Alert]:
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


# -- each item's forms in the feed formats, shared by the feeds it is in ------------------------------


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
    return FeedItems(CountingStore()).of(entries(*numbers))


def test_feeds_sharing_items_are_the_bytes_each_would_be_alone() -> None:
    site, topic = feed("Site", made_items(3, 2, 1)), feed("Work", made_items(3, 1))
    alone = [render_feeds(site), render_feeds(topic)]
    forms = ItemForms()

    shared = [render_feeds(site, forms), render_feeds(topic, forms), render_feeds(site, forms)]

    # The third render proves a later feed did not take items out of an earlier feed's tree.
    assert shared == [alone[0], alone[1], alone[0]]


def test_json_feed_is_the_whole_feed_as_one_json_document() -> None:
    items = made_items(2, 1)
    items[0] = replace(items[0], title='Quotes " and \\ backslash, te reo Māori: ā ē ī ō ū', summary="")
    spec = replace(feed("Site", items), hub="https://hub.example/")

    data = render_feeds(spec, ItemForms())["feed.json"]

    parsed = json.loads(data)
    assert data.endswith(b"}\n")
    assert list(parsed)[-1] == "items"
    assert [item["title"] for item in parsed["items"]] == [items[0].title, "Article 1"]
    assert parsed["hubs"] == [{"type": "WebSub", "url": "https://hub.example/"}]
    # Byte-stable: exactly what json.dumps makes of the whole feed.
    assert data == (json.dumps(parsed, ensure_ascii=False) + "\n").encode()


def test_an_empty_feed_is_valid_json_feed() -> None:
    parsed = json.loads(render_feeds(feed("Nothing yet", []))["feed.json"])

    assert parsed["items"] == []
    assert parsed["title"] == "Nothing yet"


def test_item_forms_are_made_once_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    real = feed_entry

    def counted(item: FeedItem) -> FeedEntry:
        made.append(item.title)
        return real(item)

    monkeypatch.setattr(feeds, "feed_entry", counted)
    forms = ItemForms(keep=2)
    one, two, three = made_items(1, 2, 3)

    render_feeds(feed("Site", [one, two]), forms)
    render_feeds(feed("Topic", [one, two]), forms)  # made already: shared
    render_feeds(feed("Type", [three]), forms)  # one is the least recently used: dropped
    render_feeds(feed("Again", [one]), forms)

    assert made == ["Article 1", "Article 2", "Article 3", "Article 1"]


# -- a feed is its own fields with its items' texts put in: the very bytes feedgen writes of the whole ------


def feedgen_whole(spec: FeedSpec) -> dict[str, bytes]:
    """The RSS and Atom documents feedgen writes with every item in the feed's tree (as Pānui wrote
    feeds before items were written once per publication)."""
    documents = {}
    for kind, document in feeds.DOCUMENTS.items():
        generator = feeds._channel(spec)
        for item in spec.items:
            generator.add_entry(feed_entry(item), order="append")
        documents[spec.file_name(kind)] = document(generator, spec)
    return documents


def spliced(spec: FeedSpec, forms: ItemForms) -> dict[str, bytes]:
    rendered = render_feeds(spec, forms)
    return {name: data for name, data in rendered.items() if not name.endswith(".json")}


# Text as extraction leaves it: any character but controls and surrogates (sanitising strips those).
TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufffe\uffff"), max_size=40)
NAME = TEXT.filter(str.strip)  # feedgen refuses an item without a title, or an author without a name
BODY = st.lists(
    st.sampled_from(["<p>", "</p>", "&amp;", "]]>", "<br>", "Māori ā", '<a href="https://x.example/?a=1&amp;b=2">'])
    | TEXT,
    max_size=8,
).map("".join)
ITEM = st.builds(
    FeedItem,
    id=st.sampled_from(["https://www.immigration.govt.nz/a", "https://www.immigration.govt.nz/a#version-2", "urn:x"]),
    title=NAME,
    link=st.just("https://www.immigration.govt.nz/a"),
    published=st.datetimes(timezones=st.just(UTC)),
    updated=st.datetimes(timezones=st.just(UTC)),
    author=NAME,
    author_url=st.just("https://www.immigration.govt.nz/"),
    content_html=BODY,
    summary=TEXT,
    categories=st.lists(NAME, max_size=3, unique=True).map(tuple),
    archive_url=st.sampled_from([None, "https://panui.example/inz/articles/a/", "https://www.immigration.govt.nz/a"]),
    rights=st.sampled_from([None, "CC BY 3.0 NZ: https://creativecommons.org/licenses/by/3.0/nz/"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    feeds_items=st.lists(st.lists(ITEM, max_size=4), min_size=1, max_size=3),
    hub=st.sampled_from([None, "https://hub.example/"]),
)
def test_feeds_are_the_documents_feedgen_writes_with_every_item_in_the_tree(
    feeds_items: list[list[FeedItem]], hub: str | None
) -> None:
    forms = ItemForms()  # shared by the feeds, as in a publication
    for number, items in enumerate(feeds_items):
        spec = replace(feed(f"Feed {number}", items), hub=hub)
        assert spliced(spec, forms) == feedgen_whole(spec)


def test_a_publications_feeds_are_the_documents_feedgen_writes() -> None:
    items = made_items(5, 4, 3, 2, 1)
    forms = ItemForms()
    for spec in (feed("Site", items), feed("Work", items[1::2]), feed("Empty", [])):
        assert spliced(spec, forms) == feedgen_whole(spec)
