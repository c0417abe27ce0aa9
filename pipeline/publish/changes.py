"""Feed items for what changed at the source: silent edits, withdrawn articles and site alerts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from itertools import pairwise
from zoneinfo import ZoneInfo

from markupsafe import Markup

from pipeline.model import Alert, Source, Version
from pipeline.publish.diff import article_diff
from pipeline.publish.entries import Entry, attribution_html, nz_date
from pipeline.publish.feed_items import FeedItem


def version_anchor(number: int) -> str:
    return f"version-{number}"


def correction_items(entry: Entry, versions: Sequence[Version]) -> list[FeedItem]:
    """One item per revision after the first (its own stable id: the article URL plus the version),
    with the diff; and one when the article was withdrawn. Each quotes the source, so each carries its
    attribution (of the version it shows) and licence, as the article's own items do."""
    source, url = entry.source, entry.url
    items = [
        revision_item(
            entry,
            previous,
            current,
            title=f"Updated: {current.article.title}",
            summary=f"{source.name} edited “{current.article.title}” (version {current.number}).",
        )
        for previous, current in pairwise(versions)
    ]
    withdrawn = entry.stored.withdrawn_at
    if withdrawn is not None:
        when = withdrawn.astimezone(ZoneInfo(source.timezone))
        text = Markup(
            '<p>{} no longer serves <a href="{}">this article</a> (noticed {}). '
            'The archived copy stays available: <a href="{}">{}</a>.</p>'
        ).format(source.name, url, nz_date(when, source.timezone), entry.archive_url, entry.stored.article.title)
        items.append(
            FeedItem(
                id=f"{url}#withdrawn",
                title=f"Withdrawn: {entry.stored.article.title}",
                link=entry.archive_url,
                published=when,
                updated=when,
                author=source.name,
                author_url=source.base_url,
                content_html=str(text + Markup(entry.attribution_html)),
                summary=f"{source.name} removed “{entry.stored.article.title}”.",
                categories=entry.categories,
                external_url=url,
                rights=f"{source.licence.name}: {source.licence.url}",
            )
        )
    return items


def change_items(entry: Entry, versions: Sequence[Version]) -> list[FeedItem]:
    """A watched page: one item per change of its text (the first version is the baseline, no item),
    titled with the day it was noticed, in New Zealand time: "Visa processing times changed on 2 March 2026"."""
    items = []
    for previous, current in pairwise(versions):
        day = nz_date(current.retrieved_at, entry.source.timezone)
        title = f"{current.article.title} changed on {day}"
        summary = f"{entry.source.name} changed “{current.article.title}” (version {current.number})."
        items.append(revision_item(entry, previous, current, title=title, summary=summary, noun="page"))
    return items


def revision_item(
    entry: Entry, previous: Version, current: Version, *, title: str, summary: str, noun: str = "article"
) -> FeedItem:
    """One change of an article or a watched page, with its diff; its own stable id (the URL plus the
    version). It quotes the source, so it carries the attribution (of the version it shows) and licence."""
    source, url = entry.source, entry.url
    when = current.retrieved_at.astimezone(ZoneInfo(source.timezone))
    links = Markup('<p><a href="{}">The {} as archived now</a> · <a href="{}">the original</a></p>').format(
        entry.archive_url, noun, url
    )
    intro = Markup("<p>{} changed this {}; Pānui noticed on {}. Version {} of the archived copy:</p>").format(
        source.name, noun, nz_date(when, source.timezone), current.number
    )
    shown = replace(entry.stored, retrieved_at=current.retrieved_at, article=current.article)
    attribution = Markup(attribution_html(shown, source))
    return FeedItem(
        id=f"{url}#{version_anchor(current.number)}",
        title=title,
        link=f"{entry.archive_url}#{version_anchor(current.number)}",
        published=when,
        updated=when,
        author=source.name,
        author_url=source.base_url,
        content_html=str(intro + Markup(article_diff(previous.article, current.article)) + links + attribution),
        summary=summary,
        categories=entry.categories,
        external_url=url,
        rights=f"{source.licence.name}: {source.licence.url}",
    )


def issued_text(alert: Alert, source: Source) -> str:
    """When the source issued the alert, as a reader there writes it: "2 March 2026, 19:10 NZDT"."""
    issued = alert.issued.astimezone(ZoneInfo(source.timezone))
    return f"{nz_date(issued, source.timezone)}, {issued:%H:%M %Z}"


def alert_item(alert: Alert, source: Source) -> FeedItem:
    issued = alert.issued.astimezone(ZoneInfo(source.timezone))
    # Updated when Pānui first saw this text, if later: a notice edited in place keeps its issued time,
    # and two entries of one feed updated at the same instant are ambiguous to readers (and validators).
    seen = alert.first_seen.astimezone(issued.tzinfo) if alert.first_seen else issued
    attribution = Markup(
        '<p class="attribution">From <a href="{}">{}</a>, issued {}. Licence: <a href="{}">{}</a>.</p>'
    ).format(alert.page_url, source.name, issued_text(alert, source), source.licence.url, source.licence.name)
    return FeedItem(
        id=f"{alert.page_url}#alert-{alert.id}",
        title=alert.title,
        link=alert.page_url,
        published=issued,
        updated=max(issued, seen),
        author=source.name,
        author_url=source.base_url,
        content_html=alert.text_html + str(attribution),
        summary=alert.title,
        categories=("Alert",),
        rights=f"{source.licence.name}: {source.licence.url}",
    )
