"""The one HTML layer: BeautifulSoup over lxml, for extraction, discovery, alerts, check and the texts
publishing reads (pipeline/fragment.py reads the stored bodies publication reads with lxml alone, to
the same text). A page is decoded with the charset its server declared, else its own (<meta>, a byte-order
mark, detection); html_text is the only way HTML becomes text. Pure."""

from __future__ import annotations

import io
import pickle
import warnings
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from pipeline.bounds import join_url
from pipeline.model import Page

if TYPE_CHECKING:  # BeautifulSoup is imported when HTML is first parsed: a sync that finds nothing new parses none
    from bs4 import BeautifulSoup, Tag
    from bs4.builder import TreeBuilder
    from soupsieve import SoupSieve


def declared_charset(page: Page) -> str | None:
    content_type = page.headers.get("content-type")
    if not content_type:
        return None
    from email.message import Message  # (`status` and `--help` read no page)

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


@cache
def _lxml_html() -> type[TreeBuilder]:
    """bs4's lxml HTML tree builder (the one "lxml" names), building the same tree in a tenth less CPU:
    a tag whose name and attributes carry no namespace (all of them, but in markup written to carry
    one) goes to the same BeautifulSoup calls with the same values, without the namespace bookkeeping."""
    from bs4.builder._lxml import LXMLTreeBuilder

    class LXMLHTMLTreeBuilder(LXMLTreeBuilder):
        def start(
            self, tag: str | bytes, attrib: dict[str | bytes, str | bytes], nsmap: dict[str, str] | None = None
        ) -> None:
            plain = not nsmap and len(self.nsmaps) == 1 and isinstance(tag, str) and tag[:1] != "{"
            for key, value in attrib.items() if plain else ():
                if not isinstance(key, str) or key[:1] == "{" or not isinstance(value, str):
                    plain = False  # (the base class refuses bytes, and reads a `{namespace}name`)
                    break
            if not plain or self.soup is None:
                super().start(tag, attrib, nsmap or {})
                return
            # The values as the base class passes them: attributes copied into its dictionary, str by str.
            attributes = self.attribute_dict_class(attrib)
            self.soup.handle_starttag(str(tag), None, None, attributes, namespaces=self.active_namespace_prefixes[-1])

        def end(self, tag: str | bytes) -> None:
            if len(self.nsmaps) > 1 or not isinstance(tag, str) or tag[:1] == "{" or self.soup is None:
                super().end(tag)
                return
            self.soup.handle_endtag(tag, None)  # (which ends the text before it, as the base class does first)

    return LXMLHTMLTreeBuilder


def parse_html(page: Page) -> BeautifulSoup:
    """The page as a tree. A page libxml2 cannot read in any encoding is an empty tree, never an error."""
    from bs4.builder import ParserRejectedMarkup

    soup = _beautiful_soup()
    try:
        return soup(page.body, builder=_lxml_html(), from_encoding=declared_charset(page))
    except ParserRejectedMarkup:
        return soup("", builder=_lxml_html())


def parse_fragment(html: str) -> BeautifulSoup:
    """An HTML fragment (a stored body) as a tree."""
    return _beautiful_soup()(html, builder=_lxml_html())


_compiled: dict[str, SoupSieve] = {}  # selectors soupsieve compiled, in this run or an earlier one
_recalled: list[bytes] = []  # an earlier run's compiled selectors, pickled: loaded at the first one asked for
_fresh: set[str] = set()  # compiled by this run


def css(selector: str) -> SoupSieve:
    """`selector` as soupsieve, which runs it, compiled it; raises soupsieve.SelectorSyntaxError (or
    NotImplementedError, for a pseudo-element) when it cannot. A run's first compilation costs soupsieve
    about 0.1 s of CPU (its tokenizer's patterns), a sixth of a sync that publishes one article, so an
    earlier run's compiled selectors are recalled (pipeline/config/selectors.py keeps them)."""
    if selector not in _compiled and _recalled:
        _compiled.update(_unpickled(_recalled.pop()))
    found = _compiled.get(selector)
    if found is None:
        import soupsieve

        found = _compiled[selector] = soupsieve.compile(selector)
        _fresh.add(selector)
    return found


# What an element must have for a selector to match it (see _needs), by selector.
_needed: dict[str, tuple[frozenset[str] | None, frozenset[str] | None]] = {}


def select(selector: str, scope: Tag, limit: int = 0) -> list[Tag]:
    """What soupsieve's select(scope, limit) finds, in its order: `limit` elements at most (0: all)."""
    return select_each(scope, [(selector, limit)])[0]


def select_one(selector: str, scope: Tag) -> Tag | None:
    """The first element select() finds, or None."""
    found = select(selector, scope, 1)
    return found[0] if found else None


