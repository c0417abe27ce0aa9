"""Store contents -> feeds and archive pages.

`publish` finds the articles whose shown state changed since the last publication (the catalogue in
state_dir records what each was and where it was listed), plans the outputs of the collections they
are and were listed in, renders those whose key changed, and writes them atomically, touching only files
whose bytes changed. `render_site` renders everything in memory (pure: the same store gives the same
bytes, and they are the bytes `publish` writes)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol

from pipeline.batching import batched
from pipeline.files import OutputWriter, flush_folders, flush_tree, remove_leftovers, write_atomic
from pipeline.model import NZ, Config, StoredArticle, Version
from pipeline.publish import saved, search
from pipeline.publish.collections import SITE, memberships, sort_key
from pipeline.publish.dated import DatedEvent, follow, to_json
from pipeline.publish.plan import Output, Scope, SitePlanner
from pipeline.publish.render import StoreView
from pipeline.publish.search import GROUP, search_words
from pipeline.store import PUBLISH_FILE, Catalogue, Membership, catalogue_errors, shard_of

IN_PROGRESS_FILE = "publishing"  # present while a publication writes; left behind if it was killed
INDEX_CHUNK = 500
LISTED_AT_ONCE = 2000  # articles the outputs of one batch may list (a year's page lists hundreds)


class ArticleStore(StoreView, Protocol):
    def catalogue(self, state_dir: Path | None) -> Catalogue: ...


def render_site(config: Config, store: ArticleStore, *, now: datetime | None = None) -> dict[str, bytes]:
    """Every output file, keyed by its path under output_dir (a catalogue in memory: nothing is written).
    `now`: the moment the calendar's pages count from (today in NZ)."""
    with closing(store.catalogue(None)) as catalogue:
        scope = _index(config, store, catalogue, catalogue.all_ids(), everything=True)
        files: dict[str, bytes] = {}
        for output in SitePlanner(config, catalogue, store, _today(now)).plan(scope):
            files.update(output.render())
        return files


def publish(config: Config, store: ArticleStore, *, full: bool = False, now: datetime | None = None) -> list[str]:
    """Write what changed; return the paths whose bytes changed. `full` plans every output (and writes
    the ones whose bytes differ), as does a publication after the settings, the templates or Pānui
    changed, after one was killed, or when a published file has gone missing. `now` (the run's start)
    dates the calendar's pages: what is coming up changes with the day, not only with the articles."""
    marker = config.state_dir / IN_PROGRESS_FILE
    interrupted = marker.exists()
    if full or interrupted:
        # The last publication was killed while writing: delete its temporary files. Walking the whole
        # output is only worth it then (callers hold the store lock, so no other run is writing).
        remove_leftovers(config.output_dir)
    if interrupted and config.output_dir.is_dir():
        # Its renames may not be on disk yet: this publication would find those files current and
        # record them as published.
        flush_tree(config.output_dir)
    (config.state_dir / "publish-manifest.json").unlink(missing_ok=True)  # the file earlier Pānui kept instead
    with closing(store.catalogue(config.state_dir)) as catalogue, catalogue_errors(config.state_dir / PUBLISH_FILE):
        return _publish(config, store, catalogue, marker, _today(now), full=full, interrupted=interrupted)


def _today(now: datetime | None) -> date:
    return (now or datetime.now(UTC)).astimezone(NZ).date()


