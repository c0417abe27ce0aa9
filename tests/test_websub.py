"""WebSub: with `websub_hub` set, every feed advertises the hub, and after a sync that changed feeds the
hub is told (hub.mode=publish) about exactly those feeds; a hub that fails never fails the sync.
The hub is a stub on 127.0.0.1 that records what it is sent."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs
from xml.etree import ElementTree

import pytest

from tests.fixture_site import ARTICLE_CAPTURES, ARTICLE_PATHS, FixtureSite, read_capture
from tests.helpers import run_cli, serving, write_config

SITE_URL = "http://localhost:8000/"
ATOM = "{http://www.w3.org/2005/Atom}"
FEED_NAMES = ("feed.xml", "feed.atom", "feed.json")


@dataclass
class Ping:
    content_type: str
    fields: dict[str, list[str]]


@dataclass
class StubHub:
    """A WebSub hub stand-in: answers every POST with `status` and records it."""

    status: int = 202
    pings: list[Ping] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def taken(self) -> list[Ping]:
        """The pings received so far, forgetting them."""
        with self.lock:
            pings, self.pings = self.pings, []
        return pings


class _HubHandler(BaseHTTPRequestHandler):
    server: _HubServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
        hub = self.server.hub
        with hub.lock:
            hub.pings.append(Ping(self.headers.get("Content-Type", ""), parse_qs(body)))
        self.send_response(hub.status)
        self.send_header("Content-Length", "0")
        self.end_headers()


class _HubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, hub: StubHub) -> None:
        self.hub = hub
        super().__init__(("127.0.0.1", 0), _HubHandler)


@dataclass(frozen=True)
class RunningHub:
    hub: StubHub
    url: str


@pytest.fixture
def hub() -> Iterator[RunningHub]:
    """A started stub hub; it stops at the end of the test, or by itself after 60 s."""
    stub = StubHub()
    server = _HubServer(stub)
    with serving(server, lifetime=60):
        yield RunningHub(stub, f"http://127.0.0.1:{server.server_address[1]}/hub")


def configure(site: FixtureSite, tmp_path: Path, hub_url: str) -> Path:
    return write_config(site, tmp_path, websub_hub=hub_url, source={"retries": 0, "backoff": 0})


def is_feed(path: Path) -> bool:
    if path.suffix in (".xml", ".atom"):
        return ElementTree.parse(path).getroot().tag in ("rss", ATOM + "feed")
    if path.suffix == ".json":
        data = json.loads(path.read_text("utf-8"))
        return isinstance(data, dict) and str(data.get("version", "")).startswith("https://jsonfeed.org/")
    return False


def feeds(output: Path) -> dict[str, bytes]:
    """The public URL and bytes of every feed file published under `output` (all scopes and kinds)."""
    return {
        SITE_URL + path.relative_to(output).as_posix(): path.read_bytes()
        for path in sorted(output.rglob("*"))
        if path.is_file() and is_feed(path)
    }


def pinged_urls(pings: list[Ping]) -> list[str]:
    for ping in pings:
        assert ping.content_type.startswith("application/x-www-form-urlencoded"), ping
        assert ping.fields["hub.mode"] == ["publish"], ping
        assert len(ping.fields["hub.url"]) == 1, ping
    return [ping.fields["hub.url"][0] for ping in pings]


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_every_feed_advertises_the_hub(site: FixtureSite, tmp_path: Path, hub: RunningHub) -> None:
    result = run_cli("sync", "--config", str(configure(site, tmp_path, hub.url)), timeout=60)
    assert result.returncode == 0, result.stderr
    output = tmp_path / "output"
    rss_feeds = sorted(output.rglob("feed.xml"))
    assert len(rss_feeds) >= 7  # site, source, topics and types
    for rss_path in rss_feeds:
        channel = ElementTree.parse(rss_path).getroot().find("channel")
        assert channel is not None
        rss_hubs = [link.get("href") for link in channel.findall(ATOM + "link") if link.get("rel") == "hub"]
        assert rss_hubs == [hub.url], rss_path
        atom = ElementTree.parse(rss_path.with_name("feed.atom")).getroot()
        atom_hubs = [link.get("href") for link in atom.findall(ATOM + "link") if link.get("rel") == "hub"]
        assert atom_hubs == [hub.url], rss_path.with_name("feed.atom")
        json_feed = json.loads(rss_path.with_name("feed.json").read_text("utf-8"))
        assert json_feed["hubs"] == [{"type": "WebSub", "url": hub.url}], rss_path.with_name("feed.json")


def test_the_hub_hears_of_each_changed_feed_and_nothing_when_nothing_changed(
    site: FixtureSite, tmp_path: Path, hub: RunningHub
) -> None:
    config = configure(site, tmp_path, hub.url)
    assert run_cli("sync", "--config", str(config), timeout=60).returncode == 0
    first = pinged_urls(hub.hub.taken())
    assert sorted(first) == sorted(feeds(tmp_path / "output")), "one ping per feed, every feed was new"

    result = run_cli("sync", "--config", str(config), timeout=60)

    assert result.returncode == 0, result.stderr
    assert "nothing changed" in result.stdout
    assert hub.hub.taken() == []


def test_only_the_feeds_an_edit_changed_are_pinged(site: FixtureSite, tmp_path: Path, hub: RunningHub) -> None:
    config = configure(site, tmp_path, hub.url)
    assert run_cli("sync", "--config", str(config), timeout=60).returncode == 0
    hub.hub.taken()
    before = feeds(tmp_path / "output")
    page = read_capture(ARTICLE_CAPTURES[1])  # topic Compliance, type Media release
    sentence = "No one should have to choose between standing up for their rights and risking their livelihood."
    site.set_article(ARTICLE_PATHS[1], page.replace(sentence, "Nobody should have to choose, Mr Perry added."))

    result = run_cli("sync", "--config", str(config), timeout=60)

    assert result.returncode == 0, result.stderr
    pinged = pinged_urls(hub.hub.taken())
    after = feeds(tmp_path / "output")
    changed = {url for url, data in after.items() if before.get(url) != data}
    assert len(pinged) == len(set(pinged)), "each changed feed is pinged once"
    assert set(pinged) == changed
    showing_it = {"", "inz/", "inz/topics/compliance/", "inz/types/media-release/"}
    assert {SITE_URL + folder + name for folder in showing_it for name in FEED_NAMES} <= changed
    assert not any("/study-to-work/" in url or "/announcement/" in url for url in pinged), pinged


def test_a_hub_that_answers_500_is_a_warning_not_a_failure(site: FixtureSite, tmp_path: Path, hub: RunningHub) -> None:
    hub.hub.status = 500

    result = run_cli("sync", "--config", str(configure(site, tmp_path, hub.url)), timeout=60)

    assert result.returncode == 0, result.stderr
    assert "warning:" in result.stderr and "websub" in result.stderr.lower(), result.stderr
    assert "500" in result.stderr
    assert hub.hub.taken(), "the hub was asked"
    assert (tmp_path / "output" / "feed.xml").is_file()


def test_a_hub_that_is_down_is_a_warning_not_a_failure(site: FixtureSite, tmp_path: Path) -> None:
    down = f"http://127.0.0.1:{closed_port()}/hub"

    result = run_cli("sync", "--config", str(configure(site, tmp_path, down)), timeout=60)

    assert result.returncode == 0, result.stderr
    assert "warning:" in result.stderr and down in result.stderr, result.stderr
    assert (tmp_path / "output" / "feed.xml").is_file()
