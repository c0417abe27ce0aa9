"""Full publication and `rebuild` against Hugo, whole processes on the same machine:
`python benchmarks/versus.py [--sizes 1000,10000,50000] [--quick]`.

For each size N, the same N generated articles (benchmarks/corpus.py: real INZ paragraphs, 6 to 24
blocks each) are (a) put into a Pānui store and published from nothing, then rebuilt (`run.py
rebuild`: every stored page re-extracted and the site republished), and (b) written as Markdown pages
with the same front matter (title, date, type, topics, summary) and bodies, and built by Hugo (Debian's
`hugo` package) with minimal templates giving each page, each list and each feed. Pelican, when
installed, builds the same pages for reference. Each is a child process; its CPU (user + system) and
peak RSS are its own, read by wait4. Figures are printed as ratios to Hugo's at the same N, and Pānui's
peak memory at the largest N as a ratio to its own at the smallest."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

if not __package__:  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.corpus import ArticleSpec, make_spec, make_specs, today
from benchmarks.measure import REPO_ROOT, machine, write_config
from benchmarks.scenarios import save_articles
from pipeline.bounds import EARLIEST
from pipeline.config import load_config
from pipeline.model import Config
from pipeline.store import Store

BASE_URL = "http://127.0.0.1:9/"  # never contacted: the stores are filled directly
PUBLISH = "from pathlib import Path\nfrom pipeline.config import load_config\nfrom pipeline.publish import publish\nfrom pipeline.store import Store\nconfig = load_config(Path({path!r}))\nwith Store(config.state_dir) as store:\n    publish(config, store)\n"
HUGO_CONFIG = """baseURL = "http://localhost:8000/"
title = "Benchmark"
disableKinds = ["robotsTXT", "404"]
[taxonomies]
  category = "categories"
  tag = "tags"
[markup.goldmark.renderer]
  unsafe = true
[outputs]
  home = ["HTML", "RSS"]
  section = ["HTML", "RSS"]
  taxonomy = ["HTML", "RSS"]
  term = ["HTML", "RSS"]
