"""Crash safety: `python run.py sync` killed with SIGKILL (no chance to clean up) while fetching, inside
the store's write transaction, or half-way through publishing leaves every published file either its
old or its new complete version, a sound store and no held lock; the next sync completes normally and
leaves no temporary file behind.

The store and publish points are reached deterministically by running the sync through
tests/pause_at.py, which monkeypatches a pause in at that point; the fetch point through a slow answer of
the fixture site."""

from __future__ import annotations

import json
import queue
import re
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from xml.etree import ElementTree

import feedparser
import pytest

from pipeline.publish import IN_PROGRESS_FILE
from pipeline.store import STORE_FILE
from tests.fixture_site import ARTICLE_PATHS, HTML, FixtureSite, Route, article_path, derive_article, home_page
from tests.helpers import REPO_ROOT, MakeConfig, run_cli

NEW_PATH = article_path("crash-test-notice")
NEW_TITLE = "Changes to visitor visa processing"
BODY = (
    "<h2>What is changing</h2><p>From 1 August, visitor visa applications are processed in the order they "
    "are received, and applicants can track their application online. Applications already lodged are not "
    "affected, and applicants do not need to do anything.</p>"
)
FEED_SUFFIXES = (".xml", ".atom")
Files = dict[str, bytes]


def files_under(output: Path) -> Files:
    return {str(path.relative_to(output)): path.read_bytes() for path in sorted(output.rglob("*")) if path.is_file()}


def is_temporary(relative: str) -> bool:
    return any(part.startswith(".") for part in Path(relative).parts)


def assert_complete(relative: str, data: bytes) -> None:
    """The file parses completely, as whoever reads it would parse it."""
    if relative.endswith(FEED_SUFFIXES):
        parsed = feedparser.parse(data)
        assert not parsed.bozo, f"{relative}: {parsed.get('bozo_exception')}"
        assert parsed.version, relative
    elif relative.endswith(".opml"):
        ElementTree.fromstring(data)
    elif relative.endswith(".json"):
        json.loads(data)
    elif relative.endswith(".html"):
        text = data.decode("utf-8")
        assert text.lower().startswith("<!doctype html>"), relative
        assert text.rstrip().endswith("</html>"), relative
    else:
        assert data, relative


def assert_store_sound(state_dir: Path) -> None:
    with sqlite3.connect(state_dir / STORE_FILE) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    db.close()


