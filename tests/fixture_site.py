"""A local HTTP server standing in for immigration.govt.nz in tests (stdlib only).

It serves the real captures in ``pipeline/demo/captures`` at their real paths, a robots.txt, a
Silverstripe-style sitemap, a same-host redirect and a few fault routes; tests can add or replace
routes, publish derived articles and inspect every request the pipeline made.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import formatdate, parsedate_to_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, urlunsplit

from pipeline.demo.replay import CAPTURES as CAPTURES  # the tests and the demo read the same pages

FIXED_LAST_MODIFIED = "Mon, 13 Jul 2026 00:00:00 GMT"
_FIXED_EPOCH = parsedate_to_datetime(FIXED_LAST_MODIFIED).timestamp()
HTML = "text/html; charset=utf-8"
XML = "application/xml; charset=utf-8"
NEWS = "/about-us/news-centre/"
SITEMAP_URLSET_PATH = "/sitemap.xml/sitemap/SilverStripe-CMS-Model-SiteTree/1"
OLD_PATHWAY_PATH = "/about-us/media-centre/news-notifications/pathway-student-visa-changes"
GONE_PATH = NEWS + "gone-article/"
BROKEN_PATH = NEWS + "broken-article/"
OFFSITE_REDIRECT_PATH = NEWS + "offsite-redirect/"

ARTICLE_CAPTURES: list[str] = [  # newest first
    "article-improvements-to-the-pathway-student-visa.html",
    "article-employer-sentenced-after-demanding-tens-of-thousands-of-dollars-from-migrant-worker.html",
    "article-business-investor-visa-updates-to-unlock-wider-investment-opportunities.html",
    "article-middle-east-advice-for-temporary-visa-holders.html",
]
PAGE_CAPTURES: list[str] = ["news-centre-listing.html", "copyright-page.html"]


def read_capture(name: str) -> str:
    """The text of one capture file (``name`` with or without ``.html``)."""
    if not name.endswith(".html"):
        name += ".html"
    return (CAPTURES / name).read_text(encoding="utf-8")


def capture_path(name: str) -> str:
    """The real site path of a capture, from the URL in its first comment line."""
    m = re.search(r"https://www\.immigration\.govt\.nz(/\S*)", read_capture(name).split("\n")[0])
    if m is None:
        raise ValueError(f"no URL in the first line of {name}")
    return m[1]


def _capture_lastmod(name: str) -> str:
    m = re.search(r'hero__publish-date">\s*(\d\d \w+ \d{4})', read_capture(name))
    return datetime.strptime(m[1], "%d %B %Y").date().isoformat() if m else "2026-07-13"


ARTICLE_PATHS: list[str] = [capture_path(n) for n in ARTICLE_CAPTURES]  # same order
PATHWAY_PATH = ARTICLE_PATHS[0]
LASTMOD: dict[str, str] = {"/": "2026-07-13", OLD_PATHWAY_PATH: "2026-07-09"}
LASTMOD |= {capture_path(n): _capture_lastmod(n) for n in ARTICLE_CAPTURES + PAGE_CAPTURES}
DEFAULT_SITEMAP_PATHS: list[str] = [
    "/",
    *(capture_path(n) for n in PAGE_CAPTURES),
    *ARTICLE_PATHS,
    OLD_PATHWAY_PATH,
]

ROBOTS = """User-agent: *
Disallow: /_search/
Disallow: /admin
Disallow: /Security/
Disallow: /_visa-search/
Disallow: /_list-collection-search/

