"""`run.py demo`'s stand-in for immigration.govt.nz: the real pages in pipeline/demo/captures, served on 127.0.0.1
at their real paths with a robots.txt and a sitemap (stdlib only). Every answer carries the ETag and
Last-Modified a static site would send, so a second sync's conditional requests are answered 304. It
serves what was captured and nothing else; it never reaches the network."""

from __future__ import annotations

import hashlib
import re
import threading
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

from pipeline.errors import PanuiError

CAPTURES = Path(__file__).resolve().parent / "captures"
ORIGIN = re.compile(r"https://www\.immigration\.govt\.nz(/\S*)")  # on each capture's first line
CAPTURED = "Mon, 13 Jul 2026 00:00:00 GMT"  # the captures' asset stamp (?m=1783974477): every Last-Modified
ROBOTS = """User-agent: *
Disallow: /_search/
Disallow: /admin
Disallow: /Security/

Sitemap: {base_url}sitemap.xml
"""


def capture_pages() -> dict[str, bytes]:
    """Each capture's bytes by the site path its first line names (the home page is its announcements block
    and banner only, which is all a sync reads of it)."""
    pages: dict[str, bytes] = {}
    for file in sorted(CAPTURES.glob("*.html")):
        body = file.read_bytes()
        origin = ORIGIN.search(body.split(b"\n", 1)[0].decode("utf-8"))
        if origin is None:
            raise ValueError(f"{file} does not name its original URL on its first line")
        pages[origin[1]] = body
    return pages


def site_files(base_url: str) -> dict[str, tuple[str, bytes]]:
    """Path -> (Content-Type, body) of the whole replayed site."""
    html = "text/html; charset=utf-8"
    pages = capture_pages()
    urls = "".join(
        f"<url><loc>{base_url.rstrip('/')}{path}</loc><lastmod>2026-07-13</lastmod></url>\n" for path in pages
    )
    sitemap = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{urls}</urlset>\n'
    files = {path: (html, body) for path, body in pages.items()}
    files["/robots.txt"] = ("text/plain; charset=utf-8", ROBOTS.format(base_url=base_url).encode())
    files["/sitemap.xml"] = ("application/xml; charset=utf-8", sitemap.encode())
    return files


class _Handler(BaseHTTPRequestHandler):
    server: ReplaySite

    def log_message(self, format: str, *args: object) -> None:
        pass  # the demo prints a summary of the requests instead

    def do_GET(self) -> None:
        found = self.server.files.get(self.path.split("?", 1)[0])
        if found is None:
            status, headers, body = 404, {"Content-Type": "text/plain; charset=utf-8"}, b"Not Found\n"
        else:
            content_type, body = found
            etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
            headers = {"Content-Type": content_type, "ETag": etag, "Last-Modified": CAPTURED}
            status = 304 if self._not_modified(etag) else 200
        self.server.answered.append(status)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)

    def _not_modified(self, etag: str) -> bool:
        if (tags := self.headers.get("If-None-Match")) is not None:
            return etag in {tag.strip().removeprefix("W/") for tag in tags.split(",")}
        try:
            since = parsedate_to_datetime(self.headers.get("If-Modified-Since", ""))
        except (TypeError, ValueError):
            return False
        return since >= parsedate_to_datetime(CAPTURED)


class ReplaySite(ThreadingHTTPServer):
    """The captures on 127.0.0.1:`port` (0: a free port) while the `with` block runs."""

    daemon_threads = True

    def __init__(self, port: int = 0) -> None:
        try:
            super().__init__(("127.0.0.1", port), _Handler)
        except OSError as error:
            raise PanuiError(
                f"cannot serve the demo's copy of immigration.govt.nz on 127.0.0.1:{port}: {error}",
                "the demo folder's store knows its pages at that address: stop what listens there, "
                "or give `demo` another --dir to start afresh",
            ) from None
        self.base_url = f"http://127.0.0.1:{self.server_address[1]}/"
        self.files = site_files(self.base_url)
        self.answered: list[int] = []  # the status of every answer, in order
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    def __enter__(self) -> ReplaySite:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.shutdown()
        self.server_close()
