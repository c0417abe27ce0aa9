"""One lock per store: two runs never work on one store at once, the second is told who holds it, and a
run that crashed (even by SIGKILL) never blocks the next one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import pipeline.store.lock
from pipeline.errors import LockError
from pipeline.store.lock import StoreLock
from tests.fixture_site import ARTICLE_PATHS, FixtureSite, Route
from tests.helpers import REPO_ROOT, MakeConfig, run_cli

pytestmark = pytest.mark.e2e  # runs concurrent run.py processes

HOLDER = """
import sys, time
from pathlib import Path
from pipeline.store.lock import StoreLock
StoreLock(Path(sys.argv[1])).acquire()
print("locked", flush=True)
time.sleep(120)
"""

# A holder caught in the instant between taking the lock and writing its name into the file (or between
# emptying the file and letting go of the lock).
UNNAMED_HOLDER = """
import fcntl, os, sys, time
from pathlib import Path
handle = os.open(Path(sys.argv[1]) / "panui.lock", os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
print("locked", flush=True)
time.sleep(120)
"""


@contextmanager
def lock_holder(state_dir: Path, script: str = HOLDER) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the store's lock until the block ends (or the test kills it)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(state_dir)], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        yield holder
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_a_second_run_is_refused_naming_the_holder(tmp_path: Path) -> None:
    with lock_holder(tmp_path) as holder, pytest.raises(LockError) as refused:
        StoreLock(tmp_path, wait=0).acquire()
    assert f"pid {holder.pid}" in refused.value.message
    assert "crashed run releases the lock" in refused.value.hint


def test_a_run_refused_just_as_the_holder_starts_still_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_sleep = time.sleep

    def holder_names_itself_meanwhile(seconds: float) -> None:
        (tmp_path / "panui.lock").write_text(f"pid {holder.pid} (sync)\n")
        real_sleep(min(seconds, 0.01))

    with lock_holder(tmp_path, UNNAMED_HOLDER) as holder:
        monkeypatch.setattr(
            pipeline.store.lock, "time", SimpleNamespace(monotonic=time.monotonic, sleep=holder_names_itself_meanwhile)
        )
        with pytest.raises(LockError) as refused:
            StoreLock(tmp_path, wait=0).acquire()
    assert f"pid {holder.pid} (sync)" in refused.value.message


def test_a_run_refused_just_as_the_holder_ends_takes_the_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_sleep = time.sleep

    def holder_ends_meanwhile(seconds: float) -> None:
        holder.kill()
        holder.wait(timeout=10)
        real_sleep(min(seconds, 0.01))

    with lock_holder(tmp_path, UNNAMED_HOLDER) as holder:
        monkeypatch.setattr(
            pipeline.store.lock, "time", SimpleNamespace(monotonic=time.monotonic, sleep=holder_ends_meanwhile)
        )
        lock = StoreLock(tmp_path, wait=0)
        lock.acquire()  # not refused: the store was free by then
    assert f"pid {os.getpid()}" in (tmp_path / "panui.lock").read_text()
    lock.release()


def test_a_waiting_run_gives_up_after_its_wait(tmp_path: Path) -> None:
    with lock_holder(tmp_path) as holder, pytest.raises(LockError) as refused:
        StoreLock(tmp_path, wait=0.5).acquire()
    assert f"pid {holder.pid}" in refused.value.message


def test_a_waiting_run_starts_when_the_holder_ends(tmp_path: Path) -> None:
    waiting = StoreLock(tmp_path, wait=60)
    errors: list[BaseException] = []

    def acquire() -> None:
        try:
            waiting.acquire()
        except BaseException as error:
            errors.append(error)

    with lock_holder(tmp_path) as holder:
        thread = threading.Thread(target=acquire)
        thread.start()
        holder.terminate()
        thread.join(timeout=60)
    assert not errors
    waiting.release()


def test_a_killed_holder_never_blocks_the_next_run(tmp_path: Path) -> None:
    with lock_holder(tmp_path) as holder:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        with StoreLock(tmp_path, wait=0) as lock:  # at once: the kernel released the flock
            assert lock.path.read_text().startswith("pid ")
    assert StoreLock(tmp_path).path.read_text() == ""  # a released lock names nobody


def test_sync_exits_2_naming_the_holder(site: FixtureSite, tmp_path: Path, make_config: MakeConfig) -> None:
    config = make_config(site, tmp_path)
    with lock_holder(tmp_path / "state") as holder:
        result = run_cli("sync", "--config", str(config), "--wait", "0", timeout=60)
    assert result.returncode == 2
    assert f"in use by pid {holder.pid}" in result.stderr
    assert "hint:" in result.stderr
    assert site.paths_requested() == []  # refused before it touched the site


@pytest.mark.parametrize(("command", "wait"), [("sync", "nan"), ("sync", "inf"), ("sync", "-1"), ("rebuild", "1e9")])
def test_a_wait_that_is_not_a_bounded_number_of_seconds_is_refused_at_once(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig, command: str, wait: str
) -> None:
    """`--wait nan` would wait for ever for a held lock (no time is ever past NaN)."""
    config = make_config(site, tmp_path)
    with lock_holder(tmp_path / "state"):
        result = run_cli(command, "--config", str(config), "--wait", wait, timeout=60)
    assert result.returncode == 2
    assert f"argument --wait: must be a number of seconds from 0 to 86400, not '{wait}'" in result.stderr
    assert site.paths_requested() == []


def test_a_sync_killed_mid_run_leaves_a_store_the_next_sync_uses(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = make_config(site, tmp_path, source={"retries": 0, "backoff": 0})
    slow = site.route(ARTICLE_PATHS[1])
    assert slow is not None
    site.set(ARTICLE_PATHS[1], Route(status=slow.status, body=slow.body, headers=slow.headers, delay=30))
    victim = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "run.py"), "sync", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_request(site, ARTICLE_PATHS[1], victim)  # the run is mid-way: some articles are stored
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
    finally:
        victim.kill()
        victim.wait(timeout=10)
    site.set(ARTICLE_PATHS[1], slow)

    result = run_cli("sync", "--config", str(config), "--wait", "0", timeout=60)

    assert result.returncode == 0, result.stderr
    assert "problems" not in result.stderr
    feed = (tmp_path / "output" / "feed.xml").read_text("utf-8")
    assert feed.count("<item>") == len(ARTICLE_PATHS)


def test_a_terminated_sync_unwinds_cleanly(site: FixtureSite, tmp_path: Path, make_config: MakeConfig) -> None:
    config = make_config(site, tmp_path, source={"retries": 0, "backoff": 0})
    assert run_cli("sync", "--config", str(config), timeout=60).returncode == 0
    slow = site.route("/")
    assert slow is not None
    site.set("/", Route(status=slow.status, body=slow.body, headers=slow.headers, delay=30))
    site.clear_requests()
    victim = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "run.py"), "sync", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for_request(site, "/", victim)
        victim.send_signal(signal.SIGTERM)
        _, stderr = victim.communicate(timeout=15)
    finally:
        victim.kill()
        victim.wait(timeout=10)

    assert victim.returncode == 130
    assert "interrupted" in stderr
    assert "Traceback" not in stderr
    assert StoreLock(tmp_path / "state").path.read_text() == ""  # released on the way out
    assert not [path for path in (tmp_path / "output").rglob(".*") if path.is_file()]  # no temporary files


def _wait_for_request(site: FixtureSite, path: str, process: subprocess.Popen[Any]) -> None:
    """Until the site has seen a request for `path` (the process is then blocked on that answer)."""
    for _ in range(600):
        if path in site.paths_requested():
            return
        assert process.poll() is None, "the sync ended before requesting " + path
        threading.Event().wait(0.05)
    raise AssertionError(f"no request for {path}")
