"""Subscriptions as values, what an event must be to match one, and what makes a revision significant.

Pure and beneath every stage (no pipeline import), so config builds these values, notify matches events
and publish lists a subscription's own feed with the same rule."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property

EVENT_KINDS = ("new", "revised", "withdrawn", "alert", "upcoming")
DEFAULT_EVENTS = ("new", "alert")
DIGESTS = ("none", "daily", "weekly")
PASSAGE_CHARACTERS = 1000  # the changed passage a message quotes; the archive page has the whole diff
# A token: a number with its inner separators (1.5, 12:30, 2026-12-06, 1/2), or a word. A thousands
# comma is dropped first, so "$1,000" and "$1000" are one amount, but "1.5" and "15" stay two numbers.
TOKEN = re.compile(r"\d+(?:[.:/-]\d+)*|[^\W_]+")
THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class Target:
    """Where a subscription's messages go: an Apprise URL, secrets and all. Only `label` (its scheme)
    and `key` (a digest naming it in the store) are ever shown or written."""

    url: str = field(repr=False)
    number: int  # its place in `to`, from 1

    @property
    def label(self) -> str:
        return f"#{self.number} {self.url.partition('://')[0].lower()}://…"

    @property
    def key(self) -> str:
        return hashlib.sha256(self.url.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Subscription:
    id: str
    sources: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    events: tuple[str, ...] = DEFAULT_EVENTS
    targets: tuple[Target, ...] = ()
    digest: str = "none"
    remind_days: int = 7  # `upcoming`: a date the articles give is told this many days before it
    publish: bool = True  # its own feeds and page in the archive (a saved search): its id and match are public


@dataclass(frozen=True)
class NotifySettings:
    """`subscriptions`, `digest_at` (NZ time) and `notify_give_up_after` in sources.yaml."""

    subscriptions: tuple[Subscription, ...] = ()
    digest_at: tuple[int, int] = (8, 0)
    give_up_after: float = 3 * 86400.0

    @cached_property  # asked for each article a publication reads
    def saved_searches(self) -> tuple[Subscription, ...]:
        """The subscriptions whose feeds and page the archive publishes."""
        return tuple(item for item in self.subscriptions if item.publish)


@dataclass(frozen=True)
class EventFacts:
    """What matching reads of an event: an article's (or alert's) source, kind and text."""

    kind: str
    source_id: str
    title: str
    summary: str
    text: str  # the body (or an alert's text) as plain text
    topics: tuple[str, ...] = ()
    news_type: str | None = None


def matches(subscription: Subscription, event: EventFacts) -> bool:
    """Every key the subscription gives must match; within a key, any one value (names in any case,
    words whole and in any case, in the title, summary or body). An alert has no topic or type, so a
    subscription that names topics or types is not sent alerts."""
    return event.kind in subscription.events and selects(subscription, event)


def selects(subscription: Subscription, event: EventFacts) -> bool:
    """The subscription's `match` alone, whatever the event: what its own feed lists."""
    if subscription.sources and event.source_id not in subscription.sources:
        return False
    if subscription.topics and not _folded(subscription.topics) & _folded(event.topics):
        return False
    if subscription.types and not _folded(subscription.types) & _folded((event.news_type or "",)):
        return False
    if subscription.words:
        text = f"{event.title}\n{event.summary}\n{event.text}"
        return any(re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE) for word in subscription.words)
    return True


def changed_passage(before: str, after: str) -> str | None:
    """None when a revision changed only spacing, punctuation or letter case (its words and numbers, in
    order, are the same); else the sentences it added or changed (or, when it only took some away, those
    it removed), cut at PASSAGE_CHARACTERS."""
    if _tokens(before) == _tokens(after):
        return None
    old, new = _sentences(before), _sentences(after)
    added = [sentence for key, sentence in new.items() if key not in old]
    removed = [sentence for key, sentence in old.items() if key not in new]
    if not added and not removed:
        return "The same sentences, in a new order."
    passage = " … ".join(added) if added else "Removed: " + " … ".join(removed)
    return passage if len(passage) <= PASSAGE_CHARACTERS else passage[: PASSAGE_CHARACTERS - 1] + "…"


def _tokens(text: str) -> tuple[str, ...]:
    return tuple(TOKEN.findall(THOUSANDS.sub("", text).casefold()))


def _sentences(text: str) -> dict[tuple[str, ...], str]:
    """Each sentence with words, by its tokens (so a sentence re-punctuated is the same sentence)."""
    found: dict[tuple[str, ...], str] = {}
    for sentence in SENTENCE_END.split(text):
        if tokens := _tokens(sentence):
            found.setdefault(tokens, " ".join(sentence.split()))
    return found


def _folded(names: tuple[str, ...]) -> set[str]:
    return {name.casefold() for name in names}
