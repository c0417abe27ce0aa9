"""One page costs at most itself (pipeline/bounds.py): a control character in a link, a date in year 1,
3,000 topics or an escape sequence from a site is refused or bounded for that one item, and every
later run still publishes. End to end through `run.py` against the fixture site, then property-based:
whole hostile pages (URLs, dates, topics, sizes, encodings) among good ones."""

from __future__ import annotations

import html
import json
import logging
import re
import subprocess
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.bounds import MAX_NAME_CHARS, MAX_TITLE_CHARS, MAX_TOPICS, bounded_article, shorten
from pipeline.config.reader import check_http_url
from pipeline.discover import parse_lastmod
from pipeline.errors import ExtractError
from pipeline.extract import HeldBack
from pipeline.extract.alerts import extract_alerts
from pipeline.logs import KeyValueFormatter, visible
from pipeline.model import Article
from pipeline.reports import SourceReport
from pipeline.sync.keep import hold_back, note_drift
from tests.fixture_site import (
    ARTICLE_PATHS,
    DEFAULT_SITEMAP_PATHS,
    NEWS,
    FixtureSite,
    Route,
    article_path,
    derive_article,
)
from tests.helpers import MakeConfig, run_cli, write_config
from tests.test_alerts import home_page
from tests.test_hostile import INZ

TEMPLATE = "article-improvements-to-the-pathway-student-visa.html"
WORDS = (
    "<p>From 1 August the fee for most visa types changes. Applications lodged before that date are charged "
    "the current fee, applicants do not need to do anything, and the new fees are listed on our fees page.</p>"
)
# What a terminal would act on, in a command's output (a line break is the output's own).
RAW_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
ESCAPE = "\x1b]0;owned\x07\x1b[2J"


def with_topics(page: str, names: list[str]) -> str:
    """The page with `names` as its topics, before the two it has."""
    items = "".join(
        f'<li class="topic-item"><a href="/about-us/news-centre/?topic_ids={index}" class="btn btn--tag">'
        f"{html.escape(name)}</a></li>"
        for index, name in enumerate(names)
    )
    return page.replace('<li class="topic-item">', items + '<li class="topic-item">', 1)


def with_canonical(page: str, href: str) -> str:
    return re.sub(r'<link rel="canonical" href="[^"]*">', lambda _: f'<link rel="canonical" href="{href}">', page)


def sync(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("sync", "--config", str(config), *args, timeout=90)


def feed_ids(output: Path) -> list[str]:
    """The item ids of the site's JSON feed, after checking that its RSS and Atom feeds parse."""
    for name in ("feed.xml", "feed.atom"):
        ElementTree.fromstring((output / name).read_bytes())
    return [item["id"] for item in json.loads((output / "feed.json").read_text("utf-8"))["items"]]


def assert_terminal_safe(result: subprocess.CompletedProcess[str]) -> None:
    for stream in (result.stdout, result.stderr):
        assert not RAW_CONTROL.search(stream), stream[:2000]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]


# -- each finding of issue 14, end to end -----------------------------------------------------------


