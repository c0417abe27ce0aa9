"""The fixture site itself behaves like the parts of immigration.govt.nz the pipeline relies on."""

from __future__ import annotations

import time
import urllib.robotparser
from pathlib import Path
from xml.etree import ElementTree

import pytest
import requests
import yaml
from bs4 import BeautifulSoup

from tests.fixture_site import (
    ARTICLE_CAPTURES,
    ARTICLE_PATHS,
    BROKEN_PATH,
    GONE_PATH,
    OFFSITE_REDIRECT_PATH,
    OLD_PATHWAY_PATH,
    PATHWAY_PATH,
    FixtureSite,
    Route,
    article_path,
    derive_article,
)
from tests.helpers import REPO_ROOT, MakeConfig

SOURCE = yaml.safe_load((REPO_ROOT / "sources.yaml").read_text("utf-8"))["sources"][0]
HOME_LINKS = SOURCE["discovery"]["listings"][0]["links"]
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def url(site: FixtureSite, path: str) -> str:
    return site.base_url + path.lstrip("/")


def home_hrefs(site: FixtureSite) -> list[str]:
    soup = BeautifulSoup(requests.get(site.base_url, timeout=5).text, "html.parser")
    return [str(a["href"]) for a in soup.select(HOME_LINKS)]


def test_home_page_links_the_three_newest_articles(site: FixtureSite) -> None:
    response = requests.get(site.base_url, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert 'data-pagetype="HomePage"' in response.text
    assert home_hrefs(site) == ARTICLE_PATHS[:3]


def test_every_article_is_served_verbatim(site: FixtureSite) -> None:
    for path in ARTICLE_PATHS:
        soup = BeautifulSoup(requests.get(url(site, path), timeout=5).text, "html.parser")
        assert soup.select_one(SOURCE["extraction"]["title"]) is not None
        canonical = soup.select_one('link[rel="canonical"]')
        assert canonical is not None
        assert canonical["href"] == "https://www.immigration.govt.nz" + path


def test_conditional_requests_get_304_until_the_body_changes(site: FixtureSite) -> None:
    first = requests.get(url(site, PATHWAY_PATH), timeout=5)
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    by_etag = requests.get(url(site, PATHWAY_PATH), headers={"If-None-Match": etag}, timeout=5)
    assert (by_etag.status_code, by_etag.content) == (304, b"")
    by_date = requests.get(url(site, PATHWAY_PATH), headers={"If-Modified-Since": last_modified}, timeout=5)
    assert by_date.status_code == 304
    site.set_article(PATHWAY_PATH, first.text.replace("09 July 2026", "10 July 2026"))
    changed = requests.get(
        url(site, PATHWAY_PATH),
        headers={"If-None-Match": etag, "If-Modified-Since": last_modified},
        timeout=5,
    )
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert changed.headers["Last-Modified"] != last_modified
    assert "10 July 2026" in changed.text


def test_old_url_redirects_on_the_same_host(site: FixtureSite) -> None:
    response = requests.get(url(site, OLD_PATHWAY_PATH), allow_redirects=False, timeout=5)
    assert response.status_code == 301
    assert response.headers["Location"] == PATHWAY_PATH
    followed = requests.get(url(site, OLD_PATHWAY_PATH), timeout=5)
    assert followed.status_code == 200
    assert followed.url == url(site, PATHWAY_PATH)


def test_faults_and_unknown_paths(site: FixtureSite) -> None:
    def status(path: str) -> int:
        return requests.get(url(site, path), allow_redirects=False, timeout=5).status_code

    assert status(GONE_PATH) == 404
    assert status(BROKEN_PATH) == 500
    assert status(OFFSITE_REDIRECT_PATH) == 302
    assert status("/no/such/page/") == 404
    site.remove(PATHWAY_PATH)
    assert status(PATHWAY_PATH) == 404
    site.set("/busy/", Route(status=429, headers={"Retry-After": "7"}))
    busy = requests.get(url(site, "/busy/"), timeout=5)
    assert (busy.status_code, busy.headers["Retry-After"]) == (429, "7")


def test_slow_route_times_out(site: FixtureSite) -> None:
    site.set("/slow/", Route(body=b"late", delay=1.0))
    with pytest.raises(requests.Timeout):
        requests.get(url(site, "/slow/"), timeout=0.2)


def test_robots_and_sitemap(site: FixtureSite) -> None:
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(requests.get(url(site, "/robots.txt"), timeout=5).text.splitlines())
    assert not robots.can_fetch("Panui", url(site, "/_search/api/news"))
    assert robots.can_fetch("Panui", url(site, PATHWAY_PATH))
    assert robots.site_maps() == [url(site, "/sitemap.xml")]

    index = ElementTree.fromstring(requests.get(url(site, "/sitemap.xml"), timeout=5).content)
    (child,) = [loc.text or "" for loc in index.iter(SM + "loc")]
    urlset = ElementTree.fromstring(requests.get(child, timeout=5).content)
    locs = [loc.text for loc in urlset.iter(SM + "loc")]
    assert {url(site, p) for p in [*ARTICLE_PATHS, OLD_PATHWAY_PATH, "/"]} <= set(locs)
    assert url(site, GONE_PATH) not in locs
    assert len(list(urlset.iter(SM + "lastmod"))) == len(locs)

    site.set_sitemap_paths([PATHWAY_PATH, GONE_PATH])
    urlset = ElementTree.fromstring(requests.get(child, timeout=5).content)
    assert [loc.text for loc in urlset.iter(SM + "loc")] == [
        url(site, PATHWAY_PATH),
        url(site, GONE_PATH),
    ]


def test_requests_are_recorded(site: FixtureSite) -> None:
    requests.head(site.base_url, headers={"User-Agent": "Panui-test"}, timeout=5)
    requests.get(url(site, "/about-us/news-centre/?page=2"), timeout=5)
    assert site.paths_requested() == ["/", "/about-us/news-centre/?page=2"]
    assert site.requests[0].method == "HEAD"
    assert site.requests[0].headers["User-Agent"] == "Panui-test"
    assert "/_search/api/news" not in site.paths_requested()
    site.clear_requests()
    assert site.paths_requested() == []


@pytest.mark.parametrize("capture", ARTICLE_CAPTURES)
def test_derived_article_matches_the_configured_selectors(site: FixtureSite, capture: str) -> None:
    page = derive_article(
        capture,
        slug="new-fixture-article",
        title="A new <fixture> article",
        published="10 July 2026",
        body_html="<h2>What is changing</h2><p>Something new.</p>",
        news_type="Media release",
    )
    path = article_path("new-fixture-article")
    site.set_article(path, page)
    site.set_home_links([(path, "A new <fixture> article", "10 Jul 2026"), (PATHWAY_PATH, "Old", "9 Jul 2026")])
    assert home_hrefs(site) == [path, PATHWAY_PATH]

    soup = BeautifulSoup(requests.get(url(site, path), timeout=5).text, "html.parser")
    ex = SOURCE["extraction"]
    body_tag = soup.select_one("body")
    assert body_tag is not None and body_tag["data-pagetype"] == "NewsAnnouncementPage"

    def text(selector: str) -> str:
        tag = soup.select_one(selector)
        assert tag is not None, selector
        return tag.get_text(strip=True)

    assert text(ex["title"]) == "A new <fixture> article"
    assert text(ex["published"]) == "10 July 2026"
    assert text(ex["news_type"]) == "Media release"
    assert text("title") == "A new <fixture> article :: Immigration New Zealand"
    assert text(ex["summary"])  # the template's summary is kept
    canonical = soup.select_one('link[rel="canonical"]')
    assert canonical is not None
    assert canonical["href"] == "https://www.immigration.govt.nz" + path
    body = soup.select_one(ex["body"])
    assert body is not None
    for selector in ex["body_exclude"]:
        for tag in body.select(selector):
            tag.decompose()
    assert body.decode_contents().strip() == "<h2>What is changing</h2><p>Something new.</p>"


@pytest.mark.e2e
def test_server_stops_by_itself() -> None:
    site = FixtureSite(max_lifetime=0.5).start()
    assert requests.get(site.base_url, timeout=5).status_code == 200
    time.sleep(1.0)
    with pytest.raises(requests.ConnectionError):
        requests.get(site.base_url, timeout=2)
    site.stop()
    site.stop()  # idempotent


def test_make_config_points_at_the_site(site: FixtureSite, tmp_path: Path, make_config: MakeConfig) -> None:
    path = make_config(site, tmp_path, contact="mailto:t@example.org", source={"retries": 0})
    config = yaml.safe_load(path.read_text("utf-8"))
    assert config["output_dir"] == str(tmp_path / "output")
    assert config["contact"] == "mailto:t@example.org"
    first = config["sources"][0]
    assert (first["base_url"], first["request_delay"], first["retries"]) == (site.base_url, 0, 0)
    assert first["discovery"]["never_fetch"] == ["/_search/"]
