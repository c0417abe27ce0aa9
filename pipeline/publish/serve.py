"""`run.py serve`: a small static server for output_dir, for local subscription and previews (stdlib only).
Only regular files that resolve inside output_dir, with no dot-name in their path (dotfiles, the `.name.*.tmp`
files of atomic writes), are served; conditional requests get 304; text is gzipped when asked; folders are
never listed. In production any static web server does the same job (README: "Serving the output")."""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import re
import signal
import socket
import socketserver
import stat
import sys
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from pipeline import PRODUCT, __version__
from pipeline.errors import PanuiError
from pipeline.model import Config

log = logging.getLogger(__name__)

# The archive's meta CSP, plus 'self' for scripts and fetches so a same-origin search script and its JSON
# index can work; everything else stays closed.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'"
)
# Pānui's feeds (articles, corrections, alerts, dates coming up) by file name; other .xml and .json keep generic types.
FILE_NAME_TYPES = {
    f"{base}{suffix}": media
    for base in ("feed", "updates", "alerts", "upcoming")
    for suffix, media in ((".xml", "application/rss+xml; charset=utf-8"), (".json", "application/feed+json"))
}
SUFFIX_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".json": "application/json",
    ".opml": "text/x-opml; charset=utf-8",
    ".ics": "text/calendar; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".ico": "image/x-icon",
}
UNKNOWN_TYPE = "application/octet-stream"
QUALITY = re.compile(r"\bq\s*=\s*([01](?:\.\d*)?)")


def media_type(name: str) -> str:
    """The Content-Type for a file called `name` (the feeds' .xml and .json get their feed types)."""
    if name in FILE_NAME_TYPES:
        return FILE_NAME_TYPES[name]
    return SUFFIX_TYPES.get(Path(name).suffix.lower(), UNKNOWN_TYPE)


def is_compressible(content_type: str) -> bool:
    essence = content_type.split(";", 1)[0]
    return essence.startswith("text/") or essence.endswith(("xml", "json"))


def accepts_gzip(accept_encoding: str | None) -> bool:
    """True when the Accept-Encoding header allows gzip (an explicit q=0 refuses it)."""
    qualities: dict[str, float] = {}
    for item in (accept_encoding or "").lower().split(","):
        coding, _, parameters = item.partition(";")
        weight = QUALITY.search(parameters)
        qualities[coding.strip()] = float(weight[1]) if weight else 1.0
    for coding in ("gzip", "x-gzip", "*"):
        if coding in qualities:
            return qualities[coding] > 0
    return False


def request_path(target: str) -> str | None:
    """The still-encoded path of a request target (origin form or absolute form), or None."""
    if target.startswith("/"):
        return target.split("?", 1)[0].split("#", 1)[0]
    parts = urlsplit(target)
    if parts.scheme in ("http", "https") and parts.path.startswith("/"):
        return parts.path
    return None


def locate(root: Path, path: str) -> Path | None:
    """The resolved file or folder under `root` (already resolved) that the URL `path` names, or None
    when it must not be served: dot-names, `..`, backslashes, control characters, empty segments, bad
    UTF-8, and anything (through a symlink too) that lands outside `root`."""
    try:
        decoded = unquote(path, errors="strict")
    except UnicodeDecodeError:
        return None
    if not decoded.startswith("/") or "\\" in decoded or any(ord(c) < 32 or ord(c) == 127 for c in decoded):
        return None
    segments = decoded[1:].split("/")
    if segments[-1] == "":
        segments.pop()  # "/inz/" names the folder inz
    if any(not segment or segment.startswith(".") for segment in segments):
        return None
    try:
        resolved = root.joinpath(*segments).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, unreadable, or a symlink loop
        return None
    if not resolved.is_relative_to(root):
        return None
    if any(part.startswith(".") for part in resolved.relative_to(root).parts):
        return None  # a symlink inside output_dir that points at a dot-name
    return resolved


class StaticServer(ThreadingHTTPServer):
    """Serves the files under `root` (resolved) on (host, port), each request in its own thread."""

    # socketserver's default backlog of 5 turns readers away (or stalls them for seconds) as soon as a
    # few connect at once; the kernel caps this at net.core.somaxconn.
    request_queue_size = socket.SOMAXCONN

    def __init__(self, root: Path, host: str, port: int) -> None:
        self.root = root
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, port), StaticHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can stall on odd resolvers; we never use it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    @property
    def url(self) -> str:
        host = self.server_name
        return f"http://{f'[{host}]' if ':' in host else host}:{self.server_port}/"

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A reader that hangs up mid-answer is routine; anything else is worth a traceback in the log.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            log.debug("connection from %s closed early", client_address)
        else:
            log.exception("error while answering %s", client_address)