def test_a_control_character_a_year_one_date_and_three_thousand_topics_cost_only_their_page(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    base = site.base_url.rstrip("/")
    canonical = with_canonical(
        derive_article(TEMPLATE, slug="canonical", title="Canonical link", published="10 July 2026", body_html=WORDS),
        f"{base}/about-us/news-centre/canon\x01ical/",
    )
    year_one = derive_article(TEMPLATE, slug="year-one", title="Year one", published="01 January 0001", body_html=WORDS)
    topics = with_topics(
        derive_article(TEMPLATE, slug="topics", title="Topics", published="11 July 2026", body_html=WORDS),
        [f"Topic {number} " + "x" * 150 for number in range(3000)],
    )
    for slug, page in (("canonical", canonical), ("year-one", year_one), ("topics", topics)):
        site.set_article(article_path(slug), page)
    site.set_sitemap_paths(
        [*DEFAULT_SITEMAP_PATHS, *(article_path(slug) for slug in ("canonical", "year-one", "topics"))]
    )
    # A discovery link with a control character, and one that redirects off the host to an escape sequence.
    site.set_home_links([(NEWS + "bad\x01link/", "Bad link", "9 Jul 2026"), (NEWS + "away/", "Away", "9 Jul 2026")])
    site.set(NEWS + "away/", Route(status=302, headers={"Location": f"http://example.invalid/{ESCAPE}"}))
    config = make_config(site, tmp_path, source={"retries": 0, "backoff": 0})
    output = tmp_path / "output"

    first = sync(config)
    assert first.returncode == 1, first.stderr  # the year-one page and the redirect are problems
    assert_terminal_safe(first)
    assert visible(ESCAPE) in first.stderr  # spelled out, so the operator sees what the site sent
    assert "the published date 0001-01-01 is before 1991" in first.stderr
    assert f"{base}/about-us/news-centre/topics/: kept the first {MAX_TOPICS} of its 3002 topics" in first.stdout
    ids = feed_ids(output)
    assert f"{base}{article_path('canonical')}" in ids  # the bad canonical was ignored, not stored
    assert f"{base}{article_path('topics')}" in ids and all(f"{base}{path}" in ids for path in ARTICLE_PATHS)
    assert not any("year-one" in url or "\x01" in url for url in ids)
    assert "bad" not in "".join(site.paths_requested())  # the bad link was never requested
    files = [path for path in output.rglob("*") if path.is_file()]
    pages = [path for path in files if path.relative_to(output).parts[0] != "search"]  # (its index: by word)
    assert len(pages) < 400 and sum(path.stat().st_size for path in files) < 10_000_000  # was 15,000 and 1.3 GB

    for later in (sync(config), run_cli("rebuild", "--config", str(config), timeout=90)):
        assert later.returncode in (0, 1), later.stderr
        assert_terminal_safe(later)
        assert "] publish " not in later.stderr  # publishing never failed
        assert feed_ids(output) == ids
    status = run_cli("status", "--config", str(config))
    assert_terminal_safe(status)
    assert visible(ESCAPE) in status.stdout
    check = run_cli("check", "--config", str(config), "--url", f"{base}{NEWS}away/")
    assert_terminal_safe(check)
    assert visible(ESCAPE) in check.stdout


def test_credentials_in_a_configured_url_stop_the_run_before_anything_is_sent(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    with_password = site.base_url.replace("http://", "http://panui:s3cret@")
    config = make_config(site, tmp_path, source={"base_url": with_password})
    result = sync(config)
    assert result.returncode == 2
    assert "sources[0].base_url: holds a user name or password" in result.stderr
    assert "remove the part before '@'" in result.stderr
    assert "s3cret" not in result.stderr + result.stdout
    assert site.paths_requested() == []
    assert not (tmp_path / "output").exists()


def test_a_link_urllib_cannot_read_costs_nothing_but_itself(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    # urljoin and urlsplit raise ValueError on an unclosed IPv6 bracket: once, that stopped every source.
    unreadable = "http://[x/a"
    page = derive_article(
        TEMPLATE,
        slug="odd-link",
        title="An article with an odd link",
        published="12 July 2026",
        body_html=f'<p>{WORDS} <a href="{unreadable}">this link</a> leads nowhere.</p>',
    )
    site.set_article(article_path("odd-link"), page)
    site.set_sitemap_paths([*DEFAULT_SITEMAP_PATHS, article_path("odd-link"), "//[::1/x"])
    site.set_home_links([(unreadable, "Unreadable", "9 Jul 2026"), (article_path("odd-link"), "Odd", "12 Jul 2026")])
    config = make_config(site, tmp_path, source={"retries": 0, "backoff": 0})

    result = sync(config)

    assert result.returncode == 0, result.stdout + result.stderr
    base = site.base_url.rstrip("/")
    ids = feed_ids(tmp_path / "output")
    assert f"{base}{article_path('odd-link')}" in ids and all(f"{base}{path}" in ids for path in ARTICLE_PATHS)
    body = (tmp_path / "output" / "inz" / "articles" / "odd-link" / "index.html").read_text("utf-8")
    assert "this link</a>" in body or "this link" in body
    assert unreadable not in body  # the address urllib cannot read is dropped; its text stays


def test_a_contact_that_is_not_ascii_is_a_config_error_not_a_crash_at_the_first_request(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = make_config(site, tmp_path, contact="mailto:tāne@whānau.nz")
    result = sync(config)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "contact: must be ASCII, as HTTP headers are" in result.stderr and "punycode" in result.stderr
    assert "Traceback" not in result.stderr and site.paths_requested() == []


def test_a_malformed_url_with_credentials_is_refused_without_repeating_them() -> None:
    problem = check_http_url("htps://inz:s3cret@www.immigration.govt.nz/")
    assert problem is not None and "user name or password" in str(problem) and "s3cret" not in str(problem)


def test_drift_counts_every_article_read_including_those_answered_not_modified() -> None:
    report = SourceReport(source_id="inz")
    for number in range(3):
        hold_back(report, f"https://example.org/{number}", HeldBack("held back: no text", "", layout_changed=False))
    note_drift(report)
    assert report.degraded  # 3 of 3 read were held back: the layout may have changed
    report = SourceReport(source_id="inz", articles_read=5)  # five answered 304 before
    for number in range(3):
        hold_back(report, f"https://example.org/{number}", HeldBack("held back: no text", "", layout_changed=False))
    note_drift(report)
    assert report.articles_read == 8 and not report.degraded  # 3 of 8: three odd pages, not a redesign


# -- the bounds themselves --------------------------------------------------------------------------


def test_an_article_past_its_caps_is_cut_with_a_note_and_a_real_one_is_untouched() -> None:
    published = datetime(2026, 7, 10, tzinfo=UTC)
    real = Article("https://x.example/a/", "Fees change", published, "Announcement", ("Fees", "Work"), "Soon.", "<p/>")
    assert bounded_article(real) == (real, [])
    topics = (*(f"Topic {number}" for number in range(100)), "y" * 500)
    huge = Article("https://x.example/a/", "word " * 1000, published, "t" * 500, topics, "s" * 5000, "<p/>")
    article, notes = bounded_article(huge)
    assert len(article.title) <= MAX_TITLE_CHARS and article.title.endswith("word…")
    assert article.news_type is not None and len(article.news_type) == MAX_NAME_CHARS
    assert article.topics == topics[:MAX_TOPICS]
    assert notes == [
        "cut its title to 300 characters (it had 5000)",
        "cut its summary to 1000 characters (it had 5000)",
        "cut its news type to 100 characters (it had 500)",
        "cut 1 topic name(s) to 100 characters",
        "kept the first 30 of its 101 topics",
    ]
    assert shorten("Short title", 300) == "Short title"


def test_a_sitemap_lastmod_that_cannot_be_true_is_read_as_none() -> None:
    fetched = datetime(2026, 7, 13, tzinfo=UTC)
    assert parse_lastmod("2026-07-09T10:00:00+12:00", fetched) == datetime(2026, 7, 8, 22, tzinfo=UTC)
    for text in ("0001-01-01T00:00:00+12:00", "1970-01-01", "9999-12-31T23:00:00-05:00", "2027-01-01"):
        assert parse_lastmod(text, fetched) is None, text


@pytest.mark.parametrize("issued", ["Monday 02 Mar 0001, 07:10 pm", "Monday 02 Mar 2099, 07:10 pm"])
def test_an_alert_issued_before_the_web_or_in_the_future_is_a_problem(issued: str) -> None:
    page = home_page()
    page = replace(page, body=page.body.replace(b"Monday 02 Mar 2026, 07:10 pm", issued.encode()))
    with pytest.raises(
        ExtractError, match=r"alert issued time (0001-03-02 is before 1991|2099-03-02 is in the future)"
    ):
        extract_alerts(page, INZ)


def test_a_log_line_spells_out_what_a_terminal_would_act_on() -> None:
    record = logging.LogRecord("panui.test", logging.WARNING, __file__, 1, "page.odd", None, None)
    record.fields = {"url": f"http://x.example/{ESCAPE}\x9b"}
    line = KeyValueFormatter().format(record)
    assert not RAW_CONTROL.search(line)
    assert 'url="http://x.example/\\u001b]0;owned\\u0007\\u001b[2J\\x9b"' in line


# -- property-based: whole hostile pages among good ones -------------------------------------------


HOSTILE_TEXT = ["\x00", "\x01", "\x1b[31m", ESCAPE, "\x7f", "\x85", "\x9b2J", "\u202e", "\ufeff", "\ufffe", "&#1;", "<"]
TEXTS = st.lists(st.one_of(st.text(max_size=20), st.sampled_from(HOSTILE_TEXT)), max_size=6).map("".join)
LONG_TEXTS = st.one_of(TEXTS, st.builds(lambda text, times: (text or "x") * times, TEXTS, st.integers(1, 3000)))
MONTHS = ["January", "February", "July", "December", "Smarch"]
DATES = st.one_of(
    st.sampled_from(["01 January 0001", "31 December 9999", "29 February 2023", "10 July 2026", "", "\x00"]),
    st.builds(
        lambda day, month, year: f"{day:02d} {month} {year:04d}",
        st.integers(0, 32),
        st.sampled_from(MONTHS),
        st.integers(1, 9999),
    ),
)
CANONICALS = st.one_of(
    st.none(),
    st.sampled_from(["javascript:alert(1)", "//evil.example/x/", "http://a:b@evil.example/x/", "mailto:x@y", ""]),
    st.builds(lambda text: "/about-us/news-centre/" + text + "/", TEXTS),
    st.builds(lambda times: "/about-us/news-centre/" + "long-" * times + "/", st.integers(1, 2000)),
)
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "windows-1252", "latin-1-said-utf-8"]
LINKS = st.one_of(
    st.builds(lambda text: NEWS + text + "/", TEXTS),
    st.sampled_from(["javascript:alert(1)", "http://a:b@127.0.0.1/x/", "\x1b[2J", NEWS + "x" * 5000 + "/"]),
)


@st.composite
def hostile_pages(draw: st.DrawFn, number: int) -> bytes:
    """A whole article page whose every field is drawn from what a broken or hostile site might send."""
    body = WORDS * draw(st.integers(0, 400)) + html.escape(draw(TEXTS)) + draw(st.sampled_from(["", "<p>" * 2000]))
    page = derive_article(
        TEMPLATE,
        slug=f"hostile-{number}",
        title=draw(LONG_TEXTS),
        published=draw(DATES),
        body_html=body,
        news_type=draw(LONG_TEXTS),
        summary=draw(LONG_TEXTS),
    )
    count = draw(st.integers(0, 3000))
    page = with_topics(page, [draw(TEXTS) for _ in range(min(count, 5))] + [f"Topic {n}" for n in range(count)])
    canonical = draw(CANONICALS)
    if canonical is not None:
        page = with_canonical(page, html.escape(canonical))
    encoding = draw(st.sampled_from(ENCODINGS))
    if encoding == "latin-1-said-utf-8":
        return page.encode("latin-1", "replace")
    return page.encode(encoding, "xmlcharrefreplace")


def good_page(number: int) -> str:
    return derive_article(
        TEMPLATE, slug=f"good-{number}", title=f"Good article {number}", published="10 July 2026", body_html=WORDS
    )


def problem_urls(result: subprocess.CompletedProcess[str]) -> set[str]:
    """The URL of each problem the run printed (`  [inz] stage URL: message`)."""
    return set(re.findall(r"^  \[\w+\] \w+ (\S+?):? ", result.stderr, flags=re.M))


@pytest.mark.e2e
@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
@given(
    pages=st.integers(1, 4).flatmap(lambda count: st.tuples(*(hostile_pages(number) for number in range(count)))),
    goods=st.integers(1, 3),
    links=st.lists(LINKS, max_size=4),
)
def test_hostile_pages_never_stop_a_run_and_every_good_article_is_published(
    pages: tuple[bytes, ...], goods: int, links: list[str]
) -> None:
    with FixtureSite(max_lifetime=240) as site, tempfile.TemporaryDirectory() as directory:
        paths = [article_path(f"hostile-{number}") for number in range(len(pages))]
        for path, body in zip(paths, pages, strict=True):
            site.set(path, Route(body=body))
        good = [article_path(f"good-{number}") for number in range(goods)]
        for number, path in enumerate(good):
            site.set_article(path, good_page(number))
        site.set_sitemap_paths([*DEFAULT_SITEMAP_PATHS, *paths, *good])
        site.set_home_links([(link, "A link", "9 Jul 2026") for link in links])
        config = write_config(site, Path(directory), source={"retries": 0, "backoff": 0})
        output = Path(directory) / "output"
        wanted = {site.base_url.rstrip("/") + path for path in [*ARTICLE_PATHS, *good]}

        first = sync(config)
        assert first.returncode in (0, 1), first.stderr[-3000:]
        assert_terminal_safe(first)
        assert "] internal " not in first.stderr  # no page met a bug
        assert wanted <= set(feed_ids(output))
        files = [path for path in output.rglob("*") if path.is_file()]
        assert len(files) < 200 + 250 * len(pages)  # per article: its 30 topics' pages and feeds at most
        published = sorted(feed_ids(output))

        second = sync(config)
        rebuild = run_cli("rebuild", "--config", str(config), timeout=90)
        for later in (second, rebuild):
            assert later.returncode in (0, 1), later.stderr[-3000:]
            assert_terminal_safe(later)
            assert problem_urls(later) <= problem_urls(first)  # the same problems only, nothing new
            assert sorted(feed_ids(output)) == published  # the feeds intact
