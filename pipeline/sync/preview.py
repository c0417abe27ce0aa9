"""`run.py sync --dry-run`: what a sync would fetch and publish, without writing anything.

It runs discovery for real (robots.txt, the listings and sitemaps are requested, conditionally, with the
usual politeness), then notes each article a sync would fetch instead of fetching it, and lists in
`files_written` the output files that differ from what the store holds now. It takes no lock, stores no
response, creates no state_dir and writes no output; without a store it works on an empty one in a
temporary folder, and on a copy there of a store that this release would upgrade."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipeline.fetch import Fetcher
from pipeline.files import holds
from pipeline.model import Config
from pipeline.publish import render_site
from pipeline.reports import SyncReport
from pipeline.store import STORE_FILE, Store, copy_if_behind, require_writable
from pipeline.sync.run import _now, select_sources, source_for_url, sync_source


class _ReadOnlyStore(Store):
    """Answers what the store knows; remembers nothing of this run. Every write of the store happens in
    a transaction, so rolling back every transaction keeps the store as it was, whatever sync writes."""

    def __init__(self, state_dir: Path) -> None:
        self._read_only = False
        super().__init__(state_dir)  # the schema is only ever created in the empty temporary store
        self._read_only = True

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        if not self._read_only:
            with super().transaction() as connection:
                yield connection
            return
        self._db.execute("BEGIN")
        try:
            yield self._db
        finally:
            self._db.execute("ROLLBACK")


def preview_sync(
    config: Config,
    *,
    source_ids: Sequence[str] = (),
    urls: Sequence[str] = (),
) -> SyncReport:
    selected = select_sources(config, source_ids, urls)
    require_writable(config)  # what would stop the sync before it starts stops its preview too
    report = SyncReport(started_at=_now())
    deadline = time.monotonic() + config.run_budget  # discovery is bounded as in a sync
    with tempfile.TemporaryDirectory(prefix="panui-dry-run-") as empty:
        real = config.state_dir / STORE_FILE
        folder = config.state_dir if real.is_file() and not copy_if_behind(real, Path(empty)) else Path(empty)
        with _ReadOnlyStore(folder) as store:
            for source in selected:
                given = [url for url in urls if source_for_url(config, url) is source]
                with Fetcher(source, config.user_agent) as fetcher:
                    report.sources.append(sync_source(source, store, fetcher, given, deadline=deadline, dry_run=True))
            if store.article_count():
                rendered = render_site(config, store, now=report.started_at)
                report.files_written = [
                    path for path in sorted(rendered) if not holds(config.output_dir / path, rendered[path])
                ]
    report.finished_at = _now()
    return report
