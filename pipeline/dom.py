"""The HTML tree that extraction, discovery and alerts read (lxml): a page decoded with the charset its
server declared, CSS selectors compiled once, and an element's text exactly as BeautifulSoup gave it
before this module (and dom_write.py) replaced it, five times faster, so stored articles keep their bytes
and content hashes. Pure."""

from __future__ import annotations

import re
from email.message import Message
from functools import lru_cache
from typing import cast

from bs4.dammit import EncodingDetector
from cssselect import SelectorError
from lxml import etree
from lxml.cssselect import CSSSelector

from pipeline.model import Page

Element = etree._Element

# BeautifulSoup kept the strings inside these elements apart from the text: get_text leaves them out,
# unless it is asked for the text of such an element itself.
STRING_CONTAINERS = frozenset({"script", "style", "template", "rt", "rp"})
# Attributes BeautifulSoup read as lists of words (written back joined by one space).
WORD_LIST_ATTRIBUTES = frozenset({"class", "accesskey", "dropzone"})
WORD_LIST_ATTRIBUTES_OF = {
    "a": {"rel", "rev"},
    "link": {"rel", "rev"},
    "td": {"headers"},
    "th": {"headers"},
    "form": {"accept-charset"},
    "object": {"archive"},
    "area": {"rel"},
    "icon": {"sizes"},
    "iframe": {"sandbox"},
    "output": {"for"},
}
WORDS = re.compile(r"\S+")


def declared_charset(page: Page) -> str | None:
    content_type = page.headers.get("content-type")
    if not content_type:
        return None
    message = Message()
    message["content-type"] = content_type
    charset = message.get_param("charset")
    return charset.strip().lower() if isinstance(charset, str) and charset.strip() else None


def parse_html(page: Page) -> Element:
    """The page as a tree, decoded with the charset the server declared, else the page's own."""
    return parse_markup(page.body, declared_charset(page))


def parse_markup(body: bytes, charset: str | None) -> Element:
    """The document's root element, parsed as BeautifulSoup had libxml2 parse it: encodings tried in its
    order (`charset`, a byte-order mark, the page's <meta>, detection, utf-8, windows-1252) until
    libxml2 knows one, the bytes pushed to its parser in one piece. A page with no element (empty,
    only comments) or that libxml2 cannot read in that encoding is an empty <html>, never an error."""
    detector = EncodingDetector(body, known_definite_encodings=[charset] if charset else [], is_html=True)
    for encoding in detector.encodings:
        try:
            # default_doctype=False: docinfo names a <!DOCTYPE> only when the page has one (lxml-stubs lack both)
            parser = etree.HTMLParser(encoding=encoding, default_doctype=False)  # type: ignore[call-arg]
        except (LookupError, ValueError):  # a charset name libxml2 does not know, or not even a name
            continue
        try:
            parser.feed(detector.markup)
            root = parser.close()
        except etree.XMLSyntaxError:  # libxml2 gave up before the first element
            break
        if isinstance(root, etree._Element):
            return root
        break
    return etree.Element("html")


def top_level(document: Element) -> list[Element]:
    """The root element with the comments beside it (and the rare second <html> after the first)."""
    return [*reversed(list(document.itersiblings(preceding=True))), document, *document.itersiblings()]


def first(document: Element, tag: str, attribute: str, value: str) -> Element | None:
    """BeautifulSoup's find(tag, attrs={attribute: value}): the first such element, where a word-list
    attribute (a link's rel) matches when one of its words is the value."""
    for top in top_level(document):
        if not isinstance(top.tag, str):
            continue
        for element in top.iter(tag):
            found = element.get(attribute)
            words = attribute_words(tag, attribute, found) if found is not None else []
            if value in words or (words and " ".join(words) == value):
                return element
    return None


# -- selectors -------------------------------------------------------------------------------------


@lru_cache(maxsize=512)
def compile_selector(selector: str) -> CSSSelector:
    return CSSSelector(selector, translator="html")


@lru_cache(maxsize=512)
def _outside_templates(selector: str) -> etree.XPath:
    # BeautifulSoup's selectors never entered a <template> (its contents are not part of the page).
    return etree.XPath(f"({compile_selector(selector).path})[not(ancestor::template)]")


def selector_problem(selector: str) -> str | None:
    """Why extraction could not use the selector (in cssselect's or libxml2's words), or None."""
    try:
        _outside_templates(selector)(etree.Element("html"))  # some mistakes (`ns|p`) show only when run
    except (SelectorError, etree.XPathError, ValueError) as error:  # ValueError: a control character
        return str(error)
    return None


def select(document: Element, selector: str) -> list[Element]:
    """Every element of the document that matches, in document order."""
    return _run(_outside_templates(selector), document)


def select_one(document: Element, selector: str) -> Element | None:
    matches = select(document, selector)
    return matches[0] if matches else None


def select_within(container: Element, selector: str) -> list[Element]:
    """The container's descendants that match, the selector read against the whole document (as
    BeautifulSoup's Tag.select did: `body p` finds the p's inside a container below <body>)."""
    matches = _run(compile_selector(selector), container.getroottree().getroot())
    return [element for element in matches if _inside(element, container)]


def select_one_within(container: Element, selector: str) -> Element | None:
    matches = select_within(container, selector)
    return matches[0] if matches else None


def _run(xpath: etree.XPath, document: Element) -> list[Element]:
    # The selectors' paths start from an element, and lxml starts a whole tree's from its root element:
    # run them from each top-level element (a page may go on after its </html>).
    tops = [top for top in top_level(document) if isinstance(top.tag, str)]
    return [match for top in tops for match in cast(list[Element], xpath(top))]


def _inside(element: Element, container: Element) -> bool:
    """Below the container, and not inside a <template> below it."""
    for above in element.iterancestors():
        if above is container:
            return True
        if above.tag == "template":
            return False
    return False


# -- text, as BeautifulSoup gave it -----------------------------------------------------------------


def element_text(element: Element) -> str:
    """BeautifulSoup's get_text(" "): the element's strings joined by a space, without comments and
    without the strings of script, style, template, rt and rp (unless the element is one of them)."""
    wanted = element.tag if element.tag in STRING_CONTAINERS else None
    outer = next((above.tag for above in element.iterancestors(*STRING_CONTAINERS)), None)
    parts: list[str] = []
    _collect_text(element, wanted, wanted or outer, parts)
    return " ".join(parts)


def _collect_text(element: Element, wanted: object, kind: object, parts: list[str]) -> None:
    if kind != wanted and wanted is None:
        return  # everything below is inside a script, style, template, rt or rp
    if kind == wanted and element.text:
        parts.append(element.text)
    for child in element:
        if isinstance(child.tag, str):  # not a comment or processing instruction
            _collect_text(child, wanted, child.tag if child.tag in STRING_CONTAINERS else kind, parts)
        if kind == wanted and child.tail:
            parts.append(child.tail)


def attribute_words(tag: str, name: str, value: str) -> list[str]:
    """The value as BeautifulSoup held it: a list of words for a word-list attribute (class, a link's rel)."""
    if name in WORD_LIST_ATTRIBUTES or name in WORD_LIST_ATTRIBUTES_OF.get(tag, ()):
        return WORDS.findall(value)
    return [value]
