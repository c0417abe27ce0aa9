"""How output files are written: readable by a web server, untouched when their bytes did not change,
replaced only once the new bytes are on disk, and never left half-written by a failed publication."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline import files
from pipeline.errors import PanuiError
from pipeline.files import OutputWriter, remove_leftovers, write_atomic


def leftovers(root: Path) -> list[str]:
    return [path.name for path in root.rglob(".*.tmp")]


@pytest.fixture
def strict_umask() -> Iterator[None]:
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("strict_umask")
def test_published_files_are_readable_by_a_web_server_whatever_the_umask(tmp_path: Path) -> None:
    with OutputWriter(tmp_path) as writer:
        writer.write("inz/topics/work/index.html", b"<p>page</p>")
    write_atomic(tmp_path / "health.json", b"{}")

    for path in (tmp_path / "inz/topics/work/index.html", tmp_path / "health.json"):
        assert path.stat().st_mode & 0o777 == 0o644, path


def test_a_file_with_the_same_bytes_is_not_touched(tmp_path: Path) -> None:
    (tmp_path / "feed.xml").write_bytes(b"<rss/>")
    before = (tmp_path / "feed.xml").stat()

    with OutputWriter(tmp_path) as writer:
        writer.write("feed.xml", b"<rss/>")
        writer.write("feed.json", b"{}")

    after = (tmp_path / "feed.xml").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert writer.written == ["feed.json"]


def test_files_appear_only_when_their_batch_is_committed(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_bytes(b"old")
    writer = OutputWriter(tmp_path)
    writer.write("index.html", b"new")
    writer.write("years/2026/index.html", b"year")

    assert (tmp_path / "index.html").read_bytes() == b"old"  # a reader still sees the complete old file
    assert not (tmp_path / "years/2026/index.html").exists()
    writer.commit()
    assert (tmp_path / "index.html").read_bytes() == b"new"
    assert (tmp_path / "years/2026/index.html").read_bytes() == b"year"
    assert leftovers(tmp_path) == []


def test_a_failed_publication_leaves_the_old_files_and_no_temporary_copy(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_bytes(b"old")

    with pytest.raises(RuntimeError), OutputWriter(tmp_path) as writer:
        writer.write("index.html", b"new")
        writer.write("feed.xml", b"<rss/>")
        raise RuntimeError("rendering failed")

    assert (tmp_path / "index.html").read_bytes() == b"old"
    assert not (tmp_path / "feed.xml").exists()
    assert leftovers(tmp_path) == []


def record_file_syncs(monkeypatch: pytest.MonkeyPatch, root: Path) -> list[tuple[str, bytes | None]]:
    """Record each file's fdatasync: which copy, and what its published file held at that moment."""
    real = files._data_sync
    calls: list[tuple[str, bytes | None]] = []

    def recording_sync(handle: int) -> None:
        copy = Path(f"/proc/self/fd/{handle}").readlink()
        published = copy.with_name(copy.name[1:].rsplit(".", 3)[0])  # ".<name>.<pid>.<random>.tmp"
        calls.append((copy.name, published.read_bytes() if published.exists() else None))
        real(handle)

    monkeypatch.setattr(files, "_data_sync", recording_sync)
    return calls


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to name a descriptor's file")
def test_each_copy_is_on_disk_before_it_replaces_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced = record_file_syncs(monkeypatch, tmp_path)
    for number in range(3):
        (tmp_path / f"page{number}.html").write_bytes(b"old")

    with OutputWriter(tmp_path) as writer:
        for number in range(3):
            writer.write(f"page{number}.html", b"new")

    assert len(synced) == 3
    assert all(published == b"old" for _, published in synced)  # still the old file when its copy was synced
    assert all((tmp_path / f"page{number}.html").read_bytes() == b"new" for number in range(3))


def test_a_failed_sync_renames_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(handle: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(files, "_data_sync", failing)
    for number in range(20):
        (tmp_path / f"page{number}.html").write_bytes(b"old")

    with pytest.raises(OSError, match="Input/output error") as failed, OutputWriter(tmp_path) as writer:
        for number in range(20):
            writer.write(f"page{number}.html", b"new")

    assert failed.value.errno == errno.EIO
    assert {(tmp_path / f"page{number}.html").read_bytes() for number in range(20)} == {b"old"}
    assert leftovers(tmp_path) == []


def test_a_rename_failing_half_way_leaves_earlier_files_new_later_ones_old_and_no_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(5):
        (tmp_path / f"page{number}.html").write_bytes(b"old")
    real_replace = os.replace
    renamed: list[str] = []

    def replace_failing_third(source: str, target: str) -> None:
        if len(renamed) == 2:
            raise OSError(errno.EIO, "rename failed")
        renamed.append(source)
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace_failing_third)
    with pytest.raises(OSError, match="rename failed"), OutputWriter(tmp_path) as writer:
        for number in range(5):
            writer.write(f"page{number}.html", b"new")

    contents = [(tmp_path / f"page{number}.html").read_bytes() for number in range(5)]
    assert contents == [b"new", b"new", b"old", b"old", b"old"]
    assert leftovers(tmp_path) == []


