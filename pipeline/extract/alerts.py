"""Page + Source -> [Alert]: a source's site-wide urgent notices (INZ's home page banner). Pure."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from pipeline.bounds import MAX_TITLE_CHARS, date_problem, shorten
from pipeline.dom import html_text, make_links_absolute, parse_html, select, select_one
from pipeline.errors import ExtractError
from pipeline.extract.sanitise import clean_text, sanitise_html
from pipeline.model import Alert, Page, Source

# "Issued: Monday 02 Mar 2026, 07:10 pm NZDT": the label and the zone abbreviation are dropped; the
# time is read in the source's zone, which knows whether NZDT or NZST applied on that day.
LABEL = re.compile(r"^\s*issued\s*:?\s*", re.IGNORECASE)
ZONE_ABBREVIATION = re.compile(r"\s+[A-Z]{2,5}\s*$")
SELECTORS_HINT = "check alerts selectors"


def parse_issued(text: str, format_: str, timezone: str) -> datetime:
    """The issued time in `timezone`. In the hour repeated when daylight saving ends, the abbreviation
    (NZDT or NZST) says which of the two it was."""
    unlabelled = LABEL.sub("", " ".join(text.split()))
    abbreviation = ZONE_ABBREVIATION.search(unlabelled)
    cleaned = ZONE_ABBREVIATION.sub("", unlabelled)
    try:
        local = datetime.strptime(cleaned, format_)  # strptime matches names and am/pm in any case
    except ValueError:
        raise ExtractError(
            f"alert issued time {cleaned!r} does not match {format_!r}", "set alerts.issued_format"
        ) from None
    candidates = [local.replace(tzinfo=ZoneInfo(timezone), fold=fold) for fold in (0, 1)]
    named = abbreviation.group().strip() if abbreviation is not None else None
    return next((candidate for candidate in candidates if candidate.tzname() == named), candidates[0])


def extract_alerts(page: Page, source: Source) -> list[Alert]:
    """Every alert on the page (usually none or one). An alert without a title or a readable issued
    time raises ExtractError naming the selector."""
    rules = source.alerts
    if rules is None:
        return []
    soup = parse_html(page)
    alerts: list[Alert] = []
    for container in select(rules.container, soup):
        title_element = select_one(rules.title, container)
        issued_element = select_one(rules.issued, container)
        title = clean_text(html_text(title_element)) if title_element is not None else ""
        if not title:
            raise ExtractError(f"alerts.title selector {rules.title!r} matched nothing in an alert", SELECTORS_HINT)
        if issued_element is None:
            raise ExtractError(f"alerts.issued selector {rules.issued!r} matched nothing in an alert", SELECTORS_HINT)
        issued = parse_issued(html_text(issued_element), rules.issued_format, source.timezone)
        if (problem := date_problem(issued.date(), page.fetched_at)) is not None:
            raise ExtractError(f"alert issued time {problem}", "check alerts.issued and alerts.issued_format")
        title = shorten(title, MAX_TITLE_CHARS)  # bounded as an article's title is (pipeline/bounds.py)
        text_html = ""
        if (text_element := select_one(rules.text, container)) is not None:
            make_links_absolute(text_element, page.final_url)
            text_html = sanitise_html(text_element.decode_contents())
        # The text is part of the identity: an alert edited in place is news, and becomes a new item.
        text = " ".join(html_text(text_html).split())
        digest = hashlib.sha256(f"{source.id}\x1f{title}\x1f{issued.isoformat()}\x1f{text}".encode()).hexdigest()[:16]
        alerts.append(
            Alert(id=digest, source_id=source.id, title=title, issued=issued, text_html=text_html, page_url=page.url)
        )
    return alerts