def _publish(
    config: Config, store: StoreView, catalogue: Catalogue, marker: Path, today: date, *, full: bool, interrupted: bool
) -> list[str]:
    planner = SitePlanner(config, catalogue, store, today)
    site = planner.base_key
    every_file = full  # rebuild: render every output, whatever the recorded keys say
    full = full or interrupted or catalogue.state("site") != site or _any_missing(config.output_dir, catalogue)
    changed = catalogue.all_ids() if full else catalogue.changed_ids()

    def mark_in_progress() -> None:
        if not marker.exists():
            # On disk before anything it guards: a power cut must not keep the catalogue's changes (or
            # temporary copies) and lose the marker that has the next run repair them.
            write_atomic(marker, f"{os.getpid()}\n".encode())
            flush_folders([marker.parent])

    if changed or full:
        mark_in_progress()  # the catalogue is about to move ahead of output/
    scope = _index(config, store, catalogue, changed, everything=full)
    # What goes is found before anything is written (writing changes none of it): a search file can go
    # only if an earlier publication wrote it, which is asked first, so a first publication does not read
    # the whole archive again to find that none of its groups of results is empty (0.27 s at 10,000).
    removed = planner.removed(scope)
    # Even a publication of the alert feeds alone leaves temporary copies if it is killed: the marker
    # has the next run clean them up.
    with OutputWriter(config.output_dir, before_first_copy=mark_in_progress) as writer:
        _write(planner.plan(scope), writer, catalogue, config.output_dir, every_file=every_file, keep=full)
    if full:
        # Everything was planned: any file an earlier publication wrote that no output claims now is
        # stale (a source taken out of sources.yaml, a removal a killed publication did not finish).
        removed += catalogue.unplanned_files()
    _remove(removed, catalogue, config.output_dir)
    if changed or full:
        catalogue.set_state("site", site)
        catalogue.settle(changed, everything=full)
    marker.unlink(missing_ok=True)
    return writer.written


def _index(
    config: Config, store: StoreView, catalogue: Catalogue, article_ids: Sequence[int], *, everything: bool
) -> Scope:
    """Bring the catalogue up to date for `article_ids`; the scope is every collection they were or are
    now listed in (all of them when the year list changed: every listing links to each year)."""
    sources = {source.id: source for source in config.sources}
    scope = Scope()
    years_before = {info.collection for info in catalogue.collections("year")}
    for chunk in batched(article_ids, INDEX_CHUNK):
        for members in catalogue.memberships(chunk).values():
            scope.add(members)
        listed = []
        stored_articles = [item for item in catalogue.articles(chunk) if item.source_id in sources]
        # Every version, for the calendar's dates; the current one's body gives the search words too.
        versions = store.versions(item.id for item in stored_articles)
        for stored in stored_articles:  # (a source no longer configured: its articles are not published)
            words, events, selected = _read(config, stored, versions.get(stored.id, []))
            last_day = events[-1].day.isoformat() if events else ""  # (in date order)
            now = memberships(stored, sources[stored.source_id]) + selected
            scope.add(now)
            listed.append((stored.id, sort_key(stored), words, to_json(events), last_day, now))
            scope.article_ids.append(stored.id)
        for folder in catalogue.index(listed, chunk):
            # A topic or type renamed (now spelled as its newest article spells it): every year page
            # of it shows the name.
            for kind in ("topic-year", "type-year"):
                scope.add(
                    Membership(info.collection, kind, folder, info.name) for info in catalogue.collections(kind, folder)
                )
    _search_scope(catalogue, scope, article_ids, everything=everything)
    years = catalogue.collections("year")
    if everything or {info.collection for info in years} != years_before:
        scope.add(Membership(info.collection, "year", "", info.name) for info in years)
    if everything or scope.collections:
        # The site's and every source's pages exist even before they list anything, and link to each year.
        scope.add([Membership(SITE, "site", "", ""), *saved.configured(config)])
        scope.add(Membership(f"{source.id}/", "source", "", source.name) for source in config.sources)
    return scope


def _read(
    config: Config, stored: StoredArticle, versions: Sequence[Version]
) -> tuple[str, list[DatedEvent], list[Membership]]:
    """An article's search words, dates and subscriptions, from one reading of its current body (reading
    costs more than all the rest: once for the words, the dates and the subscriptions' `words`). The
    current body is the version the article's current_version names (the store's own join)."""
    from pipeline.fragment import fragment_text, read_fragment  # (a publication with no article to read skips it)

    body = next((version.article.body_html for version in reversed(versions) if version.number == stored.version), "")
    article = replace(stored.article, body_html=body)
    tree = read_fragment(body)
    words = search_words(article, fragment_text(tree))
    if stored.kind == "watch":  # a watched page: in no listing, feed or calendar of articles
        return words, [], []
    selected = saved.selected_by(config, article, stored.source_id, lambda: fragment_text(tree, "\n"))
    # (The newest version is the current one: compared, not assumed, as a wrong tree would give wrong dates.)
    newest = tree if versions and versions[-1].article.body_html == body else None
    return words, follow(stored.article.url, versions, newest), selected


