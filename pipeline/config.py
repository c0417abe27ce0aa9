"""sources.yaml -> Config. Every problem is collected with its key path, then reported at once."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import soupsieve
import yaml

from pipeline import PRODUCT, __version__
from pipeline.errors import ConfigError
from pipeline.model import (
    DEFAULT_REVISIT,
    AlertSelectors,
    Config,
    Discovery,
    Expectations,
    FeedSettings,
    HealthSettings,
    Licence,
    Listing,
    PageTypeRule,
    RevisitRule,
    Schedule,
    Selectors,
    Source,
)

T = TypeVar("T")
MISSING: Any = object()
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class _Reader:
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
            self.problem(_join(key, unknown), "unknown key", hint)
        return value

    def get(
        self,
        data: dict[str, Any],
        key: str,
        name: str,
        kind: type[T] | tuple[type, ...],
        default: Any = MISSING,
        check: Callable[[Any], str | None] | None = None,
    ) -> Any:
        path = _join(key, name)
        if name not in data or data[name] is None:
            if default is MISSING:
                self.problem(path, "is required")
            return None if default is MISSING else default
        value = data[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            wanted = " or ".join(k.__name__ for k in kinds)
            self.problem(path, f"must be {wanted}, not {type(value).__name__} ({value!r})")
            return None if default is MISSING else default
        if check is not None and (message := check(value)) is not None:
            self.problem(path, message)
            return None if default is MISSING else default
        return value


def _join(key: str, name: str | int) -> str:
    if isinstance(name, int):
        return f"{key}[{name}]"
    return f"{key}.{name}" if key else name


def _http_url(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"must be an absolute http(s) URL, not {value!r}"
    return None


def _non_negative(value: float) -> str | None:
    return None if value >= 0 else f"must be 0 or more, not {value}"


def _positive(value: float) -> str | None:
    return None if value > 0 else f"must be more than 0, not {value}"


def _selector(value: str) -> str | None:
    try:
        soupsieve.compile(value)
    except Exception as error:  # soupsieve raises several types for bad syntax
        return f"is not a valid CSS selector ({value!r}: {error})"
    return None


def _regex(value: str) -> str | None:
    try:
        re.compile(value)
    except re.error as error:
        return f"is not a valid regular expression ({error})"
    return None


def _timezone(value: str) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f"is not a known IANA time zone ({value!r}), e.g. Pacific/Auckland"
    return None


def _slug(value: str) -> str | None:
    if SLUG.match(value):
        return None
    return f"must be a slug (lower-case letters, digits and '-'), not {value!r}"


def parse_interval(value: str | int | float) -> float | None:
    """'15m' -> 900.0; '30s', '2h', or a number of seconds. None when it cannot be read."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) if value > 0 else None
    match = INTERVAL.match(str(value))
    if not match or float(match.group(1)) <= 0:
        return None
    return float(match.group(1)) * UNIT_SECONDS[match.group(2)]


