"""What a sync records and reports about itself: health.json and `run.py status` (what a monitoring check
calls), `sync --dry-run` (writes nothing) and the run's wall-clock budget."""

from __future__ import annotations

import hashlib
import json
import socket
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.config import load_config
from pipeline.daemon.health import Attempt, assess, record_attempts
from pipeline.daemon.periods import expected_period
from pipeline.daemon.schedule import Daemon, build_trigger, crontab_weekdays
from pipeline.daemon.status import render_table
from pipeline.errors import PanuiError
from pipeline.model import Schedule
from pipeline.reports import Problem
from pipeline.store import STORE_FILE, Store
from tests.fixture_site import (
    ARTICLE_CAPTURES,
    ARTICLE_PATHS,
    DEFAULT_SITEMAP_PATHS,
    LASTMOD,
    SITEMAP_URLSET_PATH,
    XML,
    FixtureSite,
    Route,
    article_path,
    derive_article,
    sitemap_urlset,
)
from tests.helpers import REPO_ROOT, MakeConfig, run_cli, stored_value
from tests.test_config import minimal_data, write

T0 = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)  # far from a daylight-saving change in New Zealand


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def with_failing_source(config: Path) -> Path:
    """Add a second source, `down`, on a port where nothing listens."""
    data = yaml.safe_load(config.read_text("utf-8"))
    base_url = f"http://127.0.0.1:{closed_port()}/"
    down = dict(data["sources"][0], id="down", name="Down", base_url=base_url, retries=0, backoff=0)
    data["sources"].append(down)
    config.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return config


def status(config: Path, *args: str) -> Any:
    return run_cli("status", "--config", str(config), *args, timeout=60)


def files_digest(folder: Path) -> dict[str, str]:
    if not folder.exists():
        return {}
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest() + f"@{path.stat().st_mtime_ns}"
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


# -- status and health.json -------------------------------------------------------------------------


def test_status_before_any_run_exits_2_with_a_hint(site: FixtureSite, tmp_path: Path, make_config: MakeConfig) -> None:
    result = status(make_config(site, tmp_path))
    assert result.returncode == 2
    assert "no health recorded yet" in result.stderr
    assert "hint: run `python run.py sync`" in result.stderr
    assert not (tmp_path / "state").exists()


