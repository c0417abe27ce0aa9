"""Store contents -> feeds and archive pages.

`render_site` renders everything (pure: the same store gives the same bytes). `publish` renders only
the outputs whose inputs changed since the last publication (their keys are kept in a manifest in
state_dir) and writes them atomically, touching only files whose bytes changed."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from pipeline.model import Config, StoredArticle
from pipeline.publish.files import OutputWriter, remove_leftovers, write_atomic
from pipeline.publish.plan import Output, StoreView, plan_site

MANIFEST_FILE = "publish-manifest.json"
IN_PROGRESS_FILE = "publishing"  # present while a publication writes; left behind if it was killed


class ArticleStore(StoreView, Protocol):
    def articles(self, source_id: str | None = None, *, with_bodies: bool = True) -> list[StoredArticle]: ...


def _plan(config: Config, store: ArticleStore) -> list[Output]:
    articles = {source.id: store.articles(source.id, with_bodies=False) for source in config.sources}
    return plan_site(config, articles, store)


def render_site(config: Config, store: ArticleStore) -> dict[str, bytes]:
    """Every output file, keyed by its path under output_dir."""
    files: dict[str, bytes] = {}
    for output in _plan(config, store):
        files.update(output.render())
    return files


def publish(config: Config, store: ArticleStore, *, full: bool = False) -> list[str]:
    """Write the site; return the paths whose bytes changed. `full` re-renders every output."""
    manifest_path = config.state_dir / MANIFEST_FILE
    marker = config.state_dir / IN_PROGRESS_FILE
    previous = {} if full else _read_manifest(manifest_path)
    if full or marker.exists():
        # The last publication was killed while writing: delete its temporary files. Walking the whole
        # output is only worth it then (callers hold the store lock, so no other run is writing).
        remove_leftovers(config.output_dir)
    marker.write_text(f"{os.getpid()}\n")
    writer = OutputWriter(config.output_dir)
    keys: dict[str, str] = {}
    for output in _plan(config, store):
        keys.update(dict.fromkeys(output.paths, output.key))
        if all(previous.get(path) == output.key and (config.output_dir / path).is_file() for path in output.paths):
            continue
        for path, data in sorted(output.render().items()):
            writer.write(path, data)
    write_atomic(manifest_path, (json.dumps(keys, indent=0, sort_keys=True) + "\n").encode())
    marker.unlink(missing_ok=True)
    return writer.written


def _read_manifest(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # no manifest (or a damaged one): render everything; unchanged bytes are not rewritten
    return {str(key): str(value) for key, value in data.items()} if isinstance(data, dict) else {}


def changed_feed_urls(config: Config, written: Sequence[str]) -> list[str]:
    """The public URLs of the feeds a publication changed (what a WebSub hub is told about)."""
    feed_names = {
        base + extension for base in ("feed", "updates", "alerts") for extension in (".xml", ".atom", ".json")
    }
    return [config.site_url + path for path in written if path.rsplit("/", 1)[-1] in feed_names]
