"""Editing an lxml tree from pipeline/dom.py and writing it out exactly as BeautifulSoup did (white space,
attribute order, `<br/>`, escaping), so the sanitiser gets the bytes it always got and stored bodies keep
their content hashes. libxml2's own HTML writer would not do: it %-escapes URLs in href and src. Pure."""

from __future__ import annotations

import re
from typing import cast

from lxml import etree

from pipeline.dom import Element, attribute_words, top_level
from pipeline.sanitise import strip_control_characters

# BeautifulSoup stored a string of only ASCII white space as one newline or space, except inside these.
WHITESPACE_KEPT_IN = frozenset({"pre", "textarea"})
ASCII_SPACES = " \n\t\x0c\r"
# Elements BeautifulSoup wrote as <br/> when they are empty.
VOID_ELEMENTS = frozenset(
    {
        "area", "base", "basefont", "bgsound", "br", "col", "command", "embed", "frame", "hr", "image", "img",
        "input", "isindex", "keygen", "link", "menuitem", "meta", "nextid", "param", "source", "spacer",
        "track", "wbr",
    }
)  # fmt: skip
# Elements whose text BeautifulSoup wrote unescaped.
RAW_TEXT_PARENTS = frozenset({"script", "style"})
META_CHARSET = re.compile(r"((^|;)\s*charset=)([^;]*)", re.M)


def collapse_blank_strings(element: Element) -> None:
    """Store each string of only ASCII white space below the element as BeautifulSoup did: one newline
    if it had one, else one space (kept as is inside <pre> and <textarea>). Call it once, before removing
    any element: a removed element's tail joins the string before it."""
    _collapse(element, any(True for _ in element.iterancestors(*WHITESPACE_KEPT_IN)))


def _collapse(element: Element, kept_above: bool) -> None:
    kept = kept_above or element.tag in WHITESPACE_KEPT_IN
    if not isinstance(element.tag, str):  # a comment: BeautifulSoup made even an empty one a space
        if not kept and not (element.text or "").strip(ASCII_SPACES):
            element.text = "\n" if "\n" in (element.text or "") else " "
        return
    if not kept and element.text and not element.text.strip(ASCII_SPACES):
        element.text = "\n" if "\n" in element.text else " "
    for child in element:
        _collapse(child, kept)
        if not kept and child.tail and not child.tail.strip(ASCII_SPACES):
            child.tail = "\n" if "\n" in child.tail else " "


def drop(element: Element) -> None:
    """Remove the element and everything in it, keeping the text that follows it. That text joins the
    text before it without control characters, which lxml refuses to set (and the sanitiser drops)."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail:
        previous = element.getprevious()
        if previous is None:
            parent.text = strip_control_characters((parent.text or "") + element.tail)
        else:
            previous.tail = strip_control_characters((previous.tail or "") + element.tail)
    parent.remove(element)


def inner_html(element: Element) -> str:
    """The element's contents as BeautifulSoup's decode_contents() wrote them (attributes sorted,
    `<br/>`, only & < > escaped), so the sanitiser gets the same bytes it always got."""
    parts: list[str] = []
    _write_contents(element, parts)
    return "".join(parts)


def document_html(document: Element) -> str:
    """The whole document as str(BeautifulSoup(...)) wrote it (a <!DOCTYPE> first, though comments
    before it would have come first there)."""
    doctype: str = document.getroottree().docinfo.doctype  # type: ignore[attr-defined]
    parts: list[str] = [doctype + "\n"] if doctype else []
    for node in top_level(document):
        _collapse(node, False)
        _write_node(node, parts)
    return "".join(parts)


def _write_contents(element: Element, parts: list[str]) -> None:
    raw = element.tag in RAW_TEXT_PARENTS
    if element.text:
        parts.append(element.text if raw else _escape(element.text))
    for child in element:
        _write_node(child, parts)
        if child.tail:
            parts.append(child.tail if raw else _escape(child.tail))


def _write_node(node: Element, parts: list[str]) -> None:
    tag = node.tag
    if not isinstance(tag, str):
        if isinstance(node, etree._Comment):
            parts.append(f"<!--{node.text or ''}-->")
        elif isinstance(node, etree._ProcessingInstruction):
            parts.append(f"<?{node.target} {node.text or ''}>")
        return
    attributes = "".join(f" {name}={_quoted(_escape(value))}" for name, value in _attributes(node, tag))
    if tag in VOID_ELEMENTS and not node.text and len(node) == 0:
        parts.append(f"<{tag}{attributes}/>")
        return
    parts.append(f"<{tag}{attributes}>")
    _write_contents(node, parts)
    parts.append(f"</{tag}>")


def _attributes(node: Element, tag: str) -> list[tuple[str, str]]:
    """Sorted by name; word lists with single spaces; a <meta>'s charset as the output's (utf-8)."""
    items = cast(list[tuple[str, str]], node.items())  # str, not bytes: the tree comes from HTML text
    values = {name: " ".join(attribute_words(tag, name, value)) for name, value in items}
    if tag == "meta":
        if "charset" in values:
            values["charset"] = "utf-8"
        elif "content" in values and values.get("http-equiv", "").lower() == "content-type":
            values["content"] = META_CHARSET.sub(lambda match: match.group(1) + "utf-8", values["content"])
    return sorted(values.items())


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _quoted(value: str) -> str:
    if '"' not in value:
        return f'"{value}"'
    if "'" not in value:
        return f"'{value}'"
    return '"' + value.replace('"', "&quot;") + '"'
