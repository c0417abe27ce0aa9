"""A small, fast static HTTP/1.1 server on 127.0.0.1 for the benchmarks: keep-alive connections (as a
real site offers), strong ETags with If-None-Match, and a record of every request and of the bytes
that crossed the wire in each direction. It runs in daemon threads and stops by itself after
`max_lifetime` seconds, so a benchmark that dies never leaves it behind."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HTML = "text/html; charset=utf-8"
XML = "application/xml; charset=utf-8"
LAST_MODIFIED = "Mon, 13 Jul 2026 00:00:00 GMT"


@dataclass(frozen=True)
class Resource:
    body: bytes
    content_type: str
    etag: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "etag", '"' + hashlib.sha256(self.body).hexdigest()[:20] + '"')


Lookup = Callable[[str], "Resource | None"]


@dataclass(frozen=True)
class Served:
    """One request as the server saw it."""

    path: str
    status: int
    conditional: bool  # the request carried If-None-Match or If-Modified-Since
    bytes_in: int  # request line and headers
    bytes_out: int  # status line, headers and body


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: requests.Session reuses one connection
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        site = self.server.site
        resource = site.lookup(self.path)
        tags = self.headers.get("If-None-Match")
        conditional = tags is not None or self.headers.get("If-Modified-Since") is not None
        headers: dict[str, str] = {}
        if resource is None:
            status, body = HTTPStatus.NOT_FOUND, b"not found\n"
            headers["Content-Type"] = "text/plain; charset=utf-8"
        else:
            headers |= {"ETag": resource.etag, "Last-Modified": LAST_MODIFIED}
            if tags is not None and resource.etag in (tag.strip() for tag in tags.split(",")):
                status, body = HTTPStatus.NOT_MODIFIED, b""
            else:
                status, body = HTTPStatus.OK, resource.body
                headers["Content-Type"] = resource.content_type
        headers["Content-Length"] = str(len(body))
        head = f"HTTP/1.1 {status.value} {status.phrase}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        data = (head + "\r\n").encode("latin-1") + body
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            return
        bytes_in = len(self.requestline) + 2 + sum(len(k) + len(v) + 4 for k, v in self.headers.items()) + 2
        site.record(Served(self.path, status.value, conditional, bytes_in, len(data)))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, site: StaticSite) -> None:
        self.site = site
        super().__init__(("127.0.0.1", 0), _Handler)


class StaticSite:
    """Serves whatever `lookup(path)` returns; swap the content with `serve()`. A context manager."""

    def __init__(self, lookup: Lookup, *, max_lifetime: float = 3600.0) -> None:
        self.lookup = lookup
        self.max_lifetime = max_lifetime
        self._server = _Server(self)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self._lock = threading.Lock()
        self._served: list[Served] = []
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._timer = threading.Timer(max_lifetime, self.stop)
        self._timer.daemon = True
        self._stopped = False

    def __enter__(self) -> StaticSite:
        self._thread.start()
        self._timer.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        if threading.current_thread() is not self._timer:
            self._timer.cancel()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def serve(self, lookup: Lookup) -> None:
        self.lookup = lookup

    def record(self, served: Served) -> None:
        with self._lock:
            self._served.append(served)

    def take_requests(self) -> list[Served]:
        """The requests served since the last call (and forget them)."""
        with self._lock:
            served, self._served = self._served, []
        return served
