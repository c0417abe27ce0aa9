"""Incremental publishing: after any change in the store, output/ holds exactly what a full rendering of
the store gives (no stale page, no missing one, the same bytes), while a publication renders only the
pages and feeds that show what changed. Topic and type pages list their newest articles and split the
rest by year, so no page grows with the archive."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from bs4 import BeautifulSoup

import pipeline.publish
from pipeline import files
from pipeline.config import load_config
from pipeline.model import Article, Config
from pipeline.publish import IN_PROGRESS_FILE, publish, render_site
from pipeline.publish.collections import memberships, sort_key
from pipeline.publish.search import search_words
from pipeline.store import Store
from pipeline.store.catalogue import PUBLISH_FILE, Catalogue
from tests.helpers import REPO_ROOT, stored_value

AUCKLAND = ZoneInfo("Pacific/Auckland")
NEWS = "https://www.immigration.govt.nz/about-us/news-centre/"
TOPICS = ("Work", "Study", "Visitors", "Residence", "Compliance")
TYPES = ("Announcement", "Media release")
SEEN = datetime(2026, 7, 13, 1, 0, tzinfo=UTC)


def make_config(tmp_path: Path, **feeds: Any) -> Config:
    data: dict[str, Any] = yaml.safe_load((REPO_ROOT / "sources.yaml").read_text("utf-8"))
    data |= {"output_dir": str(tmp_path / "output"), "state_dir": str(tmp_path / "state")}
    data["site_url"] = "http://localhost:8000/"
    data["feeds"] |= feeds
    data["sources"] = data["sources"][:1]
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return load_config(path)


def make_article(number: int, rng: random.Random) -> Article:
    published = datetime(2026, 7, 1, tzinfo=AUCKLAND) - timedelta(days=rng.randrange(0, 3 * 365))
    return Article(
        url=f"{NEWS}article-{number}/",
        title=f"Article {number} & <friends>",
        published=published.replace(hour=0),
        news_type=rng.choice(TYPES),
        topics=tuple(rng.sample(TOPICS, rng.randrange(1, 3))),
        summary=f"Summary of article {number}.",
        body_html=f"<p>Body of article {number}, about {rng.choice(TOPICS).lower()}.</p>",
    )


def save(store: Store, config: Config, article: Article, when: datetime = SEEN) -> None:
    source = config.sources[0]
    store.save_article(
        article,
        source_id=source.id,
        timezone=source.timezone,
        requested_url=article.url,
        retrieved_at=when,
        raw_page_id=None,
    )


def on_disk(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def assert_output_is_the_full_rendering(config: Config, store: Store) -> None:
    expected = render_site(config, store)
    actual = on_disk(config.output_dir)
    assert sorted(set(actual) - set(expected)) == [], "stale files left in output/"
    assert sorted(set(expected) - set(actual)) == [], "files missing from output/"
    assert [path for path in expected if actual[path] != expected[path]] == []


@pytest.fixture
def filled(tmp_path: Path) -> Iterator[tuple[Config, Store, list[Article]]]:
    config = make_config(tmp_path, max_items=5)
    rng = random.Random(20261128)
    articles = [make_article(number, rng) for number in range(40)]
    store = Store(config.state_dir)
    for article in articles:
        save(store, config, article)
    publish(config, store)
    yield config, store, articles
    store.close()


def test_every_kind_of_change_leaves_exactly_the_full_rendering(filled: tuple[Config, Store, list[Article]]) -> None:
    config, store, articles = filled
    assert_output_is_the_full_rendering(config, store)
    rng = random.Random(7)
    later = SEEN
    steps: list[Callable[[], object]] = [
        lambda: save(store, config, make_article(100, rng)),  # a new article
        lambda: save(store, config, replace(articles[0], title="A corrected title"), later),
        lambda: save(store, config, replace(articles[1], topics=("A topic of its own",)), later),  # a new topic
        lambda: save(store, config, replace(articles[1], topics=("Work",)), later),  # ... gone again
        lambda: save(store, config, replace(articles[2], published=articles[2].published.replace(year=2020)), later),
        lambda: save(store, config, replace(articles[2], published=articles[2].published.replace(year=2026)), later),
        lambda: [store.record_missing(articles[3].url, later + timedelta(hours=hours), 0) for hours in (0, 1)],
        lambda: store.record_present(articles[3].url),
        lambda: save(store, config, replace(articles[4], news_type=None, body_html="<p>Shorter.</p>"), later),
    ]
    for number, step in enumerate(steps):
        later += timedelta(hours=2)
        step()
        written = publish(config, store)
        assert written, f"step {number} changed what the archive shows"
        assert_output_is_the_full_rendering(config, store)
    assert publish(config, store) == []  # nothing changed since


def test_a_year_or_topic_that_lists_nothing_any_more_is_removed(filled: tuple[Config, Store, list[Article]]) -> None:
    config, store, articles = filled
    output = config.output_dir
    save(store, config, replace(articles[5], topics=("Rare topic",), published=datetime(2019, 5, 1, tzinfo=AUCKLAND)))
    publish(config, store)
    assert (output / "inz/topics/rare-topic/2019/index.html").is_file()
    assert (output / "years/2019/index.html").is_file()
    assert "years/2019/index.html" in (output / "years/2026/index.html").read_text("utf-8")
    assert "rare-topic" in (output / "topics.opml").read_text("utf-8")

    save(store, config, replace(articles[5], topics=("Work",)), SEEN + timedelta(days=1))
    publish(config, store)

    assert not (output / "years/2019/index.html").exists()
    assert sorted(path.name for path in (output / "inz/topics/rare-topic").rglob("*") if path.is_file()) == []
    assert "years/2019/" not in (output / "years/2026/index.html").read_text("utf-8")
    assert "rare-topic" not in (output / "topics.opml").read_text("utf-8")
    assert_output_is_the_full_rendering(config, store)


def test_a_new_article_rewrites_only_the_pages_and_feeds_that_show_it(
    filled: tuple[Config, Store, list[Article]],
) -> None:
    config, store, _ = filled
    newest = replace(
        make_article(200, random.Random(1)),
        published=datetime(2026, 7, 2, tzinfo=AUCKLAND),
        news_type="Announcement",
        topics=("Work",),
    )
    save(store, config, newest)

    written = set(publish(config, store))

    # The search index: the files of its words, and of its group of results (see test_search_index.py).
    new_id = stored_value(store, "SELECT id FROM articles WHERE slug = ?", "article-200")
    shards = {f"search/terms/{term[:2]}.json" for term in search_words(newest).split()}
    assert {path for path in written if path.startswith("search/")} == shards | {f"search/articles/{new_id // 16}.json"}
    written -= shards | {f"search/articles/{new_id // 16}.json"}
    feeds = {"feed.xml", "feed.atom", "feed.json"}
    expected = (
        {
            "index.html",
            "years/2026/index.html",
            "inz/index.html",
            "inz/articles/article-200/index.html",
        }
        | feeds
        | {"inz/" + name for name in feeds}
        | {f"inz/{group}/{name}" for group in ("topics/work", "types/announcement") for name in (*feeds, "index.html")}
        | {"inz/topics/work/2026/index.html", "inz/types/announcement/2026/index.html"}
    )
    assert written == expected


def test_topic_pages_show_the_newest_and_split_the_rest_by_year(filled: tuple[Config, Store, list[Article]]) -> None:
    config, _, articles = filled
    output = config.output_dir
    work = [article for article in articles if "Work" in article.topics]
    by_year: dict[int, list[Article]] = {}
    for article in work:
        by_year.setdefault(article.published.year, []).append(article)
    assert len(work) > 5 and len(by_year) > 1  # more than one page's worth, over several years

    page = BeautifulSoup((output / "inz/topics/work/index.html").read_text("utf-8"), "lxml")
    listed = [link.get_text() for link in page.select("ul.articles h2 a")]
    newest = sorted(work, key=lambda article: (article.published, article.url), reverse=True)[:5]
    assert listed == [article.title for article in newest]
    year_links = {link["href"]: link.get_text() for link in page.select("section.groups a")}
    assert year_links == {
        f"../../../inz/topics/work/{year}/index.html": f"{year} ({len(members)})" for year, members in by_year.items()
    }
    for year, members in by_year.items():
        year_page = BeautifulSoup((output / f"inz/topics/work/{year}/index.html").read_text("utf-8"), "lxml")
        assert sorted(link.get_text() for link in year_page.select("ul.articles h2 a")) == sorted(
            article.title for article in members
        )
        assert year_page.select_one('a[href="../../../../inz/topics/work/index.html"]') is not None  # the topic


def test_losing_the_publishing_index_costs_a_full_publication_and_nothing_else(
    filled: tuple[Config, Store, list[Article]],
) -> None:
    config, store, _ = filled
    before = on_disk(config.output_dir)
    (config.state_dir / PUBLISH_FILE).write_bytes(b"this is not a database, it was damaged" * 100)
    for suffix in ("-wal", "-shm"):
        Path(f"{config.state_dir / PUBLISH_FILE}{suffix}").unlink(missing_ok=True)

    assert publish(config, store) == []  # every output planned again; not one byte differs

    assert on_disk(config.output_dir) == before
    assert publish(config, store) == []


def test_a_new_layout_of_the_publishing_index_removes_the_files_of_the_old_one(
    filled: tuple[Config, Store, list[Article]],
) -> None:
    # A Pānui whose catalogue has another schema rebuilds it (and plans every output): a file the
    # earlier layout published that no output claims now must go, not stay on the site for ever.
    config, store, _ = filled
    before = on_disk(config.output_dir)
    old = config.output_dir / "search" / "postings" / "visas.txt"
    old.parent.mkdir(parents=True, exist_ok=True)
    old.write_bytes(b"an earlier layout's file\n")
    catalogue = store.catalogue(config.state_dir)
    catalogue.record_files([("search/postings/visas.txt", "its key")])
    catalogue.set_state("schema", "an earlier one")
    catalogue.close()

    assert publish(config, store) == []  # every output planned again; not one byte differs

    assert not old.exists()
    assert on_disk(config.output_dir) == before
    assert publish(config, store) == []


def test_a_killed_publication_is_completed_by_the_next(filled: tuple[Config, Store, list[Article]]) -> None:
    config, store, articles = filled
    save(store, config, replace(articles[6], title="Edited before the kill"), SEEN + timedelta(hours=1))
    # A publication killed after it had indexed the change but before it wrote anything:
    catalogue = store.catalogue(config.state_dir)
    catalogue.index([], catalogue.changed_ids())
    catalogue.close()
    (config.state_dir / IN_PROGRESS_FILE).write_text("12345\n")

    publish(config, store)

    assert not (config.state_dir / IN_PROGRESS_FILE).exists()
    assert "Edited before the kill" in (config.output_dir / "inz/articles/article-6/index.html").read_text("utf-8")
    assert_output_is_the_full_rendering(config, store)


def test_after_a_killed_publication_its_renames_are_put_on_disk_before_anything_is_recorded(
    filled: tuple[Config, Store, list[Article]], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, store, _ = filled
    (config.state_dir / IN_PROGRESS_FILE).write_text("12345\n")  # killed, maybe after some of its renames
    events: list[str] = []
    real_record = Catalogue.record_files

    def flush_tree(root: Path) -> None:
        events.append(f"flush {root}")
        files.flush_tree(root)

    def record_files(self: Catalogue, done: Iterable[tuple[str, str]]) -> None:
        events.append("record")
        real_record(self, done)

    monkeypatch.setattr(pipeline.publish, "flush_tree", flush_tree)
    monkeypatch.setattr(Catalogue, "record_files", record_files)

    publish(config, store)

    assert events[0] == f"flush {config.output_dir}"
    assert "record" in events


def test_a_full_publication_restores_files_deleted_or_edited_by_hand(
    filled: tuple[Config, Store, list[Article]],
) -> None:
    config, store, _ = filled
    before = on_disk(config.output_dir)
    (config.output_dir / "inz/articles/article-7/index.html").unlink()
    (config.output_dir / "inz/topics/work/feed.xml").write_text("edited by hand", "utf-8")

    written = publish(config, store, full=True)  # what `run.py rebuild` does after re-extracting

    assert sorted(written) == ["inz/articles/article-7/index.html", "inz/topics/work/feed.xml"]
    assert on_disk(config.output_dir) == before


def test_a_renamed_topic_is_renamed_on_every_page_of_it(filled: tuple[Config, Store, list[Article]]) -> None:
    config, store, _ = filled
    output = config.output_dir
    old_years = sorted(path.parent.name for path in (output / "inz/topics/work").glob("*/index.html"))
    assert len(old_years) > 1
    newest = replace(
        make_article(300, random.Random(2)), published=datetime(2026, 7, 3, tzinfo=AUCKLAND), topics=("WORK",)
    )
    save(store, config, newest)  # the newest article of the topic now spells it "WORK"

    publish(config, store)

    for year in old_years:
        page = (output / f"inz/topics/work/{year}/index.html").read_text("utf-8")
        assert "Topic: WORK" in page and "Topic: Work," not in page, year
    assert_output_is_the_full_rendering(config, store)


def test_a_source_taken_out_of_the_config_leaves_no_page_behind(tmp_path: Path) -> None:
    both = make_config(tmp_path, max_items=5)
    data: dict[str, Any] = yaml.safe_load(both.path.read_text("utf-8"))
    data["sources"].append(
        data["sources"][0] | {"id": "other", "name": "Other agency", "base_url": "https://www.example.govt.nz"}
    )
    both.path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    both = load_config(both.path)
    rng = random.Random(5)
    with Store(both.state_dir) as store:
        for number in range(6):
            article = make_article(number, rng)
            other = replace(make_article(50 + number, rng), url=f"https://www.example.govt.nz/news/{number}/")
            save(store, both, article)
            store.save_article(
                other,
                source_id="other",
                timezone="Pacific/Auckland",
                requested_url=other.url,
                retrieved_at=SEEN,
                raw_page_id=None,
            )
        publish(both, store)
        assert (both.output_dir / "other/index.html").is_file()
        assert (both.output_dir / "other/articles/3/index.html").is_file()
        only_inz = make_config(tmp_path, max_items=5)

        publish(only_inz, store)

        assert not (both.output_dir / "other").exists() or not any((both.output_dir / "other").rglob("*.*"))
        assert_output_is_the_full_rendering(only_inz, store)


def test_a_removal_a_killed_publication_left_undone_is_finished(filled: tuple[Config, Store, list[Article]]) -> None:
    config, store, articles = filled
    save(store, config, replace(articles[8], topics=("Short-lived",)), SEEN + timedelta(hours=1))
    publish(config, store)
    assert (config.output_dir / "inz/topics/short-lived/feed.xml").is_file()
    save(store, config, replace(articles[8], topics=("Work",)), SEEN + timedelta(hours=2))
    # Killed after it indexed the change (the topic lists nothing now) and before it deleted its files:
    catalogue = store.catalogue(config.state_dir)
    changed = catalogue.changed_ids()
    stored = catalogue.articles(changed)
    source = config.sources[0]
    catalogue.index([(item.id, sort_key(item), "", "", "", memberships(item, source)) for item in stored], changed)
    catalogue.close()
    (config.state_dir / IN_PROGRESS_FILE).write_text("12345\n")

    publish(config, store)

    assert not (config.output_dir / "inz/topics/short-lived/feed.xml").exists()
    assert_output_is_the_full_rendering(config, store)


def test_what_changed_comes_from_the_stores_journal_and_an_unpaired_index_compares_everything(
    filled: tuple[Config, Store, list[Article]],
) -> None:
    """At 50,000 articles, comparing every article with the index on every run is most of a quiet
    sync's cost: the store's triggers keep a journal instead. An index the journal is not paired with
    (rebuilt, restored from a backup) is compared in full, so it is never left stale."""
    config, store, articles = filled

    def changed() -> list[int]:
        catalogue = store.catalogue(config.state_dir)
        try:
            return catalogue.changed_ids()
        finally:
            catalogue.close()

    assert changed() == []
    save(store, config, replace(articles[5], title="A corrected title"), SEEN + timedelta(hours=3))
    journal = changed()
    assert len(journal) == 1

    catalogue = store.catalogue(config.state_dir)
    try:
        catalogue.set_state("store_token", "an index restored from a backup")
        assert catalogue.changed_ids() == journal  # the same article, found by comparing
    finally:
        catalogue.close()
    assert publish(config, store)
    assert_output_is_the_full_rendering(config, store)
    assert changed() == [] and publish(config, store) == []
