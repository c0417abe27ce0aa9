"""Events -> messages people can act on: the subject is the article's title ("Updated:" or "Withdrawn:"
before it when so), then its summary, the changed passage of a revision, links to the archived copy and
to the original, and the source's attribution and licence. Each message has three forms: HTML and plain
text (email, with the text as its alternative) and a short text for chat. A digest is one line per event,
grouped by kind."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from html import escape

from pipeline.model import Config, Source

DIGEST_LINES = 200  # events listed in one digest; more are counted, and are in the feeds
SHORT_CHARACTERS = 500  # a chat message: the subject, a passage or summary cut to fit, the link
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
    gist = event.passage or event.summary
    room = SHORT_CHARACTERS - len(event.archive_url) - 1  # (a chat service shows the subject as the title)
    if len(gist) > room:
        gist = gist[: max(room - 1, 0)] + "…"
    short = "\n".join(part for part in (gist, event.archive_url) if part)
    return Message(subject, text, html, short, event.archive_url)


def digest_message(config: Config, period: str, subscription_id: str, items: Sequence[tuple[str, str]]) -> str | None:
    """One message of a subscription's waiting events, one line each, grouped by kind."""
    if not items:
        return None
    grouped: dict[str, list[Message]] = {kind: [] for kind in KINDS}
    for kind, message in items[:DIGEST_LINES]:
        grouped.setdefault(kind, []).append(Message.from_json(message))
    counts = ", ".join(f"{len(found)} {KINDS[kind][1].lower()}" for kind, found in grouped.items() if found)
    subject = f"{config.feeds.title} {period} digest ({subscription_id}): {counts}"
    text, html = [subject], [f"<h1>{escape(subject)}</h1>"]
    for kind, found in grouped.items():
        if not found:
            continue
        prefix, heading = KINDS[kind]
        text += ["", f"{heading}:"]
        html.append(f"<h2>{heading}</h2>\n<ul>")
        for item in found:
            title = item.subject.removeprefix(prefix)
            text.append(f"- {title} {item.link}")
            html.append(f'<li><a href="{escape(item.link)}">{escape(title)}</a></li>')
        html.append("</ul>")
    if len(items) > DIGEST_LINES:
        more = f"… and {len(items) - DIGEST_LINES} more: see the feeds and the archive at {config.site_url}"
        text += ["", more]
        html.append(f"<p>{escape(more)}</p>")
    body = "\n".join(text)
    short = body if len(body) <= SHORT_CHARACTERS * 4 else body[: SHORT_CHARACTERS * 4 - 1] + "…"
    return Message(subject, body, "\n".join(html), short, config.site_url).to_json()


def trial_message(config: Config, subscription_id: str) -> Message:
    subject = f"{config.feeds.title}: test message for the subscription {subscription_id}"
    text = f"This is a test from Pānui. The subscription {subscription_id} will send its messages here."
    return Message(subject, text, f"<p>{escape(text)}</p>", text, config.site_url)