Sitemap: {base_url}sitemap.xml
"""
_LIST_START = '<ul class="news-announcements-block__list">'


def _inner(pattern: str, inner: str, text: str) -> str:
    """Replace group 2 of the first match of a 3-group ``pattern`` with literal ``inner``."""
    new, count = re.subn(pattern, lambda m: m[1] + inner + m[3], text, count=1, flags=re.S)
    if count != 1:
        raise ValueError(f"fixture_site: pattern not found: {pattern}")
    return new


def _strip_leading_comments(text: str) -> str:
    return re.sub(r"^\s*(<!--.*?-->\s*)+", "", text, flags=re.S)


def _tile(template: str, path: str, title: str, date: str) -> str:
    """One home-block tile in the capture's markup (the summary repeats the title)."""
    tile = _inner(r'(href=")([^"]*)(")', escape(path), template)
    for cls, value in (("tile__date", date), ("tile__title", title), ("tile__summary", title)):
        tile = _inner(rf'(class="{cls}">\s*)(.*?)(\s*</)', escape(value), tile)
    return tile


def home_page(links: list[tuple[str, str, str]] | None = None) -> bytes:
    """The home page; ``links`` (path, title, "9 Jul 2026") replaces the 3 captured tiles."""
    block = _strip_leading_comments(read_capture("homepage-latest-announcements-block.html"))
    if links is not None:
        start = block.index(_LIST_START) + len(_LIST_START)
        end = block.rindex("</ul>")
        m = re.search(
            r'\s*<li class="news-announcements-block__list-item">.*?</li>\s*</ul>'
            r"\s*</a>\s*</li>",
            block,
            flags=re.S,
        )
        assert m is not None
        tiles = "".join(_tile(m[0], path, title, date) for path, title, date in links)
        block = block[:start] + tiles + "\n            " + block[end:]
    page = (
        '<!doctype html><html lang="en-NZ"><head><meta charset="utf-8">'
        "<title>Home :: Immigration New Zealand</title></head>"
        '<body data-pagetype="HomePage"><main id="main">\n' + block + "\n</main></body></html>\n"
    )
    return page.encode("utf-8")


def sitemap_urlset(base_url: str, paths: list[tuple[str, str]]) -> bytes:
    """A sitemaps.org urlset of absolute ``base_url`` locs from (path, lastmod) pairs."""
    root = base_url.rstrip("/")
    urls = "".join(f"<url><loc>{escape(root + p)}</loc><lastmod>{escape(lm)}</lastmod></url>\n" for p, lm in paths)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + urls + "</urlset>\n"
    ).encode("utf-8")


def sitemap_index(base_url: str) -> bytes:
    loc = base_url.rstrip("/") + SITEMAP_URLSET_PATH
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"<sitemap><loc>{escape(loc)}</loc><lastmod>2026-07-13</lastmod></sitemap>\n"
        "</sitemapindex>\n"
    ).encode()


def _html_route(body: str | bytes, status: int = 200) -> Route:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return Route(status=status, body=data, headers={"Content-Type": HTML})


def _error_page(status: int, message: str) -> bytes:
    return f"<!doctype html><html><body><h1>{status} {message}</h1></body></html>\n".encode()


def default_routes(base_url: str) -> dict[str, Route]:
    """Every route the fixture site serves before a test changes anything."""
    routes: dict[str, Route] = {
        "/robots.txt": Route(
            body=ROBOTS.format(base_url=base_url).encode(),
            headers={"Content-Type": "text/plain; charset=utf-8"},
        ),
        "/": _html_route(home_page()),
        "/sitemap.xml": Route(body=sitemap_index(base_url), headers={"Content-Type": XML}),
        SITEMAP_URLSET_PATH: Route(
            body=sitemap_urlset(base_url, [(p, LASTMOD[p]) for p in DEFAULT_SITEMAP_PATHS]),
            headers={"Content-Type": XML},
        ),
        OLD_PATHWAY_PATH: Route(status=301, headers={"Location": PATHWAY_PATH}),
        "/_search/api/news": Route(body=b'{"items": []}', headers={"Content-Type": "application/json"}),
        GONE_PATH: _html_route(_error_page(404, "Not Found"), 404),
        BROKEN_PATH: _html_route(_error_page(500, "Internal Server Error"), 500),
        OFFSITE_REDIRECT_PATH: Route(status=302, headers={"Location": "http://example.invalid/elsewhere"}),
    }
    for name in ARTICLE_CAPTURES + PAGE_CAPTURES:
        routes[capture_path(name)] = _html_route((CAPTURES / name).read_bytes())
    return routes


