"""`run.py serve`: media types, validators and 304s, gzip, and that nothing outside output_dir (or hidden in
it) is ever served, whatever the request path looks like."""

from __future__ import annotations

import gzip
import http.client
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import IO

import pytest
import yaml

from pipeline.errors import PanuiError
from pipeline.publish.serve import CONTENT_SECURITY_POLICY, StaticServer, make_server
from tests.helpers import REPO_ROOT, run_cli

pytestmark = pytest.mark.e2e  # starts the archive's web server, in-process and through run.py serve

SECRET = b"SECRET-OUTSIDE-OUTPUT"
FEED_XML = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>' + b"<item/>" * 200 + b"</channel></rss>\n"
)
INDEX_HTML = "<!doctype html><html lang='en'><title>Pānui</title><p>home</p></html>\n".encode()
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4

SAMPLE_FILES: dict[str, bytes] = {
    "index.html": INDEX_HTML,
    "feeds.opml": b'<?xml version="1.0"?><opml version="2.0"><body/></opml>\n',
    "calendar.ics": b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n",
    "upcoming.xml": FEED_XML,
    "search.json": b'{"articles": []}\n',
    "sitemap.xml": b'<?xml version="1.0"?><urlset/>\n',
    "style.css": b"body { color: #222; }\n",
    "search.js": b"console.log('search');\n",
    "logo.png": PNG,
    "inz/index.html": b"<!doctype html><p>inz</p>\n",
    "inz/feed.xml": FEED_XML,
    "inz/feed.atom": b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"/>\n',
    "inz/feed.json": b'{"version": "https://jsonfeed.org/version/1.1"}\n',
    "inz/topics/work/index.html": b"<!doctype html><p>work</p>\n",
    "inz/topics/no-index/feed.xml": FEED_XML,
    ".hidden": SECRET,
    ".git/config": SECRET,
    "inz/.feed.xml.k2j4.tmp": SECRET,
}


