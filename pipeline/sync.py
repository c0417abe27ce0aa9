"""The only module that runs the stages in order: discover, fetch, extract, store; then publish.

Collect and store first, then publish from the store, so a run that failed half-way still publishes
what the store holds and never replaces good output with an empty or broken one. A failed page is a
Problem in the report, never a failed run."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from pipeline.alerts import extract_alerts
from pipeline.discover import article_url, find_listing_links, read_sitemap
from pipeline.errors import DiscoverError, ExtractError, FetchError, NotAllowed, NotAnArticle, PanuiError
from pipeline.fetch import Fetcher, Validators, ping_websub
from pipeline.guard import extract_guarded
from pipeline.lock import StoreLock
from pipeline.model import Config, Link, Page, Problem, Source, SourceReport, SyncReport
from pipeline.publish import changed_feed_urls, publish
from pipeline.store import Store
from pipeline.warc import WarcRecorder

log = logging.getLogger("panui.sync")
MAX_SITEMAPS = 50  # child sitemaps followed from one index: a bound against a runaway site


@dataclass(frozen=True)
class Candidate:
    link: Link
    origin: str  # "url" (given by the operator), "listing" or "sitemap"


def source_for_url(config: Config, url: str) -> Source | None:
    host = urlsplit(url).netloc.lower()
    return next((source for source in config.sources if source.host == host), None)


def run_sync(
    config: Config,
    *,
    source_ids: Sequence[str] = (),
    urls: Sequence[str] = (),
    lock_wait: float = 0.0,
    fetcher_factory: Callable[[Source, str], Fetcher] = Fetcher,
) -> SyncReport:
    """One sync of the selected sources (all when none are named). Raises PanuiError only when the
    run cannot start (unknown source, foreign URL, store or lock unavailable)."""
    selected = select_sources(config, source_ids, urls)
    report = SyncReport(started_at=_now())
    deadline = time.monotonic() + config.run_budget  # a run that hangs is bounded
    with StoreLock(config.state_dir, wait=lock_wait), Store(config.state_dir) as store:
        run_id = store.start_run(report.started_at)
        recorder = WarcRecorder(config.state_dir / "warc", report.started_at) if config.warc else None
        try:
            for source in selected:
                given = [url for url in urls if source_for_url(config, url) is source]
                with fetcher_factory(source, config.user_agent) as fetcher:
                    fetcher.recorder = recorder.record if recorder else None
                    report.sources.append(sync_source(source, store, fetcher, given, deadline=deadline))
        finally:
            if recorder is not None:
                recorder.close()
        if store.article_count():
            _publish(config, store, report)
        report.finished_at = _now()
        store.finish_run(run_id, report.finished_at, report.exit_code, report_summary(report))
    return report


def _publish(config: Config, store: Store, report: SyncReport) -> None:
    """Publish from the store; tell the WebSub hub which feeds changed (a failed ping is a warning:
    the feeds are published either way, and readers still poll)."""
    try:
        report.files_written = publish(config, store)
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
        if source_id not in known:
            raise PanuiError(
                f"no source with id {source_id!r}",
                f"sources in {config.path}: {', '.join(sorted(known))}",
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
        return [source for source in config.sources if source.id in source_ids]
    if urls:  # `sync --url` alone imports those articles and leaves the other sources alone
        wanted = {source_for_url(config, url) for url in urls}
        return [source for source in config.sources if source in wanted]
    return list(config.sources)


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
    try:
        _prepare(store, fetcher)
    except FetchError as error:
        report.problems.append(Problem(source.id, error.url, "fetch", error.message, error.hint))
        report.requests = fetcher.requests_made
        return report
    candidates = [Candidate(Link(url=url, found_on="--url"), "url") for url in urls]
    candidates += discover_links(source, store, fetcher, report)
    if len({candidate.link.url for candidate in candidates}) < source.expect.min_links and not report.problems:
        report.degrade(
            f"discovery found {len(candidates)} article link(s), fewer than expect.min_links ({source.expect.min_links}) (e.g. {source.base_url})",
        )
    candidates += revisit_candidates(source, store, _now())
    candidates = _merge_candidates(candidates, store)
    for index, candidate in enumerate(candidates):
        if not _due(candidate, store):
            report.unchanged += 1
            continue
        if dry_run:
            report.notes.append(f"would fetch {candidate.link.url}")
            continue
        if deadline is not None and time.monotonic() > deadline:
            rest = len(candidates) - index - 1
            message = f"the run's wall-clock budget (run_budget) is spent: not fetched, nor up to {rest} more link(s)"
            report.problems.append(
                Problem(
                    source.id, candidate.link.url, "budget", message, "the next run carries on; or raise run_budget"
                )
            )
            break
        try:
            _sync_article(source, store, fetcher, candidate, report)
        except Exception as error:  # a bug must cost one page, never the run (the store stays consistent)
            log.exception("unexpected error on %s", candidate.link.url)
            hint = "this is a bug in Pānui; please report it with the page's URL"
            report.problems.append(
                Problem(source.id, candidate.link.url, "internal", f"{type(error).__name__}: {error}", hint)
            )
    report.requests = fetcher.requests_made
    return report


def _prepare(store: Store, fetcher: Fetcher) -> None:
    """Read the host's robots.txt, conditionally when a copy is stored."""
    robots_url = fetcher.url_for("/robots.txt")
    remembered, body = store.validators(robots_url), store.cached_body(robots_url)
    cached = (
        (Validators(etag=remembered[0], last_modified=remembered[1]), body) if remembered and body is not None else None
    )
    fresh = fetcher.prepare(cached)
    if fresh is not None:
        store.remember_response(fresh)


