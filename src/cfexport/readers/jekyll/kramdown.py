"""What kramdown (Jekyll's markdown) adds to CommonMark, undone before markdown-it reads a page.

- Attribute lists: `{: .no_toc }`, `{:.label}`, `{: #id}` after a block, `{:name: .class}`
  definitions, and span IALs (`[x](y){: .btn}`) set attributes: they are never text. A
  paragraph styled `.label` is a badge ("New") shown beside a heading: not text either.
- `1. TOC` followed by `{:toc}` is replaced by the generated table of contents: not text.
- `### Title {#id}` (or a setext heading `Title {#id}` over `---`) sets the heading's id; otherwise
  the id is kramdown's GFM auto id, made from the heading's text as parsed (see `inline.id_text`).
- A line holding only `^` ends a block (two lists one after the other): not text.
- A definition list (`Term`, then `: definition` lines) reads "Term: definition": the documents
  have no definition lists, and the marker is not text.
- `<div markdown="1">` (or `block`, `span`) holds markdown: its opening and closing tag lines
  (and a `<details>` block's `<summary>`, the control that opens it) are dropped so the markdown
  between them is read.
- `{::comment}`...`{:/comment}` is never output, and `{::nomarkdown}`...`{:/}` is raw output
  for the site's HTML, not text: both are dropped, as are `{::options .../}` lines.
- Abbreviation definitions (`*[HTML]: Hyper Text Markup Language`) are never output: dropped.
- Footnote definitions (`[^1]: The note.`, with their indented lines) go to the foot of the
  site's page, and a marker `[^1]` is shown as a superscript number linking there: the documents
  have no foot of the page, so both are dropped and each marker is reported (`Prepared.notes`)
  with its note. A marker whose footnote is not defined stays text, as kramdown leaves it.

- A table needs no header in kramdown: rows after a blank line that ends a table are a table of
  their own on the site (without a header), where CommonMark reads them as a paragraph. The blank
  lines are moved below those rows, so they are read as rows of the table above (`Prepared.order`
  keeps each line's place in the page). A row commented out (`<!--` and `-->` around it, on lines of
  their own) is read the same way: the comment is blank, the rows after it are rows of the table.

Lines are replaced, never removed, so line numbers stay those of the page.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from markdown_it import MarkdownIt

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_IAL = r"\{:(?:[^}\n\"']|\"[^\"\n]*\"|'[^'\n]*')*\}"  # `{: ...}`, quoted values may hold `}`
_BLOCK_IAL = re.compile(r"^ {0,3}" + _IAL + r"\s*$")
_TOC = re.compile(r"^ {0,3}\{:\s*toc\s*\}\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:\d+[.)]|[*+-])\s+\S")
_SPAN_IAL = re.compile(_IAL)
_HEADING = re.compile(r"^( {0,3}#{1,6}[ \t]+)(.*?)[ \t]*$")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(?:=+|-+)[ \t]*$")
_END_OF_BLOCK = re.compile(r"^\^\s*$")
_DEFINITION = re.compile(r"^ {0,3}:[ \t]+(\S.*)$")  # `: text` under a term: a definition list's definition
_HEADING_ID = re.compile(r"[ \t]*\{(?:#([^\s}]+)|:\s*#([^\s}]+)[^}]*)\}[ \t]*(?:#+[ \t]*)?$")
_MARKDOWN_OPEN = re.compile(r"^ {0,3}<([A-Za-z][A-Za-z0-9-]*)\b[^>]*\bmarkdown\s*=\s*[\"']?(?:1|block|span)[\"']?[^>]*>\s*$")
_NO_TOC = re.compile(r"\{:[^}]*\.no_toc\b")
_LABEL = re.compile(r"(?:^|\s|\{:)\.label(?:\s|\}|$)")
_EXTENSION_OPEN = re.compile(r"^ {0,3}\{::(comment|nomarkdown)\b[^}]*\}\s*$")
_EXTENSION_CLOSE = re.compile(r"^ {0,3}\{:/(comment|nomarkdown)?\}\s*$")
_EXTENSION_SPAN = re.compile(r"\{::(comment|nomarkdown)\b[^}]*\}.*?\{:/(?:\1)?\}|\{::\w+[^}]*/\}")
_SUMMARY_OPEN = re.compile(r"^\s*<summary\b", re.IGNORECASE)
_SUMMARY_CLOSE = re.compile(r"</summary\s*>", re.IGNORECASE)
_CLOSE_TAG = re.compile(r"^ {0,3}</([A-Za-z][A-Za-z0-9-]*)\s*>\s*$")
_ABBREVIATION = re.compile(r"^ {0,3}\*\[[^\]\n]+\]:")
_FOOTNOTE_DEF = re.compile(r"^ {0,3}\[\^(\w[\w-]*)\]:[ \t]*(.*)$")
_FOOTNOTE_MARKER = re.compile(r"\[\^(\w[\w-]*)\]")
_CODE_SPAN = re.compile(r"((`+)(?!`).*?(?<!`)\2(?!`))")
_INDENTED = re.compile(r"^(?: {4}|\t)")
_TABLE_ROW = re.compile(r"^ {0,3}\|")
_COMMENT_OPEN = re.compile(r"^ {0,3}<!--")
_TABLE_DELIMITER = re.compile(r"^ {0,3}\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")


@dataclass
class Prepared:
    """A page body as markdown-it should read it, and the ids kramdown gives its headings."""

    text: str
    heading_ids: dict[int, str] = field(default_factory=dict)  # 0-based line -> explicit `{#id}`
    no_toc: set[int] = field(default_factory=set)  # 0-based lines of headings styled `.no_toc`
    notes: list[tuple[int, str]] = field(default_factory=list)  # (0-based line, warning) for the reader
    order: list[int] | None = None  # line i of `text` is line order[i] of the body (None: the same line)


def prepare(body: str) -> Prepared:
    lines = body.split("\n")
    footnotes = _drop_definitions(lines)
    notes: list[tuple[int, str]] = []
    ids: dict[int, str] = {}
    no_toc: set[int] = set()
    definition_lines: set[int] = set()  # `: text` lines of definition lists, their marker taken off
    fence: str | None = None
    markdown_blocks: list[str] = []
    extension: str | None = None  # inside {::comment} or {::nomarkdown}
    summary = False  # inside a <summary> of a markdown="1" block
    for i, line in enumerate(lines):
        if extension is not None:
            closing = _EXTENSION_CLOSE.match(line)
            lines[i] = ""
            if closing and closing.group(1) in (None, extension):
                extension = None
            continue
        if summary:
            summary = not _SUMMARY_CLOSE.search(line)
            lines[i] = ""
            continue
        fence, code = _code_fence(fence, line)
        if code:
            continue
        opening = _EXTENSION_OPEN.match(line)
        if opening:
            extension, lines[i] = opening.group(1), ""
            continue
        if markdown_blocks and _SUMMARY_OPEN.match(line):
            summary = not _SUMMARY_CLOSE.search(line)
            lines[i] = ""
            continue
        if "{::" in line:
            line = lines[i] = _EXTENSION_SPAN.sub("", line)
        if footnotes and "[^" in line:
            line = lines[i] = _drop_markers(line, i, footnotes, notes)
        if _TOC.match(line):
            lines[i] = ""
            j = i - 1
            while j >= 0 and not lines[j].strip():
                j -= 1
            if j >= 0 and _LIST_ITEM.match(lines[j]):
                lines[j] = ""
            continue
        if _BLOCK_IAL.match(line):
            if _NO_TOC.search(line) and i > 0 and _HEADING.match(lines[i - 1]):
                no_toc.add(i - 1)
            lines[i] = ""
            if _LABEL.search(line):
                _drop_labelled_paragraph(lines, i)
            continue
        opener = _MARKDOWN_OPEN.match(line)
        if opener:
            markdown_blocks.append(opener.group(1).lower())
            lines[i] = ""
            continue
        closer = _CLOSE_TAG.match(line)
        if closer and markdown_blocks and closer.group(1).lower() == markdown_blocks[-1]:
            markdown_blocks.pop()
            lines[i] = ""
            continue
        if _END_OF_BLOCK.match(line):
            lines[i] = ""  # kramdown's end-of-block marker: ends a list or paragraph, shows nothing
            continue
        definition = _DEFINITION.match(line)
        if definition and _defines(lines, i, definition_lines):
            lines[i] = definition.group(1)
            definition_lines.add(i)
            continue
        if _setext(lines, i):
            explicit = _HEADING_ID.search(line)
            if explicit:
                ids[i] = explicit.group(1) or explicit.group(2)
                line = line[: explicit.start()]
            lines[i] = _SPAN_IAL.sub("", line)
            continue
        heading = _HEADING.match(line)
        if heading:
            title = heading.group(2)
            if _NO_TOC.search(title):
                no_toc.add(i)
            explicit = _HEADING_ID.search(title)
            if explicit:
                ids[i] = explicit.group(1) or explicit.group(2)
                title = title[: explicit.start()]
            lines[i] = heading.group(1) + _SPAN_IAL.sub("", title)
            continue
        if "{:" in line:
            lines[i] = _SPAN_IAL.sub("", line)
    order = _join_split_tables(lines)
    return Prepared("\n".join(lines), ids, no_toc, notes, order)


def _defines(lines: list[str], i: int, definition_lines: set[int]) -> bool:
    """Whether line `i` (`: text`) is a definition of a kramdown definition list: under a term (a
    line of text, blank lines between allowed) or another definition. The term then ends with a
    colon, so the pair reads "Term: definition" (the documents have no definition lists); a term
    is a line of plain text, not a heading, table row, list item or HTML."""
    j = i - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    if j < 0:
        return False
    if j in definition_lines:
        return True
    if not _term(lines[j]):
        return False
    first = j  # each line of the paragraph above is a term of its own ("Offline, Online: ...")
    while first > 0 and lines[first - 1].strip() and first - 1 not in definition_lines and _term(lines[first - 1]):
        first -= 1
    for k in range(first, j):
        lines[k] = lines[k].rstrip() + ("" if lines[k].rstrip().endswith((",", ":")) else ",")
    term = lines[j].rstrip()
    lines[j] = term if term.endswith((":", ".", "?", "!")) else term + ":"
    return True


def _term(line: str) -> bool:
    """Whether a line of text can be a definition list's term: not a heading, table row, list
    item, code, quote or HTML."""
    return not (line.startswith(("    ", "\t", "<", "|", ">")) or _TABLE_ROW.match(line) or _LIST_ITEM.match(line)
                or _HEADING.match(line) or _SETEXT_UNDERLINE.match(line))


def _setext(lines: list[str], i: int) -> bool:
    """Whether line `i` is the text of a setext heading (underlined with `===` or `---`): a line of
    text at the start of a block, not a table row or list item."""
    line = lines[i]
    return (i + 1 < len(lines) and bool(_SETEXT_UNDERLINE.match(lines[i + 1])) and bool(line.strip())
            and not line.startswith("    ") and (i == 0 or not lines[i - 1].strip())
            and not _TABLE_ROW.match(line) and not _LIST_ITEM.match(line) and not _HEADING.match(line))


def _code_fence(fence: str | None, line: str) -> tuple[str | None, bool]:
    """Code fences, a line at a time: (the fence open after `line`, whether `line` is code: inside a
    fence or one of its fence lines). `fence` is the one open before it (None: none)."""
    m = _FENCE.match(line)
    if fence is not None:
        closes = m is not None and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence)
        return (None if closes else fence), True
    return (m.group(1), True) if m else (None, False)


def _join_split_tables(lines: list[str]) -> list[int] | None:
    """Move the blank lines between the rows of a table (one with a delimiter row) below the rows
    that follow them, in place; the new order of the lines (None when no table is split)."""
    order = list(range(len(lines)))
    changed = False
    fence: str | None = None
    table = False  # inside a table that has its delimiter row
    i = 0
    while i < len(lines):
        line = lines[i]
        fence, code = _code_fence(fence, line)
        if code:
            table = False
        elif _TABLE_ROW.match(line):
            table = table or (i + 1 < len(lines) and bool(_TABLE_DELIMITER.match(lines[i + 1])))
        elif table and _COMMENT_OPEN.match(line) and _blank_comment(lines, i):
            continue  # a row commented out: its lines are now blank, read as the blank lines below
        elif table and not line.strip():
            j = i
            while j < len(lines):  # the blank lines, and the comments among them (rows commented out)
                if lines[j].strip() and not (_COMMENT_OPEN.match(lines[j]) and _blank_comment(lines, j)):
                    break
                j += 1
            k = j
            while k < len(lines) and _TABLE_ROW.match(lines[k]) and not _TABLE_DELIMITER.match(lines[k]):
                k += 1
            if k == j or (k < len(lines) and _TABLE_DELIMITER.match(lines[k])):
                table = False  # not rows, or a new table with its own header
            else:
                order[i:k] = order[j:k] + order[i:j]
                lines[i:k] = lines[j:k] + lines[i:j]
                changed = True
                i += k - j  # the first moved blank line: more rows may follow it
                continue
        else:
            table = False
        i += 1
    return order if changed else None


def _blank_comment(lines: list[str], i: int) -> bool:
    """Blank the HTML comment that starts line `i` and ends a line (`<!--` ... `-->`, nothing after
    it): it is invisible on the site. False (nothing blanked) when text follows the comment."""
    for k in range(i, len(lines)):
        end = lines[k].find("-->", lines[i].find("<!--") + 4 if k == i else 0)
        if end >= 0:
            if lines[k][end + 3:].strip():
                return False
            lines[i:k + 1] = [""] * (k + 1 - i)
            return True
    return False


def _drop_definitions(lines: list[str]) -> dict[str, str]:
    """Blank the abbreviation and footnote definitions (outside code fences); {footnote name: its note}."""
    footnotes: dict[str, str] = {}
    fence: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        fence, code = _code_fence(fence, line)
        if code:
            pass
        elif _ABBREVIATION.match(line):
            lines[i] = ""
        else:
            definition = _FOOTNOTE_DEF.match(line)
            if definition:
                note = [definition.group(2).strip()]
                lines[i] = ""
                j = i + 1
                while j < len(lines):  # its indented lines, blank lines between them included
                    if _INDENTED.match(lines[j]):
                        note.append(lines[j].strip())
                    elif lines[j].strip():
                        break
                    elif not any(_INDENTED.match(k) for k in lines[j + 1: j + 2]):
                        break
                    lines[j] = ""
                    j += 1
                footnotes.setdefault(definition.group(1), " ".join(p for p in note if p))
                i = j
                continue
        i += 1
    return footnotes


def _drop_markers(line: str, i: int, footnotes: dict[str, str], notes: list[tuple[int, str]]) -> str:
    def drop(m: re.Match) -> str:
        note = footnotes.get(m.group(1))
        if note is None:
            return m.group(0)
        notes.append((i, f"footnote [^{m.group(1)}] left out (the documents have no footnotes); its note "
                         f"'{note[:60]}' is not in the documents: write it into the text if it belongs there"))
        return ""
    parts = _CODE_SPAN.split(line)  # text, code span, its backticks, text, ...: `[^1]` in code is code
    return "".join(_FOOTNOTE_MARKER.sub(drop, p) if n % 3 == 0 else p if n % 3 == 1 else ""
                   for n, p in enumerate(parts))


def _drop_labelled_paragraph(lines: list[str], i: int) -> None:
    """A paragraph styled `.label` is a badge ("New", "Beta") beside a heading, not its text.
    kramdown applies a block IAL to the block right above it, or, after a blank line, to the
    block right below it."""
    def plain(j: int) -> bool:
        return bool(lines[j].strip()) and not _HEADING.match(lines[j]) and not _FENCE.match(lines[j])

    if i > 0 and plain(i - 1):
        j = i - 1
        while j >= 0 and plain(j):
            lines[j] = ""
            j -= 1
    elif i + 1 < len(lines) and plain(i + 1):
        j = i + 1
        while j < len(lines) and plain(j):
            lines[j] = ""
            j += 1


def auto_id(text: str) -> str:
    """kramdown-parser-gfm's header id: lower case; every character that is not a letter, mark,
    digit, connector, hyphen, space or tab removed; spaces and tabs to hyphens."""
    lowered = text.lower()
    kept = "".join(c for c in lowered if _word(c) or c in "- \t")
    return kept.replace(" ", "-").replace("\t", "-")


def _word(c: str) -> bool:
    """Ruby's \\p{Word}: letters, marks, decimal digits and connector punctuation."""
    cat = unicodedata.category(c)
    return cat[0] in "LM" or cat in ("Nd", "Pc")


