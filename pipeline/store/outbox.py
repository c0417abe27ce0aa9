"""Subscriptions' state: the journal of changes (written by triggers, see schema.py), who has joined,
and the outbox of messages per target, each sent once or given up.

Exactly once: events become outbox rows in the one transaction that also empties the journal, so a
killed run neither loses nor repeats them. A message is marked `sending_at` (committed) just before it
is handed to its service and `sent_at` just after; a run killed between the two leaves the one message
whose fate cannot be known, which the next run gives up as interrupted (reported, never resent)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pipeline.store.database import Database, iso
from pipeline.store.rows import chunks, marks, stored, utc_moment

SENT_KEPT = timedelta(days=30)  # sent and given-up messages: recent history for `status`, then deleted


@dataclass(frozen=True)
class Change:
    """One entry of the journal: what happened, to which article (version) or alert."""

    id: int
    kind: str  # new, revised, withdrawn, alert
    article_id: int | None
    version: int | None
    source_id: str | None  # None when the article or alert is no longer stored
    slug: str | None  # an article's
    url: str | None  # an article's canonical URL, or the page that showed the alert
    alert: tuple[str, str] | None  # an alert's title and text (HTML)


@dataclass(frozen=True)
class Queued:
    """A message to put in the outbox: for one target (a key), or, with target None, for the
    subscription's next digest."""

    subscription: str
    target: str | None
    key: str  # names the event (or the digest's period): one message per subscription, target and key
    kind: str
    message: str  # JSON: subject, text, html, short


@dataclass(frozen=True)
class Outgoing:
    id: int
    subscription: str
    target: str
    message: str
    created_at: datetime
    attempts: int


@dataclass(frozen=True)
class Pending:
    """Unsent messages of one subscription's target, as `status` shows them."""

    subscription: str
    target: str
    count: int
    oldest: datetime
    next_try: datetime
    last_error: str | None


class OutboxStore(Database):
    def route_changes(
        self,
        subscription_ids: Sequence[str],
        now: datetime,
        route: Callable[[Sequence[Change], set[str]], Iterable[Queued]],
    ) -> list[Queued]:
        """Match the journal's changes to the subscriptions that had joined before them (`route` makes
        the messages), queue the messages, empty the journal, and let newly configured subscriptions
        join: in one transaction. A subscription no longer configured leaves (added again, it joins anew).
        A sync that changed nothing, as most do, writes nothing."""
        joined_now = {row[0] for row in self._db.execute("SELECT id FROM subscribers")}
        if joined_now == set(subscription_ids) and not self._db.execute("SELECT 1 FROM changes LIMIT 1").fetchone():
            return []
        with self.transaction() as db:
            changes = [_change(row) for row in db.execute(CHANGES)]
            joined = {row[0] for row in db.execute("SELECT id FROM subscribers")}
            queued = list(route(changes, joined & set(subscription_ids))) if changes else []
            for item in queued:
                _queue(db, item, now)
            if changes:
                db.execute("DELETE FROM changes WHERE id <= ?", (changes[-1].id,))
            db.executemany(
                "INSERT OR IGNORE INTO subscribers (id, joined_at) VALUES (?, ?)",
                [(identifier, iso(now)) for identifier in subscription_ids],
            )
            for table, column in (
                ("subscribers", "id"),
                ("digest_items", "subscription"),
                ("reminders", "subscription"),
            ):  # gone from the file
                db.execute(
                    f"DELETE FROM {table} WHERE {column} NOT IN ({marks(subscription_ids)})", tuple(subscription_ids)
                )
        return queued

    def reminded(self, keys: Sequence[str]) -> set[tuple[str, str]]:
        """(subscription, key) of the reminders among `keys` already queued."""
        found: set[tuple[str, str]] = set()
        for chunk in chunks(keys):
            rows = self._db.execute(f"SELECT subscription, key FROM reminders WHERE key IN ({marks(chunk)})", chunk)
            found.update((str(subscription), str(key)) for subscription, key in rows)
        return found

    def queue_reminders(self, queued: Sequence[Queued], now: datetime) -> int:
        """Queue each reminder (for its targets, or its subscription's digest) unless that subscription
        was reminded of that key before, in one transaction: how many reminders were new."""
        by_reminder: dict[tuple[str, str], list[Queued]] = {}
        for item in queued:
            by_reminder.setdefault((item.subscription, item.key), []).append(item)
        new = 0
        with self.transaction() as db:
            for (subscription, key), items in by_reminder.items():
                cursor = db.execute(
                    "INSERT OR IGNORE INTO reminders (subscription, key, at) VALUES (?, ?, ?)",
                    (subscription, key, iso(now)),
                )
                if cursor.rowcount != 1:
                    continue
                new += 1
                for item in items:
                    _queue(db, item, now)
        return new

    def take_digest(
        self,
        subscription: str,
        period: str,
        target_keys: Sequence[str],
        now: datetime,
        render: Callable[[list[tuple[str, str]]], str | None],
    ) -> bool | None:
        """The subscription's digest for `period`, once: its waiting events (kind, message) rendered
        into one message per target. None when that period's digest was taken already; False when it
        had no event (the period still counts as done)."""
        with self.transaction() as db:
            if db.execute(
                "SELECT 1 FROM digests WHERE subscription = ? AND period = ?", (subscription, period)
            ).fetchone():
                return None
            rows = db.execute(
                "SELECT id, kind, message FROM digest_items WHERE subscription = ? ORDER BY id", (subscription,)
            ).fetchall()
            message = render([(row[1], row[2]) for row in rows]) if rows else None
            for target in target_keys if message else ():
                _queue(db, Queued(subscription, target, f"digest:{period}", "digest", message or ""), now)
            db.execute("DELETE FROM digest_items WHERE subscription = ?", (subscription,))
            db.execute("INSERT INTO digests VALUES (?, ?, ?)", (subscription, period, iso(now)))
        return message is not None

    def interrupted_sends(self, now: datetime) -> list[Outgoing]:
        """Messages a killed run was handing to their service: given up, never resent (see the module)."""
        interrupted = "WHERE sending_at IS NOT NULL AND sent_at IS NULL AND gave_up_at IS NULL"
        with self.transaction() as db:
            rows = _outgoing(db.execute(f"{OUTGOING} {interrupted}"))
            db.execute(
                f"UPDATE outbox SET gave_up_at = ?, last_error = 'interrupted while sending' {interrupted}", (iso(now),)
            )
        return rows

    def due_messages(self, now: datetime, subscription: str | None = None) -> list[Outgoing]:
        query = f"{OUTGOING} WHERE sent_at IS NULL AND gave_up_at IS NULL AND sending_at IS NULL AND next_try <= ?"
        if subscription is None:
            return _outgoing(self._db.execute(query + " ORDER BY id", (iso(now),)))
        return _outgoing(self._db.execute(query + " AND subscription = ? ORDER BY id", (iso(now), subscription)))

    def mark_sending(self, message_id: int, now: datetime) -> None:
        with self.transaction() as db:
            db.execute("UPDATE outbox SET sending_at = ? WHERE id = ?", (iso(now), message_id))

    def mark_sent(self, message_id: int, now: datetime) -> None:
        with self.transaction() as db:
            db.execute("UPDATE outbox SET sent_at = ?, attempts = attempts + 1 WHERE id = ?", (iso(now), message_id))

    def mark_failed(self, message_id: int, next_try: datetime, error: str) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE outbox SET sending_at = NULL, attempts = attempts + 1, next_try = ?, last_error = ? WHERE id = ?",
                (iso(next_try), error, message_id),
            )

    def give_up(self, message_ids: Sequence[int], now: datetime, reason: str) -> None:
        with self.transaction() as db:
            db.execute(
                f"UPDATE outbox SET gave_up_at = ?, last_error = ? WHERE id IN ({marks(message_ids)})",
                (iso(now), reason, *message_ids),
            )
            db.execute(
                "DELETE FROM outbox WHERE coalesce(sent_at, gave_up_at) < ?",
                (iso(now - SENT_KEPT),),
            )

    def pending_messages(self) -> list[Pending]:
        rows = self._db.execute(
            "SELECT subscription, target, count(*), min(created_at), min(next_try), max(last_error) FROM outbox "
            "WHERE sent_at IS NULL AND gave_up_at IS NULL GROUP BY subscription, target ORDER BY subscription, target"
        )
        return [_pending(row) for row in rows]


