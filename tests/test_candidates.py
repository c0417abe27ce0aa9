"""What a sync asks for, decided from the sitemaps' entries (pipeline/sync/candidates.py), against a site
and a store given through its two ports: a URL listed in two child sitemaps, a lastmod the sitemap
dates in the future, a feed read only in part, a sitemap that breaks off, and an index that names
itself."""

from __future__ import annotations

import base64
import dataclasses
import gzip
from datetime import UTC, datetime, timedelta
from typing import Any

from pipeline.config import load_config
from pipeline.discover import SitemapEntry, SitemapRead, sitemap_entries
from pipeline.model import Page, Source
from pipeline.reports import SourceReport
from pipeline.sync.candidates import gather_candidates
from tests.helpers import REPO_ROOT

ROOT = "https://www.immigration.govt.nz"
ARTICLE = ROOT + "/about-us/news-centre/some-change"
NOW = datetime.now(UTC).replace(microsecond=0)
CHECKED = NOW - timedelta(days=2)


def sitemaps_only() -> Source:
    shipped = load_config(REPO_ROOT / "sources.yaml").sources[0]
    discovery = dataclasses.replace(shipped.discovery, listings=(), feeds=())
    return dataclasses.replace(shipped, base_url=ROOT + "/", discovery=discovery, alerts=None)


def urlset(lastmod: str) -> bytes:
    return (
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{ARTICLE}</loc><lastmod>{lastmod}</lastmod></url></urlset>"
    ).encode()


class Site:
    def __init__(self, bodies: dict[str, bytes]) -> None:
        self.bodies, self.asked = bodies, list[str]()

    def url_for(self, path: str) -> str:
        return ROOT + path

    def discovery_page(self, url: str, reader: str, **_: Any) -> tuple[Page | None, dict[str, Any]]:
        self.asked.append(url)
        return Page(url, url, 200, {"content-type": "application/xml"}, self.bodies[url], NOW), {}


class Memory:
    """The article was last checked two days ago; what discovery remembers is kept for the test."""

    def __init__(self) -> None:
        self.remembered: dict[str, dict[str, Any]] = {}

    def checked_times(self, urls: Any) -> dict[str, datetime]:
        return {url: CHECKED for url in urls if url == ARTICLE}

    def revisit_candidates(self, *_: Any) -> list[tuple[str, datetime, datetime, bool]]:
        return []

    def remember_read(self, url: str, reader: str, found: dict[str, Any]) -> None:
        self.remembered[url] = found

    def previous_read(self, *_: Any, **__: Any) -> tuple[dict[str, Any], bytes | None] | None:
        return None

    def save_alerts(self, *_: Any) -> list[Any]:
        return []


def test_a_link_two_child_sitemaps_list_is_asked_for_when_the_later_one_says_it_changed() -> None:
    bodies = {
        ROOT + "/sitemap.xml": (
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{ROOT}/sitemap-a.xml</loc></sitemap><sitemap><loc>{ROOT}/sitemap-b.xml</loc></sitemap>"
            "</sitemapindex>"
        ).encode(),
        ROOT + "/sitemap-a.xml": urlset((CHECKED - timedelta(days=1)).isoformat()),  # as we last read it
        ROOT + "/sitemap-b.xml": urlset((NOW - timedelta(hours=1)).isoformat()),  # changed since our last check
    }
    report = SourceReport(source_id="inz")

    candidates = gather_candidates(sitemaps_only(), Site(bodies), Memory(), report, [], NOW)

    assert [candidate.link.url for candidate in candidates] == [ARTICLE]
    assert report.unchanged == 0


def test_a_sitemap_that_dates_a_link_in_the_future_is_read_again_though_it_answers_304() -> None:
    # The lastmod cannot be true yet, so it is not taken; on the day it can be, the link must be asked
    # for, so a 304 must not stand in for a read of that sitemap (it is not "settled").
    memory = Memory()
    future = (NOW + timedelta(days=30)).date().isoformat()
    bodies = {ROOT + "/sitemap.xml": urlset(future)}

    candidates = gather_candidates(sitemaps_only(), Site(bodies), memory, SourceReport(source_id="inz"), [], NOW)

    assert candidates == []  # checked two days ago, and no lastmod that can be taken today
    assert "settled" not in memory.remembered[ROOT + "/sitemap.xml"]


