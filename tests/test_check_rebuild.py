"""`run.py check` (what each selector matches, for an operator or a daily monitor) and `run.py rebuild`
(re-extract every stored raw page with the current config and republish, with no network request)."""

from __future__ import annotations

import copy
import json
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from pipeline.config import load_config
from pipeline.model import Page
from pipeline.sync.check import Finding, inspect_article
from tests.fixture_site import (
    ARTICLE_CAPTURES,
    ARTICLE_PATHS,
    DEFAULT_SITEMAP_PATHS,
    FixtureSite,
    article_path,
    derive_article,
    read_capture,
)
from tests.helpers import REPO_ROOT, MakeConfig, run_cli

MIDDLE_EAST_PATH = ARTICLE_PATHS[3]  # not among the home block's 3 newest
Snapshot = dict[str, tuple[bytes, int]]


def cli(command: str, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(command, "--config", str(config), *args, timeout=60)


def fast(make_config: MakeConfig, site: FixtureSite, tmp_path: Path, /, **source: Any) -> Path:
    return make_config(site, tmp_path, source={"retries": 0, "backoff": 0, **source})


def url_of(site: FixtureSite, path: str) -> str:
    return site.base_url.rstrip("/") + path


def snapshot(output: Path) -> Snapshot:
    return {
        path.relative_to(output).as_posix(): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(output.rglob("*"))
        if path.is_file()
    }


def feed_ids(output: Path) -> list[str]:
    return [str(item["id"]) for item in json.loads((output / "feed.json").read_text("utf-8"))["items"]]


def revision_count(state: Path) -> int:
    with sqlite3.connect(state / "panui.sqlite3") as db:
        return int(db.execute("SELECT count(*) FROM revisions").fetchone()[0])


def findings_of(html: str) -> dict[str, Finding]:
    url = "https://www.immigration.govt.nz" + ARTICLE_PATHS[0]
    page = Page(url, url, 200, {"content-type": "text/html; charset=utf-8"}, html.encode(), datetime.now(UTC))
    source = load_config(REPO_ROOT / "sources.yaml").source("inz")
    return {finding.name: finding for finding in inspect_article(page, source)}


# -- check ------------------------------------------------------------------------------------------


def test_inspect_article_reports_what_each_selector_found_on_a_real_page() -> None:
    findings = findings_of(read_capture(ARTICLE_CAPTURES[0]))
    assert all(finding.ok for finding in findings.values()), findings
    assert findings["extraction.page_type"].detail == "'NewsAnnouncementPage'"
    assert findings["extraction.title"].detail.startswith("Improvements to the Pathway Student Visa")
    assert findings["extraction.published"].detail == "'09 July 2026' -> 2026-07-09"
    assert findings["extraction.body"].detail.endswith(" words")


def test_inspect_article_marks_a_renamed_selector_as_a_miss() -> None:
    findings = findings_of(read_capture(ARTICLE_CAPTURES[0]).replace("hero__publish-date", "hero__date"))
    assert not findings["extraction.published"].ok
    assert findings["extraction.published"].detail == "no match"
    assert findings["extraction.title"].ok


def test_check_on_the_healthy_site_passes_and_writes_nothing(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = fast(make_config, site, tmp_path)

    result = cli("check", config)

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "MISS" not in out
    assert "ok    discovery.listings[0].links" in out
    assert "3 article link(s)" in out
    assert "ok    discovery.sitemap" in out
    assert "ok    alerts 'div.site-banner__content': 1 alert(s)" in out
    checked = [line.split()[-1] for line in out.splitlines() if line.strip().startswith("article ")]
    assert checked == [url_of(site, path) for path in ARTICLE_PATHS[:2]]  # the 2 newest
    for name in ("title", "published", "body"):
        assert out.count(f"ok    extraction.{name} ") == 2, name
    assert "'09 July 2026' -> 2026-07-09" in out
    assert out.rstrip().endswith("all selectors matched")
    assert not (tmp_path / "state").exists()
    assert not (tmp_path / "output").exists()
    assert all(request.method == "GET" for request in site.requests)


def test_check_url_checks_that_article(site: FixtureSite, tmp_path: Path, make_config: MakeConfig) -> None:
    config = fast(make_config, site, tmp_path)
    url = url_of(site, MIDDLE_EAST_PATH)

    result = cli("check", config, "--url", url)

    assert result.returncode == 0, result.stdout + result.stderr
    checked = [line.split()[-1] for line in result.stdout.splitlines() if line.strip().startswith("article ")]
    assert checked == [url]
    assert "'02 March 2026' -> 2026-03-02" in result.stdout
    assert MIDDLE_EAST_PATH in site.paths_requested()
    assert not any(path in site.paths_requested() for path in ARTICLE_PATHS[:3])


def test_check_fails_on_a_miss_and_on_an_unknown_source(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = fast(make_config, site, tmp_path, extraction={"body": "div.no-such-body"})

    result = cli("check", config)

    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.count("MISS  extraction.body 'div.no-such-body': no match") == 2
    assert "selector(s) or page(s) did not match" in result.stdout
    unknown = cli("check", config, "--source", "nope")
    assert unknown.returncode == 2
    assert "no source with id 'nope'" in unknown.stderr


def test_check_reports_a_cron_the_daemon_would_refuse_before_fetching(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    """Five fields pass sources.yaml's loader (it does not load APScheduler); `check` builds the
    daemon's triggers, so a crontab out of range is found before the daemon is started with it."""
    config = fast(make_config, site, tmp_path, schedule={"interval": None, "cron": "0 9 * * 8"})

    result = cli("check", config)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"error: {config}: 1 problem in the configuration" in result.stderr
    assert "source inz: schedule.cron '0 9 * * 8': cannot read weekday '8'" in result.stderr
    assert "(hint: a 5-field crontab in Pacific/Auckland time" in result.stderr
    assert site.requests == []


# -- rebuild ----------------------------------------------------------------------------------------


def test_rebuild_without_network_gives_the_same_bytes_as_the_sync(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = fast(make_config, site, tmp_path)
    assert cli("sync", config).returncode == 0
    output = tmp_path / "output"
    synced = snapshot(output)
    revisions = revision_count(tmp_path / "state")
    site.stop()  # any request would now fail and show as a problem
    requests_before = len(site.requests)

    untouched = cli("rebuild", config)

    assert untouched.returncode == 0, untouched.stdout + untouched.stderr
    assert "(0 requests)" in untouched.stdout
    assert "published: nothing changed" in untouched.stdout
    assert snapshot(output) == synced  # not even rewritten
    assert revision_count(tmp_path / "state") == revisions

    shutil.rmtree(output)
    rebuilt = cli("rebuild", config)

    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert {name: body for name, (body, _) in snapshot(output).items()} == {
        name: body for name, (body, _) in synced.items()
    }
    assert len(site.requests) == requests_before


def test_rebuild_with_broken_selectors_keeps_the_last_good_output(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    assert cli("sync", fast(make_config, site, tmp_path)).returncode == 0
    output = tmp_path / "output"
    synced = snapshot(output)
    broken = fast(make_config, site, tmp_path, fallback="none", extraction={"title": "h1.no-such-title"})

    result = cli("rebuild", broken)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "DEGRADED: extraction.title selector 'h1.no-such-title' matched nothing (e.g. " in result.stdout
    assert snapshot(output) == synced


def test_rebuild_publishes_an_article_held_back_under_the_old_expectations(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    path = article_path("fees-change-next-week")
    ahead = (datetime.now(UTC) + timedelta(days=10)).strftime("%d %B %Y")  # announced ahead of its date
    page = derive_article(
        ARTICLE_CAPTURES[0],
        slug="fees-change-next-week",
        title="Fees change next week",
        published=ahead,
        body_html="<p>Visa fees change next week.</p>",
    )
    site.set_article(path, page)
    site.set_sitemap_paths([*DEFAULT_SITEMAP_PATHS, path])
    held = cli("sync", fast(make_config, site, tmp_path))
    assert held.returncode == 1
    assert "is in the future" in held.stderr
    assert url_of(site, path) not in feed_ids(tmp_path / "output")
    assert held_back_urls(cli("status", fast(make_config, site, tmp_path))) == [url_of(site, path)]
    site.clear_requests()

    lenient = fast(make_config, site, tmp_path, expect={"max_future_days": 30})
    result = cli("rebuild", lenient)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"new: {url_of(site, path)}" in result.stdout
    assert feed_ids(tmp_path / "output")[0] == url_of(site, path)
    assert site.requests == []
    assert held_back_urls(cli("status", lenient)) == []  # published: no longer listed as held back


def held_back_urls(status: subprocess.CompletedProcess[str]) -> list[str]:
    prefix = "inz: held back: "
    return [
        line.removeprefix(prefix).split(": ", 1)[0] for line in status.stdout.splitlines() if line.startswith(prefix)
    ]


def test_check_url_checks_an_article_under_its_own_source_when_two_share_the_host(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    path = fast(make_config, site, tmp_path)
    data = yaml.safe_load(path.read_text("utf-8"))
    notices = copy.deepcopy(data["sources"][0])  # a section of the same site, with paths of its own
    notices.update(id="notices", name="Notices")
    notices["discovery"]["article_paths"] = "^/notices/"
    data["sources"].append(notices)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    url = url_of(site, MIDDLE_EAST_PATH)

    result = cli("check", path, "--url", url, "--url", url_of(site, "/notices/gone/"))

    checked = [line.split()[-1] for line in result.stdout.splitlines() if line.strip().startswith("article ")]
    assert checked == [url], result.stdout  # by the news source, whose paths take it; not by the notices' too
    assert "notices (" in result.stdout and "/notices/gone/" in result.stdout  # asked for by its own source