class StaticHandler(BaseHTTPRequestHandler):
    server: StaticServer
    protocol_version = "HTTP/1.1"
    server_version = f"{PRODUCT}/{__version__}"
    timeout = 30  # idle keep-alive connections close, so their threads end

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def parse_request(self) -> bool:
        """Every method but GET and HEAD gets 405 (TRACE, CONNECT and unknown ones too, not 501); the
        connection then closes, as a body the request may carry is never read."""
        if not super().parse_request():
            return False
        if self.command in ("GET", "HEAD"):
            return True
        self.close_connection = True
        self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
        self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
        return False

    def end_headers(self) -> None:
        # Every answer, errors included, carries the security headers.
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        self.send_header("Referrer-Policy", "no-referrer")
        super().end_headers()

    def version_string(self) -> str:
        return self.server_version  # without the Python version

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)

    def _answer(self, send_body: bool) -> None:
        path = request_path(self.path)
        found = None if path is None else locate(self.server.root, path)
        if path is not None and found is not None and found.is_dir():
            folder = path if path.endswith("/") else path + "/"
            found = locate(self.server.root, folder + "index.html")  # never a listing
            if found is not None and folder != path:
                query = self.path.partition("?")[2]
                self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                self.send_header("Location", folder + (f"?{query}" if query else ""))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        elif path is not None and path.endswith("/"):
            found = None  # "/feed.xml/" is not a folder
        if found is None or not found.is_file():  # a FIFO would block the open, a device could act on it
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        try:  # O_NONBLOCK: should it have been swapped for a FIFO since, the open still returns at once
            descriptor = os.open(found, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        with os.fdopen(descriptor, "rb") as stream:
            status = os.fstat(stream.fileno())
            if not stat.S_ISREG(status.st_mode):
                self.send_error(HTTPStatus.NOT_FOUND)
                return
            data = stream.read()
        self._send_file(found.name, status, data, send_body)

    def _send_file(self, name: str, status: os.stat_result, data: bytes, send_body: bool) -> None:
        content_type = media_type(name)
        compressible = is_compressible(content_type)
        compress = compressible and accepts_gzip(self.headers.get("Accept-Encoding"))
        # A strong ETag from the content (the file is read anyway): exact even when mtime is coarse.
        tag = hashlib.sha256(data).hexdigest()[:32]
        etag = f'"{tag}-gzip"' if compress else f'"{tag}"'  # each representation has its own strong tag
        modified = int(status.st_mtime)
        headers = {"ETag": etag, "Last-Modified": self.date_time_string(modified), "Cache-Control": "no-cache"}
        if compressible:
            headers["Vary"] = "Accept-Encoding"
        body = b""
        if self._not_modified(etag, modified):
            self.send_response(HTTPStatus.NOT_MODIFIED)
        else:
            body = gzip.compress(data, mtime=0) if compress else data  # mtime=0: the same bytes every time
            self.send_response(HTTPStatus.OK)
            headers |= {"Content-Type": content_type, "Content-Length": str(len(body))}
            if compress:
                headers["Content-Encoding"] = "gzip"
        for header, value in headers.items():
            self.send_header(header, value)
        self.end_headers()
        if send_body and body:
            self.wfile.write(body)

    def _not_modified(self, etag: str, modified: int) -> bool:
        """RFC 9110: If-None-Match decides when present (weak comparison); otherwise If-Modified-Since."""
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = {candidate.strip().removeprefix("W/") for candidate in if_none_match.split(",")}
            return "*" in tags or etag in tags
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_modified_since is None:
            return False
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError, IndexError):
            return False  # an unreadable date is ignored, as the RFC asks
        return modified <= since.timestamp()


def make_server(root: Path, host: str, port: int) -> StaticServer:
    """A server for `root`, bound and listening (port 0 picks a free port); call serve_forever()."""
    if root.exists() and not root.is_dir():
        raise PanuiError(f"output_dir {root} is a file, not a folder", "set output_dir in sources.yaml to a folder")
    if not root.is_dir():
        raise PanuiError(
            f"there is nothing to serve yet: {root} does not exist",
            "run `python run.py sync` first; it publishes the feeds and archive into output_dir "
            "(`python run.py demo` tries Pānui offline)",
        )
    try:
        return StaticServer(root.resolve(strict=True), host, port)
    except (OSError, OverflowError) as error:
        raise PanuiError(
            f"cannot listen on {host}:{port}: {error}",
            "choose another --port (or stop the program using it) and check --host is an address of this machine",
        ) from error


def require_free_port(port: int) -> None:
    """Refuse now a port of 127.0.0.1 another program listens on, before the demo's sync links its feeds to it."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds (a closed one's port is free)
        try:
            probe.bind(("127.0.0.1", port))
        except (OSError, OverflowError) as error:
            raise PanuiError(
                f"cannot listen on 127.0.0.1:{port}: {error}", "choose another --port, or stop the program using it"
            ) from None


def _links_here(site_url: str, server: StaticServer) -> bool:
    """True when site_url, whose links the feeds and pages carry, points at this server."""
    parts = urlsplit(site_url)
    local_names = {"localhost", "127.0.0.1", "::1", server.server_name}
    return parts.scheme == "http" and parts.hostname in local_names and parts.port == server.server_port


def serve_output(config: Config, host: str, port: int) -> int:
    """Serve config.output_dir until SIGINT or SIGTERM; returns exit code 0."""
    output = config.output_dir.resolve()
    if config.state_dir.resolve().is_relative_to(output):  # load_config refuses this; the store is never served
        raise PanuiError(f"state_dir {config.state_dir} is inside output_dir {output}", "put it beside output_dir")
    server = make_server(config.output_dir, host, port)
    # SIGTERM stops like Ctrl-C; SIGINT is set too, as a shell may start a background job with it ignored.
    stopping = (signal.SIGINT, signal.SIGTERM)
    previous = {number: signal.signal(number, signal.default_int_handler) for number in stopping}
    try:
        print(f"Serving {server.root} at {server.url} (press Ctrl-C to stop)", flush=True)
        if not _links_here(config.site_url, server):
            print(f"note: feeds and pages link to site_url {config.site_url}, not to this address", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", flush=True)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        server.server_close()
    return 0
