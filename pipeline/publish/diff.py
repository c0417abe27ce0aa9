"""A readable word-level diff between two versions of an article, as HTML: deletions in <del>,
insertions in <ins>, each also labelled in words (not by colour alone), with a little unchanged
context around each change."""

from __future__ import annotations

import difflib
import re

from markupsafe import Markup, escape

from pipeline.dom import html_text, parse_fragment
from pipeline.model import Article

CONTEXT_WORDS = 12
BLOCKS = ("p", "li", "h2", "h3", "h4", "h5", "h6", "td", "th", "dt", "dd", "blockquote", "pre", "figcaption")


def article_text(article: Article) -> list[tuple[str, str]]:
    """(part, text) pairs that a reader sees, in order: the parts a diff compares."""
    return [
        ("Title", article.title),
        ("Published", article.published.date().isoformat()),
        ("Type", article.news_type or ""),
        ("Topics", ", ".join(article.topics)),
        ("Summary", article.summary),
        ("Text", body_text(article.body_html)),
    ]


BLOCK_BREAK = "\x1e"  # marks the end of a block; a newline inside a paragraph's text is only white space


def body_text(body_html: str) -> str:
    """The body as text, one line per block (or <br>), so a diff can show which paragraph changed."""
    soup = parse_fragment(body_html)
    for block in soup.find_all((*BLOCKS, "br")):
        block.insert_after(BLOCK_BREAK)
    return "\n".join(" ".join(line.split()) for line in html_text(soup, "").split(BLOCK_BREAK) if line.strip())


def word_diff(old: str, new: str) -> str:
    """HTML of the changes from `old` to `new`, word by word; "" when they are the same text."""
    old_words, new_words = _tokens(old), _tokens(new)
    matcher = difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False)
    pieces: list[str] = []
    opcodes = matcher.get_opcodes()
    if all(tag == "equal" for tag, *_ in opcodes):
        return ""
    for index, (tag, a1, a2, b1, b2) in enumerate(opcodes):
        if tag == "equal":
            words = old_words[a1:a2]
            first, last = index == 0, index == len(opcodes) - 1
            if len(words) > (CONTEXT_WORDS if first or last else 2 * CONTEXT_WORDS):
                head = [] if first else words[:CONTEXT_WORDS]
                tail = [] if last else words[-CONTEXT_WORDS:]
                pieces.append(_plain(head) + " … " + _plain(tail))
            else:
                pieces.append(_plain(words))
            continue
        if a2 > a1:
            pieces.append(
                f'<del><span class="visually-hidden">[deleted: </span>{_plain(old_words[a1:a2])}<span class="visually-hidden">]</span></del>'
            )
        if b2 > b1:
            pieces.append(
                f'<ins><span class="visually-hidden">[inserted: </span>{_plain(new_words[b1:b2])}<span class="visually-hidden">]</span></ins>'
            )
    return " ".join(piece for piece in pieces if piece.strip()).replace("\n", "<br>")


def article_diff(old: Article, new: Article) -> str:
    """A definition list of the parts that changed, each with its word diff."""
    rows = []
    for (label, before), (_, after) in zip(article_text(old), article_text(new), strict=True):
        changes = word_diff(before, after)
        if changes:
            rows.append(f"<dt>{escape(label)}</dt><dd>{changes}</dd>")
    return str(Markup('<dl class="diff">{}</dl>').format(Markup("".join(rows)))) if rows else ""


def _tokens(text: str) -> list[str]:
    """Words, with line breaks kept as tokens of their own."""
    return re.findall(r"\n|[^\s]+", text)


def _plain(words: list[str]) -> str:
    return " ".join(str(escape(word)) if word != "\n" else "\n" for word in words)
