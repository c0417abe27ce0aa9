"""The only SQL user (this package): a SQLite store of articles, their versions, raw pages, HTTP validators and runs
(schema.py: its numbered migrations; database.py: the connection and its transactions)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pipeline.errors import PanuiError
from pipeline.model import Config
from pipeline.store.articles import ArticleStore
from pipeline.store.catalogue import PUBLISH_FILE, Catalogue, CollectionInfo, Membership
from pipeline.store.database import STORE_FILE, catalogue_errors, copy_if_behind, is_store_failure, store_errors
from pipeline.store.events import EventStore
from pipeline.store.inspect import inspect_store, sound_since
from pipeline.store.lock import StoreLock
from pipeline.store.outbox import Change, OutboxStore, Queued
from pipeline.store.pages import PageStore
from pipeline.store.postings import shard_of
from pipeline.store.seal import damage_met, identity, record_seal
from pipeline.store.warc import WarcRecorder

__all__ = [
    "PUBLISH_FILE",
    "STORE_FILE",
    "Catalogue",
    "Change",
    "CollectionInfo",
    "Membership",
    "Queued",
    "Store",
    "StoreLock",
    "WarcRecorder",
    "catalogue_errors",
    "copy_if_behind",
    "inspect_store",
    "is_store_failure",
    "open_store",
    "require_writable",
    "shard_of",
]


class Store(PageStore, ArticleStore, EventStore, OutboxStore):
    """The store: pages, articles, events and the subscriptions' outbox over one SQLite connection."""


def writable_folder(folder: Path, key: str) -> None:
    """Raise unless `folder` (the sources.yaml `key`) can be written, or, while it does not exist yet,
    created, so that a run that could not keep what it fetched, or publish it, stops before it starts.
    It writes a file there that no one sees (an O_TMPFILE where Linux has it), as only a real write
    tells: permission bits do not bind root, and a read-only mount ignores them. Creates nothing."""
    try:
        existing = next(path for path in (folder, *folder.parents) if path.exists())
        if not existing.is_dir():
            raise NotADirectoryError(0, f"{existing} is a file, not a folder")
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise PanuiError(
            f"{key} {folder} is not a folder Pānui can write: {error.strerror or error}",
            f"make {folder} writable by the user running Pānui, or set {key} in sources.yaml to a folder it can write",
        ) from None


def require_writable(config: Config) -> None:
    """Raise unless the run can keep what it fetches (state_dir) and publish it (output_dir)."""
    writable_folder(config.state_dir, "state_dir")
    writable_folder(config.output_dir, "output_dir")


@contextmanager
def open_store(config: Config, *, lock_wait: float) -> Iterator[Store]:
    """The store for a run that writes (sync, rebuild), under the run lock. In this order: the store is
    found sound or absent, reading only (damage is refused with nothing written: no lock, no -wal);
    state_dir and output_dir are found writable; then the lock is taken and the store opened. A run
    that ends cleanly seals the store it closed, for the next run to trust (pipeline/store/seal.py)."""
    path = config.state_dir / STORE_FILE
    seen, damage = identity(path), damage_met()
    checked = sound_since(path)
    require_writable(config)
    with StoreLock(config.state_dir, wait=lock_wait):
        if identity(path) != seen:  # changed while this run waited for the lock: found sound again
            checked = sound_since(path)
        with Store(config.state_dir, inspected=True) as store, store_errors(store.path):
            yield store
        if damage_met() == damage:  # (a store this run made is as sound as it is new)
            record_seal(path, checked or datetime.now(UTC))
