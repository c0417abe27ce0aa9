"""The collections an article is listed in, each with pages and feeds of its own: the whole site, its
source, its year, each of its topics and its news type, and that topic's or type's year. A collection
is named by the folder of its pages."""

from __future__ import annotations

from datetime import UTC

from pipeline.model import Source, StoredArticle
from pipeline.publish.taxonomy import slugify
from pipeline.store import Membership

SITE = ""
LABELS = {"topic": "topic", "type": "type", "topic-year": "topic", "type-year": "type"}


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
