"""Discovery is pure: listing pages and sitemaps (bytes) in, article links out. Only the source's
news articles on its own host come out; hostile or broken XML is an error, never an expansion."""

from __future__ import annotations

import gzip
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.discover import find_listing_links, read_sitemap
from pipeline.errors import DiscoverError
from pipeline.model import Page, Source
from tests.fixture_site import CAPTURES, home_page
from tests.helpers import REPO_ROOT

SITE = "https://www.immigration.govt.nz"
NEWS = SITE + "/about-us/news-centre/"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def inz_source() -> Source:
    return load_config(REPO_ROOT / "sources.yaml").source("inz")


def page(body: bytes | str, url: str = SITE + "/sitemap.xml") -> Page:
    return Page(
        url=url,
        final_url=url,
        status=200,
        headers={},
        body=body.encode("utf-8") if isinstance(body, str) else body,
        fetched_at=datetime(2026, 7, 13, tzinfo=UTC),
    )


def urlset(*entries: tuple[str, str | None]) -> str:
    items = "".join(
        f"<url><loc>{loc}</loc>" + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "") + "</url>\n"
        for loc, lastmod in entries
    )
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{SITEMAP_NS}">\n{items}</urlset>\n'


# -- listings --------------------------------------------------------------------------------------


def test_home_page_capture_gives_the_three_latest_articles_in_order() -> None:
    source = inz_source()
    home = page((CAPTURES / "homepage-latest-announcements-block.html").read_bytes(), SITE + "/")
    links = find_listing_links(home, source.discovery.listings[0], source)
    assert [link.url for link in links] == [
        NEWS + "improvements-to-the-pathway-student-visa/",
        NEWS + "employer-sentenced-after-demanding-tens-of-thousands-of-dollars-from-migrant-worker/",
        NEWS + "business-investor-visa-updates-to-unlock-wider-investment-opportunities/",
    ]
    assert all(link.found_on == SITE + "/" for link in links)
    assert all(link.lastmod is None for link in links)


def test_listing_links_are_made_absolute_on_the_page_host() -> None:
    """On a mirror (the fixture site) the same block yields links on the mirror's host."""
    mirror = "http://127.0.0.1:8765/"
    source = replace(inz_source(), base_url=mirror)
    links = find_listing_links(page(home_page(), mirror), source.discovery.listings[0], source)
    assert len(links) == 3
    assert all(link.url.startswith(mirror + "about-us/news-centre/") for link in links)


def test_listing_skips_foreign_and_non_article_links() -> None:
    source = inz_source()
    tiles = [
        "/about-us/news-centre/kept-one/",
        "/about-us/news-centre/",  # the listing itself
        "/about-us/news-centre/kept-one/#top",  # a repeat, once the fragment is gone
        "https://evil.example/about-us/news-centre/elsewhere/",
        "/_search/about-us/news-centre/x/",
        "javascript:alert(1)",
        "/visas/some-visa/",
        "//www.immigration.govt.nz/about-us/news-centre/kept-two/",
    ]
    links = find_listing_links(
        page(home_page([(href, f"Tile {n}", "9 Jul 2026") for n, href in enumerate(tiles)]), SITE + "/"),
        source.discovery.listings[0],
        source,
    )
    assert [link.url for link in links] == [NEWS + "kept-one/", NEWS + "kept-two/"]


# -- sitemaps --------------------------------------------------------------------------------------


def test_sitemap_index_gives_child_sitemaps_on_the_same_host_only() -> None:
    index = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{SITEMAP_NS}">\n'
        f"<sitemap><loc>{SITE}/sitemap.xml/sitemap/SilverStripe-CMS-Model-SiteTree/1</loc></sitemap>\n"
        "<sitemap><loc>https://cdn.example.com/sitemap-2.xml</loc></sitemap>\n"
        "<sitemap><loc>/sitemap.xml/sitemap/SilverStripe-CMS-Model-SiteTree/2</loc></sitemap>\n"
        f"<sitemap><loc>{SITE}/sitemap.xml/sitemap/SilverStripe-CMS-Model-SiteTree/1</loc></sitemap>\n"
        "</sitemapindex>\n"
    )
    content = read_sitemap(page(index), inz_source())
    assert content.links == []
    assert content.sitemaps == [
        SITE + "/sitemap.xml/sitemap/SilverStripe-CMS-Model-SiteTree/1",
        SITE + "/sitemap.xml/sitemap/SilverStripe-CMS-Model-SiteTree/2",
    ]


