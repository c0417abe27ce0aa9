"""Page -> [Link]: the article links of a source's listing pages, sitemaps and feeds. Pure: the pages
come in as bytes, the links go out; nothing is fetched here."""

from pipeline.discover.links import FeedContent, article_url, find_listing_links, read_feed
from pipeline.discover.plain_sitemap import MAX_SITEMAP_ENTRIES
from pipeline.discover.sitemap import (
    MAX_SITEMAP_BYTES,
    SLOTS,
    SitemapContent,
    SitemapEntry,
    SitemapRead,
    parse_lastmod,
    read_sitemap,
    sitemap_entries,
)

__all__ = [
    "MAX_SITEMAP_BYTES",
    "MAX_SITEMAP_ENTRIES",
    "SLOTS",
    "FeedContent",
    "SitemapContent",
    "SitemapEntry",
    "SitemapRead",
    "article_url",
    "find_listing_links",
    "parse_lastmod",
    "read_feed",
    "read_sitemap",
    "sitemap_entries",
]
