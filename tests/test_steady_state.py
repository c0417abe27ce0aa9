"""The daemon's steady state: every 15 minutes a sync that finds nothing new. It must cost what it
uses, not what Pānui could do: no HTML, feed or page library loaded when no page is read and no file
rendered, and no stored sitemap read again when the site answers 304 (issue 20; the benchmark measures
the time, these tests the behaviour behind it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixture_site import FixtureSite
from tests.helpers import REPO_ROOT, run_cli, write_config

pytestmark = pytest.mark.e2e

# What only reading a new page (BeautifulSoup, soupsieve, trafilatura), rendering (feedgen, Jinja2) or
# the daemon (APScheduler) needs.
HEAVY = ("bs4", "soupsieve", "trafilatura", "feedgen", "jinja2", "apscheduler")
# A wrapper that runs run.py with its arguments, then writes the names of the modules it imported.
DUMP_MODULES = """
import atexit, runpy, sys
dump = sys.argv.pop(1)
atexit.register(lambda: open(dump, "w").write("\\n".join(sorted(sys.modules))))
sys.argv[0] = sys.argv.pop(1)
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def imported_by(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    dump = tmp_path / "modules.txt"
    result = subprocess.run(
        [sys.executable, "-c", DUMP_MODULES, str(dump), str(REPO_ROOT / "run.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result, {name.split(".")[0] for name in dump.read_text().split()}


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return [name for name in names if name in modules]


def test_a_sync_that_finds_nothing_new_loads_no_html_feed_page_or_scheduler_library(
    site: FixtureSite, tmp_path: Path
) -> None:
    config = write_config(site, tmp_path)
    first = run_cli("sync", "--config", str(config))
    assert first.returncode == 0, first.stderr

    result, modules = imported_by(tmp_path, "sync", "--config", str(config))

    assert result.returncode == 0, result.stderr
    assert "0 new, 0 updated" in result.stdout and "nothing changed" in result.stdout
    assert loaded(modules, HEAVY) == []
    assert "warcio" not in modules  # WARC capture is off


def test_a_new_selector_is_still_checked_after_a_sync_recorded_the_others(site: FixtureSite, tmp_path: Path) -> None:
    config = write_config(site, tmp_path)
    assert run_cli("sync", "--config", str(config)).returncode == 0
    broken = write_config(site, tmp_path, source={"extraction": {"title": "h1:unknown-pseudo"}})

    result = run_cli("sync", "--config", str(broken))

    assert result.returncode == 2
    assert "extraction.title" in result.stderr and "not a valid CSS selector" in result.stderr


def test_help_and_status_load_only_what_they_print(site: FixtureSite, tmp_path: Path) -> None:
    config = write_config(site, tmp_path)
    assert run_cli("sync", "--config", str(config)).returncode == 0

    shown, for_help = imported_by(tmp_path, "--help")
    status, for_status = imported_by(tmp_path, "status", "--config", str(config))

    assert shown.returncode == 0 and "sync" in shown.stdout
    assert status.returncode == 0, status.stderr
    for modules in (for_help, for_status):
        assert loaded(modules, (*HEAVY, "requests", "urllib3", "lxml", "nh3")) == []
    assert loaded(for_help, ("yaml", "sqlite3")) == []
