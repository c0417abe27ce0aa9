"""The SQLite store: safe to open at any time, one version per distinct content, raw pages kept
compressed and once, slugs that never move, and articles read back newest first in NZ time."""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipeline.errors import StoreDamaged, StoreError
from pipeline.model import Article, Page
from pipeline.store import STORE_FILE, Store, inspect_store
from pipeline.store.schema import MIGRATIONS
from tests.helpers import stored_articles, stored_value

AUCKLAND = ZoneInfo("Pacific/Auckland")
NEWS = "https://www.immigration.govt.nz/about-us/news-centre/"
SEEN = datetime(2026, 7, 13, 1, 0, tzinfo=UTC)


def article(
    slug: str = "pathway", *, day: int = 9, month: int = 7, body: str = "<p>Body.</p>\n<p>More.</p>"
) -> Article:
    return Article(
        url=f"{NEWS}{slug}/",
        title=f"Title of {slug}",
        published=datetime(2026, month, day, tzinfo=AUCKLAND),
        news_type="Announcement",
        topics=("Study to work", "Visa holders and applicants"),
        summary=f"Summary of {slug}.",
        body_html=body,
    )


def page(url: str, body: bytes, *, etag: str | None = None) -> Page:
    headers = {"content-type": "text/html; charset=utf-8"} | ({"etag": etag} if etag else {})
    return Page(url=url, final_url=url, status=200, headers=headers, body=body, fetched_at=SEEN)


def save(
    store: Store,
    item: Article,
    *,
    source_id: str = "inz",
    requested: str | None = None,
    when: datetime = SEEN,
    raw: int | None = None,
) -> str:
    return store.save_article(
        item,
        source_id=source_id,
        timezone="Pacific/Auckland",
        requested_url=requested or item.url,
        retrieved_at=when,
        raw_page_id=raw,
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "state") as opened:
        yield opened


