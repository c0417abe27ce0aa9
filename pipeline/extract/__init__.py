"""Extraction with a guard: tells "the site's layout changed" from "this article is wrong", before
anything is published. Pure.

Scrapers break silently when a site is redesigned; the guard turns a silent break into a named problem.
Layout drift is the page's structure going missing: the page-type marker, the title, the date or the
body container not found (the source is degraded, and the generic fallback may stand in), or most of a
run's articles held back at once. A page whose structure is all there is content, and is published
however short: INZ's notices are one or two sentences. Only content that cannot be right is held back,
as a problem for that one article: a body with no text at all, or a date in the future."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pipeline.bounds import bounded_article, date_problem
from pipeline.dom import html_text
from pipeline.errors import ExtractError, NotAnArticle
from pipeline.feed_item import FeedItem
from pipeline.model import Article, Page, Source

if TYPE_CHECKING:
    from bs4 import Tag

LAYOUT_HINT = (
    "fix the selectors in sources.yaml (`python run.py check` shows what matches), then `python run.py rebuild`"
)
CONTENT_HINT = (
    "a later sync publishes it once the site corrects the page; if Pānui misread it, fix extraction.body "
    "(`python run.py check --url URL` shows what matches) or expect.max_future_days, then `python run.py rebuild`"
)
GENERIC_HINT = (
    "a later sync publishes it once the site corrects the page; `python run.py check --url URL` shows what Pānui reads"
)
# Most of a run held back is drift even when every selector still matches (the text moved out of the body
# container, say). At least this many, and more than half of the articles read: a steady-state run reads
# about 3 (the home page lists the 3 newest), and one or two faulty pages are their own problem.
DRIFT_MIN_HELD = 3


def word_count(body: str | Tag) -> int:
    return len(html_text(body).split())


def unmet_expectations(article: Article, source: Source, now: datetime) -> list[str]:
    """What is wrong with the article's content, in words (empty when it may be published)."""
    from pipeline.extract.sanitise import has_text  # nh3: imported by the run that reads a page

    problems: list[str] = []
    if not has_text(article.body_html):
        body = f"the body ({source.extraction.body!r})" if source.extraction else "the page's main text"
        problems.append(f"{body} has no text once page furniture is removed")
    if article.published > now + timedelta(days=source.expect.max_future_days):
        problems.append(f"the published date {article.published.date().isoformat()} is in the future")
    elif (too_early := date_problem(article.published.date())) is not None:
        problems.append(f"the published date {too_early}")
    if not article.title.strip():
        problems.append("the title is empty")
    return problems


def run_drift(held: int, read: int) -> str | None:
    """Why a run whose `held` of `read` articles were held back looks like layout drift, or None."""
    if held >= DRIFT_MIN_HELD and held * 2 > read:
        return f"{held} of the {read} articles read this run were held back: the layout may have changed"
    return None


@dataclass(frozen=True)
class Extraction:
    article: Article
    extractor: str  # "selectors", "fallback", "generic" or "pdf"
    selector_problem: str | None  # why the selectors failed, when the fallback stood in
    notes: tuple[str, ...] = ()  # what was cut to its bound (pipeline/bounds.py)


class HeldBack(ExtractError):
    """Nothing publishable came of an article page. `layout_changed`: its structure was missing (the
    source is degraded); otherwise its content is at fault (a problem for that article alone)."""

    def __init__(self, message: str, hint: str, *, layout_changed: bool) -> None:
        super().__init__(message, hint)
        self.layout_changed = layout_changed


def extract_guarded(page: Page, source: Source, now: datetime, item: FeedItem | None = None) -> Extraction:
    """The source's selectors first; when the page's structure is missing, the generic extractor (if the
    source allows it), whose result must meet the same expectations. A source without selectors
    (`extraction: generic`) is read by the generic extractor alone, helped by the feed `item` that listed
    the page. A PDF is read as a document (its text), and one that cannot be read is held back as a
    problem of its own, not a sign of a changed layout. Raises NotAnArticle for other page types and
    HeldBack when nothing publishable came out."""
    from pipeline.extract.document import is_pdf

    if source.watch_only:  # (its pages are read by pipeline.extract.watched, each as the page it is)
        raise NotAnArticle(f"source {source.id!r} only watches pages: it reads no article")
    if is_pdf(page):
        return _document(page, source, now)
    if source.extraction is None:
        return _generic(page, source, now, item)
    from pipeline.extract.article import extract_article  # BeautifulSoup: imported by the run that reads a page

    try:
        article, notes = bounded_article(extract_article(page, source))
    except NotAnArticle:
        raise
    except ExtractError as error:
        return _fallback(page, source, now, error.message)
    # The selectors found every part: if the content fails, it is at fault, and the fallback would agree.
    return _checked(Extraction(article, "selectors", None, tuple(notes)), source, now, CONTENT_HINT)


def _checked(extraction: Extraction, source: Source, now: datetime, hint: str) -> Extraction:
    """`extraction`, or HeldBack when its article fails the expectations (a changed layout if the fallback's)."""
    if unmet := "; ".join(unmet_expectations(extraction.article, source, now)):
        missed = extraction.selector_problem  # (set when the fallback stood in for the selectors)
        fails_too = f"{missed}; the fallback's result fails too: " if missed else ""
        raise HeldBack(f"held back: {fails_too}{unmet}", hint, layout_changed=missed is not None)
    return extraction


def _document(page: Page, source: Source, now: datetime) -> Extraction:
    from pipeline.extract.document import extract_pdf  # pypdf: imported only for a PDF

    try:
        document, notes = extract_pdf(page, source)
    except ExtractError as error:
        raise HeldBack(f"held back: {error.message}", error.hint, layout_changed=False) from None
    article, cut = bounded_article(document)
    return _checked(Extraction(article, "pdf", None, tuple(notes + cut)), source, now, CONTENT_HINT)


def _fallback(page: Page, source: Source, now: datetime, selector_problem: str) -> Extraction:
    if not source.fallback:
        raise HeldBack(f"held back: {selector_problem}", LAYOUT_HINT, layout_changed=True)
    from pipeline.extract.fallback import extract_fallback  # trafilatura: imported only when the selectors miss

    try:
        article, notes = bounded_article(extract_fallback(page, source))
    except ExtractError as error:
        message = f"held back: {selector_problem}; the fallback extractor failed too: {error.message}"
        raise HeldBack(message, LAYOUT_HINT, layout_changed=True) from None
    return _checked(Extraction(article, "fallback", selector_problem, tuple(notes)), source, now, LAYOUT_HINT)


def _generic(page: Page, source: Source, now: datetime, item: FeedItem | None) -> Extraction:
    """No selectors, so nothing to drift: whatever is missing is this page's problem (the run's drift
    check still degrades the source when most of its pages are held back)."""
    from pipeline.extract.generic import extract_generic  # trafilatura: imported for a generic source

    try:
        article, notes = bounded_article(extract_generic(page, source, item))
    except NotAnArticle:
        raise
    except ExtractError as error:
        raise HeldBack(f"held back: {error.message}", error.hint, layout_changed=False) from None
    return _checked(Extraction(article, "generic", None, tuple(notes)), source, now, GENERIC_HINT)
