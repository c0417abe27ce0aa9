"""A Drupal-like ministerial site on 127.0.0.1, written for the tests of feed-based sources: release pages
at /release/<slug> with the markup and metadata a Drupal 10 site gives them (Open Graph, `article:` tags,
JSON-LD, `<time>`), navigation and footer around the text, an RSS 2.0 feed at /releases/feed and a
malformed one at /releases/broken-feed. It runs on the INZ fixture site's server (tests/fixture_site.py:
ETag and Last-Modified, 304s, a record of every request), with its own robots.txt and routes.

The three releases say different amounts about themselves, as real pages do: the first has every meta
tag, the second only JSON-LD, the third nothing but its title, so its date and categories must come from
its feed item."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from html import escape

from tests.fixture_site import FixtureSite, Route

FEED_PATH = "/releases/feed"
BROKEN_FEED_PATH = "/releases/broken-feed"
RSS = "application/rss+xml; charset=utf-8"
ROBOTS = "User-agent: *\nDisallow: /admin/\nDisallow: /search/\n"


@dataclass(frozen=True)
class Release:
    slug: str
    title: str
    published: datetime  # aware
    summary: str
    paragraphs: tuple[str, ...]
    portfolio: str
    metadata: str  # "full" (meta tags and JSON-LD), "json-ld" (only JSON-LD), "none" (neither, nor <time>)

    @property
    def path(self) -> str:
        return f"/release/{self.slug}"


RELEASES = (  # newest first
    Release(
        slug="changes-to-seasonal-work-visas",
        title="Changes to seasonal work visas announced",
        published=datetime.fromisoformat("2026-07-08T14:30:00+12:00"),
        summary="The Government is changing seasonal work visas to help growers plan ahead.",
        paragraphs=(
            "Immigration Minister Erica Stanford today announced changes to seasonal work visas, giving "
            "growers and workers more certainty ahead of the next harvest.",
            "From 1 October, a seasonal work visa will be valid for up to three years, with multiple entries, "
            "so that workers who return each season no longer need to apply again every year.",
            "Employers will still need to be accredited and to pay at least the median wage.",
        ),
        portfolio="Immigration",
        metadata="full",
    ),
    Release(
        slug="visitor-visa-fees-held",
        title="Visitor visa fees held for another year",
        published=datetime.fromisoformat("2026-04-15T09:00:00+12:00"),
        summary="Visitor visa fees will not rise this year.",
        paragraphs=(
            "The Government will hold visitor visa application fees at their current level until June next "
            "year, the Minister of Immigration said today.",
            "Tourism operators had asked for certainty ahead of the summer season.",
        ),
        portfolio="Tourism",
        metadata="json-ld",
    ),
    Release(
        slug="new-pathway-for-skilled-migrants",
        title="New pathway for skilled migrants opens",
        published=datetime.fromisoformat("2026-02-20T11:15:00+13:00"),
        summary="A faster residence pathway for skilled migrants opens today.",
        paragraphs=(
            "A new residence pathway for skilled migrants opens today, with decisions expected within six "
            "weeks for most applicants.",
            "Applicants must hold a job offer from an accredited employer.",
        ),
        portfolio="Immigration",
        metadata="none",
    ),
)


def release_page(base_url: str, release: Release) -> str:
    url = base_url.rstrip("/") + release.path
    title, summary = escape(release.title), escape(release.summary)
    head = [f'<link rel="canonical" href="{url}" />', '<meta property="og:site_name" content="Beehive.govt.nz" />']
    if release.metadata == "full":
        head += [
            f'<meta name="description" content="{summary}" />',
            f'<meta property="og:title" content="{title}" />',
            f'<meta property="og:description" content="{summary}" />',
            f'<meta property="og:url" content="{url}" />',
            f'<meta property="article:published_time" content="{release.published.isoformat()}" />',
            f'<meta property="article:tag" content="{escape(release.portfolio)}" />',
        ]
    if release.metadata in ("full", "json-ld"):
        graph = {
            "@context": "https://schema.org",
            "@graph": [
                {"@type": "Organization", "name": "New Zealand Government", "url": base_url},
                {
                    "@type": "NewsArticle",
                    "headline": release.title,
                    "description": release.summary,
                    "datePublished": release.published.isoformat(),
                    "keywords": [release.portfolio],
                },
            ],
        }
        head.append(f'<script type="application/ld+json">{json.dumps(graph)}</script>')
    when = (
        f'<time datetime="{release.published.isoformat()}">{release.published:%d %B %Y}</time>'
        if release.metadata != "none"
        else ""
    )
    body = "\n".join(f"<p>{escape(text)}</p>" for text in release.paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en" dir="ltr" prefix="og: https://ogp.me/ns#">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1.0" />
<title>{title} | Beehive.govt.nz</title>
{chr(10).join(head)}
<link rel="stylesheet" media="all" href="/themes/custom/beehive/css/style.css" />
<script src="/core/misc/drupal.js"></script>
</head>
<body class="path-node page-node-type-release">
<a href="#main-content" class="visually-hidden focusable skip-link">Skip to main content</a>
<div class="dialog-off-canvas-main-canvas" data-off-canvas-main-canvas>
<header role="banner" class="site-header">
  <a href="/" rel="home" class="site-logo">Beehive.govt.nz</a>
  <nav role="navigation" aria-labelledby="block-mainnavigation-menu">
    <ul class="menu"><li><a href="/releases">Releases</a></li><li><a href="/speeches">Speeches</a></li>
    <li><a href="/ministers">Ministers</a></li><li><a href="/portfolios">Portfolios</a></li></ul>
  </nav>
</header>
<main role="main">
  <a id="main-content" tabindex="-1"></a>
  <div class="region region-content">
    <article role="article" class="node node--type-release node--view-mode-full">
      <h1 class="page-title"><span class="field field--name-title">{title}</span></h1>
      <div class="release__meta">
        <div class="field field--name-field-ministers"><a href="/minister/hon-erica-stanford">Hon Erica Stanford</a></div>
        {when}
        <div class="field field--name-field-portfolios"><a href="/portfolio/nat-2023/{escape(release.portfolio.lower())}">{escape(release.portfolio)}</a></div>
      </div>
      <div class="clearfix text-formatted field field--name-body field--type-text-with-summary field--label-hidden field__item">
{body}
      </div>
    </article>
  </div>
</main>
<footer role="contentinfo" class="site-footer">
  <ul class="menu"><li><a href="/about">About this site</a></li><li><a href="/copyright">Copyright</a></li>
  <li><a href="/privacy">Privacy</a></li></ul>
  <p>Content is licensed under a Creative Commons Attribution 4.0 International licence.</p>
</footer>
</div>
</body>
</html>
"""


