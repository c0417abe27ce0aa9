"""Watched pages and PDF documents end to end through `python run.py sync` against the fixture site: a page
that changes between syncs (spacing alone: no item; a real change: one item with a readable diff), and
PDFs written by tests/pdf_writer.py served where articles live (archived, read, published with a link
to the copy; a broken one is one problem, and the run goes on)."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from pipeline.publish.entries import nz_date
from pipeline.store import Store
from tests.fixture_site import DEFAULT_SITEMAP_PATHS, NEWS, FixtureSite, Route, etag_of
from tests.helpers import run_cli, stored_articles, write_config
from tests.pdf_writer import text_pdf

PAGE = "/visas/processing-times/"
ROWS = [("Visitor visa", "20 working days"), ("Student visa", "35 working days")]


def processing_times(rows: list[tuple[str, str]], *, indent: str = "", built: str = "10:00") -> bytes:
    """The watched page: its main part, and a footer that changes on every build (outside `main`)."""
    cells = "".join(f"{indent}<tr><td>{visa}</td>{indent}<td>{days}</td></tr>\n" for visa, days in rows)
    html = (
        "<!doctype html><html><head><title>Processing times | Immigration New Zealand</title></head><body>"
        f"<main><h1>Visa processing times</h1>{indent}<p>Updated  weekly.</p><table>\n{cells}</table></main>"
        f"<footer>Page built at {built}</footer></body></html>"
    )
    return html.encode()


def config_with_watched_source(site: FixtureSite, tmp_path: Path) -> Path:
    """The shipped config aimed at the site, plus a source of watched pages alone (the shipped example's shape)."""
    path = write_config(site, tmp_path, source={"retries": 0, "backoff": 0})
    data: dict[str, Any] = yaml.safe_load(path.read_text("utf-8"))
    inz = data["sources"][0]
    data["sources"] = [source for source in data["sources"] if source["id"] != "inz-pages"]  # the shipped, disabled one
    data["sources"].append(
        {
            "id": "inz-pages",
            "name": "Immigration New Zealand (updated pages)",
            "base_url": site.base_url,
            "request_delay": 0,
            "retries": 0,
            "watch": [{"path": PAGE, "selector": "main"}],
            "licence": inz["licence"],
            "attribution": inz["attribution"],
        }
    )
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def sync(config: Path, exit_code: int = 0) -> subprocess.CompletedProcess[str]:
    result = run_cli("sync", "--config", str(config), "--wait", "0", timeout=90)
    assert result.returncode == exit_code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result


def items(output: Path, feed: str) -> list[dict[str, Any]]:
    data: dict[str, Any] = json.loads((output / feed).read_text("utf-8"))
    return list(data["items"])


def test_a_watched_page_change_is_one_item_with_a_readable_diff_and_spacing_is_none(
    site: FixtureSite, tmp_path: Path
) -> None:
    output, url = tmp_path / "output", site.base_url.rstrip("/") + PAGE
    site.set(PAGE, Route(body=processing_times(ROWS), headers={"Content-Type": "text/html; charset=utf-8"}))
    config = config_with_watched_source(site, tmp_path)

    sync(config)  # the baseline: no item
    assert items(output, "inz-pages/changes.json") == []
    site.clear_requests()
    sync(config)  # unchanged: asked for conditionally, and answered 304
    (asked,) = [request for request in site.requests if request.path == PAGE]
    assert asked.headers.get("If-None-Match") == etag_of(processing_times(ROWS))

    respaced = processing_times(ROWS, indent="\n    ", built="11:30")  # new bytes, the same text in main
    site.set(PAGE, Route(body=respaced, headers={"Content-Type": "text/html; charset=utf-8"}))
    sync(config)
    assert items(output, "inz-pages/changes.json") == []

    changed = [("Visitor visa", "25 working days"), ROWS[1]]
    site.set(PAGE, Route(body=processing_times(changed), headers={"Content-Type": "text/html; charset=utf-8"}))
    result = sync(config)

    (item,) = items(output, "inz-pages/changes.json")
    today = nz_date(datetime.now(ZoneInfo("Pacific/Auckland")), "Pacific/Auckland")
    assert item["title"] == f"Visa processing times changed on {today}"
    assert "[deleted: </span>20" in item["content_html"] and "[inserted: </span>25" in item["content_html"]
    assert item["external_url"] == url
    assert url in result.stdout  # reported as updated
    archive = item["url"].removeprefix("http://localhost:8000/").split("#", 1)[0]
    page = (output / archive / "index.html").read_text("utf-8")
    assert "25 working days" in page and 'id="version-2"' in page
    for feed in ("inz-pages/changes.xml", "inz-pages/changes.atom"):
        assert item["id"] in (output / feed).read_text("utf-8")
    # Not an article: in no article feed, nor in the corrections feed.
    everywhere = {
        entry["id"]
        for feed in ("feed.json", "inz/updates.json", "inz-pages/updates.json")
        for entry in items(output, feed)
    }
    assert not any(PAGE in str(entry_id) for entry_id in everywhere)
    assert "inz-pages/changes.xml" in (output / "feeds.opml").read_text("utf-8")
    # An ordinary revision in the store, as an article's edit is (what subscriptions' `revised` reads).
    with Store(tmp_path / "state") as store:
        [watched] = [stored for stored in stored_articles(store) if stored.article.url == url]
        assert watched.kind == "watch" and watched.version == 2
        assert [version.number for version in store.versions([watched.id])[watched.id]] == [1, 2]

    changes = (output / "inz-pages" / "changes.json").read_bytes()
    rebuilt = run_cli("rebuild", "--config", str(config), timeout=90)  # never reads a watched page as an article
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert (output / "inz-pages" / "changes.json").read_bytes() == changes

    checked = run_cli("check", "--config", str(config), "--source", "inz-pages", timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "ok    watch[0] 'main': 15 words on " + url in checked.stdout


def test_pdfs_where_articles_live_are_archived_read_and_published_and_a_broken_one_is_one_problem(
    site: FixtureSite, tmp_path: Path
) -> None:
    output = tmp_path / "output"
    circular = text_pdf(
        [["Amendment circular 2026/01", "Changes to the Skilled Migrant Category."]],
        title="Circular 2026/01",
        created="D:20260301120000+13'00'",
    )
    broken = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    served = {f"{NEWS}circular-2026-01.pdf": circular, f"{NEWS}broken-circular.pdf": broken}
    for path, body in served.items():
        site.set(path, Route(body=body, headers={"Content-Type": "application/pdf"}))
    site.set_sitemap_paths([*DEFAULT_SITEMAP_PATHS, *served])
    config = write_config(site, tmp_path, source={"retries": 0, "backoff": 0})

    result = sync(config, exit_code=1)  # one problem: the broken PDF

    broken_url = site.base_url.rstrip("/") + f"{NEWS}broken-circular.pdf"
    assert [line for line in result.stderr.splitlines() if broken_url in line] != []
    assert "PDF cannot be read" in result.stderr and "degraded" not in result.stdout + result.stderr
    published = {item["id"]: item for item in items(output, "feed.json")}
    url = site.base_url.rstrip("/") + f"{NEWS}circular-2026-01.pdf"
    item = published[url]
    assert item["title"] == "Circular 2026/01" and item["date_published"].startswith("2026-03-01")
    assert "Changes to the Skilled Migrant Category." in item["content_html"]
    assert len(published) > 2  # the run went on: the other articles are published too
    folder = output / "inz" / "articles" / "circular-2026-01-pdf"
    page = (folder / "index.html").read_text("utf-8")
    assert 'href="circular-2026-01.pdf"' in page and "Changes to the Skilled Migrant Category." in page
    assert (folder / "circular-2026-01.pdf").read_bytes() == circular  # the original file, as served
    assert not (output / "inz" / "articles" / "broken-circular-pdf").exists()


def test_a_watched_pdf_is_read_as_a_document_and_its_archived_page_links_the_copy(
    site: FixtureSite, tmp_path: Path
) -> None:
    output, path = tmp_path / "output", "/documents/queue-update.pdf"
    first = text_pdf([["Queue update", "Residence applications allocated: 1200."]], title="Queue update")
    site.set(path, Route(body=first, headers={"Content-Type": "application/pdf"}))
    config = config_with_watched_source(site, tmp_path)
    data = yaml.safe_load(config.read_text("utf-8"))
    data["sources"][-1]["watch"] = [{"path": path}]
    config.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    sync(config)

    second = text_pdf([["Queue update", "Residence applications allocated: 1350."]], title="Queue update")
    site.set(path, Route(body=second, headers={"Content-Type": "application/pdf"}))
    sync(config)

    (item,) = items(output, "inz-pages/changes.json")
    assert item["title"].startswith("Queue update changed on ")
    assert "[deleted: </span>1200." in item["content_html"] and "[inserted: </span>1350." in item["content_html"]
    folder = output / item["url"].removeprefix("http://localhost:8000/").split("#", 1)[0]
    assert 'href="queue-update.pdf"' in (folder / "index.html").read_text("utf-8")
    assert (folder / "queue-update.pdf").read_bytes() == second  # the copy is of the current version
