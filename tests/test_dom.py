"""pipeline/dom.py replaced BeautifulSoup in extraction, discovery and alerts (six times faster). What
it reads must not change: the same tree, the same text of every element, the same inner HTML (so stored
bodies and their content hashes keep their bytes), the same encoding rules, the same selector scope."""

from __future__ import annotations

import warnings

from bs4 import BeautifulSoup, Tag
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.dom import (
    Element,
    element_text,
    parse_markup,
    select,
    select_one,
    select_within,
    selector_problem,
    top_level,
)
from pipeline.dom_write import collapse_blank_strings, drop, inner_html
from tests.fixture_site import CAPTURES

MARKUP_PIECES = st.sampled_from(
    [
        "<p>", "</p>", "<div class='a  b\tc'>", "</div>", "<span>", "</span>", "<b>", "</b>", "<br>", "<img src=x alt='1 > 0'>",
        "<a href=\"/x?a=1&b=2\" rel=' nofollow  canonical '>", "</a>", "<pre>", "</pre>", "<textarea>", "</textarea>",
        "<template>", "</template>", "<ruby>", "<rt>", "</rt>", "<rp>", "</rp>", "</ruby>", "<script>x<y</script>",
        "<style>p>a{}</style>", "<!-- note -->", "<!---->", "<!--  \n -->", "<table><tr><td headers=' h1  h2 '>",
        "</td></tr></table>", "<ul><li>", "</li></ul>", "<h2 title='say \"hi\"'>", "<h2 title=\"it's \\\"x\\\"\">",
        "</h2>", "<meta charset='latin-1'>", "word", "two words", "café", "&amp;", "&nbsp;", "&lt;b&gt;", "<", ">",
        " ", "  ", "\n", "  \n  ", "\t", "\x0c", "\r\n", "\x01", "\x85", "&#128;", "\u2028", "<p", "</>",
    ]
)  # fmt: skip


def assert_same_as_beautifulsoup(body: bytes, charset: str | None) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bs4 warns when a random page looks like a file name
        soup = BeautifulSoup(body, "lxml", from_encoding=charset)
    tops = [top for top in top_level(parse_markup(body, charset)) if isinstance(top.tag, str)]
    for top in tops:
        collapse_blank_strings(top)  # BeautifulSoup did this while parsing
    elements: list[Element] = [element for top in tops for element in top.iter() if isinstance(element.tag, str)]
    tags = [tag for tag in soup.find_all(True) if isinstance(tag, Tag)]
    if not tags:  # nothing parsed: an empty document
        assert [element.tag for element in elements] == ["html"] and len(elements[0]) == 0
        return
    assert [element.tag for element in elements] == [tag.name for tag in tags]
    for element, tag in zip(elements, tags, strict=True):
        assert element_text(element) == tag.get_text(" "), tag.name
        assert inner_html(element) == tag.decode_contents(), tag.name


@settings(max_examples=300, deadline=None)
@given(st.lists(MARKUP_PIECES, max_size=40).map("".join), st.sampled_from(["utf-8", "windows-1252", None]))
def test_the_tree_text_and_html_are_beautifulsoup_s(markup: str, charset: str | None) -> None:
    assert_same_as_beautifulsoup(markup.encode("utf-8"), charset)


def test_the_real_captures_read_as_beautifulsoup_read_them() -> None:
    for capture in sorted(CAPTURES.glob("*.html")):
        for charset in ("utf-8", None):
            assert_same_as_beautifulsoup(capture.read_bytes(), charset)


def test_a_page_without_an_element_is_an_empty_document_not_an_error() -> None:
    for body in (b"", b"  \n ", b"<!-- only a comment -->", b"\xef\xbb\xbf"):
        document = parse_markup(body, "utf-8")
        assert document.tag == "html" and len(document) == 0
        assert select(document, "body") == []


def test_an_unusable_charset_name_falls_back_to_the_next_encoding() -> None:
    for charset in ("no-such-charset", "utf\x01-8"):
        document = parse_markup("<p>café</p>".encode(), charset)
        assert element_text(document) == "café"


def test_selectors_do_not_enter_templates_but_reach_past_the_html_end() -> None:
    document = parse_markup(
        b"<html><body><template><a class='x' href='/t'>t</a></template><a class='x' href='/a'>a</a>"
        b"</body></html><a class='x' href='/after'>after</a>",
        "utf-8",
    )
    assert [a.get("href") for a in select(document, "a.x")] == ["/a", "/after"]


def test_a_selector_within_a_container_is_read_against_the_whole_page() -> None:
    document = parse_markup(b"<body><main><p class='s'>1</p><div><p class='s'>2</p></div></main></body>", None)
    main = select_one(document, "main")
    assert main is not None
    assert [p.text for p in select_within(main, "body p.s")] == ["1", "2"]
    assert [p.text for p in select_within(main, "main > p")] == ["1"]
    assert select_within(main, "main") == []  # descendants only


def test_a_dropped_element_keeps_the_text_after_it_even_with_control_characters() -> None:
    document = parse_markup(b"<div>one\x01 <script>x()</script> two\x02 <b>three</b></div>", "utf-8")
    div = select_one(document, "div")
    assert div is not None
    drop(select_within(div, "script")[0])
    assert inner_html(div) == "one  two <b>three</b>"  # lxml refuses control characters; the sanitiser drops them


def test_selector_problems_are_named() -> None:
    assert selector_problem("div.content-page__main > p:first-child") is None
    for selector in ("div[", "p::text", "ns|p", "p:unknown", "\\6 x"):
        assert selector_problem(selector), selector
