"""pipeline.dom, the one HTML layer, reads pages as BeautifulSoup over lxml does: its tree builder (bs4's
lxml one, with a shorter way for tags without namespaces) builds the very tree bs4's builds, and its
selectors find exactly the elements soupsieve finds (dom.select asks soupsieve's match only of elements
with a name and a class a selector can match)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from bs4 import BeautifulSoup, Tag
from bs4.element import PageElement
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipeline.dom import css, declared_charset, parse_fragment, parse_html, select, select_each, select_one
from pipeline.model import Page
from tests.fixture_site import CAPTURES, derive_article
from tests.test_hostile import MARKUP

# bs4 warns when a random fragment happens to look like a URL or a file name: true, and beside the point here.
pytestmark = pytest.mark.filterwarnings("ignore::bs4.MarkupResemblesLocatorWarning")

NAMES = ["div", "p", "span", "a", "li", "ul", "h1", "template", "svg", "linearGradient", "section", "body"]
CLASSES = ["x", "y", "hero__title", "btn--tag"]
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def documents(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 4 if depth < 3 else 0))):
        name = draw(st.sampled_from(NAMES))
        classes = " ".join(draw(st.lists(st.sampled_from(CLASSES), max_size=2)))
        attribute = f' class="{classes}"' if classes else ""
        text = draw(st.sampled_from(["", "words", " "]))
        parts.append(f"<{name}{attribute}>{text}{draw(documents(depth + 1))}</{name}>")
    return "".join(parts)


@st.composite
def compounds(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from([*NAMES, "*", "", "DIV", "lineargradient", "LinearGradient"]))
    classes = "".join(f".{name}" for name in draw(st.lists(st.sampled_from(CLASSES), max_size=2)))
    pseudo = draw(st.sampled_from(["", ":first-child", ":not(.x)", ":is(p, span)", ":root", ":scope", ":hover"]))
    return (name + classes + pseudo) or "*"


@st.composite
def selectors(draw: st.DrawFn) -> str:
    alternatives = []
    for _ in range(draw(st.integers(1, 3))):
        compound = draw(compounds())
        for _ in range(draw(st.integers(0, 2))):
            compound = f"{draw(compounds())}{draw(st.sampled_from([' ', ' > ', ' + ', ' ~ ']))}{compound}"
        alternatives.append(compound)
    return ", ".join(alternatives)


def found_by_soupsieve(selector: str, scope: Tag, limit: int) -> list[int]:
    return [id(element) for element in css(selector).select(scope, limit)]


@SETTINGS
@given(documents(), selectors(), st.sampled_from([0, 1, 2]))
@example("<div><template><p>In a template</p></template><p>Out</p></div>", "p", 0)  # (not a part of the page)
@example("<svg><linearGradient/><lineargradient/></svg>", "LinearGradient, svg > lineargradient", 0)
@example("<div><p>1</p></div><p>2</p>", ":scope > p, div p:first-child", 0)
def test_select_finds_what_soupsieve_finds_in_the_same_order(document: str, selector: str, limit: int) -> None:
    soup = parse_fragment(document)
    inner = soup.find(["div", "section", "template"])
    for scope in (soup, inner) if isinstance(inner, Tag) else (soup,):
        assert [id(element) for element in select(selector, scope, limit)] == found_by_soupsieve(selector, scope, limit)
        first = select_one(selector, scope)
        assert ([id(first)] if first is not None else []) == found_by_soupsieve(selector, scope, 1)


@SETTINGS
@given(documents(), st.lists(st.tuples(st.one_of(st.none(), selectors()), st.sampled_from([0, 1, 2])), max_size=7))
def test_select_each_finds_what_soupsieve_finds_for_each_selector(
    document: str, wanted: list[tuple[str | None, int]]
) -> None:
    soup = parse_fragment(document)
    expected = [found_by_soupsieve(selector, soup, limit) if selector else [] for selector, limit in wanted]
    assert [[id(element) for element in found] for found in select_each(soup, wanted)] == expected


def test_select_reads_an_xml_document_as_soupsieve_does() -> None:
    soup = BeautifulSoup("<root><Item/><item/><ITEM/></root>", "xml")
    for selector in ("item", "Item", "ITEM, root > item"):
        assert [id(element) for element in select(selector, soup)] == found_by_soupsieve(selector, soup, 0)


def shape(soup: BeautifulSoup) -> list[tuple[Any, ...]]:
    """Every node of the tree as bs4 holds it: its class, name, namespace, attributes (with the classes
    of their names and values), text, and where it is linked (parent, elements and siblings around it)."""
    nodes: list[PageElement] = [soup, *soup.descendants]
    index = {id(node): number for number, node in enumerate(nodes)}

    def at(node: PageElement | None) -> int | None:
        return None if node is None else index.get(id(node), -1)

    return [
        (
            type(node),
            (node.name, node.namespace, node.prefix, node.can_be_empty_element, node.hidden, node._namespaces)
            if isinstance(node, Tag)
            else None,
            [type(node.attrs), *((type(key), key, type(value), value) for key, value in node.attrs.items())]
            if isinstance(node, Tag)
            else str(node),
            [at(node.parent), at(node.next_element), at(node.previous_element)],
            [at(node.next_sibling), at(node.previous_sibling)],
        )
        for node in nodes
    ]


NAMESPACED = [
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="urn:x"><x:g x:a="1" {urn:y}b="2"><path d="M0"/></x:g></svg>',
    '<p {urn:y}class="a b" class=" c  d " rel="x y">Text<br>more</p><math><mi>x</mi></math>',
    "<!DOCTYPE html><?php echo 1 ?><!-- note --><html><head><title>T</title></head><body><pre>  a\n</pre></body>",
    "<template><p>In</p></template><ruby>x<rt>y</rt></ruby><script>if (a < b) {}</script><textarea>  </textarea>",
]


@pytest.mark.parametrize("markup", NAMESPACED)
def test_a_fragment_is_the_tree_bs4s_lxml_builder_makes(markup: str) -> None:
    assert shape(parse_fragment(markup)) == shape(BeautifulSoup(markup, "lxml"))


@SETTINGS
@given(st.one_of(MARKUP, st.sampled_from(NAMESPACED)))
def test_any_fragment_is_the_tree_bs4s_lxml_builder_makes(markup: str) -> None:
    assert shape(parse_fragment(markup)) == shape(BeautifulSoup(markup, "lxml"))


@pytest.mark.parametrize("charset", ["utf-8", "windows-1252", None])
@pytest.mark.parametrize("capture", sorted(path.name for path in CAPTURES.glob("*.html")))
def test_a_page_is_the_tree_bs4s_lxml_builder_makes(capture: str, charset: str | None) -> None:
    body = (CAPTURES / capture).read_bytes()
    if capture.startswith("article-"):  # (and a page derived from it, as the tests and benchmarks make them)
        body += derive_article(capture, slug="s", title="T", published="1 July 2026", body_html="<p>B</p>").encode()
    headers = {"content-type": f"text/html; charset={charset}"} if charset else {}
    page = Page("https://example.org/", "https://example.org/", 200, headers, body, datetime(2026, 7, 1, tzinfo=UTC))
    expected = BeautifulSoup(page.body, "lxml", from_encoding=declared_charset(page))
    assert shape(parse_html(page)) == shape(expected)