CHANGES = (
    "SELECT c.id, c.kind, c.article_id, c.version, coalesce(a.source_id, al.source_id), a.slug, "
    "coalesce(a.url, al.page_url), al.title, al.text_html FROM changes c LEFT JOIN articles a ON a.id = c.article_id "
    "LEFT JOIN alerts al ON al.id = c.alert_id ORDER BY c.id"
)
OUTGOING = "SELECT id, subscription, target, message, created_at, attempts FROM outbox"


def _change(row: tuple[Any, ...]) -> Change:
    alert = (str(row[7]), str(row[8])) if row[7] is not None else None
    return Change(int(row[0]), row[1], row[2], row[3], row[4], row[5], row[6], alert)


def _outgoing(rows: Iterable[tuple[int, str, str, str, str, int]]) -> list[Outgoing]:
    return [
        Outgoing(
            int(row[0]),
            row[1],
            row[2],
            row[3],
            stored(utc_moment, row[4], "outbox.created_at", f"message {row[0]}"),
            int(row[5]),
        )
        for row in rows
    ]


def _pending(row: tuple[Any, ...]) -> Pending:
    messages = f"the messages of {row[0]} to {row[1]}"
    first, due = (
        stored(utc_moment, row[3], "outbox.created_at", messages),
        stored(utc_moment, row[4], "outbox.next_try", messages),
    )
    return Pending(row[0], row[1], int(row[2]), first, due, row[5])


def _queue(db: sqlite3.Connection, item: Queued, now: datetime) -> None:
    """Into the outbox for its target, or, with no target, into the subscription's next digest."""
    if item.target is None:
        db.execute(
            "INSERT INTO digest_items (subscription, kind, message, created_at) VALUES (?, ?, ?, ?)",
            (item.subscription, item.kind, item.message, iso(now)),
        )
        return
    db.execute(
        "INSERT OR IGNORE INTO outbox (subscription, target, key, message, created_at, next_try) VALUES (?, ?, ?, ?, ?, ?)",
        (item.subscription, item.target, item.key, item.message, iso(now), iso(now)),
    )
