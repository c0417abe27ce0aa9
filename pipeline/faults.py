"""Test-only: named points where a run can be made to stop for a while, so a crash test can SIGKILL it
exactly there (tests/test_crash.py). PANUI_TEST_PAUSE_AT names the point, optionally with the how-many-th
time it is reached ("publish:5"; the first by default). The points: "store", inside the transaction that
saves an article; "publish", after an output file's temporary copy is written and before it replaces the
file. Unset, as in every real run, a pause point does nothing."""

from __future__ import annotations

import os
import sys
import time

PAUSE_ENVIRONMENT = "PANUI_TEST_PAUSE_AT"
PAUSE_SECONDS = 60.0  # the test kills the run long before: a loaded CI machine must not let it go on
_reached: dict[str, int] = {}


def pause_point(point: str) -> None:
    """Sleep at `point` when PANUI_TEST_PAUSE_AT names it (and this is the time named), saying so on stderr."""
    wanted = os.environ.get(PAUSE_ENVIRONMENT)
    if not wanted:
        return
    name, _, count = wanted.partition(":")
    if name != point:
        return
    _reached[point] = _reached.get(point, 0) + 1
    if _reached[point] == int(count or 1):
        print(f"paused at {point}", file=sys.stderr, flush=True)
        time.sleep(PAUSE_SECONDS)
