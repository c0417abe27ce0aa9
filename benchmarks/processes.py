"""Item 6 (issue 20): whole processes, start-up included, as cron or the daemon runs them, each as a
ratio to the floor, `python -c "import requests, lxml.html, sqlite3, yaml"`, measured in the same run:
a sync that finds nothing new, `run.py --help`, `run.py status`, and a sync that publishes one new
article (the same five new articles at each size), each at two archive sizes built alike (two
articles a day: a larger archive covers more years, each as full).

CPU is the child's user + system time (getrusage RUSAGE_CHILDREN), its median over the runs."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from statistics import median
from typing import Any

from benchmarks.corpus import ArticleSpec, new_article
from benchmarks.measure import REPO_ROOT, BenchmarkError, settle
from benchmarks.scenarios import Bench

FLOOR = (sys.executable, "-c", "import requests, lxml.html, sqlite3, yaml")
RUN = (sys.executable, str(REPO_ROOT / "run.py"))
# As an installed Pānui runs: its modules' bytecode is cached after the first run (the floor's libraries
# have theirs from their install), even where the environment turns the cache off.
CHILD_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def process_cpu(command: Sequence[str], *, ok: tuple[int, ...] = (0,)) -> tuple[float, str]:
    """One run of `command` in a child process: its CPU seconds (user + system) and what it printed."""
    settle()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        command, cwd=REPO_ROOT, env=CHILD_ENV, capture_output=True, text=True, timeout=1800, check=False
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in ok:
        raise BenchmarkError(f"{' '.join(command[1:3])} exited {done.returncode}: {done.stderr[-2000:]}")
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, done.stdout


def median_cpu(command: Sequence[str], repeat: int, *, ok: tuple[int, ...] = (0,)) -> float:
    return median(process_cpu(command, ok=ok)[0] for _ in range(repeat))


def _new_articles(stdout: str) -> int:
    report = json.loads(stdout)
    return sum(len(source["new"]) for source in report["sources"])


def _sync(config: Path) -> tuple[str, ...]:
    return (*RUN, "sync", "--json", "--config", str(config))


def no_change(bench: Bench, config: Path, specs: Sequence[ArticleSpec]) -> float:
    """A sync that finds nothing new, after one that settles discovery (its figures are not kept)."""
    bench.serve(specs)
    for _ in range(2):
        _, printed = process_cpu(_sync(config))
    if _new_articles(printed):
        raise BenchmarkError("the no-change sync found new articles")
    cpu = median_cpu(_sync(config), bench.repeat)
    bench.site.take_requests()
    return cpu


def one_new(bench: Bench, stores: Sequence[tuple[Path, int, Sequence[ArticleSpec]]]) -> dict[int, float]:
    """Syncs that find and publish one new article, each run a new one (the same at every size). The
    sizes take turns, run by run, so that the machine's drift over the runs weighs on each alike."""
    served = {count: list(specs) for _, count, specs in stores}
    samples: dict[int, list[float]] = {count: [] for _, count, _ in stores}
    for run in range(bench.repeat):
        for config, count, specs in stores:
            served[count].insert(0, new_article(run, specs[0].published))
            bench.serve(served[count])
            cpu, printed = process_cpu(_sync(config))
            if _new_articles(printed) != 1:
                raise BenchmarkError(f"the sync found {_new_articles(printed)} new articles, not 1")
            samples[count].append(cpu)
    bench.site.take_requests()
    return {count: median(cpus) for count, cpus in samples.items()}


def whole_processes(bench: Bench, stores: Sequence[tuple[Path, int, Sequence[ArticleSpec]]]) -> dict[str, Any]:
    """Each figure in CPU seconds and as a ratio to the floor; `stores` are (config, articles, what
    the site serves for them), smallest first."""
    floor = median_cpu(FLOOR, bench.repeat)
    quiet = {count: no_change(bench, path, specs) for path, count, specs in stores}  # (status needs a run's health)
    status = (*RUN, "status", "--config", str(stores[0][0]))
    return {
        "floor": floor,
        "help": median_cpu((*RUN, "--help"), bench.repeat),
        "status": median_cpu(status, bench.repeat, ok=(0, 1)),
        "no_change": quiet,
        "one_new": one_new(bench, stores),
    }
