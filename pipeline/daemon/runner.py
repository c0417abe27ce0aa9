"""Runs one source's sync for the daemon, as `sync --source ID` in a child process.

A child rather than a thread, so that a run can always be stopped: SIGTERM makes the child abandon its
run where it is (unwinding its `with` blocks: the store lock is released, a temporary output file is
removed, an open transaction rolls back), a child that ignores it is killed after STOP_GRACE_SECONDS,
and one that runs past its wall-clock budget is stopped the same way. The child writes health.json
itself, as every sync does; the runner records the runs that end without a report."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import IO, Any

import pipeline
from pipeline.daemon.health import counted, failed_attempt, record_attempts
from pipeline.errors import LockError
from pipeline.logs import LogFormat, is_log_line, log_event
from pipeline.model import Config, Source
from pipeline.store import StoreLock

log = logging.getLogger("panui.daemon")
STOP_GRACE_SECONDS = 5.0  # after SIGTERM, a child has this long to unwind before it is killed
LOCK_WAIT_SECONDS = 300.0  # how long a run waits for a manual sync that holds the store
BUDGET_MARGIN_SECONDS = 120.0  # beyond run_budget: the last request, publishing and writing health
EXIT_INTERRUPTED = 130


class SyncRunner:
    def __init__(self, config_path: Path, stop: threading.Event, *, log_format: LogFormat, verbose: bool) -> None:
        self.stop = stop
        self.command = [sys.executable, "-m", "pipeline.cli", "sync", "--config", str(config_path), "--json"]
        self.command += ["--wait", f"{LOCK_WAIT_SECONDS:g}", "--log-format", log_format]
        self.command += ["--verbose"] if verbose else []
        self._idle = threading.Event()
        self._idle.set()

    @property
    def busy(self) -> bool:
        return not self._idle.is_set()

    def wait_until_idle(self, timeout: float = STOP_GRACE_SECONDS + 5) -> bool:
        return self._idle.wait(timeout)

    def run(self, config: Config, source: Source, periods: Mapping[str, float]) -> None:
        self._idle.clear()
        try:
            self._run(config, source, periods)
        except Exception:  # a bug here must not end the daemon: the next run tries again
            log.exception("run of %s failed unexpectedly", source.id, extra={"event": "run.error"})
        finally:
            self._idle.set()

    def _run(self, config: Config, source: Source, periods: Mapping[str, float]) -> None:
        if not self._wait_for_store(config, source):
            return
        started = datetime.now(UTC).replace(microsecond=0)
        process = subprocess.Popen(
            [*self.command, "--source", source.id],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=_child_environment(),
        )
        log_event(log, logging.INFO, "run.started", source=source.id, child=process.pid)
        stderr_tail: deque[str] = deque(maxlen=20)
        stdout: list[str] = []
        readers = [
            threading.Thread(target=_relay, args=(process.stderr, stderr_tail, source.id), daemon=True),
            threading.Thread(target=_collect, args=(process.stdout, stdout), daemon=True),
        ]
        for reader in readers:
            reader.start()
        deadline = time.monotonic() + config.run_budget + BUDGET_MARGIN_SECONDS
        overran = False
        while True:
            try:
                code = process.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                overran = time.monotonic() > deadline
                if self.stop.is_set() or overran:
                    code = _end(process)
                    break
        for reader in readers:
            reader.join(timeout=5)
        failure = self._conclude(config, source, code, overran, "".join(stdout), list(stderr_tail))
        if failure is not None:
            record_attempts(config, [failed_attempt(source.id, started, *failure)], periods, command="daemon")

    def _conclude(
        self, config: Config, source: Source, code: int, overran: bool, stdout: str, stderr: list[str]
    ) -> tuple[str, str] | None:
        """The run's end logged; the failure (message, hint) to record, unless the child recorded its own."""
        report = _parse_report(stdout) if code in (0, 1) else None
        if report is not None:
            _log_report(source.id, code, report)
            return None
        if self.stop.is_set() and not overran:
            log_event(log, logging.WARNING, "run.abandoned", "stopped by a signal", source=source.id, exit=code)
            return None
        if overran:
            message = f"ran over its wall-clock budget (run_budget {config.run_budget:g}s + {BUDGET_MARGIN_SECONDS:g}s) and was stopped"
            hint = "raise run_budget, or check why the site answers so slowly"
        elif code < 0 or code == EXIT_INTERRUPTED:
            message, hint = f"ended by signal {-code if code < 0 else 'SIGINT'}", "see the system log"
        else:
            message, hint = _cli_error(stderr) or (
                f"exited with code {code}: {(stderr or ['no output'])[-1].strip()}",
                "",
            )
            hint = hint or f"run `python run.py sync --source {source.id} -v` to see the whole error"
        log_event(log, logging.ERROR, "run.failed", message, source=source.id, exit=code, hint=hint)
        return message, hint

    def _wait_for_store(self, config: Config, source: Source) -> bool:
        """Wait (bounded, and stoppable) while a manual sync holds the store; False to skip this run."""
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        announced = False
        while not self.stop.is_set():
            try:
                with StoreLock(config.state_dir):  # free now: the child takes it (with --wait, for a race)
                    return True
            except LockError as error:
                if time.monotonic() > deadline:
                    log_event(log, logging.WARNING, "run.skipped", error.message, source=source.id)
                    return False
                if not announced:
                    log_event(log, logging.INFO, "run.waiting", error.message, source=source.id)
                    announced = True
            self.stop.wait(0.5)
        return False