class HeadingIds:
    """Ids in page order; a repeated auto id gets `-1`, `-2`... as kramdown does."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def next(self, text: str, explicit: str | None = None) -> str:
        if explicit:
            return explicit
        base = auto_id(text)
        n = self.counts.get(base, -1) + 1
        self.counts[base] = n
        return base if n == 0 else f"{base}-{n}"


def markdown_parser() -> MarkdownIt:
    """CommonMark with GFM tables and strikethrough, and kramdown's typography: smart quotes
    (`'` and `"` to ‘ ’ “ ”) and its symbols (`---`, `--`, `...`, `<<`, `>>`), as on the site."""
    md = MarkdownIt("commonmark", {"html": True, "typographer": True}).enable(["table", "strikethrough",
                                                                               "smartquotes"])
    md.core.ruler.after("smartquotes", "kramdown_symbols", _kramdown_symbols)
    return md


_SYMBOLS = re.compile(r"---|--|\.\.\.|<<|>>")
_SYMBOL_TEXT = {"---": "\u2014", "--": "\u2013", "...": "\u2026", "<<": "\u00ab", ">>": "\u00bb"}


def _kramdown_symbols(state) -> None:
    for token in state.tokens:
        if token.type != "inline":
            continue
        for child in token.children or []:
            if child.type == "text" and _SYMBOLS.search(child.content):
                child.content = _SYMBOLS.sub(lambda m: _SYMBOL_TEXT[m.group()], child.content)
