"""One sync in a fresh process, for its peak memory: `python -m benchmarks.memory CONFIG [--tracemalloc]`.

Prints one JSON line: the process's peak resident set size (VmHWM) after the imports and at the end,
the sync's wall and CPU time, and with --tracemalloc the peak of Python allocations during the sync
and the lines that held the most memory when the sync started publishing. tracemalloc sees Python objects only, not libxml2's or SQLite's own
allocations; RSS sees everything but includes the interpreter and the imported libraries."""

from __future__ import annotations

import argparse
import json
import re
import resource
import sys
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pipeline.sync.run
from pipeline.config import load_config
from pipeline.sync.run import run_sync


def _peak_rss_mib() -> float:
    """This process's peak resident set size (VmHWM). Not getrusage's ru_maxrss: on Linux that survives
    exec, so a child started by a big parent reports the parent's size."""
    try:
        found = re.search(r"^VmHWM:\s*(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    except OSError:
        found = None
    kib = int(found[1]) if found else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024


def _snapshot_when_publishing(top: list[str], limit: int) -> None:
    """Record the top allocation sites when the sync starts publishing: what discovery, fetching and
    the store left alive for the rest of the run."""
    publish = pipeline.sync.run.publish  # type: ignore[attr-defined]

    def publishing(*args: Any, **kwargs: Any) -> Any:
        stats = tracemalloc.take_snapshot().statistics("lineno")
        top[:] = [f"{stat.size / 1024:9.0f} KiB {stat.count:7d} blocks  {stat.traceback}" for stat in stats[:limit]]
        return publish(*args, **kwargs)

    pipeline.sync.run.publish = publishing  # type: ignore[attr-defined]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("config", type=Path)
    parser.add_argument("--tracemalloc", action="store_true")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    after_imports = _peak_rss_mib()
    top: list[str] = []
    if args.tracemalloc:
        _snapshot_when_publishing(top, 12)
        tracemalloc.start()
    wall, cpu = time.perf_counter(), time.thread_time()
    report = run_sync(config)
    wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
    result: dict[str, Any] = {
        "peak_rss_after_imports_mib": after_imports,
        "peak_rss_mib": _peak_rss_mib(),
        "wall": wall,
        "cpu": cpu,
        "new": sum(len(source.new) for source in report.sources),
        "updated": sum(len(source.updated) for source in report.sources),
        "requests": sum(source.requests for source in report.sources),
        "files_written": len(report.files_written),
        "problems": [problem.describe() for problem in report.all_problems],
    }
    if args.tracemalloc:
        result["tracemalloc_peak_mib"] = tracemalloc.get_traced_memory()[1] / 1024 / 1024
        result["top_when_publishing"] = top
        tracemalloc.stop()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
