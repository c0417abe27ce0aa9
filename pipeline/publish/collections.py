"""The collections an article is listed in, each with pages and feeds of its own: the whole site, its
source, its year, each of its topics and its news type, and that topic's or type's year. A collection
is named by the folder of its pages."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC
from functools import cache

from pipeline.model import Source, StoredArticle
from pipeline.store import Membership

SITE = ""


@cache  # a few dozen names, asked for once per entry and name on every publication
def slugify(name: str) -> str:
    """The folder name of a topic or news type: 'Visa holders and applicants' -> 'visa-holders-and-applicants'
    (ASCII, stable across runs), at most 100 characters: a folder's name, which file systems cap at 255
    bytes (NFKD can make one character 18)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower())[:100].strip("-") or "other"


def memberships(stored: StoredArticle, source: Source) -> list[Membership]:
    """A watched page is listed nowhere: its own archive page keeps its versions, and its changes are the
    items of its source's changes feed."""
    if stored.kind == "watch":
        return []
    article = stored.article
    year = str(article.published.year)  # the year in the source's own zone, as its readers date it
    source_folder = f"{source.id}/"
    found = [
        Membership(SITE, "site", "", ""),
        Membership(source_folder, "source", "", source.name),
        Membership(f"years/{year}/", "year", "", year),
    ]
    for kind, names in (("type", (article.news_type,) if article.news_type else ()), ("topic", article.topics)):
        slugs: dict[str, str] = {}
        for name in names:
            slugs.setdefault(slugify(name), name)  # two spellings of one name share its folder
        for slug, name in slugs.items():
            folder = f"{source_folder}{kind}s/{slug}/"
            found.append(Membership(folder, kind, source_folder, name))
            found.append(Membership(f"{folder}{year}/", f"{kind}-year", folder, year))
    return found


def sort_key(stored: StoredArticle) -> str:
    """Orders articles newest published first, then newest seen, then by URL (as text, descending)."""
    published = stored.article.published.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    first_seen = stored.first_seen.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return f"{published}|{first_seen}|{stored.article.url}"


def year_first(membership: Membership) -> tuple[str, str]:
    """The order a publication plans collections in: those of no year first, then year by year, each year's
    topics, types and the year itself together, so that the articles they share are made once from their
    rows (the catalogue keeps the last 1,024 it made: at 10,000 articles, a first publication made 70,000
    when it planned them by folder alone, 40,000 year by year)."""
    return (membership.name if membership.kind.endswith("year") else "", membership.collection)
