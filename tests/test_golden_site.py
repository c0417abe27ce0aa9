"""A golden copy of a whole published site: every page and feed Pānui publishes from a fixed store, kept
byte for byte in tests/golden/site/, so a change anywhere in the output shows as a diff of that folder.

The store is made by the real sync, run in this process three times against the fixture site (the real
captures of two articles and two articles derived from them, in three years, five topics and two types;
the home page's urgent banner), with the clock fixed: the first sync finds everything, the second finds
one article revised and another missing, the third, two hours later, withdraws the missing one. The site
is configured as http://inz.test/ and reached through its own 127.0.0.1 address as the proxy, so no port
shows in the output (and no request can leave the machine: .test names no real host). After a deliberate change to the output, regenerate the copy:

    PANUI_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_site.py

and read `git diff tests/golden/site/` before committing it: the diff is the change every reader sees.
"""

from __future__ import annotations

import difflib
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

import pytest

import pipeline.fetch
import pipeline.sync.run
from pipeline.config import load_config
from pipeline.reports import SourceReport
from pipeline.sync.run import run_sync
from tests.fixture_site import ARTICLE_CAPTURES, FixtureSite, article_path, capture_path, derive_article
from tests.helpers import write_config

pytestmark = pytest.mark.e2e  # starts the fixture site and syncs from it (in this process)

GOLDEN = Path(__file__).resolve().parent / "golden" / "site"
UPDATE_GOLDEN = os.environ.get("PANUI_UPDATE_GOLDEN") == "1"
HOST = "http://inz.test/"  # a reserved name (RFC 2606): the site is reached as a proxy
FIRST_SYNC = datetime(2026, 7, 13, 0, 0, tzinfo=UTC)  # the fixture site's Last-Modified day
MAX_GOLDEN_BYTES = 1_000_000  # a golden copy is read by people: a handful of articles, not an archive
DIFF_LINES = 12  # of each differing file, in the failure message

EMPLOYER = capture_path(ARTICLE_CAPTURES[1])  # Media release, Compliance, 7 July 2026
BUSINESS = capture_path(ARTICLE_CAPTURES[2])  # Announcement, two topics, 6 July 2026
FEES = article_path("visa-fees-change-from-1-august")  # 2025; revised by the second sync
CLOSURE = article_path("wellington-office-closes-for-refurbishment")  # 2024; withdrawn by the third
FEES_SENTENCE = "Applications submitted before 1 August are charged the current fee."
FEES_REVISED = "Applications submitted before 8 August are charged the current fee, and no more."
FEES_BODY = (
    "<h2>What is changing</h2>"
    f"<p>From 1 August, visa application fees change for most visa types. {FEES_SENTENCE} "
    "Applicants do not need to do anything, and the new fees are listed on our fees page from today.</p>"
    '<ul><li>Visitor visas</li><li>Student visas</li><li>Work visas</li></ul><p>See <a href="/fees/">fees</a>.</p>'
)
CLOSURE_BODY = (
    "<p>Our Wellington office at 15 Stout Street will close for refurbishment for six weeks. Appointments "
    "booked during that time will be moved to our Auckland office or held by video call, and applicants "
    "who are affected will be contacted by email with their new appointment details.</p>"
)


class Clock:
    """The time the pipeline reads: set by the story, never by the machine."""

    now = FIRST_SYNC

    def __call__(self) -> datetime:
        return self.now


def frozen_datetime(clock: Clock) -> type[datetime]:
    """`datetime` whose now() is the clock's (the fetcher dates each response with datetime.now)."""

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Frozen:
            moment = clock.now if tz is None else clock.now.astimezone(tz)
            return cls.fromtimestamp(moment.timestamp(), moment.tzinfo)

    return Frozen


def derived_pages() -> dict[str, str]:
    """The two derived articles as first published (their topics are their templates')."""
    fees = derive_article(
        ARTICLE_CAPTURES[0],  # Visa holders and applicants, Study to work
        slug="visa-fees-change-from-1-august",
        title="Visa fees change from 1 August",
        published="14 March 2025",
        body_html=FEES_BODY,
        summary="Most visa application fees change on 1 August; what it means for applicants.",
    )
    closure = derive_article(
        ARTICLE_CAPTURES[3],  # Visa holders and applicants, Immigration rules and processes
        slug="wellington-office-closes-for-refurbishment",
        title="Wellington office closes for refurbishment",
        published="02 October 2024",
        body_html=CLOSURE_BODY,
        summary="Our Wellington office closes for six weeks; appointments move.",
    )
    return {FEES: fees, CLOSURE: closure}


