"""Extraction, golden-tested on every real capture of immigration.govt.nz (pipeline/demo/captures).

Each article capture has a golden file in tests/golden/<capture name>.json holding what extract_article
must make of it. To regenerate the goldens after a deliberate change to extraction:

    PANUI_UPDATE_GOLDEN=1 python -m pytest tests/test_extract.py

then review the diff of tests/golden/ against the captures by eye before committing it: the goldens
are the specification, not a record of whatever the code happens to output. The structural tests
below (`test_golden_body_*`) re-check the properties a reviewer looks for, so a wrong golden fails too.
"""

from __future__ import annotations

import json
import os
import random
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup, Tag

from pipeline.config import load_config
from pipeline.errors import ExtractError, NotAnArticle
from pipeline.extract.article import extract_article, not_html
from pipeline.model import Article, Page, Source
from pipeline.spacing import without_block_tag_space
from tests.fixture_site import CAPTURES, derive_article, read_capture
from tests.helpers import REPO_ROOT

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
UPDATE_GOLDEN = os.environ.get("PANUI_UPDATE_GOLDEN") == "1"
REAL_HOST = "https://www.immigration.govt.nz"
FETCHED_AT = datetime(2026, 7, 13, 0, 0, tzinfo=UTC)
UTF8_HTML = {"content-type": "text/html; charset=utf-8"}

ALL_CAPTURES = sorted(path.name for path in CAPTURES.glob("*.html"))
ARTICLE_CAPTURES = [name for name in ALL_CAPTURES if 'data-pagetype="NewsAnnouncementPage"' in read_capture(name)]
NON_ARTICLE_CAPTURES = [name for name in ALL_CAPTURES if name not in ARTICLE_CAPTURES]
MIDDLE_EAST = "article-middle-east-advice-for-temporary-visa-holders.html"
PATHWAY = "article-improvements-to-the-pathway-student-visa.html"
BUSINESS = "article-business-investor-visa-updates-to-unlock-wider-investment-opportunities.html"


def inz_source() -> Source:
    """The INZ source exactly as the shipped sources.yaml defines it."""
    return load_config(REPO_ROOT / "sources.yaml").source("inz")


def original_url(name: str) -> str:
    """The page's address on the real site, from the capture's first comment line."""
    match = re.search(r"https://www\.immigration\.govt\.nz/\S*", read_capture(name).split("\n")[0])
    assert match is not None, name
    return match[0]


def page_of(
    body: bytes | str,
    url: str = REAL_HOST + "/about-us/news-centre/fixture/",
    *,
    final_url: str | None = None,
    headers: dict[str, str] | None = None,
) -> Page:
    return Page(
        url=url,
        final_url=final_url or url,
        status=200,
        headers=UTF8_HTML if headers is None else headers,
        body=body.encode("utf-8") if isinstance(body, str) else body,
        fetched_at=FETCHED_AT,
    )


def capture_page(name: str) -> Page:
    return page_of((CAPTURES / name).read_bytes(), original_url(name))


def as_golden(article: Article) -> dict[str, Any]:
    return {
        "url": article.url,
        "title": article.title,
        "published": article.published.isoformat(),
        "news_type": article.news_type,
        "topics": list(article.topics),
        "summary": article.summary,
        "body_html": article.body_html,
    }


def golden_path(name: str) -> Path:
    return GOLDEN_DIR / (Path(name).stem + ".json")


