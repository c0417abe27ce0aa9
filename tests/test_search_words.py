"""The search index's words for an article: every distinct word of its title, summary, topics, type and
body text, folded to lower-case ASCII (accents off, so "Māori" finds "maori"), in first-seen order."""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.dom import html_text
from pipeline.extract.sanitise import sanitise_html
from pipeline.model import Article
from pipeline.publish.search import search_words


def article(title: str, summary: str = "", topics: tuple[str, ...] = (), body: str = "") -> Article:
    return Article(
        "https://www.immigration.govt.nz/a", title, datetime(2026, 7, 1, tzinfo=UTC), None, topics, summary, body
    )


def test_words_are_folded_deduplicated_and_in_first_seen_order() -> None:
    item = article(
        "Māori and Pasifika: visa-free TRAVEL", "Travel from 1 July.", ("Work",), "<p>Whānau <b>travel</b> 2026</p>"
    )

    assert search_words(item) == "maori and pasifika visa free travel from 1 july work whanau 2026"


# The definition the index has always used; search_words must give exactly its words.
def defined_words(item: Article) -> str:
    text = " ".join((item.title, item.summary, " ".join(item.topics), item.news_type or "", html_text(item.body_html)))
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return " ".join(dict.fromkeys(re.findall(r"[a-z0-9]+", folded)))


TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=60)


@settings(max_examples=300, deadline=None)
@given(title=TEXT, summary=TEXT, topics=st.lists(TEXT, max_size=3).map(tuple), paragraphs=st.lists(TEXT, max_size=4))
def test_words_are_those_of_the_definition_for_any_text(
    title: str, summary: str, topics: tuple[str, ...], paragraphs: list[str]
) -> None:
    body = sanitise_html("".join(f"<p>{html.escape(text)}</p>" for text in paragraphs))
    item = article(title, summary, topics, body)

    assert search_words(item) == defined_words(item)
