"""Item 9: what the archive's search downloads for a query, and how soon its results show, measured in
headless Chromium (Debian's /usr/bin/chromium through playwright, as tests/test_browser.py drives it)
over the archive of item 4 served by `run.py serve`'s server on 127.0.0.1. Each query runs in a fresh
browser context (an empty cache); the time is the page's own, from the input event to the status line
saying how many articles match (a MutationObserver), so no polling of the test driver is counted."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Request, sync_playwright

from pipeline.publish.serve import make_server

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
# A word in every generated article (its summary), one in some titles, and a rare one: the first
# keystroke of a query is "a", a word of every article, the dearest first letter there is.
QUERIES = ("employers", "residence", "reparation", "a")
TIMED = """term => new Promise(resolve => {
  const input = document.getElementById("search-query"), status = document.getElementById("search-status");
  const observer = new MutationObserver(() => {
    if (/match/.test(status.textContent)) { observer.disconnect(); resolve([performance.now() - start, status.textContent]); }
  });
  observer.observe(status, {childList: true, characterData: true, subtree: true});
  input.value = term;
  const start = performance.now();
  input.dispatchEvent(new Event("input"));
})"""


def _query(browser: Browser, url: str, term: str, *, typed: bool) -> dict[str, Any]:
    context = browser.new_context()
    sizes: dict[str, int] = {}
    sent: dict[str, int] = {}  # as transferred: gzipped by the server when the browser accepts it
    pending: set[Request] = set()

    def finished(request: Request) -> None:
        response = request.response()
        if response and "/search/" in request.url and not request.url.endswith(("index.html", "search.js")):
            sizes[request.url] = len(response.body())
            sent[request.url] = request.sizes()["responseBodySize"]
        pending.discard(request)  # only now: the context must stay open while its sizes are read

    page = context.new_page()
    page.on("request", lambda request: pending.add(request))
    page.on("requestfinished", finished)
    page.on("requestfailed", lambda request: pending.discard(request))
    page.goto(url + "search/index.html", wait_until="load")
    page_bytes = len((page.content()).encode())
    if typed:  # one letter at a time, each answered before the next (the dearest way to type)
        milliseconds, status = 0.0, ""
        for end in range(1, len(term) + 1):
            milliseconds, status = page.evaluate(TIMED, term[:end])
    else:
        milliseconds, status = page.evaluate(TIMED, term)
    for _ in range(500):  # the rest of the results' files (at most 10 s)
        if not pending:
            break
        page.wait_for_timeout(20)
    context.close()
    return {
        "query": term,
        "typed": typed,
        "ms": milliseconds,
        "status": status,
        "files": len(sizes),
        "bytes": sum(sizes.values()),
        "sent": sum(sent.values()),
        "page_bytes": page_bytes,
    }


def search_queries(output: Path) -> list[dict[str, Any]]:
    server = make_server(output, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, timeout=60_000)
            try:
                runs = [_query(browser, server.url, term, typed=False) for term in QUERIES]
                runs += [_query(browser, server.url, term, typed=True) for term in QUERIES[:2]]
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return runs
