"""Plain helpers for the tests: run the CLI, write a config pointing at the fixture site."""

from __future__ import annotations

import os
import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import yaml

from pipeline.model import StoredArticle
from pipeline.store import Store
from pipeline.store.rows import ARTICLE_COLUMNS, CURRENT, stored_article
from tests.fixture_site import FixtureSite

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_cli(
    *args: str,
    cwd: Path | None = None,
    timeout: float = 120,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python run.py ARGS``; ``env`` entries are added to the current environment."""
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "run.py"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=None if env is None else {**os.environ, **env},
        check=False,
    )


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``extra``, recursing into nested dicts (other values are replaced)."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def write_config(site: FixtureSite, tmp_path: Path, /, **overrides: Any) -> Path:
    """Write tmp_path/sources.yaml: the repo's config aimed at ``site``, fast and local.

    Top-level ``overrides`` replace keys; ``source={...}`` is merged (recursively) into the first
    source, e.g. ``source={"discovery": {"sitemap": None}, "retries": 0}``.
    """
    config: dict[str, Any] = yaml.safe_load((REPO_ROOT / "sources.yaml").read_text("utf-8"))
    config["output_dir"] = str(tmp_path / "output")
    config["state_dir"] = str(tmp_path / "state")
    config["site_url"] = "http://localhost:8000/"
    first = config["sources"][0]
    first.update(base_url=site.base_url, request_delay=0, timeout=5, retries=1)
    source_overrides = overrides.pop("source", None)
    config.update(overrides)
    if isinstance(source_overrides, dict):
        config["sources"][0] = _merge(first, source_overrides)
    elif source_overrides is not None:
        config["source"] = source_overrides
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def stored_value(store: Store, query: str, *parameters: object) -> Any:
    """The one value `query` reads from the store (its first row must exist): what a test checks of the
    store's contents that no command shows, such as how many raw pages it keeps."""
    (value, *_) = store._db.execute(query, parameters).fetchone()
    return value


def stored_articles(store: Store, source_id: str = "%") -> list[StoredArticle]:
    """The store's articles (of `source_id`, else all) at their current versions, without bodies,
    in the order they were first stored."""
    query = f"SELECT {ARTICLE_COLUMNS} FROM {CURRENT} WHERE a.source_id LIKE ? ORDER BY a.id"
    return [stored_article(row) for row in store._db.execute(query, (source_id,))]


class MakeConfig(Protocol):
    def __call__(self, site: FixtureSite, tmp_path: Path, /, **overrides: Any) -> Path: ...


@contextmanager
def serving(server: socketserver.BaseServer, lifetime: float) -> Iterator[None]:
    """Run `server` in a background thread for the block; it also stops by itself after `lifetime`
    seconds, so a test that hangs can never leave it running."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    watchdog = threading.Timer(lifetime, server.shutdown)
    watchdog.daemon = True
    watchdog.start()
    try:
        yield
    finally:
        watchdog.cancel()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
