"""The comparison with Hugo (`python benchmarks/versus.py`) builds the same articles both ways and
reports each tool's own CPU and memory. No timing is asserted: this proves the comparison measures
what it says (both sites really built, the figures read from each child process)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from benchmarks import versus
from benchmarks.corpus import make_specs, today

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("hugo") is None, reason="needs Debian's hugo package (.ci/run installs it)"),
]


def test_the_comparison_builds_both_sites_and_prints_each_cost(capsys: pytest.CaptureFixture[str]) -> None:
    assert versus.main(["--quick"]) == 0
    printed = capsys.readouterr().out
    for size in ("20", "60"):
        for what in ("Pānui: first publication", "Pānui: rebuild", "Hugo"):
            row = next(line for line in printed.splitlines() if line.startswith(f"| {size} | {what} |"))
            cpu = float(row.split("|")[3].strip().removesuffix(" s"))
            assert cpu > 0, row
        files = next(line for line in printed.splitlines() if line.startswith(f"| {size} | files written"))
        panui, hugo = (int(count) for count in files.split("|")[-2].split(","))
        assert panui > int(size) and hugo > int(size), "each tool wrote a page per article, and more"
    assert "peak RSS at 60 ÷ at 20" in printed


def test_the_hugo_site_holds_each_article_once_with_its_front_matter(tmp_path: Path) -> None:
    folder = tmp_path / "site"
    specs = make_specs(5, today(), steady=True)
    versus.write_hugo_site(folder, specs)
    pages = sorted((folder / "content" / "posts").glob("*.md"))
    assert len(pages) == 5
    text = (folder / "content" / "posts" / f"{specs[0].slug}.md").read_text("utf-8")
    assert f'title: "{specs[0].title}"' in text and specs[0].body_html in text


def test_a_command_is_charged_its_own_peak_memory_not_the_benchmarks() -> None:
    """The benchmark holds every generated article; a child forked from it would carry that memory in
    its peak RSS (Linux keeps the peak across exec), so a 50,000-article run would look like growth."""
    held = bytearray(256 * 1024 * 1024)
    held[::4096] = b"\x01" * len(range(0, len(held), 4096))  # resident, not only reserved
    small = versus.measured([sys.executable, "-c", "pass"], Path.cwd())
    large = versus.measured([sys.executable, "-c", "x = bytearray(96 * 1024 * 1024)"], Path.cwd())
    assert small.peak_mib < 64 and small.cpu > 0
    assert 96 < large.peak_mib < small.peak_mib + 128
    with pytest.raises(RuntimeError, match=r"failed \(3\)"):
        versus.measured([sys.executable, "-c", "raise SystemExit(3)"], Path.cwd())