def discover_links(source: Source, store: Store, fetcher: Fetcher, report: SourceReport) -> list[Candidate]:
    """Links from the listing pages, then from the sitemap (and the sitemaps an index names)."""
    candidates: list[Candidate] = []
    for listing in source.discovery.listings:
        url = fetcher.url_for(listing.path)
        try:
            page = _fetch_cached(store, fetcher, url)
            found = find_listing_links(page, listing, source)
            if not found:
                report.degrade(f"discovery listing selector {listing.links!r} matched no article link (e.g. {url})")
            candidates += [Candidate(link, "listing") for link in found]
        except (FetchError, DiscoverError) as error:
            report.problems.append(Problem(source.id, url, "discover", error.message, error.hint))
            continue
        if source.alerts is not None and listing.path == source.alerts.path:
            _collect_alerts(source, store, page, report)
    if source.alerts is not None and all(listing.path != source.alerts.path for listing in source.discovery.listings):
        url = fetcher.url_for(source.alerts.path)
        try:
            _collect_alerts(source, store, _fetch_cached(store, fetcher, url), report)
        except FetchError as error:
            report.problems.append(Problem(source.id, url, "alerts", error.message, error.hint))
    if source.discovery.sitemap:
        queue, visited = [fetcher.url_for(source.discovery.sitemap)], 0
        while queue and visited < MAX_SITEMAPS:
            url = queue.pop(0)
            visited += 1
            try:
                content = read_sitemap(_fetch_cached(store, fetcher, url), source)
            except FetchError as error:
                if error.status == 404 and visited == 1:
                    report.notes.append(f"no sitemap at {url}")
                else:
                    report.problems.append(Problem(source.id, url, "discover", error.message, error.hint))
                continue
            except DiscoverError as error:
                report.problems.append(Problem(source.id, url, "discover", error.message, error.hint))
                continue
            queue += content.sitemaps
            candidates += [Candidate(link, "sitemap") for link in content.links]
    return candidates


ORIGIN_PRECEDENCE = ("url", "listing", "revisit", "sitemap")  # the first is fetched unconditionally


def _merge_candidates(candidates: Sequence[Candidate], store: Store) -> list[Candidate]:
    """One candidate per URL, in first-found order, with the origin that makes it most due: an article
    found both in a sitemap (not due) and on the revisit schedule (due) is re-checked."""
    merged: dict[str, Candidate] = {}
    for candidate in candidates:
        known = merged.get(candidate.link.url)
        if known is None or (not _due(known, store) and _due(candidate, store)):
            merged[candidate.link.url] = candidate
        elif ORIGIN_PRECEDENCE.index(candidate.origin) < ORIGIN_PRECEDENCE.index(known.origin):
            merged[candidate.link.url] = Candidate(known.link, candidate.origin)
    return list(merged.values())


def _collect_alerts(source: Source, store: Store, page: Page, report: SourceReport) -> None:
    try:
        alerts = extract_alerts(page, source)
    except ExtractError as error:
        report.problems.append(Problem(source.id, page.url, "alerts", error.message, error.hint))
        return
    for alert in alerts:
        if store.save_alert(alert, page.fetched_at):
            report.alerts.append(alert.title)


def _due(candidate: Candidate, store: Store) -> bool:
    """Whether to request an article now: always when given or new; a known one found on a listing
    (recent, so most likely edited) conditionally; one only in a sitemap when its lastmod is newer
    than our last check."""
    if candidate.origin in ("url", "listing", "revisit"):
        return True
    checked = store.checked_at(candidate.link.url)
    if checked is None:
        return True
    lastmod = candidate.link.lastmod
    return lastmod is not None and lastmod > checked


