"""The subscription lists (OPML 2.0) of the archive."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from xml.sax.saxutils import escape, quoteattr


@dataclass(frozen=True)
class FeedOutline:
    title: str
    rss_url: str
    html_url: str
    group: str  # the outline it is listed under ("" for the top level)


def render_opml(path: str, title: str, feeds: Sequence[FeedOutline]) -> dict[str, bytes]:
    """One outline per feed, grouped by source. A group's outline has a text and nothing else: an outline
    with more must say its type (the W3C validator warns), and a group is not a feed."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        f"  <head><title>{escape(title)}</title></head>",
        "  <body>",
    ]
    for group, members in groupby(feeds, key=lambda feed: feed.group):
        indent = "      " if group else "    "
        lines += [f"    <outline text={quoteattr(group)}>"] if group else []
        lines += [
            f'{indent}<outline type="rss" text={quoteattr(feed.title)} title={quoteattr(feed.title)} '
            f"xmlUrl={quoteattr(feed.rss_url)} htmlUrl={quoteattr(feed.html_url)}/>"
            for feed in members
        ]
        lines += ["    </outline>"] if group else []
    lines += ["  </body>", "</opml>", ""]
    return {path: "\n".join(lines).encode("utf-8")}