def test_a_damaged_health_record_is_reported_as_damaged_and_written_afresh_by_the_next_sync(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = make_config(site, tmp_path)
    assert run_cli("sync", "--config", str(config), timeout=60).returncode == 0
    (tmp_path / "state" / "health.json").write_text("{bad", "utf-8")

    damaged = status(config)

    assert damaged.returncode == 2
    assert "health.json cannot be read: it is not the health record" in damaged.stderr
    assert "no health recorded yet" not in damaged.stderr
    assert run_cli("sync", "--config", str(config), timeout=60).returncode == 0
    assert status(config).returncode == 0


def test_options_written_before_the_command_are_the_commands_own(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = make_config(site, tmp_path)
    assert run_cli("sync", "--config", str(config), timeout=60).returncode == 0

    first = run_cli("--config", str(config), "-v", "status", "--json", timeout=60)

    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["sources"].keys() == {"inz"}  # this config's health, read as `status` reads it
    named_status = run_cli("--config", "status", "sync", timeout=60, cwd=tmp_path)  # a file named like a command
    assert named_status.returncode == 2 and "status: 1 problem in the configuration" in named_status.stderr
    alone = run_cli("--config", str(config), timeout=60)
    assert alone.returncode == 2 and "no command given after --config" in alone.stderr


def test_status_whose_reader_has_gone_ends_quietly(site: FixtureSite, tmp_path: Path, make_config: MakeConfig) -> None:
    config = make_config(site, tmp_path)
    assert run_cli("sync", "--config", str(config), timeout=60).returncode == 0
    command = [sys.executable, str(REPO_ROOT / "run.py"), "status", "--config", str(config)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None
    child.stdout.close()  # as `status | head -0` would, before a line is written

    _, errors = child.communicate(timeout=60)

    assert (child.returncode, errors) == (141, "")
    # Its error too, when both of its streams' readers have gone (a monitoring check never exits 1 for it).
    command[-1] = str(tmp_path / "nowhere.yaml")
    both = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert both.stdout is not None and both.stderr is not None
    both.stdout.close()
    both.stderr.close()
    assert both.wait(timeout=60) == 141


def test_every_sync_records_health_that_status_reports(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = make_config(site, tmp_path)
    assert run_cli("sync", "--config", str(config), timeout=60).returncode == 0

    table = status(config)
    assert table.returncode == 0, table.stdout + table.stderr
    assert "by sync" in table.stdout
    assert table.stdout.splitlines()[1].split()[:2] == ["SOURCE", "STATE"]
    assert table.stdout.splitlines()[2].split()[:2] == ["inz", "ok"]
    assert "all sources healthy" in table.stdout

    data = json.loads(status(config, "--json").stdout)
    inz = data["sources"]["inz"]
    assert data["healthy"] is True
    assert inz["healthy"] is True and inz["last_outcome"] == "ok"
    assert inz["last_success"] == inz["last_finished"]
    assert inz["last_run"]["new"] == len(ARTICLE_PATHS)
    assert inz["totals"] == {"runs": 1, "failures": 0, "new": len(ARTICLE_PATHS), "updated": 0}
    assert inz["interval_seconds"] == 900.0  # the default schedule: every 15 minutes

    assert run_cli("sync", "--config", str(config), timeout=60).returncode == 0
    again = json.loads(status(config, "--json").stdout)["sources"]["inz"]
    assert again["totals"]["runs"] == 2 and again["last_run"]["new"] == 0
    assert not (tmp_path / "output" / "health.json").exists()  # the public copy is opt-in


def test_a_failing_source_makes_status_fail_and_says_why(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = with_failing_source(make_config(site, tmp_path, health={"public": True}))
    assert run_cli("sync", "--config", str(config), timeout=60).returncode == 1

    result = status(config)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[2].split()[:2] == ["inz", "ok"]
    assert lines[3].split()[:2] == ["down", "FAILED"]
    assert "down: last attempt failed: cannot reach 127.0.0.1" in result.stdout
    assert "UNHEALTHY: down" in result.stdout

    internal = json.loads((tmp_path / "state" / "health.json").read_text("utf-8"))
    down = internal["sources"]["down"]
    assert down["last_outcome"] == "failed" and down["consecutive_failures"] == 1
    assert "connection refused" in down["last_error"]["message"]
    assert down.get("last_success") is None

    public = json.loads((tmp_path / "output" / "health.json").read_text("utf-8"))
    assert public["healthy"] is False
    assert public["sources"]["down"] == {
        "name": "Down",
        "state": "failed",
        "healthy": False,
        "last_attempt": down["last_attempt"],
        "last_success": None,
    }
    public_text = json.dumps(public)
    for internal_detail in ("connection refused", "127.0.0.1", str(tmp_path), "pid", "last_error"):
        assert internal_detail not in public_text


def test_a_degraded_source_is_unhealthy_and_status_names_what_broke(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    broken = "section.newsannouncementsblock ul.no-such-list > li > a"  # as after a redesign of the site
    config = make_config(site, tmp_path, source={"discovery": {"listings": [{"path": "/", "links": broken}]}})
    assert run_cli("sync", "--config", str(config), timeout=60).returncode == 1

    result = status(config)

    assert result.returncode == 1
    assert result.stdout.splitlines()[2].split()[:2] == ["inz", "DEGRADED"]
    assert f"inz: degraded: discovery listing selector {broken!r} matched no article link" in result.stdout
    inz = json.loads(status(config, "--json").stdout)["sources"]["inz"]
    assert inz["last_outcome"] == "degraded" and inz["last_success"]  # the sitemap still delivered articles


def test_a_held_back_article_is_listed_with_its_url_and_reason_until_it_is_published(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = make_config(site, tmp_path, source={"retries": 0, "backoff": 0})
    path = article_path("visa-fees-change")
    url = site.base_url.rstrip("/") + path

    def serve(published: str, lastmod: str) -> None:
        body = "<p>Visa fees change on 1 December for most visa types.</p>"
        page = derive_article(
            ARTICLE_CAPTURES[0], slug="visa-fees-change", title="Visa fees change", published=published, body_html=body
        )
        site.set_article(path, page)
        paths = [*DEFAULT_SITEMAP_PATHS, path]
        listed = sitemap_urlset(site.base_url, [(item, LASTMOD.get(item, lastmod)) for item in paths])
        site.set(SITEMAP_URLSET_PATH, Route(body=listed, headers={"Content-Type": XML}))

    serve("01 December 2099", "2026-07-13")  # a typing error on the site: the year
    assert run_cli("sync", "--config", str(config), timeout=60).returncode == 1
    reason = "the published date 2099-12-01 is in the future"

    def assert_listed() -> None:
        table = status(config)
        assert table.returncode == 0, table.stdout  # one article's problem: the source is healthy
        assert f"inz: held back: {url}: {reason}" in table.stdout
        (held,) = json.loads(status(config, "--json").stdout)["sources"]["inz"]["held_back"]
        assert (held["url"], held["reason"]) == (url, reason)
        assert "run.py rebuild" in held["hint"] and held["since"] <= held["last_seen"]

    assert_listed()
    assert run_cli("sync", "--config", str(config), timeout=60).returncode == 0  # does not read it again
    assert_listed()  # still held back: listed until it is published

    later = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    serve("01 December 2026", later)  # corrected, and the sitemap says the page changed
    published = run_cli("sync", "--config", str(config), timeout=60)
    assert published.returncode == 0, published.stdout + published.stderr
    assert f"new: {url}" in published.stdout

    table = status(config)
    assert table.returncode == 0 and "held back" not in table.stdout
    assert json.loads(status(config, "--json").stdout)["sources"]["inz"]["held_back"] == []


def test_held_back_articles_are_kept_newest_first_and_bounded_in_health_and_in_the_table(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = load_config(make_config(site, tmp_path))
    held = tuple(Problem("inz", f"https://example.org/{n}/", "extract", f"held back: reason {n}") for n in range(130))
    health: dict[str, Any] = {}
    for index in range(0, 130, 10):  # 13 runs, each holding back 10 more
        attempt = Attempt("inz", T0 + timedelta(minutes=index), T0, "problems", held_back=held[index : index + 10])
        health = record_attempts(config, [attempt], {"inz": 900.0}, command="sync", now=T0 + timedelta(minutes=index))
    listed = health["sources"]["inz"]["held_back"]
    assert len(listed) == 100 and listed[0]["url"] == "https://example.org/129/"  # the oldest 30 dropped
    (status_now,) = assess(config, health, {"inz": 900.0}, T0 + timedelta(hours=3))
    table = render_table([status_now], T0 + timedelta(hours=3))
    assert table.count("inz: held back: ") == 10
    assert "inz: and 90 more held back (`status --json` lists all)" in table


def test_a_source_without_a_recent_success_is_stale(site: FixtureSite, tmp_path: Path, make_config: MakeConfig) -> None:
    config = load_config(make_config(site, tmp_path, source={"schedule": {"interval": "10m"}}))
    periods = {"inz": 600.0}
    attempt = Attempt("inz", T0, T0 + timedelta(seconds=20), "ok", {"new": 1})
    health = record_attempts(config, [attempt], periods, command="sync", now=T0 + timedelta(seconds=20))

    (fresh,) = assess(config, health, periods, T0 + timedelta(minutes=25))
    (stale,) = assess(config, health, periods, T0 + timedelta(minutes=31))

    assert fresh.healthy and fresh.state == "ok"
    assert not stale.healthy and stale.state == "stale"
    assert "no success for 30m" in stale.reason and "3 × the interval" in stale.reason


def test_a_source_never_run_is_pending_until_overdue(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = load_config(with_failing_source(make_config(site, tmp_path)))
    periods = {"inz": 900.0, "down": 900.0}
    health = record_attempts(config, [Attempt("inz", T0, T0, "ok")], periods, command="sync", now=T0)

    soon = {status.source_id: status for status in assess(config, health, periods, T0 + timedelta(minutes=30))}
    later = {status.source_id: status for status in assess(config, health, periods, T0 + timedelta(hours=1))}

    assert soon["down"].state == "pending" and soon["down"].healthy
    assert later["down"].state == "pending" and not later["down"].healthy
    assert "never run" in later["down"].reason


def test_cron_schedules_use_crontab_weekdays_and_their_longest_gap() -> None:
    assert crontab_weekdays("1-5") == "mon,tue,wed,thu,fri"
    assert crontab_weekdays("0,7") == "sun"
    assert crontab_weekdays("*/2") == "sun,tue,thu,sat"
    assert crontab_weekdays("mon-fri") == "mon-fri"
    for wrong in ("8", "1-9", "5-1", "*/0", "1,,2"):  # (8 is no Monday, as 8 % 7 would have it)
        with pytest.raises(ValueError, match="days are 0-7"):
            crontab_weekdays(wrong)
    monday_nine = Schedule(interval_seconds=None, cron="0 9 * * 1", jitter_seconds=0)
    first = build_trigger(monday_nine).get_next_fire_time(None, T0)  # T0 is a Monday, noon in Auckland
    assert (first.strftime("%A %H:%M"), str(first.tzinfo)) == ("Monday 09:00", "Pacific/Auckland")
    assert first > T0

    every_two_hours = Schedule(interval_seconds=None, cron="0 */2 * * *", jitter_seconds=60)
    weekdays = Schedule(interval_seconds=None, cron="30 8 * * 1-5", jitter_seconds=0)
    assert expected_period(every_two_hours, T0) == 2 * 3600
    assert expected_period(weekdays, T0) == 3 * 86400  # Friday to Monday
    assert expected_period(Schedule(interval_seconds=90.0, cron=None, jitter_seconds=0)) == 90.0


# -- sync --dry-run ---------------------------------------------------------------------------------


def test_dry_run_on_a_fresh_install_writes_nothing(site: FixtureSite, tmp_path: Path, make_config: MakeConfig) -> None:
    config = make_config(site, tmp_path)

    result = run_cli("sync", "--dry-run", "--config", str(config), timeout=60)

    assert result.returncode == 0, result.stderr
    assert "dry run: nothing was stored or written" in result.stdout
    for path in ARTICLE_PATHS:
        assert f"would fetch {site.base_url.rstrip('/')}{path}" in result.stdout
    assert "would publish: 0 files" in result.stdout
    assert sorted(path.name for path in tmp_path.iterdir()) == ["sources.yaml"]  # no state_dir, no output
    assert not any(path in site.paths_requested() for path in ARTICLE_PATHS)  # discovery only


def test_dry_run_stops_as_the_sync_would_on_an_output_dir_it_cannot_write(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    (tmp_path / "a-file").write_text("not a folder", "utf-8")
    config = make_config(site, tmp_path, output_dir=str(tmp_path / "a-file"))

    result = run_cli("sync", "--dry-run", "--config", str(config), timeout=60)

    assert result.returncode == 2
    assert "output_dir" in result.stderr and "is not a folder Pānui can write" in result.stderr
    assert site.paths_requested() == []  # stopped before asking the site anything


def test_dry_run_after_a_sync_lists_only_the_new_article_and_changes_nothing(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = make_config(site, tmp_path, source={"discovery": {"listings": []}})  # the sitemap alone
    assert run_cli("sync", "--config", str(config), timeout=60).returncode == 0
    path = article_path("dry-run-news")
    page = derive_article(
        "article-improvements-to-the-pathway-student-visa.html",
        slug="dry-run-news",
        title="Dry run news",
        published="14 July 2026",
        body_html="<p>New.</p>",
    )
    site.set_article(path, page)
    site.set_sitemap_paths([*ARTICLE_PATHS, path])
    state_before, output_before = files_digest(tmp_path / "state"), files_digest(tmp_path / "output")

    result = run_cli("sync", "--dry-run", "--json", "--config", str(config), timeout=60)

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["dry_run"] is True
    assert report["sources"][0]["notes"] == [f"would fetch {site.base_url.rstrip('/')}{path}"]
    assert report["files_written"] == 0  # the store's articles are all published already
    assert files_digest(tmp_path / "state") == state_before
    assert files_digest(tmp_path / "output") == output_before
    with Store(tmp_path / "state") as store:
        assert stored_value(store, "SELECT count(*) FROM runs") == 1


def test_dry_run_of_a_release_that_would_upgrade_the_store_previews_a_copy(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    """An operator previews a new release while the old daemon still runs: the store must stay at the
    old schema, or that daemon would refuse it as "from a newer Pānui"."""
    config = make_config(site, tmp_path)
    assert run_cli("sync", "--config", str(config), timeout=60).returncode == 0
    store = tmp_path / "state" / STORE_FILE
    with closing(sqlite3.connect(store)) as db, db:  # as the release before migration 11 left it
        db.execute("DROP INDEX revisions_by_raw_page")
        db.execute("DROP INDEX http_cache_by_raw_page")
        db.execute("DELETE FROM schema_migrations WHERE version = 11")
    before = files_digest(tmp_path / "state")

    result = run_cli("sync", "--dry-run", "--json", "--config", str(config), timeout=60)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["sources"][0]["problems"] == []
    assert files_digest(tmp_path / "state") == before


# -- the run's wall-clock budget --------------------------------------------------------------------


def test_a_spent_run_budget_stops_fetching_and_is_reported(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = make_config(site, tmp_path, run_budget="0.001s")  # spent during discovery

    result = run_cli("sync", "--config", str(config), timeout=60)

    assert result.returncode == 1
    assert "run_budget" in result.stderr and "is spent" in result.stderr
    assert not any(path in site.paths_requested() for path in ARTICLE_PATHS)
    inz = json.loads((tmp_path / "state" / "health.json").read_text("utf-8"))["sources"]["inz"]
    assert inz["last_error"]["stage"] == "budget"


def test_new_config_keys_are_validated(site: FixtureSite, tmp_path: Path, make_config: MakeConfig) -> None:
    config = make_config(site, tmp_path, run_budget="soon", health={"stale_after": 0, "publik": True})

    result = run_cli("sync", "--config", str(config), timeout=60)

    assert result.returncode == 2
    assert "run_budget: cannot read 'soon' as a duration" in result.stderr
    assert "health.stale_after: must be more than 0" in result.stderr
    assert "health.publik: unknown key (hint: did you mean 'public'?)" in result.stderr


def test_the_daemon_names_the_source_whose_cron_it_cannot_read(tmp_path: Path) -> None:
    data = minimal_data()
    first = data["sources"][0]
    data["sources"] = [
        {**first, "id": "off", "enabled": False},
        {**first, "id": "on", "schedule": {"cron": "61 * * * *"}},  # five fields: the config reads it
    ]
    with pytest.raises(PanuiError) as caught:
        Daemon(load_config(write(tmp_path, data))).run()

    assert "source on: schedule.cron '61 * * * *'" in caught.value.message
