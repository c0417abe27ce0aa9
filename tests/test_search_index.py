"""The archive search's index (pipeline/store/postings.py writes it, pipeline/publish/search.py lays it
out in files): a posting's text is one for one set of articles however it was built, the files are the
same bytes for the same store however many publications made them, and a new or edited article
rewrites the files of its own words, no other."""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pipeline.publish.search
import pipeline.store.postings
from pipeline.model import Article, Config
from pipeline.publish import publish, render_site
from pipeline.publish.search import search_words
from pipeline.store import Store
from pipeline.store.posting_text import NUMBER, add, decode, encode, page_ends, run_of
from pipeline.store.postings import PENDING_CHARS, SearchPostings
from tests.test_publish_incremental import SEEN, make_article, make_config, on_disk, save

ENTRIES = st.sets(st.tuples(st.integers(0, 40_000), st.integers(1, 10**6)), max_size=60).map(
    lambda entries: sorted({article_id: (day, article_id) for day, article_id in entries}.values(), reverse=True)
)


@settings(max_examples=300, deadline=None)
@given(entries=ENTRIES, cut=st.integers(0, 60), data=st.data())
def test_a_posting_is_the_same_text_however_it_was_built(
    entries: list[tuple[int, int]], cut: int, data: st.DataObject
) -> None:
    assert decode(encode(entries)) == entries
    new = sorted(data.draw(st.sets(st.sampled_from(entries))) if entries else [], reverse=True)
    old = [entry for entry in entries if entry not in new]
    if new:  # added to an empty posting, before its head, after its tail or among its entries
        run = run_of(new[: cut % len(new) + 1])  # new entries wait in runs, extended chunk by chunk
        if rest := new[cut % len(new) + 1 :]:
            run.extend(rest)
        posting, tail = add(encode(old), old[-1] if old else None, run)
        assert (posting, tail, run.count) == (encode(entries), entries[-1], len(new))


@settings(max_examples=200, deadline=None)
@given(entries=ENTRIES, page=st.integers(1, 7))
def test_a_postings_pages_are_whole_entries_counted_from_its_oldest_each_with_a_newer_after_it(
    entries: list[tuple[int, int]], page: int
) -> None:
    text = encode(entries)
    ends = page_ends(text, page)
    assert len(ends) == max(len(entries) - 1, 0) // page  # 1 to `page` entries after them
    for number, end in enumerate(ends, 1):  # the oldest `number` pages: that many entries' numbers
        assert len(NUMBER.findall(text[len(text) - end :])) == 2 * page * number
        assert end < len(text) and NUMBER.fullmatch(text[len(text) - end - 1])  # a number ends before it


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[tuple[Config, Store, list[Article]]]:
    config = make_config(tmp_path)
    store = Store(config.state_dir)
    rng = random.Random(4)
    articles = [make_article(number, rng) for number in range(30)]
    yield config, store, articles
    store.close()


def search_files(files: dict[str, bytes]) -> dict[str, bytes]:
    return {path: data for path, data in files.items() if path.startswith("search/")}


def test_the_index_is_the_same_bytes_for_the_same_store_however_it_was_published(
    archive: tuple[Config, Store, list[Article]],
) -> None:
    config, store, articles = archive
    for number, article in enumerate(articles):  # one publication per article, newest and oldest mixed
        save(store, config, article)
        if number % 7 == 0:
            publish(config, store)
    publish(config, store)

    on_disk_index = search_files(on_disk(config.output_dir))
    assert on_disk_index == search_files(render_site(config, store)) == search_files(render_site(config, store))
    assert len([path for path in on_disk_index if path.startswith("search/terms/")]) > 20


