"""Byte-stable output: a static web server's ETag and Last-Modified stay valid and readers see no
phantom updates, because a sync over an unchanged store leaves every file untouched, feeds are dated
by their newest item (never "now"), and the same store always renders the same bytes."""

from __future__ import annotations

import shutil
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from xml.etree import ElementTree

from tests.fixture_site import ARTICLE_CAPTURES, ARTICLE_PATHS, FixtureSite, read_capture
from tests.helpers import run_cli, write_config

ATOM = "{http://www.w3.org/2005/Atom}"
# The public health file (health.public) is a heartbeat: it says when the last run happened, so it is
# meant to change on every run. Monitors read it; feed readers and archive visitors never do.
HEARTBEAT = "health.json"
Snapshot = dict[str, tuple[bytes, int]]


def snapshot(output: Path) -> Snapshot:
    """Every published file under `output` (the heartbeat aside) with its bytes and mtime (ns)."""
    return {
        path.relative_to(output).as_posix(): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(output.rglob("*"))
        if path.is_file() and path.relative_to(output).as_posix() != HEARTBEAT
    }


def sync(config: Path) -> str:
    result = run_cli("sync", "--config", str(config), timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def first_sync(site: FixtureSite, tmp_path: Path) -> tuple[Path, Path]:
    config = write_config(site, tmp_path, source={"retries": 0, "backoff": 0})
    sync(config)
    return config, tmp_path / "output"


def atom_date(text: str | None) -> datetime:
    assert text, "missing Atom date"
    return datetime.fromisoformat(text)


def test_a_second_sync_over_an_unchanged_store_touches_no_file(site: FixtureSite, tmp_path: Path) -> None:
    config, output = first_sync(site, tmp_path)
    before = snapshot(output)
    assert len(before) > 30  # every scope's feeds, the article, listing and search pages

    stdout = sync(config)

    assert "nothing changed" in stdout
    after = snapshot(output)
    assert after.keys() == before.keys()
    changed = [path for path in before if after[path] != before[path]]
    assert changed == [], f"rewritten although nothing changed: {changed}"
    assert not [path for path in after if path.rsplit("/", 1)[-1].startswith(".")], "temporary files left behind"


def test_feeds_are_dated_by_their_newest_item_not_by_the_clock(site: FixtureSite, tmp_path: Path) -> None:
    _, output = first_sync(site, tmp_path)
    checked = 0
    for atom_path in sorted(output.rglob("*.atom")):  # every scope, and any other feed (alerts...)
        atom = ElementTree.parse(atom_path).getroot()
        entry_dates = [atom_date(entry.findtext(ATOM + "updated")) for entry in atom.iter(ATOM + "entry")]
        rss_path = atom_path.with_suffix(".xml")
        channel = ElementTree.parse(rss_path).getroot().find("channel")
        assert channel is not None
        if not entry_dates:
            continue  # an empty feed has no newest item to be dated by
        newest = max(entry_dates)
        assert atom_date(atom.findtext(ATOM + "updated")) == newest, atom_path
        last_build = parsedate_to_datetime(channel.findtext("lastBuildDate") or "")
        assert last_build == newest, rss_path
        checked += 1
    assert checked >= 9  # site, source, five topics, two types
    channel = ElementTree.parse(output / "feed.xml").getroot().find("channel")
    assert channel is not None
    newest_published = max(parsedate_to_datetime(item.findtext("pubDate") or "") for item in channel.iter("item"))
    assert channel.findtext("lastBuildDate") == "Thu, 09 Jul 2026 00:00:00 +1200"  # the Pathway article's day
    assert parsedate_to_datetime(channel.findtext("lastBuildDate") or "") == newest_published


def test_a_deleted_output_is_rebuilt_byte_for_byte(site: FixtureSite, tmp_path: Path) -> None:
    config, output = first_sync(site, tmp_path)
    kept = tmp_path / "kept"
    shutil.copytree(output, kept)
    shutil.rmtree(output)

    sync(config)

    rebuilt = {path: data for path, (data, _) in snapshot(output).items()}
    original = {path: data for path, (data, _) in snapshot(kept).items()}
    assert rebuilt.keys() == original.keys()
    assert [path for path in original if rebuilt[path] != original[path]] == []


def test_an_edited_article_rewrites_only_the_files_that_show_it(site: FixtureSite, tmp_path: Path) -> None:
    config, output = first_sync(site, tmp_path)
    before = snapshot(output)
    employer_path = ARTICLE_PATHS[1]  # topic Compliance, type Media release, on the home page block
    page = read_capture(ARTICLE_CAPTURES[1])
    sentence = "No one should have to choose between standing up for their rights and risking their livelihood."
    assert sentence in page
    site.set_article(employer_path, page.replace(sentence, "Nobody should have to choose, Mr Perry added."))

    stdout = sync(config)

    assert "1 updated" in stdout
    after = snapshot(output)
    changed = {path for path in after if after[path] != before.get(path)}
    slug = employer_path.rstrip("/").rsplit("/", 1)[-1]
    assert f"inz/articles/{slug}/index.html" in changed
    assert {"inz/topics/compliance/feed.xml", "inz/types/media-release/feed.atom", "feed.json"} <= changed
    untouched = {
        "inz/topics/study-to-work/feed.xml",
        "inz/topics/study-to-work/index.html",
        "inz/types/announcement/feed.atom",
        "inz/articles/improvements-to-the-pathway-student-visa/index.html",
        "feeds.opml",
        "topics.opml",
        "search/search.js",
    }
    assert untouched.isdisjoint(changed), untouched & changed
    for path in untouched:
        assert after[path] == before[path], path
