"""The only SQL user (this package): a SQLite store of articles, their versions, raw pages, HTTP validators and runs.

The schema is built by numbered migrations recorded in `schema_migrations`, so opening a store of any
earlier version is always safe. WAL mode and one transaction per logical change keep it consistent
when a run is killed at any point."""

from __future__ import annotations

from pipeline.store.articles import ArticleStore, SaveOutcome
from pipeline.store.database import STORE_FILE
from pipeline.store.events import EventStore
from pipeline.store.pages import PageStore

__all__ = ["STORE_FILE", "SaveOutcome", "Store"]


class Store(PageStore, ArticleStore, EventStore):
    """The store: pages, articles and events over one SQLite connection."""

    def __enter__(self) -> Store:
        return self
