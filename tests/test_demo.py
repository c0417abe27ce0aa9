"""`python run.py demo`: a fresh clone shows its work offline, with the real sync against the bundled INZ
pages replayed on 127.0.0.1, and a second run that is all conditional requests."""

from __future__ import annotations

import http.client
import re
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.helpers import REPO_ROOT, run_cli

pytestmark = pytest.mark.e2e  # runs run.py demo, which replays the bundled pages on 127.0.0.1

SHIPPED = str(REPO_ROOT / "sources.yaml")
# Any request that is not for 127.0.0.1 goes to a proxy where nothing listens, and fails: the demo asks
# the replay directly, and nothing else at all.
DEAD_PROXY = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""}
TITLES = ("Improvements to the Pathway Student Visa", "Middle East: advice for temporary visa holders")


@dataclass(frozen=True)
class Demo:
    folder: Path
    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str]


def requests_made(stdout: str) -> tuple[int, int, int]:
    """(requests the sync counted, requests the replay answered, of which 304) from a demo's report."""
    counted = re.search(r"^inz: .* \((\d+) requests?\)$", stdout, re.M)
    answered = re.search(r"answered (\d+) requests? \((\d+) with 304 Not Modified\)", stdout)
    assert counted and answered, stdout
    return int(counted[1]), int(answered[1]), int(answered[2])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """Two `demo --no-serve` runs in a fresh folder, as a newcomer would type them."""
    folder = tmp_path_factory.mktemp("newcomer")
    first = run_cli("demo", "--no-serve", "--config", SHIPPED, cwd=folder, env=DEAD_PROXY, timeout=120)
    second = run_cli("demo", "--no-serve", "--config", SHIPPED, cwd=folder, env=DEAD_PROXY, timeout=120)
    return Demo(folder / "demo", first, second)


def test_the_demo_syncs_and_publishes_the_bundled_pages_asking_only_the_replay(demo: Demo) -> None:
    assert demo.first.returncode == 0, demo.first.stderr
    assert re.search(r"^inz: 4 new, 0 updated, .* 0 problems", demo.first.stdout, re.M), demo.first.stdout
    assert "alert: Travel disrupted by the Middle East situation" in demo.first.stdout
    counted, answered, not_modified = requests_made(demo.first.stdout)
    assert counted == answered > 0 and not_modified == 0  # every request the sync made reached the replay
    replay = re.search(r"at (http://127\.0\.0\.1:\d+/) answered", demo.first.stdout)
    assert replay is not None
    new = re.findall(r"^  new: (\S+)$", demo.first.stdout, re.M)
    assert len(new) == 4 and all(url.startswith(replay[1] + "about-us/news-centre/") for url in new)
    output = demo.folder / "output"
    for feed in ("feed.xml", "feed.atom", "feed.json", "inz/feed.xml", "inz/alerts.xml", "inz/updates.xml"):
        assert (output / feed).is_file(), feed
    assert all(title in (output / "feed.xml").read_text("utf-8") for title in TITLES)
    assert len(list(output.glob("inz/articles/*/index.html"))) == 4
    assert "<a href=" in (output / "index.html").read_text("utf-8")
    assert (demo.folder / "state").is_dir() and not (demo.folder.parent / "output").exists()


def test_a_second_demo_run_is_conditional_and_publishes_nothing(demo: Demo) -> None:
    assert demo.second.returncode == 0, demo.second.stderr
    assert re.search(r"^inz: 0 new, 0 updated, ", demo.second.stdout, re.M), demo.second.stdout
    counted, answered, not_modified = requests_made(demo.second.stdout)
    assert counted == answered == not_modified > 0
    assert "published: nothing changed" in demo.second.stdout


def test_the_corrections_feed_describes_itself_in_good_english(demo: Demo) -> None:
    updates = (demo.folder / "output" / "inz" / "updates.xml").read_text("utf-8")
    assert "Each silent edit of an article from Immigration New Zealand" in updates
    assert "a Immigration" not in updates


def test_the_demo_folder_can_be_served_status_checked_and_rebuilt_as_any_config(demo: Demo) -> None:
    config = str(demo.folder / "sources.yaml")
    assert run_cli("status", "--config", config).returncode == 0
    rebuilt = run_cli("rebuild", "--config", config)
    assert rebuilt.returncode == 0 and "published: nothing changed" in rebuilt.stdout


def test_the_demo_never_overwrites_a_configuration_it_did_not_write(tmp_path: Path) -> None:
    mine = tmp_path / "sources.yaml"
    shutil.copy(SHIPPED, mine)
    before = mine.read_bytes()
    result = run_cli("demo", "--no-serve", "--config", str(mine), "--dir", str(tmp_path))
    assert result.returncode == 2
    assert "is not a demo configuration" in result.stderr and "hint: give `demo` a --dir" in result.stderr
    assert mine.read_bytes() == before and not (tmp_path / "state").exists()


def test_the_demo_needs_a_source_for_the_captured_site(tmp_path: Path) -> None:
    other = tmp_path / "sources.yaml"
    other.write_text(Path(SHIPPED).read_text("utf-8").replace("www.immigration.govt.nz", "news.invalid"), "utf-8")
    result = run_cli("demo", "--no-serve", "--config", str(other), cwd=tmp_path)
    assert result.returncode == 2
    assert "has no source for www.immigration.govt.nz" in result.stderr and "hint:" in result.stderr


def test_a_demo_whose_port_is_taken_stops_before_anything_is_made(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run_cli("demo", "--dir", str(tmp_path / "demo"), "--port", str(port), timeout=60)

    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "choose another --port" in result.stderr
    assert not (tmp_path / "demo").exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def serving_demo(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "run.py"), "demo", "--config", SHIPPED, "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        for line in process.stdout:  # the sync's report, then the serving line
            lines.append(line)
            if line.startswith("Serving "):
                break
        address = re.search(r" at (http://127\.0\.0\.1:\d+/) ", lines[-1] if lines else "")
        assert address is not None and address[1] == f"http://127.0.0.1:{port}/", "".join(lines)
        yield process, address[1]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_demo_serves_its_archive_and_prints_the_address(
    serving_demo: tuple[subprocess.Popen[str], str], tmp_path: Path
) -> None:
    process, address = serving_demo
    port = int(address.rsplit(":", 1)[1].strip("/"))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        for path, words in (("/", TITLES[0]), ("/inz/feed.xml", f"{address}inz/feed.xml")):
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read().decode("utf-8")
            assert response.status == 200 and words in body, path  # the feeds link to where they are served
    finally:
        connection.close()
    # While the demo serves, the replay still answers: an archived article's link to its original works.
    article = next((tmp_path / "demo" / "output" / "inz" / "articles").glob("*/index.html")).read_text("utf-8")
    original = re.search(r'<a href="(http://127\.0\.0\.1:\d+/about-us/news-centre/[^"]+)">Read the original', article)
    assert original is not None
    replay = urlsplit(original[1])
    connection = http.client.HTTPConnection("127.0.0.1", replay.port, timeout=10)
    try:
        connection.request("GET", replay.path)
        assert connection.getresponse().status == 200
    finally:
        connection.close()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
