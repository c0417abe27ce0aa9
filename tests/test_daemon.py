"""`python run.py daemon` against the fixture site, as an operator runs it: it publishes new articles on
schedule, survives a failing source, never overlaps with a manual sync, reloads an edited config and
stops cleanly on SIGTERM. Plus its logging."""

from __future__ import annotations

import io
import json
import logging
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.logs import configure_logging, log_event
from tests.fixture_site import (
    ARTICLE_CAPTURES,
    ARTICLE_PATHS,
    BROKEN_PATH,
    FixtureSite,
    Route,
    article_path,
    derive_article,
)
from tests.helpers import REPO_ROOT, MakeConfig, run_cli

DEPLOY = REPO_ROOT / "deploy"
BODY = (
    "<h2>What is changing</h2><p>From 1 August the daemon publishes this announcement within two intervals "
    "of the site changing, with its attribution, in every feed and in the archive, while a source that "
    "fails is retried on its own schedule and never stops the others from being kept current.</p>"
)
WAIT_SECONDS = 30.0  # generous bounds on things that take a second or two; no test waits this long when it passes


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def daemon_config(
    make_config: MakeConfig, site: FixtureSite, tmp_path: Path, *, failing: bool = False, timeout: float = 5
) -> Path:
    """The fixture site on a one-second schedule; with `failing`, a second source where nothing listens."""
    source = {"schedule": {"interval": "1s", "jitter": 0}, "retries": 0, "timeout": timeout}
    config = make_config(site, tmp_path, source=source)
    if failing:
        data = yaml.safe_load(config.read_text("utf-8"))
        base_url = f"http://127.0.0.1:{closed_port()}/"
        data["sources"].append(dict(data["sources"][0], id="down", name="Down", base_url=base_url, backoff=0))
        config.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return config


@contextmanager
def running_daemon(config: Path, log: Path, *options: str) -> Iterator[subprocess.Popen[bytes]]:
    """`run.py daemon` in a subprocess, logging to `log`; killed on the way out if still running."""
    with log.open("wb") as sink:
        daemon = subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "run.py"), "daemon", "--config", str(config), *options],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        yield daemon
    finally:
        if daemon.poll() is None:
            daemon.kill()
        daemon.wait(timeout=WAIT_SECONDS)


