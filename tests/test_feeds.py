"""Feed and archive correctness on the output of one real sync against the fixture site.

One module-scoped sync (the CLI in a subprocess) produces the output every test reads, so the file
stays fast; the tests only read files."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

import feedparser
import pytest
from bs4 import BeautifulSoup, Tag

from tests.fixture_site import ARTICLE_PATHS, FixtureSite
from tests.helpers import run_cli, write_config

pytestmark = pytest.mark.e2e  # syncs through run.py, checks with xmllint

SITE_URL = "http://localhost:8000/"
LICENCE_URL = "https://creativecommons.org/licenses/by/3.0/nz/"
ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT_ENCODED = "{http://purl.org/rss/1.0/modules/content/}encoded"
FOLDERS = ("", "inz/")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

PATHWAY, EMPLOYER, INVESTOR, MIDDLE_EAST = ARTICLE_PATHS  # newest first


@dataclass(frozen=True)
class Expected:
    """What the capture of an article says (read off the real pages in pipeline/demo/captures)."""

    title: str
    nz_date: str
    offset: str  # the UTC offset in force in Auckland on the publication day
    news_type: str
    topics: tuple[str, ...]
    phrase: str  # a sentence of the body


EXPECTED: dict[str, Expected] = {
    PATHWAY: Expected(
        "Improvements to the Pathway Student Visa to better support international students",
        "9 July 2026",
        "+12:00",
        "Announcement",
        ("Visa holders and applicants", "Study to work"),
        "From Monday 20 July, there will be changes to the Pathway Student Visa (PSV).",
    ),
    EMPLOYER: Expected(
        "Employer sentenced after demanding tens of thousands of dollars from migrant worker",
        "7 July 2026",
        "+12:00",
        "Media release",
        ("Compliance",),
        "No one should have to choose between standing up for their rights and risking their livelihood.",
    ),
    INVESTOR: Expected(
        "Business Investor Work Visa updates to unlock wider investment opportunities",
        "6 July 2026",
        "+12:00",
        "Announcement",
        ("Invest or start a business", "Immigration rules and processes"),
        "Business Investor Work Visa",
    ),
    MIDDLE_EAST: Expected(
        "Middle East: advice for temporary visa holders in New Zealand affected by travel disruptions",
        "2 March 2026",
        "+13:00",
        "Announcement",
        ("Visa holders and applicants", "Immigration rules and processes"),
        "Any decision to introduce a special visa category or immigration direction would be a matter for the Government.",
    ),
}


@dataclass(frozen=True)
class Published:
    output: Path
    origin: str  # the fixture site's scheme and host: canonical URLs are origin + real path

    def url(self, path: str) -> str:
        return self.origin + path

    def path_of(self, url: str) -> str:
        assert url.startswith(self.origin), url
        return url.removeprefix(self.origin)

    def read(self, relative: str) -> bytes:
        return (self.output / relative).read_bytes()

    def json_feed(self, folder: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.read(folder + "feed.json"))
        return data


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    tmp_path = tmp_path_factory.mktemp("feeds")
    with FixtureSite(max_lifetime=120) as site:
        config = write_config(site, tmp_path, contact="mailto:feeds-tests@example.org", source={"backoff": 0})
        result = run_cli("sync", "--config", str(config), timeout=60)
        assert result.returncode == 0, result.stderr
        origin = site.base_url.rstrip("/")
    yield Published(output=tmp_path / "output", origin=origin)


def slug_of(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def archive_url(path: str) -> str:
    return f"{SITE_URL}inz/articles/{slug_of(path)}/"


def item_contents(published: Published) -> list[tuple[str, str]]:
    """(where, HTML) of every item body in every feed, unescaped the way a reader sees it."""
    contents: list[tuple[str, str]] = []
    for folder in FOLDERS:
        for item in published.json_feed(folder)["items"]:
            contents.append((f"{folder}feed.json {item['id']}", str(item["content_html"])))
        rss = ElementTree.fromstring(published.read(folder + "feed.xml"))
        for item in rss.iter("item"):
            contents.append((f"{folder}feed.xml {item.findtext('guid')}", item.findtext(CONTENT_ENCODED) or ""))
        atom = ElementTree.fromstring(published.read(folder + "feed.atom"))
        for entry in atom.iter(ATOM + "entry"):
            contents.append(
                (f"{folder}feed.atom {entry.findtext(ATOM + 'id')}", entry.findtext(ATOM + "content") or "")
            )
    return contents


def archive_pages(published: Published) -> list[Path]:
    return sorted(published.output.rglob("*.html"))


# -- the formats ------------------------------------------------------------------------------------


@pytest.mark.parametrize("folder", FOLDERS)
@pytest.mark.parametrize("name", ["feed.xml", "feed.atom"])
def test_feedparser_reads_rss_and_atom_without_complaint(published: Published, folder: str, name: str) -> None:
    parsed = feedparser.parse(published.read(folder + name))
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == ("rss20" if name == "feed.xml" else "atom10")
    assert len(parsed.entries) == 4


@pytest.mark.parametrize("folder", FOLDERS)
def test_json_feed_is_json_feed_1_1(published: Published, folder: str) -> None:
    feed = published.json_feed(folder)
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"]
    assert feed["feed_url"] == SITE_URL + folder + "feed.json"
    assert len(feed["items"]) == 4
    for item in feed["items"]:
        for key in ("id", "url", "external_url", "title", "content_html", "date_published"):
            assert isinstance(item[key], str) and item[key], key
        assert isinstance(item["tags"], list)


@pytest.mark.parametrize("folder", FOLDERS)
def test_rss_carries_full_content_and_items_newest_first(published: Published, folder: str) -> None:
    channel = ElementTree.fromstring(published.read(folder + "feed.xml")).find("channel")
    assert channel is not None
    items = channel.findall("item")
    assert [item.findtext("guid") for item in items] == [published.url(path) for path in ARTICLE_PATHS]
    for item in items:
        assert EXPECTED[published.path_of(item.findtext("guid") or "")].phrase in (item.findtext(CONTENT_ENCODED) or "")
    dates = [parsedate_to_datetime(item.findtext("pubDate") or "") for item in items]
    assert dates == sorted(dates, reverse=True)


@pytest.mark.parametrize("folder", FOLDERS)
def test_atom_and_json_items_are_newest_first(published: Published, folder: str) -> None:
    expected = [published.url(path) for path in ARTICLE_PATHS]
    atom = ElementTree.fromstring(published.read(folder + "feed.atom"))
    assert [entry.findtext(ATOM + "id") for entry in atom.iter(ATOM + "entry")] == expected
    assert [item["id"] for item in published.json_feed(folder)["items"]] == expected


# -- identity and links -----------------------------------------------------------------------------


@pytest.mark.parametrize("folder", FOLDERS)
def test_item_ids_are_canonical_source_urls_and_links_point_to_the_original(published: Published, folder: str) -> None:
    originals = {published.url(path) for path in ARTICLE_PATHS}
    rss = feedparser.parse(published.read(folder + "feed.xml"))
    for entry in rss.entries:
        assert entry.id in originals
        assert entry.link == entry.id
    atom = feedparser.parse(published.read(folder + "feed.atom"))
    for entry in atom.entries:
        assert entry.id in originals  # its alternate link: test_atom_entries_have_one_alternate_link_the_original
    for item in published.json_feed(folder)["items"]:
        path = published.path_of(item["id"])
        assert item["external_url"] == item["id"]
        assert item["url"] == archive_url(path)
        assert (published.output / "inz" / "articles" / slug_of(path) / "index.html").is_file()
        assert not item["id"].startswith(SITE_URL)


@pytest.mark.parametrize("folder", FOLDERS)
def test_atom_entries_have_one_alternate_link_the_original(published: Published, folder: str) -> None:
    """RFC 4287 4.1.1: at most one alternate link per type and hreflang (a link without rel is alternate)."""
    atom = ElementTree.fromstring(published.read(folder + "feed.atom"))
    for entry in atom.iter(ATOM + "entry"):
        links = entry.findall(ATOM + "link")
        alternates = [link.get("href") for link in links if link.get("rel", "alternate") == "alternate"]
        assert alternates == [entry.findtext(ATOM + "id")], [link.attrib for link in links]
    for parsed in feedparser.parse(published.read(folder + "feed.atom")).entries:
        assert parsed.link == parsed.id  # what a feedparser-based reader opens
        related = [link.get("href", "") for link in links if link.get("rel") == "related"]
        assert all(href.startswith(SITE_URL) for href in related)


@pytest.mark.parametrize("folder", FOLDERS)
def test_rss_channel_links_the_archive_home(published: Published, folder: str) -> None:
    channel = ElementTree.fromstring(published.read(folder + "feed.xml")).find("channel")
    assert channel is not None
    assert channel.findtext("link") == SITE_URL + folder  # RSS 2.0: the web site of the channel


def _urls_in_html(html: str) -> list[str]:
    soup = BeautifulSoup(html, "html.parser")
    return [str(tag[attribute]) for attribute in ("href", "src") for tag in soup.select(f"[{attribute}]")]


def test_every_url_is_absolute(published: Published) -> None:
    urls: list[str] = []
    for folder in FOLDERS:
        feed = published.json_feed(folder)
        urls += [feed["home_page_url"], feed["feed_url"]]
        for item in feed["items"]:
            urls += [item["id"], item["url"], item["external_url"], *(a["url"] for a in item["authors"])]
        rss = ElementTree.fromstring(published.read(folder + "feed.xml"))
        urls += [element.text or "" for element in rss.iter() if element.tag in ("link", "guid")]
        atom = ElementTree.fromstring(published.read(folder + "feed.atom"))
        urls += [link.get("href", "") for link in atom.iter(ATOM + "link")]
        urls += [element.text or "" for element in atom.iter(ATOM + "id")]
    for _, html in item_contents(published):
        urls += _urls_in_html(html)
    assert len(urls) > 50
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme in ("mailto", "tel"):
            continue
        assert parts.scheme in ("http", "https") and parts.netloc, url


# -- dates and categories ---------------------------------------------------------------------------


@pytest.mark.parametrize("folder", FOLDERS)
def test_published_dates_carry_the_new_zealand_offset_of_their_day(published: Published, folder: str) -> None:
    atom = ElementTree.fromstring(published.read(folder + "feed.atom"))
    for entry in atom.iter(ATOM + "entry"):
        expected = EXPECTED[published.path_of(entry.findtext(ATOM + "id") or "")]
        assert (entry.findtext(ATOM + "published") or "").endswith(expected.offset)
    rss = ElementTree.fromstring(published.read(folder + "feed.xml"))
    for item in rss.iter("item"):
        expected = EXPECTED[published.path_of(item.findtext("guid") or "")]
        assert (item.findtext("pubDate") or "").endswith(" " + expected.offset.replace(":", ""))
    for item in published.json_feed(folder)["items"]:
        expected = EXPECTED[published.path_of(item["id"])]
        assert item["date_published"].endswith(expected.offset)
    middle_east = next(i for i in published.json_feed(folder)["items"] if i["id"] == published.url(MIDDLE_EAST))
    assert middle_east["date_published"] == "2026-03-02T00:00:00+13:00"


@pytest.mark.parametrize("folder", FOLDERS)
def test_news_type_and_topics_are_categories(published: Published, folder: str) -> None:
    def wanted(url: str) -> set[str]:
        expected = EXPECTED[published.path_of(url)]
        return {expected.news_type, *expected.topics}

    rss = ElementTree.fromstring(published.read(folder + "feed.xml"))
    for item in rss.iter("item"):
        assert {c.text for c in item.findall("category")} == wanted(item.findtext("guid") or "")
    atom = ElementTree.fromstring(published.read(folder + "feed.atom"))
    for entry in atom.iter(ATOM + "entry"):
        terms = {c.get("term") for c in entry.findall(ATOM + "category")}
        assert terms == wanted(entry.findtext(ATOM + "id") or "")
    for item in published.json_feed(folder)["items"]:
        assert set(item["tags"]) == wanted(item["id"])


# -- attribution and sanitising ---------------------------------------------------------------------


def _check_attribution(aside: Tag, original: str, where: str) -> None:
    text = " ".join(aside.get_text(" ").split())
    assert "Immigration New Zealand" in text, where
    assert "Crown" in text, where
    assert re.search(r"Retrieved \d{1,2} [A-Z][a-z]+ \d{4}", text), where
    assert "reformatted" in text.lower(), where
    links = {str(a["href"]): a.get_text(strip=True) for a in aside.find_all("a", href=True)}
    assert original in links, where
    assert links.get(LICENCE_URL) == "CC BY 3.0 NZ", where


def test_every_item_ends_with_the_attribution_block(published: Published) -> None:
    contents = item_contents(published)
    assert len(contents) == 4 * 3 * len(FOLDERS)
    for where, html in contents:
        soup = BeautifulSoup(html, "html.parser")
        last = [child for child in soup.children if isinstance(child, Tag)][-1]
        assert last.name == "aside" and "attribution" in (last.get("class") or []), where
        _check_attribution(last, where.rsplit(" ", 1)[-1], where)


def _hostile_markup(html: str) -> list[str]:
    """What the allow-list sanitiser must never let through."""
    found: list[str] = []
    lowered = html.lower()
    found += [marker for marker in ("<script", "javascript:", "<iframe", "<form") if marker in lowered]
    for tag in BeautifulSoup(html, "html.parser").find_all(True):
        found += [
            f"{tag.name}[{name}]" for name in tag.attrs if name.lower().startswith("on") or name.lower() == "style"
        ]
    return found


def test_item_bodies_are_sanitised(published: Published) -> None:
    for where, html in item_contents(published):
        assert _hostile_markup(html) == [], where
    pathway = next(item for item in published.json_feed("")["items"] if item["id"] == published.url(PATHWAY))
    # The capture wraps this text in <span style="font-size: 16px;">: the text stays, the style goes.
    assert "health and character requirements, and" in pathway["content_html"]


def test_archive_pages_are_sanitised_and_self_contained(published: Published) -> None:
    article_and_index_pages = [published.output / "index.html", published.output / "inz" / "index.html"]
    article_and_index_pages += [
        published.output / "inz" / "articles" / slug_of(p) / "index.html" for p in ARTICLE_PATHS
    ]
    for page in article_and_index_pages:
        main = BeautifulSoup(page.read_text("utf-8"), "html.parser").find("main")
        assert isinstance(main, Tag), page
        assert _hostile_markup(str(main)) == [], page
    for page in archive_pages(published):  # every page, including any the archive adds (search, topics...)
        soup = BeautifulSoup(page.read_text("utf-8"), "html.parser")
        external = [
            str(tag.get("src") or tag.get("href"))
            for tag in [*soup.find_all("script"), *soup.find_all("link", rel="stylesheet")]
            if urlsplit(str(tag.get("src") or tag.get("href") or "")).netloc or tag.name == "link"
        ]
        assert external == [], page  # no external CSS or JS


# -- the archive ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ARTICLE_PATHS)
def test_archive_page_shows_the_article_with_attribution(published: Published, path: str) -> None:
    expected = EXPECTED[path]
    soup = BeautifulSoup(published.read(f"inz/articles/{slug_of(path)}/index.html"), "html.parser")
    h1 = soup.find("h1")
    assert h1 is not None and h1.get_text(strip=True) == expected.title
    text = " ".join(soup.get_text(" ").split())
    assert f"Published {expected.nz_date}" in text
    assert expected.news_type in text
    for topic in expected.topics:
        assert topic in text
    assert expected.phrase in text
    aside = soup.find("aside", class_="attribution")
    assert isinstance(aside, Tag)
    _check_attribution(aside, published.url(path), path)


@pytest.mark.parametrize("folder", FOLDERS)
def test_index_lists_the_articles_newest_first(published: Published, folder: str) -> None:
    soup = BeautifulSoup(published.read(folder + "index.html"), "html.parser")
    listed = [str(a["href"]) for a in soup.select("main a[href]") if "/articles/" in str(a["href"])]
    slugs = [href.rstrip("/").removesuffix("/index.html").rsplit("/", 1)[-1] for href in listed]
    assert list(dict.fromkeys(slugs)) == [slug_of(path) for path in ARTICLE_PATHS]
    feeds = {str(a["href"]).rsplit("/", 1)[-1] for a in soup.select("a[href]")}
    assert {"feed.xml", "feed.atom", "feed.json"} <= feeds


def test_no_control_characters_in_any_output_file(published: Published) -> None:
    files = [path for path in published.output.rglob("*") if path.is_file()]
    assert len(files) >= 12
    for path in files:
        assert not CONTROL_CHARACTERS.search(path.read_text("utf-8")), path


@pytest.mark.parametrize("name", ["feed.xml", "feed.atom"])
def test_xmllint_accepts_the_feeds(published: Published, name: str) -> None:
    xmllint = shutil.which("xmllint")
    if xmllint is None:
        pytest.skip("xmllint is not installed")
    for folder in FOLDERS:
        result = subprocess.run(
            [xmllint, "--noout", str(published.output / folder / name)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
