"""Inline markdown and HTML reduced to the text a reader of the published page sees.

- `<!-- comments -->` are invisible on the site: never text.
- `<br>` (any spelling), `<p>`, `<li>`, `<ul>`/`<ol>` and `<div>` break a cell into statements.
- Struck text (`~~old~~`, `<del>`, `<s>`, `<strike>`) is text the authors removed: left out,
  and reported so that nobody is surprised.
- `<script>`/`<style>` content is not shown: left out. Any other tag (`<b>`, `<span>`, `<a>`...)
  becomes its text.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from markdown_it.token import Token

_TAG = re.compile(r"^<(/?)([A-Za-z][A-Za-z0-9-]*)")
_BREAKS = {"br", "p", "li", "ul", "ol", "div", "hr", "tr", "td", "th", "table", "dl", "dt", "dd"}
_STRUCK = {"del", "s", "strike"}
_HIDDEN = {"script", "style", "template"}
_ASCII_SPACE = re.compile(r"[ \t\n]+")


@dataclass
class Text:
    """An inline as pieces of text; `None` marks a break between statements."""

    pieces: list[str | None] = field(default_factory=list)
    struck: list[str] = field(default_factory=list)  # text left out because it was struck through
    block_html: bool = False  # `<ul>`, `<li>`, `<p>`...: kramdown shows these as text inside a table cell


def read_inline(inline: Token | None) -> Text:
    out = Text()
    if inline is None:
        return out
    hiding: str | None = None  # a tag whose content is not shown
    striking: list[str] = []  # open struck-through spans (markdown `~~` or HTML tags)
    struck_now: list[str] = []
    for child in inline.children or []:
        kind = child.type
        if kind == "html_inline":
            content = child.content.strip()
            if content.startswith("<!--") or content.startswith("<?") or content.startswith("<!"):
                continue
            m = _TAG.match(content)
            if not m:
                continue
            closing, name = m.group(1) == "/", m.group(2).lower()
            if hiding:
                if closing and name == hiding:
                    hiding = None
                continue
            if name in _HIDDEN and not closing and not content.endswith("/>"):
                hiding = name
            elif name in _STRUCK:
                if not closing:
                    striking.append(name)
                elif striking:
                    striking.pop()
                    if not striking:
                        out.struck.append(squash("".join(struck_now)))
                        struck_now = []
            elif name in _BREAKS and striking:
                struck_now.append(" ")  # a break inside struck text goes with the struck text
            elif name in _BREAKS:
                out.pieces.append(None)
                out.block_html = out.block_html or name != "br"
            continue
        if hiding:
            continue
        if kind == "s_open":
            striking.append("~~")
            continue
        if kind == "s_close":
            if striking:
                striking.pop()
                if not striking:
                    out.struck.append(squash("".join(struck_now)))
                    struck_now = []
            continue
        text: str | None
        if kind in ("text", "code_inline"):
            text = child.content
        elif kind == "softbreak":
            text = " "
        elif kind == "hardbreak":
            text = None
        elif kind == "image":
            text = child.content
        else:
            continue
        if striking:
            if text:
                struck_now.append(text)
            continue
        out.pieces.append(text)
    if striking and struck_now:  # never closed: still not shown as normal text
        out.struck.append(squash("".join(struck_now)))
    out.struck = [s for s in out.struck if s]
    return out


def squash(text: str) -> str:
    """Runs of ASCII white space to one space (markdown's own rule); NBSP and friends are kept
    inside the text, trimmed at its ends."""
    return _ASCII_SPACE.sub(" ", text).strip()


def plain(inline: Token | None) -> str:
    """An inline as one line of text (a break becomes a space)."""
    return squash("".join(" " if p is None else p for p in read_inline(inline).pieces))


def statements(text: Text) -> list[str]:
    """The pieces split at every break: each non-empty piece is one statement."""
    out, current = [], []
    for piece in text.pieces + [None]:
        if piece is None:
            joined = squash("".join(current))
            if joined:
                out.append(joined)
            current = []
        else:
            current.append(piece)
    return out


def id_text(inline: Token | None) -> str:
    """The text kramdown's GFM parser makes a heading's auto id from (its `raw_text`): the heading as
    parsed, not as written. Text (entities, smart quotes and typographic symbols as the characters the
    site shows), code spans' code, and the text inside links, emphasis, struck and HTML elements; never
    a link's URL, an image, or an HTML tag or comment."""
    parts = []
    for child in (inline.children or []) if inline is not None else []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
    return "".join(parts)


_HTML_HREF = re.compile(r"""^<a\s[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)


def first_link(inline: Token | None) -> str | None:
    """The target of the first link, written in markdown or as an HTML `<a href>`."""
    for child in (inline.children or []) if inline is not None else []:
        if child.type == "link_open":
            return str(child.attrs.get("href", ""))
        if child.type == "html_inline":
            m = _HTML_HREF.match(child.content.strip())
            if m:
                return html.unescape(next(g for g in m.groups() if g is not None))
    return None
