"""Command line: argparse commands; the one place that turns errors into messages and exit codes.

Exit codes: 0 ok, 1 finished with problems, 2 could not start (bad config, unreadable store, lock)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from pipeline import __version__
from pipeline.config import load_config
from pipeline.errors import PanuiError
from pipeline.model import SyncReport
from pipeline.sync import report_summary, run_sync

EXIT_OK, EXIT_PROBLEMS, EXIT_CANNOT_START = 0, 1, 2


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
    parser = argparse.ArgumentParser(
        prog="run.py",
        description="Pānui: feeds and an attributed archive of official announcements.",
    )
    parser.add_argument("--version", action="version", version=f"Pānui {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sync = commands.add_parser(
        "sync",
        parents=[common],
        help="fetch new and changed articles, then publish feeds and archive",
    )
    sync.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="ID",
        help="sync only this source (repeatable)",
    )
    sync.add_argument(
        "--url",
        action="append",
        default=[],
        metavar="URL",
        help="also import this article URL, fetched afresh (repeatable; for backfill)",
    )
    sync.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for another run holding the store (default: 0, exit 2 at once)",
    )
    sync.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if arguments.verbose else logging.WARNING,
        format="%(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    try:
        config = load_config(arguments.config)
        if arguments.command == "sync":
            report = run_sync(config, source_ids=arguments.source, urls=arguments.url, lock_wait=arguments.wait)
            if arguments.json:
                print(json.dumps(report_summary(report), indent=2, ensure_ascii=False))
            else:
                print_report(report, str(config.output_dir))
            return report.exit_code
    except PanuiError as error:
        print(f"error: {error.message}", file=sys.stderr)
        if error.hint:
            print(f"hint: {error.hint}", file=sys.stderr)
        return EXIT_CANNOT_START
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return EXIT_OK  # pragma: no cover - argparse rejects unknown commands


def print_report(report: SyncReport, output_dir: str) -> None:
    for source in report.sources:
        print(
            f"{source.source_id}: {len(source.new)} new, {len(source.updated)} updated, {source.unchanged} unchanged, "
            f"{source.skipped} skipped, {len(source.problems)} problem{'s' if len(source.problems) != 1 else ''} "
            f"({source.requests} request{'s' if source.requests != 1 else ''})"
        )
        for url in source.new:
            print(f"  new: {url}")
        for url in source.updated:
            print(f"  updated: {url}")
        for note in source.notes:
            print(f"  note: {note}")
    if report.files_written:
        print(
            f"published: {len(report.files_written)} file{'s' if len(report.files_written) != 1 else ''} changed in {output_dir}"
        )
    else:
        print(f"published: nothing changed in {output_dir}")
    problems = report.all_problems
    if problems:
        print(f"problems ({len(problems)}):", file=sys.stderr)
        for problem in problems:
            print(f"  {problem.describe()}", file=sys.stderr)
