"""Hostile content never reaches a subscriber. End to end: articles whose title, summary, topics, news
type, canonical link and body carry XSS and markup attacks (and a site alert that does too) are synced
and edited; nothing executable appears in any feed or archive page, titles and topics appear as escaped
text, and every archive page carries a restrictive Content-Security-Policy. Property-based: random HTML
through the sanitiser and the extractors never crashes them and never comes out executable.

The allow-lists are test_sanitise.py's, deliberately independent of pipeline/extract/sanitise.py."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from bs4 import BeautifulSoup, Comment, Tag
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.config import load_config
from pipeline.dom import html_text
from pipeline.errors import ExtractError
from pipeline.extract import extract_guarded
from pipeline.extract.article import extract_article
from pipeline.extract.sanitise import has_text, sanitise_html
from pipeline.model import Article, Page, Source
from tests.fixture_site import (
    DEFAULT_SITEMAP_PATHS,
    FixtureSite,
    Route,
    article_path,
    derive_article,
    home_page,
)
from tests.helpers import REPO_ROOT, MakeConfig, run_cli
from tests.test_sanitise import GENERIC_ATTRIBUTES, HOSTILE_BODIES, SAFE_ATTRIBUTES, SAFE_SCHEMES, SAFE_TAGS

# bs4 warns when a random body happens to look like a URL or a file name: true, and beside the point here.
pytestmark = pytest.mark.filterwarnings("ignore::bs4.MarkupResemblesLocatorWarning")
TEMPLATE = "article-improvements-to-the-pathway-student-visa.html"
ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT_ENCODED = "{http://purl.org/rss/1.0/modules/content/}encoded"
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "cite", "background", "poster", "data", "srcset", "xlink:href"}
# Feed items add the attribution block, and corrections their word diff, to the sanitised body.
FEED_TAGS = SAFE_TAGS | {"aside", "span"}
FEED_ATTRIBUTES = SAFE_ATTRIBUTES | {"aside": {"class", "role"}, "span": {"class"}, "dl": {"class"}, "p": {"class"}}
FORBIDDEN_ELEMENTS = ["iframe", "frame", "frameset", "object", "embed", "applet", "base", "svg", "math", "template"]
WORDS = (
    "<p>From 1 August the fee for most visa types changes. Applications lodged before that date are charged "
    "the current fee, applicants do not need to do anything, and the new fees are listed on our fees page.</p>"
)


# -- what counts as safe ----------------------------------------------------------------------------


def scheme_of(url: str) -> str:
    """The scheme a browser would see: entities decoded, white space and controls dropped."""
    cleaned = re.sub(r"[\x00-\x20\x7f]", "", html.unescape(url)).lower()
    return urlsplit(cleaned).scheme if not cleaned.startswith("//") else "//"


def unsafe_constructs(markup: str, tags: set[str], attributes: dict[str, set[str]]) -> list[str]:
    """Everything in `markup` off the allow-lists, as two different parsers read it."""
    found: list[str] = []
    for parser in ("html.parser", "lxml"):
        soup = BeautifulSoup(markup, parser)
        found += ["<!-- comment -->" for _ in soup.find_all(string=lambda text: isinstance(text, Comment))]
        for element in soup.find_all(True):
            assert isinstance(element, Tag)
            if element.name in ("html", "body") and parser == "lxml":
                continue  # lxml's own wrapper
            if element.name not in tags:
                found.append(f"<{element.name}>")
            for name, value in element.attrs.items():
                if name not in attributes.get(element.name, set()) | GENERIC_ATTRIBUTES:
                    found.append(f"<{element.name} {name}=>")
                if name in URL_ATTRIBUTES and scheme_of(str(value)) not in (*SAFE_SCHEMES, ""):
                    found.append(f"<{element.name} {name}={value!r}>")
    return found


def assert_safe_html(markup: str, where: str, *, feed: bool = False) -> None:
    tags, attributes = (FEED_TAGS, FEED_ATTRIBUTES) if feed else (SAFE_TAGS, SAFE_ATTRIBUTES)
    found = unsafe_constructs(markup, tags, attributes)
    assert not found, f"{where}: {found} in {markup[:300]!r}"


def assert_text_only(text: str, where: str) -> None:
    """A value readers may take as HTML (an RSS description) holds no element at all."""
    assert not BeautifulSoup(text, "html.parser").find_all(True), f"{where}: markup in {text[:200]!r}"


def csp_directives(soup: BeautifulSoup) -> dict[str, list[str]]:
    metas = soup.find_all("meta", attrs={"http-equiv": re.compile("^content-security-policy$", re.I)})
    assert len(metas) == 1
    assert metas[0].find_parent("head") is not None
    content = str(metas[0].get("content", ""))
    return {part.split()[0].lower(): part.split()[1:] for part in content.split(";") if part.strip()}


def assert_restrictive_csp(soup: BeautifulSoup, where: str) -> None:
    policy = csp_directives(soup)
    assert policy.get("default-src") == ["'none'"], where
    assert policy.get("script-src") == ["'self'"], where  # no inline script, no eval, no other host
    assert policy.get("base-uri") == ["'none'"], where
    assert policy.get("form-action") == ["'none'"], where
    assert policy.get("object-src", ["'none'"]) == ["'none'"], where
    for sources in policy.values():
        assert "*" not in sources and "http:" not in sources and "https:" not in sources, where
        assert "'unsafe-eval'" not in sources, where


def assert_archive_page_safe(relative: str, text: str) -> None:
    soup = BeautifulSoup(text, "lxml")
    assert_restrictive_csp(soup, relative)
    scripts = [(script.get("src"), script.get_text()) for script in soup.find_all("script")]
    assert scripts == ([("search.js", "")] if relative == "search/index.html" else []), relative
    assert not soup.find_all(FORBIDDEN_ELEMENTS), relative
    assert not soup.find_all("meta", attrs={"http-equiv": re.compile("refresh", re.I)}), relative
    assert [style.find_parent("head") is not None for style in soup.find_all("style")] == [True], relative
    if relative != "search/index.html":
        assert not soup.find_all(["form", "input", "button", "textarea", "select"]), relative
    for element in soup.find_all(True):
        for name, value in element.attrs.items():
            assert not name.lower().startswith("on"), f"{relative}: <{element.name} {name}=>"
            assert name.lower() != "style", f"{relative}: <{element.name} style=>"
            if name in URL_ATTRIBUTES:
                favicon = element.name == "link" and value == "data:,"  # the template's empty icon
                assert favicon or scheme_of(str(value)) in (*SAFE_SCHEMES, ""), f"{relative}: {name}={value!r}"
    for body in soup.select("div.body"):  # the republished article body: the sanitiser's allow-list
        assert_safe_html(body.decode_contents(), relative)


# -- hostile articles, end to end -------------------------------------------------------------------


TITLE = '<script>alert("title")</script><img src=x onerror=alert(1)> Fees & “charges” </title><b>'
SUMMARY = "<img src=x onerror=alert('summary')><a href=\"javascript:alert(1)\">Summary</a> & more"
NEWS_TYPE = '<iframe src="javascript:alert(1)"></iframe>Announcement'
ENTITY_TITLE = "&lt;svg onload=alert(1)&gt; &#106;avascript:alert(1) &amp;amp;"
RAW_TITLE = 'Raw <img src=x onerror=alert(1)><script>alert("raw")</script><svg onload=alert(2)></svg> title'
RAW_TOPIC = "<svg><a xlink:href=javascript:alert(1)>Topic</a></svg><b onmouseover=alert(1)>bold</b>"
ESCAPED_TOPIC = '<script>alert("topic")</script>'
ALERT_TITLE = '<script>alert("alert")</script>Alert & notice'
BODIES = "\n".join(body for name, body in HOSTILE_BODIES.items() if "comment" not in name)


def hostile_articles() -> dict[str, str]:
    """slug -> page. The first escapes its attacks into text (as a CMS would); the second places them
    raw, by string replacement; the third hides the summary so the meta description stands in."""
    escaped = derive_article(
        TEMPLATE,
        slug="escaped-attacks",
        title=TITLE,
        published="10 July 2026",
        body_html=WORDS + BODIES,
        news_type=NEWS_TYPE,
        summary=SUMMARY,
    )
    escaped = escaped.replace(">Study to work</a>", f">{html.escape(ESCAPED_TOPIC)}</a>")
    raw = derive_article(TEMPLATE, slug="raw-attacks", title="RAW-TITLE", published="9 July 2026", body_html=WORDS)
    raw = raw.replace(
        '<span class="hero__title-main">RAW-TITLE</span>', f'<span class="hero__title-main">{RAW_TITLE}</span>'
    )
    raw = raw.replace(">Visa holders and applicants</a>", f">{RAW_TOPIC}</a>")
    raw = re.sub(r'<link rel="canonical" href="[^"]*">', '<link rel="canonical" href="javascript:alert(1)//">', raw)
    raw = raw.replace(
        WORDS,
        WORDS + '<base href="https://evil.example/"><meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    )
    entity = derive_article(
        TEMPLATE, slug="entity-tricks", title=ENTITY_TITLE, published="8 July 2026", body_html=WORDS
    )
    entity = re.sub(r'<p class="content-page__summary"\s*>.*?</p>', "", entity, count=1, flags=re.S)
    entity = re.sub(
        r'<meta name="description" content="[^"]*">',
        '<meta name="description" content="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt; described">',
        entity,
    )
    return {"escaped-attacks": escaped, "raw-attacks": raw, "entity-tricks": entity}


def hostile_home_page() -> bytes:
    page = home_page().decode("utf-8")
    page = re.sub(
        r'(<h3 class="site-banner__title">).*?(</h3>)', lambda m: m[1] + html.escape(ALERT_TITLE) + m[2], page
    )
    page = re.sub(
        r'(<div class="site-banner__text">)', lambda m: m[1] + HOSTILE_BODIES["svg onload and script"] + BODIES, page
    )
    return page.encode("utf-8")


def feed_files(output: Path) -> list[Path]:
    return sorted(path for path in output.rglob("*") if path.name.split(".")[0] in ("feed", "updates", "alerts"))


def check_feed(path: Path, titles: dict[str, str]) -> int:
    """Every HTML field of every item is on the allow-list, every text field is text; returns the items."""
    where = str(path)
    if path.suffix == ".json":
        data: dict[str, Any] = json.loads(path.read_text("utf-8"))
        for item in data["items"]:
            assert_safe_html(item["content_html"], where, feed=True)
            if item["id"] in titles:
                assert item["title"] == titles[item["id"]]
        return len(data["items"])
    root = ElementTree.fromstring(path.read_bytes())
    if path.suffix == ".xml":
        items = list(root.iter("item"))
        for item in items:
            assert_safe_html(item.findtext(CONTENT_ENCODED) or "", where, feed=True)
            assert_text_only(item.findtext("description") or "", where)  # readers take it as HTML
            if item.findtext("guid") in titles:
                assert item.findtext("title") == titles[item.findtext("guid") or ""]
        return len(items)
    entries = list(root.iter(ATOM + "entry"))
    for entry in entries:
        content = entry.find(ATOM + "content")
        assert content is not None and content.get("type") == "html"
        assert_safe_html(content.text or "", where, feed=True)
        for name in ("title", "summary"):
            element = entry.find(ATOM + name)
            assert element is None or element.get("type", "text") == "text", f"{where}: {name} is not text"
        if entry.findtext(ATOM + "id") in titles:
            assert entry.findtext(ATOM + "title") == titles[entry.findtext(ATOM + "id") or ""]
    return len(entries)


def test_hostile_articles_and_alerts_reach_no_feed_or_page_executable(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    pages = hostile_articles()
    for slug, page in pages.items():
        site.set_article(article_path(slug), page)
    site.set("/", Route(body=hostile_home_page()))
    site.set_sitemap_paths([*DEFAULT_SITEMAP_PATHS, *(article_path(slug) for slug in pages)])
    config = make_config(site, tmp_path, source={"retries": 0, "backoff": 0})
    output = tmp_path / "output"

    first = run_cli("sync", "--config", str(config), timeout=60)
    assert first.returncode == 0, first.stderr
    # An edit: the source's next version is hostile too, so corrections and diffs carry it.
    edited = (
        pages["escaped-attacks"]
        .replace(html.escape(TITLE), html.escape(TITLE + " <svg/onload=alert('v2')>"))
        .replace(WORDS, WORDS + '<p onclick="alert(2)">An <a href="javascript:alert(3)">edited</a> paragraph.</p>')
    )
    site.set_article(article_path("escaped-attacks"), edited)
    edited_url = site.base_url + article_path("escaped-attacks").lstrip("/")
    second = run_cli("sync", "--config", str(config), "--url", edited_url, timeout=60)
    assert second.returncode == 0, second.stderr
    assert "1 updated" in second.stdout

    feed = json.loads((output / "feed.json").read_text("utf-8"))
    titles = {item["id"]: item["title"] for item in feed["items"]}
    base = site.base_url.rstrip("/")
    assert titles[base + article_path("escaped-attacks")] == TITLE + " <svg/onload=alert('v2')>"
    assert titles[base + article_path("entity-tricks")] == ENTITY_TITLE
    raw_url = base + article_path("raw-attacks")  # the javascript: canonical was ignored
    assert titles[raw_url].startswith("Raw ") and titles[raw_url].endswith(" title")
    items = sum(check_feed(path, titles) for path in feed_files(output))
    assert items > 20
    updates = json.loads((output / "inz" / "updates.json").read_text("utf-8"))["items"]
    assert len(updates) == 1 and "<ins>" in updates[0]["content_html"]
    alerts = json.loads((output / "inz" / "alerts.json").read_text("utf-8"))["items"]
    assert [alert["title"] for alert in alerts] == [ALERT_TITLE]

    pages_checked = 0
    for path in sorted(output.rglob("*.html")):
        relative = str(path.relative_to(output))
        assert_archive_page_safe(relative, path.read_text("utf-8"))
        pages_checked += 1
    assert pages_checked > 20
    article = BeautifulSoup((output / "inz/articles/escaped-attacks/index.html").read_text("utf-8"), "lxml")
    heading = article.find("h1")
    assert heading is not None and heading.get_text() == TITLE + " <svg/onload=alert('v2')>"
    assert [a.get_text() for a in article.select("ul.tags a")] == ["Visa holders and applicants", ESCAPED_TOPIC]
    summary = article.select_one("p.summary")
    assert summary is not None and summary.get_text() == SUMMARY
    raw_topics = BeautifulSoup((output / "inz/articles/raw-attacks/index.html").read_text("utf-8"), "lxml")
    assert [a.get_text() for a in raw_topics.select("ul.tags a")] == ["Topic bold", "Study to work"]
    escaped_source = (output / "inz/articles/escaped-attacks/index.html").read_text("utf-8")
    assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in escaped_source
    assert "&lt;script&gt;alert(&#34;topic&#34;)&lt;/script&gt;" in escaped_source
    assert (output / "inz/articles/escaped-attacks/v1/index.html").is_file()


# -- property-based ---------------------------------------------------------------------------------


HTML_TAGS = [
    "script", "style", "iframe", "object", "embed", "svg", "math", "base", "meta", "link", "form", "input",
    "button", "textarea", "select", "option", "template", "noscript", "xmp", "plaintext", "noembed",
    "noframes", "title", "frameset", "frame", "img", "image", "video", "audio", "source", "picture",
    "details", "summary", "marquee", "isindex", "annotation-xml", "foreignObject", "mglyph", "malignmark",
    "mtext", "table", "tr", "td", "a", "p", "div", "ul", "li", "blockquote", "q", "h2", "b", "SCRIPT", "ScRiPt",
]  # fmt: skip
HTML_ATTRIBUTES = [
    "onclick", "onerror", "onload", "OnMouseOver", "onfocus", "href", "src", "srcset", "style", "xlink:href",
    "formaction", "action", "background", "data", "poster", "cite", "dynsrc", "http-equiv", "content", "id",
    "class", "name", "title", "lang", "rel", "target", "autofocus", "is", "srcdoc", "xmlns",
]  # fmt: skip
HTML_VALUES = [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "jav&#x09;ascript:alert(1)",
    "&#106;avascript:alert(1)", "java\nscript:alert(1)", "javascript&colon;alert(1)", "vbscript:msgbox(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "expression(alert(1))",
    "url(javascript:alert(1))", "0;url=javascript:alert(1)", "https://example.org/x", "/relative", "#top",
    "mailto:a@example.org", 'x" onerror="alert(1)', "'><script>alert(1)</script>", "<img src=x onerror=alert(1)>",
    "http://www.w3.org/1998/Math/MathML", "",
]  # fmt: skip
FRAGMENTS = [
    "<!--", "-->", "<![CDATA[", "]]>", "<", "</", "<!", "<?", ">", "&", "&lt;", "&#x3C;script&#x3E;", "&#0;",
    "\x00", "\x0b", "\x85", "\u2028", "\ufeff", "</p>", "</div></div></div>", "<p", "<a href=",
]  # fmt: skip


@st.composite
def elements(draw: st.DrawFn, children: st.SearchStrategy[str]) -> str:
    tag = draw(st.sampled_from(HTML_TAGS))
    quote = draw(st.sampled_from(['"', "'", "", "`"]))
    attributes = "".join(
        f" {name}={quote}{value}{quote}"
        for name, value in draw(
            st.lists(st.tuples(st.sampled_from(HTML_ATTRIBUTES), st.sampled_from(HTML_VALUES)), max_size=3)
        )
    )
    inner = "".join(draw(st.lists(children, max_size=3)))
    ending = draw(st.sampled_from(["close", "none", "self", "other"]))
    if ending == "self":
        return f"<{tag}{attributes}/>"
    closing = {"close": f"</{tag}>", "none": "", "other": f"</{draw(st.sampled_from(HTML_TAGS))}>"}[ending]
    return f"<{tag}{attributes}>{inner}{closing}"


LEAVES = st.one_of(st.text(max_size=12), st.sampled_from(FRAGMENTS), st.sampled_from(HTML_VALUES))
HTMLISH = st.recursive(LEAVES, elements, max_leaves=12)
MARKUP = st.lists(st.one_of(HTMLISH, st.text(max_size=30)), min_size=1, max_size=4).map("".join)
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ARTICLE_URL = "https://www.immigration.govt.nz/about-us/news-centre/random-markup/"
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


def inz_source() -> Source:
    return load_config(REPO_ROOT / "sources.yaml").source("inz")


INZ = inz_source()


def page_with(body: str, *, title: str = "A title", summary: str = "A summary", topic: str = "Study to work") -> Page:
    """A real article page with `body` between two paragraphs, and raw (unescaped) markup as the text
    of its title, summary and a topic."""
    page = derive_article(
        TEMPLATE,
        slug="random-markup",
        title="TITLE-HERE",
        published="10 July 2026",
        body_html=f"<p>Before.</p>{body}<p>After.</p>",
        summary="SUMMARY-HERE",
    )
    for placed, raw in (
        ('<span class="hero__title-main">TITLE-HERE</span>', f'<span class="hero__title-main">{title}</span>'),
        ('<p class="content-page__summary">SUMMARY-HERE</p>', f'<p class="content-page__summary">{summary}</p>'),
        (">Study to work</a>", f">{topic}</a>"),
    ):
        assert placed in page
        page = page.replace(placed, raw)
    page = page.replace("TITLE-HERE", html.escape(title)).replace("SUMMARY-HERE", html.escape(summary))  # in <head>
    return Page(
        url=ARTICLE_URL,
        final_url=ARTICLE_URL,
        status=200,
        headers={"content-type": "text/html; charset=utf-8"},
        body=page.encode("utf-8", "surrogatepass"),
        fetched_at=datetime(2026, 7, 13, tzinfo=UTC),
    )


def assert_plain_fields(article: Article) -> None:
    for text in (article.title, article.summary, article.news_type or "", *article.topics):
        assert not CONTROL.search(text) and text == text.strip()  # XML-safe text for every feed
    assert urlsplit(article.url).scheme in ("http", "https")
    assert urlsplit(article.url).netloc == "www.immigration.govt.nz"


@PROPERTY_SETTINGS
@given(st.one_of(st.text(), MARKUP))
def test_sanitise_html_never_crashes_nor_lets_anything_executable_through(markup: str) -> None:
    cleaned = sanitise_html(markup)
    assert_safe_html(cleaned, "sanitise_html")
    assert not CONTROL.search(cleaned)
    assert sanitise_html(cleaned) == cleaned  # stable: what a reader's parser sees is what was checked


@PROPERTY_SETTINGS
@given(st.one_of(st.text(), MARKUP))
def test_the_guards_text_check_finds_text_where_html_text_does(markup: str) -> None:
    # The guard holds back a body without text, asking has_text, which reads most bodies without a parse.
    for body in (markup, sanitise_html(markup)):
        assert has_text(body) == bool(html_text(body).strip()), body


@PROPERTY_SETTINGS
@given(MARKUP)
def test_extract_article_never_crashes_nor_emits_an_executable_body(markup: str) -> None:
    try:
        article = extract_article(page_with(markup), INZ)
    except ExtractError:
        return  # a page the selectors cannot read is a named problem, which is fine
    assert_safe_html(article.body_html, "body")
    assert_plain_fields(article)


@PROPERTY_SETTINGS
@given(HTMLISH, HTMLISH, HTMLISH)
def test_extract_article_reads_markup_in_title_summary_and_topics_as_plain_text(
    title: str, summary: str, topic: str
) -> None:
    try:
        article = extract_article(page_with(WORDS, title=f"A {title}", summary=summary, topic=f"A {topic}"), INZ)
    except ExtractError:
        return
    assert_plain_fields(article)
    assert_safe_html(article.body_html, "body")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MARKUP)
def test_the_guarded_extraction_with_its_fallback_never_crashes_nor_emits_anything_executable(markup: str) -> None:
    page = page_with(WORDS + markup)
    redesigned = page.body.replace(b"hero__title-main", b"hero__heading")  # the selectors miss: the fallback reads it
    try:
        extraction = extract_guarded(replace(page, body=redesigned), INZ, datetime(2026, 7, 13, tzinfo=UTC))
    except ExtractError:
        return
    assert_safe_html(extraction.article.body_html, extraction.extractor)
    assert_plain_fields(extraction.article)


@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
def test_sanitised_hostile_bodies_are_stable(body: str) -> None:
    cleaned = sanitise_html(body)
    assert sanitise_html(cleaned) == cleaned
