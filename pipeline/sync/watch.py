"""A sync of a source's watched pages (`watch:`): each fetched conditionally on every run; a change of
its text is a new version of it in the store (a revision, as an article's edit is), which its source's
changes feed announces with the diff. The first read is the baseline, announced by nothing."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from pipeline.errors import BudgetSpent, ExtractError, FetchError
from pipeline.model import Source, WatchedPage
from pipeline.reports import Problem, SourceReport
from pipeline.store import Store
from pipeline.sync.keep import internal_problem
from pipeline.sync.pages import SourcePages


def sync_watched(source: Source, store: Store, pages: SourcePages, report: SourceReport, *, dry_run: bool) -> None:
    """Read each watched page; a page that fails is a problem for it alone. BudgetSpent ends the source's
    run, as it does for articles."""
    for watched in source.watch:
        url = pages.url_for(watched.path)
        if dry_run:
            report.notes.append(f"would check watched page {url}")
            continue
        try:
            _sync_page(source, store, pages, watched, url, report)
        except BudgetSpent:
            raise
        except (FetchError, ExtractError) as error:
            report.problems.append(Problem(source.id, url, "watch", error.message, error.hint))
        except Exception as error:  # a bug must cost one page, never the run
            internal_problem(report, url, error, logged="unexpected error on watched page %s")


def _sync_page(
    source: Source, store: Store, pages: SourcePages, watched: WatchedPage, url: str, report: SourceReport
) -> None:
    page = pages.fetch(url, conditional=store.known_url(url))
    if page.status == 304:
        store.mark_checked(url, page.fetched_at)
        report.unchanged += 1
        return
    published = store.first_published(url) or _day(page.fetched_at, source)
    # A page that cannot be read is not remembered: the validators stay those of the last stored
    # version, so the next run reads the page again (and reports it again) rather than getting a 304.
    from pipeline.extract.document import is_pdf
    from pipeline.extract.watched import extract_watched  # BeautifulSoup: imported when a watched page changed

    article = extract_watched(page, source, watched, url, published)
    outcome = store.save_article(
        article,
        source_id=source.id,
        timezone=source.timezone,
        requested_url=url,
        retrieved_at=page.fetched_at,
        page=page,
        extractor="pdf" if is_pdf(page) else "watch",
        kind="watch",
    )
    if outcome == "updated":
        report.updated.append(url)
    elif outcome == "new":
        report.notes.append(f"watching {url} from now on (its first version is the baseline)")
    else:
        report.unchanged += 1


def _day(when: datetime, source: Source) -> datetime:
    """Midnight of `when`'s day in the source's zone: a watched page is dated the day it was first seen."""
    local = when.astimezone(ZoneInfo(source.timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)
