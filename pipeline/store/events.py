"""Site alerts and the record of each run."""

from __future__ import annotations

import json
from datetime import datetime

from pipeline.model import Alert
from pipeline.store.database import Database, iso
from pipeline.store.rows import marks, moment, stored, utc_moment

RUNS_KEPT = 1000  # the runs table is recent history, not an archive: a daemon must not grow it for ever


class EventStore(Database):
    def save_alerts(self, page_url: str, alerts: list[Alert], seen_at: datetime) -> list[Alert]:
        """Keep the alerts a read of `page_url` showed; the new ones are returned. An alert of that page
        it no longer shows stops being current at once: its last_seen is cleared, so even a read in the
        same second as the one that showed it (times are kept to the second) is told apart."""
        new: list[Alert] = []
        with self.transaction() as db:
            shown = [alert.id for alert in alerts]
            db.execute(
                f"UPDATE alerts SET last_seen = '' WHERE page_url = ? AND id NOT IN ({marks(shown)})",
                (page_url, *shown),
            )
            for alert in alerts:
                if db.execute("UPDATE alerts SET last_seen = ? WHERE id = ?", (iso(seen_at), alert.id)).rowcount:
                    continue
                db.execute(
                    "INSERT INTO alerts (id, source_id, title, issued, text_html, page_url, first_seen, last_seen) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        alert.id,
                        alert.source_id,
                        alert.title,
                        alert.issued.isoformat(),
                        alert.text_html,
                        alert.page_url,
                        iso(seen_at),
                        iso(seen_at),
                    ),
                )
                new.append(alert)
        return new

    def alerts(self, source_id: str, limit: int = -1, *, current_only: bool = False) -> list[Alert]:
        """The source's alerts, newest issued first (the `limit` newest; -1: all). `current_only`: those
        its page showed when it was last read (seen at that check; a failed fetch leaves them current)."""
        current = (
            " AND last_seen >= (SELECT checked_at FROM http_cache WHERE http_cache.url = alerts.page_url)"
            if current_only
            else ""
        )
        rows = self._db.execute(
            "SELECT id, source_id, title, issued, text_html, page_url, first_seen FROM alerts WHERE source_id = ?"
            f"{current} ORDER BY issued DESC, id LIMIT ?",
            (source_id, limit),
        )
        return [
            Alert(
                row[0],
                row[1],
                row[2],
                stored(moment, row[3], "alerts.issued", f"alert {row[0]}"),
                row[4],
                row[5],
                stored(utc_moment, row[6], "alerts.first_seen", f"alert {row[0]}"),
            )
            for row in rows
        ]

    def start_run(self, started_at: datetime) -> int:
        with self.transaction() as db:
            return int(db.execute("INSERT INTO runs (started_at) VALUES (?)", (iso(started_at),)).lastrowid or 0)

    def finish_run(self, run_id: int, finished_at: datetime, exit_code: int, report: dict[str, object]) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE runs SET finished_at = ?, exit_code = ?, report = ? WHERE id = ?",
                (
                    iso(finished_at),
                    exit_code,
                    json.dumps(report, sort_keys=True, ensure_ascii=False),
                    run_id,
                ),
            )
            db.execute("DELETE FROM runs WHERE id <= ?", (run_id - RUNS_KEPT,))
