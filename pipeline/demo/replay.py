"""`run.py demo`'s stand-in for immigration.govt.nz: the real pages in pipeline/demo/captures, written at
their real paths (with a robots.txt and a sitemap) to a temporary folder and served on 127.0.0.1 by `run.py
serve`'s own server, which answers conditional requests with 304 as a static site does. It serves what was
captured and nothing else; it never reaches the network."""

from __future__ import annotations

import os
import re
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path

from pipeline.errors import PanuiError
from pipeline.publish.serve import StaticHandler, StaticServer

CAPTURES = Path(__file__).resolve().parent / "captures"
ORIGIN = re.compile(r"https://www\.immigration\.govt\.nz(/\S*)")  # on each capture's first line
CAPTURED = datetime(2026, 7, 13, tzinfo=UTC).timestamp()  # the captures' asset stamp (?m=1783974477)
ROBOTS = """User-agent: *
Disallow: /_search/
Disallow: /admin
Disallow: /Security/

Sitemap: {base_url}sitemap.xml
"""


def write_site(folder: Path, base_url: str) -> None:
    """The whole replayed site as files under `folder`: each capture at the site path its first line names
    (a folder's index.html: the paths end in /), with a robots.txt and a sitemap. The home page is its
    announcements block and banner only, which is all a sync reads of it."""
    pages: dict[str, bytes] = {}
    for capture in sorted(CAPTURES.glob("*.html")):
        body = capture.read_bytes()
        origin = ORIGIN.search(body.split(b"\n", 1)[0].decode("utf-8"))
        if origin is None:
            raise ValueError(f"{capture} does not name its original URL on its first line")
        pages[origin[1]] = body
    urls = "".join(
        f"<url><loc>{base_url.rstrip('/')}{path}</loc><lastmod>2026-07-13</lastmod></url>\n" for path in pages
    )
    sitemap = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{urls}</urlset>\n'
    files = {f"{path}index.html": body for path, body in pages.items()}
    files |= {"/robots.txt": ROBOTS.format(base_url=base_url).encode(), "/sitemap.xml": sitemap.encode()}
    for path, body in files.items():
        file = folder / path.lstrip("/")
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(body)
        os.utime(file, (CAPTURED, CAPTURED))  # every Last-Modified the captures' own


class _Handler(StaticHandler):
    server: ReplaySite

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.server.answered.append(int(code))  # the demo prints a summary of the requests instead


class ReplaySite(StaticServer):
    """The captures on 127.0.0.1:`port` (0: a free port) while the `with` block runs."""

    def __init__(self, port: int = 0) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="panui-demo-")
        try:
            super().__init__(Path(self._folder.name).resolve(), "127.0.0.1", port)
        except OSError as error:
            self._folder.cleanup()
            raise PanuiError(
                f"cannot serve the demo's copy of immigration.govt.nz on 127.0.0.1:{port}: {error}",
                "the demo folder's store knows its pages at that address: stop what listens there, "
                "or give `demo` another --dir to start afresh",
            ) from None
        self.RequestHandlerClass = _Handler
        write_site(self.root, self.url)
        self.answered: list[int] = []  # the status of every answer, in order
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    def __enter__(self) -> ReplaySite:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.shutdown()
        self.server_close()
        self._folder.cleanup()
