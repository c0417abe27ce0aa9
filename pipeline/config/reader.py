"""Reading sources.yaml: a reader that collects every problem with its key path, and the checks
that values must pass. Shared by the modules of pipeline/config/.

Every number has a range and every text is free of control characters, checked here as it is read:
an infinite, NaN or enormous number, or a NUL in a string, would otherwise pass and crash a later run
(a sleep, a timedelta, an SQL LIMIT, an HTTP header, a feed's XML)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipeline.bounds import CONTROLS, SURROGATES, shorten, web_url

MISSING: Any = object()
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
DIRECTIVE = re.compile(r"%(.)", re.S)  # ("%%" is one match: a literal %)
STRPTIME_DIRECTIVES = set("aAwdbBmyYHIpMSfzZjUWcxXGuV%")  # what Python's strptime reads
UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_DURATION = 3650 * 86400  # ten years: any longer interval or duration is a mistake
# C0 and C1 controls but tab and newline (which a block of text may hold), and lone surrogates (which
# cannot be written as UTF-8): never meant, and fatal in an HTTP header or in XML.
CONTROL = re.compile(f"[{CONTROLS}\r{SURROGATES}]")  # tab and line feed are text in YAML


class Reader:
    """Reads typed values out of nested mappings, recording (key path, message, hint) problems."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str, str]] = []

    def problem(self, key: str, message: str, hint: str = "") -> None:
        self.problems.append((key, message, hint))

    def mapping(self, value: Any, key: str, allowed: set[str]) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(key or "(top level)", f"must be a mapping, not {type(value).__name__}")
            return {}
        for unknown in sorted(set(map(str, value)) - allowed):
            close = [name for name in sorted(allowed) if name[:3] == unknown[:3]]
            hint = f"did you mean '{close[0]}'?" if close else "allowed: " + ", ".join(sorted(allowed))
            self.problem(join_key(key, unknown if unknown.isprintable() else shown(unknown)), "unknown key", hint)
        return value

    def get(
        self,
        data: dict[str, Any],
        key: str,
        name: str,
        kind: type | tuple[type, ...],
        default: Any = MISSING,
        check: Callable[[Any], str | tuple[str, str] | None] | None = None,  # a message, or (message, hint)
    ) -> Any:
        path = join_key(key, name)
        if name not in data or data[name] is None:
            if default is MISSING:
                self.problem(path, "is required")
            return None if default is MISSING else default
        value = data[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            wanted = " or ".join(k.__name__ for k in kinds)
            self.problem(path, f"must be {wanted}, not {type(value).__name__} ({shown(value)})")
            return None if default is MISSING else default
        found = value_problem(value) or (check(value) if check is not None else None)
        if found is not None:
            message, hint = found if isinstance(found, tuple) else (found, "")
            self.problem(path, message, hint)
            return None if default is MISSING else default
        return value

    def strings(
        self,
        data: dict[str, Any],
        key: str,
        name: str,
        check: Callable[[str], str | None] | None = None,
        *,
        required: bool = False,
    ) -> tuple[str, ...]:
        """A list of texts, each checked; a bad one is a problem named by its index, and left out."""
        path = join_key(key, name)
        good: list[str] = []
        for index, item in enumerate(self.get(data, key, name, list, MISSING if required else []) or []):
            message = "must be text" if not isinstance(item, str) else value_problem(item) or (check and check(item))
            if message:
                self.problem(join_key(path, index), message)
            else:
                good.append(item)
        return tuple(good)

    def duration(
        self, data: dict[str, Any], key: str, name: str, default: str, *, zero: bool = False, at_most: str = "3650d"
    ) -> float:
        """Seconds, from more than 0 (or 0 itself, if `zero`) to `at_most`: e.g. 30s, 15m, 2h, 7d."""
        value = default if data.get(name) is None else data[name]
        if zero and value in (0, "0", "0s"):
            return 0.0
        seconds = parse_interval(value) if isinstance(value, str | int | float) else None
        if seconds is None or seconds > (parse_interval(at_most) or 0):
            self.problem(
                join_key(key, name),
                value_problem(value) or f"cannot read {shown(value)} as a duration up to {at_most}",
                "a number with s, m, h or d, e.g. 30m",
            )
            return 0.0
        return seconds


def value_problem(value: Any) -> str | None:
    """What no value in sources.yaml may be, whatever its key."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number, not {value}"
    if isinstance(value, str) and (control := CONTROL.search(value)):
        return f"must not hold control characters (U+{ord(control[0]):04X} at character {control.start() + 1})"
    return None


def shown(value: Any) -> str:
    """A value as a message quotes it: short."""
    return shorten(repr(value), 60)


def join_key(key: str, name: str | int) -> str:
    if isinstance(name, int):
        return f"{key}[{name}]"
    return f"{key}.{name}" if key else name


def check_http_url(value: str) -> str | tuple[str, str] | None:
    try:
        parts = urlsplit(value)
        credentials = "@" in parts.netloc
    except ValueError:
        parts, credentials = None, "@" in value
    if credentials:  # first, and the value is not repeated: the message may reach a log
        return (
            "holds a user name or password (user:password@), which would be sent with every request "
            "and published in every feed",
            "remove the part before '@'; Pānui reads public pages only, and publishes its URLs",
        )
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.netloc
        or not value.isprintable()
        or " " in value
    ):
        return f"must be an absolute http(s) URL, not {shown(value)}"
    if (problem := web_url(value)) is not None:
        return f"is not a usable URL: {problem}"
    return None


def check_one_line(value: str) -> str | tuple[str, str] | None:
    """For text sent in an HTTP header: a tab or line break there would end or forge the header, and
    HTTP/1.1 headers carry ASCII (http.client refuses anything else, at the first request)."""
    if not value.isprintable():
        return f"must be one line of text, not {shown(value)}"
    if not value.isascii():
        return (
            f"must be ASCII, as HTTP headers are, not {shown(value)}",
            "write the address in ASCII: e.g. a domain in punycode (xn--...), other characters %-encoded",
        )
    return None


def between(low: int, high: int, *, above: bool = False) -> Callable[[float], str | None]:
    """A check that a number is `low` or more (more than `low`, if `above`) and at most `high`."""

    def check(value: float) -> str | None:
        if (value > low if above else value >= low) and value <= high:
            return None
        lowest = f"more than {low}" if above else f"{low} or more"
        return f"must be {lowest} and at most {high}, not {shown(value)}"

    return check


def one_of(*choices: str) -> Callable[[str], str | None]:
    return lambda value: None if value in choices else f"must be one of {', '.join(choices)}, not {value!r}"


def check_regex(value: str) -> str | None:
    try:
        re.compile(value)
    except re.error as error:
        return f"is not a valid regular expression ({error})"
    return None


def check_timezone(value: str) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # ("Pacific" is a folder of zones: IsADirectoryError)
        return f"is not a known IANA time zone ({value!r}), e.g. Pacific/Auckland"
    return None


def check_date_format(value: str) -> str | None:
    """A strptime format giving a whole date. Read by its directives: calling strptime here would load
    its locale tables into every command's start-up (about 3 ms), `status` included."""
    directives = set(DIRECTIVE.findall(value))
    unknown = sorted(directives - STRPTIME_DIRECTIVES)
    if unknown or value.replace("%%", "").endswith("%"):
        where = f"%{unknown[0]} is not a directive" if unknown else "it ends with a lone %"
        return f"is not a date format strptime can read ({where}), e.g. %d %B %Y for 09 July 2026"
    if not (directives & set("dj") and directives & set("mbBj") and directives & set("Yy")):
        return f"does not give a whole date (day, month and year): {value!r}, e.g. %d %B %Y for 09 July 2026"
    return None


def check_slug(value: str) -> str | None:
    if SLUG.match(value):
        return None
    return f"must be a slug (lower-case letters, digits and '-'), not {value!r}"


def parse_interval(value: str | int | float) -> float | None:
    """'15m' -> 900.0; '30s', '2h', '7d', or a number of seconds. None when it cannot be read, or is not
    more than 0 and at most MAX_DURATION (NaN and infinity are neither)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds: float = value  # (compared before float(): an enormous int would overflow it)
    elif match := INTERVAL.match(str(value)):
        seconds = float(match.group(1)) * UNIT_SECONDS[match.group(2)]
    else:
        return None
    return float(seconds) if 0 < seconds <= MAX_DURATION else None