def test_migrations_are_recorded_and_reopening_is_safe(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with Store(state) as first:
        assert stored_value(first, "SELECT max(version) FROM schema_migrations") == len(MIGRATIONS)
        save(first, article())
    with Store(state) as again:  # opening an up-to-date store changes nothing
        assert stored_value(again, "SELECT max(version) FROM schema_migrations") == len(MIGRATIONS)
        assert [stored.article.url for stored in stored_articles(again)] == [article().url]
    with sqlite3.connect(state / STORE_FILE) as db:
        versions = [row[0] for row in db.execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions == list(range(1, len(MIGRATIONS) + 1))


def test_store_from_a_newer_panui_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state"
    Store(state).close()
    with sqlite3.connect(state / STORE_FILE) as db:
        db.execute("INSERT INTO schema_migrations VALUES (?, ?)", (len(MIGRATIONS) + 1, "2030-01-01T00:00:00+00:00"))
    with pytest.raises(StoreError, match="newer"):
        Store(state)


def test_a_version_is_added_only_when_the_content_changes(store: Store) -> None:
    first = article()
    assert save(store, first) == "new"
    assert save(store, first, when=SEEN + timedelta(hours=1)) == "unchanged"
    reindented = replace(first, body_html="<p>Body.</p>\n\n    <p>More.</p>\n", title=" Title of  pathway ")
    assert save(store, reindented) == "unchanged"
    minified = replace(first, body_html="<p>Body.</p><p>More.</p>")
    assert save(store, minified) == "unchanged"
    (stored,) = stored_articles(store)
    assert stored.version == 1

    changed = replace(first, body_html="<p>Body.</p>\n<p>More, and a correction.</p>")
    assert save(store, changed, when=SEEN + timedelta(days=1)) == "updated"
    assert save(store, changed) == "unchanged"
    (stored,) = stored_articles(store)
    assert stored.version == 2
    assert store.bodies([stored.id]) == {stored.id: changed.body_html}
    assert stored.first_seen == SEEN  # the article is as old as when it was first seen
    assert stored.retrieved_at == SEEN + timedelta(days=1)
    assert save(store, replace(changed, topics=("Study to work",))) == "updated"
    assert stored_articles(store)[0].version == 3


def test_raw_pages_are_compressed_and_kept_once(store: Store, tmp_path: Path) -> None:
    body = b"<html><body>" + b"<p>The same paragraph again.</p>" * 200 + b"</body></html>"
    first_id = store.remember_response(page(NEWS + "a/", body, etag='"a"'))
    second_id = store.remember_response(page(NEWS + "a/", body, etag='"a"'))
    third_id = store.remember_response(page(NEWS + "alias-of-a/", body))
    assert first_id == second_id == third_id
    assert stored_value(store, "SELECT count(*) FROM raw_pages") == 1
    assert store.cached_body(NEWS + "a/") == body
    assert store.validators(NEWS + "a/") == ('"a"', None)
    with sqlite3.connect(tmp_path / "state" / STORE_FILE) as db:
        ((stored, size),) = db.execute("SELECT body, size FROM raw_pages").fetchall()
    assert size == len(body)
    assert len(stored) < len(body) // 10
    assert zlib.decompress(stored) == body  # a zlib stream, whatever made it: any zlib reads the store


def test_a_raw_page_compressed_by_zlib_before_is_read_as_it_was(store: Store, tmp_path: Path) -> None:
    body = b"<html><body>" + b"<p>Kept by an earlier Pan\xc5\xabi.</p>" * 50 + b"</body></html>"
    store.remember_response(page(NEWS + "a/", body))
    with sqlite3.connect(tmp_path / "state" / STORE_FILE) as db:  # as the standard library's zlib wrote it
        db.execute("UPDATE raw_pages SET body = ?", (zlib.compress(body, 3),))
    assert store.cached_body(NEWS + "a/") == body


def test_superseded_discovery_page_is_dropped_but_cited_pages_are_kept(store: Store) -> None:
    store.remember_response(page("https://www.immigration.govt.nz/", b"<p>home, morning</p>"))
    store.remember_response(page("https://www.immigration.govt.nz/", b"<p>home, noon</p>"))
    assert (
        stored_value(store, "SELECT count(*) FROM raw_pages") == 1
    )  # the home page's earlier copy is only a cache entry
    assert store.cached_body("https://www.immigration.govt.nz/") == b"<p>home, noon</p>"

    raw_v1 = store.remember_response(page(NEWS + "pathway/", b"<p>version 1</p>"))
    save(store, article(), raw=raw_v1)
    raw_v2 = store.remember_response(page(NEWS + "pathway/", b"<p>version 2</p>"))
    save(store, article(body="<p>Version 2.</p>"), raw=raw_v2)
    assert (
        stored_value(store, "SELECT count(*) FROM raw_pages") == 3
    )  # home + both article copies: each is cited by a version


def test_the_copy_a_discovery_read_was_made_of_stays_until_a_read_of_another_replaces_it(store: Store) -> None:
    # The next read of a changed sitemap is compared with the copy its last read was made of.
    sitemap = "https://www.immigration.govt.nz/sitemap.xml"
    store.remember_response(page(sitemap, b"<urlset>first</urlset>"))
    store.remember_read(sitemap, "reader", {"entry_keys": "AA=="})
    store.remember_response(page(sitemap, b"<urlset>second</urlset>"))

    assert store.previous_read(sitemap, "reader", body_for="entry_keys") == (
        {"entry_keys": "AA=="},
        b"<urlset>first</urlset>",
    )
    assert store.recall_read(sitemap, "reader") is None  # (not a read of the copy stored now)
    assert stored_value(store, "SELECT count(*) FROM raw_pages") == 2
    store.remember_response(page(sitemap, b"<urlset>third</urlset>"))  # its read failed: "second" goes
    assert stored_value(store, "SELECT count(*) FROM raw_pages") == 2
    store.remember_read(sitemap, "reader", {"entry_keys": "AQ=="})

    assert store.previous_read(sitemap, "reader", body_for="entry_keys") == (
        {"entry_keys": "AQ=="},
        b"<urlset>third</urlset>",
    )
    assert stored_value(store, "SELECT count(*) FROM raw_pages") == 1
    assert store.previous_read(sitemap, "another reader", body_for="entry_keys") is None
    assert store.previous_read(sitemap, "reader", body_for="sitemaps") == ({"entry_keys": "AQ=="}, None)  # not read


def fetched(store: Store, item: Article, body: bytes) -> str:
    fetched_page = page(item.url, body, etag='"v"')
    return store.save_article(
        item, source_id="inz", timezone="Pacific/Auckland", requested_url=item.url, retrieved_at=SEEN, page=fetched_page
    )


def test_a_fetched_page_and_its_article_are_kept_together(store: Store, tmp_path: Path) -> None:
    assert fetched(store, article(), b"<p>version 1</p>") == "new"
    assert fetched(store, article(), b"<p>version 1, re-rendered</p>") == "unchanged"

    assert store.cached_body(article().url) == b"<p>version 1, re-rendered</p>"  # the latest answer
    assert store.validators(article().url) == ('"v"', None)
    with sqlite3.connect(tmp_path / "state" / STORE_FILE) as db:
        ((cited,),) = db.execute("SELECT body FROM raw_pages WHERE id = (SELECT raw_page_id FROM revisions)")
    assert zlib.decompress(cited) == b"<p>version 1</p>"  # the version cites the page it came from


def test_an_article_is_saved_with_its_raw_page_or_its_id_not_both(store: Store) -> None:
    raw = store.remember_response(page(article().url, b"<p>version 1</p>"))

    with pytest.raises(ValueError, match="not both"):
        store.save_article(
            article(), source_id="inz", timezone="Pacific/Auckland", requested_url=article().url,
            retrieved_at=SEEN, raw_page_id=raw, page=page(article().url, b"<p>version 1</p>"),
        )  # fmt: skip


def test_an_article_that_cannot_be_saved_leaves_no_page_behind(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> str:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Store, "_free_slug", broken)  # a failure after the page, in the same transaction

    with pytest.raises(sqlite3.OperationalError):
        fetched(store, article(), b"<p>version 1</p>")

    # Neither is kept: the next sync fetches the page again in full (it has no validators for it).
    assert stored_value(store, "SELECT count(*) FROM raw_pages") == 0
    assert store.validators(article().url) is None


def test_slugs_are_unique_per_source_and_stable(store: Store) -> None:
    save(store, article("pathway"))
    save(
        store,
        replace(
            article("pathway"), url="https://www.immigration.govt.nz/about-us/media-centre/news-notifications/pathway"
        ),
    )
    save(store, replace(article("pathway"), url=NEWS + "Pathway/"))
    save(store, replace(article("pathway"), url="https://news.example.govt.nz/pathway/"), source_id="other")
    slugs = {(s.source_id, s.article.url): s.slug for s in stored_articles(store)}
    assert slugs[("inz", NEWS + "pathway/")] == "pathway"
    assert sorted(slug for (source, _), slug in slugs.items() if source == "inz") == [
        "pathway",
        "pathway-2",
        "pathway-3",
    ]
    assert len({slug for (source, _), slug in slugs.items() if source == "inz"}) == 3
    assert stored_articles(store, "other")[0].slug == "pathway"  # another source has its own slugs
    save(store, article("pathway", body="<p>Changed.</p>"))  # a new version keeps the slug
    assert {(s.source_id, s.article.url): s.slug for s in stored_articles(store)} == slugs


def test_articles_keep_new_zealand_dates(store: Store) -> None:
    save(store, article("march", day=2, month=3))
    save(store, article("july-9", day=9))
    stored = {item.slug: item for item in stored_articles(store)}
    for item in stored.values():
        assert item.article.published.tzinfo == AUCKLAND
        assert item.first_seen.utcoffset() == timedelta(0)
    assert stored["march"].article.published.isoformat() == "2026-03-02T00:00:00+13:00"
    assert stored["july-9"].article.published.isoformat() == "2026-07-09T00:00:00+12:00"
    assert stored["july-9"].article.topics == ("Study to work", "Visa holders and applicants")


def test_url_aliases_lead_to_the_article(store: Store) -> None:
    old = "https://www.immigration.govt.nz/about-us/media-centre/news-notifications/pathway-student-visa-changes"
    assert not store.known_url(old)
    save(store, article(), requested=old)
    assert store.known_url(old)
    assert store.known_url(article().url)
    assert not store.known_url(NEWS + "something-else/")
    other_alias = NEWS + "pathway/?utm_source=x"
    save(store, article(), requested=other_alias)  # unchanged content, but the new alias is learnt
    assert store.known_url(other_alias)
    assert len(stored_articles(store)) == 1


def test_runs_are_recorded(store: Store) -> None:
    run = store.start_run(SEEN)
    store.finish_run(run, SEEN + timedelta(minutes=1), 0, {"new": 1})
    assert stored_value(store, "SELECT count(*) FROM runs") == 1


def test_unopenable_store_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(StoreError) as caught:
        Store(blocker)
    assert caught.value.hint


def test_a_new_store_is_made_whole_before_it_takes_its_name(tmp_path: Path) -> None:
    state = tmp_path / "state"
    assert inspect_store(state / STORE_FILE) is False  # missing: the one fresh install
    Store(state).close()
    assert sorted(path.name for path in state.iterdir()) == [STORE_FILE]  # no temporary copy left
    assert inspect_store(state / STORE_FILE) is True


def test_inspecting_a_store_writes_nothing_beside_it(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with Store(state) as store:
        save(store, article())
    before = {path.name: path.stat().st_mtime_ns for path in state.iterdir()}
    assert inspect_store(state / STORE_FILE) is True
    assert {path.name: path.stat().st_mtime_ns for path in state.iterdir()} == before  # no -wal, no -shm


def test_a_store_being_written_is_not_taken_for_damage(tmp_path: Path) -> None:
    """Another run's open write transaction: the check reads through SQLite's locks, not around them."""
    state = tmp_path / "state"
    with Store(state) as writer, writer.transaction() as db:
        for number in range(200):
            db.execute(
                "INSERT INTO runs (started_at, report) VALUES (?, ?)", (SEEN.isoformat(), "x" * 5000 + str(number))
            )
        assert inspect_store(state / STORE_FILE) is True


def test_a_store_whose_first_run_stopped_before_its_tables_is_used(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    with sqlite3.connect(state / STORE_FILE) as db:
        db.execute("PRAGMA journal_mode=WAL")  # an earlier Pānui, stopped right after this
    db.close()
    with Store(state) as store:  # nothing in it to lose: the schema is made
        assert stored_value(store, "SELECT max(version) FROM schema_migrations") == len(MIGRATIONS)


def test_another_programs_database_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    with sqlite3.connect(state / STORE_FILE) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
    db.close()
    with pytest.raises(StoreDamaged, match="no Pānui store"):
        Store(state)


def test_a_damaged_discovery_read_is_no_read(store: Store, tmp_path: Path) -> None:
    # What a discovery read found, edited by hand or damaged on disk: the page is read again (and its
    # read kept anew), where it stopped the source's discovery on every sync.
    sitemap = "https://www.immigration.govt.nz/sitemap.xml"
    store.remember_response(page(sitemap, b"<urlset>first</urlset>"))
    store.remember_read(sitemap, "reader", {"settled": 1})
    with sqlite3.connect(tmp_path / "state" / STORE_FILE) as db:
        db.execute("UPDATE discovery_reads SET found = ?", ('{"settled": 1, "entry_ke',))

    assert (
        store.recall_read(sitemap, "reader") is None
        and store.previous_read(sitemap, "reader", body_for="entry_keys") is None
    )