"""
HUGO_LAYOUTS = {
    "_default/baseof.html": '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title>'
    '</head><body>{{ block "main" . }}{{ end }}</body></html>',
    "_default/single.html": '{{ define "main" }}<article><h1>{{ .Title }}</h1><time>{{ .Date.Format "2 January 2006" }}'
    "</time><p>{{ .Params.summary }}</p>{{ .Content }}<ul>{{ range .Params.tags }}<li>{{ . }}</li>{{ end }}</ul>"
    "</article>{{ end }}",
    "_default/list.html": '{{ define "main" }}<h1>{{ .Title }}</h1><ul>{{ range .Paginator.Pages }}<li>'
    '<a href="{{ .RelPermalink }}">{{ .Title }}</a> {{ .Date.Format "2 Jan 2006" }}</li>{{ end }}</ul>'
    '{{ template "_internal/pagination.html" . }}{{ end }}',
}


@dataclass(frozen=True)
class Cost:
    cpu: float  # seconds, user + system, of the child and its children
    peak_mib: float  # the largest resident set of the child (ru_maxrss)
    wall: float


# Linux keeps a process's peak RSS across exec, so a child forked from this process (which holds every
# generated article) would count this process's memory as its own: each command is started by this small
# launcher instead, which waits for it and prints the command's own exit status, CPU and peak RSS (KiB).
LAUNCHER = """import os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
wall = time.perf_counter() - started
print(os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime, usage.ru_maxrss, wall)
"""


def measured(command: Sequence[str], cwd: Path) -> Cost:
    """Run `command`, and read its own CPU and peak RSS from wait4 (not mixed with other processes')."""
    launch = [sys.executable, "-c", LAUNCHER, *command]
    finished = subprocess.run(launch, cwd=cwd, capture_output=True, check=False)
    errors = finished.stderr.decode("utf-8", "replace")
    if finished.returncode != 0 or not finished.stdout.strip():
        raise RuntimeError(f"{command[0]} could not be run: {errors[-2000:]}")
    code, cpu, peak_kib, wall = finished.stdout.split()
    if int(code) != 0:
        raise RuntimeError(f"{command[0]} failed ({int(code)}): {errors[-2000:]}")
    return Cost(float(cpu), int(peak_kib) / 1024, float(wall))


def fill_store(config: Config, specs: Sequence[ArticleSpec]) -> None:
    """The articles as a sync would have stored them: each raw page, then the article citing it."""
    with Store(config.state_dir) as store:
        save_articles(store, config, specs)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_hugo_site(folder: Path, specs: Sequence[ArticleSpec]) -> None:
    """The same articles as a Hugo site: one Markdown page each (front matter, then the body's HTML)."""
    (folder / "content" / "posts").mkdir(parents=True)
    (folder / "config.toml").write_text(HUGO_CONFIG, "utf-8")
    for name, text in HUGO_LAYOUTS.items():
        path = folder / "layouts" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    for spec in specs:
        front = [
            "---",
            f"title: {_quoted(spec.title)}",
            f"date: {spec.published.isoformat()}",
            f"summary: {_quoted(spec.summary)}",
            f"categories: [{_quoted(spec.news_type)}]",
            f"tags: [{', '.join(_quoted(topic) for topic in spec.topics)}]",
            "---",
        ]
        page = "\n".join(front) + "\n" + spec.body_html + "\n"
        (folder / "content" / "posts" / f"{spec.slug}.md").write_text(page, "utf-8")


def write_pelican_site(folder: Path, specs: Sequence[ArticleSpec]) -> None:
    """The same articles as Pelican HTML sources (its reader takes metadata from <meta> tags)."""
    (folder / "content").mkdir(parents=True)
    (folder / "pelicanconf.py").write_text(
        'SITENAME = "Benchmark"\nSITEURL = ""\nTIMEZONE = "Pacific/Auckland"\nDEFAULT_LANG = "en"\n'
        'FEED_ALL_RSS = "feed.xml"\nCATEGORY_FEED_RSS = "{slug}.xml"\nTAG_FEED_RSS = "tag-{slug}.xml"\n'
        "DEFAULT_PAGINATION = 20\n",
        "utf-8",
    )
    for spec in specs:
        meta = (
            f'<meta name="date" content="{spec.published.isoformat()}"><meta name="category" '
            f'content="{spec.news_type}"><meta name="tags" content="{", ".join(spec.topics)}">'
            f'<meta name="summary" content="{spec.summary}">'
        )
        page = f"<html><head><title>{spec.title}</title>{meta}</head><body>{spec.body_html}</body></html>\n"
        (folder / "content" / f"{spec.slug}.html").write_text(page, "utf-8")


def corpus(size: int) -> list[ArticleSpec]:
    """Two articles a day (as benchmarks/run.py's archives grow), unless that reaches back before 1992:
    50,000 would go back to 1958, and `rebuild` holds back a page dated before the web began (bounds.py),
    so the largest corpora have more a day instead."""
    specs = make_specs(size, today(), steady=True)
    first = EARLIEST.replace(year=EARLIEST.year + 1)
    if specs[-1].published >= first:
        return specs
    span = (today() - first).days - 1
    return [make_spec(serial, today() - timedelta(days=1 + serial * span // size)) for serial in range(size)]


def compare(size: int, workdir: Path) -> dict[str, Cost]:
    specs = corpus(size)
    costs: dict[str, Cost] = {}
    folder = workdir / f"panui-{size}"
    config_path = write_config(BASE_URL, folder)
    fill_store(load_config(config_path), specs)
    publish_script = PUBLISH.format(path=str(config_path))
    costs["Pānui: first publication"] = measured([sys.executable, "-c", publish_script], REPO_ROOT)
    rebuild = [sys.executable, "run.py", "rebuild", "--config", str(config_path)]
    costs["Pānui: rebuild"] = measured(rebuild, REPO_ROOT)
    hugo_site = workdir / f"hugo-{size}"
    write_hugo_site(hugo_site, specs)
    costs["Hugo"] = measured(["hugo", "--quiet", "--source", str(hugo_site), "--destination", "public"], hugo_site)
    if shutil.which("pelican"):
        pelican_site = workdir / f"pelican-{size}"
        write_pelican_site(pelican_site, specs)
        pelican = ["pelican", "content", "-o", "output", "-s", "pelicanconf.py", "-q"]
        costs["Pelican (for reference)"] = measured(pelican, pelican_site)
    return costs


def files_in(folder: Path) -> int:
    return sum(len(names) for _, _, names in os.walk(folder))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Pānui's full publication and rebuild against Hugo.")
    parser.add_argument("--sizes", default="1000,10000,50000", help="article counts, comma-separated")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: proves the comparison works")
    args = parser.parse_args(argv)
    if shutil.which("hugo") is None:
        print("error: hugo is not installed\nhint: apt-get install hugo (Debian's package)", file=sys.stderr)
        return 2
    sizes = [20, 60] if args.quick else sorted(int(size) for size in args.sizes.split(","))
    workdir = Path(tempfile.mkdtemp(prefix="panui-versus-"))
    rows = ["| N | what | CPU | peak RSS | wall | CPU ÷ Hugo's |", "|---|---|---|---|---|---|"]
    peaks: dict[int, float] = {}
    try:
        for size in sizes:
            costs = compare(size, workdir)
            hugo = costs["Hugo"]
            for name, cost in costs.items():
                ratio = f"{cost.cpu / hugo.cpu:.2f}" if hugo.cpu else "n/a"
                rows.append(
                    f"| {size:,} | {name} | {cost.cpu:.2f} s | {cost.peak_mib:.0f} MiB | {cost.wall:.1f} s | {ratio} |"
                )
            peaks[size] = max(costs["Pānui: first publication"].peak_mib, costs["Pānui: rebuild"].peak_mib)
            published = workdir / f"panui-{size}" / "output"
            built = workdir / f"hugo-{size}" / "public"
            rows.append(f"| {size:,} | files written: Pānui, Hugo | | | | {files_in(published)}, {files_in(built)} |")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("Machine: " + "; ".join(f"{key} {value}" for key, value in machine().items()))
    print("\n".join(rows))
    smallest, largest = min(peaks), max(peaks)
    print(f"\nPānui's peak RSS at {largest:,} ÷ at {smallest:,}: {peaks[largest] / peaks[smallest]:.2f} (target ≤ 1.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
