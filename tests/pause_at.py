"""`python tests/pause_at.py POINT[:N] ARGS...`: `python run.py ARGS...` that stops for a while at a named
point, saying "paused at POINT" on stderr first, so that a crash test can SIGKILL it exactly there
(tests/test_crash.py). N is the how-many-th time the point is reached (the first by default). The points:

- "store": inside the transaction that saves a new version of an article, after its last statement and
  before COMMIT;
- "publish": after an output file's temporary copy is written and flushed, before it is renamed over the
  file (OutputWriter.commit's os.replace);
- "send": in a delivery, before a message is marked as being sent (the ones before it were sent);
- "sent": in a delivery, after Apprise accepted a message, before it is marked sent.

The pauses are monkeypatched in here, so the pipeline itself knows nothing of them."""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: import this checkout's pipeline

from pipeline import cli
from pipeline.files import OutputWriter
from pipeline.notify import delivery
from pipeline.store.articles import ArticleStore
from pipeline.store.outbox import OutboxStore

PAUSE_SECONDS = 60.0  # the test kills the run long before: a loaded CI machine must not let it go on


class Pause:
    def __init__(self, point: str, time_reached: int) -> None:
        self.point, self.wanted, self.reached = point, time_reached, 0

    def reach(self) -> None:
        self.reached += 1
        if self.reached == self.wanted:
            print(f"paused at {self.point}", file=sys.stderr, flush=True)
            time.sleep(PAUSE_SECONDS)


def pause_in_store(pause: Pause) -> None:
    """Before the COMMIT of a save_article transaction that inserted a revision (a new article or version)."""
    saving: list[bool] = []
    save_article, transaction = ArticleStore.save_article, ArticleStore.transaction

    def saving_article(self: ArticleStore, *args: Any, **kwargs: Any) -> Any:
        saving.append(True)
        try:
            return save_article(self, *args, **kwargs)
        finally:
            saving.pop()

    @contextmanager
    def paused_transaction(self: ArticleStore) -> Iterator[sqlite3.Connection]:
        with transaction(self) as db:
            if not saving:
                yield db
                return
            statements: list[str] = []
            db.set_trace_callback(statements.append)
            try:
                yield db
            finally:
                db.set_trace_callback(None)
            if any(statement.startswith("INSERT INTO revisions") for statement in statements):
                pause.reach()  # the body ran to its end without error; COMMIT is next

    ArticleStore.save_article = saving_article  # type: ignore[method-assign]
    ArticleStore.transaction = paused_transaction  # type: ignore[assignment,method-assign]


def pause_in_publish(pause: Pause) -> None:
    """Before each rename of an output file's temporary copy over the file."""
    committing: list[bool] = []
    commit, replace = OutputWriter.commit, os.replace

    def committing_batch(self: OutputWriter) -> None:
        committing.append(True)
        try:
            commit(self)
        finally:
            committing.pop()

    def paused_replace(source: Any, destination: Any, **kwargs: Any) -> None:
        if committing:
            pause.reach()
        replace(source, destination, **kwargs)

    OutputWriter.commit = committing_batch  # type: ignore[method-assign]
    os.replace = paused_replace  # type: ignore[assignment]


def pause_before_sending(pause: Pause) -> None:
    """Before a message is marked as being sent: the run has handed over the ones before it, not this one."""
    mark_sending = OutboxStore.mark_sending

    def paused_mark(self: OutboxStore, *args: Any) -> None:
        pause.reach()
        mark_sending(self, *args)

    OutboxStore.mark_sending = paused_mark  # type: ignore[assignment,method-assign]


def pause_after_sending(pause: Pause) -> None:
    """After Apprise accepted a message, before it is marked sent."""
    send = vars(delivery)["send"]

    def paused_send(*args: Any) -> str | None:
        result: str | None = send(*args)
        pause.reach()
        return result

    vars(delivery)["send"] = paused_send


INSTALL: dict[str, Callable[[Pause], None]] = {
    "store": pause_in_store,
    "publish": pause_in_publish,
    "send": pause_before_sending,
    "sent": pause_after_sending,
}


def main(argv: list[str]) -> int:
    if not argv or argv[0].partition(":")[0] not in INSTALL:
        print(f"usage: pause_at.py {{{','.join(INSTALL)}}}[:N] RUN.PY-ARGUMENTS...", file=sys.stderr)
        return 2
    point, _, count = argv[0].partition(":")
    INSTALL[point](Pause(point, int(count or 1)))
    return cli.main(argv[1:])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
