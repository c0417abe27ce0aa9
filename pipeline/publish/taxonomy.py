"""The folder name of a topic or news type: its slug."""

from __future__ import annotations

import re
import unicodedata
from functools import cache


@cache  # a few dozen names, asked for once per entry and name on every publication
def slugify(name: str) -> str:
    """'Visa holders and applicants' -> 'visa-holders-and-applicants' (ASCII, stable across runs), at most
    100 characters: a folder's name, which file systems cap at 255 bytes (NFKD can make one character 18)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower())[:100].strip("-") or "other"