def test_a_feed_read_only_in_part_is_never_taken_as_settled() -> None:
    # Not well-formed, but feedparser reads its one item: used, with a note, and read again next time.
    source = dataclasses.replace(
        sitemaps_only(),
        extraction=None,
        discovery=dataclasses.replace(sitemaps_only().discovery, sitemap=None, feeds=("/feed",)),
    )
    day = (CHECKED - timedelta(days=1)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    feed = f'<rss version="2.0"><channel><title>t</title><item><link>{ARTICLE}</link><pubDate>{day}</pubDate></item>'
    memory, report = Memory(), SourceReport(source_id="inz")

    candidates = gather_candidates(source, Site({ROOT + "/feed": feed.encode()}), memory, report, [], NOW)

    assert candidates == [] and report.unchanged == 1  # its item read, not due
    assert any("not well-formed" in note for note in report.notes)
    assert ROOT + "/feed" not in memory.remembered


def test_the_links_read_before_a_sitemap_breaks_off_stand() -> None:
    """The download is cut short deep into a large gzipped sitemap: every new link read before the break
    is asked for, the settled ones read before it count as unchanged, and the break is a problem."""
    old = (CHECKED - timedelta(days=1)).date().isoformat()
    known = [f"{ROOT}/about-us/news-centre/known-{serial}" for serial in range(700)]
    fresh = [f"{ROOT}/about-us/news-centre/new-{serial}" for serial in range(3000)]
    entries = [f"<url><loc>{url}</loc><lastmod>{old}</lastmod></url>" for url in known]
    entries += [f"<url><loc>{url}</loc></url>" for url in fresh]
    whole = gzip.compress(
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{"".join(entries)}</urlset>'.encode()
    )
    cut = whole[: len(whole) * 2 // 3]
    settled = base64.b64encode(b"".join(SitemapEntry.key_of(url, old) for url in known)).decode()

    class Remembered(Memory):
        def checked_times(self, urls: Any) -> dict[str, datetime]:
            return {url: CHECKED for url in urls if url in known}

        def previous_read(self, *_: Any, **__: Any) -> tuple[dict[str, Any], bytes | None]:
            return {"settled_keys": settled}, None

    report = SourceReport(source_id="inz")
    found = gather_candidates(sitemaps_only(), Site({ROOT + "/sitemap.xml": cut}), Remembered(), report, [], NOW)

    before_break = SitemapRead()
    _, links = sitemap_entries(Page(ROOT, ROOT, 200, {}, cut, NOW), sitemaps_only(), before_break)
    read = [entry.link.url for entry in links if entry.link.url in fresh]
    assert before_break.broken is not None and len(read) > 1000
    assert [candidate.link.url for candidate in found] == read  # (the old loop lost the last batch of 500)
    assert report.unchanged == len(known)
    assert [problem.stage for problem in report.problems] == ["discover"]


def test_a_sitemap_index_that_names_itself_is_read_once() -> None:
    index = (
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{ROOT}/sitemap-a.xml</loc></sitemap><sitemap><loc> </loc></sitemap>"
        f"<sitemap><loc>{ROOT}/sitemap.xml</loc></sitemap></sitemapindex>"
    ).encode()
    site = Site({ROOT + "/sitemap.xml": index, ROOT + "/sitemap-a.xml": urlset(NOW.isoformat())})

    gather_candidates(sitemaps_only(), site, Memory(), SourceReport(source_id="inz"), [], NOW)

    assert site.asked == [ROOT + "/sitemap.xml", ROOT + "/sitemap-a.xml"]


def test_a_damaged_last_read_of_a_sitemap_is_read_afresh_and_replaced() -> None:
    # A store edited by hand: the keys the last read kept cannot be read. Every entry is read afresh (the
    # article is due: it changed after our last check) and the read is kept again, readable.
    body = urlset((NOW - timedelta(hours=1)).isoformat())
    for damaged in ({"entry_keys": "abc"}, {"settled_keys": "not base64!"}, {"entry_keys": 5}, {"entry_keys": None}):
        memory, report = Memory(), SourceReport(source_id="inz")
        memory.previous_read = lambda *_, kept=damaged, **__: (kept, body)  # type: ignore[method-assign]
        found = gather_candidates(sitemaps_only(), Site({ROOT + "/sitemap.xml": body}), memory, report, [], NOW)

        assert [candidate.link.url for candidate in found] == [ARTICLE] and report.problems == []
        assert len(base64.b64decode(memory.remembered[ROOT + "/sitemap.xml"]["entry_keys"], validate=True)) == 8
