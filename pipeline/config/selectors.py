"""CSS selectors are checked by soupsieve, the library that runs them (pipeline/dom.py). Importing it
costs more CPU than everything else a sync that finds nothing new does, and compiling a first selector
about 0.1 s (BENCHMARKS.md), so the selectors it accepted are recorded in
state_dir/selectors-checked.json with the installed soupsieve's stamp: their names, so that a later run
checks only a selector not recorded there without loading soupsieve, and their compiled forms, so that a
run that reads a page need not compile them again. The record is a cache of a pure answer: a selector is
in it only once soupsieve accepted it, a missing or unreadable record means checking and compiling them
all again, and an upgraded soupsieve (a new stamp) does the same."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from importlib.util import find_spec
from pathlib import Path

from pipeline.dom import compiled_record, css, recall_compiled
from pipeline.files import write_atomic

CHECKED_FILE = "selectors-checked.json"
_accepted: set[str] = set()  # selectors soupsieve compiled, or that a record says it did (this process)


def check_selector(value: str) -> str | None:
    """Why soupsieve, which runs the selectors (pipeline/dom.py), cannot use this one, or None."""
    if value in _accepted:
        return None
    import soupsieve

    try:
        css(value)
    except (soupsieve.SelectorSyntaxError, NotImplementedError) as error:  # a pseudo-element is the latter
        return f"is not a valid CSS selector ({value!r}: {str(error).splitlines()[0]})"
    _accepted.add(value)
    return None


def recall_checked(state_dir: Path) -> None:
    """Take the selectors a run recorded in `state_dir` as accepted and compiled, if by this same soupsieve."""
    try:
        record = json.loads((state_dir / CHECKED_FILE).read_bytes())
        compiled = base64.b64decode(record["compiled"], validate=True)
    except (OSError, ValueError, TypeError, KeyError, binascii.Error):  # (a record without compiled forms too)
        return
    accepted = record.get("accepted")
    if isinstance(accepted, list) and record.get("soupsieve") == _soupsieve_stamp():
        _accepted.update(item for item in accepted if isinstance(item, str))
        recall_compiled(compiled)


def record_checked(state_dir: Path) -> None:
    """Record the accepted selectors for the next run, once some were compiled (by a sync or rebuild,
    which write state_dir anyway, after the run that creates it). A record that cannot be written is no
    loss: the next run checks and compiles its selectors again."""
    if not state_dir.is_dir() or (compiled := compiled_record()) is None:
        return
    record = {
        "soupsieve": _soupsieve_stamp(),
        "accepted": sorted(_accepted),
        "compiled": base64.b64encode(compiled).decode(),  # soupsieve's own pickling (see dom._SelectorsOnly)
    }
    with contextlib.suppress(OSError):
        write_atomic(state_dir / CHECKED_FILE, (json.dumps(record, indent=1) + "\n").encode())


def _soupsieve_stamp() -> str:
    """The installed soupsieve, without importing it: its package file's path, size and time (an
    upgrade rewrites it)."""
    spec = find_spec("soupsieve")
    origin = spec.origin if spec is not None else None
    if origin is None:
        return ""
    status = Path(origin).stat()
    return f"{origin} {status.st_size} {status.st_mtime_ns}"
