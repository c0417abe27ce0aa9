"""What a sync and a rebuild do with an extracted article: the one policy for keeping it, and how a
page that gave no article is reported."""

from __future__ import annotations

import logging

from pipeline.errors import ExtractError
from pipeline.extract import Extraction, HeldBack, run_drift
from pipeline.model import Page, Source
from pipeline.reports import Problem, SourceReport
from pipeline.store import Store, is_store_failure

log = logging.getLogger("panui.sync")


def keep_extraction(
    store: Store,
    source: Source,
    extraction: Extraction,
    report: SourceReport,
    *,
    requested_url: str,
    page: Page,
    rebuilding: bool = False,
) -> None:
    """Store the article read from `page` as a new version when its content changed, and count it.

    The fallback reads a page a little differently from the selectors: storing that over an article
    the selectors read would announce a redesign as an edit of every article. So the last good version
    is kept; the raw page is stored, so `rebuild` after a selector fix picks up any real change."""
    article = extraction.article
    if extraction.selector_problem:
        report.degrade(f"{extraction.selector_problem} (e.g. {requested_url})")
    if extraction.extractor == "fallback" and store.has_article(article.url):
        if not rebuilding:
            store.remember_response(page)
            report.notes.append(f"kept the last good version of {article.url} (its selectors missed)")
        report.unchanged += 1
        return
    # A sync stores the raw page and the article in one transaction (a killed run keeps neither: the
    # next fetches the page again, as it has no validators for it); a rebuild cites the stored page.
    outcome = store.save_article(
        article,
        source_id=source.id,
        timezone=source.timezone,
        requested_url=requested_url,
        retrieved_at=page.fetched_at,
        page=None if rebuilding else page,
        raw_page_id=store.raw_page_id(page.url) if rebuilding else None,
        extractor=extraction.extractor,
        rebuilding=rebuilding,
    )
    report.stored.append(requested_url)
    if extraction.extractor == "fallback":
        report.fallback.append(article.url)
    if outcome != "unchanged":  # said once, when what was cut is stored
        report.notes += [f"{article.url}: {note}" for note in extraction.notes]
    if outcome == "new":
        report.new.append(article.url)
    elif outcome == "updated":
        report.updated.append(article.url)
    else:
        report.unchanged += 1


def hold_back(report: SourceReport, url: str, error: ExtractError) -> None:
    """An article page read but not published: a problem for it alone, unless its structure was missing
    (a selector matched nothing: the site's layout changed), which degrades the source."""
    problem = Problem(report.source_id, url, "extract", error.message, error.hint)
    report.problems.append(problem)
    report.held_back.append(problem)
    report.articles_read += 1
    if not isinstance(error, HeldBack) or error.layout_changed:
        report.degrade(f"{error.message.removeprefix('held back: ')} (e.g. {url})")


def note_drift(report: SourceReport) -> None:
    """Most of the run's articles held back at once is layout drift, whatever each page's reason."""
    drift = run_drift(len(report.held_back), report.articles_read)
    if drift is not None:
        report.degrade(f"{drift} (e.g. {report.held_back[0].url})")


def internal_problem(
    report: SourceReport, url: str, error: Exception, *, logged: str = "", reporting: str = "the page's URL"
) -> None:
    """A bug in Pānui costs what it was doing (a page, a source's discovery), never the run: a problem
    for it. A failure of the store itself (damaged, full or gone) stops the run, writing nothing more."""
    if is_store_failure(error):
        raise error
    if logged:
        log.exception(logged, url)
    hint = f"this is a bug in Pānui; please report it with {reporting}"
    report.problems.append(Problem(report.source_id, url, "internal", f"{type(error).__name__}: {error}", hint))
