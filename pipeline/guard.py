"""Extraction with a guard: expectations an article must meet before it is published, and the generic
fallback when the selectors miss. Pure.

Scrapers break silently when a site is redesigned; these checks turn a silent break into a named
problem, so junk (an empty body, a date years ahead) is held back instead of published."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeline.bounds import bounded_article, date_problem
from pipeline.errors import ExtractError, NotAnArticle
from pipeline.extract import extract_article
from pipeline.fallback import extract_fallback
from pipeline.model import Article, Page, Source
from pipeline.sanitise import html_text


def word_count(body_html: str) -> int:
    return len(html_text(body_html).split())


def unmet_expectations(article: Article, source: Source, now: datetime) -> list[str]:
    """What is wrong with the article, in words (empty when it may be published)."""
    expect = source.expect
    problems: list[str] = []
    words = word_count(article.body_html)
    if words < expect.min_words:
        problems.append(f"the body has {words} words, fewer than expect.min_words ({expect.min_words})")
    if article.published > now + timedelta(days=expect.max_future_days):
        problems.append(f"the published date {article.published.date().isoformat()} is in the future")
    elif (too_early := date_problem(article.published.date())) is not None:
        problems.append(f"the published date {too_early}")
    if not article.title.strip():
        problems.append("the title is empty")
    return problems


@dataclass(frozen=True)
class Extraction:
    article: Article
    extractor: str  # "selectors" or "fallback"
    selector_problem: str | None  # why the selectors failed, when the fallback stood in
    notes: tuple[str, ...] = ()  # what was cut to its bound (pipeline/bounds.py)


class HeldBack(ExtractError):
    """Neither the selectors nor the fallback gave a publishable article."""


def extract_guarded(page: Page, source: Source, now: datetime) -> Extraction:
    """The source's selectors first; when they miss or their result fails the expectations, the generic
    extractor (if the source allows it), whose result must pass the same expectations. Raises
    NotAnArticle for other page types and HeldBack when nothing publishable came out."""
    try:
        article, notes = bounded_article(extract_article(page, source))
        unmet = unmet_expectations(article, source, now)
        if not unmet:
            return Extraction(article, "selectors", None, tuple(notes))
        selector_problem = "; ".join(unmet)
    except NotAnArticle:
        raise
    except ExtractError as error:
        selector_problem = error.message
    hint = "fix the selectors in sources.yaml (`python run.py check` shows what matches), then `python run.py rebuild`"
    if not source.fallback:
        raise HeldBack(f"held back: {selector_problem}", hint)
    try:
        article, notes = bounded_article(extract_fallback(page, source))
    except ExtractError as error:
        raise HeldBack(
            f"held back: {selector_problem}; the fallback extractor failed too: {error.message}", hint
        ) from None
    unmet = unmet_expectations(article, source, now)
    if unmet:
        raise HeldBack(f"held back: {selector_problem}; the fallback's result fails too: {'; '.join(unmet)}", hint)
    return Extraction(article, "fallback", selector_problem, tuple(notes))
