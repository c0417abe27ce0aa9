"""The five measurements of issue 8, each returning plain figures (seconds, counts, MiB) for run.py.

Every timed run happens in this process, on the calling thread, with the benchmark site answering
from its own threads: CPU figures are this thread's (time.thread_time), so the server's work is not
counted, and the pipeline and trafilatura are timed side by side, interleaved, on the same pages."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from unittest import mock

import trafilatura

import pipeline.sync.run
from benchmarks.corpus import ArticleSpec, SiteContent, make_spec, make_specs, today
from benchmarks.measure import BenchmarkError, Sample, median_sample, profile, sync_in_child, timed, write_config
from benchmarks.server import HTML, LAST_MODIFIED, Resource, Served, StaticSite
from pipeline.config import load_config
from pipeline.extract import extract_guarded
from pipeline.model import Config, Page, Source
from pipeline.publish import publish
from pipeline.reports import SyncReport
from pipeline.store import Store
from pipeline.sync.run import run_sync


@dataclass
class Bench:
    site: StaticSite
    workdir: Path  # state and output folders of the runs (deleted by run.py)
    out: Path  # profiles and results
    repeat: int

    def folder(self, name: str) -> Path:
        path = self.workdir / name
        shutil.rmtree(path, ignore_errors=True)
        return path

    def config(self, name: str) -> Config:
        return load_config(write_config(self.site.base_url, self.folder(name)))

    def serve(self, specs: Sequence[ArticleSpec]) -> SiteContent:
        content = SiteContent(self.site.base_url, specs)
        self.site.serve(content)
        return content


def _expect(report: SyncReport, *, new: int) -> None:
    found = sum(len(source.new) for source in report.sources)
    problems = [problem.describe() for problem in report.all_problems]
    if found != new or problems:
        raise BenchmarkError(f"expected {new} new articles and no problems, got {found}: {problems[:3]}")


def _pages(bench: Bench, specs: Sequence[ArticleSpec], bodies: Sequence[bytes]) -> list[Page]:
    now = datetime.now(UTC)
    urls = [bench.site.base_url.rstrip("/") + spec.path for spec in specs]
    headers = {"content-type": "text/html; charset=utf-8"}
    return [Page(url, url, 200, headers, body, now) for url, body in zip(urls, bodies, strict=True)]


def _extract_all(pages: Sequence[Page], source: Source) -> None:
    for page in pages:
        extract_guarded(page, source, page.fetched_at)


def _trafilatura_all(bodies: Sequence[bytes]) -> None:
    for body in bodies:
        trafilatura.extract(body)


def cold_sync(bench: Bench, count: int, *, profile_it: bool) -> dict[str, Any]:
    """Items 1 and 2: a first sync of `count` articles, and trafilatura and Pānui's extraction alone on
    the same pages (bytes in memory), interleaved run by run. Leaves the last run's folder for item 3."""
    specs = make_specs(count, today())
    bodies = bench.serve(specs).prepare()
    pages = _pages(bench, specs, bodies)
    syncs: list[Sample] = []
    trafilatura_runs: list[Sample] = []
    extraction_runs: list[Sample] = []
    for run in range(bench.repeat):
        config = bench.config(f"cold-{count}-{run}")
        report, sample = timed(partial(run_sync, config))
        _expect(report, new=count)
        syncs.append(sample)
        bench.site.take_requests()
        source = config.sources[0]
        extraction_runs.append(timed(partial(_extract_all, pages, source))[1])
        trafilatura_runs.append(timed(partial(_trafilatura_all, bodies))[1])
    if profile_it:
        config = bench.config(f"cold-{count}-profiled")
        profile(
            partial(run_sync, config), bench.out / f"profile-cold-sync-{count}.txt", f"cold sync of {count} articles"
        )
        sample_pages = bodies[:200]
        profile(
            partial(_trafilatura_all, sample_pages),
            bench.out / "profile-trafilatura.txt",
            f"trafilatura.extract on {len(sample_pages)} pages",
        )
    memory = sync_in_child(write_config(bench.site.base_url, bench.folder(f"cold-{count}-rss")), traced=False)
    traced = sync_in_child(write_config(bench.site.base_url, bench.folder(f"cold-{count}-traced")), traced=True)
    bench.site.take_requests()
    for child in (memory, traced):
        if child["new"] != count or child["problems"]:
            raise BenchmarkError(f"the memory run stored {child['new']} of {count} articles: {child['problems'][:3]}")
    sync, extract, extraction = median_sample(syncs), median_sample(trafilatura_runs), median_sample(extraction_runs)
    return {
        "articles": count,
        "page_bytes_mean": sum(map(len, bodies)) / count,
        "wall_per_article": sync.wall / count,
        "cpu_per_article": sync.cpu / count,
        "system_cpu_per_article": sync.system / count if sync.system is not None else None,
        "trafilatura_cpu_per_article": extract.cpu / count,
        "panui_extraction_cpu_per_article": extraction.cpu / count,
        "ratio": sync.cpu / extract.cpu,
        "peak_rss_mib": memory["peak_rss_mib"],
        "peak_rss_after_imports_mib": memory["peak_rss_after_imports_mib"],
        "tracemalloc_peak_mib": traced["tracemalloc_peak_mib"],
        "samples": [vars(sample) for sample in syncs],
        "folder": str(bench.workdir / f"cold-{count}-{bench.repeat - 1}"),
    }


