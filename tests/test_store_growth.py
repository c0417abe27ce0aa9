"""The store does not grow without bound when the same articles are fetched again and again unchanged:
a raw page is kept only when its bytes differ, a superseded copy that no article version cites is
dropped, an unchanged article gets no new version, and the history of runs is kept to the newest ones.

The syncs run in-process (run_sync is what `python run.py sync` calls) so that twenty of them stay fast."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.store import STORE_FILE, Store
from pipeline.store import events as store_module
from pipeline.sync.run import run_sync
from tests.fixture_site import ARTICLE_PATHS, HTML, FixtureSite, Route, home_page
from tests.helpers import MakeConfig, stored_value

SYNCS = 20
PAGE = 4096


def counts(state_dir: Path) -> dict[str, int]:
    with sqlite3.connect(state_dir / STORE_FILE) as db:
        row = db.execute(
            "SELECT (SELECT count(*) FROM raw_pages), (SELECT count(*) FROM revisions), (SELECT count(*) FROM articles), "
            "(SELECT coalesce(sum(length(report)), 0) + 64 * count(*) FROM runs)"
        ).fetchone()
    db.close()
    return dict(zip(("raw_pages", "revisions", "articles", "run_bytes"), map(int, row), strict=True))


def test_syncing_unchanged_articles_again_and_again_does_not_grow_the_store(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    # Every known article is re-checked on every sync, and the site never answers 304: each time a new
    # ETag, and every other time bytes that differ (a rendering timestamp) around the very same article.
    config = load_config(make_config(site, tmp_path, source={"retries": 0, "backoff": 0, "revisit": [{"every": "0s"}]}))
    state = tmp_path / "state"
    originals: dict[str, bytes] = {}
    for path in ARTICLE_PATHS:
        route = site.route(path)
        assert route is not None
        originals[path] = route.body
    history: list[tuple[dict[str, int], int]] = []
    for number in range(SYNCS):
        site.set(
            "/", Route(body=home_page() + f"<!-- rendered {number:03} -->\n".encode(), headers={"Content-Type": HTML})
        )
        for path in ARTICLE_PATHS:
            stamp = f"<!-- rendered {number:03} -->\n".encode() if number % 2 else b""
            site.set(path, Route(body=originals[path] + stamp, headers={"Content-Type": HTML, "ETag": f'"r{number}"'}))

        report = run_sync(config)

        assert report.exit_code == 0, [problem.describe() for problem in report.all_problems]
        expected_new = len(ARTICLE_PATHS) if number == 0 else 0
        assert sum(len(source.new) + len(source.updated) for source in report.sources) == expected_new
        history.append((counts(state), (state / STORE_FILE).stat().st_size))

    first, _ = history[0]
    assert all(seen["articles"] == first["articles"] == len(ARTICLE_PATHS) for seen, _ in history)
    assert all(seen["revisions"] == first["revisions"] for seen, _ in history)  # no version without a change
    # At most one more raw page per article (the copy its version cites, and the latest answer), and
    # the home page's copy is replaced, not added to, however often its bytes change.
    assert all(seen["raw_pages"] <= first["raw_pages"] + len(ARTICLE_PATHS) for seen, _ in history)
    assert history[-1][0]["raw_pages"] == history[-3][0]["raw_pages"]
    # Once both forms of every page have been stored (syncs 0 and 1), the file grows by the run records
    # only (a page or two of slack for SQLite's own bookkeeping). From the third sync: when the second
    # takes its last new page depends on SQLite's page layout (it moved one sync with zlib's level).
    (early, early_size), (late, late_size) = history[2], history[-1]
    assert late_size - early_size <= late["run_bytes"] - early["run_bytes"] + 2 * PAGE


def test_the_history_of_runs_keeps_the_newest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "RUNS_KEPT", 5)
    start = datetime(2026, 7, 13, tzinfo=UTC)
    with Store(tmp_path) as store:
        for number in range(12):
            when = start + timedelta(minutes=number)
            store.finish_run(store.start_run(when), when, 0, {"run": number})
        assert stored_value(store, "SELECT count(*) FROM runs") == 5
    with sqlite3.connect(tmp_path / STORE_FILE) as db:
        kept = [row[0] for row in db.execute("SELECT report FROM runs ORDER BY id")]
    db.close()
    assert kept == [f'{{"run": {number}}}' for number in range(7, 12)]
