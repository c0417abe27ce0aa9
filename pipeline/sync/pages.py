"""A source's pages as a sync reads them: the one place where the fetcher meets the store. Each page is
requested conditionally with the validators the store remembers, and each response is kept. Discovery
reads its pages through this (it is candidates.Pages), so deciding what to ask for does no I/O itself."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pipeline.fetch import Fetcher, Validators
from pipeline.model import Page
from pipeline.store import Store


class SourcePages:
    def __init__(self, store: Store, fetcher: Fetcher) -> None:
        self.store, self.fetcher = store, fetcher

    def url_for(self, path: str) -> str:
        return self.fetcher.url_for(path)

    def read_robots(self) -> None:
        """Read the host's robots.txt, conditionally when a copy is stored."""
        url = self.url_for("/robots.txt")
        remembered, body = self.store.validators(url), self.store.cached_body(url)
        cached = (Validators(*remembered), body) if remembered and body is not None else None
        fresh = self.fetcher.prepare(cached)
        if fresh is not None:
            self.store.remember_response(fresh)

    def fetch(self, url: str, *, conditional: bool, max_bytes: int | None = None) -> Page:
        remembered = self.store.validators(url) if conditional else None
        return self.fetcher.fetch(url, Validators(*remembered) if remembered else None, max_bytes=max_bytes)

    def discovery_page(
        self, url: str, reader: str, *, max_bytes: int | None = None, needs: tuple[str, ...] = ()
    ) -> tuple[Page | None, dict[str, Any]]:
        """A discovery page, conditionally. (None, what `reader` found in it) when it answered 304 and that
        is kept (and holds one of `needs`, if given): it is not read again; else (the page, {}), its
        stored copy standing in for a 304's body."""
        page = self.fetch(url, conditional=True, max_bytes=max_bytes)
        if page.status == 304:
            found = self.store.recall_read(url, reader)
            if found is not None and (not needs or any(key in found for key in needs)):
                self.store.confirm_unchanged(url, page.fetched_at)
                return None, found
            body = self.store.cached_body(page.url)
            if body is not None:
                self.store.mark_checked(page.url, page.fetched_at)
                return replace(page, status=200, body=body), {}
            page = self.fetcher.fetch(page.url, max_bytes=max_bytes)  # no readable copy is kept: fetched afresh
        self.store.remember_response(page)
        return page, {}