def _why(served: Served, home: set[str]) -> str:
    if served.path == "/robots.txt":
        return "robots.txt (read once per run)"
    if served.path == "/":
        return "home page (listing and alerts)"
    if "sitemap" in served.path:
        return "sitemap index and urlset"
    if served.path in home:
        return "article listed on the home page (re-checked every run)"
    return "article due on the revisit schedule"


def _requests(served: Sequence[Served], home: set[str]) -> dict[str, Any]:
    reasons: Counter[str] = Counter()
    conditional: Counter[str] = Counter()
    not_modified: Counter[str] = Counter()
    for item in served:
        why = _why(item, home)
        reasons[why] += 1
        conditional[why] += item.conditional
        not_modified[why] += item.status == 304
    return {
        "requests": len(served),
        "bytes_in": sum(item.bytes_in for item in served),
        "bytes_out": sum(item.bytes_out for item in served),
        "by_reason": {why: [reasons[why], conditional[why], not_modified[why]] for why in reasons},
    }


def no_change_sync(bench: Bench, folder: Path, count: int) -> dict[str, Any]:
    """Item 3: syncs with nothing changed at the source, on the store a cold sync of `count` left; then
    one as if a day had passed, when the revisit schedule re-checks the young articles."""
    specs = make_specs(count, today())
    bench.serve(specs)
    config = load_config(folder / "sources.yaml")
    home = {spec.path for spec in specs[:3]}
    samples: list[Sample] = []
    runs: list[dict[str, Any]] = []
    for _ in range(bench.repeat):
        bench.site.take_requests()
        report, sample = timed(partial(run_sync, config))
        _expect(report, new=0)
        samples.append(sample)
        runs.append({**_requests(bench.site.take_requests(), home), "files_written": len(report.files_written)})
    profile(partial(run_sync, config), bench.out / "profile-no-change.txt", f"no-change sync, {count} stored")
    bench.site.take_requests()
    a_day_later = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1, hours=1)
    with mock.patch.object(pipeline.sync.run, "_now", return_value=a_day_later):
        report, later = timed(partial(run_sync, config))
    day = {**_requests(bench.site.take_requests(), home), "files_written": len(report.files_written)}
    later_day = today() + timedelta(days=1)
    young = sum(1 for spec in specs[3:] if (later_day - spec.published).days < 30)  # not counting the home page's
    sample = median_sample(samples)
    return {
        "stored": count,
        "wall": sample.wall,
        "cpu": sample.cpu,
        "runs": runs,
        "a_day_later": {**day, "wall": later.wall, "cpu": later.cpu, "young_articles": young},
    }