@dataclass
class Served:
    root: Path
    outside: Path
    server: StaticServer

    @property
    def port(self) -> int:
        return self.server.server_port

    def request(
        self, path: str, headers: dict[str, str] | None = None, method: str = "GET"
    ) -> tuple[http.client.HTTPResponse, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, headers=headers or {})
            response = connection.getresponse()
            return response, response.read()
        finally:
            connection.close()

    def raw(self, target: str) -> tuple[int, bytes]:
        """Send `target` byte for byte (no client-side normalising); the status and the whole answer."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as connection:
            connection.sendall(f"GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
        return int(answer.split(b" ", 2)[1]), answer


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    root, outside = tmp_path / "output", tmp_path / "state"
    for relative, data in SAMPLE_FILES.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)
    (root / "empty").mkdir()
    outside.mkdir()
    (outside / "panui.sqlite").write_bytes(SECRET)
    (root / "escape.txt").symlink_to(outside / "panui.sqlite")
    (root / "state-link").symlink_to(outside, target_is_directory=True)
    (root / "to-hidden.txt").symlink_to(root / ".hidden")
    (root / "latest.xml").symlink_to(root / "inz" / "feed.xml")  # a link that stays inside is fine
    server = make_server(root, "127.0.0.1", 0)
    # A short poll interval makes shutdown() prompt, so each test's server stops at once.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Served(root, outside, server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/inz/feed.xml", "application/rss+xml; charset=utf-8"),
        ("/inz/feed.atom", "application/atom+xml; charset=utf-8"),
        ("/inz/feed.json", "application/feed+json"),
        ("/search.json", "application/json"),
        ("/feeds.opml", "text/x-opml; charset=utf-8"),
        ("/calendar.ics", "text/calendar; charset=utf-8"),
        ("/upcoming.xml", "application/rss+xml; charset=utf-8"),
        ("/index.html", "text/html; charset=utf-8"),
        ("/sitemap.xml", "application/xml; charset=utf-8"),
        ("/style.css", "text/css; charset=utf-8"),
        ("/search.js", "text/javascript; charset=utf-8"),
        ("/logo.png", "image/png"),
    ],
)
def test_each_file_is_served_with_its_media_type(served: Served, path: str, content_type: str) -> None:
    response, body = served.request(path)
    assert response.status == 200
    assert response.getheader("Content-Type") == content_type
    assert body == (served.root / path.lstrip("/")).read_bytes()


def test_folders_serve_their_index_and_are_never_listed(served: Served) -> None:
    assert served.request("/")[1] == INDEX_HTML
    assert served.request("/inz/topics/work/")[1] == SAMPLE_FILES["inz/topics/work/index.html"]
    response, _ = served.request("/inz/topics/work?page=2")
    assert response.status == 301
    assert response.getheader("Location") == "/inz/topics/work/?page=2"
    for folder in ("/empty/", "/inz/topics/no-index/", "/inz/topics/no-index"):
        response, body = served.request(folder)
        assert response.status == 404, folder
        assert b"feed.xml" not in body
    assert served.request("/inz/feed.xml/")[0].status == 404  # a file is not a folder


def test_unchanged_files_answer_304_to_etag_and_last_modified(served: Served) -> None:
    response, _ = served.request("/inz/feed.xml")
    etag, last_modified = response.getheader("ETag"), response.getheader("Last-Modified")
    assert etag is not None and etag.startswith('"') and not etag.startswith("W/")
    assert last_modified == formatdate(int((served.root / "inz/feed.xml").stat().st_mtime), usegmt=True)
    assert response.getheader("Cache-Control") == "no-cache"

    for headers in (
        {"If-None-Match": etag},
        {"If-None-Match": f'"other", {etag}'},
        {"If-Modified-Since": last_modified},
    ):
        response, body = served.request("/inz/feed.xml", headers)
        assert (response.status, body) == (304, b""), headers
        assert response.getheader("ETag") == etag
    # If-None-Match decides when both are sent; an old date or another tag gets the file.
    stale = {"If-None-Match": '"other"', "If-Modified-Since": last_modified}
    assert served.request("/inz/feed.xml", stale)[0].status == 200
    assert served.request("/inz/feed.xml", {"If-Modified-Since": formatdate(0, usegmt=True)})[0].status == 200


def test_a_changed_file_gets_a_new_etag(served: Served) -> None:
    old_etag = served.request("/inz/feed.json")[0].getheader("ETag")
    assert old_etag is not None
    replacement = served.root / "inz" / ".feed.json.new.tmp"  # replaced by rename, as the publisher does
    replacement.write_bytes(b'{"version": "https://jsonfeed.org/version/1.1", "items": []}\n')
    replacement.replace(served.root / "inz" / "feed.json")
    response, body = served.request("/inz/feed.json", {"If-None-Match": old_etag})
    assert response.status == 200
    assert b'"items"' in body
    assert response.getheader("ETag") != old_etag


def test_text_is_gzipped_when_the_client_asks(served: Served) -> None:
    response, body = served.request("/inz/feed.xml", {"Accept-Encoding": "br, gzip;q=0.8"})
    assert response.getheader("Content-Encoding") == "gzip"
    assert response.getheader("Vary") == "Accept-Encoding"
    assert int(response.getheader("Content-Length", "0")) == len(body) < len(FEED_XML)
    assert gzip.decompress(body) == FEED_XML
    gzip_etag = response.getheader("ETag")
    assert (
        served.request("/inz/feed.xml", {"Accept-Encoding": "gzip", "If-None-Match": str(gzip_etag)})[0].status == 304
    )

    for refusal in ({}, {"Accept-Encoding": "identity"}, {"Accept-Encoding": "gzip;q=0, br"}):
        response, body = served.request("/inz/feed.xml", refusal)
        assert response.getheader("Content-Encoding") is None, refusal
        assert response.getheader("Vary") == "Accept-Encoding"
        assert body == FEED_XML
        assert response.getheader("ETag") != gzip_etag  # two representations, two strong tags

    response, body = served.request("/logo.png", {"Accept-Encoding": "gzip"})
    assert response.getheader("Content-Encoding") is None
    assert body == PNG


def test_head_sends_the_headers_of_get_without_a_body(served: Served) -> None:
    for headers in ({}, {"Accept-Encoding": "gzip"}):
        got, got_body = served.request("/inz/feed.xml", headers)
        head, head_body = served.request("/inz/feed.xml", headers, method="HEAD")
        assert (head.status, head_body) == (200, b"")
        for name in ("Content-Type", "Content-Length", "Content-Encoding", "ETag", "Last-Modified"):
            assert head.getheader(name) == got.getheader(name), name
        assert int(head.getheader("Content-Length", "0")) == len(got_body)


def test_every_answer_carries_the_security_headers(served: Served) -> None:
    for path in ("/", "/inz/feed.xml", "/missing.html"):
        response, _ = served.request(path)
        assert response.getheader("X-Content-Type-Options") == "nosniff", path
        assert response.getheader("Content-Security-Policy") == CONTENT_SECURITY_POLICY, path
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "default-src 'none'" in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("POST", "/inz/feed.xml"),
        ("PUT", "/inz/feed.xml"),
        ("DELETE", "/inz/feed.xml"),
        ("PATCH", "/inz/feed.xml"),
        ("OPTIONS", "*"),
        ("TRACE", "/inz/feed.xml"),
        ("CONNECT", "example.org:443"),
        ("PROPFIND", "/"),
        ("get", "/inz/feed.xml"),  # methods are case-sensitive: this is not GET
        ("BREW", "/missing"),
    ],
)
def test_every_method_but_get_and_head_gets_405(served: Served, method: str, target: str) -> None:
    """As the README promises: 405 with Allow, for TRACE, CONNECT and unknown methods too (not 501)."""
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as connection:
        connection.sendall(f"{method} {target} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        answer = b""
        while chunk := connection.recv(65536):  # the server closes: a body it did not read is never parsed
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    assert head[0].split(" ", 2)[1] == "405", head[0]
    assert "Allow: GET, HEAD" in head
    assert "X-Content-Type-Options: nosniff" in head
    assert SAMPLE_FILES["inz/feed.xml"] not in answer


def test_fifos_and_sockets_in_output_dir_answer_404_without_hanging(served: Served) -> None:
    """A FIFO would block a plain open() until someone writes to it; it and a socket are not served."""
    fifo = served.root / "pipe.xml"
    os.mkfifo(fifo)
    try:
        with socket.socket(socket.AF_UNIX) as unix:
            unix.bind(str(served.root / "socket.xml"))
            for path in ("/pipe.xml", "/socket.xml"):
                response, body = served.request(path)  # the client gives up after 10 s: a hang fails the test
                assert response.status == 404, path
    finally:
        with suppress(OSError):  # frees a server thread stuck opening the FIFO, if there is one
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    response, body = served.request("/inz/feed.xml")
    assert (response.status, body) == (200, FEED_XML)


def test_fifty_readers_connecting_at_once_are_all_answered(tmp_path: Path) -> None:
    """They connect while the server is not yet accepting, so every one must wait in the listen queue
    (the default backlog of 5 left the rest unconnected); then each gets its file."""
    root = tmp_path / "output"
    root.mkdir()
    (root / "feed.xml").write_bytes(FEED_XML)
    server = make_server(root, "127.0.0.1", 0)
    clients = [socket.socket() for _ in range(50)]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    try:
        for client in clients:
            client.setblocking(False)
            client.connect_ex(("127.0.0.1", server.server_port))
        waiting, give_up = set(clients), time.monotonic() + 10
        while waiting and time.monotonic() < give_up:  # a client is writable once its connection is made
            _, connected, _ = select.select([], list(waiting), [], 0.5)
            waiting -= set(connected)
        assert not waiting, f"{len(waiting)} of {len(clients)} readers could not connect"
        assert all(client.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0 for client in clients)
        thread.start()
        for client in clients:
            client.setblocking(True)
            client.settimeout(10)
            client.sendall(b"GET /feed.xml HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        for client in clients:
            answer = b""
            while chunk := client.recv(65536):
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 200 ")
            assert answer.endswith(FEED_XML)
    finally:
        for client in clients:
            client.close()
        if thread.is_alive():
            server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    "target",
    [
        "/../state/panui.sqlite",
        "/%2e%2e/state/panui.sqlite",
        "/%2E%2E%2Fstate%2Fpanui.sqlite",
        "/..%2fstate/panui.sqlite",
        "/inz/../../state/panui.sqlite",
        "/inz/%2e%2e/%2e%2e/state/panui.sqlite",
        "/..\\state\\panui.sqlite",
        "/%5c..%5cstate%5cpanui.sqlite",
        "/inz/..%5c..%5cstate/panui.sqlite",
        "http://localhost/../state/panui.sqlite",
        "//../state/panui.sqlite",
        "/%00/../state/panui.sqlite",
        "/%ff%fe",
        "ABSOLUTE",
    ],
)
def test_no_request_path_reaches_outside_output_dir(served: Served, target: str) -> None:
    if target == "ABSOLUTE":
        target = (served.outside / "panui.sqlite").as_posix()  # /tmp/.../state/panui.sqlite
    status, answer = served.raw(target)
    assert status == 404
    assert SECRET not in answer


@pytest.mark.parametrize(
    "path",
    ["/.hidden", "/%2ehidden", "/.git/config", "/.git/", "/inz/.feed.xml.k2j4.tmp", "/inz/%2Efeed.xml.k2j4.tmp"],
)
def test_dotfiles_and_temporary_files_are_never_served(served: Served, path: str) -> None:
    status, answer = served.raw(path)
    assert status == 404
    assert SECRET not in answer


def test_symlinks_that_leave_output_dir_are_not_followed(served: Served) -> None:
    for path in ("/escape.txt", "/state-link/panui.sqlite", "/state-link/", "/to-hidden.txt"):
        status, answer = served.raw(path)
        assert status == 404, path
        assert SECRET not in answer
    status, answer = served.raw("/latest.xml")  # a link that stays inside output_dir is served
    assert status == 200
    assert answer.endswith(FEED_XML)


def test_a_missing_output_dir_cannot_be_served(tmp_path: Path) -> None:
    with pytest.raises(PanuiError, match="does not exist") as raised:
        make_server(tmp_path / "output", "127.0.0.1", 0)
    assert "sync" in raised.value.hint


def test_an_output_dir_that_is_a_file_is_named_as_a_file(tmp_path: Path) -> None:
    (tmp_path / "output").write_text("not a folder", "utf-8")
    with pytest.raises(PanuiError, match="is a file, not a folder") as raised:
        make_server(tmp_path / "output", "127.0.0.1", 0)
    assert "output_dir" in raised.value.hint


def _write_config(tmp_path: Path) -> Path:
    config = yaml.safe_load((REPO_ROOT / "sources.yaml").read_text("utf-8"))
    config.update(output_dir=str(tmp_path / "output"), state_dir=str(tmp_path / "state"))
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def test_serve_command_without_output_says_to_sync_first(tmp_path: Path) -> None:
    result = run_cli("serve", "--config", str(_write_config(tmp_path)), "--port", "0", timeout=60)
    assert result.returncode == 2
    assert "error:" in result.stderr
    assert "run.py sync" in result.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_serve_command_serves_until_stopped_and_exits_0(tmp_path: Path, stop_signal: signal.Signals) -> None:
    config = _write_config(tmp_path)
    (tmp_path / "output" / "inz").mkdir(parents=True)
    (tmp_path / "output" / "inz" / "feed.xml").write_bytes(FEED_XML)
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "run.py"), "serve", "--config", str(config), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first_line = _read_line(process.stdout, timeout=30)
        assert f"http://127.0.0.1:{port}/" in first_line
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/inz/feed.xml")
        response = connection.getresponse()
        assert (response.status, response.getheader("Content-Type")) == (200, "application/rss+xml; charset=utf-8")
        assert response.read() == FEED_XML
        connection.close()
        process.send_signal(stop_signal)
        stdout, stderr = process.communicate(timeout=30)
        assert process.returncode == 0, stderr
        assert "stopped" in stdout
        assert "Traceback" not in stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)


def _read_line(stream: IO[str], timeout: float) -> str:
    """The first line of a child's stdout, waiting at most `timeout` seconds (a thread does the read)."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    assert lines, f"no output within {timeout} s"
    return lines[0]
