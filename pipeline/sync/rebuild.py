"""`run.py rebuild`: re-extract every stored raw page with the current selectors and republish, with no
network request. After a selector fix, one command repairs the whole archive; the same store and
config then give the same bytes as a normal sync (publishing is deterministic)."""

from __future__ import annotations

from pipeline.discover import article_url
from pipeline.errors import ExtractError, NotAnArticle, PanuiError, StoreDamaged
from pipeline.extract import extract_guarded
from pipeline.model import Config
from pipeline.publish import publish
from pipeline.reports import Problem, SourceReport, SyncReport
from pipeline.store import open_store
from pipeline.sync.keep import hold_back, internal_problem, keep_extraction, note_drift
from pipeline.sync.run import _now, source_for_url


def run_rebuild(config: Config, *, lock_wait: float = 0.0) -> SyncReport:
    report = SyncReport(started_at=_now())
    reports = {source.id: SourceReport(source_id=source.id) for source in config.sources}
    watched = {url for source in config.sources for url in source.watched_urls}
    with open_store(config, lock_wait=lock_wait) as store:
        for url, page in store.stored_responses():
            source = source_for_url(config, url)
            if source is None or article_url(url, source) is None or url in watched:
                continue  # discovery pages, watched pages, and pages of sources no longer configured
            source_report = reports[source.id]
            if page is None:
                message = "its stored copy is damaged (the body no longer decompresses); its article is kept as it was"
                hint = f"fetch it afresh: python run.py sync --url {url}"
                source_report.problems.append(Problem(source.id, url, "store", message, hint))
                continue
            if page.status != 200:
                continue
            try:
                extraction = extract_guarded(page, source, _now(), store.feed_item(url))
            except NotAnArticle:
                source_report.skipped += 1
            except ExtractError as error:
                hold_back(source_report, page.url, error)
            except Exception as error:  # a bug must cost this page, never the rebuild
                internal_problem(source_report, page.url, error)
            else:
                source_report.articles_read += 1
                keep_extraction(
                    store, source, extraction, source_report, requested_url=page.url, page=page, rebuilding=True
                )
        for source_report in reports.values():
            note_drift(source_report)
        report.sources = list(reports.values())
        report.empty_store = not store.article_count()
        if not report.empty_store:
            try:
                report.files_written = publish(config, store, full=True, now=report.started_at)
            except StoreDamaged:
                raise  # the store is refused whole, as when SQLite finds damage
            except (OSError, PanuiError) as error:
                report.problems.append(
                    Problem("*", str(config.output_dir), "publish", str(error), "check output_dir and free disk space")
                )
    report.finished_at = _now()
    return report