def derive_article(
    template_capture: str,
    *,
    slug: str,
    title: str,
    published: str,
    body_html: str,
    news_type: str = "Announcement",
    summary: str | None = None,
) -> str:
    """A new article page built from a capture (a file name in CAPTURES, or the HTML itself).

    Replaces the title (<title>, og/twitter/itemprop titles, breadcrumb, hero), the canonical/og:url
    slug, the publish date text ("10 July 2026"), the news type, the body after the summary
    paragraph and, when given, the summary (and meta description). Serve it at article_path(slug).
    """
    page = template_capture if "<" in template_capture else read_capture(template_capture)
    page = _strip_leading_comments(page)
    old = re.search(r'<link rel="canonical" href="([^"]+)"', page)
    if old is None:
        raise ValueError("derive_article: the template has no canonical link")
    new_url = re.sub(r"/about-us/news-centre/[^/]+/$", f"/about-us/news-centre/{slug}/", old[1])
    page = page.replace(f'"{old[1]}"', f'"{escape(new_url)}"')
    t = escape(title)
    subs = [
        (r"(<title>)(.*?)(</title>)", f"{t} :: Immigration New Zealand"),
        (r'(<meta itemprop="name" content=")([^"]*)(")', t),
        (r'(<meta property="og:title" content=")([^"]*)(")', t),
        (r'(<meta name="twitter:title" content=")([^"]*)(")', t),
        (r'(breadcrumbs__list-item--current"[^>]*>\s*)(.*?)(\s*</li>)', t),
        (r'(<span class="hero__title-main">)(.*?)(</span>)', t),
        (r'(<span class="hero__publish-date">\s*)(.*?)(\s*</span>)', escape(published)),
        (r'(<div class="hero__announcement">)(.*?)(</div>)', escape(news_type)),
    ]
    if summary is not None:
        subs.append((r'(<meta name="description" content=")([^"]*)(")', escape(summary)))
        subs.append((r'(<p class="content-page__summary"\s*>)(.*?)(</p>)', escape(summary)))
    body_end = r'\s*</div>\s*</div>\s*<div class="container">\s*<div class="page-utilities">'
    body_start = r'<p class="content-page__summary"\s*>.*?</p>'
    subs.append((rf"({body_start})(.*?)({body_end})", "\n\n" + body_html))
    for pattern, inner in subs:
        page = _inner(pattern, inner, page)
    return page


def article_path(slug: str) -> str:
    return f"{NEWS}{slug}/"


