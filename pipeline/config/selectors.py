"""CSS selectors are checked by soupsieve, the library that runs them (pipeline/dom.py). Importing it
costs more CPU than everything else a sync that finds nothing new does (BENCHMARKS.md), so the selectors
it accepted are recorded in state_dir/selectors-checked.json with the installed soupsieve's stamp, and a
later run compiles only a selector not recorded there. The record is a cache of a pure answer: a
selector is in it only once soupsieve accepted it, a missing or unreadable record means checking them
all again, and an upgraded soupsieve (a new stamp) checks them all again."""

from __future__ import annotations

import json
from importlib.util import find_spec
from pathlib import Path

from pipeline.files import write_atomic

CHECKED_FILE = "selectors-checked.json"
_accepted: set[str] = set()  # selectors soupsieve compiled, or that a record says it did (this process)
_unrecorded: set[str] = set()  # of them, those compiled since the last record was written


def check_selector(value: str) -> str | None:
    """Why soupsieve, which runs the selectors (pipeline/dom.py), cannot use this one, or None."""
    if value in _accepted:
        return None
    import soupsieve

    try:
        soupsieve.compile(value)
    except (soupsieve.SelectorSyntaxError, NotImplementedError) as error:  # a pseudo-element is the latter
        return f"is not a valid CSS selector ({value!r}: {str(error).splitlines()[0]})"
    _accepted.add(value)
    _unrecorded.add(value)
    return None


def recall_checked(state_dir: Path) -> None:
    """Take the selectors a run recorded in `state_dir` as accepted, if by this same soupsieve."""
    try:
        record = json.loads((state_dir / CHECKED_FILE).read_bytes())
    except (OSError, ValueError):
        return
    accepted = record.get("accepted") if isinstance(record, dict) else None
    if isinstance(accepted, list) and record.get("soupsieve") == _soupsieve_stamp():
        _accepted.update(item for item in accepted if isinstance(item, str))


def record_checked(state_dir: Path) -> None:
    """Record the accepted selectors for the next run, once some were compiled (by a sync or rebuild,
    which write state_dir anyway, after the run that creates it). A record that cannot be written is no
    loss: the next run checks its selectors again."""
    if not _unrecorded or not state_dir.is_dir():
        return
    record = {"soupsieve": _soupsieve_stamp(), "accepted": sorted(_accepted)}
    try:
        write_atomic(state_dir / CHECKED_FILE, (json.dumps(record, indent=1) + "\n").encode())
    except OSError:
        return
    _unrecorded.clear()


def _soupsieve_stamp() -> str:
    """The installed soupsieve, without importing it: its package file's path, size and time (an
    upgrade rewrites it)."""
    spec = find_spec("soupsieve")
    origin = spec.origin if spec is not None else None
    if origin is None:
        return ""
    status = Path(origin).stat()
    return f"{origin} {status.st_size} {status.st_mtime_ns}"
