"""The selectors of sources.yaml find, through pipeline.dom.select, exactly the elements soupsieve finds
(dom.select asks soupsieve's match only of elements of the names a selector can match)."""

from __future__ import annotations

from bs4 import BeautifulSoup, Tag
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipeline.dom import css, parse_fragment, select, select_each, select_one

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