def load_golden(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(golden_path(name).read_text("utf-8"))
    return data


# -- the goldens ---------------------------------------------------------------------------------


def test_every_capture_is_covered() -> None:
    """A capture added to pipeline/demo/captures must get a golden (or be a known non-article)."""
    assert len(ARTICLE_CAPTURES) >= 4
    assert {"copyright-page.html", "terms-of-use-page.html", "news-centre-listing.html"} <= set(NON_ARTICLE_CAPTURES)
    if not UPDATE_GOLDEN:
        assert sorted(p.stem for p in GOLDEN_DIR.glob("*.json")) == sorted(Path(n).stem for n in ARTICLE_CAPTURES)


@pytest.mark.parametrize("name", ARTICLE_CAPTURES)
def test_article_capture_matches_its_golden(name: str) -> None:
    actual = as_golden(extract_article(capture_page(name), inz_source()))
    if UPDATE_GOLDEN:
        GOLDEN_DIR.mkdir(exist_ok=True)
        text = json.dumps(actual, ensure_ascii=False, indent=2) + "\n"
        golden_path(name).write_text(text, "utf-8")
    expected = load_golden(name)
    for field in ("url", "title", "published", "news_type", "topics", "summary"):
        assert actual[field] == expected[field], field
    assert actual["body_html"] == expected["body_html"]


@pytest.mark.parametrize(
    "name", [name for name in NON_ARTICLE_CAPTURES if name != "homepage-latest-announcements-block.html"]
)
def test_non_article_capture_is_not_an_article(name: str) -> None:
    with pytest.raises(NotAnArticle):
        extract_article(page_of((CAPTURES / name).read_bytes(), original_url(name)), inz_source())


def test_a_page_without_the_page_type_marker_is_a_layout_problem_not_a_skip() -> None:
    """The home page excerpt has no body[data-pagetype]: after a redesign every page could look like
    that, so a missing marker must be reported (naming the selector), never skipped silently."""
    page = page_of((CAPTURES / "homepage-latest-announcements-block.html").read_bytes(), REAL_HOST + "/")
    with pytest.raises(ExtractError, match=r"page_type marker body\[data-pagetype\] is missing"):
        extract_article(page, inz_source())


@pytest.mark.parametrize("name", ARTICLE_CAPTURES)
def test_golden_fields_agree_with_the_capture(name: str) -> None:
    """The golden's plain fields are what the page itself says (meta description, canonical, hero)."""
    golden = load_golden(name)
    soup = BeautifulSoup(read_capture(name), "lxml")
    canonical = soup.find("link", rel="canonical")
    assert isinstance(canonical, Tag)
    assert golden["url"] == canonical["href"] == original_url(name)
    description = soup.find("meta", attrs={"name": "description"})
    assert isinstance(description, Tag)
    assert golden["summary"] == description["content"]
    title = soup.find("title")
    assert title is not None
    assert title.get_text() == golden["title"] + " :: Immigration New Zealand"
    assert golden["news_type"] in {"Announcement", "Media release", "Stories", "Common topic"}
    assert golden["topics"], "every captured article has at least one topic"
    published = datetime.fromisoformat(golden["published"])
    assert (published.hour, published.minute) == (0, 0)
    date_element = soup.select_one(".hero__publish-date")
    assert date_element is not None
    date_text = " ".join(date_element.get_text().split())
    assert published.strftime("%d %B %Y") == date_text


@pytest.mark.parametrize("name", ARTICLE_CAPTURES)
def test_golden_body_has_no_page_furniture(name: str) -> None:
    golden = load_golden(name)
    body = golden["body_html"]
    soup = BeautifulSoup(body, "html.parser")
    assert golden["summary"] not in soup.get_text(), "the summary is a field of its own, not repeated"
    for furniture in ("Print the page", "back to the top", "Breadcrumbs", "News centre", "Topics", "Published"):
        assert furniture.lower() not in body.lower(), furniture
    assert not re.search(r"<(script|style|svg|button|nav|noscript|iframe|form)\b", body, re.I)
    assert not re.search(r"\s(style|class|id|on\w+|aria-[\w-]+|@click)\s*=", body, re.I)
    assert "GTM-" not in body and "googletagmanager" not in body
    assert soup.get_text(strip=True), "the body is not empty"


@pytest.mark.parametrize("name", ARTICLE_CAPTURES)
def test_golden_body_keeps_all_the_article_text(name: str) -> None:
    """Nothing of the article is lost: the body's text is the page's main column minus the summary."""
    main = BeautifulSoup(read_capture(name), "lxml").select_one("div.content-page__main")
    assert main is not None
    summary = main.select_one("p.content-page__summary")
    assert summary is not None
    summary.decompose()
    body = BeautifulSoup(load_golden(name)["body_html"], "html.parser")
    assert " ".join(body.get_text().split()) == " ".join(main.get_text().split())


@pytest.mark.parametrize("name", ARTICLE_CAPTURES)
def test_golden_body_links_are_absolute(name: str) -> None:
    soup = BeautifulSoup(load_golden(name)["body_html"], "html.parser")
    anchors = soup.find_all("a")
    assert anchors, "every captured article links somewhere"
    for anchor in anchors:
        href = str(anchor["href"])
        parts = urlsplit(href)
        assert parts.scheme in ("https", "mailto"), href
        if parts.scheme == "https":
            assert parts.netloc == "www.immigration.govt.nz", href


def test_golden_bodies_keep_mailto_links_and_the_note_box() -> None:
    middle_east = load_golden(MIDDLE_EAST)["body_html"]
    assert '<a href="mailto:s61@mbie.govt.nz"' in middle_east
    soup = BeautifulSoup(middle_east, "html.parser")
    note = next(div for div in soup.find_all("div") if "priority phone line" in div.get_text())
    assert "Note" in note.get_text() and "0508 558 855" in note.get_text()
    assert [h.get_text() for h in soup.find_all("h2")][:2] == [
        "If you hold a New Zealand visa",
        "Your temporary visa is about to expire",
    ]
    links = [str(a["href"]) for a in soup.find_all("a")]
    assert REAL_HOST + "/contact-us/" in links  # was site-relative in the page
    assert REAL_HOST + "/visas/?page=1" in links  # query kept
    employer = load_golden(
        "article-employer-sentenced-after-demanding-tens-of-thousands-of-dollars-from-migrant-worker.html"
    )
    assert '<a href="mailto:media@mbie.govt.nz"' in employer["body_html"]
    pathway = load_golden(PATHWAY)["body_html"]
    assert "making the PSV easier to understand" in pathway  # text of the stray styled spans is kept


# -- dates ---------------------------------------------------------------------------------------


def test_published_dates_carry_the_new_zealand_offset_of_their_day() -> None:
    march = extract_article(capture_page(MIDDLE_EAST), inz_source()).published
    july = extract_article(capture_page(PATHWAY), inz_source()).published
    assert march.isoformat() == "2026-03-02T00:00:00+13:00"  # NZDT
    assert july.isoformat() == "2026-07-09T00:00:00+12:00"  # NZST
    assert march.utcoffset() == timedelta(hours=13) and july.utcoffset() == timedelta(hours=12)
    assert str(march.tzinfo) == "Pacific/Auckland"


def test_bad_date_text_names_the_expected_format() -> None:
    html = read_capture(PATHWAY).replace("09 July 2026", "the ninth of July")
    with pytest.raises(ExtractError) as caught:
        extract_article(page_of(html), inz_source())
    assert "%d %B %Y" in caught.value.message
    assert "the ninth of July" in caught.value.message
    assert caught.value.hint


# -- identity: canonical URL ---------------------------------------------------------------------


def test_canonical_on_another_host_is_rebased_onto_base_url() -> None:
    """A local mirror serves the real pages, whose canonical links name www.immigration.govt.nz."""
    mirror = replace(inz_source(), base_url="http://127.0.0.1:8765/")
    page = page_of((CAPTURES / BUSINESS).read_bytes(), "http://127.0.0.1:8765/some/other/address")
    article = extract_article(page, mirror)
    path = "/about-us/news-centre/business-investor-visa-updates-to-unlock-wider-investment-opportunities/"
    assert article.url == "http://127.0.0.1:8765" + path
    # Site-relative links in the body follow the article onto the mirror's host.
    links = [str(a["href"]) for a in BeautifulSoup(article.body_html, "html.parser").find_all("a")]
    assert links == ["http://127.0.0.1:8765/visas/business-investor-work-visa/"]


def test_page_without_canonical_is_identified_by_its_final_url() -> None:
    html = re.sub(r'<link rel="canonical"[^>]*>', "", read_capture(PATHWAY))
    final = REAL_HOST + "/about-us/news-centre/pathway-final/"
    article = extract_article(page_of(html, REAL_HOST + "/about-us/media-centre/old", final_url=final), inz_source())
    assert article.url == final


def test_canonical_fragment_is_dropped() -> None:
    html = read_capture(PATHWAY).replace(
        'improvements-to-the-pathway-student-visa/">', 'improvements-to-the-pathway-student-visa/#top">', 1
    )
    article = extract_article(page_of(html), inz_source())
    assert article.url == REAL_HOST + "/about-us/news-centre/improvements-to-the-pathway-student-visa/"


# -- required fields -----------------------------------------------------------------------------


def test_missing_title_names_the_selector() -> None:
    html = re.sub(r'<span class="hero__title-main">.*?</span>', "", read_capture(PATHWAY), flags=re.S)
    with pytest.raises(ExtractError) as caught:
        extract_article(page_of(html), inz_source())
    assert not isinstance(caught.value, NotAnArticle)
    assert "h1.hero__title > span.hero__title-main" in caught.value.message
    assert "title" in caught.value.message
    assert caught.value.hint


def test_missing_body_names_the_selector() -> None:
    html = read_capture(PATHWAY).replace("content-page__main", "content-page__elsewhere")
    with pytest.raises(ExtractError) as caught:
        extract_article(page_of(html), inz_source())
    assert "div.content-page__main" in caught.value.message


def test_optional_fields_may_be_absent() -> None:
    html = read_capture(PATHWAY)
    html = re.sub(r'<div class="hero__announcement">.*?</div>', "", html, flags=re.S)
    html = re.sub(r'<ul class="content-page__topics-list">.*?</ul>', "", html, flags=re.S)
    article = extract_article(page_of(html), inz_source())
    assert article.news_type is None
    assert article.topics == ()


# -- character sets ------------------------------------------------------------------------------


def cafe_page() -> str:
    return derive_article(
        PATHWAY,
        slug="cafe-workers",
        title="Visa changes for café workers",
        published="10 July 2026",
        body_html="<p>Baristas at a café in Ōtautahi.</p>".replace("Ō", "O"),  # Ō is not in windows-1252
    )


def test_http_charset_header_wins_over_the_meta_charset() -> None:
    """The page says utf-8 in its <meta>, but the server sent windows-1252 bytes and said so."""
    body = cafe_page().encode("windows-1252")
    assert b"caf\xe9" in body
    page = page_of(body, headers={"content-type": "text/html; charset=windows-1252"})
    article = extract_article(page, inz_source())
    assert article.title == "Visa changes for café workers"
    assert "café in Otautahi" in article.body_html


def test_latin1_header_with_quoted_charset() -> None:
    body = cafe_page().encode("latin-1")
    page = page_of(body, headers={"content-type": 'text/html; charset="ISO-8859-1"'})
    assert extract_article(page, inz_source()).title == "Visa changes for café workers"


def test_meta_charset_is_used_when_the_header_has_none() -> None:
    html = cafe_page().replace('<meta charset="utf-8">', '<meta charset="windows-1252">')
    html = html.replace("text/html; charset=utf-8", "text/html; charset=windows-1252")
    page = page_of(html.encode("windows-1252"), headers={"content-type": "text/html"})
    assert extract_article(page, inz_source()).title == "Visa changes for café workers"


def test_utf8_page_without_any_charset_header() -> None:
    page = page_of(cafe_page().encode("utf-8"), headers={})
    assert extract_article(page, inz_source()).title == "Visa changes for café workers"


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b"%PDF-1.7\n", "application/pdf", "application/pdf"),
        (b"%PDF-1.7\n", "text/html", "text/html"),  # the bytes say what it is
        (b"\x89PNG\r\n\x1a\n", None, "binary"),
        (b"GIF89a", "image/gif", "image/gif"),
        (b"\x00\x01", "application/vnd.ms-excel", "application/vnd.ms-excel"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml", "image/svg+xml"),
        # Markup is read as a page whatever the header says, as a browser would.
        (b"<!doctype html><p>hello</p>", "application/vnd.wap.xhtml+xml", None),
        (b"\xef\xbb\xbf  <html><p>hello</p></html>", "image/png", None),
        (b"\n\n<html></html>", "application/octet-stream", None),
        (b"<html></html>", None, None),
    ],
)
def test_a_document_that_is_not_a_web_page_is_told_apart(
    body: bytes, content_type: str | None, expected: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    page = Page(
        url=REAL_HOST + "/x/",
        final_url=REAL_HOST + "/x/",
        status=200,
        headers=headers,
        body=body,
        fetched_at=datetime(2026, 7, 13, tzinfo=UTC),
    )

    assert not_html(page) == expected


# Each stored version keeps the content hash it was saved with, and a sync compares the page's new hash
# with it: if the hash of the same content ever changed between Pānui releases, every stored article
# would be announced as edited. These were computed by the release that stored them.
STORED_HASHES = {
    BUSINESS: "672ae5d2062eda88b95b16fbe0b4b09b8c3dabc4c567626e7f846afaf44d22d8",
    "article-employer-sentenced-after-demanding-tens-of-thousands-of-dollars-from-migrant-worker.html": (
        "ed4a4afe309086730e02f3f6af2b3764ba802cc412afb59d67be2e7098552d69"
    ),
    PATHWAY: "85c99313d7fc343d0cfc113b3d1a6933773690004a6a6b9686a169fbf9b2fc20",
    "article-middle-east-advice-for-temporary-visa-holders.html": (
        "156b3c6016107d9fd31ce84f0c1f51670cd4934889e4a8f1ce87595265f8977d"
    ),
}


@pytest.mark.parametrize("name", ARTICLE_CAPTURES)
def test_the_content_hash_of_a_capture_is_the_one_stored_by_earlier_releases(name: str) -> None:
    assert extract_article(capture_page(name), inz_source()).content_hash == STORED_HASHES[name]


# The definition earlier releases hashed with: white space around a block-level tag removed by a regex.
HASHED_BLOCK_TAG_SPACE = re.compile(
    r"\s*(</?(?:p|div|h[1-6]|ul|ol|li|dl|dt|dd|table|thead|tbody|tfoot|tr|td|th|caption|blockquote|"
    r"figure|figcaption|details|summary|pre|hr|br)\b[^>]*>)\s*",
    re.IGNORECASE,
)
PIECES = ("<p>", "</p>", "<P class='x'>", "<br/>", "<pre>", "<span>", "</div >", "<li", ">", "<p\n>", "< p>", "<tdx>",
          " ", "\n", "\t", "\xa0", "\u2003", "\u3000", "\x1c", "\x85", "a", "bc")  # fmt: skip


def test_block_tag_space_is_removed_as_the_hashes_stored_by_earlier_releases_removed_it() -> None:
    generator = random.Random(20261128)  # the same strings every run
    samples = ["".join(generator.choices(PIECES, k=generator.randint(0, 12))) for _ in range(20_000)]
    samples += [read_capture(name) for name in ARTICLE_CAPTURES]

    for sample in samples:
        assert without_block_tag_space(sample) == HASHED_BLOCK_TAG_SPACE.sub(r"\1", sample), repr(sample)


def test_the_content_hash_ignores_white_space_of_every_kind_but_not_words() -> None:
    article = extract_article(capture_page(PATHWAY), inz_source())
    reindented = replace(
        article,
        title=f"\u3000{article.title}\xa0",
        summary=article.summary.replace(" ", "\t\n \u2003"),
        body_html=article.body_html.replace("<p>", "\n  \x1c<p>\n").replace("</p>", "</p>\r\n\xa0"),
    )
    assert reindented.content_hash == article.content_hash
    reworded = replace(article, body_html=article.body_html.replace("<p>", "<p>Updated: ", 1))
    assert reworded.content_hash != article.content_hash