def _sync_article(source: Source, store: Store, fetcher: Fetcher, candidate: Candidate, report: SourceReport) -> None:
    url = candidate.link.url
    try:
        # Validators only for a stored article: a response remembered without becoming one (the run was
        # killed before saving it, or it was held back) is read again, not answered 304 for ever.
        conditional = candidate.origin != "url" and store.known_url(url)
        page = _fetch_conditional(store, fetcher, url, conditional=conditional)
        if store.record_present(url):
            report.notes.append(f"reinstated: {url} is served again")
        if page.status == 304:
            store.mark_checked(url, page.fetched_at)
            report.unchanged += 1
            return
        raw_id = store.remember_response(page)
        extraction = extract_guarded(page, source, _now())
        article = extraction.article
        if article_url(article.url, source) is None and candidate.origin != "url":
            log.info(
                "canonical %s of %s is outside article_paths; kept by canonical URL",
                article.url,
                url,
            )
        if extraction.selector_problem:
            report.degrade(f"{extraction.selector_problem} (e.g. {url})")
        if extraction.extractor == "fallback" and store.has_article(article.url):
            # The fallback reads a page a little differently from the selectors: storing that would
            # announce a redesign as an edit of every article. Keep the last good version; the raw page
            # is stored, so `rebuild` after a selector fix picks up any real change.
            report.unchanged += 1
            report.notes.append(f"kept the last good version of {article.url} (its selectors missed)")
            return
        outcome = store.save_article(
            article,
            source_id=source.id,
            timezone=source.timezone,
            requested_url=url,
            retrieved_at=page.fetched_at,
            raw_page_id=raw_id,
            extractor=extraction.extractor,
        )
        if extraction.extractor == "fallback":
            report.fallback.append(article.url)
    except NotAnArticle:
        report.skipped += 1
        return
    except NotAllowed as error:
        if candidate.origin == "url":  # the operator asked for it: say why it was not imported
            report.problems.append(Problem(source.id, url, "fetch", error.message, error.hint))
        else:  # a sitemap may list pages robots.txt rules out; obeying robots.txt is not a problem
            report.skipped += 1
            report.notes.append(f"{error.message}: {url}")
        return
    except FetchError as error:
        if error.status not in (404, 410) or not _record_missing(source, store, url, report):
            report.problems.append(Problem(source.id, url, "fetch", error.message, error.hint))
        return
    except ExtractError as error:
        report.problems.append(Problem(source.id, url, "extract", error.message, error.hint))
        report.degrade(f"{error.message.removeprefix('held back: ')} (e.g. {url})")
        return
    if outcome == "new":
        report.new.append(article.url)
    elif outcome == "updated":
        report.updated.append(article.url)
    else:
        report.unchanged += 1


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


def revisit_candidates(source: Source, store: Store, now: datetime) -> list[Candidate]:
    """Known articles due for a (conditional) re-check: often while young, rarely once old."""
    due: list[Candidate] = []
    for url, published, checked in store.revisit_candidates(source.id):
        age = (now - published).total_seconds()
        if (now - checked).total_seconds() >= source.revisit_every(age):
            due.append(Candidate(Link(url=url, found_on="revisit"), "revisit"))
    return due


def _fetch_conditional(store: Store, fetcher: Fetcher, url: str, *, conditional: bool) -> Page:
    remembered = store.validators(url) if conditional else None
    validators = Validators(etag=remembered[0], last_modified=remembered[1]) if remembered else None
    return fetcher.fetch(url, validators)


def _fetch_cached(store: Store, fetcher: Fetcher, url: str) -> Page:
    """A discovery page: conditional, with the stored copy standing in for a 304's empty body."""
    page = _fetch_conditional(store, fetcher, url, conditional=True)
    if page.status == 304:
        body = store.cached_body(url)
        if body is not None:
            store.mark_checked(url, page.fetched_at)
            return Page(
                url=page.url,
                final_url=page.final_url,
                status=200,
                headers=page.headers,
                body=body,
                fetched_at=page.fetched_at,
            )
        page = fetcher.fetch(url)
    store.remember_response(page)
    return page


def report_summary(report: SyncReport) -> dict[str, object]:
    """The report as plain data, for the runs table and `--json`."""
    return {
        "started_at": report.started_at.isoformat(),
        "finished_at": report.finished_at.isoformat() if report.finished_at else None,
        "exit_code": report.exit_code,
        "files_written": len(report.files_written),
        "sources": [
            {
                "id": source.source_id,
                "new": source.new,
                "updated": source.updated,
                "withdrawn": source.withdrawn,
                "alerts": source.alerts,
                "fallback": source.fallback,
                "degraded": source.degraded,
                "unchanged": source.unchanged,
                "skipped": source.skipped,
                "requests": source.requests,
                "notes": source.notes,
                "problems": [vars(problem) for problem in source.problems],
            }
            for source in report.sources
        ],
        "problems": [vars(problem) for problem in report.problems],
        "warnings": [vars(problem) for problem in report.warnings],
    }


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