def releases_feed(base_url: str, releases: tuple[Release, ...] = RELEASES) -> bytes:
    """The site's RSS 2.0 feed, as Drupal's views_rss writes it: relative to nothing, one category per
    portfolio, the summary as escaped HTML."""
    root = base_url.rstrip("/")
    items = "".join(
        f"""  <item>
    <title>{escape(release.title)}</title>
    <link>{root}{release.path}</link>
    <description>{escape(f"<p>{escape(release.summary)}</p>")}</description>
    <pubDate>{format_datetime(release.published)}</pubDate>
    <dc:creator>Hon Erica Stanford</dc:creator>
    <category domain="{root}/portfolio/{escape(release.portfolio.lower())}">{escape(release.portfolio)}</category>
    <guid isPermaLink="false">{release.slug}</guid>
  </item>
"""
        for release in releases
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xml:base="{root}/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
  <title>Releases</title>
  <link>{root}/releases</link>
  <description>Latest releases from the New Zealand Government</description>
  <language>en</language>
  <atom:link href="{root}{FEED_PATH}" rel="self" type="application/rss+xml" />
{items}</channel>
</rss>
""".encode()


# A feed cut off mid-item with a stray "&", as a failed cache write leaves it: no item comes out whole.
BROKEN_FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Releases</title>
<item><title>Half a release & more"""


def ministry_site(max_lifetime: float = 300) -> FixtureSite:
    """A started fixture server serving the ministerial site's routes."""
    site = FixtureSite(max_lifetime=max_lifetime)
    site.set("/robots.txt", Route(body=ROBOTS.encode(), headers={"Content-Type": "text/plain; charset=utf-8"}))
    for release in RELEASES:
        site.set_article(release.path, release_page(site.base_url, release))
    site.set(FEED_PATH, Route(body=releases_feed(site.base_url), headers={"Content-Type": RSS}))
    site.set(BROKEN_FEED_PATH, Route(body=BROKEN_FEED, headers={"Content-Type": RSS}))
    return site.start()
