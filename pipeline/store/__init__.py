"""The only SQL user (this package): a SQLite store of articles, their versions, raw pages, HTTP validators and runs.

The schema is built by numbered migrations recorded in `schema_migrations`, so opening a store of any
earlier version is always safe. WAL mode and one transaction per logical change keep it consistent
when a run is killed at any point."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from pipeline.model import Config
from pipeline.store.articles import ArticleStore
from pipeline.store.catalogue import PUBLISH_FILE, Catalogue, CollectionInfo, Membership
from pipeline.store.database import STORE_FILE, catalogue_errors, copy_if_behind, is_store_failure, store_errors
from pipeline.store.events import EventStore
from pipeline.store.folders import writable_folder
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
    "shard_of",
]


class Store(PageStore, ArticleStore, EventStore, OutboxStore):
    """The store: pages, articles, events and the subscriptions' outbox over one SQLite connection."""


@contextmanager
def open_store(config: Config, *, lock_wait: float) -> Iterator[Store]:
    """The store for a run that writes (sync, rebuild), under the run lock. In this order: the store is
    found sound or absent, reading only (damage is refused with nothing written: no lock, no -wal);
    state_dir and output_dir are found writable; then the lock is taken and the store opened. A run
    that ends cleanly seals the store it closed, for the next run to trust (pipeline/store/seal.py)."""
    path = config.state_dir / STORE_FILE
    seen, damage = identity(path), damage_met()
    checked = sound_since(path)
    writable_folder(config.state_dir, "state_dir")
    writable_folder(config.output_dir, "output_dir")
    with StoreLock(config.state_dir, wait=lock_wait):
        if identity(path) != seen:  # changed while this run waited for the lock: found sound again
            checked = sound_since(path)
        with Store(config.state_dir, inspected=True) as store, store_errors(store.path):
            yield store
        if damage_met() == damage:  # (a store this run made is as sound as it is new)
            record_seal(path, checked or datetime.now(UTC))
