"""Two `python run.py sync` started at the same moment on one store never corrupt anything: without
--wait one runs and the other is refused at once (exit 2, naming the run that holds the store); with
--wait the second runs after the first. Either way every output file is complete and the store sound.

(A daemon and a manual sync are tested together in test_daemon.py; the lock itself in test_lock.py.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.fixture_site import ARTICLE_PATHS, FixtureSite, Route
from tests.helpers import REPO_ROOT, MakeConfig
from tests.test_crash import assert_complete, assert_store_sound, files_under


def start_sync(config: Path, wait: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "run.py"), "sync", "--config", str(config), "--wait", str(wait)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_together(config: Path, wait: float) -> dict[int, tuple[int, str]]:
    """Start two syncs at once; pid -> (exit code, stderr) of each."""
    processes = [start_sync(config, wait), start_sync(config, wait)]
    outcomes: dict[int, tuple[int, str]] = {}
    try:
        for process in processes:
            _, stderr = process.communicate(timeout=90)
            outcomes[process.pid] = (process.returncode, stderr)
    finally:
        for process in processes:
            process.kill()
            process.wait(timeout=10)
    return outcomes


def assert_sound(tmp_path: Path, site: FixtureSite) -> None:
    output = tmp_path / "output"
    for relative, data in files_under(output).items():
        assert not relative.startswith(".") and "/." not in relative, relative  # no temporary file left
        assert_complete(relative, data)
    assert_store_sound(tmp_path / "state")
    items = json.loads((output / "feed.json").read_text("utf-8"))["items"]
    assert [item["id"] for item in items] == [site.base_url.rstrip("/") + path for path in ARTICLE_PATHS]


def slow_home_page(site: FixtureSite, delay: float) -> None:
    """Each run holds the store at least this long (it reads the home page first)."""
    home = site.route("/")
    assert home is not None
    site.set("/", Route(status=home.status, body=home.body, headers=home.headers, delay=delay))


def test_two_syncs_started_together_one_runs_and_the_other_is_refused_naming_it(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = make_config(site, tmp_path, source={"retries": 0, "backoff": 0})
    slow_home_page(site, 3.0)

    outcomes = run_together(config, wait=0)

    codes = sorted(code for code, _ in outcomes.values())
    assert codes == [0, 2], outcomes
    winner = next(pid for pid, (code, _) in outcomes.items() if code == 0)
    refused = next(stderr for code, stderr in outcomes.values() if code == 2)
    assert f"is in use by pid {winner}" in refused
    assert "hint:" in refused and "Traceback" not in refused
    assert site.paths_requested().count("/robots.txt") == 1  # the refused run never reached the site
    assert_sound(tmp_path, site)


def test_two_syncs_started_together_with_wait_both_run_one_after_the_other(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = make_config(site, tmp_path, source={"retries": 0, "backoff": 0})
    slow_home_page(site, 1.0)

    outcomes = run_together(config, wait=60)

    assert [code for code, _ in outcomes.values()] == [0, 0], outcomes
    assert site.paths_requested().count("/robots.txt") == 2  # each run, in turn
    assert_sound(tmp_path, site)