def test_a_new_article_rewrites_the_files_of_its_words_and_no_other(
    archive: tuple[Config, Store, list[Article]],
) -> None:
    config, store, articles = archive
    for article in articles:
        save(store, config, article)
    publish(config, store)
    before = search_files(on_disk(config.output_dir))
    newest = replace(make_article(99, random.Random(1)), body_html="<p>Zebras graze quietly.</p>")
    save(store, config, newest)

    written = {path for path in publish(config, store) if path.startswith("search/terms/")}

    words = search_words(newest).split()
    assert written == {f"search/terms/{word[:2]}.json" for word in words}
    assert "search/terms/ze.json" not in before  # a new shard: the search page lists it
    assert (
        "ze"
        in (config.output_dir / "search/index.html").read_text("utf-8").split('data-shards="')[1].split('"')[0].split()
    )
    shard = json.loads((config.output_dir / "search/terms/ze.json").read_bytes())
    assert list(shard["w"]) == ["zebras"] and len(decode(shard["w"]["zebras"])) == 1


def test_an_edit_takes_the_article_out_of_the_words_it_lost(archive: tuple[Config, Store, list[Article]]) -> None:
    config, store, articles = archive
    first = replace(articles[0], body_html="<p>Quokkas are rare.</p>")
    save(store, config, first)
    for article in articles[1:]:
        save(store, config, article)
    publish(config, store)
    assert (config.output_dir / "search/terms/qu.json").is_file()

    save(store, config, replace(first, body_html="<p>Nothing rare.</p>"), SEEN + timedelta(hours=1))
    publish(config, store)

    assert not (config.output_dir / "search/terms/qu.json").exists(), "no word beginning with qu is left"
    assert search_files(on_disk(config.output_dir)) == search_files(render_site(config, store))


