"""PDF documents and watched pages, read in process: pypdf reads the tests' own PDFs (tests/pdf_writer.py),
a PDF that cannot be read is a problem for it alone, and a watched page's text is what its versions
are told apart by."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from pipeline.config import load_config
from pipeline.errors import ConfigError, ExtractError, NotAnArticle
from pipeline.extract import HeldBack, extract_guarded
from pipeline.extract.watched import extract_watched
from pipeline.model import Page, WatchedPage
from tests.helpers import REPO_ROOT
from tests.pdf_writer import text_pdf

FETCHED = datetime(2026, 7, 14, 1, 0, tzinfo=UTC)
SOURCE = load_config(REPO_ROOT / "sources.yaml").sources[0]
URL = "https://www.immigration.govt.nz/about-us/news-centre/circular-2026-01.pdf"


def page(body: bytes, content_type: str = "application/pdf", url: str = URL) -> Page:
    return Page(url, url, 200, {"content-type": content_type}, body, FETCHED)


def test_a_pdf_at_an_article_link_is_an_article_of_its_text_title_and_date() -> None:
    pdf = text_pdf(
        [["Amendment circular 2026/01", "Changes to the Skilled Migrant Category."], ["From 1 August (NZ time)."]],
        title="Circular 2026/01",
        created="D:20260301120000+13'00'",
    )

    for content_type in ("application/pdf", "text/html", ""):  # the first bytes say what it is
        extraction = extract_guarded(page(pdf, content_type), SOURCE, FETCHED)

        article = extraction.article
        assert extraction.extractor == "pdf"
        assert article.title == "Circular 2026/01"
        assert article.published.date().isoformat() == "2026-03-01"
        assert article.body_html == (
            "<p>Amendment circular 2026/01</p><p>Changes to the Skilled Migrant Category.</p>"
            "<p>From 1 August (NZ time).</p>"
        )


def test_a_pdf_without_a_title_or_a_possible_date_takes_its_first_line_and_the_day_it_was_fetched() -> None:
    pdf = text_pdf([["Operational Manual amendments", "Section A1."]], created="D:19800101000000Z")

    article = extract_guarded(page(pdf), SOURCE, FETCHED).article

    assert article.title == "Operational Manual amendments"
    assert article.published.date().isoformat() == "2026-07-14"  # 1 a.m. UTC is 1 p.m. in Auckland


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n", "cannot be read"),
        (b"%PDF-1.4\nnot a pdf at all", "cannot be read"),
        (text_pdf([["Secret"]], encrypted=True), "encrypted"),
        (text_pdf([[]]), "no text layer"),
    ],
)
def test_a_pdf_that_cannot_be_read_is_held_back_as_its_own_problem_not_a_layout_change(
    body: bytes, reason: str
) -> None:
    with pytest.raises(HeldBack) as raised:
        extract_guarded(page(body), SOURCE, FETCHED)

    assert reason in raised.value.message
    assert not raised.value.layout_changed  # the source is not degraded by one bad document


def watched_page(main: str, outside: str = "") -> Page:
    html = (
        "<!doctype html><html><head><title>Processing times | INZ</title></head><body>"
        f"<nav>Menu {outside}</nav><main><h1>Visa processing times</h1>{main}</main><footer>{outside}</footer>"
        "</body></html>"
    )
    return page(html.encode(), "text/html; charset=utf-8", "https://www.immigration.govt.nz/visas/processing-times/")


def test_a_watched_page_is_the_text_of_its_selected_part_one_paragraph_a_line() -> None:
    watched = WatchedPage("/visas/processing-times/", "main")
    table = "<table><tr><td>Visitor visa</td><td>20 working days</td></tr></table><script>x()</script>"
    url = "https://www.immigration.govt.nz/visas/processing-times/"

    article = extract_watched(watched_page(table, "built 10:00"), SOURCE, watched, url, FETCHED)
    respaced = extract_watched(
        watched_page(table.replace("<td>", "\n  <td>  "), "built 11:00"), SOURCE, watched, url, FETCHED
    )

    assert article.title == "Visa processing times"
    assert article.body_html == "<p>Visa processing times</p><p>Visitor visa</p><p>20 working days</p>"
    assert respaced.content_hash == article.content_hash  # spacing, and text outside main, are no change


def test_a_watched_selector_that_matches_nothing_is_an_error_that_names_it() -> None:
    with pytest.raises(ExtractError, match="'#times' matched nothing"):
        extract_watched(watched_page("<p>x</p>"), SOURCE, WatchedPage("/p/", "#times"), URL, FETCHED)


def shipped_with_example_enabled(tmp_path: Path) -> Path:
    """The shipped sources.yaml with its disabled inz-pages example enabled."""
    data = yaml.safe_load((REPO_ROOT / "sources.yaml").read_text("utf-8"))
    data["sources"] = [source for source in data["sources"] if source["id"] in ("inz", "inz-pages")]
    data["sources"][1].pop("enabled")
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def test_the_shipped_watched_pages_example_is_a_valid_source_of_watched_pages_alone(tmp_path: Path) -> None:
    assert [source.id for source in load_config(REPO_ROOT / "sources.yaml").sources] == ["inz"]  # off by default

    pages = load_config(shipped_with_example_enabled(tmp_path)).source("inz-pages")

    assert pages.watch == (WatchedPage("/visas/processing-times/", "main"),)
    assert pages.extraction is None and not pages.discovery.listings and pages.discovery.sitemap is None


@pytest.mark.parametrize(
    ("watch", "message"),
    [
        ([{"path": "visas/"}], "is not a path on the source's host"),
        ([{"path": "//elsewhere.example/"}], "is not a path on the source's host"),
        ([{"path": "/a/", "selector": "main["}], "watch[0].selector"),
        ([{"path": "/a/"}, {"path": "/a/"}], "is watched twice"),
        ([], "must be a list of 1 to 100 pages"),
        ([{"path": "/a/", "selecter": "main"}], "selecter"),
    ],
)
def test_a_bad_watch_entry_is_a_configuration_error_naming_its_key(tmp_path: Path, watch: object, message: str) -> None:
    data = yaml.safe_load(shipped_with_example_enabled(tmp_path).read_text("utf-8"))
    data["sources"][1]["watch"] = watch
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")

    with pytest.raises(ConfigError) as raised:
        load_config(path)

    assert "sources[1].watch" in raised.value.message and message in raised.value.message


def test_a_source_of_watched_pages_alone_reads_no_page_as_an_article(tmp_path: Path) -> None:
    """Its pages are read as watched pages only: `rebuild`, or `sync --url` on its host, never makes one
    an article (not even its robots.txt), generic extraction or PDF alike."""
    pages = load_config(shipped_with_example_enabled(tmp_path)).source("inz-pages")
    url = "https://www.immigration.govt.nz/robots.txt"
    for body, kind in ((b"User-agent: *\n", "text/plain"), (text_pdf([["A circular"]]), "application/pdf")):
        page = Page(url, url, 200, {"content-type": kind}, body, datetime(2026, 7, 1, tzinfo=UTC))
        with pytest.raises(NotAnArticle):
            extract_guarded(page, pages, datetime(2026, 7, 2, tzinfo=UTC))
