"""A response is cut off at its deadline, headers included: the socket timeout bounds each read, not a
whole response (the cut at 3 × timeout of a trickling server, through run.py, is tested in test_faults.py)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.errors import BudgetSpent
from pipeline.fetch import Fetcher
from pipeline.fetch.transport import Cutoff
from tests.fixture_site import FixtureSite
from tests.helpers import MakeConfig


def serve_trickling(listener: socket.socket, stop: threading.Event, headers_first: bool) -> None:
    """robots.txt is missing; every other answer trickles a byte every 0.1 s, of its body or of its headers."""
    while not stop.is_set():
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        with connection:
            try:
                request = connection.recv(4096)
                if b"/robots.txt" in request.split(b"\r\n", 1)[0]:
                    connection.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    continue
                opening = b"Content-Length: 100000\r\n\r\n" if headers_first else b"X-Padding: "
                connection.sendall(b"HTTP/1.1 200 OK\r\n" + opening)
                while not stop.wait(0.1):
                    connection.sendall(b"a")
            except OSError:  # the client cut the connection: what the test is about
                pass


@pytest.fixture(params=[True, False], ids=["trickled-body", "trickled-headers"])
def trickling(request: pytest.FixtureRequest) -> Iterator[str]:
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    threading.Thread(target=serve_trickling, args=(listener, stop, request.param), daemon=True).start()
    timer = threading.Timer(60, stop.set)  # stops by itself even if the test hangs
    timer.daemon = True
    timer.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        stop.set()
        timer.cancel()
        listener.close()


def test_a_response_still_arriving_at_the_runs_deadline_is_cut_off(
    site: FixtureSite, trickling: str, tmp_path: Path, make_config: MakeConfig
) -> None:
    source = {"base_url": trickling, "timeout": 30, "request_delay": 0, "retries": 0}
    config = load_config(make_config(site, tmp_path, contact="mailto:ops@example.org", source=source))
    with Fetcher(config.sources[0], config.user_agent) as fetcher:
        fetcher.prepare()
        fetcher.deadline = time.monotonic() + 1  # well before the response's own 90 s

        with pytest.raises(BudgetSpent, match=r"run_budget\) ran out while reading"):
            fetcher.fetch(trickling + "about-us/news-centre/trickle/")


def test_a_response_that_ends_in_time_is_never_cut() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        with Cutoff(0.05) as cutoff:
            cutoff.attach(ours)
        time.sleep(0.2)  # past its deadline

        assert not cutoff.fired
        theirs.sendall(b"a")
        assert ours.recv(1) == b"a"  # the connection is still open, for the next request on it


def test_a_deadline_passed_while_connecting_cuts_the_connection_as_soon_as_it_is_made() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs, Cutoff(0.01) as cutoff:
        time.sleep(0.2)  # the deadline passes before the request is sent
        cutoff.attach(ours)

        assert cutoff.fired
        assert ours.recv(1) == b""  # shut down: nothing more is read
