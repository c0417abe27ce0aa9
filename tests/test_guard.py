"""The extraction guard (issues 6 and 14): a redesigned site is noticed at once, the last good output is
kept, the operator is told which selector broke, and junk (a body with no text, a date years ahead) is never
published; but a short notice is content, published however short, and never taken for a redesign.

The end-to-end tests run the real CLI against the fixture site and then serve a *redesigned* copy of
the same pages: the same content with renamed classes, built by string replacement over the routes."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import load_config
from pipeline.errors import ExtractError, NotAnArticle
from pipeline.extract import HeldBack, extract_guarded, run_drift, unmet_expectations, word_count
from pipeline.model import Article, Expectations, Page, Source
from tests.fixture_site import (
    ARTICLE_CAPTURES,
    ARTICLE_PATHS,
    DEFAULT_SITEMAP_PATHS,
    SITEMAP_URLSET_PATH,
    XML,
    FixtureSite,
    Route,
    article_path,
    derive_article,
    read_capture,
    sitemap_urlset,
)
from tests.helpers import REPO_ROOT, MakeConfig, run_cli

# The redesign: the same content under new class names (and a renamed page-type attribute).
RENAMES = {
    "hero__title-main": "hero__heading-main",
    "content-page__main": "content-main",
    "hero__publish-date": "hero__date",
    "news-announcements-block__list": "news-list",
    "data-pagetype": "data-page-type",
}
# The selectors an operator writes into sources.yaml after the redesign.
FIXED_SELECTORS: dict[str, Any] = {
    "discovery": {
        "listings": [
            {"path": "/", "links": "section.newsannouncementsblock ul.news-list > li > a.tile--news-announcements"}
        ]
    },
    "extraction": {
        "page_type": {"selector": "body", "attribute": "data-page-type", "accept": ["NewsAnnouncementPage"]},
        "title": "h1.hero__title > span.hero__heading-main",
        "published": ".hero__publish > span.hero__date",
        "summary": "div.content-main > p.content-page__summary",
        "body": "div.content-main",
    },
}
OLD_LISTING = "section.newsannouncementsblock ul.news-announcements-block__list > li > a.tile--news-announcements"
MARKER_MISSING = "extraction.page_type marker body[data-pagetype] is missing"
NEW_SLUG = "visa-fees-change-after-the-redesign"
NEW_TITLE = "Visa fees change from 1 December"
NEW_BODY = (
    "<h2>What is changing</h2><p>From 1 December, visa application fees change for most visa types. "
    "Applications submitted before that date are charged the current fee, and applicants do not need "
    "to do anything. The new fees are listed on our fees page from today.</p>"
)
TEN_WORDS = "Our Auckland Central office is closed today because of flooding."
TWENTY_WORDS = (
    "Our online systems will be unavailable from 9 pm Saturday to 6 am Sunday while we do planned maintenance work."
)
REAL_BASE = "https://www.immigration.govt.nz"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
Snapshot = dict[str, tuple[bytes, int]]


# -- helpers ----------------------------------------------------------------------------------------


def redesigned(text: str) -> str:
    for old, new in RENAMES.items():
        text = text.replace(old, new)
    return text


def serve_redesign(site: FixtureSite, *, new_article: bool = True) -> str:
    """Serve the home page and every article redesigned, with a sitemap whose lastmods say every page
    changed (as a redesign does); optionally one more, new article. Returns the new article's path."""
    for path in ["/", *ARTICLE_PATHS]:
        route = site.route(path)
        assert route is not None
        site.set(path, Route(body=redesigned(route.body.decode("utf-8")).encode("utf-8"), headers=route.headers))
    new_path = article_path(NEW_SLUG)
    paths = list(DEFAULT_SITEMAP_PATHS)
    if new_article:
        page = derive_article(
            ARTICLE_CAPTURES[0], slug=NEW_SLUG, title=NEW_TITLE, published="20 November 2026", body_html=NEW_BODY
        )
        site.set_article(new_path, redesigned(page))
        paths.append(new_path)
    changed = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    body = sitemap_urlset(site.base_url, [(path, changed) for path in paths])
    site.set(SITEMAP_URLSET_PATH, Route(body=body, headers={"Content-Type": XML}))
    return new_path


