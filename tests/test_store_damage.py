"""A damaged store is refused, never written over; folders a run cannot write stop it before it starts.

End to end through `run.py` against the fixture site: after one good sync, the store is emptied, cut,
overwritten in the middle or replaced, and every command that opens it exits 2 with a hint on how to
restore it, leaving state_dir and output_dir byte for byte as they were (no -wal, -shm or lock written)
and asking the site for nothing. So too when the last run sealed the store (pipeline/store/seal.py: a
store as a clean run left it is not read whole again), whatever changed it since, and when damage the
file's times do not show is a day old."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.store import STORE_FILE
from pipeline.store.schema import MIGRATIONS
from pipeline.store.seal import SEAL_FILE, _boot, identity, sealed_since
from tests.fixture_site import ARTICLE_PATHS, FixtureSite
from tests.helpers import REPO_ROOT, run_cli, write_config

pytestmark = pytest.mark.e2e  # runs run.py and the daemon on damaged stores

Snapshot = dict[str, tuple[bytes, int]]
GARBAGE = bytes(range(256)) * 16


@dataclass
class Synced:
    """A fixture site and the state_dir and output_dir of one good sync against it."""

    site: FixtureSite
    folder: Path

    def copy_to(self, tmp_path: Path) -> Path:
        """The synced folders copied into tmp_path, and a config that uses them."""
        for name in ("state", "output"):
            shutil.copytree(self.folder / name, tmp_path / name)
        self.site.clear_requests()
        return write_config(self.site, tmp_path)


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    site = FixtureSite(max_lifetime=300).start()
    try:
        folder = tmp_path_factory.mktemp("synced")
        result = run_cli("sync", "--config", str(write_config(site, folder)), timeout=120)
        assert result.returncode == 0, result.stderr
        yield Synced(site, folder)
    finally:
        site.stop()


def snapshot(folder: Path) -> Snapshot:
    return {
        str(path.relative_to(folder)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def overwrite_a_page(store: Path) -> None:
    """The page at the root of the articles table, overwritten with bytes that are no b-tree page."""
    with sqlite3.connect(store) as db:
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'articles'").fetchone()[0]
    db.close()
    with store.open("r+b") as stream:
        stream.seek((root - 1) * page_size)
        stream.write(GARBAGE[:page_size])


DAMAGE: dict[str, Callable[[Path], object]] = {
    "emptied": lambda store: store.write_bytes(b""),
    "cut in half": lambda store: store.write_bytes(store.read_bytes()[: store.stat().st_size // 2]),
    "a page overwritten": overwrite_a_page,
    "not SQLite": lambda store: store.write_bytes(b"<!doctype html><p>a web page saved over the store</p>\n"),
}


def assert_refused_untouched(synced: Synced, tmp_path: Path, config: Path) -> None:
    """Every command that opens the store refuses it, writing nothing and asking the site for nothing."""
    store = tmp_path / "state" / STORE_FILE
    state, output = snapshot(tmp_path / "state"), snapshot(tmp_path / "output")

    for command in (["sync"], ["rebuild"], ["sync", "--dry-run"], ["status"]):
        result = run_cli(*command, "--config", str(config), timeout=60)
        assert result.returncode == 2, (command, result.stderr)
        assert "Traceback" not in result.stderr
        assert f"error: the store {store} is damaged" in result.stderr, command
        assert "Nothing was written to it" in result.stderr
        assert "hint: restore panui.sqlite3 from a backup" in result.stderr
        assert ".recover" in result.stderr
        assert f"move {store} aside" in result.stderr

    assert snapshot(tmp_path / "state") == state  # the store, its lock and health: not a byte, not a touch
    assert snapshot(tmp_path / "output") == output
    assert synced.site.paths_requested() == []  # refused before the site was asked for anything


def seal_here(synced: Synced, tmp_path: Path, config: Path) -> None:
    """A sync in the copied folders: it ends cleanly, so it seals the store where it now is."""
    result = run_cli("sync", "--config", str(config), timeout=60)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "state" / SEAL_FILE).is_file()
    synced.site.clear_requests()


@pytest.mark.parametrize("sealed", [False, True], ids=["copied", "sealed in place"])
@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_store_is_refused_and_left_as_it_was(
    synced: Synced, tmp_path: Path, damage: str, sealed: bool
) -> None:
    config = synced.copy_to(tmp_path)
    if sealed:  # the store as the last run left it, then damaged where it is
        seal_here(synced, tmp_path, config)
    DAMAGE[damage](tmp_path / "state" / STORE_FILE)

    assert_refused_untouched(synced, tmp_path, config)


def test_damage_the_files_times_do_not_show_is_refused_within_a_day(synced: Synced, tmp_path: Path) -> None:
    """A disk's own decay changes bytes and leaves the file's times alone: forged here by sealing the
    damaged file as it is. The deep check a day after the last one still finds it."""
    config = synced.copy_to(tmp_path)
    seal_here(synced, tmp_path, config)
    store, seal_path = tmp_path / "state" / STORE_FILE, tmp_path / "state" / SEAL_FILE
    overwrite_a_page(store)
    record = json.loads(seal_path.read_text())
    record["file"] = identity(store)
    record["checked_at"] = (datetime.now(UTC) - timedelta(hours=24, minutes=1)).isoformat()
    seal_path.write_text(json.dumps(record))

    assert_refused_untouched(synced, tmp_path, config)


def test_an_emptied_store_is_not_taken_for_a_fresh_install(synced: Synced, tmp_path: Path) -> None:
    config = synced.copy_to(tmp_path)
    (tmp_path / "state" / STORE_FILE).write_bytes(b"")
    result = run_cli("sync", "--config", str(config), timeout=60)
    assert result.returncode == 2
    assert "empty (0 bytes)" in result.stderr
    assert "not taken for a new store" in result.stderr
    (tmp_path / "state" / STORE_FILE).unlink()  # only a missing store is a fresh install
    assert run_cli("sync", "--config", str(config), timeout=60).returncode == 0


def test_a_store_from_a_newer_panui_is_refused_untouched(synced: Synced, tmp_path: Path) -> None:
    config = synced.copy_to(tmp_path)
    with sqlite3.connect(tmp_path / "state" / STORE_FILE) as db:
        db.execute("INSERT INTO schema_migrations VALUES (?, '2030-01-01T00:00:00+00:00')", (len(MIGRATIONS) + 1,))
    db.close()
    state = snapshot(tmp_path / "state")
    result = run_cli("sync", "--config", str(config), timeout=60)
    assert result.returncode == 2
    assert f"newer Pānui (schema {len(MIGRATIONS) + 1}" in result.stderr
    assert "hint: upgrade Pānui" in result.stderr
    assert snapshot(tmp_path / "state") == state


def test_a_state_dir_under_a_file_is_named(synced: Synced, tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file where a folder should be")
    config = write_config(synced.site, tmp_path, state_dir=str(tmp_path / "blocker" / "state"))
    synced.site.clear_requests()
    result = run_cli("sync", "--config", str(config), timeout=60)
    assert result.returncode == 2
    assert f"error: state_dir {tmp_path / 'blocker' / 'state'} is not a folder Pānui can write" in result.stderr
    assert "hint:" in result.stderr
    assert synced.site.paths_requested() == []


def without_write_permission(command: list[str]) -> list[str]:
    """`command` run so that folder permissions bind it. Root ignores them (CAP_DAC_OVERRIDE): there,
    setpriv drops that capability for the one process, so a 0o555 folder is as read-only as for anyone."""
    if os.geteuid() != 0:
        return command
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root, and setpriv (util-linux) is missing to drop CAP_DAC_OVERRIDE")
    return [setpriv, "--inh-caps=-dac_override", "--bounding-set=-dac_override", *command]


@pytest.mark.parametrize(("key", "folder"), [("state_dir", "state"), ("output_dir", "output")])
def test_a_read_only_folder_stops_the_run_naming_it(synced: Synced, tmp_path: Path, key: str, folder: str) -> None:
    config = synced.copy_to(tmp_path)
    read_only = tmp_path / folder
    state, output = snapshot(tmp_path / "state"), snapshot(tmp_path / "output")
    read_only.chmod(0o555)
    try:
        command = without_write_permission([sys.executable, str(REPO_ROOT / "run.py"), "sync", "--config", str(config)])
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    finally:
        read_only.chmod(0o755)
    assert result.returncode == 2, result.stderr
    assert f"error: {key} {read_only} is not a folder Pānui can write: Permission denied" in result.stderr
    assert f"hint: make {read_only} writable" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(tmp_path / "state") == state
    assert snapshot(tmp_path / "output") == output
    assert synced.site.paths_requested() == []


def test_a_daemon_on_a_read_only_state_dir_stops_naming_it(synced: Synced, tmp_path: Path) -> None:
    config = synced.copy_to(tmp_path)
    (tmp_path / "state").chmod(0o555)
    try:
        command = without_write_permission(
            [sys.executable, str(REPO_ROOT / "run.py"), "daemon", "--config", str(config)]
        )
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    finally:
        (tmp_path / "state").chmod(0o755)
    assert result.returncode == 2, result.stderr
    assert f"error: state_dir {tmp_path / 'state'} is not a folder Pānui can write" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_damaged_page_body_is_a_problem_for_that_page_alone(synced: Synced, tmp_path: Path) -> None:
    """Damage inside one stored value passes SQLite's checks (it keeps no checksum of content): rebuild
    names that page and keeps its article; sync fetches a cached copy it cannot read afresh; fetching
    the article again puts its stored copy back (the same bytes, by their digest)."""
    config = synced.copy_to(tmp_path)
    damaged_url = synced.site.base_url.rstrip("/") + ARTICLE_PATHS[0]
    with sqlite3.connect(tmp_path / "state" / STORE_FILE) as db:
        db.execute(
            "UPDATE raw_pages SET body = CAST(substr(body, 1, 8) || zeroblob(length(body) - 8) AS BLOB) "
            "WHERE id IN (SELECT raw_page_id FROM http_cache WHERE url IN (?, ?))",
            (damaged_url, synced.site.base_url),  # an article, and the home page sync reads when told 304
        )
        # What the home page's last read found is kept, so a 304 would not need its body: forget it, as
        # a store that never kept it, for the sync to need the damaged copy.
        db.execute("DELETE FROM discovery_reads")
    db.close()
    feed = (tmp_path / "output" / "feed.json").read_bytes()

    rebuilt = run_cli("rebuild", "--config", str(config), timeout=60)
    assert rebuilt.returncode == 1
    assert "Traceback" not in rebuilt.stderr
    assert f"store {damaged_url}: its stored copy is damaged" in rebuilt.stderr
    assert f"sync --url {damaged_url}" in rebuilt.stderr
    assert (tmp_path / "output" / "feed.json").read_bytes() == feed  # every article still published

    synced_again = run_cli("sync", "--config", str(config), timeout=60)
    assert synced_again.returncode == 0, synced_again.stderr
    assert synced.site.paths_requested().count("/") == 2  # conditional (304), then afresh for its body

    assert run_cli("sync", "--url", damaged_url, "--config", str(config), timeout=60).returncode == 0
    assert run_cli("rebuild", "--config", str(config), timeout=60).returncode == 0


def test_a_seal_with_a_time_of_no_zone_costs_only_the_seal(tmp_path: Path) -> None:
    """A seal hand-edited or written by another tool: the store is checked whole, no command fails."""
    store = tmp_path / STORE_FILE
    with sqlite3.connect(store) as db:
        db.execute("CREATE TABLE t (x)")
    db.close()
    record = {
        "file": identity(store),
        "boot": _boot(),
        "checked_at": datetime.now(UTC).replace(tzinfo=None).isoformat(),
    }
    (tmp_path / SEAL_FILE).write_text(json.dumps(record))

    assert sealed_since(store, datetime.now(UTC)) is None


# A value edited by hand (or by another tool) to one Pānui never writes: SQLite's checks pass it, so it
# is found where it is read back, and refused naming the table, column and row, never written over.
EDITS = {
    "topics of the wrong JSON type": ("revisions", "topics", "articles.id", '{"a": 1}', ["sync", "rebuild"]),
    "a date of no time zone": ("revisions", "published", "articles.id", "2026-07-09", ["sync", "rebuild"]),
    "headers that are not JSON": ("raw_pages", "headers", "http_cache.raw_page_id", "{not json", ["rebuild"]),
    # A folder of zones: ZoneInfo raises IsADirectoryError, which is no publication problem either.
    "a time zone that is a folder": ("articles", "timezone", "articles.url", "Pacific", ["sync", "rebuild"]),
}
ROW_OF = {  # the row of each table that belongs to the first article
    "articles.id": "article_id = (SELECT id FROM articles WHERE url = :url)",
    "http_cache.raw_page_id": "id = (SELECT raw_page_id FROM http_cache WHERE url = :url)",
    "articles.url": "url = :url",
}


@pytest.mark.parametrize("edit", EDITS)
def test_a_stored_value_panui_never_writes_is_refused_naming_it(synced: Synced, tmp_path: Path, edit: str) -> None:
    table, column, row, value, commands = EDITS[edit]
    config = synced.copy_to(tmp_path)
    url = synced.site.base_url.rstrip("/") + ARTICLE_PATHS[0]
    store = tmp_path / "state" / STORE_FILE
    select = f"SELECT {column} FROM {table} WHERE {ROW_OF[row]}"
    with sqlite3.connect(store) as db:
        good = db.execute(select, {"url": url}).fetchone()[0]
        db.execute(f"UPDATE {table} SET {column} = :value WHERE {ROW_OF[row]}", {"url": url, "value": value})
    db.close()
    output = snapshot(tmp_path / "output")

    for command in commands:
        result = run_cli(command, "--config", str(config), timeout=60)
        assert result.returncode == 2, (command, result.stderr)
        assert "Traceback" not in result.stderr
        assert f"error: the store holds a value Pānui did not write: {table}.{column} of {url} is " in result.stderr
        assert "Nothing was written to it" in result.stderr
        assert "hint: set that value back with sqlite3" in result.stderr
    with sqlite3.connect(store) as db:
        assert db.execute(select, {"url": url}).fetchone()[0] == value  # refused, not written over
        db.execute(f"UPDATE {table} SET {column} = :value WHERE {ROW_OF[row]}", {"url": url, "value": good})
    db.close()
    assert snapshot(tmp_path / "output") == output
    assert run_cli("rebuild", "--config", str(config), timeout=60).returncode == 0  # as the hint says
