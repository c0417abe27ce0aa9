"""Does one folder of 50,000+ article folders stay fast? `python benchmarks/folders.py [--sizes
1000,10000,50000,100000] [--quick]`.

Every archived article is `<source>/articles/<slug>/index.html`, so one folder holds a sub-folder per
article (issue 20: "folder layouts that stay fast with 50,000+ articles"). This writes article pages
through Pānui's own OutputWriter (a temporary copy, fdatasync, rename, fsync of the folders; committed a
batch at a time as a publication does) into one such folder until it holds each size, and prints the
kernel's CPU per article over each stretch, as a ratio to the first stretch's, measured in the same run;
then the cost of adding 100 more articles to the full folder (what each later sync pays)."""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

if not __package__:  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.files import OutputWriter

PAGE = b"<!doctype html>" + b"x" * 12_800  # the benchmark corpus's average page
BATCH = 250  # files per commit, as a publication commits its outputs


def kernel_seconds() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_stime


def write_articles(root: Path, first: int, count: int) -> float:
    """Kernel CPU seconds to write articles first..first+count-1 into root/inz/articles/."""
    before = kernel_seconds()
    with OutputWriter(root) as writer:
        for number in range(first, first + count):
            writer.write(f"inz/articles/announcement-number-{number}-about-visas/index.html", PAGE)
            if (number + 1 - first) % BATCH == 0:
                writer.commit()
    return kernel_seconds() - before


def measure(sizes: Sequence[int], root: Path) -> list[tuple[str, float]]:
    """(stretch, kernel microseconds per article) for each stretch of sizes, then 100 more at the end."""
    rows, done = [], 0
    for size in sizes:
        rows.append((f"{done:,} to {size:,}", write_articles(root, done, size - done) / (size - done) * 1e6))
        done = size
    rows.append((f"100 more beside {done:,}", write_articles(root, done, 100) / 100 * 1e6))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000,100000", help="folder sizes, ascending")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: proves it works")
    args = parser.parse_args(argv)
    sizes = [100, 300] if args.quick else [int(size) for size in args.sizes.split(",")]
    root = Path(tempfile.mkdtemp(prefix="panui-folders-"))
    try:
        rows = measure(sizes, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    anchor = rows[0][1]
    print("| articles in the folder | kernel CPU per article | × the first stretch |\n|---|---|---|")
    for stretch, micros in rows:
        print(f"| {stretch} | {micros:.0f} µs | {micros / anchor:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
