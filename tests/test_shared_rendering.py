"""What publishing makes once and reuses across the pages of a publication: an article's list item
(one rendering serves listings at every depth), the parts pages share (navigation, feed links) and
an article's row read from the catalogue."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bs4 import BeautifulSoup, Tag

from pipeline.config import load_config
from pipeline.model import Article, StoredArticle
from pipeline.publish.archive import SiteContext, feed_links, list_item, part
from pipeline.publish.entries import Entry, make_entry
from pipeline.store.rows import ArticleRows
from tests.helpers import REPO_ROOT

SOURCE = load_config(REPO_ROOT / "sources.yaml").source("inz")
WHEN = datetime(2026, 7, 1, tzinfo=UTC)


def entry(title: str = "Visa changes <announced> & more") -> Entry:
    article = Article(f"{SOURCE.base_url}news/one", title, WHEN, "Announcement", ("Work",), "A summary.", "")
    return make_entry(StoredArticle(1, SOURCE.id, "one", WHEN, 1, WHEN, "hash", article), SOURCE, "https://x.example/")


def site() -> SiteContext:
    return SiteContext(site_url="https://x.example/", site_title="Pānui", language="en-NZ", sources=(SOURCE,))


def link_and_title(item: str) -> tuple[str, str]:
    anchor = BeautifulSoup(item, "html.parser").find("a")
    assert isinstance(anchor, Tag)
    return str(anchor["href"]), anchor.get_text()


def test_one_list_item_serves_pages_at_every_depth() -> None:
    context = site()

    items = [str(list_item(context, entry(), root)) for root in ("", "../", "../../../")]

    assert [link_and_title(item)[0] for item in items] == [
        "inz/articles/one/index.html",
        "../inz/articles/one/index.html",
        "../../../inz/articles/one/index.html",
    ]
    assert {link_and_title(item)[1] for item in items} == {"Visa changes <announced> & more"}
    assert "&lt;announced&gt; &amp; more" in items[0]  # still escaped
    assert len(context.list_items) == 1  # rendered once


def test_a_title_holding_the_root_mark_is_still_listed_right() -> None:
    odd = entry("Odd\x00title")

    items = [str(list_item(site(), odd, root)) for root in ("", "../../")]

    assert [link_and_title(item) for item in items] == [
        ("inz/articles/one/index.html", "Odd\x00title"),
        ("../../inz/articles/one/index.html", "Odd\x00title"),
    ]


def test_a_changed_article_gets_a_new_list_item() -> None:
    context = site()
    list_item(context, entry(), "")
    edited = entry("A new title")
    edited = replace(edited, stored=replace(edited.stored, version=2, content_hash="hash2"))

    assert link_and_title(str(list_item(context, edited, "")))[1] == "A new title"


def test_pages_at_one_depth_share_their_navigation() -> None:
    context = site()

    deep, again, top = (
        part(context, "site_nav", "../../"),
        part(context, "site_nav", "../../"),
        part(context, "site_nav", ""),
    )

    assert again is deep  # rendered once
    assert '<a href="../../inz/index.html">Immigration New Zealand</a>' in deep
    assert '<a href="inz/index.html">Immigration New Zealand</a>' in top


def test_feed_links_are_made_once_for_each_list_of_feeds() -> None:
    context = site()
    links = feed_links("../", "inz/", "Immigration & co")

    made = part(context, "feed_list", links)

    assert part(context, "feed_list", list(links)) is made  # a list is keyed by its contents
    assert '<a href="../inz/feed.xml" type="application/rss+xml">RSS</a> · ' in made
    assert 'title="Immigration &amp; co' in part(context, "head_feeds", links)  # still escaped


def row(title: str) -> tuple[object, ...]:
    return (7, "inz", "slug", "Pacific/Auckland", "2026-07-01T00:00:00+00:00", 1, "2026-07-01T00:00:00+00:00",
            "hash", "https://x/", title, "2026-07-01T00:00:00+00:00", None, '["Work"]', "Summary", "", None)  # fmt: skip


def test_an_article_row_read_again_is_the_same_article_and_a_changed_row_a_new_one() -> None:
    rows = ArticleRows(keep=2)

    first, again, changed = rows.read(row("One")), rows.read(row("One")), rows.read(row("Two"))

    assert again is first
    assert changed.article.title == "Two"
    assert first.article.topics == ("Work",)


def test_article_rows_keep_only_the_newest() -> None:
    rows = ArticleRows(keep=2)
    first = rows.read(row("One"))
    rows.read(row("Two"))
    rows.read(row("Three"))  # "One" is the least recently read: dropped

    assert rows.read(row("One")) is not first
    assert rows.read(row("One")) == first
