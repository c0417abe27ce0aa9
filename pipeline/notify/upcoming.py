"""`events: [upcoming]`: a reminder, `remind_days` before it, of each date the articles give (the
calendar's dates: takes effect, opens, closes) that the subscription's `match` selects. Each date is told
once per subscription; a date the source moves is told again for its new day, a cancelled one not at all."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import closing
from datetime import date, datetime

from pipeline.dom import html_text
from pipeline.model import NZ, Config, StoredArticle
from pipeline.notify.messages import EventText
from pipeline.notify.route import fan_out
from pipeline.publish.dated import DatedEvent, due_within, from_json
from pipeline.store import Queued, Store
from pipeline.subscriptions import EventFacts, Subscription


def route_reminders(config: Config, store: Store, today: date, now: datetime) -> int:
    """Queue the reminders due `today` (NZ) that were not queued before; how many were queued."""
    reminding = [item for item in config.notify.subscriptions if "upcoming" in item.events]
    if not reminding:
        return 0
    horizon = max(item.remind_days for item in reminding)
    with closing(store.catalogue(config.state_dir)) as catalogue:
        due: dict[int, list[DatedEvent]] = defaultdict(list)
        for article_id, dates in catalogue.dated(today):
            due[article_id] += due_within(from_json(dates), today, horizon)
        # Each date once: those already told to every subscription that would be told now are dropped
        # here, so a run with nothing new to tell reads no article (and parses no HTML).
        keys = {_key(event) for events in due.values() for event in events}
        told = store.reminded(sorted(keys))
        for article_id, events in due.items():
            due[article_id] = [event for event in events if any(_owed(item, event, today, told) for item in reminding)]
        articles = catalogue.articles([article_id for article_id, events in due.items() if events])
    if not articles:
        return 0
    bodies = store.bodies(item.id for item in articles)
    return store.queue_reminders(list(_reminders(config, reminding, articles, bodies, due, today)), now)


def _reminders(
    config: Config,
    reminding: list[Subscription],
    articles: list[StoredArticle],
    bodies: dict[int, str],
    due: dict[int, list[DatedEvent]],
    today: date,
) -> Iterator[Queued]:
    sources = {source.id: source for source in config.sources}
    for stored in articles:
        source, article = sources.get(stored.source_id), stored.article
        if source is None or stored.withdrawn_at is not None:
            continue
        text = html_text(bodies.get(stored.id, ""), "\n")
        facts = EventFacts(
            "upcoming", stored.source_id, article.title, article.summary, text, article.topics, article.news_type
        )
        for event in due[stored.id]:
            archive_url = f"{config.site_url}{stored.source_id}/articles/{stored.slug}/"
            day = f"{event.day:%A} {event.day.day} {event.day:%B %Y}"
            when = f"{day}, {event.at.astimezone(NZ):%H:%M %Z}" if event.at else day  # as the Coming up page says it
            summary = f"{event.label}, {when}: {event.sentence}"
            words = EventText("upcoming", f"{event.label}: {article.title}", summary, None, archive_url, article.url)
            near = [item for item in reminding if event.day <= _last_day(today, item)]
            yield from fan_out(near, facts, words, source, _key(event))


def _key(event: DatedEvent) -> str:
    return f"upcoming:{event.uid}:{event.day.isoformat()}"  # a date moved is another reminder


def _owed(subscription: Subscription, event: DatedEvent, today: date, told: set[tuple[str, str]]) -> bool:
    return event.day <= _last_day(today, subscription) and (subscription.id, _key(event)) not in told


def _last_day(today: date, subscription: Subscription) -> date:
    return date.fromordinal(today.toordinal() + subscription.remind_days)
