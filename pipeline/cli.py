"""Command line: argparse commands; the one place that turns errors into messages and exit codes.

Exit codes: 0 ok, 1 finished with problems, 2 could not start (bad config, unreadable store, lock).
Each command imports what it runs when it runs: `--help` and `status` load no HTTP, HTML or feed
library, and the daemon's scheduler is loaded by the daemon alone."""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from pipeline import __version__
from pipeline.errors import PanuiError
from pipeline.logs import LOG_FORMATS, configure_logging, visible

if TYPE_CHECKING:
    from pipeline.model import Config
    from pipeline.reports import SyncReport

EXIT_CANNOT_START = 2  # (0 is ok; 1, finished with problems, is a report's exit_code)
MAX_LOCK_WAIT = 86400  # seconds: --wait up to a day; a longer wait, NaN or infinity is a mistake


def lock_wait(text: str) -> float:
    """--wait's value: seconds from 0 to MAX_LOCK_WAIT ("nan" would make the lock wait for ever)."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds <= MAX_LOCK_WAIT:
        raise argparse.ArgumentTypeError(f"must be a number of seconds from 0 to {MAX_LOCK_WAIT}, not {text!r}")
    return seconds


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        type=Path,
        default=Path("sources.yaml"),
        metavar="PATH",
        help="the configuration file (default: ./sources.yaml)",
    )
    common.add_argument("-v", "--verbose", action="store_true", help="log each request and decision")
    common.add_argument(
        "--log-format", choices=LOG_FORMATS, default="text", help="log lines as key=value text (default) or JSON"
    )
    parser = argparse.ArgumentParser(
        prog="run.py",
        description="Pānui: feeds and an attributed archive of official announcements.",
    )
    parser.add_argument("--version", action="version", version=f"Pānui {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, parents=[common], help=text)

    demo = command(
        "demo", "sync the bundled real INZ pages, replayed on 127.0.0.1, into a demo folder, then serve it (offline)"
    )
    demo.add_argument(
        "--dir", type=Path, default=Path("demo"), metavar="PATH", help="the demo's folder (default: ./demo)"
    )
    demo.add_argument(
        "--port",
        type=port_number,
        default=8000,
        metavar="PORT",
        help="the port to serve on, which the demo's feeds link to (default: 8000)",
    )
    demo.add_argument("--no-serve", action="store_true", help="stop after the sync")
    sync = command("sync", "fetch new and changed articles, then publish feeds and archive")
    add_repeated(sync, "--source", "ID", "sync only this source (repeatable)")
    add_repeated(sync, "--url", "URL", "also import this article URL, fetched afresh (repeatable; for backfill)")
    add_wait(
        sync, "wait up to this long (at most a day) for another run holding the store (default: 0, exit 2 at once)"
    )
    sync.add_argument("--json", action="store_true", help="print the report as JSON")
    sync.add_argument("--dry-run", action="store_true", help="show what would be fetched and published; write nothing")
    command("daemon", "run each source on its schedule until SIGTERM/SIGINT (SIGHUP or an edited config reloads)")
    status = command("status", "show each source's health; exit 1 if one is unhealthy, 2 if none recorded")
    status.add_argument("--json", action="store_true", help="print the health as JSON")
    check = command("check", "fetch a listing and a few articles; show what each selector matches (exit 1 on a miss)")
    add_repeated(check, "--source", "ID", "check only this source (repeatable)")
    add_repeated(check, "--url", "URL", "check this article instead of the newest ones")
    rebuild = command("rebuild", "re-extract every stored page with the current selectors and republish (no network)")
    add_wait(rebuild)
    serve = command("serve", "serve output_dir over HTTP for local subscription and previews (Ctrl-C stops)")
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1)")
    serve.add_argument(
        "--port", type=int, default=8000, help="the port to listen on; 0 picks a free one (default: 8000)"
    )
    notify = command("notify", "send a test message to each target of a subscription; report each result")
    notify.add_argument("--test", required=True, metavar="ID", help="the subscription to test")
    digest = command("digest", "send the daily or weekly digests due now (each period once)")
    digest.add_argument("--period", required=True, choices=("daily", "weekly"), help="which digests to send")
    digest.add_argument("--subscription", metavar="ID", help="only this subscription's digest")
    add_wait(digest)
    return parser


def add_wait(
    command: argparse.ArgumentParser, text: str = "wait this long (at most a day) for a run holding the store"
) -> None:
    command.add_argument("--wait", type=lock_wait, default=0.0, metavar="SECONDS", help=text)


def add_repeated(command: argparse.ArgumentParser, option: str, metavar: str, text: str) -> None:
    command.add_argument(option, action="append", default=[], metavar=metavar, help=text)


def port_number(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1 to 65535)")
    return int(text)


COMMON_WITH_VALUE = ("--config", "--log-format")  # the options every command takes that take a value
COMMON_FLAGS = ("-v", "--verbose")


def command_first(parser: argparse.ArgumentParser, argv: Sequence[str]) -> list[str]:
    """`run.py --config X -v status` read as `run.py status --config X -v`: every command takes --config, -v
    and --log-format, and people write them first (argparse would take `X` for the command). Only those
    options are moved, each with its value; anything else is left for argparse to judge."""
    names = next(action.choices for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    at = 0
    while at < len(argv):
        word = argv[at]
        if word in COMMON_WITH_VALUE:
            at += 2
        elif word in COMMON_FLAGS or word.startswith(tuple(f"{option}=" for option in COMMON_WITH_VALUE)):
            at += 1
        else:
            break
    if at >= len(argv) > 0:  # (an option's value missing too: `run.py --config`)
        parser.error(f"no command given after {' '.join(argv)}: e.g. run.py {' '.join(argv)} status")
    if at > 0 and argv[at] in names:
        return [argv[at], *argv[:at], *argv[at + 1 :]]
    return list(argv)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    arguments = parser.parse_args(command_first(parser, sys.argv[1:] if argv is None else argv))
    quiet, chatty = (logging.INFO, logging.DEBUG) if arguments.command == "daemon" else (logging.WARNING, logging.INFO)
    configure_logging(arguments.log_format, level=chatty if arguments.verbose else quiet, verbose=arguments.verbose)
    try:
        return _run_and_report(arguments)
    except BrokenPipeError:  # the reader left (`status | head -1`): its leaving is not Pānui's error
        for stream in (sys.stdout, sys.stderr):  # (Python flushes both at exit)
            os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
        return 141  # as a shell reports a command ended by SIGPIPE


def _run_and_report(arguments: argparse.Namespace) -> int:
    try:
        return run_command(arguments)
    except PanuiError as error:
        print(f"error: {error.message}", file=sys.stderr)
        if error.hint:
            print(f"hint: {error.hint}", file=sys.stderr)
        return EXIT_CANNOT_START
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def run_command(arguments: argparse.Namespace) -> int:
    """The command, with only its own modules imported (see the module's docstring)."""
    from pipeline.config import load_config, record_checked
    from pipeline.daemon.periods import schedule_periods
    from pipeline.daemon.runner import interrupt_on_sigterm

    if arguments.command == "demo":
        from pipeline.demo import sync_demo
        from pipeline.publish.serve import require_free_port, serve_output

        if not arguments.no_serve:
            require_free_port(arguments.port)  # before the sync, whose feeds link to it
        interrupt_on_sigterm()
        with sync_demo(arguments.config, arguments.dir, arguments.port) as demo:
            print_report(demo.report, str(demo.config.output_dir))
            print(demo.summary)
            if arguments.no_serve:
                return demo.report.exit_code
            return serve_output(demo.config, "127.0.0.1", arguments.port) or demo.report.exit_code
    config = load_config(arguments.config)
    if arguments.command in ("sync", "daemon", "notify", "digest"):
        from pipeline.notify import check_targets

        check_targets(config)
    if arguments.command == "notify":
        return print_trial(config, arguments.test)
    if arguments.command == "digest":
        return run_digest(config, arguments.period, arguments.subscription, arguments.wait)
    if arguments.command == "daemon":
        from pipeline.daemon.schedule import Daemon

        return Daemon(config, log_format=arguments.log_format, verbose=arguments.verbose).run()
    if arguments.command == "status":
        from pipeline.daemon.status import print_status

        return print_status(config, schedule_periods(config), as_json=arguments.json)
    if arguments.command == "serve":
        from pipeline.publish.serve import serve_output

        return serve_output(config, arguments.host, arguments.port)
    if arguments.command == "check":
        from pipeline.daemon.schedule import source_triggers
        from pipeline.sync.check import run_check
        from pipeline.sync.run import select_sources

        source_triggers(config)  # a crontab the daemon would refuse is the config's problem, found now
        return run_check(config, select_sources(config, arguments.source, arguments.url), arguments.url, sys.stdout)
    if arguments.command == "rebuild":
        from pipeline.daemon.health import record_held_back
        from pipeline.sync.rebuild import run_rebuild

        report = run_rebuild(config, lock_wait=arguments.wait)
        record_checked(config.state_dir)
        record_held_back(config, report)
        print_report(report, str(config.output_dir))
        return report.exit_code
    from pipeline.daemon.health import record_report
    from pipeline.sync.run import report_summary, run_sync

    interrupt_on_sigterm()  # so a stopped sync unwinds: lock released, no temporary files left
    if arguments.dry_run:
        from pipeline.sync.preview import preview_sync

        report = preview_sync(config, source_ids=arguments.source, urls=arguments.url)
    else:
        report = run_sync(config, source_ids=arguments.source, urls=arguments.url, lock_wait=arguments.wait)
        record_checked(config.state_dir)  # so the next run need not load soupsieve to check the selectors
        record_report(config, report, schedule_periods(config), command="sync")
    if arguments.json:
        summary = report_summary(report) | ({"dry_run": True} if arguments.dry_run else {})
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        print_report(report, str(config.output_dir), dry_run=arguments.dry_run)
    return report.exit_code


def print_trial(config: Config, subscription_id: str) -> int:
    """`notify --test ID`: each target's result, named by its label (its URL is a secret)."""
    from pipeline.notify import send_trial

    results = send_trial(config, subscription_id)
    for label, error in results:
        show(f"{subscription_id} {label}: {'sent' if error is None else 'FAILED: ' + error}")
    return 1 if any(error is not None for _, error in results) else 0


def run_digest(config: Config, period: str, subscription_id: str | None, wait: float) -> int:
    """`digest`: the digests due now, each period's once; exit 1 when a message was given up."""
    from pipeline.notify import send_digests
    from pipeline.store import open_store

    with open_store(config, lock_wait=wait) as store:
        result = send_digests(config, store, period, datetime.now(UTC), subscription_id=subscription_id)
    for label in result.sent:
        show(f"digest queued: {label}")
    for label in result.empty:
        show(f"no digest: {label}: nothing happened")
    for label in result.done_before:
        show(f"already sent: {label}")
    show(f"sent: {result.delivery.sent} message{'s' if result.delivery.sent != 1 else ''}")
    for problem in result.delivery.warnings:
        show(f"warning: {problem.describe()}", file=sys.stderr)
    for problem in result.delivery.problems:
        show(f"problem: {problem.describe()}", file=sys.stderr)
    return 1 if result.delivery.problems else 0


def print_report(report: SyncReport, output_dir: str, *, dry_run: bool = False) -> None:
    """The report, one line per fact; a site's values in it (URLs, titles, messages) with any control
    character escaped visibly (see logs.visible)."""
    if dry_run:
        show("dry run: nothing was stored or written")
    for source in report.sources:
        show(
            f"{source.source_id}: {len(source.new)} new, {len(source.updated)} updated, {source.unchanged} unchanged, "
            f"{source.skipped} skipped, {len(source.problems)} problem{'s' if len(source.problems) != 1 else ''} "
            f"({source.requests} request{'s' if source.requests != 1 else ''})"
            + (" DEGRADED" if source.degraded else "")
        )
        listed = {"new": source.new, "updated": source.updated, "withdrawn": source.withdrawn, "alert": source.alerts}
        listed |= {"note": source.notes, "extracted by the fallback": source.fallback, "DEGRADED": source.degraded}
        for label, items in listed.items():
            for item in items:
                show(f"  {label}: {item}")
    count = len(report.files_written)
    files = f"{count} file{'s' if count != 1 else ''}"
    if dry_run:
        show(f"would publish: {files} would change in {output_dir} (before new articles)")
    elif count:
        show(f"published: {files} changed in {output_dir}")
    elif report.empty_store:
        show(f"published: nothing yet: no article has been stored, so {output_dir} holds no feeds or pages")
    else:
        show(f"published: nothing changed in {output_dir}")
    for warning in report.warnings:
        show(f"warning: {warning.describe()}", file=sys.stderr)
    problems = report.all_problems
    if problems:
        show(f"problems ({len(problems)}):", file=sys.stderr)
        for problem in problems:
            show(f"  {problem.describe()}", file=sys.stderr)


def show(line: str, file: TextIO | None = None) -> None:
    print(visible(line), file=file)


if __name__ == "__main__":  # `python -m pipeline.cli`: how the daemon starts each run
    raise SystemExit(main())
