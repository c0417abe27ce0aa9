"""The benchmark (`python benchmarks/run.py`, issue 8) works end to end on a tiny site, and the fast
paths it led to give the same answers as the code they replaced. No timing is asserted: these tests
prove the benchmark measures what it says, not how fast anything is."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from benchmarks import folders, run
from benchmarks.corpus import make_specs, today
from pipeline.config import load_config
from pipeline.extract.article import extract_article
from pipeline.model import Page
from tests.helpers import REPO_ROOT

QuickRun = tuple[dict[str, Any], str, Path]  # results.json, what was printed, the --out folder


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> QuickRun:
    out = tmp_path_factory.mktemp("bench-out")
    capture = tmp_path_factory.mktemp("stdout") / "stdout.txt"
    with capture.open("w", encoding="utf-8") as stream, pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdout", stream)
        assert run.main(["--quick", "--out", str(out)]) == 0
    return json.loads((out / "results.json").read_text("utf-8")), capture.read_text("utf-8"), out


@pytest.mark.e2e
def test_quick_run_prints_every_measurement_with_its_machine(quick_run: QuickRun) -> None:
    _, printed, _ = quick_run
    assert printed.startswith("Machine: cpu ")
    for item in ("1. cold sync", "2. trafilatura.extract", "2. ratio pipeline / trafilatura", "3. no-change sync"):
        assert f"| {item}" in printed
    for item in ("4. publish after 1 new article", "5. sync finding 1 new article", "5. growth per 1,000"):
        assert f"| {item}" in printed
    for item in (
        "6. the floor",
        "6. run.py --help",
        "6. run.py status",
        "6. run.py sync finding nothing new, 8 stored",
    ):
        assert f"| {item}" in printed
    assert "| 6. run.py sync publishing 1 new article, 40 stored" in printed
    assert "Requests of the no-change syncs, by reason" in printed


@pytest.mark.e2e
def test_cold_sync_stores_every_article_and_measures_both_extractors(
    quick_run: QuickRun,
) -> None:
    results, _, out = quick_run
    [cold] = results["cold"]
    assert cold["articles"] == 8  # the run itself fails unless the sync stored all 8 without a problem
    for figure in ("cpu_per_article", "trafilatura_cpu_per_article", "peak_rss_mib", "tracemalloc_peak_mib"):
        assert cold[figure] > 0
    # The kernel's share of the sync's CPU, where the system tells it (Linux): part of the whole, not more.
    assert cold["system_cpu_per_article"] is None or 0 <= cold["system_cpu_per_article"] <= cold["cpu_per_article"]
    assert (out / "profile-cold-sync-8.txt").read_text("utf-8").startswith("# cold sync of 8 articles")
    assert "run_sync" in (out / "profile-cold-sync-8.txt").read_text("utf-8")  # the profile is of the sync


@pytest.mark.e2e
def test_a_system_that_does_not_tell_the_kernel_time_still_gets_its_table(quick_run: QuickRun) -> None:
    results, _, _ = quick_run
    [cold] = results["cold"]

    rows = run.cold_rows({**cold, "system_cpu_per_article": None})  # no RUSAGE_THREAD (macOS)

    assert ("1. cold sync, N=8: of which the kernel's (files, folders, sockets)", "not told here", "") in rows


@pytest.mark.e2e
def test_no_change_sync_asks_conditionally_and_writes_nothing(quick_run: QuickRun) -> None:
    results, _, _ = quick_run
    no_change = results["no_change"]
    for run_figures in (*no_change["runs"], no_change["a_day_later"]):
        assert run_figures["files_written"] == 0
        for why, (count, conditional, not_modified) in run_figures["by_reason"].items():
            assert count == conditional == not_modified, why  # every request conditional, every answer 304
    assert set(no_change["runs"][-1]["by_reason"]) == {
        "robots.txt (read once per run)",
        "home page (listing and alerts)",
        "sitemap index and urlset",
        "article listed on the home page (re-checked every run)",
    }


@pytest.mark.e2e
def test_publishing_one_new_article_renders_a_part_of_the_site(quick_run: QuickRun) -> None:
    results, _, out = quick_run
    publish = results["publish"]
    last = publish["runs"][-1]
    assert 0 < last["written"] <= last["rendered"] < last["outputs"]
    assert any(path.startswith("inz/articles/") for path in last["paths"])
    assert {"feed.xml", "index.html"} <= set(last["paths"])
    assert (out / "profile-publish-one.txt").is_file()


@pytest.mark.e2e
def test_memory_is_measured_for_both_archive_sizes(quick_run: QuickRun) -> None:
    results, _, _ = quick_run
    small, large = results["memory"]
    assert small["stored"] < large["stored"]
    for figures in (small, large):
        assert figures["peak_rss_mib"] >= figures["peak_rss_after_imports_mib"] > 0
        assert figures["tracemalloc_peak_mib"] > 0


def test_generated_articles_are_what_extraction_finds_in_their_pages() -> None:
    """The benchmark fills big stores directly from ArticleSpec.article(); that must equal what a sync
    would have stored, or later syncs would see every article as edited."""
    source = load_config(REPO_ROOT / "sources.yaml").sources[0]
    base_url = "https://www.immigration.govt.nz/"
    specs = make_specs(12, today())
    for spec in specs:
        url = base_url.rstrip("/") + spec.path
        page = Page(url, url, 200, {"content-type": "text/html; charset=utf-8"}, spec.page(), datetime.now(UTC))
        assert extract_article(page, source) == spec.article(base_url)
    assert len({spec.published.year for spec in make_specs(100, today())}) >= 3


@pytest.mark.e2e
def test_whole_processes_are_measured_at_both_sizes_beside_the_floor(quick_run: QuickRun) -> None:
    results, _, _ = quick_run
    processes = results["processes"]  # the run itself fails unless each sync found what it was set up to find

    assert min(processes["floor"], processes["help"], processes["status"]) > 0
    assert set(processes["no_change"]) == set(processes["one_new"]) == {"8", "40"}


@pytest.mark.e2e
def test_whole_processes_run_when_the_sizes_are_the_same(tmp_path: Path) -> None:
    # Item 6's smaller store is built as the archive is, in a folder named by its size: of the archive's
    # size, that is the archive's folder (wiped and built again, one store measured twice over).
    argv = ["--items", "6", "--repeat", "1", "--sizes", "8", "--archive", "8", "--out", str(tmp_path)]
    with (tmp_path / "stdout.txt").open("w", encoding="utf-8") as stream, pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdout", stream)
        assert run.main(argv) == 0  # (it raised: the sync found 0 new articles, not 1)
    processes = json.loads((tmp_path / "results.json").read_text("utf-8"))["processes"]
    assert set(processes["no_change"]) == set(processes["one_new"]) == {"8"}


@pytest.mark.e2e
def test_search_measures_in_chromium_what_a_query_downloads(quick_run: QuickRun) -> None:
    results, printed, _ = quick_run
    runs = {(run["query"], run["typed"]): run for run in results["search"]}
    employers = runs["employers", False]  # a word of every generated article's summary

    assert employers["status"] == "40 articles match \u201cemployers\u201d."
    assert employers["files"] >= 2 and employers["bytes"] > 0  # its shard, and what the results show
    assert runs["employers", True]["status"] == employers["status"]  # typed a letter at a time, the same
    assert "| 9. search \u201cemployers\u201d (one input), 40 articles |" in printed


def test_the_folders_benchmark_prints_each_stretch_as_a_ratio_to_the_first(capsys: pytest.CaptureFixture[str]) -> None:
    assert folders.main(["--quick"]) == 0
    printed = capsys.readouterr().out
    assert "| 0 to 100 | " in printed and " | 1.00 |" in printed
    assert "| 100 to 300 | " in printed and "| 100 more beside 300 | " in printed
