"""Slugs: heading anchors as the site's renderer makes them, and safe, readable file names."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {f"{p}{i}" for p in ("com", "lpt") for i in range(1, 10)}
MAX_NAME = 80


def anchor(text: str) -> str:
    """The id kramdown's GFM mode (Jekyll's default) gives a heading: lower case, word
    characters, spaces turned into hyphens, other punctuation dropped."""
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def unique_anchors(texts: list[str]) -> list[str]:
    """Anchors for headings in page order; a repeated one gets `-1`, `-2`, ... as kramdown does."""
    seen: dict[str, int] = {}
    out = []
    for text in texts:
        base = anchor(text)
        n = seen.get(base, 0)
        out.append(base if n == 0 else f"{base}-{n}")
        seen[base] = n + 1
    return out


def slugify(text: str) -> str:
    """A readable id for a title, kept in any script: "ML Engineer" -> "ml-engineer"."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[^\w]+", "-", text, flags=re.UNICODE).strip("-_")
    return re.sub(r"-{2,}", "-", text)


def safe_file_name(text: str, max_len: int = MAX_NAME) -> str:
    """One path segment that is safe on Windows, macOS and Linux, whatever the title says:
    no separators or dots to climb out, no reserved device names, bounded length."""
    slug = slugify(text) or "untitled"
    if len(slug) > max_len:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
        slug = f"{slug[: max_len - 9].rstrip('-_')}-{digest}"
    if slug.split(".")[0] in _WINDOWS_RESERVED:
        slug = f"{slug}-"
    return slug
