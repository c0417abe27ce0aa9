"""Events -> messages people can act on: the subject is the article's title ("Updated:" or "Withdrawn:"
before it when so), then its summary, the changed passage of a revision, links to the archived copy and
to the original, and the source's attribution and licence. Each message has three forms: HTML and plain
text (email, with the text as its alternative) and a short text for chat, which ends with a one-line
credit (the source's name, the original's address, the licence): the source's licence asks for
attribution wherever its text is republished. A digest is one line per article and kind of event (its
latest state, and how many revisions), grouped by kind, and ends with the credit of each source."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from html import escape

from pipeline.model import Config, Source

DIGEST_LINES = 200  # lines (articles) listed in one digest; more are counted, and are in the feeds
ARTICLE_KINDS = {"new", "revised", "withdrawn"}  # told once per article in a digest
SHORT_CHARACTERS = 500  # a chat message: a passage or summary cut to fit, the links and the credit
KINDS = {  # each kind of event: what its message's subject starts with, and its heading in a digest
    "new": ("", "New"),
    "revised": ("Updated: ", "Updated"),
    "withdrawn": ("Withdrawn: ", "Withdrawn"),
    "alert": ("Alert: ", "Alerts"),
    "upcoming": ("Coming up: ", "Coming up"),
}


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str
    short: str
    link: str  # the archived copy (an alert: the archive's front page)
    original: str = ""  # the source's page (a message queued before this field was added: "")
    credit: str = ""  # the source's name and licence, for a digest's last lines

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @staticmethod
    def from_json(text: str) -> Message:
        return Message(**json.loads(text))


@dataclass(frozen=True)
class EventText:
    """What a message says of one event."""

    kind: str
    title: str
    summary: str
    passage: str | None  # a revision's changed passage
    archive_url: str
    original_url: str


def event_message(event: EventText, source: Source) -> Message:
    subject = KINDS[event.kind][0] + event.title
    paragraphs: list[tuple[str, str]] = [(event.summary, escape(event.summary))] if event.summary else []
    if event.passage:
        paragraphs.append((f"What changed: {event.passage}", f"<strong>What changed:</strong> {escape(event.passage)}"))
    if event.kind == "withdrawn":
        note = f"{source.name} no longer publishes this; the archived copy stays readable."
        paragraphs.append((note, escape(note)))
    links = [("Archived copy", event.archive_url), ("Original", event.original_url)]
    paragraphs += [
        (
            "\n".join(f"{name}: {url}" for name, url in links),
            "<br>".join(f'{name}: <a href="{escape(url)}">{escape(url)}</a>' for name, url in links),
        ),
        (
            f"{source.attribution} Licence: {source.licence.name} ({source.licence.url})",
            f'{escape(source.attribution)} Licence: <a href="{escape(source.licence.url)}">{escape(source.licence.name)}</a>',
        ),
    ]
    text = "\n\n".join(plain for plain, _ in paragraphs)
    html = f"<h1>{escape(subject)}</h1>\n" + "\n".join(f"<p>{markup}</p>" for _, markup in paragraphs)
    credit = f"{source.name}, licence {source.licence.name} {source.licence.url}"
    tail = f"{event.archive_url}\nFrom {credit}\nOriginal: {event.original_url}"
    gist = _cut(event.passage or event.summary, SHORT_CHARACTERS - len(tail) - 1)  # (the subject is the title)
    short = "\n".join(part for part in (gist, tail) if part)
    return Message(subject, text, html, short, event.archive_url, event.original_url, credit)


def digest_message(config: Config, period: str, subscription_id: str, items: Sequence[tuple[str, str]]) -> str | None:
    """One message of a subscription's waiting events, grouped by kind: one line per article and kind
    (its latest state; a revised one says how many revisions), so the counts are of articles."""
    if not items:
        return None
    grouped: dict[str, dict[tuple[str, int], list[Message]]] = {kind: {} for kind in KINDS}
    for position, (kind, json_text) in enumerate(items):
        message = Message.from_json(json_text)
        # An article's events of one kind are one line; each alert and each reminder is its own (two alerts
        # may share a title and a link, two dates of one article a subject).
        key = (message.link, -1 if kind in ARTICLE_KINDS else position)
        grouped.setdefault(kind, {}).setdefault(key, []).append(message)
    counts = ", ".join(f"{len(found)} {KINDS[kind][1].lower()}" for kind, found in grouped.items() if found)
    subject = f"{config.feeds.title} {period} digest ({subscription_id}): {counts}"
    text, html, listed = [subject], [f"<h1>{escape(subject)}</h1>"], 0
    for kind, found in grouped.items():
        shown = list(found.values())[: max(DIGEST_LINES - listed, 0)]
        listed += len(shown)
        if not shown:
            continue
        prefix, heading = KINDS[kind]
        text += ["", f"{heading}:"]
        html.append(f"<h2>{heading}</h2>\n<ul>")
        for events in shown:
            latest = events[-1]
            title = latest.subject.removeprefix(prefix)
            times = f" ({len(events)} revisions)" if kind == "revised" and len(events) > 1 else ""
            original = f" (original: {latest.original})" if latest.original else ""
            text.append(f"- {title}{times} {latest.link}{original}")
            source = f' (<a href="{escape(latest.original)}">original</a>)' if latest.original else ""
            html.append(f'<li><a href="{escape(latest.link)}">{escape(title)}</a>{times}{source}</li>')
        html.append("</ul>")
    if (lines := sum(len(found) for found in grouped.values())) > DIGEST_LINES:
        more = f"… and {lines - DIGEST_LINES} more: see the feeds and the archive at {config.site_url}"
        text += ["", more]
        html.append(f"<p>{escape(more)}</p>")
    credits = dict.fromkeys(events[-1].credit for found in grouped.values() for events in found.values())
    credit = "\n".join(f"From {item}" for item in credits if item)  # each source's text is attributed
    body = "\n".join(text)
    short = "\n\n".join(part for part in (_cut(body, SHORT_CHARACTERS * 4 - len(credit) - 2), credit) if part)
    html += [f"<p>{escape(line)}</p>" for line in credit.splitlines()]
    body = "\n\n".join(part for part in (body, credit) if part)
    return Message(subject, body, "\n".join(html), short, config.site_url).to_json()


def _cut(text: str, room: int) -> str:
    return text if len(text) <= room else text[: max(room - 1, 0)] + "…"


def trial_message(config: Config, subscription_id: str) -> Message:
    subject = f"{config.feeds.title}: test message for the subscription {subscription_id}"
    text = f"This is a test from Pānui. The subscription {subscription_id} will send its messages here."
    return Message(subject, text, f"<p>{escape(text)}</p>", text, config.site_url)
