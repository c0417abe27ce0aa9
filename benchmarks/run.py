"""What a sync costs where users feel it, with trafilatura beside it for scale. `python benchmarks/run.py [--quick]`.

Serves a generated copy of the INZ site on 127.0.0.1, runs Pānui in this process against it and prints
a Markdown table; profiles and the raw figures (results.json) go to --out. See BENCHMARKS.md."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if not __package__:  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.corpus import make_specs, today
from benchmarks.measure import REPO_ROOT, machine
from benchmarks.processes import whole_processes
from benchmarks.scenarios import (
    Bench,
    build_archive,
    cold_sync,
    memory_by_archive,
    no_change_sync,
    publish_one,
)
from benchmarks.search import search_queries
from benchmarks.server import StaticSite

Row = tuple[str, str, str]  # measure, value, target


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def _mark(ok: bool) -> str:
    return "met" if ok else "MISSED"


def cold_rows(result: dict[str, Any]) -> list[Row]:
    n = result["articles"]
    ratio = result["ratio"]
    return [
        (f"1. cold sync, N={n}: wall per article", _ms(result["wall_per_article"]), ""),
        (f"1. cold sync, N={n}: CPU per article (whole pipeline)", _ms(result["cpu_per_article"]), ""),
        (
            f"1. cold sync, N={n}: of which the kernel's (files, folders, sockets)",
            _ms(result["system_cpu_per_article"]) if result["system_cpu_per_article"] is not None else "not told here",
            "",
        ),
        (
            f"1. cold sync, N={n}: peak RSS of the process (VmHWM)",
            f"{result['peak_rss_mib']:.0f} MiB ({result['peak_rss_after_imports_mib']:.0f} MiB after imports)",
            "",
        ),
        (f"1. cold sync, N={n}: tracemalloc peak during the sync", f"{result['tracemalloc_peak_mib']:.1f} MiB", ""),
        (f"2. trafilatura.extract, N={n}: CPU per article", _ms(result["trafilatura_cpu_per_article"]), ""),
        (f"2. Pānui extraction alone, N={n}: CPU per article", _ms(result["panui_extraction_cpu_per_article"]), ""),
        # For scale only: the CPU-per-article race against trafilatura is over (issue 16); what users feel
        # is the daemon's steady state and the cost of one new article in a large archive (items 3 to 5).
        (f"2. ratio pipeline / trafilatura, N={n}", f"{ratio:.2f}", "for scale"),
    ]


def no_change_rows(result: dict[str, Any]) -> list[Row]:
    n = result["stored"]
    run = result["runs"][-1]
    later = result["a_day_later"]
    conditional = sum(counts[1] for counts in run["by_reason"].values())
    discovery_only = all(why.startswith(("robots", "home", "sitemap", "article listed")) for why in run["by_reason"])
    return [
        (
            f"3. no-change sync, {n} stored: requests",
            f"{run['requests']} ({conditional} conditional)",
            f"discovery only: {_mark(discovery_only)}",
        ),
        (
            f"3. no-change sync, {n} stored: bytes",
            f"{run['bytes_in']} sent, {run['bytes_out']} received (headers included)",
            "",
        ),
        (
            f"3. no-change sync, {n} stored: files written",
            str(run["files_written"]),
            f"0: {_mark(not run['files_written'])}",
        ),
        (f"3. no-change sync, {n} stored: wall", _ms(result["wall"]), ""),
        (f"3. no-change sync, {n} stored: CPU", _ms(result["cpu"]), f"well under 1 s: {_mark(result['cpu'] < 0.5)}"),
        (
            f"3. the same, a day later (~{later['young_articles']} more articles under 30 days old)",
            f"{later['requests']} requests, {later['bytes_out']} bytes received, {later['files_written']} files, "
            f"CPU {_ms(later['cpu'])}",
            "",
        ),
    ]


def publish_rows(result: dict[str, Any], archive: dict[str, float]) -> list[Row]:
    n = result["stored"]
    run = result["runs"][-1]
    return [
        (f"4. publish after 1 new article, {n} stored: wall", _ms(result["wall"]), ""),
        (f"4. publish after 1 new article, {n} stored: CPU", _ms(result["cpu"]), ""),
        (
            f"4. publish after 1 new article, {n} stored: outputs rendered / files written",
            f"{run['rendered']} / {run['written']} of {run['outputs']} files",
            "proportional to the change",
        ),
        (
            f"4. (for scale) first publication of all {n}: wall",
            f"{archive['publish_all_wall']:.1f} s, {archive['publish_all_files']:.0f} files",
            "",
        ),
    ]


def memory_rows(results: Sequence[dict[str, Any]]) -> list[Row]:
    rows: list[Row] = [
        (
            f"5. sync finding 1 new article, {result['stored']} stored: peak RSS / tracemalloc peak",
            f"{result['peak_rss_mib']:.0f} MiB ({result['peak_rss_after_imports_mib']:.0f} after imports) / "
            f"{result['tracemalloc_peak_mib']:.1f} MiB; CPU {_ms(result['cpu'])}",
            "",
        )
        for result in results
    ]
    if len(results) >= 2:
        small, large = results[0], results[-1]
        extra = (large["stored"] - small["stored"]) / 1000
        growth = (large["tracemalloc_peak_mib"] - small["tracemalloc_peak_mib"]) / extra if extra else 0.0
        rss = (large["peak_rss_mib"] - small["peak_rss_mib"]) / extra if extra else 0.0
        rows.append(("5. growth per 1,000 more stored articles", f"{rss:.1f} MiB RSS, {growth:.1f} MiB traced", "~0"))
    return rows


def process_rows(result: dict[str, Any]) -> list[Row]:
    floor = result["floor"]

    def against_floor(cpu: float) -> str:
        return f"{_ms(cpu)} CPU, {cpu / floor:.2f}× the floor"

    no_change, one_new = result["no_change"], result["one_new"]
    rows: list[Row] = [
        ("6. the floor: python -c 'import requests, lxml.html, sqlite3, yaml'", f"{_ms(floor)} CPU", "the anchor"),
        ("6. run.py --help", against_floor(result["help"]), f"≤ 1.2×: {_mark(result['help'] <= 1.2 * floor)}"),
        ("6. run.py status", against_floor(result["status"]), f"≤ 1.2×: {_mark(result['status'] <= 1.2 * floor)}"),
    ]
    rows += [
        (f"6. run.py sync finding nothing new, {n} stored", against_floor(cpu), f"≤ 2×: {_mark(cpu <= 2 * floor)}")
        for n, cpu in no_change.items()
    ]
    rows += [
        (f"6. run.py sync publishing 1 new article, {n} stored", against_floor(cpu), "") for n, cpu in one_new.items()
    ]
    if len(no_change) > 1:
        (small, quiet_small), *_, (large, quiet_large) = no_change.items()
        growth = quiet_large / quiet_small - 1
        rows.append(
            (f"6. nothing new, {large} / {small} stored", f"{growth:+.0%}", f"within 20 %: {_mark(growth <= 0.2)}")
        )
        new_small, *_, new_large = one_new.values()
        growth = new_large / new_small - 1
        rows.append(
            (f"6. 1 new article, {large} / {small} stored", f"{growth:+.0%}", f"within 30 %: {_mark(growth <= 0.3)}")
        )
    return rows


def search_rows(runs: Sequence[dict[str, Any]], n: int) -> list[Row]:
    rows: list[Row] = []
    for run in runs:
        how = "typed a letter at a time" if run["typed"] else "one input"
        target = ""
        if not run["typed"] and len(run["query"]) > 1:
            target = f"under 300 KB: {_mark(run['bytes'] < 300_000)}"
        if len(run["query"]) == 1:
            target = f"first keystroke within 200 ms: {_mark(run['ms'] < 200)}"
        rows.append(
            (
                f"9. search \u201c{run['query']}\u201d ({how}), {n} articles",
                f"{run['bytes'] / 1000:.1f} KB ({run['sent'] / 1000:.1f} KB gzipped) in {run['files']} files; "
                f"first results in {run['ms']:.0f} ms ({run['status']})",
                target,
            )
        )
    return rows


def table(rows: Sequence[Row]) -> str:
    lines = ["| measure | value | target |", "|---|---|---|"]
    lines += [f"| {measure} | {value} | {target} |" for measure, value, target in rows]
    return "\n".join(lines)


def requests_table(result: dict[str, Any]) -> str:
    lines = ["| run | why | requests | conditional | answered 304 |", "|---|---|---|---|---|"]
    for label, run in (("no change", result["runs"][-1]), ("a day later", result["a_day_later"])):
        for why, (count, conditional, not_modified) in run["by_reason"].items():
            lines.append(f"| {label} | {why} | {count} | {conditional} | {not_modified} |")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmarks of Pānui (see BENCHMARKS.md).")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one run each: proves the benchmark works")
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure; each figure is their median")
    parser.add_argument("--sizes", default="100,1000", help="article counts of the cold syncs (items 1-3)")
    parser.add_argument("--archive", type=int, default=10_000, help="stored articles for items 4 and 5")
    parser.add_argument("--baseline", type=int, default=1_000, help="the smaller archive item 5 compares with")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks" / "out", help="profiles, results.json")
    parser.add_argument(
        "--items", default="1,2,3,4,5,6,9", help="which measurements to run (6: whole processes, 9: search)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the state and output folders of the runs")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat, args.sizes, args.archive, args.baseline = 1, "8", 40, 12
    args.sizes = sorted(int(size) for size in str(args.sizes).split(","))
    args.items = sorted(int(item) for item in str(args.items).split(","))
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    items = set(args.items)
    args.out.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="panui-bench-"))
    results: dict[str, Any] = {"machine": machine(), "repeat": args.repeat}
    rows: list[Row] = []
    try:
        with StaticSite(lambda path: None, max_lifetime=3 * 3600) as site:
            bench = Bench(site=site, workdir=workdir, out=args.out, repeat=args.repeat)
            if items & {1, 2, 3}:
                results["cold"] = [cold_sync(bench, n, profile_it=n == args.sizes[0]) for n in args.sizes]
                for result in results["cold"]:
                    rows += cold_rows(result)
            if 3 in items:
                results["no_change"] = no_change_sync(bench, Path(results["cold"][-1]["folder"]), args.sizes[-1])
                rows += no_change_rows(results["no_change"])
            if items & {4, 5, 6, 9}:
                archive, results["archive"] = build_archive(bench, args.archive)
            if 9 in items:  # before item 4 adds articles: the archive as built, N articles
                results["search"] = search_queries(archive.output_dir)
                rows += search_rows(results["search"], args.archive)
            if 4 in items:
                results["publish"] = publish_one(bench, archive, args.archive)
                rows += publish_rows(results["publish"], results["archive"])
            if 5 in items:
                baseline, _ = build_archive(bench, args.baseline)
                results["memory"] = memory_by_archive(bench, [(baseline, args.baseline), (archive, args.archive)])
                rows += memory_rows(results["memory"])
            if 6 in items:
                small = args.sizes[-1]
                stores = [(archive.path, args.archive, make_specs(args.archive, today(), steady=True))]
                if small != args.archive:  # (of the same size, the archive itself: built again, it would be wiped)
                    small_archive, _ = build_archive(bench, small)  # (built as the archive is: two articles a day)
                    stores.insert(0, (small_archive.path, small, make_specs(small, today(), steady=True)))
                results["processes"] = whole_processes(bench, stores)
                rows += process_rows(results["processes"])
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    results["machine"]["load average at the end"] = machine()["load average"]
    (args.out / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n", "utf-8")
    print("Machine: " + "; ".join(f"{key} {value}" for key, value in results["machine"].items()))
    print(f"Each figure is the median of {args.repeat} run(s); CPU is the pipeline thread's (time.thread_time).\n")
    print(table(rows))
    if "no_change" in results:
        print("\nRequests of the no-change syncs, by reason:\n")
        print(requests_table(results["no_change"]))
    print(f"\nProfiles and results.json: {args.out}" + (f"; run folders kept in {workdir}" if args.keep else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
