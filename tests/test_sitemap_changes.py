"""A plain sitemap that changed is read from the last read of its previous copy
(pipeline/discover/plain_sitemap.py): the entries before its first changed byte and after its last keep
what that read left, and only those between are looked at one by one. Whatever changed, a sync must then
decide exactly what it decides reading every entry afresh against the keys the last read settled: the
same links asked for, in the same order, the same links counted unchanged, the same keys kept for the
next read."""

from __future__ import annotations

import base64
import gzip
import random
import zlib
from dataclasses import dataclass, replace

import pytest

from pipeline.discover import SitemapRead, plain_sitemap, sitemap_entries
from pipeline.errors import DiscoverError
from tests.test_sitemap_plain import LASTMODS, LOCS, NEWS, NS, SITE, inz_source, page

LOCS_MORE = [*LOCS, *(f"{NEWS}article-{serial}/" for serial in range(40))]


def due(url: str) -> bool:
    """The store's verdict, fixed for the test: a third of the links are due for a request."""
    return zlib.crc32(url.encode()) % 3 == 0


@dataclass(frozen=True)
class Decided:
    asked: list[str]
    unchanged: list[str]
    found: dict[str, object]


def decide(body: bytes, settled: bytes, previous: bytes | None) -> Decided:
    return decided(body, SitemapRead(settled, previous))


def decided(body: bytes, read: SitemapRead) -> Decided:
    """What gather_candidates makes of a read: the links due are asked for, the others settled."""
    _, entries = sitemap_entries(page(body), inz_source(), read)
    asked, unchanged = [], set()
    for entry in entries:
        if due(entry.link.url):
            asked.append(entry.link.url)
        else:
            read.settle(entry)
            unchanged.add(entry.link.url)
    return Decided(asked, sorted(unchanged | set(read.passed_urls)), read.found())


def entry(rng: random.Random) -> str:
    loc, lastmod = rng.choice(LOCS_MORE), rng.choice(LASTMODS)
    element = "" if lastmod is None else f"<lastmod>{lastmod}</lastmod>"
    space = rng.choice(["", "\n", "\n  "])
    return f"<url>{space}<loc>{loc}</loc>{space}{element}{space}</url>"


def edited(entries: list[str], rng: random.Random) -> list[str]:
    entries = list(entries)
    for _ in range(rng.choice([0, 1, 1, 1, 2, 3])):
        change = rng.choice(["insert", "insert", "delete", "lastmod", "move", "text"])
        at = rng.randint(0, len(entries))
        if change == "insert" or not entries:
            entries.insert(at, entry(rng))
        elif change == "delete":
            del entries[at % len(entries)]
        elif change == "lastmod":
            at %= len(entries)
            entries[at] = entries[at].replace("</loc>", f"</loc><lastmod>2026-07-0{rng.randint(1, 9)}</lastmod>", 1)
            if entries[at].count("<lastmod>") > 1:
                entries[at] = entries[at][: entries[at].rindex("<lastmod>")] + "</url>"
        elif change == "move":
            entries.insert(at, entries.pop(rng.randrange(len(entries))))
        else:
            entries.insert(at, rng.choice([" odd > text ", "\n", "<!-- a comment -->"]))
    return entries


def urlset(entries: list[str], root: str, squeezed: bool) -> bytes:
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset{root}>\n' + "\n".join(entries) + "\n</urlset>\n"
    return body.encode().replace(b"\n", b"") if squeezed else body.encode()


def test_a_changed_sitemap_read_from_its_last_read_decides_as_a_read_of_every_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compared, read_changes = 0, plain_sitemap._read_changes

    def counted(*args: object) -> plain_sitemap.PlainRead | None:
        nonlocal compared
        result = read_changes(*args)  # type: ignore[arg-type]
        compared += result is not None
        return result

    monkeypatch.setattr(plain_sitemap, "_read_changes", counted)
    rng = random.Random(20261206)
    for _ in range(600):
        # (the locs passed by are decoded a part at a time: parts of an entry or two, and whole sitemaps)
        monkeypatch.setattr(plain_sitemap, "LOCS_AT_ONCE", rng.choice([1, 100, 1 << 20]))
        roots = [f' xmlns="{NS}"', "", f" xmlns='{NS}'"]
        root, squeezed = rng.choice(roots), rng.random() < 0.3
        entries = [entry(rng) for _ in range(rng.randint(0, 25))]
        before = urlset(entries, root, squeezed)
        after = urlset(edited(entries, rng), rng.choice(roots) if rng.random() < 0.05 else root, squeezed)
        if rng.random() < 0.1:
            before, after = gzip.compress(before), gzip.compress(after) if rng.random() < 0.7 else after
        first = decide(before, b"", None)
        settled = base64.b64decode(str(first.found.get("entry_keys", first.found.get("settled_keys"))))

        assert decide(after, settled, before) == decide(after, settled, None), (before, after)
    assert compared > 300  # the comparison is worth something only when the changes are often read so


