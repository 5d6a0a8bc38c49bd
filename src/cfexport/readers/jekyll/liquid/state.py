"""Limits, the interface types, source positions, and the per-call render state."""

from __future__ import annotations

import contextvars
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from cfexport.model import Problem, Source
from cfexport.readers.jekyll.liquid.scan import _Item, _snippet

# --- limits ---------------------------------------------------------------------------------

OUTPUT_LIMIT = 8 * 1024 * 1024  # bytes of output per page (includes count towards it)
LOOP_LIMIT = 100_000  # iterations of nested loops (product of their lengths)
NAMESPACE_LIMIT = 16 * 1024 * 1024  # "bytes" of assigned/captured values (sys.getsizeof)
SEQUENCE_LIMIT = 100_000  # longest range a filter will walk, e.g. {{ (1..1e9) | join }}
INCLUDE_DEPTH = 8  # nested {% include %}
INCLUDE_SIZE = 1024 * 1024  # bytes of one include file


# --- the interface --------------------------------------------------------------------------


@dataclass(frozen=True)
class LiquidSite:
    root: Path  # the site root folder (holds _config.yml, _includes/)
    config: dict  # _config.yml as loaded
    url_of: Callable[[str], str | None]  # "careers/eng/index.md" -> "/careers/eng/" (no baseurl)


@dataclass(frozen=True)
class Rendered:
    text: str  # the page body after Liquid
    lines: list[int]  # lines[i] = the 1-based source line output line i came from
    problems: list[Problem]


# --- source positions and messages ----------------------------------------------------------


@dataclass
class _SourceInfo:
    file: str
    orig: str  # the text as read (after sanitising)
    first_line: int  # file line of orig[0]
    seg_new: list[int]  # start offsets, in the processed text, of its segments
    seg_orig: list[int]  # where each segment comes from in orig
    seg_insert: list[bool]  # True: inserted text (maps to one point)
    line_starts: list[int]
    items: list[_Item]
    included_from: str = ""

    def orig_index(self, idx: int) -> int:
        i = bisect_right(self.seg_new, idx) - 1
        if i < 0:
            return 0
        if self.seg_insert[i]:
            return self.seg_orig[i]
        return self.seg_orig[i] + (idx - self.seg_new[i])

    def line_of_orig(self, oidx: int) -> int:
        return self.first_line + bisect_right(self.line_starts, oidx) - 1

    def where(self, idx: int) -> tuple[int, str]:
        oidx = self.orig_index(idx)
        snippet = ""
        for it in self.items:
            if it.start <= oidx < it.end and it.kind in ("output", "tag", "unclosed"):
                snippet = _snippet(self.orig[it.start : it.end])
                oidx = it.start
                break
        return self.line_of_orig(oidx), snippet


# --- render state (per call; contextvar so threads and nested renders stay apart) -----------


@dataclass
class _State:
    site: LiquidSite
    file: str
    problems: list[Problem] = field(default_factory=list)
    sources: dict[int, _SourceInfo] = field(default_factory=dict)
    body_line: int = 1
    keep: list[str] = field(default_factory=list)  # processed texts, alive while ids are keys
    include_depth: int = 0
    last_token: Any = None  # the token the parser was at, for errors that carry none

    def warn(self, file: str, line: int, message: str, severity: str = "warning") -> None:
        self.problems.append(Problem(severity, Source(file, line), message))

    def warn_at(self, token: Any, message: str, severity: str = "warning") -> None:
        info = self.sources.get(id(getattr(token, "source", None))) if token else None
        if info is None or token.start_index < 0:  # a fragment, e.g. where_exp's condition
            self.warn(self.file, self.body_line, message, severity)
            return
        line, snippet = info.where(token.start_index)
        if snippet and not message.startswith(("{{", "{%")):
            message = f"{snippet}: {message}"
        if info.included_from:
            message = f"{message} (included from {info.included_from})"
        self.warn(info.file, line, message, severity)


_STATE: contextvars.ContextVar[_State | None] = contextvars.ContextVar("cfexport_liquid_state", default=None)
