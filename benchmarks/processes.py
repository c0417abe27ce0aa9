"""Item 6 (issue 20): whole processes, start-up included, as cron or the daemon runs them, each as a
ratio to the floor, `python -c "import requests, lxml.html, sqlite3, yaml"`, measured in the same run:
a sync that finds nothing new, `run.py --help`, `run.py status`, and a sync that publishes one new
article (the same five new articles at each size), each at two archive sizes built alike (two
articles a day: a larger archive covers more years, each as full).

CPU is the child's user + system time (getrusage RUSAGE_CHILDREN), its median over the runs; the
commands take turns, run by run, so that the machine's drift (its speed moves by a third within minutes
here) weighs on each alike."""

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


def _new_articles(stdout: str) -> int:
    report = json.loads(stdout)
    return sum(len(source["new"]) for source in report["sources"])


def _sync(config: Path) -> tuple[str, ...]:
    return (*RUN, "sync", "--json", "--config", str(config))


def quiet_runs(bench: Bench, stores: Sequence[tuple[Path, int, Sequence[ArticleSpec]]]) -> dict[str, Any]:
    """The floor, `--help`, `status` and a sync that finds nothing new at each size, after two syncs at
    each size that settle discovery (not kept; `status` then has a run's health to read). Each round
    runs every command once, so that the machine's drift over the rounds weighs on each alike."""
    for config, _, specs in stores:
        bench.serve(specs)
        for _ in range(2):
            process_cpu(_sync(config))
    samples: dict[str, list[float]] = {}
    status = (*RUN, "status", "--config", str(stores[0][0]))
    for _ in range(bench.repeat):
        samples.setdefault("floor", []).append(process_cpu(FLOOR)[0])
        samples.setdefault("help", []).append(process_cpu((*RUN, "--help"))[0])
        samples.setdefault("status", []).append(process_cpu(status, ok=(0, 1))[0])
        for config, count, specs in stores:
            bench.serve(specs)
            cpu, printed = process_cpu(_sync(config))
            if _new_articles(printed):
                raise BenchmarkError("the no-change sync found new articles")
            samples.setdefault(f"no_change {count}", []).append(cpu)
    bench.site.take_requests()
    medians = {name: median(cpus) for name, cpus in samples.items()}
    quiet = {count: medians.pop(f"no_change {count}") for _, count, _ in stores}
    return {**medians, "no_change": quiet}


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
    """Each figure in CPU seconds (run.py prints it as a ratio to the floor); `stores` are (config,
    articles, what the site serves for them), smallest first."""
    return {**quiet_runs(bench, stores), "one_new": one_new(bench, stores)}
