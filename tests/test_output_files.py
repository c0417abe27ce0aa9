"""How output files are written: readable by a web server, untouched when their bytes did not change,
replaced only once the new bytes are on disk, and never left half-written by a failed publication."""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.errors import PanuiError
from pipeline.publish import files
from pipeline.publish.files import OutputWriter, write_atomic


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


def test_one_filesystem_sync_makes_a_whole_batch_durable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = files._syncfs
    if real is None:
        pytest.skip("this C library has no syncfs")
    synced: list[int] = []

    def recording_syncfs(handle: int) -> int:
        synced.append(handle)
        return real(handle)

    monkeypatch.setattr(files, "_syncfs", recording_syncfs)
    with OutputWriter(tmp_path) as writer:
        for number in range(20):
            writer.write(f"articles/{number}/index.html", b"page %d" % number)

    assert len(synced) == 1
    assert len(list(tmp_path.glob("articles/*/index.html"))) == 20


def test_without_syncfs_each_file_is_fsynced_before_it_is_renamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "_syncfs", None)
    real_fsync = os.fsync
    fsynced: list[int] = []

    def recording_fsync(handle: int) -> None:
        fsynced.append(handle)
        real_fsync(handle)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    with OutputWriter(tmp_path) as writer:
        for number in range(5):
            writer.write(f"page{number}.html", b"page")

    assert len(fsynced) == 5
    assert sorted(path.name for path in tmp_path.iterdir()) == [f"page{number}.html" for number in range(5)]


def test_a_failed_sync_renames_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_syncfs(handle: int) -> int:
        ctypes.set_errno(errno.EIO)
        return -1

    monkeypatch.setattr(files, "_syncfs", failing_syncfs)
    (tmp_path / "index.html").write_bytes(b"old")

    with pytest.raises(OSError, match="syncfs") as failed, OutputWriter(tmp_path) as writer:
        writer.write("index.html", b"new")

    assert failed.value.errno == errno.EIO
    assert (tmp_path / "index.html").read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_two_outputs_claiming_one_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PanuiError, match=r"two outputs claim index\.html"), OutputWriter(tmp_path) as writer:
        writer.write("index.html", b"one")
        writer.write("index.html", b"two")
    assert not (tmp_path / "index.html").exists()
