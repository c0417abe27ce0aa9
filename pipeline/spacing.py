"""How much white space counts in an article's content: none next to a block-level tag. Beneath the
model (an article's content hash depends on it); pure."""

from __future__ import annotations

import re

# White space next to a block-level tag is never rendered; a re-indented or minified page is not new content.
BLOCK_TAG_SPACE = re.compile(
    r"\s*(</?(?:p|div|h[1-6]|ul|ol|li|dl|dt|dd|table|thead|tbody|tfoot|tr|td|th|caption|blockquote|"
    r"figure|figcaption|details|summary|pre|hr|br)\b[^>]*>)\s*",
    re.IGNORECASE,
)


def without_block_tag_space(html: str) -> str:
    """`html` without the white space before and after each block-level tag. Stored hashes depend on it."""
    return BLOCK_TAG_SPACE.sub(r"\1", html)