def select_each(scope: Tag, wanted: Sequence[tuple[str | None, int]]) -> list[list[Tag]]:
    """[select(selector, scope, limit) for selector, limit in wanted] (nothing for no selector), in one
    walk of the elements below `scope`.

    soupsieve walks every element below the scope for each selector, and its match costs a few
    microseconds whatever the element. Here soupsieve's own walk is run once for them all, and each
    selector's own match (with the same scope, so :scope and :root mean what they mean to soupsieve)
    only on elements with a name and a class it can match (see _needs). An article's seven selectors
    cost a third of what they cost one walk each (0.27 ms rather than 0.79)."""
    from soupsieve.css_match import CSSMatch
    from soupsieve.util import lower

    found: list[list[Tag]] = [[] for _ in wanted]
    pending: list[tuple[list[Tag], int, frozenset[str] | None, frozenset[str] | None, CSSMatch]] = []
    for (selector, limit), elements in zip(wanted, found, strict=True):
        if selector:
            compiled = css(selector)
            if selector not in _needed:
                _needed[selector] = _needs(compiled)
            matcher = CSSMatch(compiled.selectors, scope, compiled.namespaces, compiled.flags)
            pending.append((elements, limit, *_needed[selector], matcher))
    if not pending:
        return found
    for element in pending[0][-1].get_tag_descendants(scope, template_contents=True):
        name = element.name if element.name.islower() else lower(element.name)  # (as soupsieve compares names)
        for elements, limit, names, classes, matcher in pending:
            if names is not None and name not in names:
                continue
            if classes is not None and classes.isdisjoint(matcher.get_classes(element)):
                continue
            if matcher.match(element):
                elements.append(element)
                if len(elements) == limit:
                    pending = [entry for entry in pending if entry[0] is not elements]
        if not pending:
            break
    return found


def _needs(compiled: SoupSieve) -> tuple[frozenset[str] | None, frozenset[str] | None]:
    """What an element must have for `compiled` to match it, as soupsieve's match checks it first: one of
    these names, ASCII letters lowered (None: any name), and one of these classes (None: any or none).
    Each alternative of the selector adds the name and the first class its element must have; one that
    asks for no name, or no class, leaves that unasked."""
    from soupsieve import css_types
    from soupsieve.util import lower

    names: set[str] | None = set()
    classes: set[str] | None = set()
    for alternative in compiled.selectors:
        if alternative is css_types.Null:  # (`:hover` and the like, which match nothing here)
            continue
        tag = alternative.tag.name if alternative.tag is not None else None
        names = names.union([lower(tag)]) if names is not None and tag not in (None, "*") else None
        classes = classes.union(alternative.classes[:1]) if classes is not None and alternative.classes else None
    return (frozenset(names) if names is not None else None, frozenset(classes) if classes is not None else None)


def recall_compiled(record: bytes) -> None:
    """Offer compiled selectors that compiled_record() made, to be loaded when one is first asked for."""
    _recalled[:] = [record]


def compiled_record() -> bytes | None:
    """This run's and recalled compiled selectors, pickled, when this run compiled any (else None)."""
    if not _fresh:
        return None
    while _recalled:
        _compiled.update({key: value for key, value in _unpickled(_recalled.pop()).items() if key not in _compiled})
    _fresh.clear()
    return pickle.dumps(dict(sorted(_compiled.items())), protocol=5)


class _SelectorsOnly(pickle.Unpickler):
    """soupsieve's own pickling of compiled selectors, and nothing else: a record is data, never code."""

    def find_class(self, module: str, name: str) -> Any:
        from soupsieve import css_types

        if (module, name) in (("soupsieve.css_types", "_unpickle"), ("re", "_compile")):
            return super().find_class(module, name)
        if module in ("soupsieve.css_types", "soupsieve.css_match"):
            found = super().find_class(module, name)
            # SoupSieve is an Immutable; SelectorNull is what `:hover` and the like compile to (an Enum).
            if isinstance(found, type) and (issubclass(found, css_types.Immutable) or found is css_types.SelectorNull):
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a compiled selector")


def _unpickled(record: bytes) -> dict[str, SoupSieve]:
    """The compiled selectors of a record; none from one that cannot be read (they are compiled again)."""
    from soupsieve import SoupSieve

    try:
        loaded = _SelectorsOnly(io.BytesIO(record)).load()
    except Exception:  # any damage to a cache costs a compilation, nothing else
        return {}
    if not isinstance(loaded, dict):
        return {}
    # Each under its own text: a record cannot put one selector in another's place.
    return {key: value for key, value in loaded.items() if isinstance(value, SoupSieve) and value.pattern == key}


LINK_ATTRIBUTES = {"a": "href", "img": "src", "q": "cite", "blockquote": "cite"}
SCRIPT_SCHEMES = ("javascript:", "data:", "vbscript:")  # left as they are, for the sanitiser to drop


def make_links_absolute(element: Tag, base: str) -> None:
    """Every link in `element` made absolute against `base`. A link urllib cannot read (an unclosed IPv6
    bracket, say) leads nowhere and loses its address; its text stays."""
    from bs4 import Tag

    # One walk: find_all's filter by name costs four times the walk (0.06 ms of an article's extraction).
    for tag in [node for node in element.descendants if isinstance(node, Tag) and node.name in LINK_ATTRIBUTES]:
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
