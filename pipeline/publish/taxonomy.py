"""Groupings of entries that get their own pages and feeds: per topic, per news type, per year."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import cache

from pipeline.publish.entries import Entry


@cache  # a few dozen names, asked for once per entry and name on every publication
def slugify(name: str) -> str:
    """'Visa holders and applicants' -> 'visa-holders-and-applicants' (ASCII, stable across runs)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "other"


def group_entries(
    entries: Iterable[Entry], names_of: Callable[[Entry], Iterable[str]]
) -> dict[str, tuple[str, list[Entry]]]:
    """slug -> (display name, entries in their given order). Names that slugify alike share a group,
    shown under the first name met, so two spellings never fight over one folder."""
    groups: dict[str, tuple[str, list[Entry]]] = {}
    for entry in entries:
        for name in dict.fromkeys(names_of(entry)):
            slug = slugify(name)
            groups.setdefault(slug, (name, []))[1].append(entry)
    return dict(sorted(groups.items()))


def topics_of(entry: Entry) -> tuple[str, ...]:
    return entry.stored.article.topics


def type_of(entry: Entry) -> tuple[str, ...]:
    kind = entry.stored.article.news_type
    return (kind,) if kind else ()


def year_of(entry: Entry) -> tuple[str, ...]:
    return (str(entry.stored.article.published.year),)
