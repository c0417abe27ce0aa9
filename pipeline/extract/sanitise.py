"""An allow-list sanitiser for republished HTML (nh3, a binding to the Rust `ammonia` crate).

nh3 parses like a browser (html5ever), so what it lets through is what a reader would see; anything not on
the lists below is removed, so new attack tricks fail closed instead of needing a new rule here."""

from __future__ import annotations

import re

import nh3

from pipeline.bounds import CONTROLS, NONCHARACTERS, SURROGATES
from pipeline.dom import html_text

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "details",
        "div", "dl", "dt", "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i",
        "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small", "strong", "sub",
        "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "hreflang"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start", "reversed"},
    "td": {"colspan", "rowspan", "headers"},
    "th": {"colspan", "rowspan", "headers", "scope"},
    # No `cite` on q/blockquote: nh3 checks the scheme of href and src only, so cite="javascript:..." would pass.
}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
# Characters XML 1.0 forbids (and that no reader wants): C0 controls but tab, LF and CR; DEL; C1 controls.
CONTROL_CHARACTERS = re.compile(f"[{CONTROLS}{NONCHARACTERS}]")
# For has_text: a tag as sanitise_html writes it (double-quoted attributes), its name kept by TAG.split;
# any other `<` (a comment, a tag written otherwise) is left in the text, which is then parsed.
TAG = re.compile(r'</?([A-Za-z][A-Za-z0-9]*)(?:\s+[A-Za-z_:][-A-Za-z0-9_:.]*="[^"]*")*\s*/?>')
ENTITY = re.compile(r"&[#A-Za-z0-9]*;?")
LETTER_OR_DIGIT = re.compile(r"[^\W_]")
UNREAD = re.compile(f"[{CONTROLS}{SURROGATES}]")  # left to the parser (which refuses a surrogate)


def sanitise_html(html: str) -> str:
    """Only allow-listed tags and attributes; scripts, styles, handlers and unsafe URLs are dropped.
    Stable: sanitising the result again changes nothing, so what a reader's parser builds from it is
    what was checked."""
    cleaned = _clean_once(html)
    # The tree html5ever built around an element the allow-list then removed can nest what its parser
    # never nests (`<h2><span><h2>`: a heading inside a heading), so the text reads back as another
    # tree. Cleaning again settles it, in one more pass in every case found (and at most three).
    for _ in range(3):
        if (again := _clean_once(cleaned)) == cleaned:
            break
        cleaned = again
    return cleaned


def _clean_once(html: str) -> str:
    cleaned = nh3.clean(
        CONTROL_CHARACTERS.sub("", html),
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        strip_comments=True,
        link_rel="noopener noreferrer",
    )
    # A byte-order mark is never content (and html5ever drops a leading one, so keeping it would make
    # sanitising twice differ from sanitising once).
    return CONTROL_CHARACTERS.sub("", cleaned).replace("\ufeff", "").strip()


def has_text(html: str) -> bool:
    """Whether html_text(html) holds anything but white space: what the guard asks of every body.
    Sanitised HTML with a letter or digit outside its tags and character references is answered
    without parsing it again (about 0.5 ms of an article's 4.7 ms of extraction); anything else is
    parsed and read."""
    if not UNREAD.search(html):
        parts = TAG.split(html)  # text, tag name, text, ...
        text = "".join(parts[::2])
        # Only allow-listed tags: none of those whose text html_text leaves out (script, style, rt...).
        allowed = "<" not in text and all(name.lower() in ALLOWED_TAGS for name in parts[1::2])
        if allowed and LETTER_OR_DIGIT.search(ENTITY.sub("", text)):
            return True
    return bool(html_text(html).strip())


def clean_text(text: str) -> str:
    """Plain text for a title, summary or tag: no control characters, white space collapsed."""
    return " ".join(CONTROL_CHARACTERS.sub("", text).split())