def wait_for(condition: Callable[[], Any], what: str, daemon: subprocess.Popen[bytes] | None = None) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if daemon is not None and daemon.poll() is not None:
            raise AssertionError(f"the daemon exited ({daemon.returncode}) while waiting for {what}")
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def health(tmp_path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads((tmp_path / "state" / "health.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data


def runs_of(tmp_path: Path, source_id: str) -> int:
    return int(health(tmp_path).get("sources", {}).get(source_id, {}).get("totals", {}).get("runs", 0))


def last_error(tmp_path: Path) -> str:
    return str(health(tmp_path).get("sources", {}).get("inz", {}).get("last_error", {}).get("message", ""))


def stop(daemon: subprocess.Popen[bytes]) -> int:
    daemon.send_signal(signal.SIGTERM)
    return daemon.wait(timeout=WAIT_SECONDS)


def slow_down(site: FixtureSite, path: str, seconds: float) -> None:
    route = site.route(path)
    assert route is not None
    site.set(path, Route(status=route.status, body=route.body, headers=route.headers, delay=seconds))


# -- the daemon -------------------------------------------------------------------------------------


def test_daemon_publishes_new_articles_survives_a_failing_source_and_stops_on_sigterm(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = daemon_config(make_config, site, tmp_path, failing=True)
    feed = tmp_path / "output" / "feed.xml"
    with running_daemon(config, tmp_path / "daemon.log") as daemon:
        wait_for(lambda: runs_of(tmp_path, "inz") >= 1 and runs_of(tmp_path, "down") >= 1, "a first run", daemon)
        assert feed.read_text("utf-8").count("<item>") == len(ARTICLE_PATHS)

        slug, title = "daemon-news", "Daemon test announcement"
        page = derive_article(ARTICLE_CAPTURES[0], slug=slug, title=title, published="14 July 2026", body_html=BODY)
        site.set_article(article_path(slug), page)
        runs_before = runs_of(tmp_path, "inz")
        older = [(path, "Older news", "9 Jul 2026") for path in ARTICLE_PATHS[:2]]
        site.set_home_links([(article_path(slug), title, "14 Jul 2026"), *older])
        wait_for(lambda: title in feed.read_text("utf-8"), "the new article in feed.xml", daemon)
        # within two intervals: the run in progress when the site changed, plus at most two more
        assert runs_of(tmp_path, "inz") - runs_before <= 3

        wait_for(lambda: runs_of(tmp_path, "down") >= 3, "the failing source's later runs", daemon)
        assert daemon.poll() is None  # survived its failing source
        down = health(tmp_path)["sources"]["down"]
        assert down["last_outcome"] == "failed" and down["consecutive_failures"] >= 3
        assert health(tmp_path)["sources"]["inz"]["healthy"] is True

        assert stop(daemon) == 0
    log = (tmp_path / "daemon.log").read_text("utf-8")
    assert "event=daemon.started" in log and "event=daemon.stopped" in log
    assert re.search(r"event=run.problem source=down stage=fetch .*connection refused", log)
    assert "Traceback" not in log


def test_daemon_never_overlaps_a_manual_sync_and_sigterm_abandons_its_run(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = daemon_config(make_config, site, tmp_path, timeout=60)
    sync = ("sync", "--config", str(config), "--source", "inz", "--wait", "0")
    with running_daemon(config, tmp_path / "daemon.log") as daemon:
        wait_for(lambda: runs_of(tmp_path, "inz") >= 1, "a first run", daemon)
        slow_down(site, "/", 20.0)
        site.clear_requests()
        wait_for(lambda: "/" in site.paths_requested(), "a daemon run waiting on the site", daemon)

        refused = run_cli(*sync, timeout=WAIT_SECONDS)  # while that run holds the store

        assert refused.returncode == 2
        assert re.search(r"error: the store in .* is in use by pid \d+ \(.*sync\)", refused.stderr)
        assert site.paths_requested() == ["/robots.txt", "/"]  # only the daemon's run reached the site
        assert stop(daemon) == 0  # at once: the run in progress is abandoned
    slow_down(site, "/", 0)
    log = (tmp_path / "daemon.log").read_text("utf-8")
    assert "event=run.abandoned" in log
    assert not [path for path in (tmp_path / "output").rglob(".*") if path.is_file()]  # no temporary files left
    after = run_cli(*sync, timeout=WAIT_SECONDS)  # the lock is free, the store consistent
    assert after.returncode == 0, after.stderr


def test_daemon_reloads_an_edited_config_keeps_a_broken_one_out_and_runs_alone(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = make_config(site, tmp_path, source={"schedule": {"interval": "1h", "jitter": 0}, "retries": 0})
    log = tmp_path / "daemon.log"
    with running_daemon(config, log) as daemon:
        wait_for(lambda: runs_of(tmp_path, "inz") == 1, "the run at start-up", daemon)

        second = run_cli("daemon", "--config", str(config), timeout=WAIT_SECONDS)
        assert second.returncode == 2
        assert "another daemon already serves" in second.stderr

        config.write_text(config.read_text("utf-8").replace("interval: 1h", "interval: 1s"), "utf-8")
        wait_for(lambda: runs_of(tmp_path, "inz") >= 2, "a run on the edited schedule", daemon)
        assert "event=config.reloaded" in log.read_text("utf-8")

        good = config.read_text("utf-8")
        config.write_text(good.replace("sources:", "sourcez:"), "utf-8")
        daemon.send_signal(signal.SIGHUP)
        wait_for(lambda: "event=config.invalid" in log.read_text("utf-8"), "the broken config reported", daemon)
        # the schedule stays; the runs it starts cannot load the config, and health says so
        wait_for(lambda: "in the configuration" in last_error(tmp_path), "a run failing on the config", daemon)
        assert health(tmp_path)["sources"]["inz"]["last_outcome"] == "failed"
        assert "sourcez: unknown key" in last_error(tmp_path)

        config.write_text(good, "utf-8")
        wait_for(lambda: health(tmp_path)["sources"]["inz"]["last_outcome"] == "ok", "a run that works again", daemon)

        # A crontab the loader reads (five fields) and APScheduler cannot: refused, the 1s schedule kept.
        config.write_text(good.replace("interval: 1s", "cron: '61 * * * *'"), "utf-8")
        wait_for(lambda: "schedule.cron '61 * * * *'" in log.read_text("utf-8"), "the bad cron reported", daemon)
        runs = runs_of(tmp_path, "inz")
        wait_for(lambda: runs_of(tmp_path, "inz") >= runs + 2, "runs on the schedule kept", daemon)
        assert stop(daemon) == 0


# -- logging ----------------------------------------------------------------------------------------


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    yield stream
    configure_logging("text")  # back to stderr for the tests after this one


def test_text_logs_are_one_key_value_line_per_event(log_stream: io.StringIO) -> None:
    configure_logging("text", level=logging.INFO, stream=log_stream)
    logger = logging.getLogger("panui.test")
    log_event(logger, logging.INFO, "run.finished", source="inz", new=2, url="https://user:secret@example.org/x")
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        logger.exception("it failed", extra={"event": "run.error"})

    first, second = log_stream.getvalue().splitlines()
    assert re.fullmatch(
        r"time=\S+Z level=info logger=panui.test event=run.finished source=inz new=2 url=https://\*\*\*@example.org/x",
        first,
    )
    assert 'level=error logger=panui.test event=run.error msg="it failed" error="ValueError: bad\\nthing"' in second
    assert "Traceback" not in second  # tracebacks only with --verbose
    assert "secret" not in log_stream.getvalue()


def test_json_logs_carry_the_same_fields(log_stream: io.StringIO) -> None:
    configure_logging("json", level=logging.INFO, verbose=True, stream=log_stream)
    logger = logging.getLogger("panui.test")
    log_event(logger, logging.WARNING, "run.problem", "HTTP 500", source="inz", url="http://a:b@host/")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.exception("failed")

    problem, failure = (json.loads(line) for line in log_stream.getvalue().splitlines())
    assert {key: problem[key] for key in ("level", "event", "source", "msg", "url")} == {
        "level": "warning",
        "event": "run.problem",
        "source": "inz",
        "msg": "HTTP 500",
        "url": "http://***@host/",
    }
    assert failure["error"] == "RuntimeError: boom" and "Traceback" in failure["traceback"]


def test_daemon_logs_json_lines_for_log_shippers(site: FixtureSite, tmp_path: Path, make_config: MakeConfig) -> None:
    config = make_config(site, tmp_path, source={"schedule": {"interval": "1h"}, "retries": 0})
    site.set_home_links([(BROKEN_PATH, "Broken", "9 Jul 2026")])  # an HTTP 500: a problem the daemon logs
    log = tmp_path / "daemon.log"
    with running_daemon(config, log, "--log-format", "json") as daemon:
        wait_for(lambda: '"run.finished"' in log.read_text("utf-8"), "the run at start-up", daemon)
        assert stop(daemon) == 0
    events = [json.loads(line) for line in log.read_text("utf-8").splitlines()]  # every line is JSON
    assert [event["event"] for event in events if event["event"].startswith("daemon.")] == [
        "daemon.started",
        "daemon.stopping",
        "daemon.stopped",
    ]
    (problem,) = [event for event in events if event["event"] == "run.problem"]
    assert (problem["level"], problem["source"], problem["msg"]) == ("warning", "inz", "HTTP 500")
    assert problem["url"].endswith(BROKEN_PATH)
    (finished,) = [event for event in events if event["event"] == "run.finished"]
    assert finished["new"] == len(ARTICLE_PATHS) and finished["problems"] == 1
