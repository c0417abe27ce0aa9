"""`python run.py sync` end to end against the fixture site: what a user of issue 2 relies on.

Each test runs the real CLI in a subprocess against tests/fixture_site.py (the real INZ captures on
127.0.0.1) and checks the exit code, the report, the requests the site saw and the files published."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml

from tests.fixture_site import (
    ARTICLE_PATHS,
    BROKEN_PATH,
    DEFAULT_SITEMAP_PATHS,
    GONE_PATH,
    NEWS,
    OLD_PATHWAY_PATH,
    PATHWAY_PATH,
    ROBOTS,
    FixtureSite,
    Route,
    article_path,
    derive_article,
    etag_of,
    read_capture,
)
from tests.helpers import MakeConfig, run_cli

pytestmark = pytest.mark.e2e  # runs run.py

CONTACT = "mailto:e2e-tests@example.org"
MIDDLE_EAST_PATH = ARTICLE_PATHS[3]  # only in the sitemap: the home block holds the 3 newest
FEED_FILES = ("feed.xml", "feed.atom", "feed.json")
Snapshot = dict[str, tuple[bytes, int]]
NEW_ARTICLE_BODY = (  # a heading and a paragraph, as a small announcement has
    "<h2>What is changing</h2><p>From 1 August, visa application fees change for most visa types. "
    "Applications submitted before that date are charged the current fee, and applicants do not need "
    "to do anything. The new fees are listed on our fees page from today.</p>"
)


# -- helpers ----------------------------------------------------------------------------------------


def fast_config(make_config: MakeConfig, site: FixtureSite, tmp_path: Path, /, **overrides: Any) -> Path:
    """The shipped config aimed at `site`: no delay, one retry without back-off, a test contact."""
    source = {"retries": 1, "backoff": 0, **overrides.pop("source", {})}
    overrides.setdefault("contact", CONTACT)
    return make_config(site, tmp_path, source=source, **overrides)


def sync(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("sync", "--config", str(config), *args, timeout=60)


def url_of(site: FixtureSite, path: str) -> str:
    """The article's canonical URL as Pānui sees it: the real path on the source's (fixture) host."""
    return site.base_url.rstrip("/") + path


def json_feed(output: Path, folder: str = "") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((output / folder / "feed.json").read_text("utf-8"))
    return data


def json_ids(output: Path, folder: str = "") -> list[str]:
    return [str(item["id"]) for item in json_feed(output, folder)["items"]]


def rss_guids(output: Path, folder: str = "") -> list[str]:
    root = ElementTree.fromstring((output / folder / "feed.xml").read_bytes())
    return [guid.text or "" for guid in root.iter("guid")]


def atom_ids(output: Path, folder: str = "") -> list[str]:
    root = ElementTree.fromstring((output / folder / "feed.atom").read_bytes())
    return [
        entry.findtext("{http://www.w3.org/2005/Atom}id") or ""
        for entry in root.iter("{http://www.w3.org/2005/Atom}entry")
    ]


def snapshot(output: Path) -> Snapshot:
    """Every file under `output` with its bytes and modification time (ns)."""
    return {
        str(path.relative_to(output)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(output.rglob("*"))
        if path.is_file()
    }


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def requests_to(site: FixtureSite, path: str) -> int:
    return site.paths_requested().count(path)


def publish_new_article(site: FixtureSite, slug: str, title: str, published: str) -> str:
    """A new article derived from a capture, served at its news path; returns that path."""
    path = article_path(slug)
    page = derive_article(
        "article-improvements-to-the-pathway-student-visa.html",
        slug=slug,
        title=title,
        published=published,
        body_html=NEW_ARTICLE_BODY,
    )
    site.set_article(path, page)
    return path


# -- the first sync ---------------------------------------------------------------------------------


def test_first_sync_publishes_every_article_in_the_documented_layout(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    result = sync(fast_config(make_config, site, tmp_path))

    assert result.returncode == 0, result.stderr
    assert "4 new" in result.stdout
    output = tmp_path / "output"
    expected = [url_of(site, path) for path in ARTICLE_PATHS]  # newest first
    for folder in ("", "inz/"):
        for name in (*FEED_FILES, "index.html"):
            assert (output / folder / name).is_file(), folder + name
        assert json_ids(output, folder) == expected
    for path in ARTICLE_PATHS:
        slug = path.rstrip("/").rsplit("/", 1)[-1]
        assert (output / "inz" / "articles" / slug / "index.html").is_file()
    assert len(list((output / "inz" / "articles").iterdir())) == 4
    assert not (output / "panui.sqlite3").exists()  # the store stays in state_dir
    assert any((tmp_path / "state").iterdir())


def test_home_block_gives_the_three_newest_and_the_sitemap_the_rest(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    without_sitemap = fast_config(make_config, site, tmp_path, source={"discovery": {"sitemap": None}})
    result = sync(without_sitemap)
    assert result.returncode == 0, result.stderr
    assert json_ids(tmp_path / "output") == [url_of(site, path) for path in ARTICLE_PATHS[:3]]
    assert "/sitemap.xml" not in site.paths_requested()

    result = sync(fast_config(make_config, site, tmp_path))  # now with the sitemap
    assert result.returncode == 0, result.stderr
    assert "1 new" in result.stdout
    assert json_ids(tmp_path / "output")[-1] == url_of(site, MIDDLE_EAST_PATH)


def test_an_old_url_redirecting_to_an_article_is_the_same_article(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    result = sync(fast_config(make_config, site, tmp_path))

    assert result.returncode == 0, result.stderr
    assert OLD_PATHWAY_PATH in site.paths_requested()  # the sitemap's old URL was followed
    output = tmp_path / "output"
    pathway = url_of(site, PATHWAY_PATH)
    for folder in ("", "inz/"):
        for ids in (json_ids(output, folder), rss_guids(output, folder), atom_ids(output, folder)):
            assert len(ids) == 4
            assert ids.count(pathway) == 1
            assert not any("media-centre" in item_id for item_id in ids)
    assert len(list((output / "inz" / "articles").iterdir())) == 4


# -- politeness -------------------------------------------------------------------------------------


def test_requests_obey_robots_and_identify_panui(site: FixtureSite, tmp_path: Path, make_config: MakeConfig) -> None:
    embargoed = publish_new_article(site, "embargoed-article", "Not for robots", "11 July 2026")
    robots = ROBOTS.format(base_url=site.base_url).replace(
        "Disallow: /_search/\n", f"Disallow: /_search/\nDisallow: {embargoed}\n", 1
    )
    site.set("/robots.txt", Route(body=robots.encode(), headers={"Content-Type": "text/plain; charset=utf-8"}))
    site.set_sitemap_paths([*DEFAULT_SITEMAP_PATHS, embargoed, "/_search/api/news"])

    result = sync(fast_config(make_config, site, tmp_path))

    paths = site.paths_requested()
    assert paths[0] == "/robots.txt"
    assert paths.count("/robots.txt") == 1  # read once per run
    assert embargoed not in paths
    assert not any(path.startswith("/_search/") for path in paths)
    for request in site.requests:
        agent = request.headers.get("User-Agent", "")
        assert "Panui" in agent, agent
        assert CONTACT in agent, agent
        assert "python-requests" not in agent.lower()
    output = tmp_path / "output"
    assert json_ids(output) == [url_of(site, path) for path in ARTICLE_PATHS]
    # The sitemap's disallowed article is never fetched; obeying robots.txt is a note, not a problem.
    assert result.returncode == 0, result.stderr
    assert url_of(site, embargoed) in result.stdout
    assert "robots.txt disallows" in result.stdout


def test_a_content_page_in_the_sitemap_is_skipped_silently(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    content_page = article_path("about-the-news-centre")  # matches article_paths, but is a ContentPage
    site.set_article(content_page, read_capture("copyright-page.html"))
    site.set_sitemap_paths([*DEFAULT_SITEMAP_PATHS, content_page])

    result = sync(fast_config(make_config, site, tmp_path))

    assert result.returncode == 0, result.stderr
    assert "problem" not in result.stderr
    assert content_page in site.paths_requested()
    assert "1 skipped" in result.stdout
    output = tmp_path / "output"
    assert json_ids(output) == [url_of(site, path) for path in ARTICLE_PATHS]
    assert not (output / "inz" / "articles" / "about-the-news-centre").exists()
    assert not any("copyright" in item["title"].lower() for item in json_feed(output)["items"])


# -- failures ---------------------------------------------------------------------------------------


def test_missing_and_broken_articles_are_reported_and_the_rest_published(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    site.set_sitemap_paths([*DEFAULT_SITEMAP_PATHS, GONE_PATH, BROKEN_PATH])

    result = sync(fast_config(make_config, site, tmp_path, source={"retries": 1}))

    assert result.returncode == 1
    assert url_of(site, GONE_PATH) in result.stderr
    assert url_of(site, BROKEN_PATH) in result.stderr
    assert "404" in result.stderr and "500" in result.stderr
    assert "Traceback" not in result.stderr
    assert requests_to(site, BROKEN_PATH) == 2  # retries + 1
    assert requests_to(site, GONE_PATH) == 1  # a 404 is not retried
    assert json_ids(tmp_path / "output") == [url_of(site, path) for path in ARTICLE_PATHS]


def test_offline_first_sync_fails_cleanly(site: FixtureSite, tmp_path: Path, make_config: MakeConfig) -> None:
    port = closed_port()
    config = fast_config(make_config, site, tmp_path, source={"base_url": f"http://127.0.0.1:{port}/"})

    result = sync(config)

    assert result.returncode == 1
    assert f"127.0.0.1:{port}" in result.stderr
    assert "problems (1)" in result.stderr  # one message for the unreachable source
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "output").exists()  # nothing to publish, nothing written


def test_offline_sync_leaves_published_output_untouched(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = fast_config(make_config, site, tmp_path)
    assert sync(config).returncode == 0
    before = snapshot(tmp_path / "output")
    host = site.base_url.removeprefix("http://").rstrip("/")
    site.stop()  # the source's host now refuses connections

    result = sync(config)

    assert result.returncode == 1
    assert host in result.stderr
    assert "problems (1)" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(tmp_path / "output") == before


# -- later syncs ------------------------------------------------------------------------------------


def test_second_sync_with_nothing_changed_changes_nothing(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = fast_config(make_config, site, tmp_path)
    assert sync(config).returncode == 0
    before = snapshot(tmp_path / "output")
    site.clear_requests()

    result = sync(config)

    assert result.returncode == 0, result.stderr
    assert "0 new, 0 updated" in result.stdout
    assert "nothing changed" in result.stdout
    assert snapshot(tmp_path / "output") == before
    article_requests = [request for request in site.requests if request.path in ARTICLE_PATHS]
    assert article_requests, "the home block's articles are checked again"
    for request in article_requests:
        route = site.route(request.path)
        assert route is not None
        assert request.headers.get("If-None-Match") == etag_of(route.body)  # so the site answered 304


def test_a_new_article_appears_at_the_top_after_the_next_sync(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = fast_config(make_config, site, tmp_path)
    assert sync(config).returncode == 0
    path = publish_new_article(site, "new-visa-fees", "New visa fees from August", "10 July 2026")
    site.set_home_links(
        [
            (path, "New visa fees from August", "10 Jul 2026"),
            (ARTICLE_PATHS[0], "Pathway", "9 Jul 2026"),
            (ARTICLE_PATHS[1], "Employer", "7 Jul 2026"),
        ]
    )

    result = sync(config)

    assert result.returncode == 0, result.stderr
    assert "1 new" in result.stdout
    new_url = url_of(site, path)
    output = tmp_path / "output"
    for folder in ("", "inz/"):
        assert json_ids(output, folder) == [new_url, *(url_of(site, p) for p in ARTICLE_PATHS)]
        assert rss_guids(output, folder)[0] == new_url
        assert atom_ids(output, folder)[0] == new_url
    assert "New visa fees from August" in (output / "inz" / "articles" / "new-visa-fees" / "index.html").read_text()


# -- the command line -------------------------------------------------------------------------------


def test_url_imports_an_article_linked_nowhere(site: FixtureSite, tmp_path: Path, make_config: MakeConfig) -> None:
    path = publish_new_article(site, "backfilled-article", "An older notice", "01 June 2026")

    result = sync(fast_config(make_config, site, tmp_path), "--url", url_of(site, path))

    assert result.returncode == 0, result.stderr
    assert url_of(site, path) in result.stdout
    ids = json_ids(tmp_path / "output")
    assert url_of(site, path) in ids
    assert (tmp_path / "output" / "inz" / "articles" / "backfilled-article" / "index.html").is_file()


def test_url_on_a_host_two_sources_share_goes_to_the_source_whose_paths_take_it(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    # The shipped source takes the news centre; a second one on the same host, a section of notices.
    config_path = fast_config(make_config, site, tmp_path)
    config = yaml.safe_load(config_path.read_text("utf-8"))
    notices = {
        **config["sources"][0],
        "id": "notices",
        "name": "INZ notices",
        "discovery": {"listings": [], "sitemap": "/notices-sitemap.xml", "article_paths": "^/notices/[^/]+/$"},
        "expect": {"min_links": 0},
    }
    config["sources"] = [config["sources"][0], notices]
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), "utf-8")
    site.set_article(
        "/notices/fees/",
        derive_article(
            "article-improvements-to-the-pathway-student-visa.html",
            slug="fees",
            title="Fees notice",
            published="01 June 2026",
            body_html=NEW_ARTICLE_BODY,
        ),
    )

    result = sync(config_path, "--url", url_of(site, "/notices/fees/"), "--json")

    assert result.returncode == 0, result.stderr
    report = {source["id"]: source for source in json.loads(result.stdout)["sources"]}
    assert list(report) == ["notices"] and len(report["notices"]["new"]) == 1
    assert (tmp_path / "output" / "notices" / "articles" / "fees" / "index.html").is_file()


def test_url_on_a_foreign_host_is_refused(site: FixtureSite, tmp_path: Path, make_config: MakeConfig) -> None:
    foreign = "https://example.org" + NEWS + "some-article/"

    result = sync(fast_config(make_config, site, tmp_path), "--url", foreign)

    assert result.returncode == 2
    assert "error:" in result.stderr
    assert foreign in result.stderr
    assert site.paths_requested() == []
    assert not (tmp_path / "output").exists()


def test_unknown_source_is_refused(site: FixtureSite, tmp_path: Path, make_config: MakeConfig) -> None:
    result = sync(fast_config(make_config, site, tmp_path), "--source", "nope")

    assert result.returncode == 2
    assert "error:" in result.stderr
    assert "nope" in result.stderr
    assert site.paths_requested() == []


def test_missing_config_file_is_explained(tmp_path: Path) -> None:
    result = run_cli("sync", "--config", str(tmp_path / "missing.yaml"), cwd=tmp_path)

    assert result.returncode == 2
    assert "error:" in result.stderr
    assert "hint:" in result.stderr
    assert "missing.yaml" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_config_lists_every_problem_at_once_and_writes_nothing(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    path = fast_config(make_config, site, tmp_path)
    config = yaml.safe_load(path.read_text("utf-8"))
    first = config["sources"][0]
    config["sources"].insert(1, json.loads(json.dumps(first)))  # a second source with the same id
    config["colour"] = "blue"  # unknown key
    config["state_dir"] = str(tmp_path / "output" / "state")  # inside output_dir
    first["timeout"] = "fast"  # wrong type
    first["extraction"]["title"] = "h1[class="  # not a CSS selector
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), "utf-8")

    result = sync(path)

    assert result.returncode == 2
    assert result.stderr.count("error:") == 1  # one message...
    for key in ("colour", "state_dir", "sources[0].timeout", "sources[0].extraction.title", "sources[1].id"):
        assert key in result.stderr, key  # ...naming every problem by its key path
    assert "5 problems" in result.stderr
    assert "hint:" in result.stderr
    assert not (tmp_path / "output").exists()
    assert not (tmp_path / "state").exists()
    assert site.paths_requested() == []


def test_verbose_logs_each_request_and_its_answer(site: FixtureSite, tmp_path: Path, make_config: MakeConfig) -> None:
    config = make_config(site, tmp_path)
    assert run_cli("sync", "--config", str(config)).returncode == 0

    result = run_cli("sync", "--config", str(config), "-v", "--log-format", "json")

    assert result.returncode == 0, result.stderr
    responses = [line for line in map(json.loads, result.stderr.splitlines()) if line.get("event") == "fetch.response"]
    assert {line["status"] for line in responses} == {304}  # nothing changed: every request conditional, answered 304
    assert all(line["msg"].startswith("conditional GET ") for line in responses)
    assert any(line["url"].endswith("/sitemap.xml") for line in responses)
    assert any(line["url"].endswith("/robots.txt") for line in responses)  # as the run's request count has it
