"""Change tracking end to end (issue 5): `python run.py sync` against the fixture site.

Silent edits become new versions under the same guid, with a corrections feed and a readable diff;
an unchanged source costs only conditional requests and rewrites nothing; removals need two 404s some
time apart; known articles are re-checked on the revisit schedule; the home page banner is a feed."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from bs4 import BeautifulSoup, Tag

from pipeline.config import load_config
from pipeline.model import Version
from pipeline.store import Store
from pipeline.sync.candidates import revisit_candidates
from tests.fixture_site import (
    ARTICLE_CAPTURES,
    ARTICLE_PATHS,
    DEFAULT_SITEMAP_PATHS,
    HTML,
    LASTMOD,
    PATHWAY_PATH,
    SITEMAP_URLSET_PATH,
    XML,
    FixtureSite,
    Route,
    etag_of,
    home_page,
    read_capture,
    sitemap_urlset,
)
from tests.helpers import run_cli, stored_value, write_config

pytestmark = pytest.mark.e2e  # syncs through run.py against the fixture site

ATOM = "{http://www.w3.org/2005/Atom}"
PATHWAY_SLUG = "improvements-to-the-pathway-student-visa"
EMPLOYER_PATH = ARTICLE_PATHS[1]  # on the home block: checked on every sync
MIDDLE_EAST_PATH = ARTICLE_PATHS[3]  # only in the sitemap: the home block holds the 3 newest
BANNER_TITLE = "Travel disrupted by the Middle East situation"
BANNER_ISSUED = "Monday 02 Mar 2026, 07:10 pm NZDT"

# The edit made to the pathway article: a replaced word, an inserted word and deleted words.
OLD_SENTENCE = "From Monday 20 July, there will be changes to the Pathway Student Visa (PSV)."
NEW_SENTENCE = "From Monday 27 July, there will be major changes to the Pathway Student Visa (PSV)."
OLD_CLOSING = "students can keep their options open for longer and choose"
NEW_CLOSING = "students can keep their options open and choose"

Snapshot = dict[str, tuple[bytes, int]]


# -- helpers ----------------------------------------------------------------------------------------


def config_for(site: FixtureSite, tmp_path: Path, **source: Any) -> Path:
    """The shipped config aimed at `site`: no delay, one retry without back-off."""
    return write_config(
        site, tmp_path, contact="mailto:change-tests@example.org", source={"retries": 1, "backoff": 0, **source}
    )


def sync(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("sync", "--config", str(config), *args, timeout=60)


def synced(config: Path, *args: str, exit_code: int = 0) -> subprocess.CompletedProcess[str]:
    result = sync(config, *args)
    assert result.returncode == exit_code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result


def url_of(site: FixtureSite, path: str) -> str:
    return site.base_url.rstrip("/") + path


def snapshot(output: Path) -> Snapshot:
    """Every published file with its bytes and modification time (ns)."""
    return {
        str(path.relative_to(output)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(output.rglob("*"))
        if path.is_file()
    }


def json_items(path: Path) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(path.read_text("utf-8"))["items"]
    return items


def rss_guids(path: Path) -> list[str]:
    return [guid.text or "" for guid in ElementTree.fromstring(path.read_bytes()).iter("guid")]


def atom_entries(path: Path) -> dict[str, ElementTree.Element]:
    """Atom entries by id, in feed order."""
    root = ElementTree.fromstring(path.read_bytes())
    return {entry.findtext(f"{ATOM}id") or "": entry for entry in root.iter(f"{ATOM}entry")}


def atom_time(entry: ElementTree.Element, name: str) -> datetime:
    return datetime.fromisoformat(entry.findtext(f"{ATOM}{name}") or "")


def feed_ids(output: Path, basename: str) -> dict[str, list[str]]:
    """The item ids of every `<basename>.json` feed under output, by folder."""
    return {
        str(path.parent.relative_to(output)): [str(item["id"]) for item in json_items(path)]
        for path in sorted(output.rglob(f"{basename}.json"))
    }


def versions_of(state: Path, url: str) -> list[Version]:
    with Store(state) as store:
        article_id = stored_value(store, "SELECT id FROM articles WHERE url = ?", url)
        return store.versions([article_id]).get(article_id, [])


def withdrawn_at(state: Path, url: str) -> str | None:
    with Store(state) as store:
        when: str | None = stored_value(store, "SELECT withdrawn_at FROM articles WHERE url = ?", url)
        return when


def retrieved_on_page(page: BeautifulSoup) -> datetime:
    """The machine-readable "Retrieved" date of an archive page (its second <time>, after "Published")."""
    times = [str(element["datetime"]) for element in page.find_all("time")]
    return datetime.fromisoformat(times[1])


def requests_for(site: FixtureSite, path: str) -> list[dict[str, str]]:
    return [request.headers for request in site.requests if request.path == path]


def serve_missing(site: FixtureSite, path: str, status: int = 404) -> None:
    site.set(
        path, Route(status=status, body=f"<!doctype html><h1>{status}</h1>".encode(), headers={"Content-Type": HTML})
    )


# -- a silent edit ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Edited:
    site: FixtureSite
    output: Path
    state: Path
    url: str
    before: dict[str, list[str]]  # feed item ids by feed file, before the edit
    result: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edited]:
    """A first sync, then the pathway article edited at the source, then a second sync."""
    tmp_path = tmp_path_factory.mktemp("edited")
    with FixtureSite(max_lifetime=300) as site:
        config = config_for(site, tmp_path)
        synced(config)
        output = tmp_path / "output"
        before = {
            "json": [str(item["id"]) for item in json_items(output / "inz" / "feed.json")],
            "rss": rss_guids(output / "inz" / "feed.xml"),
            "atom": list(atom_entries(output / "inz" / "feed.atom")),
        }
        page = read_capture(ARTICLE_CAPTURES[0])
        assert OLD_SENTENCE in page and OLD_CLOSING in page
        site.set_article(PATHWAY_PATH, page.replace(OLD_SENTENCE, NEW_SENTENCE).replace(OLD_CLOSING, NEW_CLOSING))
        result = synced(config)
        yield Edited(site, output, tmp_path / "state", url_of(site, PATHWAY_PATH), before, result)


def test_an_edit_is_one_new_version_with_the_old_one_kept(edited: Edited) -> None:
    versions = versions_of(edited.state, edited.url)

    assert [version.number for version in versions] == [1, 2]
    assert "Monday 20 July" in versions[0].article.body_html
    assert "major changes" in versions[1].article.body_html
    assert "0 new, 1 updated" in edited.result.stdout
    assert f"updated: {edited.url}" in edited.result.stdout


def test_a_revised_article_keeps_its_guid_and_place_in_every_feed(edited: Edited) -> None:
    feed = edited.output / "inz"
    after = {
        "json": [str(item["id"]) for item in json_items(feed / "feed.json")],
        "rss": rss_guids(feed / "feed.xml"),
        "atom": list(atom_entries(feed / "feed.atom")),
    }

    assert after == edited.before  # same ids, same order, no duplicate
    for ids in after.values():
        assert ids.count(edited.url) == 1
        assert len(ids) == len(set(ids)) == len(ARTICLE_PATHS)
    for folder, ids in feed_ids(edited.output, "feed").items():
        assert len(ids) == len(set(ids)), folder


def test_a_revised_item_is_dated_when_the_new_version_was_retrieved(edited: Edited) -> None:
    retrieved = versions_of(edited.state, edited.url)[-1].retrieved_at
    entry = atom_entries(edited.output / "inz" / "feed.atom")[edited.url]
    item = next(item for item in json_items(edited.output / "inz" / "feed.json") if item["id"] == edited.url)

    assert atom_time(entry, "updated") == retrieved
    assert atom_time(entry, "updated") > atom_time(entry, "published")
    assert datetime.fromisoformat(item["date_modified"]) == retrieved
    assert datetime.fromisoformat(item["date_modified"]) > datetime.fromisoformat(item["date_published"])
    assert "major changes" in item["content_html"]
    unchanged = next(item for item in json_items(edited.output / "inz" / "feed.json") if item["id"] != edited.url)
    assert unchanged["date_modified"] == unchanged["date_published"]


def test_the_corrections_feed_has_one_item_for_the_revision_with_its_diff(edited: Edited) -> None:
    feed = edited.output / "inz"
    entries = atom_entries(feed / "updates.atom")
    revision_id = f"{edited.url}#version-2"

    assert list(entries) == [revision_id]
    assert [item["id"] for item in json_items(feed / "updates.json")] == [revision_id]
    assert rss_guids(feed / "updates.xml") == [revision_id]
    entry = entries[revision_id]
    assert atom_time(entry, "updated") == versions_of(edited.state, edited.url)[-1].retrieved_at
    content = BeautifulSoup(entry.findtext(f"{ATOM}content") or "", "html.parser")
    inserted = [" ".join(element.get_text().split()) for element in content.find_all("ins")]
    deleted = [" ".join(element.get_text().split()) for element in content.find_all("del")]
    assert inserted == ["[inserted: 27]", "[inserted: major]"]
    assert deleted == ["[deleted: for longer]", "[deleted: 20]"]  # in reading order
    links = [anchor["href"] for anchor in content.find_all("a")]
    assert edited.url in links  # the original
    assert f"http://localhost:8000/inz/articles/{PATHWAY_SLUG}/" in links  # the archived copy


def test_the_article_page_lists_its_versions_and_keeps_the_old_one_readable(edited: Edited) -> None:
    folder = edited.output / "inz" / "articles" / PATHWAY_SLUG
    page = BeautifulSoup((folder / "index.html").read_text("utf-8"), "html.parser")
    history = page.find(id="history")

    assert isinstance(history, Tag)
    assert "Versions" in history.get_text()
    assert [item["id"] for item in history.find_all("li")] == ["version-2", "version-1"]
    assert [anchor["href"] for anchor in history.find_all("a")] == ["v1/index.html"]
    assert [" ".join(e.get_text().split()) for e in history.find_all("ins")] == ["[inserted: 27]", "[inserted: major]"]
    assert "Monday 27 July" in page.get_text()
    old = (folder / "v1" / "index.html").read_text("utf-8")
    assert "From Monday 20 July, there will be changes" in old
    assert "options open for longer" in old
    assert "version 1 of 2" in old
    # each page says when its own version was retrieved
    first, second = versions_of(edited.state, edited.url)
    assert retrieved_on_page(BeautifulSoup(old, "html.parser")) == first.retrieved_at
    assert retrieved_on_page(page) == second.retrieved_at


def test_a_whitespace_only_change_is_not_a_revision(site: FixtureSite, tmp_path: Path) -> None:
    config = config_for(site, tmp_path)
    synced(config)
    before = snapshot(tmp_path / "output")
    page = read_capture(ARTICLE_CAPTURES[0])
    spaced = page.replace("<p>Together, these changes mean", "<p>\n    Together,   these\n\n  changes   mean")
    spaced = spaced.replace("</li>\n<li>", "</li>\n\n        <li>").replace("<h2>", "\n\n   <h2>")
    assert spaced != page
    site.set_article(PATHWAY_PATH, spaced)
    site.clear_requests()

    result = synced(config)

    assert [h.get("If-None-Match") for h in requests_for(site, PATHWAY_PATH)] != [etag_of(spaced.encode())]  # read anew
    assert "0 new, 0 updated" in result.stdout
    assert [version.number for version in versions_of(tmp_path / "state", url_of(site, PATHWAY_PATH))] == [1]
    assert snapshot(tmp_path / "output") == before


# -- an unchanged source ----------------------------------------------------------------------------


def test_an_unchanged_sync_makes_only_conditional_requests_and_writes_nothing(
    site: FixtureSite, tmp_path: Path
) -> None:
    config = config_for(site, tmp_path)
    synced(config)
    before = snapshot(tmp_path / "output")
    with Store(tmp_path / "state") as store:
        raw_pages = stored_value(store, "SELECT count(*) FROM raw_pages")
    site.clear_requests()

    result = synced(config)

    assert "0 new, 0 updated" in result.stdout
    assert "nothing changed" in result.stdout
    checked = list(site.requests)  # robots.txt too: it is fetched conditionally like everything else
    assert {request.path for request in checked} >= {"/robots.txt", "/", "/sitemap.xml", *ARTICLE_PATHS[:3]}
    for request in checked:
        route = site.route(request.path)
        assert route is not None and route.status == 200, request.path
        # the stored validator matches the site's current ETag, so the site answered 304: no body
        assert request.headers.get("If-None-Match") == etag_of(route.body), request.path
    assert snapshot(tmp_path / "output") == before
    with Store(tmp_path / "state") as store:
        assert stored_value(store, "SELECT count(*) FROM raw_pages") == raw_pages


# -- removal ----------------------------------------------------------------------------------------


def test_a_removed_article_is_withdrawn_at_the_second_404_and_reinstated_when_back(
    site: FixtureSite, tmp_path: Path
) -> None:
    config = config_for(site, tmp_path, removal_grace="0s")
    synced(config)
    output, url = tmp_path / "output", url_of(site, EMPLOYER_PATH)
    feeds_with_it = [folder for folder, ids in feed_ids(output, "feed").items() if url in ids]
    assert {".", "inz"} < set(feeds_with_it)  # and its type and topic feeds
    site.remove(EMPLOYER_PATH)

    first = synced(config)

    assert "note: missing at the source" in first.stdout and url in first.stdout
    assert "withdrawn:" not in first.stdout
    assert withdrawn_at(tmp_path / "state", url) is None
    assert url in rss_guids(output / "feed.xml")
    assert all(url in feed_ids(output, "feed")[folder] for folder in feeds_with_it)

    serve_missing(site, EMPLOYER_PATH, 410)  # 410 Gone counts as 404 does
    second = synced(config)

    assert f"withdrawn: {url}" in second.stdout
    assert withdrawn_at(tmp_path / "state", url) is not None
    assert url not in rss_guids(output / "feed.xml")
    assert url not in rss_guids(output / "inz" / "feed.xml")
    assert url not in atom_entries(output / "inz" / "feed.atom")
    assert all(url not in ids for ids in feed_ids(output, "feed").values())  # main, type and topic feeds
    page = output / "inz" / "articles" / EMPLOYER_PATH.strip("/").rsplit("/", 1)[-1] / "index.html"
    assert "no longer serves" in page.read_text("utf-8")
    assert f"{url}#withdrawn" in atom_entries(output / "inz" / "updates.atom")
    assert f"{url}#withdrawn" in rss_guids(output / "inz" / "updates.xml")
    assert f"{url}#withdrawn" in [item["id"] for item in json_items(output / "inz" / "updates.json")]

    site.set_article(EMPLOYER_PATH, read_capture(ARTICLE_CAPTURES[1]))  # it comes back
    back = synced(config)

    assert "reinstated" in back.stdout
    assert withdrawn_at(tmp_path / "state", url) is None
    assert {folder for folder, ids in feed_ids(output, "feed").items() if url in ids} == set(feeds_with_it)
    assert "no longer serves" not in page.read_text("utf-8")


def test_two_quick_404s_do_not_withdraw_with_the_default_grace(site: FixtureSite, tmp_path: Path) -> None:
    config = config_for(site, tmp_path)  # removal_grace: 1h, as shipped
    synced(config)
    site.remove(EMPLOYER_PATH)

    results = [synced(config), synced(config)]

    url = url_of(site, EMPLOYER_PATH)
    assert all("note: missing at the source" in result.stdout for result in results)
    assert all("withdrawn:" not in result.stdout for result in results)
    assert withdrawn_at(tmp_path / "state", url) is None
    assert url in rss_guids(tmp_path / "output" / "feed.xml")
    assert f"{url}#withdrawn" not in atom_entries(tmp_path / "output" / "inz" / "updates.atom")


def test_a_server_error_never_counts_toward_removal(site: FixtureSite, tmp_path: Path) -> None:
    config = config_for(site, tmp_path, removal_grace="0s")
    synced(config)
    url = url_of(site, EMPLOYER_PATH)
    serve_missing(site, EMPLOYER_PATH, 404)
    synced(config)  # noted: missing since now
    serve_missing(site, EMPLOYER_PATH, 500)

    result = synced(config, exit_code=1)  # a 500 is a problem of this run, not a removal

    assert "withdrawn:" not in result.stdout
    assert "500" in result.stderr
    assert withdrawn_at(tmp_path / "state", url) is None
    assert url in rss_guids(tmp_path / "output" / "feed.xml")


def test_a_withdrawn_sitemap_only_article_that_comes_back_is_reinstated(site: FixtureSite, tmp_path: Path) -> None:
    # Nothing points to its return: it is not on the home page and its sitemap lastmod stays the same.
    config = config_for(site, tmp_path, removal_grace="0s", revisit=[{"every": "0s"}])
    synced(config)
    url = url_of(site, MIDDLE_EAST_PATH)
    site.remove(MIDDLE_EAST_PATH)
    synced(config)  # noted
    assert f"withdrawn: {url}" in synced(config).stdout
    site.set_article(MIDDLE_EAST_PATH, read_capture(ARTICLE_CAPTURES[3]))

    back = synced(config)

    assert "reinstated" in back.stdout and url in back.stdout
    assert withdrawn_at(tmp_path / "state", url) is None
    assert url in rss_guids(tmp_path / "output" / "feed.xml")


def test_a_withdrawn_article_is_asked_for_again_only_at_the_slowest_pace(site: FixtureSite, tmp_path: Path) -> None:
    config = load_config(config_for(site, tmp_path))  # daily for 30 days, weekly for a year, then monthly
    source = config.sources[0]
    url = url_of(site, MIDDLE_EAST_PATH)
    synced(config.path)
    with Store(config.state_dir) as store:
        now = datetime.now(UTC)
        for when in (now, now + timedelta(seconds=1)):
            store.record_missing(url, when, 0)
        assert withdrawn_at(config.state_dir, url) is not None

        def due(days_later: float) -> bool:
            later = now + timedelta(days=days_later)
            return url in {candidate.link.url for candidate in revisit_candidates(source, store, later)}

        assert not due(1) and not due(8)  # a young article would be due after a day, and weekly after
        assert due(31)


def test_a_first_404_leaves_the_article_due_so_the_second_comes_after_the_grace(
    site: FixtureSite, tmp_path: Path
) -> None:
    config = load_config(config_for(site, tmp_path))  # a sitemap-only article is otherwise left alone for days
    source = config.sources[0]
    url = url_of(site, MIDDLE_EAST_PATH)
    synced(config.path)
    with Store(config.state_dir) as store:
        now = datetime.now(UTC) + timedelta(days=400)  # old enough to be revisited monthly
        assert url in {candidate.link.url for candidate in revisit_candidates(source, store, now)}
        assert store.record_missing(url, now, 3600) == "noted"

        later = {candidate.link.url for candidate in revisit_candidates(source, store, now + timedelta(hours=2))}

        assert url in later  # asked again on the next run, and withdrawn then if still missing


def test_a_withdrawn_article_that_answers_otherwise_is_a_note_not_a_problem_and_stays_withdrawn(
    site: FixtureSite, tmp_path: Path
) -> None:
    config = config_for(site, tmp_path, removal_grace="0s", revisit=[{"every": "0s"}])
    synced(config)
    url = url_of(site, MIDDLE_EAST_PATH)
    site.remove(MIDDLE_EAST_PATH)
    synced(config)
    synced(config)
    assert withdrawn_at(tmp_path / "state", url) is not None

    serve_missing(site, MIDDLE_EAST_PATH, 403)
    forbidden = synced(config)  # exit 0: not a problem

    assert "withdrawn article still not served" in forbidden.stdout and url in forbidden.stdout
    image = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    site.set(MIDDLE_EAST_PATH, Route(body=image, headers={"Content-Type": "image/png"}))
    not_an_article = synced(config)  # served, but not as an article: not back

    assert "reinstated" not in not_an_article.stdout
    assert withdrawn_at(tmp_path / "state", url) is not None
    assert url not in rss_guids(tmp_path / "output" / "feed.xml")


# -- revisit policy ---------------------------------------------------------------------------------


def test_a_revisit_every_sync_rechecks_a_sitemap_only_article_conditionally(site: FixtureSite, tmp_path: Path) -> None:
    config = config_for(site, tmp_path, revisit=[{"every": "0s"}])
    synced(config)
    site.clear_requests()

    synced(config)

    route = site.route(MIDDLE_EAST_PATH)
    assert route is not None
    assert [headers.get("If-None-Match") for headers in requests_for(site, MIDDLE_EAST_PATH)] == [etag_of(route.body)]


def test_the_default_policy_leaves_a_known_sitemap_only_article_alone(site: FixtureSite, tmp_path: Path) -> None:
    config = config_for(site, tmp_path)  # daily for 30 days, weekly for a year, then monthly
    synced(config)
    assert len(requests_for(site, MIDDLE_EAST_PATH)) == 1
    site.clear_requests()

    synced(config)

    assert requests_for(site, MIDDLE_EAST_PATH) == []
    assert requests_for(site, SITEMAP_URLSET_PATH), "the sitemap itself is still read"


def test_a_newer_sitemap_lastmod_triggers_a_recheck(site: FixtureSite, tmp_path: Path) -> None:
    config = config_for(site, tmp_path)
    synced(config)
    edited_at = (datetime.now(UTC) + timedelta(seconds=1)).isoformat(timespec="seconds")  # after our check
    pairs = [(path, edited_at if path == MIDDLE_EAST_PATH else LASTMOD[path]) for path in DEFAULT_SITEMAP_PATHS]
    site.set(SITEMAP_URLSET_PATH, Route(body=sitemap_urlset(site.base_url, pairs), headers={"Content-Type": XML}))
    site.clear_requests()

    synced(config)

    route = site.route(MIDDLE_EAST_PATH)
    assert route is not None
    assert [headers.get("If-None-Match") for headers in requests_for(site, MIDDLE_EAST_PATH)] == [etag_of(route.body)]
    assert requests_for(site, ARTICLE_PATHS[2]) != [], "home block articles are checked as before"


def test_sync_url_fetches_a_known_article_unconditionally(site: FixtureSite, tmp_path: Path) -> None:
    config = config_for(site, tmp_path)
    synced(config)
    site.clear_requests()

    result = synced(config, "--url", url_of(site, PATHWAY_PATH))

    requests = requests_for(site, PATHWAY_PATH)
    assert requests, "the article was fetched"
    assert all("If-None-Match" not in headers and "If-Modified-Since" not in headers for headers in requests)
    assert "0 new, 0 updated" in result.stdout  # fetched afresh, and the same content: no new version
    assert [version.number for version in versions_of(tmp_path / "state", url_of(site, PATHWAY_PATH))] == [1]


# -- site alerts ------------------------------------------------------------------------------------


def test_the_home_page_banner_becomes_the_alerts_feed(site: FixtureSite, tmp_path: Path) -> None:
    config = config_for(site, tmp_path)
    alerts = tmp_path / "output" / "inz" / "alerts.atom"

    first = synced(config)

    assert f"alert: {BANNER_TITLE}" in first.stdout
    entries = list(atom_entries(alerts).values())
    assert len(entries) == 1
    assert entries[0].findtext(f"{ATOM}title") == BANNER_TITLE
    assert entries[0].findtext(f"{ATOM}published") == "2026-03-02T19:10:00+13:00"
    content = BeautifulSoup(entries[0].findtext(f"{ATOM}content") or "", "html.parser")
    assert url_of(site, MIDDLE_EAST_PATH) in [anchor["href"] for anchor in content.find_all("a")]
    assert "priority phone line" in content.get_text()
    assert len(json_items(alerts.with_suffix(".json"))) == 1
    assert len(rss_guids(alerts.with_suffix(".xml"))) == 1

    second = synced(config)

    assert "alert:" not in second.stdout
    assert list(atom_entries(alerts)) == [entries[0].findtext(f"{ATOM}id")]

    banner = home_page().decode("utf-8")
    changed = banner.replace(BANNER_TITLE, "Online services unavailable on Sunday")
    changed = changed.replace(BANNER_ISSUED, "Friday 10 Jul 2026, 09:00 am NZST")
    assert changed.count("Online services unavailable on Sunday") == 1
    site.set("/", Route(body=changed.encode("utf-8"), headers={"Content-Type": HTML}))

    third = synced(config)

    assert "alert: Online services unavailable on Sunday" in third.stdout
    newest, oldest = atom_entries(alerts).values()
    assert newest.findtext(f"{ATOM}title") == "Online services unavailable on Sunday"
    assert newest.findtext(f"{ATOM}published") == "2026-07-10T09:00:00+12:00"
    assert oldest.findtext(f"{ATOM}id") == entries[0].findtext(f"{ATOM}id")


def front_page_alerts(output: Path) -> Tag:
    section = BeautifulSoup((output / "index.html").read_text("utf-8"), "html.parser").select_one("section.alerts")
    assert section is not None, "the front page has no alerts section"
    return section


def test_the_front_page_shows_the_alert_the_site_shows_now_and_links_the_alerts_feed(
    site: FixtureSite, tmp_path: Path
) -> None:
    config = config_for(site, tmp_path)
    output = tmp_path / "output"

    synced(config)

    shown = front_page_alerts(output)
    assert [title.get_text() for title in shown.find_all("h3")] == [BANNER_TITLE]
    assert "priority phone line" in shown.get_text() and "Issued 2 March 2026, 19:10 NZDT" in shown.get_text()
    links = [anchor["href"] for anchor in shown.find_all("a")]
    assert url_of(site, MIDDLE_EAST_PATH) in links  # the alert's own link, made absolute
    assert {"inz/alerts.xml", "inz/alerts.atom", "inz/alerts.json"} <= set(links)
    assert "https://creativecommons.org/licenses/by/3.0/nz/" in links

    banner = home_page().decode("utf-8")
    site.set(
        "/",
        Route(
            body=banner.replace(BANNER_TITLE, "Online services unavailable").encode(), headers={"Content-Type": HTML}
        ),
    )
    synced(config)  # no article changed: the alert alone changes the front page

    assert [title.get_text() for title in front_page_alerts(output).find_all("h3")] == ["Online services unavailable"]

    gone = banner.replace('class="site-banner__content"', 'class="site-banner__was-here"')
    site.set("/", Route(body=gone.encode(), headers={"Content-Type": HTML}))
    synced(config)

    shown = front_page_alerts(output)
    assert shown.find_all("h3") == [] and "shows no urgent notice now" in shown.get_text()
    assert {"inz/alerts.xml", "inz/alerts.atom"} <= {anchor["href"] for anchor in shown.find_all("a")}
    assert len(atom_entries(output / "inz" / "alerts.atom")) == 2  # the feed keeps both
    before = (output / "index.html").stat().st_mtime_ns

    synced(config)

    assert (output / "index.html").stat().st_mtime_ns == before