@dataclass
class Route:
    """One answer. A body without a Content-Type header is sent as text/html; charset=utf-8."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)  # Content-Type, Location, Retry-After...
    delay: float = 0.0  # seconds to sleep before answering


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # path + query as requested
    headers: dict[str, str]


_VALIDATORS = ("etag", "last-modified")


def etag_of(body: bytes) -> str:
    """The ETag the site sends for a body (a quoted hash of it)."""
    return '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_POST(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, *, send_body: bool) -> None:
        site = self.server.site
        if self.path.startswith(("http://", "https://")):  # asked as a proxy: absolute-form, the host dropped
            self.path = urlunsplit(urlsplit(self.path)._replace(scheme="", netloc="")) or "/"
        site._record(RecordedRequest(self.command, self.path, dict(self.headers.items())))
        route = site._route_for(self.path)
        if route is None:
            route = _html_route(_error_page(404, "Not Found"), 404)
        if route.delay > 0:
            time.sleep(route.delay)
        given = {k.lower(): v for k, v in route.headers.items()}
        headers = dict(route.headers)
        status, body = route.status, route.body
        if body and "content-type" not in given:
            headers["Content-Type"] = HTML
        if status == 200 and body:
            etag = given.get("etag") or etag_of(body)
            last_modified = given.get("last-modified") or site._last_modified(self.path)
            headers = {k: v for k, v in headers.items() if k.lower() not in _VALIDATORS}
            headers |= {"ETag": etag, "Last-Modified": last_modified}
            if self._not_modified(etag, last_modified):
                status, body = 304, b""
                headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        if status != 304:
            headers["Content-Length"] = str(len(body))
        try:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            if send_body and body:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
            pass

    def _not_modified(self, etag: str, last_modified: str) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
            return "*" in tags or etag.removeprefix("W/") in tags
        ims = self.headers.get("If-Modified-Since")
        if ims is None:
            return False
        try:
            return parsedate_to_datetime(ims) >= parsedate_to_datetime(last_modified)
        except (TypeError, ValueError):
            return False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, site: FixtureSite) -> None:
        self.site = site
        super().__init__(("127.0.0.1", 0), _Handler)


class FixtureSite:
    """immigration.govt.nz on 127.0.0.1; use as a context manager or start()/stop().

    `base_url` is the address the site calls itself (robots.txt, sitemap). By default it is the server's
    own, `address`; a test that must not see a changing port names a fixed one on a reserved name (e.g.
    "http://inz.test/") and reaches the site there through `address` as its proxy (HTTP_PROXY)."""

    def __init__(self, *, max_lifetime: float = 120.0, base_url: str | None = None) -> None:
        self.max_lifetime = max_lifetime
        self._server = _Server(self)
        self.address: str = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self.base_url: str = base_url or self.address
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._routes = default_routes(self.base_url)
        self._modified: dict[str, str] = {}  # path -> Last-Modified after a change
        self._changes = 0
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None
        self._stopped = False

    # lifecycle
    def start(self) -> FixtureSite:
        with self._lock:
            if self._stopped or self._thread is not None:
                raise RuntimeError("FixtureSite can be started once")
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()
            self._timer = threading.Timer(self.max_lifetime, self.stop)
            self._timer.daemon = True
            self._timer.start()
        return self

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            thread, timer = self._thread, self._timer
        if timer is not None and timer is not threading.current_thread():
            timer.cancel()
        if thread is not None:
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FixtureSite:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # routes
    def set(self, path: str, route: Route) -> None:
        """Add or replace a route; it gets a later Last-Modified (unless its headers set one)."""
        with self._lock:
            self._changes += 1
            self._modified[path] = formatdate(_FIXED_EPOCH + self._changes, usegmt=True)
            self._routes[path] = route

    def remove(self, path: str) -> None:
        with self._lock:
            self._routes.pop(path, None)

    def route(self, path: str) -> Route | None:
        with self._lock:
            return self._routes.get(path)

    def set_article(self, path: str, html: str) -> None:
        self.set(path, _html_route(html))

    def set_sitemap_paths(self, paths: list[str]) -> None:
        """Rewrite the urlset (the index is unchanged); unknown paths get lastmod 2026-07-13."""
        pairs = [(p, LASTMOD.get(p, "2026-07-13")) for p in paths]
        body = sitemap_urlset(self.base_url, pairs)
        self.set(SITEMAP_URLSET_PATH, Route(body=body, headers={"Content-Type": XML}))

    def set_home_links(self, paths_titles: list[tuple[str, str, str]]) -> None:
        """Rewrite the home block's list: (path, title, date like "9 Jul 2026") per tile."""
        self.set("/", _html_route(home_page(paths_titles)))

    # requests
    def paths_requested(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests]

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _route_for(self, raw_path: str) -> Route | None:
        with self._lock:
            route = self._routes.get(raw_path)
            if route is None:
                route = self._routes.get(raw_path.split("?", 1)[0].split("#", 1)[0])
            return route

    def _last_modified(self, raw_path: str) -> str:
        with self._lock:
            key = raw_path if raw_path in self._modified else raw_path.split("?", 1)[0]
            return self._modified.get(key, FIXED_LAST_MODIFIED)
