"""Finding Liquid constructs in a text, and deciding which to keep, drop or rewrite."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from liquid.lex import compile_liquid_rules

# --- scanning -------------------------------------------------------------------------------

_RULES = compile_liquid_rules()  # the very patterns python-liquid's lexer uses

_BLOCKS = {
    "if": "endif",
    "unless": "endunless",
    "case": "endcase",
    "for": "endfor",
    "tablerow": "endtablerow",
    "capture": "endcapture",
    "ifchanged": "endifchanged",
}
_ENDS = {v: k for k, v in _BLOCKS.items()}
_MARKER_SAFE = {"if", "unless", "case", "highlight"}  # bodies rendered at most once, in place
_INLINE = {
    "assign", "increment", "decrement", "cycle", "echo", "liquid", "include", "include_relative", "link", "#",
    "break", "continue", "else", "elsif", "when",
}  # fmt: skip


@dataclass
class _Item:
    kind: str  # content | output | tag | raw | comment | doc | unclosed
    start: int
    end: int
    name: str = ""
    expr: str = ""
    body: tuple[int, int] = (0, 0)  # raw: the literal body
    action: str = "keep"  # keep | drop | open | close | hl_open | hl_close
    drop_to: int = -1  # index of the last item dropped with this one
    fence: str = ""


def _eol(src: str, pos: int) -> int:
    e = src.find("\n", pos)
    return len(src) if e < 0 else e


def _scan(src: str) -> list[_Item]:
    items: list[_Item] = []
    pos, n = 0, len(src)
    match = _RULES.match
    while pos < n:
        m = match(src, pos)
        if m is None:  # cannot happen with these rules; be safe
            items.append(_Item("content", pos, n))
            break
        kind = m.lastgroup
        if kind == "content":
            v = m.group()
            if v.startswith(("{{", "{%")):
                end = min(_eol(src, pos), m.end())
                items.append(_Item("unclosed", pos, end, name=v[:2]))
                pos = end
                continue
            items.append(_Item("content", pos, m.end()))
        elif kind == "output":
            stmt = m.group("stmt")
            if "{{" in stmt or "{%" in stmt:  # an unterminated '{{' swallowing what follows
                end = min(_eol(src, pos), _next_opener(src, pos + 2))
                items.append(_Item("unclosed", pos, end, name="{{"))
                pos = end
                continue
            items.append(_Item("output", pos, m.end(), expr=stmt))
        elif kind == "TAG":
            name, expr = m.group("name"), m.group("expr")
            if "{%" in expr:  # an unterminated '{%' swallowing what follows
                end = min(_eol(src, pos), _next_opener(src, pos + 2))
                items.append(_Item("unclosed", pos, end, name="{%"))
                pos = end
                continue
            if name == "comment":
                end = _comment_end(src, m.end())
                if end < 0:
                    items.append(_Item("tag", pos, m.end(), name="comment", expr=expr))
                else:
                    items.append(_Item("comment", pos, end, name="comment"))
                    pos = end
                    continue
            else:
                items.append(_Item("tag", pos, m.end(), name=name, expr=expr))
        elif kind == "RAW":
            items.append(_Item("raw", pos, m.end(), name="raw", body=m.span("raw")))
        else:  # DOC
            items.append(_Item("doc", pos, m.end(), name="doc"))
        pos = m.end()
    return items


def _next_opener(src: str, pos: int) -> int:
    a, b = src.find("{{", pos), src.find("{%", pos)
    cands = [x for x in (a, b) if x >= 0]
    return min(cands) if cands else len(src)


def _comment_end(src: str, pos: int) -> int:
    depth, n = 1, len(src)
    while pos < n:
        m = _RULES.match(src, pos)
        if m is None:
            return -1
        if m.lastgroup == "TAG":
            name = m.group("name")
            if name == "comment":
                depth += 1
            elif name == "endcomment":
                depth -= 1
                if not depth:
                    return m.end()
        pos = m.end()
    return -1


def _snippet(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"




# --- structure: decide what to keep, drop or rewrite ----------------------------------------


def _structure(items: list[_Item], src: str, warn: Callable[[int, str], None]) -> None:
    """Mark unknown tags/blocks, stray end tags and unclosed blocks; `warn(orig_index, msg)`."""
    tags = [i for i, it in enumerate(items) if it.kind == "tag"]
    consumed = -1
    stack: list[int] = []  # indexes of open known blocks
    for pos, i in enumerate(tags):
        if i <= consumed or items[i].action == "hl_close":
            continue
        it = items[i]
        name = it.name
        text = _snippet(src[it.start : it.end])
        if name in _BLOCKS:
            it.action = "open"
            stack.append(i)
        elif name in _ENDS:
            opener = _ENDS[name]
            if any(items[j].name == opener for j in stack):
                while items[stack[-1]].name != opener:
                    j = stack.pop()
                    items[j].action = "drop"
                    warn(items[j].start, f"{_snippet(src[items[j].start:items[j].end])}: never closed; tag left out")
                stack.pop()
                it.action = "close"
            else:
                it.action = "drop"
                warn(it.start, f"{text}: no matching {{% {opener} %}}; left out")
        elif name in _INLINE:
            it.action = "keep"
        else:
            end = _find_end(items, tags, pos, name)
            if name == "highlight" and end >= 0:
                lang = (it.expr.split() or [""])[0]
                lang = lang if re.fullmatch(r"[\w+#.\-]+", lang) else ""
                body = src[it.end : items[end].start]
                runs = [len(r) for r in re.findall(r"`+", body)]
                fence = "`" * max(3, max(runs, default=0) + 1)
                it.action, it.fence, it.name = "hl_open", fence + lang, "highlight"
                items[end].action, items[end].fence = "hl_close", fence
                warn(it.start, f"{text}: not evaluated by cfexport; its body is kept as a code block")
            elif end >= 0:
                it.action, it.drop_to = "drop", end
                consumed = end
                warn(it.start, f"{text}…{{% end{name} %}}: unknown block tag; left out with its contents")
            else:
                it.action = "drop"
                if name == "raw":
                    warn(it.start, f"{text}: never closed; tag left out")
                elif name == "comment":
                    warn(it.start, f"{text}: never closed; tag left out")
                else:
                    warn(it.start, f"{text}: unknown tag; left out")
    for j in stack:
        items[j].action = "drop"
        warn(items[j].start, f"{_snippet(src[items[j].start:items[j].end])}: never closed; tag left out")


def _find_end(items: list[_Item], tags: list[int], pos: int, name: str) -> int:
    depth = 0
    end = "end" + name
    for i in tags[pos + 1 :]:
        n = items[i].name
        if n == name:
            depth += 1
        elif n == end:
            if not depth:
                return i
            depth -= 1
    return -1
