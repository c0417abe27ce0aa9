"""A feed-based source with generic extraction beside INZ's, end to end through `python run.py sync`: the
shipped `beehive` example (enabled, aimed at the Drupal-like fixture site in tests/ministry_site.py) and
INZ's fixture source in one config."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fixture_site import ARTICLE_PATHS, FixtureSite, Route
from tests.helpers import MakeConfig, run_cli
from tests.ministry_site import (
    BROKEN_FEED_PATH,
    FEED_PATH,
    RELEASES,
    ROBOTS,
    ministry_site,
    release_page,
    releases_feed,
)
from tests.test_steady_state import imported_by, loaded

pytestmark = pytest.mark.e2e  # runs run.py and a second fixture site
TEXT = {"Content-Type": "text/plain; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}


@pytest.fixture
def ministry() -> Iterator[FixtureSite]:
    site = ministry_site()
    try:
        yield site
    finally:
        site.stop()


def two_sources(
    make_config: MakeConfig, site: FixtureSite, ministry: FixtureSite, tmp_path: Path, **beehive: Any
) -> Path:
    """The shipped config: INZ aimed at its fixture site, the shipped `beehive` example enabled and aimed
    at the ministerial one (its other keys as shipped, unless given)."""
    path = make_config(site, tmp_path, source={"retries": 1, "backoff": 0}, contact="mailto:e2e-tests@example.org")
    config = yaml.safe_load(path.read_text("utf-8"))
    (entry,) = [source for source in config["sources"] if source["id"] == "beehive"]
    entry.update(enabled=True, base_url=ministry.base_url, request_delay=0, timeout=5, retries=1, backoff=0)
    entry.update(beehive)
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def sync(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("sync", "--config", str(config), *args, timeout=90)


def items(output: Path, folder: str = "") -> list[dict[str, Any]]:
    feed: dict[str, Any] = json.loads((output / folder / "feed.json").read_text("utf-8"))
    return list(feed["items"])


def release_url(ministry: FixtureSite, path: str) -> str:
    return ministry.base_url.rstrip("/") + path


def test_feed_items_are_published_beside_inz_with_their_own_licence_and_interleaved_by_date(
    site: FixtureSite, ministry: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    # The feed also lists a release robots.txt rules out: it is obeyed, as for any other link.
    embargoed = replace(RELEASES[0], slug="embargoed-release", title="Embargoed")
    ministry.set("/robots.txt", Route(body=f"{ROBOTS}Disallow: {embargoed.path}\n".encode(), headers=TEXT))
    ministry.set(FEED_PATH, Route(body=releases_feed(ministry.base_url, (embargoed, *RELEASES)), headers=RSS))
    ministry.set_article(embargoed.path, release_page(ministry.base_url, embargoed))

    result = sync(two_sources(make_config, site, ministry, tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert embargoed.path not in ministry.paths_requested()
    output = tmp_path / "output"
    published = items(output, "beehive")
    assert [item["id"] for item in published] == [release_url(ministry, release.path) for release in RELEASES]
    for item, release in zip(published, RELEASES, strict=True):
        assert item["title"] == release.title
        # Full metadata, JSON-LD only, or none at all (the feed item's pubDate): the same instant each time.
        assert datetime.fromisoformat(item["date_published"]) == release.published
        text = item["content_html"]
        assert all(paragraph in text for paragraph in release.paragraphs)
        assert "Skip to main content" not in text and "About this site" not in text  # page furniture
        assert "Hon Erica Stanford" not in text  # the byline is not the body
        assert "creativecommons.org/licenses/by/4.0/" in text and "CC BY 4.0" in text
        assert "by/3.0/nz" not in text
        assert release.portfolio in item.get("tags", [])  # from article:tag, JSON-LD keywords or the feed
    for item in items(output, "inz"):
        assert "creativecommons.org/licenses/by/3.0/nz/" in item["content_html"]
        assert "by/4.0" not in item["content_html"]
    # The combined feed interleaves the two sources by date, newest first.
    expected = [(release.published, release_url(ministry, release.path)) for release in RELEASES]
    expected += [(datetime.fromisoformat(item["date_published"]), item["id"]) for item in items(output, "inz")]
    assert [item["id"] for item in items(output)] == [url for _, url in sorted(expected, reverse=True)]
    assert [item["id"] for item in items(output)][:2] == [
        site.base_url.rstrip("/") + ARTICLE_PATHS[0],  # INZ, 9 July
        release_url(ministry, RELEASES[0].path),  # the Minister, 8 July
    ]


def test_a_second_sync_asks_conditionally_and_rebuild_gives_the_same_bytes(
    site: FixtureSite, ministry: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = two_sources(make_config, site, ministry, tmp_path, revisit=[{"every": "0s"}])
    assert sync(config).returncode == 0
    output = tmp_path / "output"
    first = {path: path.read_bytes() for path in sorted(output.rglob("*")) if path.is_file()}
    ministry.clear_requests()

    again = sync(config)

    assert again.returncode == 0, again.stdout + again.stderr
    asked = {request.path: request.headers for request in ministry.requests}
    for path in (FEED_PATH, *(release.path for release in RELEASES)):
        assert "If-None-Match" in asked[path], path  # the feed, and every known release revisited
    assert {path: path.read_bytes() for path in sorted(output.rglob("*")) if path.is_file()} == first

    rebuilt = run_cli("rebuild", "--config", str(config), timeout=90)

    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    # The third release's date and topic came from its feed item: rebuild read the stored page with it.
    assert {path: path.read_bytes() for path in sorted(output.rglob("*")) if path.is_file()} == first


def test_a_feed_that_answers_304_with_nothing_due_is_not_read_again(
    site: FixtureSite, ministry: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    """The daemon's steady state for a feed source: once a read of the feed found none of its items due,
    a 304 means none can be; the stored copy is not parsed (feedparser, BeautifulSoup not even loaded)."""
    config = two_sources(make_config, site, ministry, tmp_path)
    for _ in range(2):  # the first reads everything; the second finds every item checked: settled
        assert sync(config).returncode == 0
    ministry.clear_requests()

    result, modules = imported_by(tmp_path, "sync", "--json", "--config", str(config))

    assert result.returncode == 0, result.stderr
    assert all(not source["new"] and not source["problems"] for source in json.loads(result.stdout)["sources"])
    assert "If-None-Match" in {request.path: request.headers for request in ministry.requests}[FEED_PATH]
    assert loaded(modules, ("feedparser", "bs4", "trafilatura")) == []

    # When the feed changes, it is read again and its new item fetched.
    newer = replace(
        RELEASES[0], slug="newer-release", title="Newer", published=RELEASES[0].published + timedelta(days=1)
    )
    ministry.set(FEED_PATH, Route(body=releases_feed(ministry.base_url, (newer, *RELEASES)), headers=RSS))
    ministry.set_article(newer.path, release_page(ministry.base_url, newer))
    changed = sync(config, "--json")
    (beehive,) = [source for source in json.loads(changed.stdout)["sources"] if source["id"] == "beehive"]
    assert beehive["new"] == [release_url(ministry, newer.path)]


def test_a_malformed_feed_is_a_problem_for_its_source_alone(
    site: FixtureSite, ministry: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = two_sources(
        make_config,
        site,
        ministry,
        tmp_path,
        discovery={"feeds": [BROKEN_FEED_PATH, FEED_PATH], "article_paths": "^/release/[^/?#]+$"},
    )

    result = sync(config, "--json")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    problems = {source["id"]: source["problems"] for source in report["sources"]}
    assert problems["inz"] == []
    (problem,) = problems["beehive"]
    assert problem["url"] == release_url(ministry, BROKEN_FEED_PATH)
    assert "cannot be read as RSS or Atom" in problem["message"]
    # The source's good feed, and the other source, are read all the same.
    output = tmp_path / "output"
    assert len(items(output, "beehive")) == len(RELEASES)
    assert len(items(output, "inz")) == len(ARTICLE_PATHS)


def test_check_shows_what_each_feed_gives_and_what_generic_extraction_reads(
    site: FixtureSite, ministry: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    feeds = {"feeds": [FEED_PATH, BROKEN_FEED_PATH], "article_paths": "^/release/[^/?#]+$"}
    config = two_sources(make_config, site, ministry, tmp_path, discovery=feeds)

    result = run_cli("check", "--config", str(config), "--source", "beehive", timeout=90)

    assert result.returncode == 1  # the broken feed
    assert f"ok    discovery.feeds[0] '{FEED_PATH}': {len(RELEASES)} article link(s)" in result.stdout
    assert f"MISS  discovery.feeds[1] '{BROKEN_FEED_PATH}'" in result.stdout
    assert f"ok    extraction.title 'generic': {RELEASES[0].title}" in result.stdout
    assert f"ok    extraction.published 'generic': {RELEASES[0].published.isoformat()}" in result.stdout
    assert "MISS  extraction" not in result.stdout
    assert not (tmp_path / "state").exists()  # check writes nothing