def save_articles(store: Store, config: Config, specs: Sequence[ArticleSpec]) -> None:
    """Store the articles as a sync would have, without fetching and extracting them: the raw page with
    the validators the site sends (so later syncs ask conditionally), then the article."""
    source = config.sources[0]
    now = datetime.now(UTC).replace(microsecond=0)
    for spec in specs:
        article = spec.article(source.base_url)
        served = Resource(spec.page(), HTML)
        headers = {"content-type": HTML, "etag": served.etag, "last-modified": LAST_MODIFIED}
        raw_id = store.remember_response(Page(article.url, article.url, 200, headers, served.body, now))
        store.save_article(
            article,
            source_id=source.id,
            timezone=source.timezone,
            requested_url=article.url,
            retrieved_at=now,
            raw_page_id=raw_id,
        )


def _manifest(store: Store, config: Config) -> dict[str, str]:
    """The key of every published file, as the publishing catalogue recorded it."""
    paths = [str(path.relative_to(config.output_dir)) for path in config.output_dir.rglob("*") if path.is_file()]
    catalogue = store.catalogue(config.state_dir)
    try:
        return catalogue.file_keys(paths)
    finally:
        catalogue.close()


def build_archive(bench: Bench, count: int) -> tuple[Config, dict[str, float]]:
    """A store of `count` articles put in directly (Store.save_article), published once."""
    config = bench.config(f"archive-{count}")
    with Store(config.state_dir) as store:
        _, filled = timed(lambda: save_articles(store, config, make_specs(count, today(), steady=True)))
        written, warmed = timed(lambda: publish(config, store))
    return config, {"fill_wall": filled.wall, "publish_all_wall": warmed.wall, "publish_all_files": len(written)}


def publish_one(bench: Bench, config: Config, count: int) -> dict[str, Any]:
    """Item 4: publishing after one new article, with `count` articles stored and published."""
    samples: list[Sample] = []
    runs: list[dict[str, Any]] = []
    with Store(config.state_dir) as store:
        for run in range(bench.repeat + 1):
            save_articles(store, config, [make_spec(count + run, today())])
            before = _manifest(store, config)
            if run == bench.repeat:
                profile(
                    partial(publish, config, store), bench.out / "profile-publish-one.txt", f"publish, {count} stored"
                )
                continue
            written, sample = timed(partial(publish, config, store))
            after = _manifest(store, config)
            samples.append(sample)
            rendered = sorted(path for path, key in after.items() if before.get(path) != key)
            runs.append({"rendered": len(rendered), "written": len(written), "paths": written, "outputs": len(after)})
    sample = median_sample(samples)
    return {"stored": count, "wall": sample.wall, "cpu": sample.cpu, "runs": runs}


def memory_by_archive(bench: Bench, archives: Sequence[tuple[Config, int]]) -> list[dict[str, Any]]:
    """Item 5: peak memory of a sync that finds one new article, for each archive size (in a child
    process each: RSS untraced, then the tracemalloc peak on a second new article)."""
    results: list[dict[str, Any]] = []
    for config, count in archives:
        specs = make_specs(count, today(), steady=True)
        with Store(config.state_dir) as store:
            stored = store.article_count()
        first, second = make_spec(count + 10_000, today()), make_spec(count + 10_001, today())
        bench.serve([first, *specs])
        memory = sync_in_child(config.path, traced=False)
        bench.serve([second, first, *specs])
        traced = sync_in_child(config.path, traced=True)
        bench.site.take_requests()
        for run in (memory, traced):
            if run["new"] != 1 or run["problems"]:
                raise BenchmarkError(f"the memory sync found {run['new']} new articles: {run['problems'][:3]}")
        results.append({"stored": stored, **memory, **{key: traced[key] for key in ("tracemalloc_peak_mib",)}})
        (bench.out / f"memory-top-{count}.txt").write_text("\n".join(traced["top_when_publishing"]) + "\n", "utf-8")
    config, count = archives[-1]  # what the largest archive's sync spends its time on (a third new article)
    third = make_spec(count + 10_002, today())
    bench.serve(
        [
            third,
            make_spec(count + 10_001, today()),
            make_spec(count + 10_000, today()),
            *make_specs(count, today(), steady=True),
        ]
    )
    profile(
        partial(run_sync, config),
        bench.out / f"profile-sync-{count}-stored.txt",
        f"sync of 1 new article, {count} stored",
    )
    bench.site.take_requests()
    return results