def test_the_first_copy_is_announced_once_and_unchanged_files_make_none(tmp_path: Path) -> None:
    (tmp_path / "feed.xml").write_bytes(b"<rss/>")
    announced: list[str] = []

    with OutputWriter(tmp_path, before_first_copy=lambda: announced.append("copy")) as writer:
        writer.write("feed.xml", b"<rss/>")
        assert announced == []
        writer.write("feed.json", b"{}")
        writer.write("feed.atom", b"<feed/>")

    assert announced == ["copy"]


def copy_name(name: str, pid: int) -> str:
    return f".{name}.{pid}.0a1b2c3d.tmp"


@pytest.mark.e2e
def test_leftover_copies_of_dead_writers_are_removed_and_a_running_writers_kept(tmp_path: Path) -> None:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        hours_ago = time.time() - 2 * 3600
        (tmp_path / "inz").mkdir()
        copies = {
            "dead": tmp_path / "inz" / copy_name("feed.xml", int(finished.stdout)),
            "this pid, before this process": tmp_path / copy_name("index.html", os.getpid()),
            "this pid, since this process started": tmp_path / copy_name("health.json", os.getpid()),
            "running": tmp_path / copy_name("feed.json", running.pid),
            "running pid, but hours old": tmp_path / copy_name("feed.atom", running.pid),
        }
        for path in copies.values():
            path.write_bytes(b"half")
        before = files.PROCESS_STARTED - 60
        os.utime(copies["this pid, before this process"], (before, before))
        os.utime(copies["running pid, but hours old"], (hours_ago, hours_ago))

        remove_leftovers(tmp_path)
    finally:
        running.kill()
        running.wait()

    kept = {"running", "this pid, since this process started"}  # (another container's pid 1, say)
    assert {name for name, path in copies.items() if path.exists()} == kept


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to name a descriptor's file")
def test_new_folders_and_renames_are_on_disk_before_the_batch_is_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "inz").mkdir()
    real_fsync = os.fsync
    fsynced: dict[Path, bool] = {}  # folder -> was the new page in place when it was fsynced

    def recording_fsync(handle: int) -> None:
        path = Path(f"/proc/self/fd/{handle}").readlink()
        if path.is_dir():
            fsynced[path] = (tmp_path / "inz/topics/new/2026/index.html").exists()
        real_fsync(handle)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    with OutputWriter(tmp_path) as writer:
        writer.write("inz/topics/new/2026/index.html", b"<p>year</p>")

    # The page's folder (its rename), and each new folder's parent (its entry), all after the rename.
    folders = ["inz/topics/new/2026", "inz/topics/new", "inz/topics", "inz"]
    assert fsynced == {tmp_path / folder: True for folder in folders}


@pytest.mark.usefixtures("strict_umask")
def test_new_folders_can_be_entered_by_a_web_server_whatever_the_umask(tmp_path: Path) -> None:
    with OutputWriter(tmp_path) as writer:
        writer.write("inz/topics/work/2026/index.html", b"<p>year</p>")

    for folder in ("inz", "inz/topics", "inz/topics/work", "inz/topics/work/2026"):
        assert (tmp_path / folder).stat().st_mode & 0o777 == 0o755, folder


def test_two_outputs_claiming_one_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PanuiError, match=r"two outputs claim index\.html"), OutputWriter(tmp_path) as writer:
        writer.write("index.html", b"one")
        writer.write("index.html", b"two")
    assert not (tmp_path / "index.html").exists()


@pytest.mark.timeout(10)  # (a folder's parent taken as "" rather than "." looped for ever)
def test_paths_relative_to_the_working_folder_are_written_into_new_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_atomic(Path("state/checks/record.json"), b"{}")
    with OutputWriter(Path("site")) as writer:
        writer.write("index.html", b"<p>home</p>")
        writer.write("inz/index.html", b"<p>inz</p>")

    assert (tmp_path / "state/checks/record.json").read_bytes() == b"{}"
    assert (tmp_path / "site/index.html").read_bytes() == b"<p>home</p>"
    assert (tmp_path / "site/inz/index.html").read_bytes() == b"<p>inz</p>"