def _search_scope(catalogue: Catalogue, scope: Scope, article_ids: Sequence[int], *, everything: bool) -> None:
    """Bring the search postings up to date; the scope gains the files of the words whose postings
    changed and the result groups of the articles (every file of the index when `everything`)."""
    terms = catalogue.update_search(article_ids, search.PAGE)  # (read here, so that a test may set it)
    if everything:
        scope.search_shards.update(catalogue.search_shards())
        terms.update(dict.fromkeys(catalogue.paged_terms(), 1))
    scope.search_shards.update(shard_of(term) for term in terms)
    scope.search_terms.update(terms)
    scope.search_groups.update(article_id // GROUP for article_id in article_ids)


def _write(
    outputs: Iterable[Output], writer: OutputWriter, catalogue: Catalogue, root: Path, *, every_file: bool, keep: bool
) -> None:
    """Render and write each output whose key changed (or whose file is missing; or each output when
    `every_file`, which restores files edited by hand); record the new keys. Unchanged bytes are never
    rewritten either way. When `keep` (a full publication), every output's paths are noted as planned."""
    # One query for the recorded keys of a batch; its outputs hold their articles until it is written.
    for batch in batched(outputs, INDEX_CHUNK // 4, lambda output: output.weight, LISTED_AT_ONCE):
        paths = [path for output in batch for path in output.paths]
        known = {} if every_file else catalogue.file_keys(paths)
        if keep:
            catalogue.plan_files(paths)
        done: list[tuple[str, str]] = []
        for output in batch:
            if known and all(known.get(path) == output.key and (root / path).is_file() for path in output.paths):
                continue
            for path, data in sorted(output.render().items()):
                writer.write(path, data)
            done += [(path, output.key) for path in output.paths]
        writer.commit()  # the files in place before their keys are recorded
        catalogue.record_files(done)


def _remove(paths: Sequence[str], catalogue: Catalogue, root: Path) -> None:
    """Delete the pages and feeds of collections that list nothing any more (no dangling old copies)."""
    for path in paths:
        (root / path).unlink(missing_ok=True)
    parents = list(dict.fromkeys((root / path).parent for path in paths))
    emptied: list[Path] = []
    for folder in parents:  # a folder left empty goes too (a web server would show it once existed)
        while folder != root and folder.is_relative_to(root):
            try:
                folder.rmdir()
            except OSError:  # not empty, or gone already: it stays as it is
                break
            emptied.append(folder)
            folder = folder.parent
    folders = [folder for folder in dict.fromkeys([*parents, *(gone.parent for gone in emptied)]) if folder.is_dir()]
    if folders:  # on disk before the catalogue forgets them, or a power cut could bring back an orphan
        flush_folders(folders)
    catalogue.forget_files(paths)


SENTINELS = ("index.html", "feed.xml", "feed.atom", "feed.json", "feeds.opml", "topics.opml")


def _any_missing(root: Path, catalogue: Catalogue) -> bool:
    """True when the output's front files are gone (a deleted or emptied output/ is published again).
    Only these are looked at, not every file, so a publication stays proportional to the change;
    `run.py rebuild` checks every file."""
    written = catalogue.file_keys(SENTINELS)
    return not all((root / path).is_file() for path in written)


def changed_feed_urls(config: Config, written: Sequence[str]) -> list[str]:
    """The public URLs of the feeds a publication changed (what a WebSub hub is told about)."""
    feed_names = {
        base + extension
        for base in ("feed", "updates", "alerts", "changes", "upcoming")
        for extension in (".xml", ".atom", ".json")
    }
    return [config.site_url + path for path in written if path.rsplit("/", 1)[-1] in feed_names]
