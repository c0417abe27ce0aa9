"""The outputs of the search index in a publication's scope (see publish.search for the files), and
its files that have nothing left to hold."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import partial
from typing import TYPE_CHECKING

from pipeline.publish.entries import Entry
from pipeline.publish.search import (
    GROUP,
    POSTINGS,
    file_path,
    files_of,
    first_page,
    group_path,
    posting_files,
    render_group,
    render_shard,
    shard_path,
)

if TYPE_CHECKING:
    from pipeline.publish.plan import Output, Scope, SitePlanner


def _file(path: str, data: bytes) -> dict[str, bytes]:
    return {path: data}


def _group_file(group: int, entries: Sequence[Entry]) -> dict[str, bytes]:
    return {group_path(group): render_group(entries)}


def search_outputs(planner: SitePlanner, scope: Scope) -> Iterator[Output]:
    """A shard's and a posting file's bytes are their key (the catalogue holds them ready: reading them
    is rendering them); a group of results depends on its articles, as their pages do. Of a word's
    files, those from the one that holds its first page that changed (see Scope.search_terms)."""
    catalogue = planner.catalogue
    for shard in sorted(scope.search_shards):
        if rows := catalogue.search_shard(shard):
            data = render_shard(rows)
            yield planner._output((shard_path(shard),), data, partial(_file, shard_path(shard), data))
    for term in sorted(scope.search_terms):
        pages = catalogue.search_pages(term, first_page(scope.search_terms[term]))
        for path, data in posting_files(term, pages).items():
            yield planner._output((path,), data, partial(_file, path, data))
    for group in sorted(scope.search_groups):
        if entries := _group(planner, group):
            depends = [entry.dependency for entry in entries]
            yield planner._output((group_path(group),), depends, partial(_group_file, group, entries), len(entries))


def _group(planner: SitePlanner, group: int) -> list[Entry]:
    stored = planner.catalogue.articles(range(group * GROUP, (group + 1) * GROUP))
    return planner._entries([item for item in stored if item.source_id in planner.sources])


def search_leftovers(planner: SitePlanner, scope: Scope) -> list[str]:
    """The scope's search files that hold nothing now (a word no article has any more, a file a posting
    lost, a group whose articles all went), among those published (only those are read again)."""
    catalogue = planner.catalogue
    pages = catalogue.page_counts(sorted(scope.search_terms))
    shards = {shard_path(shard): shard for shard in sorted(scope.search_shards)}
    groups = {group_path(group): group for group in sorted(scope.search_groups)}
    known = catalogue.file_keys([*shards, *groups])
    leftovers = [path for path, shard in shards.items() if path in known and not catalogue.shard_holds_terms(shard)]
    leftovers += [path for path, group in groups.items() if path in known and not _group(planner, group)]
    for term in sorted(scope.search_terms):
        kept = {file_path(term, number) for number in range(1, files_of(pages.get(term, 0)) + 1)}
        leftovers += [path for path in catalogue.search_files_of(term, POSTINGS) if path not in kept]
    return leftovers
