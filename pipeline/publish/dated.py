"""An article's dates followed through its versions: each date keeps its identity (the sentence it came
from, its date blanked out) from version to version, so when the source moves the date the event moves
(a higher sequence), and when the sentence goes the event is cancelled. Derived from the stored versions
at publication (kept, as JSON, in publishing's index): the store itself holds no dates. Pure."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from pipeline.model import Version

if TYPE_CHECKING:
    from pipeline.fragment import Reading

KIND_LABELS = {"takes-effect": "Takes effect", "opens": "Opens", "closes": "Closes", "other": "Date"}


@dataclass(frozen=True)
class DatedEvent:
    """One date of one article as it stands after its newest version."""

    uid: str
    kind: str
    day: date
    at: datetime | None  # aware, in NZ; None for the whole day
    sentence: str
    sequence: int  # 0 when first seen; one more each time its date, time, kind or status changed
    created: datetime  # the retrieval of the version that first gave it
    stamp: datetime  # the retrieval of the version that last changed it
    cancelled: bool  # the sentence is no longer in the article

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, "Date")


def follow(url: str, versions: Sequence[Version], newest: Reading | None = None) -> list[DatedEvent]:
    """The events of an article's versions (oldest first), in date order. `newest`: the newest
    version's body already read (read_fragment)."""
    from pipeline.extract.dates import find_dates  # its patterns compile when an article is read

    state: dict[str, DatedEvent] = {}
    for number, version in enumerate(versions, 1):
        when = version.retrieved_at
        found = {
            item.identity: item for item in find_dates(version.article, newest if number == len(versions) else None)
        }
        for identity, item in found.items():
            old = state.get(identity)
            if old is None:
                uid = hashlib.sha256(f"{url}\x1f{identity}".encode()).hexdigest()[:32] + "@panui"
                state[identity] = DatedEvent(uid, item.kind, item.day, item.at, item.sentence, 0, when, when, False)
            elif old.cancelled or (old.kind, old.day, old.at) != (item.kind, item.day, item.at):
                moved = replace(old, kind=item.kind, day=item.day, at=item.at, sentence=item.sentence)
                state[identity] = replace(moved, sequence=old.sequence + 1, stamp=when, cancelled=False)
            elif old.sentence != item.sentence:  # the date spelled otherwise ("1 Oct" for "1 October")
                state[identity] = replace(old, sentence=item.sentence, stamp=when)
        for identity, old in state.items():
            if identity not in found and not old.cancelled:
                state[identity] = replace(old, sequence=old.sequence + 1, stamp=when, cancelled=True)
    return sorted(state.values(), key=lambda event: (event.day, event.at.timestamp() if event.at else 0.0, event.uid))


def due_within(
    events: Iterable[DatedEvent], today: date, days: int, matches: Callable[[DatedEvent], bool] = lambda _: True
) -> list[DatedEvent]:
    """The events not cancelled whose day falls from `today` to `days` days after it, that `matches`
    (what a reminder N days before a date needs: the dates, the window, the subscription's test)."""
    last = today + timedelta(days=days)
    return [event for event in events if not event.cancelled and today <= event.day <= last and matches(event)]


def to_json(events: Sequence[DatedEvent]) -> str:
    """The events as publishing's index keeps them ("" for none, so undated articles cost nothing)."""
    if not events:
        return ""
    rows = [
        [
            e.uid,
            e.kind,
            e.day.isoformat(),
            e.at.isoformat() if e.at else "",
            e.sentence,
            e.sequence,
            e.created.isoformat(),
            e.stamp.isoformat(),
            e.cancelled,
        ]
        for e in events
    ]
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))


def from_json(text: str) -> list[DatedEvent]:
    return [
        DatedEvent(
            uid=uid,
            kind=kind,
            day=date.fromisoformat(day),
            at=datetime.fromisoformat(at) if at else None,
            sentence=sentence,
            sequence=int(sequence),
            created=datetime.fromisoformat(created),
            stamp=datetime.fromisoformat(stamp),
            cancelled=bool(cancelled),
        )
        for uid, kind, day, at, sentence, sequence, created, stamp, cancelled in (json.loads(text) if text else [])
    ]
