"""Building the text to render (markers in, unknown Liquid out), and the strip-everything fallback."""

from __future__ import annotations

from bisect import bisect_right

from cfexport.readers.jekyll.liquid.markers import (
    _MAX_MARK,
    _SANITISE,
    _marker,
    _split_marked,
)
from cfexport.readers.jekyll.liquid.scan import _MARKER_SAFE, _Item, _scan, _structure
from cfexport.readers.jekyll.liquid.state import _SourceInfo, _State


def _line_starts(text: str) -> list[int]:
    starts = [0]
    find = text.find
    i = find("\n")
    while i >= 0:
        starts.append(i + 1)
        i = find("\n", i + 1)
    return starts


# --- building the text to render ------------------------------------------------------------


class _Builder:
    def __init__(self, src: str) -> None:
        self.src = src
        self.parts: list[str] = []
        self.size = 0
        self.seg_new: list[int] = []
        self.seg_orig: list[int] = []
        self.seg_insert: list[bool] = []

    def copy(self, a: int, b: int) -> None:
        if b > a:
            self.seg_new.append(self.size)
            self.seg_orig.append(a)
            self.seg_insert.append(False)
            self.parts.append(self.src[a:b])
            self.size += b - a

    def insert(self, text: str, at: int) -> None:
        if text:
            self.seg_new.append(self.size)
            self.seg_orig.append(at)
            self.seg_insert.append(True)
            self.parts.append(text)
            self.size += len(text)

    def copy_marked(self, a: int, b: int, marks: bool) -> None:
        """Copy src[a:b], a marker before every line that starts in it."""
        src = self.src
        if not marks:
            self.copy(a, b)
            return
        p = a
        if p == 0 or src[p - 1] == "\n":
            self._mark(p)
        while True:
            nl = src.find("\n", p, b)
            if nl < 0:
                self.copy(p, b)
                return
            self.copy(p, nl + 1)
            p = nl + 1
            if p < b or p == len(src):  # (the empty last line after a final newline too)
                self._mark(p)
            if p >= b:
                return

    def _mark(self, p: int) -> None:
        k = self.line_index(p)
        if k <= _MAX_MARK:
            self.insert(_marker(k), p)

    def line_index(self, p: int) -> int:
        return self.src.count("\n", 0, p) if p < 4096 else self._fast_line(p)

    def _fast_line(self, p: int) -> int:
        if not hasattr(self, "_starts"):
            self._starts = _line_starts(self.src)
        return bisect_right(self._starts, p) - 1

    def text(self) -> str:
        return "".join(self.parts)


def _build(src: str, items: list[_Item], with_markers: bool) -> _Builder:
    b = _Builder(src)
    stack: list[str] = []
    safe = True
    i, n = 0, len(items)
    while i < n:
        it = items[i]
        marks = with_markers and safe
        if it.kind == "content":
            b.copy_marked(it.start, it.end, marks)
        elif it.kind == "raw":
            body_a, body_b = it.body
            if marks and (it.start == 0 or src[it.start - 1] == "\n"):
                b._mark(it.start)
            b.copy(it.start, body_a)
            b.copy_marked(body_a, body_b, marks)
            if marks and body_b > body_a and src[body_b - 1] == "\n":
                b._mark(body_b)
            b.copy(body_b, it.end)
        elif it.kind in ("output", "comment", "doc") or (it.kind == "tag" and it.action == "keep"):
            if marks and (it.start == 0 or src[it.start - 1] == "\n"):
                b._mark(it.start)
            b.copy(it.start, it.end)
        elif it.kind == "tag" and it.action in ("open", "close", "hl_open", "hl_close"):
            # the start of an end tag's line is still inside the block
            if marks and (it.start == 0 or src[it.start - 1] == "\n"):
                b._mark(it.start)
            at_line_start = it.start == 0 or src[it.start - 1] == "\n"
            if it.action == "hl_open":
                before = "" if at_line_start else "\n"
                after = "" if src.startswith("\n", it.end) else "\n"
                b.insert(before + it.fence + after, it.start)
            elif it.action == "hl_close":
                before = "" if at_line_start else "\n"
                b.insert(before + it.fence, it.start)
            else:
                b.copy(it.start, it.end)
            if it.action in ("open", "hl_open"):
                stack.append(it.name)
            elif stack:
                stack.pop()
            safe = all(s in _MARKER_SAFE for s in stack)
        else:  # dropped tag or range, unclosed opener: nothing, but keep the line's marker
            if marks and (it.start == 0 or src[it.start - 1] == "\n"):
                b._mark(it.start)
            if it.drop_to >= 0:  # the text after the block's end tag stays, on the block's line
                i = it.drop_to
        i += 1
    return b


def _prepare(
    text: str, file: str, first_line: int, state: _State, *, with_markers: bool, included_from: str = ""
) -> tuple[str, _SourceInfo]:
    """Scan, repair and (for pages) mark `text`; warnings go to `state`."""
    items = _scan(text)
    starts = _line_starts(text)

    def warn(oidx: int, message: str) -> None:
        line = first_line + bisect_right(starts, oidx) - 1
        if info.included_from:
            message = f"{message} (included from {info.included_from})"
        state.warn(file, line, message)

    info = _SourceInfo(file, text, first_line, [], [], [], starts, items, included_from)
    unclosed = next((it for it in items if it.kind == "unclosed"), None)
    if unclosed is not None:
        raise _Unparsable(unclosed.start, f"unterminated '{unclosed.name}'")
    _structure(items, text, warn)
    b = _build(text, items, with_markers)
    info.seg_new, info.seg_orig, info.seg_insert = b.seg_new, b.seg_orig, b.seg_insert
    return b.text(), info


class _Unparsable(Exception):
    def __init__(self, index: int, reason: str) -> None:
        super().__init__(reason)
        self.index = index
        self.reason = reason


# --- the fallback ---------------------------------------------------------------------------


def strip_liquid(body: str, body_line: int = 1) -> tuple[str, list[int]]:
    """Every `{{...}}` and `{%...%}` removed, comments with their bodies, raw bodies kept literally.

    The fallback for a page Liquid cannot parse; returns (text, lines) like `render_page`.
    """
    src = body.translate(_SANITISE)
    items = _scan(src)
    b = _Builder(src)
    for it in items:
        if it.kind == "content":
            b.copy_marked(it.start, it.end, True)
        elif it.kind == "raw":
            if it.start == 0 or src[it.start - 1] == "\n":
                b._mark(it.start)
            b.copy_marked(it.body[0], it.body[1], True)
            if it.body[1] > it.body[0] and src[it.body[1] - 1] == "\n":
                b._mark(it.body[1])
        elif it.start == 0 or src[it.start - 1] == "\n":
            b._mark(it.start)
    return _split_marked(b.text(), body_line)
