"""The word-level diff a revised article shows: insertions and deletions marked in <ins>/<del> and in
words (not by colour alone), text escaped, long unchanged stretches trimmed to a little context."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from bs4 import BeautifulSoup, Tag

from pipeline.model import Article
from pipeline.publish.diff import CONTEXT_WORDS, article_diff, word_diff

AUCKLAND = ZoneInfo("Pacific/Auckland")


def marked(html: str, tag: str) -> list[str]:
    """The text of each <ins> or <del>, with its visually-hidden label, as a screen reader hears it."""
    return [" ".join(element.get_text().split()) for element in BeautifulSoup(html, "html.parser").find_all(tag)]


def words_shown(html: str) -> set[str]:
    return set(re.findall(r"\bw\d+\b", BeautifulSoup(html, "html.parser").get_text()))


def article(**changes: object) -> Article:
    base = Article(
        url="https://www.immigration.govt.nz/about-us/news-centre/fees/",
        title="New visa fees from August",
        published=datetime(2026, 7, 10, tzinfo=AUCKLAND),
        news_type="Announcement",
        topics=("Fees", "Work"),
        summary="Fees change on 1 August.",
        body_html="<h2>What is changing</h2><p>Fees rise on 1 August.</p><ul><li>Work visas</li><li>Visitor visas</li></ul>",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# -- word_diff --------------------------------------------------------------------------------------


def test_the_same_text_has_no_diff() -> None:
    assert word_diff("Fees rise on 1 August.", "Fees rise on 1 August.") == ""
    assert word_diff("Fees rise on 1 August.", "Fees  rise on   1 August.") == ""  # white space is not a word
    assert word_diff("", "") == ""


def test_an_inserted_word_is_marked_and_labelled() -> None:
    html = word_diff("Fees rise in July", "Fees rise sharply in July")

    assert marked(html, "ins") == ["[inserted: sharply]"]
    assert marked(html, "del") == []
    assert BeautifulSoup(html, "html.parser").get_text() == "Fees rise [inserted: sharply] in July"


def test_deleted_words_are_marked_and_labelled() -> None:
    html = word_diff("Fees rise for most visas in July", "Fees rise in July")

    assert marked(html, "del") == ["[deleted: for most visas]"]
    assert marked(html, "ins") == []


def test_a_replaced_word_shows_the_deletion_then_the_insertion() -> None:
    html = word_diff("Fees rise on 20 July", "Fees rise on 27 July")

    assert marked(html, "del") == ["[deleted: 20]"]
    assert marked(html, "ins") == ["[inserted: 27]"]
    assert html.index("<del>") < html.index("<ins>")
    assert BeautifulSoup(html, "html.parser").get_text() == "Fees rise on [deleted: 20] [inserted: 27] July"


def test_the_labels_are_visually_hidden_not_colour_alone() -> None:
    html = word_diff("one two", "one three")

    soup = BeautifulSoup(html, "html.parser")
    for tag in ("ins", "del"):
        element = soup.find(tag)
        assert isinstance(element, Tag)
        labels = [span.get_text() for span in element.find_all("span", class_="visually-hidden")]
        assert labels[0] in ("[inserted: ", "[deleted: ")
        assert labels[-1] == "]"


def test_markup_in_the_text_is_escaped() -> None:
    html = word_diff("Use the form.", "Use the <script>alert(1)</script> form & <b>stop</b>.")

    assert "<script>" not in html
    assert "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&amp;" in html
    assert marked(html, "ins") == ["[inserted: <script>alert(1)</script> form & <b>stop</b>.]"]
    assert marked(html, "del") == ["[deleted: form.]"]


def test_long_unchanged_stretches_are_trimmed_to_some_context() -> None:
    old = [f"w{i}" for i in range(60)]
    new = [*old[:30], "CHANGED", *old[31:]]

    html = word_diff(" ".join(old), " ".join(new))

    assert html.count("…") == 2  # before and after the change
    shown = words_shown(html)
    assert {f"w{i}" for i in range(30 - CONTEXT_WORDS, 30)} <= shown  # the context before the change
    assert {f"w{i}" for i in range(31, 31 + CONTEXT_WORDS)} <= shown  # and after it
    assert "w0" not in shown
    assert f"w{30 - CONTEXT_WORDS - 1}" not in shown
    assert f"w{31 + CONTEXT_WORDS}" not in shown
    assert "w59" not in shown
    assert marked(html, "del") == ["[deleted: w30]"]


def test_a_long_stretch_between_two_changes_keeps_context_on_both_sides() -> None:
    old = [f"w{i}" for i in range(60)]
    new = list(old)
    new[5], new[55] = "first", "second"

    html = word_diff(" ".join(old), " ".join(new))

    assert html.count("…") == 1
    shown = words_shown(html)
    assert {"w0", "w4", "w6", "w17", "w43", "w54", "w56", "w59"} <= shown  # short ends stay whole
    assert "w30" not in shown
    assert marked(html, "ins") == ["[inserted: first]", "[inserted: second]"]


def test_short_texts_are_shown_whole() -> None:
    html = word_diff("w1 w2 w3 w4", "w1 w2 w3 w4 w5")

    assert "…" not in html
    assert words_shown(html) == {"w1", "w2", "w3", "w4", "w5"}


# -- article_diff -----------------------------------------------------------------------------------


def test_an_unchanged_article_has_no_diff() -> None:
    assert article_diff(article(), article()) == ""


def test_a_reindented_body_has_no_diff() -> None:
    spaced = "<h2>What is changing</h2>\n\n  <p>Fees   rise\n on 1 August.</p>\n<ul>\n  <li>Work visas</li>\n  <li>Visitor visas</li>\n</ul>\n"

    assert article_diff(article(), article(body_html=spaced)) == ""


def test_only_the_parts_that_changed_are_listed() -> None:
    new = article(body_html=article().body_html.replace("1 August", "8 August"))

    html = article_diff(article(), new)

    soup = BeautifulSoup(html, "html.parser")
    assert [dt.get_text() for dt in soup.find_all("dt")] == ["Text"]
    assert marked(html, "del") == ["[deleted: 1]"]
    assert marked(html, "ins") == ["[inserted: 8]"]


def test_title_summary_and_topic_changes_are_each_listed() -> None:
    new = article(
        title="New visa fees from September",
        summary="Fees change on 1 September.",
        topics=("Fees", "Work", "Visit"),
    )

    html = article_diff(article(), new)

    soup = BeautifulSoup(html, "html.parser")
    assert [dt.get_text() for dt in soup.find_all("dt")] == ["Title", "Topics", "Summary"]
    assert "[inserted: September]" in marked(html, "ins")
    assert "[deleted: August]" in marked(html, "del")
    assert any("Visit" in inserted for inserted in marked(html, "ins"))


def test_a_changed_list_item_is_shown_on_its_own_line() -> None:
    new = article(body_html=article().body_html.replace("Visitor visas", "Student visas"))

    html = article_diff(article(), new)

    assert marked(html, "del") == ["[deleted: Visitor]"]
    assert marked(html, "ins") == ["[inserted: Student]"]
    assert "<br>" in html  # the blocks before it are separate lines, not one run-on sentence


def test_body_text_is_escaped_in_the_article_diff() -> None:
    old = article(body_html="<p>Do not paste &lt;script&gt; into the form.</p>")
    new = article(body_html="<p>Never paste &lt;script&gt; tags into the form.</p>")

    html = article_diff(old, new)

    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert marked(html, "ins") == ["[inserted: Never]", "[inserted: tags]"]


def test_a_line_break_in_the_body_separates_words() -> None:
    old = article(body_html="<p>Call 0508 558 855<br>or +64 9 914 4100.</p>")
    new = article(body_html="<p>Call 0508 558 855<br>or +64 9 914 4101.</p>")

    html = article_diff(old, new)

    assert "855or" not in html
    assert marked(html, "del") == ["[deleted: 4100.]"]
