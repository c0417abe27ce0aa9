"""`subscriptions`, `digest_at` and `notify_give_up_after` in sources.yaml -> NotifySettings.

A target URL is a secret (a chat token, a mail password): no message here quotes one. `${NAME}` in it is
read from the environment, so the file itself need hold none. Whether Apprise can read each URL is
checked at start-up by pipeline.notify (the one package that imports Apprise)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pipeline.config.reader import Reader, between, check_slug, join_key, one_of, value_problem
from pipeline.subscriptions import DEFAULT_EVENTS, DIGESTS, EVENT_KINDS, NotifySettings, Subscription, Target

SUBSCRIPTION_KEYS = {"id", "match", "events", "to", "digest", "remind_days", "publish"}
MATCH_KEYS = {"sources", "topics", "types", "words"}
VARIABLE = re.compile(r"\$\{([^}]*)\}")
ENVIRONMENT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
MAX_SUBSCRIPTIONS = 200
MAX_TARGETS = 20


def parse_notify(
    reader: Reader, top: dict[str, Any], source_ids: set[str], environment: Mapping[str, str]
) -> NotifySettings:
    written = top.get("digest_at")
    if type(written) is int:  # YAML 1.1 reads an unquoted 12:30 as 750, minutes counted in base 60
        hours, minutes = divmod(written, 60)
        quoted = f"'{hours:02d}:{minutes:02d}'" if 60 <= written < 24 * 60 else "'08:00'"  # (8 or 800: not H:MM)
        reader.problem("digest_at", f"must be a time of day as text, not the number {written}", f"quote it: {quoted}")
        digest_at = "08:00"
    else:
        digest_at = reader.get(top, "", "digest_at", str, "08:00")
    clock = CLOCK.match(str(digest_at))
    if clock is None:
        reader.problem("digest_at", f"must be a time of day as HH:MM (NZ time), not {digest_at!r}", "e.g. 08:00")
    give_up = reader.duration(top, "", "notify_give_up_after", "3d")
    subscriptions: list[Subscription] = []
    entries = reader.get(top, "", "subscriptions", list, [])
    if len(entries) > MAX_SUBSCRIPTIONS:
        reader.problem("subscriptions", f"more than {MAX_SUBSCRIPTIONS}", "merge subscriptions that share targets")
        entries = []
    for index, entry in enumerate(entries):
        subscription = _subscription(reader, entry, f"subscriptions[{index}]", source_ids, environment)
        if subscription is None:
            continue
        if any(known.id == subscription.id for known in subscriptions):
            reader.problem(join_key(f"subscriptions[{index}]", "id"), f"{subscription.id!r} is used twice")
        subscriptions.append(subscription)
    return NotifySettings(
        subscriptions=tuple(subscriptions),
        digest_at=(int(clock[1]), int(clock[2])) if clock else (8, 0),
        give_up_after=give_up,
    )


def _subscription(
    reader: Reader, entry: Any, key: str, source_ids: set[str], environment: Mapping[str, str]
) -> Subscription | None:
    data = reader.mapping(entry, key, SUBSCRIPTION_KEYS)
    if not data:
        reader.problem(key, "must be a mapping with id, match and to")
        return None
    identifier = reader.get(data, key, "id", str, check=check_slug)
    if identifier is None:
        return None
    key = f"subscriptions.{identifier}"  # messages name the subscription from here on
    path = join_key(key, "match")
    match = reader.mapping(data.get("match"), path, MATCH_KEYS)
    sources = reader.strings(match, path, "sources")
    for index, source in enumerate(sources):
        if source not in source_ids:
            reader.problem(
                join_key(join_key(path, "sources"), index),
                f"no source has the id {source!r}",
                f"sources: {', '.join(sorted(source_ids))}",
            )
    events = reader.strings(data, key, "events") or DEFAULT_EVENTS
    for event in events:
        if event not in EVENT_KINDS:
            reader.problem(join_key(key, "events"), f"{event!r} is not an event", f"events: {', '.join(EVENT_KINDS)}")
    digest = reader.get(data, key, "digest", str, "none", one_of(*DIGESTS))
    return Subscription(
        id=identifier,
        sources=sources,
        topics=reader.strings(match, path, "topics", _not_blank),
        types=reader.strings(match, path, "types", _not_blank),
        words=reader.strings(match, path, "words", _not_blank),
        events=tuple(dict.fromkeys(events)),
        targets=_targets(reader, data, key, environment),
        digest=digest,
        remind_days=int(reader.get(data, key, "remind_days", int, 7, between(0, 90))),
        publish=bool(reader.get(data, key, "publish", bool, True)),
    )


def _targets(reader: Reader, data: dict[str, Any], key: str, environment: Mapping[str, str]) -> tuple[Target, ...]:
    """Each `to` URL with its ${NAME}s filled in. A problem names the subscription and the target's place,
    never the URL (it may hold a secret)."""
    path = join_key(key, "to")
    urls = data.get("to")
    if isinstance(urls, str):  # (the URL itself is not shown: it may hold a secret)
        reader.problem(path, "must be a list of Apprise URLs, not one text", 'write it as a list: to: ["json://…"]')
        return ()
    if not isinstance(urls, list) or not urls:
        reader.problem(path, "is required: a list of Apprise URLs", "e.g. mailto://… or json://…; see Apprise's wiki")
        return ()
    if len(urls) > MAX_TARGETS:
        reader.problem(path, f"lists more than {MAX_TARGETS} targets")
        return ()
    targets = []
    for number, url in enumerate(urls, start=1):
        place = f"{path}[{number - 1}]"
        if not isinstance(url, str) or value_problem(url) or not url.strip():
            reader.problem(place, "must be an Apprise URL (one line of text)")
            continue
        bad = [name for name in VARIABLE.findall(url) if not ENVIRONMENT_NAME.match(name)]
        missing = [name for name in VARIABLE.findall(url) if not environment.get(name)]
        names = ", ".join(f"${{{name}}}" for name in bad or missing)
        if bad:
            reader.problem(place, f"{names} is not a variable name", "a name of letters, digits and _")
        elif missing:
            hint = "export it in Pānui's environment (e.g. the service's EnvironmentFile)"
            reader.problem(place, f"{names} is not set in the environment", hint)
        else:
            targets.append(Target(VARIABLE.sub(lambda found: environment[found[1]], url).strip(), number))
    return tuple(targets)


def _not_blank(value: str) -> str | None:
    return "must not be empty" if not value.strip() else None