def test_a_new_article_rewrites_a_posting_file_only_when_it_completes_a_page_and_files_go_with_articles(
    archive: tuple[Config, Store, list[Article]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages of 10 articles, files of 50: a word's newest 1 to 10 in its shard, its full pages before
    them in its files; a new article rewrites the word's shard, and its newest file only when it
    completes a page."""
    config, store, _ = archive
    monkeypatch.setattr(pipeline.publish.search, "PAGE", 10)
    monkeypatch.setattr(pipeline.publish.search, "FILE", 50)
    rng = random.Random(5)
    many = [replace(make_article(number, rng), body_html="<p>Common words.</p>") for number in range(200)]
    for article in many:
        save(store, config, article)
    publish(config, store)
    postings = config.output_dir / "search/postings"

    def common() -> tuple[int, list[tuple[int, int]]]:  # its filed entries, its posting as the search page joins it
        shard = json.loads((config.output_dir / "search/terms/co.json").read_bytes())
        filed = shard["f"].get("common", 0)
        names = [f"common.{number}.txt" for number in range(-(-filed // 50), 0, -1)]
        return filed, decode(shard["w"]["common"] + "".join((postings / name).read_text("ascii") for name in names))

    assert common()[0] == 190 and len(common()[1]) == len(many)  # the newest 10 in the shard
    assert sorted(path.name for path in postings.glob("common.*.txt")) == [f"common.{n}.txt" for n in (1, 2, 3, 4)]
    assert common()[1] == sorted(common()[1], reverse=True)  # newest first, each article once
    assert 'data-file="50"' in (config.output_dir / "search/index.html").read_text("utf-8")
    newest = max(item.published for item in many)
    completes = {201: "common.4.txt", 211: "common.5.txt"}  # the 201st completes page 20 (file 4), the 211th 21
    for count in range(201, 213):
        save(store, config, replace(make_article(count, rng), published=newest, body_html="<p>Common.</p>"))
        written = [path for path in publish(config, store) if path.startswith("search/postings/common.")]

        assert written == ([f"search/postings/{completes[count]}"] if count in completes else []), count
        assert common()[0] == (count - 1) // 10 * 10 and len(common()[1]) == count
        assert search_files(on_disk(config.output_dir)) == search_files(render_site(config, store))

    for kept, files in ((100, 3), (30, 1)):  # out of the middle, then all but 30: the files after them go
        for article in many[kept:]:
            save(store, config, replace(article, body_html="<p>Rare words.</p>"), SEEN + timedelta(hours=1))
        publish(config, store)

        assert len(common()[1]) == kept + 12 and common()[0] == (kept + 11) // 10 * 10
        assert len(list(postings.glob("common.*.txt"))) == files
        assert search_files(on_disk(config.output_dir)) == search_files(render_site(config, store))


@pytest.mark.parametrize("seed", range(6))
def test_long_postings_in_pages_are_the_same_bytes_however_a_history_of_changes_published_them(
    archive: tuple[Config, Store, list[Article]], monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """Pages of 1 to 3 articles, files of 1 or 2 pages: after each publication of new articles (newest, or older than
    some), words taken out or put back, dates moved, articles withdrawn and reinstated, some publications
    killed while the postings were being updated, the index is the fresh rendering's, and finds them."""
    config, store, _ = archive
    rng = random.Random(seed)
    monkeypatch.setattr(pipeline.publish.search, "PAGE", 1 + seed % 3)
    monkeypatch.setattr(pipeline.publish.search, "FILE", (1 + seed % 3) * (1 + seed // 3))
    monkeypatch.setattr(pipeline.store.postings, "PENDING_CHARS", 0 if seed % 2 else PENDING_CHARS)  # flushed often
    articles: dict[int, Article] = {}
    withdrawn: set[int] = set()
    when = SEEN
    for _ in range(12):
        for _ in range(rng.randrange(1, 5)):
            when += timedelta(minutes=1)
            choice = rng.random()
            newest = max((item.published for item in articles.values()), default=SEEN)
            if choice < 0.5 or not articles:
                number = len(articles)
                article = replace(make_article(number, rng), body_html="<p>Quokka words.</p>")
                if articles and rng.random() < 0.7:  # the newest, or as new as the newest
                    article = replace(article, published=newest + timedelta(days=rng.randrange(2)))
            elif choice < 0.65:
                number = rng.choice(list(articles))
                body = "<p>Rare words.</p>" if "Quokka" in articles[number].body_html else "<p>Quokka words.</p>"
                article = replace(articles[number], body_html=body)
            elif choice < 0.85:
                number = rng.choice(list(articles))
                days = rng.randrange(-9, 400)
                moved = newest + timedelta(days=1) if days < 0 else articles[number].published - timedelta(days=days)
                article = replace(articles[number], published=moved)
            else:
                url = articles[number := rng.choice(list(articles))].url
                if number in withdrawn:
                    store.record_present(url)
                else:
                    for hours in (0, 1):  # missing twice: withdrawn
                        store.record_missing(url, when + timedelta(hours=hours), 0)
                withdrawn ^= {number}
                continue
            articles[number] = article
            save(store, config, article, when)
        if rng.random() < 0.3:  # killed half-way through its postings: the next publication finishes it
            publish_killed(config, store, monkeypatch, rng.randrange(4))
        publish(config, store)

        assert search_files(on_disk(config.output_dir)) == search_files(render_site(config, store))
        assert_searchable(config.output_dir)


def publish_killed(config: Config, store: Store, monkeypatch: pytest.MonkeyPatch, updates: int) -> None:
    """A publication killed at its postings' update number `updates` (if it gets that far)."""
    apply, done = SearchPostings._apply, iter(range(updates))

    def killed(*args: Any) -> None:
        if next(done, None) is None:
            raise KeyboardInterrupt
        apply(*args)

    with monkeypatch.context() as patched, contextlib.suppress(KeyboardInterrupt):
        patched.setattr(SearchPostings, "_apply", killed)
        publish(config, store)


def assert_searchable(output: Path) -> None:
    """Every word of every shard finds its articles, as the search page reads them: its newest in the
    shard, 1 to PAGE of them, and the others in its files (as many as the shard says, newest first)."""
    page, file = pipeline.publish.search.PAGE, pipeline.publish.search.FILE
    for shard in (output / "search/terms").glob("*.json"):
        index = json.loads(shard.read_bytes())
        for term, newest in index["w"].items():
            filed = index["f"].get(term, 0)
            assert 1 <= len(decode(newest)) <= page and filed % page == 0, term
            files = [output / "search/postings" / f"{term}.{n}.txt" for n in range(-(-filed // file), 0, -1)]
            entries = decode(newest + "".join(path.read_text("ascii") for path in files))
            assert len(entries) == filed + len(decode(newest)), term
            assert entries == sorted(set(entries), reverse=True), term
