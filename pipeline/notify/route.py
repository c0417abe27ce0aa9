"""The journal's changes -> messages in the outbox: each change matched against every subscription that
had joined before it, a revision only when significant (pipeline.subscriptions.changed_passage)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from pipeline.dom import html_text
from pipeline.model import Article, Config, Source, Version
from pipeline.notify.messages import EventText, event_message
from pipeline.store import Change, Queued, Store
from pipeline.subscriptions import EventFacts, Subscription, changed_passage, matches


def route_changes(config: Config, store: Store, now: datetime) -> list[Queued]:
    """Queue a message for each event a joined subscription matches (for each target, or for its digest)."""
    subscriptions = config.notify.subscriptions

    def route(changes: Sequence[Change], joined: set[str]) -> Iterator[Queued]:
        members = [subscription for subscription in subscriptions if subscription.id in joined]
        if not members:
            return
        versions = store.versions({change.article_id for change in changes if change.article_id is not None})
        for change in changes:
            found = _event(config, change, versions.get(change.article_id or 0, []))
            if found is None:
                continue
            facts, text = found
            key = f"{change.kind}:{change.article_id or change.url}:{change.version or change.id}"
            yield from fan_out(members, facts, text, config.source(facts.source_id), key)

    return store.route_changes([subscription.id for subscription in subscriptions], now, route)


def fan_out(
    subscriptions: Sequence[Subscription], facts: EventFacts, text: EventText, source: Source, key: str
) -> Iterator[Queued]:
    """The event's message for each subscription it matches: to each of its targets, or (None) its digest."""
    message = None
    for subscription in subscriptions:
        if matches(subscription, facts):
            message = message or event_message(text, source).to_json()
            for target in (None,) if subscription.digest != "none" else subscription.targets:
                yield Queued(subscription.id, target.key if target else None, key, text.kind, message)


def _event(config: Config, change: Change, versions: list[Version]) -> tuple[EventFacts, EventText] | None:
    """What a change says, or None: its source is no longer configured, it is gone from the store, or
    it is a revision of spacing, punctuation or case alone."""
    if change.source_id not in {source.id for source in config.sources}:
        return None
    if change.alert is not None:
        title, text_html = change.alert
        text = html_text(text_html, "\n")
        facts = EventFacts("alert", change.source_id, title, "", text)
        return facts, EventText("alert", title, text, None, config.site_url, change.url or config.site_url)
    by_number = {version.number: version.article for version in versions}
    article = by_number.get(change.version or 0)
    if article is None or change.url is None:
        return None
    passage = None
    if change.kind == "revised":
        before = by_number.get((change.version or 0) - 1)
        passage = changed_passage(_words(before), _words(article)) if before else "(the earlier version is not stored)"
        if passage is None:
            return None
    facts = EventFacts(
        change.kind,
        change.source_id,
        article.title,
        article.summary,
        html_text(article.body_html, "\n"),
        article.topics,
        article.news_type,
    )
    archive_url = f"{config.site_url}{change.source_id}/articles/{change.slug}/"
    return facts, EventText(change.kind, article.title, article.summary, passage, archive_url, change.url)


def _words(article: Article | None) -> str:
    """What a reader reads of a version, for telling a significant revision from a trivial one."""
    if article is None:
        return ""
    published = article.published.date().isoformat()
    topics = ", ".join(article.topics)
    return "\n".join(
        (article.title, published, article.news_type or "", topics, article.summary, html_text(article.body_html, "\n"))
    )
