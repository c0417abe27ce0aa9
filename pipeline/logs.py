"""Logging: one line per event with `key=value` fields (or one JSON object per line for log shippers).

Code logs an event with `log_event(logger, level, "run.finished", source="inz", new=2)`; plain
`logger.info("...")` calls still come out as one line. Tracebacks are folded into that line, and only
with --verbose. URLs lose any `user:password@` part, so a credential in a base_url never reaches a log."""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from datetime import UTC, datetime
from typing import Literal, TextIO

from pipeline.bounds import BIDI_MARKS, CONTROLS, LINE_BREAKS

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@")
BARE = re.compile(r"^[^\s\"=\\\x00-\x1f\x7f-\x9f]+$")
# What a terminal acts on instead of showing: C0 and C1 controls (ESC and CSI start sequences that move
# the cursor, clear the screen or set the window's title), DEL, and the marks that reorder a line.
TERMINAL_CONTROLS = re.compile(f"[{CONTROLS}{LINE_BREAKS}{BIDI_MARKS}]")
# Their INFO lines (each connection, each job execution) are noise here; the daemon logs the scheduler's
# warnings (a skipped or missed run) as its own events.
LIBRARY_LEVELS = {"apscheduler": logging.ERROR, "urllib3": logging.WARNING, "charset_normalizer": logging.WARNING}


def log_event(logger: logging.Logger, level: int, event: str, message: str = "", **fields: object) -> None:
    """Log `event` (a dotted name such as run.finished) with its fields, in either format."""
    logger.log(level, message or event, extra={"event": event, "fields": fields})


def visible(text: str) -> str:
    """`text` for a terminal: each control character spelled out as Python would ("\\x1b", "\\n"), so a
    site's values in a report can never rewrite the operator's screen."""
    return TERMINAL_CONTROLS.sub(lambda found: found[0].encode("unicode_escape").decode("ascii"), text)


def redact(text: str) -> str:
    return CREDENTIALS.sub(r"\1***@", text)


def _fields(record: logging.LogRecord, *, with_traceback: bool) -> dict[str, object]:
    fields: dict[str, object] = {
        "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "level": record.levelname.lower(),
        "logger": record.name,
    }
    event = getattr(record, "event", None)
    message = record.getMessage()
    if event:
        fields["event"] = event
    fields.update(getattr(record, "fields", None) or {})
    if message and message != event:
        fields["msg"] = message
    if record.exc_info and record.exc_info[1] is not None:
        error = record.exc_info[1]
        fields["error"] = f"{type(error).__name__}: {error}"
        if with_traceback:
            fields["traceback"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
    return {key: redact(value) if isinstance(value, str) else value for key, value in fields.items()}


def _text_value(value: object) -> str:
    if value is None:
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        value = ",".join(str(item) for item in value)
    text = str(value)
    # json.dumps spells out C0 controls but not C1 (CSI, \x9b): visible() does, for a terminal's sake.
    return text if BARE.match(text) else visible(json.dumps(text, ensure_ascii=False))


class KeyValueFormatter(logging.Formatter):
    """`time=... level=info logger=panui.daemon event=run.finished source=inz new=2`"""

    def __init__(self, *, verbose: bool = False) -> None:
        super().__init__()
        self.verbose = verbose

    def format(self, record: logging.LogRecord) -> str:
        fields = _fields(record, with_traceback=self.verbose)
        return " ".join(f"{key}={_text_value(value)}" for key, value in fields.items())


class JsonFormatter(KeyValueFormatter):
    """The same fields as one JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(_fields(record, with_traceback=self.verbose), ensure_ascii=False, default=str)


def configure_logging(
    log_format: LogFormat = "text",
    *,
    level: int = logging.WARNING,
    verbose: bool = False,
    stream: TextIO | None = None,
) -> None:
    """Send every log record to stderr (or `stream`), one line each, replacing earlier handlers."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(verbose=verbose) if log_format == "json" else KeyValueFormatter(verbose=verbose))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name, quiet in LIBRARY_LEVELS.items():
        logging.getLogger(name).setLevel(logging.NOTSET if verbose and quiet < logging.ERROR else quiet)


def is_log_line(line: str) -> bool:
    """Whether a line another Pānui process wrote to stderr is already a formatted log line."""
    return line.startswith(("time=", '{"time"'))