def start_sync(config: Path, pause_at: str | None) -> subprocess.Popen[str]:
    """`run.py sync`, or, to pause at a point, the same through tests/pause_at.py."""
    program = [str(REPO_ROOT / "run.py")] if pause_at is None else [str(REPO_ROOT / "tests" / "pause_at.py"), pause_at]
    return subprocess.Popen(
        [sys.executable, *program, "sync", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_pause(process: subprocess.Popen[str], point: str) -> None:
    """Until the process says on stderr that it is paused at `point`."""
    lines: queue.Queue[str] = queue.Queue()
    assert process.stderr is not None
    stream = process.stderr

    def read() -> None:  # in a thread, so that a sync that never pauses fails the test instead of hanging it
        for line in stream:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    seen: list[str] = []
    while True:
        try:
            line = lines.get(timeout=60)
        except queue.Empty:
            raise AssertionError(f"the sync never paused at {point}; stderr: {''.join(seen)}") from None
        seen.append(line)
        if line.strip() == f"paused at {point}":
            return


def wait_for_request(site: FixtureSite, path: str, process: subprocess.Popen[str]) -> None:
    for _ in range(1200):
        if path in site.paths_requested():
            return
        assert process.poll() is None, "the sync ended before requesting " + path
        threading.Event().wait(0.05)
    raise AssertionError(f"no request for {path}")


@pytest.mark.parametrize(
    "point",
    ["fetch", "store", "publish:5"],
    ids=["while-fetching", "inside-the-store-transaction", "half-way-through-publishing"],
)
def test_a_killed_sync_leaves_complete_files_a_sound_store_and_the_next_sync_recovers(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig, point: str
) -> None:
    config = make_config(site, tmp_path, source={"retries": 0, "backoff": 0})
    output, state = tmp_path / "output", tmp_path / "state"
    assert run_cli("sync", "--config", str(config), timeout=60).returncode == 0
    old = files_under(output)
    page = derive_article(
        "article-improvements-to-the-pathway-student-visa.html",
        slug="crash-test-notice",
        title=NEW_TITLE,
        published="10 July 2026",
        body_html=BODY,
    ).encode()
    # A new article on the home page: the run to be killed fetches, stores and publishes it.
    site.set(NEW_PATH, Route(body=page, headers={"Content-Type": HTML}, delay=30 if point == "fetch" else 0))
    site.set_home_links(
        [
            (NEW_PATH, NEW_TITLE, "10 Jul 2026"),
            (ARTICLE_PATHS[0], "P", "9 Jul 2026"),
            (ARTICLE_PATHS[1], "E", "7 Jul 2026"),
        ]
    )

    victim = start_sync(config, None if point == "fetch" else point)
    try:
        if point == "fetch":
            wait_for_request(site, NEW_PATH, victim)
        else:
            wait_for_pause(victim, point.split(":")[0])
    finally:
        victim.kill()  # SIGKILL: no handler runs, nothing is cleaned up
        victim.wait(timeout=10)

    at_kill = files_under(output)
    for relative, data in at_kill.items():
        if not is_temporary(relative):
            assert_complete(relative, data)
    assert_store_sound(state)
    if point == "store":  # the open transaction was rolled back: the article is not half-saved
        with sqlite3.connect(state / STORE_FILE) as db:
            assert db.execute("SELECT count(*) FROM articles").fetchone() == (len(ARTICLE_PATHS),)
        db.close()
    if point.startswith("publish"):
        assert any(is_temporary(relative) for relative in at_kill)  # killed between a write and its rename
        assert at_kill.keys() - old.keys() or any(old[name] != at_kill[name] for name in old)  # half-way indeed

    site.set(NEW_PATH, Route(body=page, headers={"Content-Type": HTML}))
    recovered = run_cli("sync", "--config", str(config), "--wait", "0", timeout=60)

    assert recovered.returncode == 0, recovered.stderr  # not 2: no lock was left held
    assert "Traceback" not in recovered.stderr
    new = files_under(output)
    for relative, data in at_kill.items():
        if not is_temporary(relative):
            assert data in (old.get(relative), new.get(relative)), f"{relative} is neither its old nor its new version"
    assert not [relative for relative in new if is_temporary(relative)]  # no temporary file outlives a crash
    for relative, data in new.items():
        assert_complete(relative, data)
    assert_store_sound(state)
    items = json.loads(new["feed.json"])["items"]
    assert [item["title"] for item in items].count(NEW_TITLE) == 1
    assert f"<h1>{NEW_TITLE}</h1>" in new["inz/articles/crash-test-notice/index.html"].decode()


def test_a_sync_killed_while_publishing_only_a_new_alert_is_cleaned_up_by_the_next(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = make_config(site, tmp_path, source={"retries": 0, "backoff": 0})
    output, state = tmp_path / "output", tmp_path / "state"
    assert run_cli("sync", "--config", str(config), timeout=60).returncode == 0
    # No article changes: only the home page's urgent notice, so only the alert feeds are written.
    page = re.sub(
        r'(<h3 class="site-banner__title">).*?(</h3>)', r"\1Offices closed on Waitangi Day\2", home_page().decode()
    )
    site.set("/", Route(body=page.encode(), headers={"Content-Type": HTML}))

    victim = start_sync(config, "publish")
    try:
        wait_for_pause(victim, "publish")
    finally:
        victim.kill()
        victim.wait(timeout=10)

    assert any(is_temporary(relative) for relative in files_under(output))  # killed with copies on disk
    assert (state / IN_PROGRESS_FILE).exists()  # which the next run is told to clean up
    recovered = run_cli("sync", "--config", str(config), "--wait", "0", timeout=60)

    assert recovered.returncode == 0, recovered.stderr
    new = files_under(output)
    assert not [relative for relative in new if is_temporary(relative)]
    assert b"Offices closed on Waitangi Day" in new["inz/alerts.xml"]
    assert not (state / IN_PROGRESS_FILE).exists()
