"""The daemon's steady state: every 15 minutes a sync that finds nothing new. It must cost what it
uses, not what Pānui could do: no HTML, feed or page library loaded when no page is read and no file
rendered, no stored sitemap read again when the site answers 304, and no store read whole again when it
is as the last run left it (issue 20; the benchmark measures the time, these tests the behaviour behind
it)."""

from __future__ import annotations

import base64
import json
import pickle
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import soupsieve

import pipeline.store.seal as seal_module
from pipeline.config import load_config
from pipeline.store import STORE_FILE, Store
from pipeline.sync.run import run_sync
from tests.fixture_site import (
    ARTICLE_PATHS,
    DEFAULT_SITEMAP_PATHS,
    LASTMOD,
    SITEMAP_URLSET_PATH,
    XML,
    FixtureSite,
    Route,
    article_path,
    derive_article,
    sitemap_urlset,
)
from tests.helpers import REPO_ROOT, run_cli, write_config
from tests.receivers import webhooks

pytestmark = pytest.mark.e2e

# What only reading a new page (BeautifulSoup, soupsieve, trafilatura), rendering (feedgen, Jinja2) or
# the daemon (APScheduler) needs.
HEAVY = ("bs4", "soupsieve", "trafilatura", "feedgen", "jinja2", "apscheduler")
# Wrappers that run run.py with its arguments, then write the names of the modules it imported, or the
# selectors soupsieve compiled.
DUMP_MODULES = """
import atexit, runpy, sys
dump = sys.argv.pop(1)
atexit.register(lambda: open(dump, "w").write("\\n".join(sorted(sys.modules))))
sys.argv[0] = sys.argv.pop(1)
runpy.run_path(sys.argv[0], run_name="__main__")
"""
DUMP_COMPILED = """
import atexit, runpy, sys, soupsieve
dump, compiled, compile = sys.argv.pop(1), [], soupsieve.compile
soupsieve.compile = lambda pattern, *args, **kwargs: compiled.append(pattern) or compile(pattern, *args, **kwargs)
atexit.register(lambda: open(dump, "w").write("\\n".join(compiled)))
sys.argv[0] = sys.argv.pop(1)
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def wrapped_run(tmp_path: Path, wrapper: str, *args: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    dump = tmp_path / "dump.txt"
    result = subprocess.run(
        [sys.executable, "-c", wrapper, str(dump), str(REPO_ROOT / "run.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result, dump.read_text().split("\n")


def imported_by(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    result, names = wrapped_run(tmp_path, DUMP_MODULES, *args)
    return result, {name.split(".")[0] for name in names if name}


def compiled_by(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    result, selectors = wrapped_run(tmp_path, DUMP_COMPILED, *args)
    return result, [selector for selector in selectors if selector]


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return [name for name in names if name in modules]


def test_a_sync_that_finds_nothing_new_loads_no_html_feed_page_or_scheduler_library(
    site: FixtureSite, tmp_path: Path
) -> None:
    config = write_config(site, tmp_path)
    first = run_cli("sync", "--config", str(config))
    assert first.returncode == 0, first.stderr

    result, modules = imported_by(tmp_path, "sync", "--config", str(config))

    assert result.returncode == 0, result.stderr
    assert "0 new, 0 updated" in result.stdout and "nothing changed" in result.stdout
    assert loaded(modules, HEAVY) == []
    assert "warcio" not in modules  # WARC capture is off
    # Nor what reading a page or an article's body needs: the sanitiser (nh3), the date patterns.
    assert loaded(modules, ("nh3", "pipeline.extract.sanitise", "pipeline.extract.dates", "pipeline.fragment")) == []


def test_a_new_selector_is_still_checked_after_a_sync_recorded_the_others(site: FixtureSite, tmp_path: Path) -> None:
    config = write_config(site, tmp_path)
    assert run_cli("sync", "--config", str(config)).returncode == 0
    broken = write_config(site, tmp_path, source={"extraction": {"title": "h1:unknown-pseudo"}})

    result = run_cli("sync", "--config", str(broken))

    assert result.returncode == 2
    assert "extraction.title" in result.stderr and "not a valid CSS selector" in result.stderr


def test_help_and_status_load_only_what_they_print(site: FixtureSite, tmp_path: Path) -> None:
    config = write_config(site, tmp_path)
    assert run_cli("sync", "--config", str(config)).returncode == 0

    shown, for_help = imported_by(tmp_path, "--help")
    status, for_status = imported_by(tmp_path, "status", "--config", str(config))

    assert shown.returncode == 0 and "sync" in shown.stdout
    assert status.returncode == 0, status.stderr
    for modules in (for_help, for_status):
        assert loaded(modules, (*HEAVY, "requests", "urllib3", "http.client", "lxml", "nh3", "isal", "_strptime")) == []
    assert loaded(for_help, ("yaml", "sqlite3")) == []


def test_a_sitemap_that_answers_304_is_not_read_again(
    site: FixtureSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(write_config(site, tmp_path))
    run_sync(config)  # reads the sitemap, whose links are all new
    run_sync(config)  # reads it again (it answers 304), finding every link checked since: settled
    read: list[str] = []
    stored_body = Store.cached_body

    def cached_body(store: Store, url: str) -> bytes | None:
        read.append(url)
        return stored_body(store, url)

    monkeypatch.setattr(Store, "cached_body", cached_body)
    site.clear_requests()

    report = run_sync(config)

    assert report.exit_code == 0 and not report.sources[0].new and not report.files_written
    sitemaps = [request for request in site.requests if request.path.startswith("/sitemap.xml")]
    assert len(sitemaps) == 2  # the index and its urlset, each asked for and answered 304
    assert all(request.headers.get("If-None-Match") for request in sitemaps)
    assert read == [site.base_url + "robots.txt"]  # no stored sitemap (nor home page) decompressed or parsed


def test_a_sitemap_link_that_failed_is_asked_for_again_though_the_sitemap_answers_304(
    site: FixtureSite, tmp_path: Path
) -> None:
    late = ARTICLE_PATHS[3]  # in the sitemap, not on the home page
    kept = site.route(late)
    site.set(late, Route(status=503, body=b"busy"))
    config = load_config(write_config(site, tmp_path))
    assert run_sync(config).exit_code == 1  # the article could not be fetched: a problem
    assert kept is not None
    site.set(late, kept)
    site.clear_requests()

    report = run_sync(config)

    assert report.exit_code == 0
    assert [url for url in report.sources[0].new] == [site.base_url + late.lstrip("/")]
    assert site.paths_requested().count(late) == 1


def test_a_sitemap_of_60000_urls_is_read_to_its_end_past_the_pages_max_bytes(site: FixtureSite, tmp_path: Path) -> None:
    # 60,000 pages of the site that are not articles, then the articles: only a sitemap read to its end
    # finds the one article the home page does not list.
    pages = [(f"/visas/visa-{number:05d}/", "2026-07-01") for number in range(60_000)]
    body = sitemap_urlset(site.base_url, [*pages, *((path, LASTMOD[path]) for path in ARTICLE_PATHS)])
    site.set(SITEMAP_URLSET_PATH, Route(body=body, headers={"Content-Type": XML}))
    config = load_config(write_config(site, tmp_path))
    assert len(body) > config.sources[0].max_bytes  # max_bytes (5 MB by default) is for pages

    report = run_sync(config)

    assert report.exit_code == 0, [problem.describe() for problem in report.all_problems]
    assert sorted(report.sources[0].new) == sorted(site.base_url + path.lstrip("/") for path in ARTICLE_PATHS)
    assert not any(path.startswith("/visas/") for path in site.paths_requested())


def test_a_date_already_reminded_costs_a_quiet_sync_no_html_parsing(site: FixtureSite, tmp_path: Path) -> None:
    """`events: [upcoming]` looks at the coming dates on every sync; one already told is not read again."""
    soon = datetime.now(ZoneInfo("Pacific/Auckland")).date() + timedelta(days=3)
    body = f"<p>Visitor visa fees will change on {soon.day} {soon:%B %Y}.</p>"
    page = derive_article(
        "article-improvements-to-the-pathway-student-visa.html",
        slug="fees",
        title="Visitor visa fees change",
        published="10 July 2026",
        body_html=body,
    )
    site.set_article(article_path("fees"), page)
    site.set_sitemap_paths([*DEFAULT_SITEMAP_PATHS, article_path("fees")])
    with webhooks() as hooks:
        reminders = [{"id": "dates", "events": ["upcoming"], "to": [f"{hooks.url}/dates"]}]
        config = write_config(site, tmp_path, subscriptions=reminders)
        for _ in range(2):  # the first reads everything; the second settles discovery
            assert run_cli("sync", "--config", str(config)).returncode == 0

        result, modules = imported_by(tmp_path, "sync", "--config", str(config))

        assert result.returncode == 0, result.stderr
        assert [item["title"] for item in hooks.received] == ["Coming up: Takes effect: Visitor visa fees change"]
    assert loaded(modules, HEAVY) == []


def test_a_sitemap_that_gained_a_link_checks_only_that_link_and_reports_as_a_full_read_does(
    site: FixtureSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two stores against one site: the first passes by the entries its last read settled; the second
    # is made to read every entry afresh. They must agree on everything but the work.
    site.set_home_links([(ARTICLE_PATHS[0], "Pathway", "9 Jul 2026"), (ARTICLE_PATHS[1], "Employer", "7 Jul 2026")])
    edited, late = ARTICLE_PATHS[2], ARTICLE_PATHS[3]  # in the sitemap, not on the home page
    kept = site.route(late)
    site.set(late, Route(status=503, body=b"busy"))  # fails at the first read: never settled
    for name in ("incremental", "full"):
        (tmp_path / name).mkdir()
    configs = [load_config(write_config(site, tmp_path / name)) for name in ("incremental", "full")]
    for config in configs:
        for _ in range(2):
            run_sync(config)
    assert kept is not None
    site.set(late, kept)
    site.set_article(
        article_path("fees"),
        derive_article(
            "article-improvements-to-the-pathway-student-visa.html",
            slug="fees",
            title="Visitor visa fees change",
            published="10 July 2026",
            body_html="<p>Visitor visa fees change.</p>",
        ),
    )
    pairs = [(path, LASTMOD.get(path, "2026-07-13")) for path in [*DEFAULT_SITEMAP_PATHS, article_path("fees")]]
    newer = (datetime.now(UTC) + timedelta(minutes=5)).isoformat(timespec="seconds")  # than our last check
    pairs = [(path, newer if path == edited else lastmod) for path, lastmod in pairs]
    site.set(SITEMAP_URLSET_PATH, Route(body=sitemap_urlset(site.base_url, pairs), headers={"Content-Type": XML}))
    asked: list[str] = []
    checked_times = Store.checked_times

    def recording(store: Store, urls: Sequence[str]) -> dict[str, datetime]:
        asked.extend(urls)
        return checked_times(store, urls)

    monkeypatch.setattr(Store, "checked_times", recording)
    reports, requested = [], []
    for config in configs:
        asked.clear()
        site.clear_requests()
        reports.append(run_sync(config))
        requested.append(sorted(site.paths_requested()))
        if config is configs[0]:
            # The two links that were not settled, the new one and the edited one, in the sitemap's order.
            assert asked == [site.base_url + path.lstrip("/") for path in (edited, late, article_path("fees"))]
            monkeypatch.setattr(Store, "previous_read", lambda *_, **__: None)  # no last read: every entry afresh

    incremental, full = (report.sources[0] for report in reports)
    assert sorted(incremental.new) == sorted(site.base_url + path.lstrip("/") for path in (late, article_path("fees")))
    assert (incremental.new, incremental.unchanged, requested[0]) == (full.new, full.unchanged, requested[1])
    assert edited in requested[0]


def test_a_store_as_the_last_run_left_it_is_not_read_whole_again(
    site: FixtureSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`PRAGMA quick_check` reads every page of the store (its cost follows the archive): it runs when
    the store's seal does not vouch for the file, never on a quiet sync after a clean one."""
    deep_checks: list[str] = []
    connect = sqlite3.connect

    def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        db: sqlite3.Connection = connect(*args, **kwargs)
        db.set_trace_callback(lambda statement: deep_checks.append(statement) if "quick_check" in statement else None)
        return db

    monkeypatch.setattr(sqlite3, "connect", traced)
    config = load_config(write_config(site, tmp_path))
    store, seal_file = config.state_dir / STORE_FILE, config.state_dir / seal_module.SEAL_FILE

    def deep_checked(action: str) -> bool:
        deep_checks.clear()
        report = run_sync(config)
        assert report.exit_code == 0, (action, [problem.describe() for problem in report.all_problems])
        return bool(deep_checks)

    assert not deep_checked("the first sync")  # no store yet: it makes one, and seals it
    assert not deep_checked("a quiet sync")
    assert not deep_checked("another")
    shutil.copy2(store, tmp_path / "backup")  # the same bytes and times put back: only the change time moves
    shutil.copy2(tmp_path / "backup", store)
    assert deep_checked("a sync after the file was replaced")
    assert not deep_checked("the quiet sync after it")
    record = json.loads(seal_file.read_text())
    record["checked_at"] = (datetime.fromisoformat(record["checked_at"]) - timedelta(hours=24)).isoformat()
    seal_file.write_text(json.dumps(record))
    assert deep_checked("a sync a day after the last deep check")
    assert not deep_checked("the quiet sync after it")
    (tmp_path / "boot_id").write_text("another boot\n")
    monkeypatch.setattr(seal_module, "BOOT_ID", tmp_path / "boot_id")
    assert deep_checked("the first sync after the machine restarted")
    assert not deep_checked("the quiet sync after it")


