"""Every feed Pānui publishes (the whole site, each source, each topic and news type, corrections and
alerts) is one a reader can trust: well-formed (xmllint), parsed by feedparser without complaint, dated
with zones and truthfully (never 1970, two entries never updated at one instant), with unique ids and
absolute URLs, each item attributed, linking itself and its home page, carrying polling hints, and
listed once in feeds.opml or topics.opml, feeds.opml's feeds sharing no item. The checks run on a fresh
archive and on one after edits (an article revised, one withdrawn, the site's alert replaced); a sync
with `max_items: 2` checks the feeds' length. (These are the W3C Feed Validator's findings on earlier
output; the validator itself is a development check, see the README.)"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

import feedparser
import pytest
import yaml
from bs4 import BeautifulSoup

from pipeline.config import load_config
from pipeline.store import Store
from tests.fixture_site import (
    ARTICLE_CAPTURES,
    ARTICLE_PATHS,
    HTML,
    PATHWAY_PATH,
    FixtureSite,
    Route,
    home_page,
    read_capture,
)
from tests.helpers import REPO_ROOT, run_cli, stored_articles, write_config

pytestmark = pytest.mark.e2e  # syncs through run.py, checks with xmllint and newsboat

SITE_URL = "http://localhost:8000/"
ATOM = "{http://www.w3.org/2005/Atom}"
SY = "{http://purl.org/rss/1.0/modules/syndication/}"
CONTENT_ENCODED = "{http://purl.org/rss/1.0/modules/content/}encoded"
# C0 controls other than tab/newline/carriage return, DEL and the C1 block (mojibake shows up there).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
RFC_822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d{2}:\d{2}:\d{2} ([+-]\d{4}|GMT|UT)$"
)
RFC_3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
LICENCE_URL = "https://creativecommons.org/licenses/by/3.0/nz/"
WITHDRAWN_PATH = ARTICLE_PATHS[1]  # the employer article: the only one of its topic and of its type
MINUTES_PER_PERIOD = {"hourly": 60, "daily": 1440, "weekly": 10080, "monthly": 43200, "yearly": 525600}


@dataclass(frozen=True)
class Published:
    output: Path
    config: Path
    started: datetime  # before the first sync, to the second (the store keeps times to the second)
    edited: bool  # after edit_withdraw_and_replace_the_alert

    def feeds(self, kind: str) -> list[Path]:
        """Every feed file of one format under the output, in all scopes: the site, each source, each
        topic and news type, and any other feed a source publishes (e.g. inz/alerts.xml)."""
        if kind == "rss":
            return [
                path for path in sorted(self.output.rglob("*.xml")) if ElementTree.parse(path).getroot().tag == "rss"
            ]
        if kind == "atom":
            return sorted(self.output.rglob("*.atom"))
        return [path for path in sorted(self.output.rglob("*.json")) if _is_json_feed(path)]

    def subscription_lists(self) -> list[Path]:
        return [self.output / "feeds.opml", self.output / "topics.opml"]

    def all_feeds(self) -> list[Path]:
        return [path for kind in ("rss", "atom", "json") for path in self.feeds(kind)]

    def folder_url(self, feed: Path) -> str:
        """The public URL of the folder holding `feed`: site_url + its path under output_dir."""
        relative = feed.parent.relative_to(self.output).as_posix()
        return SITE_URL if relative == "." else f"{SITE_URL}{relative}/"

    def public_url(self, feed: Path) -> str:
        return self.folder_url(feed) + feed.name


def _is_json_feed(path: Path) -> bool:
    data = json.loads(path.read_text("utf-8"))
    return isinstance(data, dict) and str(data.get("version", "")).startswith("https://jsonfeed.org/version/")


def _sync(tmp_path: Path, changes: Callable[[FixtureSite, Path], None] | None = None, **overrides: Any) -> Published:
    """A sync of the fixture site; then, if given, `changes(site, config)` (which syncs again)."""
    started = datetime.now(UTC).replace(microsecond=0)
    with FixtureSite(max_lifetime=120) as site:
        config = write_config(site, tmp_path, source={"retries": 0, "backoff": 0, "removal_grace": "0s"}, **overrides)
        synced(config)
        if changes is not None:
            changes(site, config)
    return Published(output=tmp_path / "output", config=config, started=started, edited=changes is not None)


def synced(config: Path) -> None:
    result = run_cli("sync", "--config", str(config), timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    # The store keeps times to the second, and real syncs are minutes apart: the next sync of a test
    # starts in a later second, as it would, so two events of different syncs never share an instant.
    time.sleep(1 - time.time() % 1)


def edit_withdraw_and_replace_the_alert(site: FixtureSite, config: Path) -> None:
    """The pathway article edited; the employer article gone (withdrawn at the second 404, which
    empties its topic's and its type's feeds); the banner replaced by another with the same issued time
    (an alert edited in place)."""
    page = read_capture(ARTICLE_CAPTURES[0])
    site.set_article(PATHWAY_PATH, page.replace("From Monday 20 July", "From Monday 27 July"))
    site.set(WITHDRAWN_PATH, Route(status=404, body=b"<h1>Not found</h1>", headers={"Content-Type": HTML}))
    synced(config)
    synced(config)
    banner = (
        home_page()
        .decode("utf-8")
        .replace("Travel disrupted by the Middle East", "Online services down in the Middle East")
    )
    site.set("/", Route(body=banner.encode("utf-8"), headers={"Content-Type": HTML}))
    synced(config)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    yield _sync(tmp_path_factory.mktemp("validity"))


@pytest.fixture(scope="module")
def revised(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    yield _sync(tmp_path_factory.mktemp("revised"), edit_withdraw_and_replace_the_alert)


@pytest.fixture(params=["fresh", "revised"])
def published(request: pytest.FixtureRequest) -> Published:
    """Each check runs on a fresh archive and on one after edits."""
    archive: Published = request.getfixturevalue(request.param)
    return archive


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    """A site published with `feeds.max_items: 2` (the fixture site has four articles)."""
    feeds = yaml.safe_load((REPO_ROOT / "sources.yaml").read_text("utf-8"))["feeds"]
    yield _sync(tmp_path_factory.mktemp("capped"), feeds={**feeds, "max_items": 2})


def only_withdrawn(page: Path) -> bool:
    """True when each article the archive page lists was withdrawn by the source."""
    items = BeautifulSoup(page.read_bytes(), "lxml").select("ul.articles > li")
    return all("withdrawn by the source" in item.get_text() for item in items)


def rss_channel(path: Path) -> ElementTree.Element:
    channel = ElementTree.parse(path).getroot().find("channel")
    assert channel is not None, path
    return channel


def atom_root(path: Path) -> ElementTree.Element:
    return ElementTree.parse(path).getroot()


def json_feed(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def atom_links(element: ElementTree.Element, rel: str) -> list[str]:
    return [link.get("href", "") for link in element.findall(ATOM + "link") if link.get("rel", "alternate") == rel]


def item_count(feed: Path) -> int:
    if feed.suffix == ".xml":
        return len(rss_channel(feed).findall("item"))
    if feed.suffix == ".atom":
        return len(atom_root(feed).findall(ATOM + "entry"))
    return len(json_feed(feed)["items"])


def assert_absolute(url: str, where: str) -> None:
    parts = urlsplit(url)
    if parts.scheme in ("mailto", "tel"):
        return
    assert parts.scheme in ("http", "https") and parts.netloc, f"{where}: relative or malformed URL {url!r}"


def urls_in_html(html: str) -> list[str]:
    soup = BeautifulSoup(html, "lxml")
    return [str(tag[attribute]) for attribute in ("href", "src") for tag in soup.select(f"[{attribute}]")]


# -- the set of feeds -------------------------------------------------------------------------------


def test_every_scope_has_all_three_formats(published: Published) -> None:
    rss_feeds = published.feeds("rss")
    relative = {feed.relative_to(published.output).as_posix() for feed in rss_feeds}
    assert {"feed.xml", "inz/feed.xml"} <= relative
    assert any(re.fullmatch(r"inz/topics/[a-z0-9-]+/feed\.xml", name) for name in relative), relative
    assert any(re.fullmatch(r"inz/types/[a-z0-9-]+/feed\.xml", name) for name in relative), relative
    for feed in rss_feeds:
        assert feed.with_suffix(".atom") in published.feeds("atom"), feed
        assert feed.with_suffix(".json") in published.feeds("json"), feed
    assert len(published.feeds("atom")) == len(published.feeds("json")) == len(rss_feeds)


# -- well-formed and parseable ---------------------------------------------------------------------


def test_xmllint_accepts_every_feed_and_the_opml(published: Published) -> None:
    xmllint = shutil.which("xmllint")
    if xmllint is None:
        pytest.skip("xmllint is not installed (Debian package libxml2-utils; .ci/run installs it)")
    files = [*published.feeds("rss"), *published.feeds("atom"), *published.subscription_lists()]
    assert len(files) >= 8
    result = subprocess.run(
        [xmllint, "--noout", *map(str, files)], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(("kind", "version"), [("rss", "rss20"), ("atom", "atom10")])
def test_feedparser_reads_every_feed_without_complaint(published: Published, kind: str, version: str) -> None:
    for feed in published.feeds(kind):
        parsed = feedparser.parse(feed.read_bytes())
        assert not parsed.bozo, f"{feed}: {parsed.get('bozo_exception')}"
        assert parsed.version == version, feed
        if feed.stem == "feed" and not only_withdrawn(feed.parent / "index.html"):
            # An article feed is empty only when all it lists was withdrawn (alerts and corrections may be).
            assert parsed.entries, f"{feed} has no items"


def test_every_json_feed_is_json_feed_1_1(published: Published) -> None:
    for feed in published.feeds("json"):
        data = json_feed(feed)
        assert data["version"] == "https://jsonfeed.org/version/1.1", feed
        assert data["title"] and isinstance(data["items"], list), feed
        for item in data["items"]:
            assert item["id"] and item["content_html"] and item["title"], feed


def test_no_control_characters_in_any_feed(published: Published) -> None:
    for feed in [*published.all_feeds(), *published.subscription_lists()]:
        match = CONTROL_CHARACTERS.search(feed.read_text("utf-8"))
        assert match is None, f"{feed}: control character {match and match.group()!r}"


# -- dates ------------------------------------------------------------------------------------------


def test_rss_dates_are_rfc_822_with_a_zone(published: Published) -> None:
    dates: list[tuple[Path, str]] = []
    for feed in published.feeds("rss"):
        channel = rss_channel(feed)
        dates.append((feed, channel.findtext("lastBuildDate") or ""))
        dates += [(feed, item.findtext("pubDate") or "") for item in channel.findall("item")]
    assert len(dates) > 20
    for feed, date in dates:
        assert RFC_822.match(date), f"{feed}: {date!r} is not an RFC 822 date with a zone"
        assert parsedate_to_datetime(date).tzinfo is not None, f"{feed}: {date!r}"


def test_atom_and_json_dates_are_rfc_3339_with_an_offset(published: Published) -> None:
    for feed in published.feeds("atom"):
        root = atom_root(feed)
        dates = [element.text or "" for element in root.iter() if element.tag in (ATOM + "updated", ATOM + "published")]
        assert dates, feed  # at least the feed's own <updated>
        for date in dates:
            assert RFC_3339.match(date), f"{feed}: {date!r} is not RFC 3339 with an offset"
    for feed in published.feeds("json"):
        for item in json_feed(feed)["items"]:
            for key in ("date_published", "date_modified"):
                assert RFC_3339.match(item[key]), f"{feed}: {key} {item[key]!r} is not RFC 3339 with an offset"


def feed_dates(published: Published) -> dict[Path, datetime]:
    """Each RSS and Atom feed's own date (lastBuildDate, the feed's <updated>)."""
    dates = {
        feed: parsedate_to_datetime(rss_channel(feed).findtext("lastBuildDate") or "")
        for feed in published.feeds("rss")
    }
    for feed in published.feeds("atom"):
        dates[feed] = datetime.fromisoformat(atom_root(feed).findtext(ATOM + "updated") or "")
    return dates


def test_a_feed_is_dated_by_its_newest_item_or_if_empty_within_the_archive_s_life(published: Published) -> None:
    # An empty feed (corrections on a fresh archive, a topic whose one article was withdrawn) gets a
    # date Pānui can vouch for, from the store: never 1970, which readers take for a broken clock.
    now = datetime.now(UTC)
    dates = feed_dates(published)
    for feed, date in dates.items():
        entries = atom_root(feed.with_suffix(".atom")).findall(ATOM + "entry")
        if entries:
            assert date == max(datetime.fromisoformat(e.findtext(ATOM + "updated") or "") for e in entries), feed
        else:
            assert published.started <= date <= now, f"{feed}: dated {date}"
    assert sum(not item_count(feed) for feed in dates) >= 2  # corrections, or topics, in RSS and Atom


def test_an_empty_feed_is_dated_when_the_archive_began_or_when_it_was_emptied(
    fresh: Published, revised: Published
) -> None:
    with closing(sqlite3.connect(fresh.config.parent / "state" / "panui.sqlite3")) as db:
        began = datetime.fromisoformat(db.execute("SELECT min(applied_at) FROM schema_migrations").fetchone()[0])
    never_had_items = {"inz/updates.xml", "inz/updates.atom"}  # no article has changed yet
    assert all(item_count(fresh.output / name) == 0 for name in never_had_items)
    assert {name: feed_dates(fresh)[fresh.output / name] for name in never_had_items} == dict.fromkeys(
        never_had_items, began
    )
    with Store(revised.config.parent / "state") as store:
        withdrawn = next(item.withdrawn_at for item in stored_articles(store) if item.withdrawn_at)
    emptied = {"inz/topics/compliance/feed.xml", "inz/types/media-release/feed.atom"}  # its only article
    assert all(item_count(revised.output / name) == 0 for name in emptied)
    assert {name: feed_dates(revised)[revised.output / name] for name in emptied} == dict.fromkeys(emptied, withdrawn)


def test_no_two_entries_of_an_atom_feed_are_updated_at_the_same_instant(published: Published) -> None:
    # Not even an alert edited in place (the same issued time): it is updated when Pānui first saw it.
    for feed in published.feeds("atom"):
        updated = [
            datetime.fromisoformat(e.findtext(ATOM + "updated") or "") for e in atom_root(feed).iter(ATOM + "entry")
        ]
        assert len(set(updated)) == len(updated), f"{feed}: {updated}"
    alerts = atom_root(published.output / "inz" / "alerts.atom").findall(ATOM + "entry")
    assert len(alerts) == (2 if published.edited else 1)
    assert len({entry.findtext(ATOM + "published") for entry in alerts}) == 1


# -- attribution -----------------------------------------------------------------------------------


def test_every_item_of_every_feed_carries_the_attribution_and_licence(published: Published) -> None:
    # Corrections quote the source's text as articles do; alerts are its text.
    contents: list[tuple[Path, str]] = []
    for feed in published.feeds("rss"):
        contents += [(feed, item.findtext(CONTENT_ENCODED) or "") for item in rss_channel(feed).findall("item")]
    for feed in published.feeds("atom"):
        for entry in atom_root(feed).iter(ATOM + "entry"):
            assert LICENCE_URL in (entry.findtext(ATOM + "rights") or ""), f"{feed}: an entry without <rights>"
            contents.append((feed, entry.findtext(ATOM + "content") or ""))
    for feed in published.feeds("json"):
        contents += [(feed, item["content_html"]) for item in json_feed(feed)["items"]]
    kinds = {feed.stem for feed, _ in contents}
    assert kinds == ({"feed", "alerts", "updates"} if published.edited else {"feed", "alerts"})
    for feed, content in contents:
        links = urls_in_html(content)
        assert LICENCE_URL in links and "Immigration New Zealand" in content, f"{feed}: an item without attribution"


# -- ids and URLs ----------------------------------------------------------------------------------


def test_ids_are_unique_within_each_feed(published: Published) -> None:
    for feed in published.feeds("rss"):
        guids = [item.findtext("guid") for item in rss_channel(feed).findall("item")]
        assert all(guids) and len(set(guids)) == len(guids), f"{feed}: {guids}"
    for feed in published.feeds("atom"):
        ids = [entry.findtext(ATOM + "id") for entry in atom_root(feed).findall(ATOM + "entry")]
        assert all(ids) and len(set(ids)) == len(ids), f"{feed}: {ids}"
    for feed in published.feeds("json"):
        ids = [item["id"] for item in json_feed(feed)["items"]]
        assert all(ids) and len(set(ids)) == len(ids), f"{feed}: {ids}"


def test_every_url_in_every_feed_is_absolute(published: Published) -> None:
    checked = 0
    for feed in published.feeds("rss"):
        root = ElementTree.parse(feed).getroot()
        for element in root.iter():
            permalink = element.tag == "guid" and element.get("isPermaLink") != "false"
            if (element.tag in ("link", "docs", "comments") or permalink) and element.text:
                assert_absolute(element.text, f"{feed} <{element.tag}>")
                checked += 1
            for attribute in ("href", "url"):
                if attribute in element.attrib:
                    assert_absolute(element.attrib[attribute], f"{feed} {element.tag}@{attribute}")
                    checked += 1
            if element.tag in (CONTENT_ENCODED, "description") and element.text:
                for url in urls_in_html(element.text):
                    assert_absolute(url, f"{feed} item HTML")
                    checked += 1
    for feed in published.feeds("atom"):
        root = atom_root(feed)
        for element in root.iter():
            if element.tag == ATOM + "id" and element.text:
                assert_absolute(element.text, f"{feed} <id>")
            if "href" in element.attrib:
                assert_absolute(element.attrib["href"], f"{feed} {element.tag}@href")
                checked += 1
            if element.tag in (ATOM + "content", ATOM + "summary") and element.text:
                for url in urls_in_html(element.text):
                    assert_absolute(url, f"{feed} entry HTML")
    for feed in published.feeds("json"):
        data = json_feed(feed)
        urls = [data["home_page_url"], data["feed_url"], *(hub["url"] for hub in data.get("hubs", []))]
        for item in data["items"]:
            urls += [item["url"], *(item[key] for key in ("external_url", "image") if key in item)]
            urls += [author["url"] for author in item.get("authors", []) if "url" in author]
            urls += urls_in_html(item["content_html"])
        for url in urls:
            assert_absolute(url, str(feed))
        checked += len(urls)
    assert checked > 200


# -- self, home and polling hints -------------------------------------------------------------------


def test_each_feed_links_itself_at_its_own_public_url(published: Published) -> None:
    for feed in published.feeds("rss"):
        assert atom_links(rss_channel(feed), "self") == [published.public_url(feed)], feed
    for feed in published.feeds("atom"):
        root = atom_root(feed)
        assert atom_links(root, "self") == [published.public_url(feed)], feed
    for feed in published.feeds("json"):
        assert json_feed(feed)["feed_url"] == published.public_url(feed), feed


def test_each_feed_links_its_home_page_which_exists(published: Published) -> None:
    for feed in published.feeds("rss"):
        home = published.folder_url(feed)
        assert rss_channel(feed).findtext("link") == home, feed
        assert atom_links(atom_root(feed.with_suffix(".atom")), "alternate") == [home], feed
        assert json_feed(feed.with_suffix(".json"))["home_page_url"] == home, feed
        assert (feed.parent / "index.html").is_file(), f"{home} (the home of {feed}) was not published"


def test_rss_feeds_carry_polling_hints_from_the_schedule(published: Published) -> None:
    interval = load_config(published.config).sources[0].schedule.interval_seconds or 3600.0
    minutes = round(interval / 60)
    for feed in published.feeds("rss"):
        channel = rss_channel(feed)
        period = channel.findtext(SY + "updatePeriod")
        frequency = channel.findtext(SY + "updateFrequency") or ""
        assert channel.findtext("ttl") == str(minutes), feed
        assert period in MINUTES_PER_PERIOD, f"{feed}: sy:updatePeriod {period!r}"
        assert frequency.isdigit() and int(frequency) >= 1, f"{feed}: sy:updateFrequency {frequency!r}"
        assert MINUTES_PER_PERIOD[period] / int(frequency) == pytest.approx(minutes, rel=0.5), feed


# -- length ----------------------------------------------------------------------------------------


def test_feeds_are_cut_to_max_items_while_the_archive_keeps_everything(capped: Published) -> None:
    feeds = capped.all_feeds()
    assert len(feeds) >= 21  # site, source, at least five topics and two types, in three formats
    for feed in feeds:
        assert item_count(feed) <= 2, feed
        if feed.stem == "feed":
            assert item_count(feed) >= 1, feed
    for name in ("feed.xml", "feed.atom", "feed.json"):
        assert item_count(capped.output / name) == 2  # the site-wide feed: the two newest of four
    newest_two = {path.rstrip("/").rsplit("/", 1)[-1] for path in ARTICLE_PATHS[:2]}
    in_feed = {
        str(item["url"]).rstrip("/").rsplit("/", 1)[-1] for item in json_feed(capped.output / "feed.json")["items"]
    }
    assert in_feed == newest_two
    pages = sorted((capped.output / "inz" / "articles").glob("*/index.html"))
    assert len(pages) == len(ARTICLE_PATHS)
    year_page = BeautifulSoup((capped.output / "years" / "2026" / "index.html").read_bytes(), "lxml")
    assert len(year_page.select("ul.articles > li")) == len(ARTICLE_PATHS)
    groups = [json.loads(path.read_bytes())["a"] for path in (capped.output / "search" / "articles").glob("*.json")]
    assert sum(len(group) for group in groups) == len(ARTICLE_PATHS)  # search finds every article


# -- the subscription list -------------------------------------------------------------------------


def outlines(path: Path) -> list[ElementTree.Element]:
    opml = ElementTree.parse(path).getroot()
    assert opml.tag == "opml" and opml.get("version") == "2.0"
    assert opml.findtext("head/title")
    return list(opml.iter("outline"))


def test_the_two_subscription_lists_hold_every_rss_feed_once_with_its_title(published: Published) -> None:
    listed = [outline for path in published.subscription_lists() for outline in outlines(path) if outline.get("xmlUrl")]
    feeds = {published.public_url(feed): feed for feed in published.feeds("rss")}
    assert sorted(outline.get("xmlUrl", "") for outline in listed) == sorted(feeds)
    for outline in listed:
        url = outline.get("xmlUrl", "")
        title = rss_channel(feeds[url]).findtext("title")
        assert outline.get("type") == "rss", url
        assert outline.get("title") == title and outline.get("text") == title, url
        assert outline.get("htmlUrl") == published.folder_url(feeds[url]), url


def test_an_outline_is_a_typed_feed_or_a_group_with_a_text_only(published: Published) -> None:
    for path in published.subscription_lists():
        for outline in outlines(path):
            if outline.get("type") != "rss":
                assert set(outline.attrib) == {"text"} and len(outline), f"{path}: {outline.attrib}"


def test_the_main_list_s_feeds_share_no_item_and_its_first_holds_every_article(published: Published) -> None:
    # A reader keeping one copy of an item by its id (newsboat does) then shows each article in the
    # main feed; topics.opml lists the feeds that overlap it (sources, types, topics).
    urls = [outline.get("xmlUrl", "") for outline in outlines(published.output / "feeds.opml") if outline.get("xmlUrl")]
    assert urls[0] == SITE_URL + "feed.xml"
    ids = [
        str(item["id"])
        for url in urls
        for item in json_feed(published.output / url.removeprefix(SITE_URL).replace(".xml", ".json"))["items"]
    ]
    assert len(ids) == len(set(ids))
    site_ids = {str(item["id"]) for item in json_feed(published.output / "feed.json")["items"]}
    source_ids = {str(item["id"]) for item in json_feed(published.output / "inz" / "feed.json")["items"]}
    assert site_ids == source_ids and len(site_ids) == len(ARTICLE_PATHS) - published.edited
