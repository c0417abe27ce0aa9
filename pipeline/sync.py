"""The only module that runs the stages in order: discover, fetch, extract, store; then publish.

Collect and store first, then publish from the store, so a run that failed half-way still publishes
what the store holds and never replaces good output with an empty or broken one. A failed page is a
Problem in the report, never a failed run."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from pipeline.discover import article_url, find_listing_links, read_sitemap
from pipeline.errors import DiscoverError, ExtractError, FetchError, NotAnArticle, PanuiError
from pipeline.extract import extract_article
from pipeline.fetch import Fetcher, Validators
from pipeline.lock import StoreLock
from pipeline.model import Config, Link, Page, Problem, Source, SourceReport, SyncReport
from pipeline.publish import publish
from pipeline.store import Store

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
    selected = _select_sources(config, source_ids, urls)
    report = SyncReport(started_at=_now())
    with StoreLock(config.state_dir, wait=lock_wait), Store(config.state_dir) as store:
        run_id = store.start_run(report.started_at)
        for source in selected:
            given = [url for url in urls if source_for_url(config, url) is source]
            with fetcher_factory(source, config.user_agent) as fetcher:
                report.sources.append(sync_source(source, store, fetcher, given))
        articles = {source.id: store.articles(source.id) for source in config.sources}
        if any(articles.values()):
            try:
                report.files_written = publish(config, articles)
            except (OSError, PanuiError) as error:
                report.problems.append(
                    Problem(
                        "*",
                        str(config.output_dir),
                        "publish",
                        str(error),
                        "check output_dir and free disk space",
                    )
                )
        report.finished_at = _now()
        store.finish_run(run_id, report.finished_at, report.exit_code, report_summary(report))
    return report


def _select_sources(config: Config, source_ids: Sequence[str], urls: Sequence[str]) -> list[Source]:
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


def sync_source(source: Source, store: Store, fetcher: Fetcher, urls: Sequence[str] = ()) -> SourceReport:
    report = SourceReport(source_id=source.id)
    try:
        fetcher.prepare()
    except FetchError as error:
        report.problems.append(Problem(source.id, error.url, "fetch", error.message, error.hint))
        report.requests = fetcher.requests_made
        return report
    candidates = [Candidate(Link(url=url, found_on="--url"), "url") for url in urls]
    candidates += discover_links(source, store, fetcher, report)
    seen: set[str] = set()
    for candidate in candidates:
        if candidate.link.url in seen:
            continue
        seen.add(candidate.link.url)
        if not _due(candidate, store):
            report.unchanged += 1
            continue
        _sync_article(source, store, fetcher, candidate, report)
    report.requests = fetcher.requests_made
    return report


def discover_links(source: Source, store: Store, fetcher: Fetcher, report: SourceReport) -> list[Candidate]:
    """Links from the listing pages, then from the sitemap (and the sitemaps an index names)."""
    candidates: list[Candidate] = []
    for listing in source.discovery.listings:
        url = fetcher.url_for(listing.path)
        try:
            page = _fetch_cached(store, fetcher, url)
            candidates += [Candidate(link, "listing") for link in find_listing_links(page, listing, source)]
        except (FetchError, DiscoverError) as error:
            report.problems.append(Problem(source.id, url, "discover", error.message, error.hint))
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


def _due(candidate: Candidate, store: Store) -> bool:
    """Whether to request an article now: always when given or new; a known one found on a listing
    (recent, so most likely edited) conditionally; one only in a sitemap when its lastmod is newer
    than our last check."""
    if candidate.origin in ("url", "listing"):
        return True
    checked = store.checked_at(candidate.link.url)
    if checked is None:
        return True
    lastmod = candidate.link.lastmod
    return lastmod is not None and lastmod > checked


def _sync_article(source: Source, store: Store, fetcher: Fetcher, candidate: Candidate, report: SourceReport) -> None:
    url = candidate.link.url
    try:
        page = _fetch_conditional(store, fetcher, url, conditional=candidate.origin != "url")
        if page.status == 304:
            store.mark_checked(url, page.fetched_at)
            report.unchanged += 1
            return
        raw_id = store.remember_response(page)
        article = extract_article(page, source)
        if article_url(article.url, source) is None and candidate.origin != "url":
            log.info(
                "canonical %s of %s is outside article_paths; kept by canonical URL",
                article.url,
                url,
            )
        outcome = store.save_article(
            article,
            source_id=source.id,
            timezone=source.timezone,
            requested_url=url,
            retrieved_at=page.fetched_at,
            raw_page_id=raw_id,
        )
    except NotAnArticle:
        report.skipped += 1
        return
    except (FetchError, ExtractError) as error:
        stage = "fetch" if isinstance(error, FetchError) else "extract"
        report.problems.append(Problem(source.id, url, stage, error.message, error.hint))
        return
    if outcome == "new":
        report.new.append(article.url)
    elif outcome == "updated":
        report.updated.append(article.url)
    else:
        report.unchanged += 1


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
                "unchanged": source.unchanged,
                "skipped": source.skipped,
                "requests": source.requests,
                "notes": source.notes,
                "problems": [vars(problem) for problem in source.problems],
            }
            for source in report.sources
        ],
        "problems": [vars(problem) for problem in report.problems],
    }


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