def config_for(make_config: MakeConfig, site: FixtureSite, folder: Path, /, **source: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return make_config(site, folder, source={"retries": 0, "backoff": 0, **source})


def cli(command: str, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(command, "--config", str(config), *args, timeout=60)


def snapshot(output: Path) -> Snapshot:
    """Every file under `output` with its bytes and modification time (ns)."""
    return {
        path.relative_to(output).as_posix(): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(output.rglob("*"))
        if path.is_file()
    }


def feed_items(output: Path, folder: str = "") -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads((output / folder / "feed.json").read_text("utf-8"))["items"]
    return items


def url_of(site: FixtureSite, path: str) -> str:
    return site.base_url.rstrip("/") + path


def current_extractors(state: Path) -> dict[str, str]:
    """Each stored article's URL and the extractor of its current version."""
    with sqlite3.connect(state / "panui.sqlite3") as db:
        rows = db.execute(
            "SELECT a.url, r.extractor FROM articles a JOIN revisions r "
            "ON r.article_id = a.id AND r.version = a.current_version"
        ).fetchall()
    return {str(url): str(extractor) for url, extractor in rows}


def inz_source(**changes: Any) -> Source:
    return replace(load_config(REPO_ROOT / "sources.yaml").source("inz"), **changes)


def page_of(html: str, path: str = ARTICLE_PATHS[0]) -> Page:
    url = REAL_BASE + path
    headers = {"content-type": "text/html; charset=utf-8"}
    return Page(url=url, final_url=url, status=200, headers=headers, body=html.encode("utf-8"), fetched_at=NOW)


def article(**changes: Any) -> Article:
    words = " ".join(["word"] * 40)
    base = Article(
        url=REAL_BASE + ARTICLE_PATHS[0],
        title="A title",
        published=datetime(2026, 11, 20, tzinfo=UTC),
        news_type="Announcement",
        topics=(),
        summary="A summary.",
        body_html=f"<p>{words}</p>",
    )
    return replace(base, **changes)


# -- pure: expectations and the guarded extraction ---------------------------------------------------


def test_a_sound_article_meets_the_expectations() -> None:
    assert unmet_expectations(article(), inz_source(), NOW) == []


def test_a_one_word_body_meets_the_expectations_and_a_body_without_text_does_not() -> None:
    assert unmet_expectations(article(body_html="<p>Closed.</p>"), inz_source(), NOW) == []
    empty = unmet_expectations(article(body_html="<p> </p><ul><li></li></ul>"), inz_source(), NOW)
    assert empty == ["the body ('div.content-page__main') has no text once page furniture is removed"]
    future = unmet_expectations(article(published=datetime(2099, 1, 1, tzinfo=UTC)), inz_source(), NOW)
    assert future == ["the published date 2099-01-01 is in the future"]


def test_the_future_date_expectation_follows_the_sources_setting() -> None:
    lenient = inz_source(expect=Expectations(max_future_days=30))
    assert unmet_expectations(article(published=NOW + timedelta(days=20)), lenient, NOW) == []
    assert unmet_expectations(article(published=NOW + timedelta(days=31)), lenient, NOW) != []


def test_most_of_a_run_held_back_is_drift_but_one_or_two_faulty_pages_are_not() -> None:
    assert run_drift(2, 2) is None  # two faulty notices in a quiet run
    assert run_drift(3, 6) is None  # half is not most
    assert run_drift(3, 3) == "3 of the 3 articles read this run were held back: the layout may have changed"
    assert run_drift(4, 7) is not None


def test_config_defaults_and_overrides_for_expect_and_fallback(tmp_path: Path) -> None:
    source = inz_source()
    assert source.expect == Expectations(max_future_days=1, min_links=1)
    assert source.fallback is True
    text = (REPO_ROOT / "sources.yaml").read_text("utf-8")
    custom = text.replace(
        "    request_delay: 5",
        "    expect: {max_future_days: 7, min_links: 2}\n    fallback: none\n    request_delay: 5",
    )
    (tmp_path / "sources.yaml").write_text(custom, "utf-8")
    loaded = load_config(tmp_path / "sources.yaml").source("inz")
    assert loaded.expect == Expectations(max_future_days=7, min_links=2)
    assert loaded.fallback is False


def test_the_selectors_extract_a_real_article() -> None:
    extraction = extract_guarded(page_of(read_capture(ARTICLE_CAPTURES[0])), inz_source(), NOW)
    assert extraction.extractor == "selectors"
    assert extraction.selector_problem is None


def test_a_redesigned_article_goes_to_the_fallback_with_the_same_title_and_date() -> None:
    original = extract_guarded(page_of(read_capture(ARTICLE_CAPTURES[0])), inz_source(), NOW).article
    extraction = extract_guarded(page_of(redesigned(read_capture(ARTICLE_CAPTURES[0]))), inz_source(), NOW)
    assert extraction.extractor == "fallback"
    assert extraction.selector_problem == MARKER_MISSING
    assert (extraction.article.url, extraction.article.title) == (original.url, original.title)
    assert extraction.article.published == original.published
    assert "international students" in extraction.article.body_html


def test_without_the_fallback_a_redesigned_article_is_held_back_naming_the_selector() -> None:
    with pytest.raises(HeldBack) as caught:
        extract_guarded(page_of(redesigned(read_capture(ARTICLE_CAPTURES[0]))), inz_source(fallback=False), NOW)
    assert isinstance(caught.value, ExtractError)
    assert caught.value.message == f"held back: {MARKER_MISSING}"
    assert "run.py rebuild" in caught.value.hint


def test_a_renamed_title_names_the_title_selector() -> None:
    page = read_capture(ARTICLE_CAPTURES[1]).replace("hero__title-main", "hero__heading-main")
    with pytest.raises(HeldBack, match=r"extraction\.title selector 'h1\.hero__title > span\.hero__title-main'"):
        extract_guarded(page_of(page, ARTICLE_PATHS[1]), inz_source(fallback=False), NOW)


def test_another_page_type_is_skipped_and_never_goes_to_the_fallback() -> None:
    with pytest.raises(NotAnArticle):
        extract_guarded(page_of(read_capture("copyright-page")), inz_source(), NOW)


def test_a_page_without_any_page_type_marker_is_a_layout_change_not_another_page_type() -> None:
    page = read_capture(ARTICLE_CAPTURES[0]).replace('data-pagetype="NewsAnnouncementPage"', "")
    with pytest.raises(ExtractError) as caught:
        extract_guarded(page_of(page), inz_source(fallback=False), NOW)
    assert not isinstance(caught.value, NotAnArticle)
    assert MARKER_MISSING in caught.value.message


def test_a_future_date_is_held_back_as_that_articles_problem_not_a_layout_change() -> None:
    page = derive_article(
        ARTICLE_CAPTURES[0],
        slug="from-the-future",
        title="From the future",
        published="01 January 2099",
        body_html=NEW_BODY,
    )
    with pytest.raises(HeldBack) as caught:
        extract_guarded(page_of(page, article_path("from-the-future")), inz_source(), NOW)
    assert caught.value.message == "held back: the published date 2099-01-01 is in the future"
    assert caught.value.layout_changed is False


def test_a_one_sentence_notice_is_published_by_the_selectors() -> None:
    body = "<p>Our Auckland Central office is closed today because of flooding.</p>"
    page = derive_article(
        ARTICLE_CAPTURES[0], slug="office-closed", title="Office closed", published="20 November 2026", body_html=body
    )
    extraction = extract_guarded(page_of(page, article_path("office-closed")), inz_source(), NOW)
    assert (extraction.extractor, extraction.selector_problem) == ("selectors", None)
    assert word_count(extraction.article.body_html) == 10


def test_a_found_but_empty_body_is_that_articles_problem_and_a_missing_one_is_a_layout_change() -> None:
    empty = derive_article(
        ARTICLE_CAPTURES[0], slug="no-text", title="No text", published="20 November 2026", body_html=""
    )
    with pytest.raises(HeldBack) as caught:
        extract_guarded(page_of(empty, article_path("no-text")), inz_source(), NOW)
    assert caught.value.layout_changed is False  # and the fallback was not asked: the structure is all there
    assert "has no text once page furniture is removed" in caught.value.message
    missing = read_capture(ARTICLE_CAPTURES[0]).replace("content-page__main", "content-main")
    with pytest.raises(HeldBack) as caught:
        extract_guarded(page_of(missing), inz_source(fallback=False), NOW)
    assert caught.value.layout_changed is True
    assert caught.value.message == "held back: extraction.body selector 'div.content-page__main' matched nothing"


# -- end to end: the redesign -----------------------------------------------------------------------


def test_redesign_without_fallback_keeps_the_output_and_rebuild_restores_it_offline(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = config_for(make_config, site, tmp_path, fallback="none")
    first = cli("sync", config)
    assert first.returncode == 0, first.stdout + first.stderr
    output = tmp_path / "output"
    before = snapshot(output)
    assert len(feed_items(output)) == 4

    new_path = serve_redesign(site)
    degraded = cli("sync", config)

    assert degraded.returncode == 1, degraded.stdout + degraded.stderr
    example = url_of(site, ARTICLE_PATHS[0])
    assert f"DEGRADED: {MARKER_MISSING} (e.g. {example})" in degraded.stdout
    assert f"DEGRADED: discovery listing selector {OLD_LISTING!r} matched no article link (e.g. {site.base_url})" in (
        degraded.stdout
    )
    assert f"held back: {MARKER_MISSING}" in degraded.stderr
    assert url_of(site, new_path) in degraded.stderr  # the new article is a named problem, not published
    assert snapshot(output) == before  # every file: same bytes, never rewritten

    check = cli("check", config)
    assert check.returncode == 1, check.stdout
    assert f"MISS  discovery.listings[0].links {OLD_LISTING!r}" in check.stdout
    check_article = cli("check", config, "--url", example)
    assert check_article.returncode == 1, check_article.stdout
    for miss in (
        "extraction.page_type 'body[data-pagetype]'",
        "extraction.title 'h1.hero__title > span.hero__title-main': no match",
        "extraction.published '.hero__publish > span.hero__publish-date': no match",
        "extraction.body 'div.content-page__main': no match",
    ):
        assert f"MISS  {miss}" in check_article.stdout, check_article.stdout
    assert "ok    extraction.news_type" in check_article.stdout  # unrenamed selectors still match

    fixed = config_for(make_config, site, tmp_path, fallback="none", **FIXED_SELECTORS)
    assert cli("check", fixed).returncode == 0
    site.clear_requests()
    rebuilt = cli("rebuild", fixed)

    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert site.requests == []  # no network
    assert f"new: {url_of(site, new_path)}" in rebuilt.stdout
    assert "DEGRADED" not in rebuilt.stdout
    ids = [item["id"] for item in feed_items(output)]
    assert ids == [url_of(site, path) for path in [new_path, *ARTICLE_PATHS]]
    after_rebuild = snapshot(output)

    # A normal sync over the same store and config publishes the very same bytes.
    resync = cli("sync", fixed)
    assert resync.returncode == 0, resync.stdout + resync.stderr
    assert "published: nothing changed" in resync.stdout
    assert snapshot(output) == after_rebuild

    # And a first sync of the redesigned site with the fixed selectors gives the same feed items.
    fresh = config_for(make_config, site, tmp_path / "fresh", fallback="none", **FIXED_SELECTORS)
    fresh_sync = cli("sync", fresh)
    assert fresh_sync.returncode == 0, fresh_sync.stdout + fresh_sync.stderr
    for folder in ("", "inz"):
        assert feed_items(tmp_path / "fresh" / "output", folder) == feed_items(output, folder)
    for name in ("feed.xml", "feed.atom", "feed.json", "inz/feed.xml", "inz/feed.atom", "inz/feed.json"):
        assert (tmp_path / "fresh" / "output" / name).read_bytes() == (output / name).read_bytes(), name


def test_redesign_with_the_fallback_publishes_marked_items_and_still_reports_degraded(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = config_for(make_config, site, tmp_path)  # fallback: trafilatura, the default
    assert cli("sync", config).returncode == 0
    new_path = serve_redesign(site)

    result = cli("sync", config)

    assert result.returncode == 1, result.stdout + result.stderr
    new_url = url_of(site, new_path)
    assert f"new: {new_url}" in result.stdout
    assert f"extracted by the fallback: {new_url}" in result.stdout
    for path in ARTICLE_PATHS:  # known articles keep their last good version: a redesign is not an edit
        assert f"extracted by the fallback: {url_of(site, path)}" not in result.stdout
    assert "updated:" not in result.stdout
    assert f"DEGRADED: {MARKER_MISSING} (e.g. " in result.stdout
    assert "held back" not in result.stderr
    items = {item["id"]: item for item in feed_items(tmp_path / "output")}
    assert items[new_url]["title"] == NEW_TITLE
    assert "visa application fees change" in items[new_url]["content_html"]
    extractors = current_extractors(tmp_path / "state")
    assert extractors.pop(new_url) == "fallback"
    assert set(extractors.values()) == {"selectors"}

    # After the selector fix, one offline rebuild puts the selectors' extraction back in the store.
    fixed = config_for(make_config, site, tmp_path, **FIXED_SELECTORS)
    site.clear_requests()
    rebuilt = cli("rebuild", fixed)
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert site.requests == []
    assert "extracted by the fallback" not in rebuilt.stdout
    assert set(current_extractors(tmp_path / "state").values()) == {"selectors"}


def test_check_after_a_redesign_names_the_article_selectors_without_url(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    serve_redesign(site, new_article=False)

    result = cli("check", config_for(make_config, site, tmp_path))

    assert result.returncode == 1
    assert "MISS  extraction.title 'h1.hero__title > span.hero__title-main'" in result.stdout


def test_a_redesign_is_not_announced_as_edits_to_known_articles(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = config_for(make_config, site, tmp_path)
    assert cli("sync", config).returncode == 0
    serve_redesign(site, new_article=False)

    result = cli("sync", config)

    assert "updated:" not in result.stdout
    updates: dict[str, Any] = json.loads((tmp_path / "output" / "inz" / "updates.json").read_text("utf-8"))
    assert updates["items"] == []


# -- end to end: expectations and discovery ---------------------------------------------------------


def serve_articles(site: FixtureSite, pages: dict[str, tuple[str, str, str]]) -> None:
    """Publish derived articles, {slug: (title, published, body_html)}, at their news-centre paths."""
    for slug, (title, published, body) in pages.items():
        html = derive_article(ARTICLE_CAPTURES[0], slug=slug, title=title, published=published, body_html=body)
        site.set_article(article_path(slug), html)


def test_one_and_two_sentence_notices_are_published_exit_0_and_status_stays_healthy(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    notices = {  # slug: (title, published, body): INZ's notices are one or two sentences
        "auckland-office-closed": ("Auckland office closed", "20 November 2026", f"<p>{TEN_WORDS}</p>"),
        "online-systems-outage": ("Online systems outage", "21 November 2026", f"<p>{TWENTY_WORDS}</p>"),
    }
    serve_articles(site, notices)
    site.set_sitemap_paths([*DEFAULT_SITEMAP_PATHS, *map(article_path, notices)])
    # A sources.yaml written for an earlier version, with the word count that held such notices back.
    config = config_for(make_config, site, tmp_path, expect={"min_words": 30})

    result = cli("sync", config)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "DEGRADED" not in result.stdout and "held back" not in result.stderr
    assert "expect.min_words is no longer used and is ignored" in result.stderr  # a warning, not an error
    output = tmp_path / "output"
    for slug, text, words in (("auckland-office-closed", TEN_WORDS, 10), ("online-systems-outage", TWENTY_WORDS, 20)):
        url = url_of(site, article_path(slug))
        assert f"new: {url}" in result.stdout
        for folder in ("", "inz"):
            item = {item["id"]: item for item in feed_items(output, folder)}[url]
            assert text in item["content_html"]
            assert word_count(item["content_html"].split("<aside", 1)[0]) == words  # before the attribution
            for name in ("feed.xml", "feed.atom"):
                assert url in (output / folder / name).read_text("utf-8"), (folder, name)
    assert set(current_extractors(tmp_path / "state").values()) == {"selectors"}
    status = cli("status", config)
    assert status.returncode == 0, status.stdout + status.stderr
    assert status.stdout.splitlines()[2].split()[:2] == ["inz", "ok"]
    assert "all sources healthy" in status.stdout


def test_a_future_date_or_a_body_without_text_holds_that_article_back_without_degrading_the_source(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    pages = {
        "from-the-future": ("From the future", "01 January 2099", NEW_BODY),
        "no-text": ("No text", "20 November 2026", ""),
        NEW_SLUG: (NEW_TITLE, "20 November 2026", NEW_BODY),
    }
    serve_articles(site, pages)
    site.set_sitemap_paths([*DEFAULT_SITEMAP_PATHS, *map(article_path, pages)])
    config = config_for(make_config, site, tmp_path)  # with the fallback: it is not asked, the layout is fine

    result = cli("sync", config)

    assert result.returncode == 1, result.stdout + result.stderr  # two pages have problems
    future_url, empty_url = url_of(site, article_path("from-the-future")), url_of(site, article_path("no-text"))
    assert f"{future_url}: held back: the published date 2099-01-01 is in the future" in result.stderr
    assert f"{empty_url}: held back: the body ('div.content-page__main') has no text" in result.stderr
    assert "DEGRADED" not in result.stdout and "fallback" not in result.stdout
    ids = [item["id"] for item in feed_items(tmp_path / "output")]
    assert url_of(site, article_path(NEW_SLUG)) in ids
    assert future_url not in ids and empty_url not in ids
    assert not any("from-the-future" in name or "no-text" in name for name in snapshot(tmp_path / "output"))
    status = cli("status", config)
    assert status.returncode == 0, status.stdout  # healthy: the problems are those two pages'
    assert status.stdout.splitlines()[2].split()[:2] == ["inz", "problems"]


def test_most_of_a_runs_articles_held_back_at_once_is_reported_as_layout_drift(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = config_for(make_config, site, tmp_path)
    assert cli("sync", config).returncode == 0
    output = tmp_path / "output"
    before = snapshot(output)
    # Every selector still matches, but the text has left the body container (as when the site moves it
    # into a new element): each of the home page's 3 new articles is found with an empty body.
    slugs = ["moved-text-one", "moved-text-two", "moved-text-three"]
    serve_articles(site, {slug: (slug.replace("-", " ").capitalize(), "20 November 2026", "") for slug in slugs})
    site.set_home_links([(article_path(slug), slug, "20 Nov 2026") for slug in slugs])

    result = cli("sync", config)

    assert result.returncode == 1, result.stdout + result.stderr
    first = url_of(site, article_path(slugs[0]))
    drift = f"DEGRADED: 3 of the 3 articles read this run were held back: the layout may have changed (e.g. {first})"
    assert drift in result.stdout
    assert snapshot(output) == before  # nothing published, nothing rewritten
    status = cli("status", config)
    assert status.returncode == 1
    assert "inz: degraded: 3 of the 3 articles read this run were held back" in status.stdout


def test_a_listing_selector_that_matches_nothing_degrades_the_source_by_name(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    broken = "section.newsannouncementsblock ul.no-such-list > li > a"
    config = config_for(
        make_config,
        site,
        tmp_path,
        discovery={"listings": [{"path": "/", "links": broken}]},
        expect={"min_links": 10},
    )

    result = cli("sync", config)

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"DEGRADED: discovery listing selector {broken!r} matched no article link (e.g. {site.base_url})" in (
        result.stdout
    )
    assert "DEGRADED: discovery found 5 article link(s), fewer than expect.min_links (10)" in result.stdout
    # The sitemap still found every article: degraded is a warning to the operator, not an empty feed.
    assert len(feed_items(tmp_path / "output")) == 4


def test_a_degraded_sync_shows_in_status(site: FixtureSite, tmp_path: Path, make_config: MakeConfig) -> None:
    broken = "section.newsannouncementsblock ul.no-such-list > li > a"
    config = config_for(make_config, site, tmp_path, discovery={"listings": [{"path": "/", "links": broken}]})
    assert cli("sync", config).returncode == 1

    status = cli("status", config)

    assert status.returncode == 1, status.stdout
    assert "degraded" in status.stdout.lower()
    assert broken in status.stdout