def load_config(path: Path) -> Config:
    """Read and validate `path`. Raises ConfigError naming every problem found."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            str(path),
            [
                (
                    "(file)",
                    "not found",
                    "pass --config PATH, or run from the folder holding sources.yaml",
                )
            ],
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(str(path), [("(file)", f"cannot be read: {error}", "")]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(
            str(path), [("(file)", f"is not valid YAML: {error}", "check indentation and quoting")]
        ) from None
    return parse_config(data, path)


def parse_config(data: Any, path: Path) -> Config:
    reader = _Reader()
    top_keys = {"site_url", "output_dir", "state_dir", "contact", "user_agent", "feeds", "sources", "websub_hub"}
    top_keys |= {"run_budget", "health", "warc"}
    top = reader.mapping(data, "", top_keys)
    folder = path.resolve().parent
    site_url = reader.get(top, "", "site_url", str, "http://localhost:8000/", _http_url)
    websub_hub = reader.get(top, "", "websub_hub", str, None, _http_url)
    warc = reader.get(top, "", "warc", bool, False)
    output_dir = folder / reader.get(top, "", "output_dir", str, "output")
    state_dir = folder / reader.get(top, "", "state_dir", str, "state")
    if state_dir.resolve().is_relative_to(output_dir.resolve()):
        reader.problem(
            "state_dir",
            f"{state_dir} is inside output_dir {output_dir}",
            "the store must never be published: put state_dir beside output_dir",
        )
    user_agent = _user_agent(reader, top)
    feeds = _feeds(
        reader,
        reader.mapping(top.get("feeds"), "feeds", {"title", "description", "max_items", "language"}),
    )
    sources = _sources(reader, top.get("sources"))
    run_budget = _duration(reader, top, "run_budget", "30m")
    health = _health(reader, reader.mapping(top.get("health"), "health", {"public", "stale_after"}))
    if reader.problems:
        raise ConfigError(str(path), reader.problems)
    return Config(
        path=path,
        site_url=site_url if site_url.endswith("/") else site_url + "/",
        output_dir=output_dir,
        state_dir=state_dir,
        user_agent=user_agent,
        feeds=feeds,
        websub_hub=websub_hub,
        warc=warc,
        sources=tuple(sources),
        run_budget=run_budget,
        health=health,
    )


def _user_agent(reader: _Reader, top: dict[str, Any]) -> str:
    contact = reader.get(top, "", "contact", str, "")
    explicit = reader.get(top, "", "user_agent", str, "")
    if explicit:
        if explicit.lower().startswith(("python-requests", "python-urllib")):
            reader.problem(
                "user_agent",
                "must not be a library's default",
                "name Pānui and your contact, or set contact instead",
            )
        return str(explicit)
    if not contact:
        reader.problem(
            "contact",
            "is required (or user_agent)",
            "an address the site's operators can reach you at, e.g. mailto:you@example.org",
        )
        return ""
    return f"{PRODUCT}/{__version__} (announcement feeds; +{contact})"


def _duration(reader: _Reader, data: dict[str, Any], name: str, default: str) -> float:
    value = reader.get(data, "", name, (str, int, float), default)
    seconds = parse_interval(value)
    if seconds is None:
        reader.problem(name, f"cannot read {value!r} as a duration", "a number with s, m or h, e.g. 30m")
        return parse_interval(default) or 1.0
    return seconds


def _health(reader: _Reader, data: dict[str, Any]) -> HealthSettings:
    return HealthSettings(
        public=reader.get(data, "health", "public", bool, False),
        stale_after=float(reader.get(data, "health", "stale_after", (int, float), 3, _positive)),
    )


def _feeds(reader: _Reader, data: dict[str, Any]) -> FeedSettings:
    return FeedSettings(
        title=reader.get(data, "feeds", "title", str, "Pānui"),
        description=reader.get(
            data,
            "feeds",
            "description",
            str,
            "Official announcements, republished with attribution.",
        ),
        max_items=reader.get(data, "feeds", "max_items", int, 50, _positive),
        language=reader.get(data, "feeds", "language", str, "en-NZ"),
    )


SOURCE_KEYS = {
    "id", "name", "base_url", "timezone", "request_delay", "timeout", "retries", "backoff",
    "max_bytes", "discovery", "extraction", "licence", "attribution", "schedule", "revisit",
    "removal_grace", "alerts", "expect", "fallback",
}  # fmt: skip


def _sources(reader: _Reader, value: Any) -> list[Source]:
    if not isinstance(value, list) or not value:
        reader.problem(
            "sources",
            "must be a non-empty list of sources",
            "see the INZ entry in the shipped sources.yaml",
        )
        return []
    sources: list[Source] = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        key = _join("sources", index)
        data = reader.mapping(item, key, SOURCE_KEYS)
        if not data:
            continue
        source_id = reader.get(data, key, "id", str, check=_slug)
        if source_id in seen:
            reader.problem(
                _join(key, "id"),
                f"duplicate source id {source_id!r}",
                "each source needs its own id",
            )
        seen.add(source_id)
        source = _source(reader, data, key)
        if source is not None:
            sources.append(source)
    return sources


def _source(reader: _Reader, data: dict[str, Any], key: str) -> Source | None:
    number = (int, float)
    get = reader.get
    before = len(reader.problems)
    base_url = get(data, key, "base_url", str, check=_http_url)
    licence = reader.mapping(data.get("licence"), _join(key, "licence"), {"name", "url"})
    source = Source(
        id=get(data, key, "id", str, "", _slug),
        name=get(data, key, "name", str),
        base_url=(base_url or "") if (base_url or "").endswith("/") else f"{base_url}/",
        timezone=get(data, key, "timezone", str, "Pacific/Auckland", _timezone),
        request_delay=float(get(data, key, "request_delay", number, 5, _non_negative)),
        timeout=float(get(data, key, "timeout", number, 30, _positive)),
        retries=int(get(data, key, "retries", int, 3, _non_negative)),
        backoff=float(get(data, key, "backoff", number, 2, _non_negative)),
        max_bytes=int(get(data, key, "max_bytes", int, 5_000_000, _positive)),
        discovery=_discovery(reader, data.get("discovery"), _join(key, "discovery")),
        extraction=_selectors(reader, data.get("extraction"), _join(key, "extraction")),
        licence=Licence(
            name=get(licence, _join(key, "licence"), "name", str) or "",
            url=get(licence, _join(key, "licence"), "url", str, check=_http_url) or "",
        ),
        attribution=get(data, key, "attribution", str) or "",
        schedule=_schedule(reader, data.get("schedule"), _join(key, "schedule")),
        revisit=_revisit(reader, data.get("revisit"), _join(key, "revisit")),
        removal_grace_seconds=_duration_at(reader, data, key, "removal_grace", "1h", allow_zero=True),
        alerts=_alerts(reader, data.get("alerts"), _join(key, "alerts")),
        expect=_expectations(reader, data.get("expect"), _join(key, "expect")),
        fallback=_fallback(reader, data, key),
    )
    return source if len(reader.problems) == before else None


def _discovery(reader: _Reader, value: Any, key: str) -> Discovery:
    data = reader.mapping(value, key, {"listings", "sitemap", "article_paths", "never_fetch"})
    listings: list[Listing] = []
    raw_listings = data.get("listings") or []
    if not isinstance(raw_listings, list):
        reader.problem(_join(key, "listings"), "must be a list of {path, links}")
        raw_listings = []
    for index, item in enumerate(raw_listings):
        item_key = _join(_join(key, "listings"), index)
        entry = reader.mapping(item, item_key, {"path", "links"})
        path = reader.get(entry, item_key, "path", str)
        links = reader.get(entry, item_key, "links", str, check=_selector)
        if path and links:
            listings.append(Listing(path=path, links=links))
    sitemap = reader.get(data, key, "sitemap", str, None)
    pattern = reader.get(data, key, "article_paths", str, ".*", _regex)
    never = reader.get(data, key, "never_fetch", list, [])
    if not listings and not sitemap:
        reader.problem(
            key,
            "needs at least one listing or a sitemap",
            "add discovery.listings or discovery.sitemap",
        )
    return Discovery(
        listings=tuple(listings),
        sitemap=sitemap,
        article_paths=re.compile(pattern if pattern is not None else ".*"),
        never_fetch=tuple(str(item) for item in never),
    )


def _selectors(reader: _Reader, value: Any, key: str) -> Selectors:
    allowed = {
        "page_type",
        "title",
        "published",
        "published_format",
        "news_type",
        "topics",
        "summary",
        "body",
        "body_exclude",
    }
    data = reader.mapping(value, key, allowed)
    if not data:
        reader.problem(key, "is required", "the CSS selectors that find each field on an article page")
    get = reader.get
    page_type = None
    if data.get("page_type") is not None:
        rule_key = _join(key, "page_type")
        rule = reader.mapping(data["page_type"], rule_key, {"selector", "attribute", "accept"})
        page_type = PageTypeRule(
            selector=get(rule, rule_key, "selector", str, "body", _selector),
            attribute=get(rule, rule_key, "attribute", str),
            accept=tuple(get(rule, rule_key, "accept", list) or ()),
        )
    excludes = get(data, key, "body_exclude", list, [])
    for index, selector in enumerate(excludes):
        message = _selector(selector) if isinstance(selector, str) else "must be a CSS selector string"
        if message:
            reader.problem(_join(_join(key, "body_exclude"), index), message)
    return Selectors(
        page_type=page_type,
        title=get(data, key, "title", str, check=_selector),
        published=get(data, key, "published", str, check=_selector),
        published_format=get(data, key, "published_format", str, "%d %B %Y"),
        news_type=get(data, key, "news_type", str, None, _selector),
        topics=get(data, key, "topics", str, None, _selector),
        summary=get(data, key, "summary", str, None, _selector),
        body=get(data, key, "body", str, check=_selector),
        body_exclude=tuple(str(item) for item in excludes),
    )


def _schedule(reader: _Reader, value: Any, key: str) -> Schedule:
    data = reader.mapping(value, key, {"interval", "cron", "jitter"})
    interval = data.get("interval")
    cron = reader.get(data, key, "cron", str, None)
    seconds: float | None = None
    if interval is not None and cron is not None:
        reader.problem(key, "has both interval and cron", "keep one of them")
    if interval is not None:
        seconds = parse_interval(interval)
        if seconds is None:
            reader.problem(
                _join(key, "interval"),
                f"cannot read {interval!r} as an interval",
                "a number with s, m or h, e.g. 15m",
            )
    if cron is not None and len(cron.split()) != 5:
        reader.problem(
            _join(key, "cron"),
            f"{cron!r} is not a 5-field crontab",
            "minute hour day month weekday, e.g. '0 */2 * * *'",
        )
    if interval is None and cron is None:
        seconds = 900.0
    jitter = reader.get(data, key, "jitter", (int, float), 120, _non_negative)
    return Schedule(interval_seconds=seconds, cron=cron, jitter_seconds=float(jitter))


def _duration_at(
    reader: _Reader, data: dict[str, Any], key: str, name: str, default: str, *, allow_zero: bool = False
) -> float:
    value = data.get(name, default)
    if value is None:
        value = default
    if allow_zero and value in (0, "0", "0s"):
        return 0.0
    seconds = parse_interval(value) if isinstance(value, str | int | float) else None
    if seconds is None:
        reader.problem(_join(key, name), f"cannot read {value!r} as a duration", "a number with s, m, h or d, e.g. 30d")
        return 0.0
    return seconds


def _revisit(reader: _Reader, value: Any, key: str) -> tuple[RevisitRule, ...]:
    """A list of {younger_than, every} rules, checked in order; the last should have no younger_than."""
    if value is None:
        return DEFAULT_REVISIT
    if not isinstance(value, list) or not value:
        reader.problem(
            key,
            "must be a non-empty list of {younger_than, every}",
            "e.g. [{younger_than: 30d, every: 1d}, {every: 30d}]",
        )
        return DEFAULT_REVISIT
    rules: list[RevisitRule] = []
    for index, item in enumerate(value):
        item_key = _join(key, index)
        data = reader.mapping(item, item_key, {"younger_than", "every"})
        if "every" not in data:
            reader.problem(_join(item_key, "every"), "is required", "how often to re-check, e.g. 1d")
            continue
        younger = (
            _duration_at(reader, data, item_key, "younger_than", "0s", allow_zero=True)
            if "younger_than" in data
            else None
        )
        rules.append(
            RevisitRule(
                younger_than_seconds=younger,
                every_seconds=_duration_at(reader, data, item_key, "every", "1d", allow_zero=True),
            )
        )
    return tuple(rules) or DEFAULT_REVISIT


def _alerts(reader: _Reader, value: Any, key: str) -> AlertSelectors | None:
    if value is None:
        return None
    data = reader.mapping(value, key, {"path", "container", "title", "issued", "issued_format", "text"})
    get = reader.get
    return AlertSelectors(
        path=get(data, key, "path", str, "/"),
        container=get(data, key, "container", str, check=_selector) or "",
        title=get(data, key, "title", str, check=_selector) or "",
        issued=get(data, key, "issued", str, check=_selector) or "",
        issued_format=get(data, key, "issued_format", str, "%A %d %b %Y, %I:%M %p"),
        text=get(data, key, "text", str, check=_selector) or "",
    )


def _expectations(reader: _Reader, value: Any, key: str) -> Expectations:
    data = reader.mapping(value, key, {"min_words", "max_future_days", "min_links"})
    defaults = Expectations()
    return Expectations(
        min_words=reader.get(data, key, "min_words", int, defaults.min_words, _non_negative),
        max_future_days=float(
            reader.get(data, key, "max_future_days", (int, float), defaults.max_future_days, _non_negative)
        ),
        min_links=reader.get(data, key, "min_links", int, defaults.min_links, _non_negative),
    )


def _fallback(reader: _Reader, data: dict[str, Any], key: str) -> bool:
    value = reader.get(data, key, "fallback", str, "trafilatura")
    if value not in ("trafilatura", "none"):
        reader.problem(_join(key, "fallback"), f"must be 'trafilatura' or 'none', not {value!r}")
    return bool(value == "trafilatura")