def test_urlset_keeps_news_articles_with_their_lastmod() -> None:
    body = urlset(
        (SITE + "/", "2026-07-13"),
        (NEWS, "2026-07-13"),
        (NEWS + "improvements-to-the-pathway-student-visa/", "2026-07-09"),
        (NEWS + "employer-sentenced/", "2026-07-07T10:30:00+12:00"),
        (NEWS + "no-lastmod/", None),
        (NEWS + "bad-lastmod/", "last Tuesday"),
        (SITE + "/about-us/about-this-site/copyright/", "2026-01-01"),
        (SITE + "/about-us/media-centre/news-notifications/pathway-student-visa-changes", "2026-07-09"),
        (SITE + "/about-us/media-centre/media-releases/older-release", "2020-01-01"),
        ("https://evil.example/about-us/news-centre/elsewhere/", "2026-07-09"),
        (SITE + "/_search/api/news", "2026-07-09"),
        (NEWS + "improvements-to-the-pathway-student-visa/", "2026-07-10"),  # a repeat
    )
    links = read_sitemap(page(body), inz_source()).links
    assert [(link.url, link.lastmod) for link in links] == [
        (NEWS + "improvements-to-the-pathway-student-visa/", datetime(2026, 7, 9, tzinfo=UTC)),
        (NEWS + "employer-sentenced/", datetime(2026, 7, 6, 22, 30, tzinfo=UTC)),
        (NEWS + "no-lastmod/", None),
        (NEWS + "bad-lastmod/", None),
        (
            SITE + "/about-us/media-centre/news-notifications/pathway-student-visa-changes",
            datetime(2026, 7, 9, tzinfo=UTC),
        ),
        (SITE + "/about-us/media-centre/media-releases/older-release", datetime(2020, 1, 1, tzinfo=UTC)),
    ]
    assert all(link.found_on == SITE + "/sitemap.xml" for link in links)


def test_never_fetch_paths_are_dropped_even_when_article_paths_match() -> None:
    source = inz_source()
    anything = replace(source, discovery=replace(source.discovery, article_paths=re.compile(".*")))
    links = read_sitemap(page(urlset((SITE + "/_search/api/news", None), (NEWS + "x/", None))), anything).links
    assert [link.url for link in links] == [NEWS + "x/"]


def test_sitemap_without_namespace_is_read() -> None:
    body = f"<urlset><url><loc>{NEWS}plain/</loc><lastmod>2026-07-01</lastmod></url></urlset>"
    assert [link.url for link in read_sitemap(page(body), inz_source()).links] == [NEWS + "plain/"]


def test_gzipped_sitemap_is_read() -> None:
    body = gzip.compress(urlset((NEWS + "zipped/", "2026-07-09")).encode("utf-8"))
    links = read_sitemap(page(body, SITE + "/sitemap.xml.gz"), inz_source()).links
    assert [link.url for link in links] == [NEWS + "zipped/"]


def test_broken_gzip_is_a_discover_error() -> None:
    body = gzip.compress(urlset((NEWS + "zipped/", None)).encode("utf-8"))[:30]
    with pytest.raises(DiscoverError):
        read_sitemap(page(body, SITE + "/sitemap.xml.gz"), inz_source())


@pytest.mark.parametrize(
    "body",
    [
        "<urlset><url><loc>unclosed",
        "<html><body>Not found</body></html>",
        "",
        "\x00\x01\x02 binary",
    ],
    ids=["truncated", "html", "empty", "binary"],
)
def test_malformed_or_foreign_xml_is_a_discover_error(body: str) -> None:
    with pytest.raises(DiscoverError) as caught:
        read_sitemap(page(body), inz_source())
    assert SITE + "/sitemap.xml" in caught.value.message


def test_external_entity_is_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE", "utf-8")
    body = (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE urlset [<!ENTITY leak SYSTEM "{secret.as_uri()}">]>\n'
        f'<urlset xmlns="{SITEMAP_NS}"><url><loc>{NEWS}&leak;/</loc></url>'
        f"<url><loc>{NEWS}safe/</loc></url></urlset>"
    )
    try:
        content = read_sitemap(page(body), inz_source())
    except DiscoverError as error:
        assert "TOP-SECRET-VALUE" not in error.message
        return
    assert all("TOP-SECRET-VALUE" not in link.url for link in content.links)
    assert NEWS + "safe/" in [link.url for link in content.links]


@pytest.mark.timeout(20)
def test_billion_laughs_does_not_expand() -> None:
    entities = '<!ENTITY lol0 "lol">' + "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    body = (
        f'<?xml version="1.0"?>\n<!DOCTYPE urlset [{entities}]>\n'
        f'<urlset xmlns="{SITEMAP_NS}"><url><loc>{NEWS}&lol9;/</loc></url></urlset>'
    )
    try:
        content = read_sitemap(page(body), inz_source())
    except DiscoverError:
        return
    assert all(len(link.url) < 1000 for link in content.links)


def test_oversized_gzip_bomb_is_refused() -> None:
    from pipeline.discover import sitemap as discover

    # Elements, not one long text (which libxml2 refuses by itself, at 10 MB).
    huge = gzip.compress(b"<urlset>" + b"<x/>" * (discover.MAX_SITEMAP_BYTES // 4 + 10) + b"</urlset>")
    assert len(huge) < 200_000
    with pytest.raises(DiscoverError, match="expands to more than"):
        read_sitemap(page(huge, SITE + "/sitemap.xml.gz"), inz_source())


def test_a_sitemap_of_more_entries_than_its_bound_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.discover import plain_sitemap
    from pipeline.discover import sitemap as discover

    for module in (discover, plain_sitemap):  # (the plain reading leaves a sitemap over it to the stream's)
        monkeypatch.setattr(module, "MAX_SITEMAP_ENTRIES", 3)
    body = urlset(*((f"{NEWS}n{number}/", None) for number in range(4)))
    with pytest.raises(DiscoverError, match="lists more than 3 entries"):
        read_sitemap(page(body), inz_source())
