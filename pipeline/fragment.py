"""The stored bodies publication reads (the search words, the subscriptions' text, the dates), read by
lxml alone to the text html_text reads in them. Pure."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pipeline.bounds import CONTROLS, NONCHARACTERS, SURROGATES
from pipeline.dom import parse_fragment

if TYPE_CHECKING:
    from bs4 import BeautifulSoup
    from lxml.etree import _Element


# The tags of a body read by lxml alone (the sanitiser's allow-list and a few more): libxml2 gives none of
# them a rule of its own (raw text, a head, a namespace), and BeautifulSoup none of their strings a type.
PLAIN_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "details",
        "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
        "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub",
        "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
    }
)  # fmt: skip
# A `<` that begins no tag of PLAIN_TAGS written as the sanitiser writes one (attributes double-quoted).
UNPLAIN_TAG = re.compile(f'<(?!/?(?:{"|".join(sorted(PLAIN_TAGS))})(?: [a-z][-a-z0-9_:.]*="[^"]*")*>)')
UNPLAIN_CHARACTER = re.compile(f"[{CONTROLS}{SURROGATES}{NONCHARACTERS}]")
PRESERVED = ("pre", "textarea")  # BeautifulSoup keeps a string of white space as it is in these
# libxml2 builds a tree 256 elements deep at most and drops what lies deeper, where BeautifulSoup (fed the
# parse as events) keeps it: a tree that reaches that depth is read from BeautifulSoup's instead.
DEEPEST = 256


class _TooDeep(Exception):
    pass


START, END, TEXT = 0, 1, 2  # an element's start (with its name), its end (with its name), a string
Reading = list[tuple[int, str]]


def read_fragment(html: str) -> Reading:
    """A stored body as what publication reads in it (the search words, the subscriptions' text, the
    dates): its elements' starts and ends and, between them, the strings html_text(html) reads, in
    order. BeautifulSoup builds its tree from libxml2's parse, fed the same text, at about 25 times the
    cost of lxml's own tree (0.39 ms an article's body rather than 0.016). A body of PLAIN_TAGS as the sanitiser
    writes them (no comment, no other `<`, no control character; beginning with neither white space, a
    character reference nor an end tag, which libxml2 reports before its <body>) is read from lxml's
    tree of that parse, any other from BeautifulSoup's (tests/test_fragment.py compares them)."""
    from lxml import etree

    if _plain(html):
        parser = etree.HTMLParser()  # (as BeautifulSoup's: fed the text, not given it whole)
        try:
            parser.feed(html)
            root = parser.close()
        except etree.LxmlError:
            root = None
        if root is not None:
            reading: Reading = []
            try:
                _read(root, root.tag in PRESERVED, reading, 1)
                return reading
            except _TooDeep:
                pass
    return _soup_reading(parse_fragment(html))


def _plain(html: str) -> bool:
    # (An empty body is in every string. Two searches cost half of splitting the body into tags and texts.)
    if html[:1] in " \t\n\r&\ufeff" or html[:2] == "</":
        return False
    return UNPLAIN_TAG.search(html) is None and UNPLAIN_CHARACTER.search(html) is None


def _read(element: _Element, keep: bool, reading: Reading, depth: int) -> None:
    """`element` (at `depth`, the root's 1) as read_fragment reads it (`keep`: in a <pre> or a
    <textarea>), into `reading`."""
    if depth >= DEEPEST:
        raise _TooDeep
    name = str(element.tag)
    reading.append((START, name))
    if element.text:
        reading.append((TEXT, _string(element.text, keep)))
    for child in element:
        if isinstance(child.tag, str):  # (not a comment: its text is not read, its tail is)
            _read(child, keep or child.tag in PRESERVED, reading, depth + 1)
        if child.tail:
            reading.append((TEXT, _string(child.tail, keep)))
    reading.append((END, name))


def _string(text: str, keep: bool) -> str:
    """BeautifulSoup's string: one of ASCII white space alone is a line break or a space."""
    if keep or text.strip(" \t\n\r\f"):
        return text
    return "\n" if "\n" in text else " "


def _soup_reading(soup: BeautifulSoup) -> Reading:
    """`soup` as read_fragment reads it: the strings html_text reads, white space as BeautifulSoup made it."""
    from bs4 import Tag

    read = soup.interesting_string_types or Tag.MAIN_CONTENT_STRING_TYPES  # (what html_text reads throughout)
    reading: Reading = []
    stack = [(iter(soup.contents), "")]
    while stack:
        children, name = stack[-1]
        for node in children:
            if isinstance(node, Tag):
                reading.append((START, node.name))
                stack.append((iter(node.contents), node.name))
                break
            if type(node) in read:
                reading.append((TEXT, str(node)))
        else:
            stack.pop()
            if stack:
                reading.append((END, name))
    return reading


def fragment_text(reading: Reading, separator: str = " ") -> str:
    """html_text of the body read_fragment read."""
    return separator.join([value for kind, value in reading if kind == TEXT])