def test_a_sitemap_that_gained_an_entry_looks_at_that_entry_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    entries = [f"<url><loc>{NEWS}article-{serial}/</loc><lastmod>2026-07-01</lastmod></url>" for serial in range(1000)]
    before = urlset(entries, f' xmlns="{NS}"', False)
    first = decide(before, b"", None)
    settled = base64.b64decode(str(first.found["entry_keys"]))
    after = urlset([f"<url><loc>{NEWS}new/</loc></url>", *entries], f' xmlns="{NS}"', False)
    looked_at: list[bytes] = []
    key_of = plain_sitemap.key_of

    def recorded(loc: bytes, lastmod: bytes) -> bytes:
        looked_at.append(loc)
        return key_of(loc, lastmod)

    monkeypatch.setattr(plain_sitemap, "key_of", recorded)
    decided = decide(after, settled, before)

    # (the new entry, and its neighbour when the two copies' common ends overlap there)
    assert f"{NEWS}new/".encode() in looked_at and len(looked_at) <= 2
    links = [f"{NEWS}new/", *(f"{NEWS}article-{serial}/" for serial in range(1000))]
    assert decided.asked == [link for link in links if due(link)]
    assert decided.unchanged == sorted(link for link in links if not due(link))


def outcome(body: bytes, settled: bytes, previous: bytes | None) -> Decided | str:
    try:
        return decide(body, settled, previous)
    except DiscoverError as error:
        return error.message


def test_a_sitemap_spliced_at_any_byte_is_read_from_its_last_read_as_a_read_of_every_entry() -> None:
    # A copy written over at any byte, an entry's tags too (a CMS's splice, a download mixed with another):
    # an entry that begins where the two copies part, or an end tag written over the start of a lastmod,
    # must not leave half an old entry unchecked before or after the changed part.
    rng, broken = random.Random(20261207), 0
    snippets = [f"<url><loc>{NEWS}spliced/</loc></url>", "</url>", "<url>", "</url>\n<url>", "</loc></url>", "\n"]
    for _ in range(300):
        entries = [entry(rng) for _ in range(rng.randint(1, 8))]
        before = urlset(entries, f' xmlns="{NS}"', rng.random() < 0.3)
        at, snippet = rng.randrange(before.index(b"<url>"), before.rindex(b"</urlset>")), rng.choice(snippets).encode()
        after = before[:at] + snippet + before[at + rng.choice([0, len(snippet), rng.randint(1, 8)]) :]
        first = decide(before, b"", None)
        settled = base64.b64decode(str(first.found["entry_keys"]))

        spliced = outcome(after, settled, before)
        assert spliced == outcome(after, settled, None), (before, after)
        broken += not isinstance(spliced, Decided) or spliced.found.get("entry_keys") is None
    assert broken > 100  # (most splices break the sitemap: the not-plain side is what is tested)


def test_a_relative_link_is_looked_at_again_when_the_sitemap_answers_from_another_address() -> None:
    # A relative loc is read against the address that answered: once the sitemap is moved (its URL now
    # redirects elsewhere), a link that led nowhere may lead to an article.
    entries = ["<url><loc>news-centre/relative/</loc></url>", f"<url><loc>{NEWS}a/</loc></url>"]
    before = urlset(entries, f' xmlns="{NS}"', False)
    after = urlset([*entries, f"<url><loc>{NEWS}b/</loc></url>"], f' xmlns="{NS}"', False)
    first = SitemapRead()
    assert [entry.link.url for entry in sitemap_entries(page(before), inz_source(), first)[1]] == [NEWS + "a/"]
    settled, moved = bytes(first.slots or b""), replace(page(after), final_url=SITE + "/about-us/sitemap.xml")

    links = [entry.link.url for entry in sitemap_entries(moved, inz_source(), SitemapRead(settled, before))[1]]
    assert links == [NEWS + "relative/", NEWS + "a/", NEWS + "b/"]


def test_a_damaged_slot_is_not_taken_for_a_settled_entry() -> None:
    # One character of the kept read damaged (in the store, on disk): the slot of a link that was due
    # (a new article whose request failed, say) would read as settled, and the link never be asked for.
    entries = [f"<url><loc>{NEWS}article-{serial}/</loc></url>" for serial in range(12)]
    before, after = (urlset(listed, f' xmlns="{NS}"', False) for listed in (entries, [*entries, entries[0]]))
    found = decide(before, b"", None).found
    text, slots = str(found["entry_keys"]), base64.b64decode(str(found["entry_keys"]))
    slot = next(at for at in range(0, len(slots), 8) if slots[at : at + 8] == plain_sitemap.NO_KEY)
    at = -(-slot * 8 // 6)  # the first base64 character wholly in that slot
    damaged = {**found, "entry_keys": text[:at] + "B" + text[at + 1 :]}

    assert decided(after, SitemapRead.after(damaged, before)) == decided(after, SitemapRead.after(damaged, None))
    assert SitemapRead.after(found, before).previous == before  # (an intact read is compared with its copy)