@pytest.fixture
def inz() -> Iterator[FixtureSite]:
    """The fixture site as inz.test, serving only the golden site's four articles."""
    with FixtureSite(max_lifetime=300, base_url=HOST) as site:
        for path, page in derived_pages().items():
            site.set_article(path, page)
        site.set_home_links([(EMPLOYER, "Employer", "7 Jul 2026"), (BUSINESS, "Business", "6 Jul 2026")])
        site.set_sitemap_paths([EMPLOYER, BUSINESS, FEES, CLOSURE])
        yield site


def sync(config: Path) -> SourceReport:
    report = run_sync(load_config(config))
    assert report.exit_code == 0, report.all_problems
    (source,) = report.sources
    return source


def build_site(site: FixtureSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Sync the site's story into a fresh store with a fixed clock; the published output folder."""
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(name, site.address)
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    clock = Clock()
    monkeypatch.setattr(pipeline.sync.run, "_now", clock)
    monkeypatch.setattr(pipeline.fetch, "datetime", frozen_datetime(clock))
    # The shipped configuration; every known article re-checked on every sync, so the story is told in three.
    # inz.test is not loopback, so the placeholder contact would be refused: a real-looking one (every
    # request goes to the proxy on 127.0.0.1, and no published file names the contact).
    source = {"retries": 0, "backoff": 0, "revisit": [{"every": "0s"}]}
    config = write_config(site, tmp_path, contact="mailto:golden-tests@panui.nz", source=source)
    host = HOST.rstrip("/")  # the captures' canonical host is replaced by the configured one

    first = sync(config)
    assert len(first.new) == 4 and first.alerts, first

    site.set_article(FEES, derived_pages()[FEES].replace(FEES_SENTENCE, FEES_REVISED))
    site.remove(CLOSURE)
    clock.now += timedelta(days=1)
    second = sync(config)
    assert second.updated == [host + FEES] and not second.withdrawn, second
    assert any(host + CLOSURE in note for note in second.notes), second.notes

    clock.now += timedelta(hours=2)  # past the shipped removal_grace (1h)
    third = sync(config)
    assert third.withdrawn == [host + CLOSURE], third
    return tmp_path / "output"


def files_under(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()
    }


def write_golden(files: dict[str, bytes]) -> None:
    shutil.rmtree(GOLDEN, ignore_errors=True)
    for name, data in files.items():
        path = GOLDEN / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def differences(actual: dict[str, bytes], golden: dict[str, bytes]) -> str:
    """Which files differ from the golden copy, each with the start of its unified diff."""
    lines = [f"missing from the output: {name}" for name in sorted(golden.keys() - actual.keys())]
    lines += [f"not in the golden copy: {name}" for name in sorted(actual.keys() - golden.keys())]
    changed = sorted(name for name in actual.keys() & golden.keys() if actual[name] != golden[name])
    lines += [f"differs: {name}" for name in changed]
    for name in changed:
        diff = difflib.unified_diff(
            golden[name].decode("utf-8", "replace").splitlines(),
            actual[name].decode("utf-8", "replace").splitlines(),
            f"golden/{name}",
            f"output/{name}",
            n=1,
            lineterm="",
        )
        lines += [line[:200] for line in list(diff)[:DIFF_LINES]]
    lines.append("after a deliberate change: PANUI_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_site.py")
    return "\n".join(lines)


def test_the_published_site_is_its_golden_copy(
    inz: FixtureSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    actual = files_under(build_site(inz, tmp_path, monkeypatch))

    if UPDATE_GOLDEN:
        write_golden(actual)
    golden = files_under(GOLDEN)
    if actual != golden:
        pytest.fail(differences(actual, golden), pytrace=False)
    assert sum(map(len, golden.values())) < MAX_GOLDEN_BYTES
