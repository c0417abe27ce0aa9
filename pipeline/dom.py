"""The one HTML layer: BeautifulSoup over lxml, for extraction, discovery, alerts, check and the texts
publishing reads. A page is decoded with the charset its server declared, else its own (<meta>, a
byte-order mark, detection); html_text is the only way HTML becomes text. Pure."""

from __future__ import annotations

import warnings
from email.message import Message
from functools import cache
from typing import TYPE_CHECKING

from pipeline.bounds import join_url
from pipeline.model import Page

if TYPE_CHECKING:  # BeautifulSoup is imported when HTML is first parsed: a sync that finds nothing new parses none
    from bs4 import BeautifulSoup, Tag


def declared_charset(page: Page) -> str | None:
    content_type = page.headers.get("content-type")
    if not content_type:
        return None
    message = Message()
    message["content-type"] = content_type
    charset = message.get_param("charset")
    return charset.strip().lower() if isinstance(charset, str) and charset.strip() else None


@cache
def _beautiful_soup() -> type[BeautifulSoup]:
    from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

    # A fragment that happens to look like a URL or a file name is still a fragment (bs4 would warn).
    warnings.filterwarnings("ignore", category=MarkupResemblesLocatorWarning)
    return BeautifulSoup


def parse_html(page: Page) -> BeautifulSoup:
    """The page as a tree. A page libxml2 cannot read in any encoding is an empty tree, never an error."""
    from bs4.builder import ParserRejectedMarkup

    soup = _beautiful_soup()
    try:
        return soup(page.body, "lxml", from_encoding=declared_charset(page))
    except ParserRejectedMarkup:
        return soup("", "lxml")


def parse_fragment(html: str) -> BeautifulSoup:
    """An HTML fragment (a stored body) as a tree."""
    return _beautiful_soup()(html, "lxml")


LINK_ATTRIBUTES = {"a": "href", "img": "src", "q": "cite", "blockquote": "cite"}
SCRIPT_SCHEMES = ("javascript:", "data:", "vbscript:")  # left as they are, for the sanitiser to drop


def make_links_absolute(element: Tag, base: str) -> None:
    """Every link in `element` made absolute against `base`. A link urllib cannot read (an unclosed IPv6
    bracket, say) leads nowhere and loses its address; its text stays."""
    for tag in element.find_all(list(LINK_ATTRIBUTES)):
        attribute = LINK_ATTRIBUTES[tag.name]
        value = tag.get(attribute)
        if not isinstance(value, str) or not value.strip() or value.strip().lower().startswith(SCRIPT_SCHEMES):
            continue
        absolute = join_url(base, value)
        if absolute is None:
            del tag[attribute]
        else:
            tag[attribute] = absolute


def html_text(markup: str | Tag, separator: str = " ") -> str:
    """The text a reader sees in a fragment or an element, its strings joined by `separator`: no
    comments, and nothing inside script, style, template, rt or rp (unless asked for such an element)."""
    if isinstance(markup, str):
        if not markup.strip():
            return ""
        markup = parse_fragment(markup)
    return markup.get_text(separator)
