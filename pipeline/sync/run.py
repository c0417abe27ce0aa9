"""The only module that runs the stages in order: discover, fetch, extract, store; then publish.

Collect and store first, then publish from the store, so a run that failed half-way still publishes
what the store holds and never replaces good output with an empty or broken one. A failed page is a
Problem in the report, never a failed run."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from urllib.parse import urlsplit

from pipeline.config import require_real_contact
from pipeline.discover import article_url
from pipeline.errors import (
    BudgetSpent,
    ExtractError,
    FetchError,
    NotAllowed,
    NotAnArticle,
    NotHTML,
    PanuiError,
    StoreDamaged,
)
from pipeline.extract import extract_guarded
from pipeline.feed_item import FeedItem
from pipeline.fetch import Fetcher, ping_websub
from pipeline.model import Config, Source
from pipeline.publish import changed_feed_urls, publish
from pipeline.reports import Problem, SourceReport, SyncReport
from pipeline.store import Store, WarcRecorder, open_store
from pipeline.sync.candidates import Candidate, gather_candidates
from pipeline.sync.keep import hold_back, internal_problem, keep_extraction, note_drift
from pipeline.sync.pages import SourcePages
from pipeline.sync.tell import queue_events, tell_subscribers
from pipeline.sync.watch import sync_watched

log = logging.getLogger("panui.sync")


def source_for_url(config: Config, url: str) -> Source | None:
    """The source a URL belongs to: of the sources on its host, the first whose article paths take it
    (two sources may share a host: the news centre and a section of notices), else the first."""
    host = urlsplit(url).netloc.lower()
    on_host = [source for source in config.sources if source.host == host]
    return next((source for source in on_host if article_url(url, source)), on_host[0] if on_host else None)


def run_sync(
    config: Config,
    *,
    source_ids: Sequence[str] = (),
    urls: Sequence[str] = (),
    lock_wait: float = 0.0,
) -> SyncReport:
    """One sync of the selected sources (all when none are named). Raises PanuiError only when the
    run cannot start (unknown source, foreign URL, store or lock unavailable)."""
    selected = select_sources(config, source_ids, urls)
    report = SyncReport(started_at=_now())
    deadline = time.monotonic() + config.run_budget  # a run that hangs is bounded
    with open_store(config, lock_wait=lock_wait) as store:
        run_id = store.start_run(report.started_at)
        recorder = WarcRecorder(config.state_dir / "warc", report.started_at) if config.warc else None
        try:
            for source in selected:
                given = [url for url in urls if source_for_url(config, url) is source]
                with Fetcher(source, config.user_agent) as fetcher:
                    fetcher.recorder = recorder.record if recorder else None
                    report.sources.append(sync_source(source, store, fetcher, given, deadline=deadline))
        finally:
            if recorder is not None:
                recorder.close()
        report.empty_store = not store.article_count()
        queue_events(config, store, report)
        if not report.empty_store:
            _publish(config, store, report)
            tell_subscribers(config, store, report, deadline)
        report.finished_at = _now()
        store.finish_run(run_id, report.finished_at, report.exit_code, report_summary(report))
    return report


def _publish(config: Config, store: Store, report: SyncReport) -> None:
    """Publish from the store; tell the WebSub hub which feeds changed (a failed ping is a warning:
    the feeds are published either way, and readers still poll)."""
    try:
        report.files_written = publish(config, store, now=report.started_at)
    except StoreDamaged:
        raise  # the store is refused, as when SQLite finds damage: not a problem of the output folder
    except (OSError, PanuiError) as error:
        report.problems.append(
            Problem("*", str(config.output_dir), "publish", str(error), "check output_dir and free disk space")
        )
        return
    changed = changed_feed_urls(config, report.files_written)
    if config.websub_hub and changed:
        for failure in ping_websub(config.websub_hub, changed, config.user_agent):
            report.warnings.append(
                Problem("*", config.websub_hub, "websub", failure, "check websub_hub; readers still poll the feeds")
            )


def select_sources(config: Config, source_ids: Sequence[str], urls: Sequence[str]) -> list[Source]:
    known = {source.id for source in config.sources}
    for source_id in source_ids:
        if source_id in config.disabled_sources:
            raise PanuiError(f"source {source_id!r} is disabled in {config.path}", "set enabled: true on it to run it")
        if source_id not in known:
            disabled = f"; disabled: {', '.join(config.disabled_sources)}" if config.disabled_sources else ""
            raise PanuiError(
                f"no source with id {source_id!r}", f"sources in {config.path}: {', '.join(sorted(known))}{disabled}"
            )
    for url in urls:
        source = source_for_url(config, url)
        if source is None:
            raise PanuiError(
                f"{url} is not on the host of any source",
                "--url takes an article URL on a configured source's base_url host",
            )
        if source_ids and source.id not in source_ids:
            raise PanuiError(
                f"{url} belongs to source {source.id!r}, which --source did not select",
                "drop --source or add it",
            )
    if source_ids:
        selected = [source for source in config.sources if source.id in source_ids]
    elif urls:  # `sync --url` alone imports those articles and leaves the other sources alone
        wanted = {source_for_url(config, url) for url in urls}
        selected = [source for source in config.sources if source in wanted]
    else:
        selected = list(config.sources)
    require_real_contact(config, selected)
    return selected


def sync_source(
    source: Source,
    store: Store,
    fetcher: Fetcher,
    urls: Sequence[str] = (),
    *,
    deadline: float | None = None,
    dry_run: bool = False,
) -> SourceReport:
    report = SourceReport(source_id=source.id)
    fetcher.deadline = deadline  # no request, and no wait, carries the run past it
    pages = SourcePages(store, fetcher)
    candidates: list[Candidate] = []  # none when discovery fails
    try:
        pages.read_robots()
        candidates = gather_candidates(source, pages, store, report, urls, _now())
    except FetchError as error:  # robots.txt: the host cannot be reached, or asks for too long a delay
        report.problems.append(Problem(source.id, error.url, "fetch", error.message, error.hint))
    except BudgetSpent as error:
        report.problems.append(
            Problem(source.id, error.url, "budget", f"{error.message}; discovery not finished", error.hint)
        )
    except Exception as error:  # a bug must cost this source's discovery, never the run
        logged, reporting = "unexpected error while discovering %s", "the source's configuration"
        internal_problem(report, source.base_url, error, logged=logged, reporting=reporting)
    for index, candidate in enumerate(candidates):
        if dry_run:
            report.notes.append(f"would fetch {candidate.link.url}")
            continue
        try:
            _sync_article(source, store, pages, candidate, report)
        except BudgetSpent as error:
            rest = f"{error.message}; not fetched, nor up to {len(candidates) - index - 1} more link(s)"
            report.problems.append(Problem(source.id, candidate.link.url, "budget", rest, error.hint))
            break
        except Exception as error:  # a bug must cost one page, never the run (the store stays consistent)
            internal_problem(report, candidate.link.url, error, logged="unexpected error on %s")
    if source.watch and not any(problem.stage == "budget" for problem in report.problems):
        try:
            sync_watched(source, store, pages, report, dry_run=dry_run)
        except BudgetSpent as error:
            report.problems.append(
                Problem(source.id, error.url, "budget", f"{error.message}; watched pages not all checked", error.hint)
            )
    note_drift(report)
    report.requests = fetcher.requests_made
    return report


def _sync_article(source: Source, store: Store, pages: SourcePages, candidate: Candidate, report: SourceReport) -> None:
    url = candidate.link.url
    try:
        # Validators only for a stored article: a response remembered without becoming one (held back,
        # skipped, or kept by the fallback) is read again, not answered 304 for ever.
        conditional = candidate.origin != "url" and store.known_url(url)
        page = pages.fetch(url, conditional=conditional)
        if page.status == 304:
            _present(store, url, report)  # the very page we keep is served again
            store.mark_checked(url, page.fetched_at)
            report.unchanged += 1
            report.articles_read += 1
            return
        try:
            extraction = extract_guarded(page, source, _now(), _feed_help(source, store, candidate))
        except (NotAnArticle, ExtractError):
            store.remember_response(page)  # no article came of it, but `rebuild` may make one after a fix
            raise
        report.articles_read += 1
        article = extraction.article
        if article_url(article.url, source) is None and candidate.origin != "url":
            log.info(
                "canonical %s of %s is outside article_paths; kept by canonical URL",
                article.url,
                url,
            )
        # Served again, and read as an article of that address (not a "page not found" page, a PDF, or
        # a redirect to the news centre): a missing or withdrawn article is back.
        _present(store, article.url, report)
        keep_extraction(store, source, extraction, report, requested_url=url, page=page)
    except NotAnArticle as error:
        report.skipped += 1
        # A page type we skip is expected of a sitemap; a PDF where articles live, or a --url the operator
        # gave, is worth a word.
        if isinstance(error, NotHTML) or candidate.origin == "url":
            report.notes.append(f"skipped, {error.message}: {url}")
    except NotAllowed as error:
        if candidate.origin == "url":  # the operator asked for it: say why it was not imported
            report.problems.append(Problem(source.id, url, "fetch", error.message, error.hint))
        else:  # a sitemap may list pages robots.txt rules out; obeying robots.txt is not a problem
            report.skipped += 1
            report.notes.append(f"{error.message}: {url}")
    except FetchError as error:
        if error.status in (404, 410) and _record_missing(source, store, url, report):
            return
        if candidate.origin == "withdrawn":
            # Not back, whatever else it answers now (403, a redirect elsewhere, 5xx): a note, and the
            # next check at the same slow pace, not a problem on every run.
            store.mark_checked(url, _now())
            report.notes.append(f"withdrawn article still not served ({error.message}): {url}")
            return
        report.problems.append(Problem(source.id, url, "fetch", error.message, error.hint))
    except ExtractError as error:
        hold_back(report, url, error)


def _feed_help(source: Source, store: Store, candidate: Candidate) -> FeedItem | None:
    """The feed item generic extraction reads a page with: this run's (stored first, so `rebuild` reads
    the page with the same help), else the one stored when the page was last read."""
    if source.extraction is not None:
        return None  # selectors need no help
    if candidate.feed_item is not None:
        store.remember_feed_item(candidate.feed_item)
        return candidate.feed_item
    return store.feed_item(candidate.link.url)


def _present(store: Store, url: str, report: SourceReport) -> None:
    if store.record_present(url):
        report.notes.append(f"reinstated: {url} is served again")


def _record_missing(source: Source, store: Store, url: str, report: SourceReport) -> bool:
    """A known article answered 404/410. Withdrawn only when it is still missing after the source's
    removal_grace, so one passing error is never taken for a removal. False when the URL is unknown."""
    outcome = store.record_missing(url, _now(), source.removal_grace_seconds)
    if outcome == "unknown":
        return False
    if outcome == "withdrawn":
        report.withdrawn.append(url)
    elif outcome == "noted":
        report.notes.append(f"missing at the source (404/410): {url}; withdrawn if still missing after removal_grace")
    return True


def report_summary(report: SyncReport) -> dict[str, object]:
    """The report as plain data, for the runs table and `--json`."""
    return {
        "started_at": report.started_at.isoformat(),
        "finished_at": report.finished_at.isoformat() if report.finished_at else None,
        "exit_code": report.exit_code,
        "files_written": len(report.files_written),
        "sources": [_source_summary(source) for source in report.sources],
        "problems": [asdict(problem) for problem in report.problems],
        "warnings": [asdict(problem) for problem in report.warnings],
    }


def _source_summary(source: SourceReport) -> dict[str, object]:
    """What the run did for a source; not the working figures it decided with (held_back is in problems)."""
    fields = asdict(source)
    for working in ("held_back", "stored", "articles_read"):
        del fields[working]
    return {"id": fields.pop("source_id"), **fields}


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