def add_article(site: FixtureSite, slug: str) -> None:
    page = derive_article(
        "article-improvements-to-the-pathway-student-visa.html",
        slug=slug,
        title=f"About {slug}",
        published="10 July 2026",
        body_html=f"<p>News about {slug}.</p>",
    )
    site.set_article(article_path(slug), page)
    site.set_sitemap_paths([*DEFAULT_SITEMAP_PATHS, article_path(slug)])


def test_a_sync_that_reads_a_new_page_uses_the_selectors_an_earlier_run_compiled(
    site: FixtureSite, tmp_path: Path
) -> None:
    config = write_config(site, tmp_path)
    first, compiled_first = compiled_by(tmp_path, "sync", "--config", str(config))
    add_article(site, "fees")

    result, compiled = compiled_by(tmp_path, "sync", "--config", str(config))

    assert first.returncode == 0 and result.returncode == 0, result.stderr
    assert "h1.hero__title > span.hero__title-main" in compiled_first
    assert "1 new" in result.stdout
    assert compiled == []  # soupsieve compiled nothing: the title, date and body selectors were recalled


@pytest.mark.parametrize("damage", ["garbage", "code", "swapped"])
def test_a_damaged_record_of_compiled_selectors_costs_a_compilation_and_runs_no_code(
    site: FixtureSite, tmp_path: Path, damage: str
) -> None:
    config = write_config(site, tmp_path)
    assert run_cli("sync", "--config", str(config)).returncode == 0
    record_path = load_config(config).state_dir / "selectors-checked.json"
    record = json.loads(record_path.read_text())
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self) -> tuple[Any, ...]:
            return (subprocess.call, (["touch", str(marker)],))

    title = "h1.hero__title > span.hero__title-main"
    if damage == "garbage":
        bad = b"\x80\x05not a pickle"
    elif damage == "code":
        bad = pickle.dumps({"h1": Payload()})
    else:  # another selector under its name
        bad = pickle.dumps({title: soupsieve.compile("p")})
    record_path.write_text(json.dumps({**record, "compiled": base64.b64encode(bad).decode()}))
    add_article(site, "fees")

    result, compiled = compiled_by(tmp_path, "sync", "--config", str(config))

    assert result.returncode == 0, result.stderr
    assert "1 new" in result.stdout
    assert title in compiled
    assert not marker.exists()
    add_article(site, "levies")  # and the record is whole again
    assert compiled_by(tmp_path, "sync", "--config", str(config))[1] == []


def test_a_selector_with_a_pseudo_class_no_static_page_matches_is_recalled_too(
    site: FixtureSite, tmp_path: Path
) -> None:
    """soupsieve compiles `:hover`, `:focus`, `:visited`... to a selector that matches nothing: its
    compiled form must be read back like any other, or no selector ever is (the record is refused whole)."""
    excludes = ["p.content-page__summary", "div.page-utilities", "nav.breadcrumbs", "a:hover"]
    config = write_config(site, tmp_path, source={"extraction": {"body_exclude": excludes}})
    first, compiled_first = compiled_by(tmp_path, "sync", "--config", str(config))
    add_article(site, "fees")

    result, compiled = compiled_by(tmp_path, "sync", "--config", str(config))

    assert first.returncode == 0 and result.returncode == 0, result.stderr
    assert "a:hover" in compiled_first and "1 new" in result.stdout
    assert compiled == []
