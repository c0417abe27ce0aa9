"""Store contents -> feeds and archive pages.

`render_site` renders everything (pure: the same store gives the same bytes). `publish` renders only
the outputs whose inputs changed since the last publication (their keys are kept in a manifest in
state_dir) and writes them atomically, touching only files whose bytes changed."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from pipeline.model import Config, StoredArticle
from pipeline.publish.files import OutputWriter, remove_leftovers, write_atomic
from pipeline.publish.plan import Output, StoreView, plan_site, site_key

MANIFEST_FILE = "publish-manifest.json"
IN_PROGRESS_FILE = "publishing"  # present while a publication writes; left behind if it was killed


class ArticleStore(StoreView, Protocol):
    def articles(self, source_id: str | None = None, *, with_bodies: bool = True) -> list[StoredArticle]: ...

    def fingerprint(self) -> str: ...


@dataclass(frozen=True)
class Manifest:
    """What the last complete publication was made from, and the key of every file it wrote."""

    site: str = ""  # plan.site_key: templates, Pānui's version, the settings
    store: str = ""  # the store's fingerprint
    files: dict[str, str] = field(default_factory=dict)


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
    """Write the site; return the paths whose bytes changed. `full` re-renders every output.

    When neither the store nor the settings changed since the last complete publication and its files
    are all there, nothing is planned or rendered: a sync that found nothing new costs no publishing."""
    manifest_path = config.state_dir / MANIFEST_FILE
    marker = config.state_dir / IN_PROGRESS_FILE
    previous = Manifest() if full else _read_manifest(manifest_path)
    current = Manifest(site=site_key(config), store=store.fingerprint())
    interrupted = marker.exists()
    if (
        not full
        and not interrupted
        and (previous.site, previous.store) == (current.site, current.store)
        and all((config.output_dir / path).is_file() for path in previous.files)
    ):
        return []
    if full or interrupted:
        # The last publication was killed while writing: delete its temporary files. Walking the whole
        # output is only worth it then (callers hold the store lock, so no other run is writing).
        remove_leftovers(config.output_dir)
    marker.write_text(f"{os.getpid()}\n")
    writer = OutputWriter(config.output_dir)
    for output in _plan(config, store):
        current.files.update(dict.fromkeys(output.paths, output.key))
        unchanged = all(previous.files.get(path) == output.key for path in output.paths)
        if unchanged and all((config.output_dir / path).is_file() for path in output.paths):
            continue
        for path, data in sorted(output.render().items()):
            writer.write(path, data)
    manifest = {"site": current.site, "store": current.store, "files": current.files}
    write_atomic(manifest_path, (json.dumps(manifest, indent=0, sort_keys=True) + "\n").encode())
    marker.unlink(missing_ok=True)
    return writer.written


def _read_manifest(path: Path) -> Manifest:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Manifest()  # no manifest (or a damaged one): render everything; unchanged bytes are not rewritten
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        return Manifest()
    files = {str(key): str(value) for key, value in data["files"].items()}
    return Manifest(site=str(data.get("site", "")), store=str(data.get("store", "")), files=files)


def changed_feed_urls(config: Config, written: Sequence[str]) -> list[str]:
    """The public URLs of the feeds a publication changed (what a WebSub hub is told about)."""
    feed_names = {
        base + extension for base in ("feed", "updates", "alerts") for extension in (".xml", ".atom", ".json")
    }
    return [config.site_url + path for path in written if path.rsplit("/", 1)[-1] in feed_names]
