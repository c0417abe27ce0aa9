"""The store's schema, as numbered migrations: each runs once, in order, recorded in
`schema_migrations`, so opening a store of any earlier version is always safe."""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema.
    """
    CREATE TABLE raw_pages (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        url TEXT NOT NULL,
        fetched_at TEXT NOT NULL,
        status INTEGER NOT NULL,
        headers TEXT NOT NULL,
        size INTEGER NOT NULL,
        body BLOB NOT NULL
    );
    CREATE TABLE http_cache (
        url TEXT PRIMARY KEY,
        etag TEXT,
        last_modified TEXT,
        raw_page_id INTEGER REFERENCES raw_pages(id),
        checked_at TEXT NOT NULL
    );
    CREATE TABLE articles (
        id INTEGER PRIMARY KEY,
        source_id TEXT NOT NULL,
        url TEXT NOT NULL UNIQUE,
        slug TEXT NOT NULL,
        timezone TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        last_checked TEXT NOT NULL,
        current_version INTEGER NOT NULL,
        UNIQUE (source_id, slug)
    );
    CREATE TABLE revisions (
        id INTEGER PRIMARY KEY,
        article_id INTEGER NOT NULL REFERENCES articles(id),
        version INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        retrieved_at TEXT NOT NULL,
        title TEXT NOT NULL,
        published TEXT NOT NULL,
        news_type TEXT,
        topics TEXT NOT NULL,
        summary TEXT NOT NULL,
        body_html TEXT NOT NULL,
        raw_page_id INTEGER REFERENCES raw_pages(id),
        UNIQUE (article_id, version)
    );
    CREATE TABLE url_aliases (
        url TEXT PRIMARY KEY,
        article_id INTEGER NOT NULL REFERENCES articles(id)
    );
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        exit_code INTEGER,
        report TEXT
    );
    CREATE INDEX articles_by_source ON articles (source_id);
    """,
    # 2: change tracking: articles that the source stopped serving, and site alerts.
    """
    ALTER TABLE articles ADD COLUMN missing_since TEXT;
    ALTER TABLE articles ADD COLUMN withdrawn_at TEXT;
    CREATE TABLE alerts (
        id TEXT PRIMARY KEY,
        source_id TEXT NOT NULL,
        title TEXT NOT NULL,
        issued TEXT NOT NULL,
        text_html TEXT NOT NULL,
        page_url TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL
    );
    CREATE INDEX alerts_by_source ON alerts (source_id, issued);
    """,
    # 3: which extractor produced a version: the source's selectors, or the generic fallback.
    """
    ALTER TABLE revisions ADD COLUMN extractor TEXT NOT NULL DEFAULT 'selectors';
    """,
    # 4: watched pages (`watch:`) are kept as articles of their own kind, each change a revision: listed
    # in no collection, announced in their source's changes feed.
    """
    ALTER TABLE articles ADD COLUMN kind TEXT NOT NULL DEFAULT 'article';
    """,
    # 5: what a feed said of each article it listed (by the URL requested), as generic extraction last
    # read it, so `rebuild` reads the stored page with the same help.
    """
    CREATE TABLE feed_items (
        url TEXT PRIMARY KEY,
        title TEXT,
        published TEXT,
        summary TEXT,
        categories TEXT NOT NULL
    );
    """,
    # 6: what a discovery page (a listing, a sitemap) yielded when its body was last read, so that a page
    # answering 304 is not read again: `reader` names what read it (Pānui and the source's settings).
    """
    CREATE TABLE discovery_reads (
        url TEXT PRIMARY KEY,
        sha256 TEXT NOT NULL,
        reader TEXT NOT NULL,
        found TEXT NOT NULL
    );
    """,
    # 7: subscriptions. `changes` is a journal of events (a new article, a version, a withdrawal, an alert;
    # a watched page's first read is its baseline, no event)
    # written by triggers in the very transaction that makes the change; the sync that follows matches
    # them to subscriptions and empties it. `subscribers` holds when each subscription joined (its
    # baseline), `outbox` each message per target until it is sent or given up, `digest_items` the
    # events waiting for a subscription's digest, `digests` each period already sent.
    """
    CREATE TABLE changes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        article_id INTEGER,
        version INTEGER,
        alert_id TEXT,
        at TEXT NOT NULL
    );
    CREATE TRIGGER changes_on_revision AFTER INSERT ON revisions
    WHEN NEW.version > 1 OR (SELECT kind FROM articles WHERE id = NEW.article_id) = 'article' BEGIN
        INSERT INTO changes (kind, article_id, version, at)
        VALUES (CASE WHEN NEW.version = 1 THEN 'new' ELSE 'revised' END, NEW.article_id, NEW.version, NEW.retrieved_at);
    END;
    CREATE TRIGGER changes_on_withdrawal AFTER UPDATE OF withdrawn_at ON articles
    WHEN OLD.withdrawn_at IS NULL AND NEW.withdrawn_at IS NOT NULL BEGIN
        INSERT INTO changes (kind, article_id, version, at)
        VALUES ('withdrawn', NEW.id, NEW.current_version, NEW.withdrawn_at);
    END;
    CREATE TRIGGER changes_on_alert AFTER INSERT ON alerts BEGIN
        INSERT INTO changes (kind, alert_id, at) VALUES ('alert', NEW.id, NEW.first_seen);
    END;
    CREATE TABLE subscribers (id TEXT PRIMARY KEY, joined_at TEXT NOT NULL);
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        subscription TEXT NOT NULL,
        target TEXT NOT NULL,
        key TEXT NOT NULL,
        message TEXT NOT NULL,
        created_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_try TEXT NOT NULL,
        sending_at TEXT,
        sent_at TEXT,
        gave_up_at TEXT,
        last_error TEXT,
        UNIQUE (subscription, target, key)
    );
    CREATE INDEX outbox_unsent ON outbox (sent_at, gave_up_at);
    CREATE TABLE digest_items (
        id INTEGER PRIMARY KEY,
        subscription TEXT NOT NULL,
        kind TEXT NOT NULL,
        message TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE digests (
        subscription TEXT NOT NULL,
        period TEXT NOT NULL,
        sent_at TEXT NOT NULL,
        PRIMARY KEY (subscription, period)
    );
    """,
    # 8: the reminders of coming dates (`events: [upcoming]`) already queued, one per subscription and
    # date ("upcoming:<event uid>:<day>"), so each is told once however many runs see it in the window.
    """
    CREATE TABLE reminders (
        subscription TEXT NOT NULL,
        key TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (subscription, key)
    );
    """,
    # 9: which articles changed since the last publication, written by triggers in the transaction that
    # changes them, so a publication need not compare every article with its index to find them (at
    # 50,000 articles, on every run). `publication.token` pairs the journal with publish.sqlite3: when
    # the two disagree (that index rebuilt, restored or damaged), publishing compares everything instead.
    """
    CREATE TABLE unpublished (article_id INTEGER PRIMARY KEY);
    CREATE TABLE publication (token TEXT NOT NULL);
    INSERT INTO publication VALUES ('');
    CREATE TRIGGER unpublished_new_version AFTER INSERT ON revisions BEGIN
        INSERT OR IGNORE INTO unpublished VALUES (NEW.article_id);
    END;
    CREATE TRIGGER unpublished_corrected AFTER UPDATE ON revisions BEGIN
        INSERT OR IGNORE INTO unpublished VALUES (NEW.article_id);
    END;
    CREATE TRIGGER unpublished_changed AFTER UPDATE OF source_id, slug, current_version, withdrawn_at ON articles
    BEGIN
        INSERT OR IGNORE INTO unpublished VALUES (NEW.id);
    END;
    CREATE TRIGGER unpublished_deleted AFTER DELETE ON articles BEGIN
        INSERT OR IGNORE INTO unpublished VALUES (OLD.id);
    END;
    """,
    # 10: the revisit schedule's lookups, so that finding the articles due for a check reads the young
    # ones (by date published) and the old ones not checked for the slowest pace (by last check), not
    # every article of the source on every run (at 50,000 articles, most of a quiet sync's store work).
    """
    CREATE INDEX revisions_by_published ON revisions (published);
    CREATE INDEX articles_by_check ON articles (source_id, kind, last_checked);
    """,
    # 11: what cites a raw page, so that a discovery page's superseded copy (the sitemap gains a link,
    # the home page a tile) is dropped without reading every revision (0.16 s a copy at 50,000 articles).
    """
    CREATE INDEX revisions_by_raw_page ON revisions (raw_page_id);
    CREATE INDEX http_cache_by_raw_page ON http_cache (raw_page_id);
    """,
    # 12: the corrections (a later version, a withdrawal), few in any archive, so that the feed of
    # corrections finds them without reading every article of the source (45 ms a publication at 50,000).
    """
    CREATE INDEX revisions_later ON revisions (article_id) WHERE version > 1;
    CREATE INDEX articles_withdrawn ON articles (source_id, kind) WHERE withdrawn_at IS NOT NULL;
    """,
)
