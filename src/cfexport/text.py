"""The one text normaliser at ingestion: what comes in is UTF-8, LF, NFC and holds no
character that any of our output formats refuses (XML 1.0 forbids C0 controls other
than tab and newline, U+FFFE, U+FFFF and lone surrogates)."""

from __future__ import annotations

import re
import unicodedata

from cfexport.model import Problem, Source

# C0 controls except \t and \n (\r is handled by newline folding), DEL is legal XML but
# invisible: kept. Non-characters U+FFFE/U+FFFF and lone surrogates.
ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


class DecodeError(Exception):
    """The file is not UTF-8; carries the line and a message that says what to do."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


def decode(data: bytes) -> str:
    """Strict UTF-8 with or without a BOM; an error names the byte, its position and line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        byte = data[exc.start : exc.start + 1].hex()
        raise DecodeError(
            line, f"not UTF-8 (byte 0x{byte} at byte position {exc.start}); re-save the file as UTF-8"
        ) from None


def normalise(text: str) -> str:
    """CRLF and CR to LF, then Unicode NFC. Illegal characters are left for `clean`, which
    reports them with their line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def clean(text: str, source: Source, problems: list[Problem]) -> str:
    """Drop characters no output format can hold, one warning per place."""
    if not ILLEGAL.search(text):
        return text
    found = sorted({f"U+{ord(c):04X}" for c in ILLEGAL.findall(text)})
    problems.append(
        Problem("warning", source, f"removed character(s) no document can hold: {', '.join(found)}")
    )
    return ILLEGAL.sub("", text)


def clean_lines(text: str, file: str, problems: list[Problem]) -> str:
    """`clean` over a whole page, warning once for each line that held such characters."""
    if not ILLEGAL.search(text):
        return text
    return "\n".join(clean(line, Source(file, i), problems) for i, line in enumerate(text.split("\n"), 1))


# Spaces pasted from Word or Google Docs (no-break, narrow no-break, zero-width...) where
# markdown needs a plain space or nothing: before a heading's or a table row's first
# character, and between a heading's `#`s and its text. Elsewhere they are kept.
_ODD_SPACE = "\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff"
_LEADING = re.compile(f"^[ {_ODD_SPACE}]*[{_ODD_SPACE}][ {_ODD_SPACE}]*(?=[#|])")
_AFTER_HASHES = re.compile(f"^(#{{1,6}})[{_ODD_SPACE}]+")


def fix_structure(text: str, file: str, problems: list[Problem]) -> str:
    """Make headings and table rows that odd spaces would hide visible to markdown again."""
    if not re.search(f"[{_ODD_SPACE}]", text):
        return text
    lines = text.split("\n")
    for i, line in enumerate(lines):
        fixed = _AFTER_HASHES.sub(r"\1 ", _LEADING.sub("", line))
        if fixed != line:
            problems.append(Problem("warning", Source(file, i + 1),
                                    "replaced a non-breaking or invisible space that hid a heading or table row"))
            lines[i] = fixed
    return "\n".join(lines)
