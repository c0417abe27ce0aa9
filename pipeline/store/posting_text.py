"""A posting's text: the articles that have a word, newest first, encoded as the search page reads it,
so that publishing copies it out and a new article costs a few string operations per word, not a
re-encoding of the archive (pipeline/store/postings.py keeps the postings in publishing's catalogue).

A posting lists (day, article id) pairs, newest first (day descending, then id descending; day counts
from 1 January of year 1 to the article's published date in UTC): the first pair as it is, each later one as its
difference from the one before (days back, then the id's zig-zagged difference), each number in 5-bit
digits of ALPHABET (0-31 ends a number, 32-63 carries five bits and continues). An article of the same
day or the next costs two or three characters. The encoding of a set of pairs is unique, so the same
store gives the same bytes however the posting was built.

A posting is published in pages of a given number of entries, counted from its oldest, each followed
by a newer entry (see page_ends), so that a new article, the newest, changes none of them: each term
keeps where its full pages end, counted in characters from the posting's end, which newer entries do
not move. Pure."""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import accumulate

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"  # safe in JSON and in URLs
DIGITS = {char: value for value, char in enumerate(ALPHABET)}
Entry = tuple[int, int]  # (day, article id)


def _digits(value: int) -> str:
    if 0 <= value < SHORT:
        return _SHORT[value]
    out = []
    while value >= 32:
        out.append(ALPHABET[32 + (value & 31)])
        value >>= 5
    out.append(ALPHABET[value])
    return "".join(out)


SHORT = 1024  # numbers of one or two digits (most differences): looked up, not worked out
_SHORT = [ALPHABET[value] for value in range(32)] + [
    ALPHABET[32 + (value & 31)] + ALPHABET[value >> 5] for value in range(32, SHORT)
]


def _value(token: str) -> int:
    value = 0
    for shift, char in enumerate(token):
        value |= (DIGITS[char] & 31) << (5 * shift)
    return value


# A posting is split into numbers by a regular expression (a number: continuing digits, then a last).
NUMBER = re.compile(f"[{re.escape(ALPHABET[32:])}]*[{re.escape(ALPHABET[:32])}]")


def page_ends(posting: str, page: int) -> list[int]:
    """Where the posting's full pages of `page` entries end, in characters from its end: counted from
    the oldest entry, each followed by at least one newer entry. A page's text is differences from the
    entry after it (only the posting's first entry is written as it is), so newer entries change neither
    where a page ends nor what it says: they go into the entries after the pages, 1 to `page` of them."""
    older_first = posting[::-1]  # each number's last digit first
    pattern, ends, at = _page_pattern(page), [], 0
    while (found := pattern.match(older_first, at)) and found.end() < len(older_first):
        at = found.end()
        ends.append(at)
    return ends


@cache
def _page_pattern(page: int) -> re.Pattern[str]:
    """`page` entries of a reversed posting: two numbers each, a last digit and then those before it."""
    return re.compile(f"(?:[{re.escape(ALPHABET[:32])}][{re.escape(ALPHABET[32:])}]*+){{{2 * page}}}")


def encode(entries: Iterable[Entry], previous: Entry | None = None) -> str:
    """`entries` (newest first) as posting text; after `previous` when they continue a posting."""
    out: list[str] = []
    items = iter(entries)
    if previous is None:
        first = next(items, None)
        if first is None:
            return ""
        out += (_digits(first[0]), _digits(first[1]))
        previous = first
    last_day, last_id = previous
    short, digits = _SHORT, _digits  # (a first publication encodes a few hundred numbers an article)
    for day, article_id in items:
        back, step = last_day - day, article_id - last_id
        step = 2 * step if step >= 0 else -2 * step - 1
        out += (short[back] if 0 <= back < SHORT else digits(back), short[step] if step < SHORT else digits(step))
        last_day, last_id = day, article_id
    return "".join(out)


def first_entry(text: str) -> tuple[Entry, int]:
    """The first entry of a posting, and where the next begins."""
    first = NUMBER.match(text)
    second = NUMBER.match(text, first.end()) if first else None
    if first is None or second is None:
        raise ValueError(f"not a posting: {text[:40]!r}")
    return (_value(first[0]), _value(second[0])), second.end()


def decode(text: str) -> list[Entry]:
    numbers = [_value(token) for token in NUMBER.findall(text)]
    if not numbers:
        return []
    days = accumulate(numbers[0::2], operator.sub)
    steps = numbers[1::2]
    ids = accumulate([steps[0], *(step >> 1 if step % 2 == 0 else -((step + 1) >> 1) for step in steps[1:])])
    return list(zip(days, ids, strict=True))


@dataclass
class Run:
    """Entries on their way into a posting, newest first, already encoded (the first as it is)."""

    text: str
    first: Entry
    last: Entry
    count: int

    def extend(self, entries: Sequence[Entry]) -> None:
        """Add `entries`, all older than the run's last."""
        self.text += encode(entries, self.last)
        self.last, self.count = entries[-1], self.count + len(entries)


def run_of(entries: Sequence[Entry]) -> Run:
    return Run(encode(entries), entries[0], entries[-1], len(entries))


def add(posting: str, tail: Entry | None, run: Run) -> tuple[str, Entry]:
    """`posting` with the entries of `run` (none of them in it) and its new tail. New articles are
    newer than the whole posting (a daemon's run) or older (a first publication, which indexes newest
    first): then the posting is only extended; otherwise it is decoded and made anew."""
    if not posting or tail is None:
        return run.text, run.last
    head, rest = first_entry(posting)
    if run.last > head:
        return run.text + encode([head], run.last) + posting[rest:], tail
    if run.first < tail:
        _, after = first_entry(run.text)
        return posting + encode([run.first], tail) + run.text[after:], run.last
    merged = sorted([*decode(posting), *decode(run.text)], reverse=True)
    return encode(merged), merged[-1]