def _cli_error(stderr: list[str]) -> tuple[str, str] | None:
    """The CLI's `error: ...` (with its indented detail lines) and `hint: ...`, if it printed them."""
    starts = [index for index, line in enumerate(stderr) if line.startswith("error: ")]
    if not starts:
        return None
    lines = [stderr[starts[-1]].removeprefix("error: ").strip()]
    lines += [line.strip() for line in stderr[starts[-1] + 1 :] if line.startswith("  ")]
    hints = [line.removeprefix("hint: ").strip() for line in stderr[starts[-1] :] if line.startswith("hint: ")]
    return " ".join(lines), (hints[0] if hints else "")


def _end(process: subprocess.Popen[str]) -> int:
    """Ask the child to abandon its run; kill it if it has not ended after STOP_GRACE_SECONDS."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def _relay(stream: IO[str], tail: deque[str], source_id: str) -> None:
    """The child's stderr into the daemon's log, line by line as it comes."""
    for line in stream:
        tail.append(line)
        if is_log_line(line):
            sys.stderr.write(line)
            sys.stderr.flush()
        elif line.strip():
            log_event(log, logging.WARNING, "run.output", line.rstrip(), source=source_id)


def _collect(stream: IO[str], into: list[str]) -> None:
    into.append(stream.read())


def _parse_report(stdout: str) -> dict[str, Any] | None:
    try:
        report = json.loads(stdout)
    except ValueError:
        return None
    return report if isinstance(report, dict) and isinstance(report.get("sources"), list) else None


def _log_report(source_id: str, code: int, report: Mapping[str, Any]) -> None:
    for entry in report["sources"]:
        for problem in entry.get("problems") or []:
            log_event(
                log,
                logging.WARNING,
                "run.problem",
                str(problem.get("message")),
                source=entry.get("id"),
                stage=problem.get("stage"),
                url=problem.get("url"),
            )
        figures: dict[str, Any] = {"source": entry.get("id"), "exit": code, **counted(entry)}
        log_event(log, logging.INFO, "run.finished", **figures, files_written=report.get("files_written"))
    for problem in report.get("problems") or []:
        log_event(
            log, logging.ERROR, "run.problem", str(problem.get("message")), source=source_id, stage=problem.get("stage")
        )


def run_digest(config_path: Path, period: str, stop: threading.Event) -> None:
    """`run.py digest --period PERIOD` in a child process, as a sync is run; its outcome logged (its
    output names subscriptions and masked targets only)."""
    if stop.is_set():
        return
    command = [sys.executable, "-m", "pipeline.cli", "digest", "--period", period, "--config", str(config_path)]
    try:
        done = subprocess.run(
            [*command, "--wait", str(LOCK_WAIT_SECONDS)],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            env=_child_environment(),
            timeout=LOCK_WAIT_SECONDS + 600,
            check=False,
        )
    except subprocess.TimeoutExpired:
        log_event(log, logging.ERROR, "digest.timeout", "the digest run did not finish", period=period)
        return
    level = logging.INFO if done.returncode == 0 else logging.WARNING
    output = " | ".join(line for line in (done.stdout + done.stderr).splitlines()[-10:] if line)
    log_event(log, level, "digest.finished", output, period=period, exit_code=done.returncode)


def _child_environment() -> dict[str, str]:
    """The child imports this same pipeline package, wherever the daemon was started from."""
    environment = {key: value for key, value in os.environ.items() if key != "NOTIFY_SOCKET"}
    package_root = str(Path(pipeline.__file__).resolve().parents[1])
    existing = environment.get("PYTHONPATH")
    environment["PYTHONPATH"] = package_root + (os.pathsep + existing if existing else "")
    return environment


def interrupt_on_sigterm() -> None:
    """In a sync: the first SIGTERM (or SIGINT) raises KeyboardInterrupt, so the run unwinds where it is
    (lock released, transaction rolled back, temporary file removed); later ones are ignored, so nothing
    interrupts that unwinding."""

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
