"""How the benchmarks measure: wall and CPU time of the calling thread, cProfile reports, a config
aimed at the benchmark site, and peak memory measured in a child process (benchmarks/memory.py)."""

from __future__ import annotations

import cProfile
import gc
import io
import json
import os
import platform
import pstats
import re
import resource
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any, TypeVar

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")


class BenchmarkError(Exception):
    """A run did not do what the benchmark set it up to do, so its figures would mean nothing."""


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds, time.perf_counter
    cpu: float  # seconds of CPU of the calling thread (time.thread_time): the pipeline, not the server's threads
    # Of `cpu`, the seconds the kernel spent for the thread (creating files and folders, sockets), where
    # the system tells (getrusage RUSAGE_THREAD: Linux); the most variable part on a virtual machine.
    system: float | None = None


def _system_time() -> float | None:
    if not hasattr(resource, "RUSAGE_THREAD"):
        return None
    return resource.getrusage(resource.RUSAGE_THREAD).ru_stime


def settle() -> None:
    """Clean up what ran before, outside the clock: its garbage collected, and its files (the runs'
    folders, deleted or written) flushed to disk, which the kernel would otherwise do during the next
    run, in part on that run's thread."""
    gc.collect()
    os.sync()


def timed(action: Callable[[], T]) -> tuple[T, Sample]:
    """`action`'s result, and its wall and CPU time, measured after _settle()."""
    settle()
    wall, cpu, system = time.perf_counter(), time.thread_time(), _system_time()
    result = action()
    system_after = _system_time()
    system_used = system_after - system if system_after is not None and system is not None else None
    return result, Sample(time.perf_counter() - wall, time.thread_time() - cpu, system_used)


def median_sample(samples: Sequence[Sample]) -> Sample:
    """Each figure's median (the sample whose CPU is the median is not always the one whose wall is)."""
    systems = [sample.system for sample in samples if sample.system is not None]
    return Sample(
        median(sample.wall for sample in samples),
        median(sample.cpu for sample in samples),
        median(systems) if len(systems) == len(samples) else None,
    )


def profile(action: Callable[[], T], path: Path, title: str, limit: int = 30) -> T:
    """Run `action` under cProfile (this thread only) and write its top functions, by cumulative and by
    own time, to `path`."""
    profiler = cProfile.Profile()
    settle()
    result = profiler.runcall(action)
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("cumulative").print_stats(limit)
    stats.sort_stats("tottime").print_stats(limit)
    text = stream.getvalue()
    for prefix in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["stdlib"], str(REPO_ROOT)}:
        text = text.replace(prefix + os.sep, "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# {title}\n{text}", encoding="utf-8")
    return result


def write_config(base_url: str, folder: Path) -> Path:
    """folder/sources.yaml: the repo's first source aimed at the benchmark site, with no request delay."""
    data: dict[str, Any] = yaml.safe_load((REPO_ROOT / "sources.yaml").read_text("utf-8"))
    data |= {
        "output_dir": str(folder / "output"),
        "state_dir": str(folder / "state"),
        "site_url": "http://localhost:8000/",
        "contact": "mailto:benchmarks@example.org",
    }
    data["sources"] = data["sources"][:1]  # other sources would be fetched from their real hosts
    data["sources"][0].update(base_url=base_url, request_delay=0, timeout=10, retries=0, backoff=0)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sources.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def sync_in_child(config: Path, *, traced: bool) -> dict[str, Any]:
    """A sync run in a fresh Python process (benchmarks/memory.py), so its peak RSS is its own."""
    command = [sys.executable, "-m", "benchmarks.memory", str(config), *(["--tracemalloc"] if traced else [])]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=1800, check=False)
    if done.returncode != 0 or not done.stdout.strip():
        raise BenchmarkError(f"the memory run failed ({done.returncode}): {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def machine() -> dict[str, str]:
    """What the figures ran on: CPU model, cores, memory, Python, and how busy the machine was."""
    model = platform.processor() or platform.machine()
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10, check=False).stdout
        found = re.search(r"^Model name:\s*(.+)$", lscpu, re.M)
        model = found[1].strip() if found else model
    except OSError:
        pass
    memory = "unknown"
    try:
        found = re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
        memory = f"{int(found[1]) / 1024 / 1024:.1f} GiB" if found else memory
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "load average": " ".join(f"{value:.2f}" for value in os.getloadavg()),
    }
