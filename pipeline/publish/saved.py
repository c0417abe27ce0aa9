"""Each subscription's own feeds and page, `subscriptions/<id>/`: a saved search, listing every article
its `match` selects (whatever its events or digest), linked from the archive's front page and the OPML."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from pipeline.model import Article, Config
from pipeline.publish.archive import LinkGroup, Listing
from pipeline.publish.site import poll_minutes
from pipeline.store import Membership
from pipeline.subscriptions import EventFacts, Subscription, selects

if TYPE_CHECKING:
    from pipeline.publish.plan import Output, SitePlanner

KIND = "subscription"


def folder_of(subscription: Subscription) -> str:
    return f"subscriptions/{subscription.id}/"


def configured(config: Config) -> list[Membership]:
    """A membership per configured subscription: its page and feeds exist even while it lists nothing."""
    return [Membership(folder_of(item), KIND, "", item.id) for item in config.notify.saved_searches]


def selected_by(config: Config, article: Article, source_id: str, body_text: Callable[[], str]) -> list[Membership]:
    """The subscriptions whose feeds list `article`; `body_text` gives its body's text, with a line
    break between blocks (asked for only when a subscription matches `words`)."""
    if not config.notify.saved_searches:
        return []
    text = body_text() if any(item.words for item in config.notify.saved_searches) else ""
    facts = EventFacts("new", source_id, article.title, article.summary, text, article.topics, article.news_type)
    return [
        Membership(folder_of(item), KIND, "", item.id) for item in config.notify.saved_searches if selects(item, facts)
    ]


def front_page_groups(config: Config) -> tuple[LinkGroup, ...]:
    links = tuple((item.id, folder_of(item) + "index.html") for item in config.notify.saved_searches)
    return (LinkGroup("Subscriptions", links),) if links else ()


def describe(item: Subscription) -> str:
    keys = {"sources": item.sources, "topics": item.topics, "types": item.types, "words": item.words}
    wanted = "; ".join(f"{name}: {', '.join(values)}" for name, values in keys.items() if values)
    return f"Articles selected by the subscription {item.id}" + (f" ({wanted})." if wanted else ": every article.")


def subscription_outputs(planner: SitePlanner, membership: Membership) -> Iterator[Output]:
    config = planner.config
    subscription = next(item for item in config.notify.saved_searches if item.id == membership.name)
    folder, description = membership.collection, describe(subscription)
    yield planner._article_feed(
        folder, f"{subscription.id} · {config.feeds.title}", description, poll_minutes(config.sources)
    )
    newest = planner._entries(planner.catalogue.listed(folder, limit=planner.limit))
    yield planner._listing(
        Listing(f"{folder}index.html", f"Subscription: {subscription.id}", description, newest, folder, ())
    )
