"""Jekyll's Liquid pass: render a page body as Jekyll 4 (+ just-the-docs) would, before markdown.

A real Liquid engine (python-liquid 2) does the evaluating; this module adds what Jekyll adds
(`site`/`page` variables, the Jekyll filters, `{% link %}`, Jekyll-syntax `{% include %}`), locks
the engine down (no file access outside `_includes/`, bounded output, loops and nesting) and keeps
line numbers those of the source file.

What cfexport cannot evaluate (an unknown tag, block or filter, a syntax error) becomes a warning
naming file and line, and its Liquid text is left out of the output; nothing raises.

Line map: before rendering, an invisible marker carrying the line number is put at the start of
each source line that lies in plain text (not inside a `{%...%}`/`{{...}}`, nor in the body of a
block whose output may repeat or move: `for`, `tablerow`, `capture`, `ifchanged`). A marker is a
run of U+2000/U+2001 (en/em quad). Both are Unicode whitespace, so Liquid's whitespace control
(`{%-`, `-%}`) and its blank-block rule treat markers exactly like the whitespace around them;
both are canonically equivalent to U+2002/U+2003, which is what any pre-existing ones become.
After rendering, each output line that starts with a marker takes its line; any other output line
(from a loop, an include, a variable holding newlines) takes the line of the marker before it.
"""

from __future__ import annotations

import contextvars
import functools
import json
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import quote, quote_plus

from liquid import Environment, Mode, Undefined
from liquid.ast import Node
from liquid.context import RenderContext
from liquid.exceptions import (
    ContextDepthError,
    FilterArgumentError,
    LiquidError,
    LocalNamespaceLimitError,
    LoopIterationLimitError,
    OutputStreamLimitError,
)
from liquid.filter import with_context
from liquid.lex import compile_liquid_rules
from liquid.output import LimitedStringIO
from liquid.tag import Tag
from liquid.token import TOKEN_EXPRESSION, TOKEN_TAG

from cfexport.model import Problem, Source

__all__ = ["LiquidSite", "Rendered", "render_page", "strip_liquid"]


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


# --- markers --------------------------------------------------------------------------------

_Z, _O = "\u2000", "\u2001"
_BITS = 20
_MARK_LEN = 1 + _BITS
_MAX_MARK = (1 << _BITS) - 1
_TO_MARK = str.maketrans("01", _Z + _O)
_FROM_MARK = {ord(_Z): "0", ord(_O): "1"}
_SANITISE = str.maketrans({_Z: "\u2002", _O: "\u2003"})  # canonical equivalents
_DROP_MARKS = str.maketrans({_Z: None, _O: None})


def _marker(k: int) -> str:
    return _O + format(k, f"0{_BITS}b").translate(_TO_MARK)


def _sanitise(value: Any) -> Any:
    """Config/front-matter values with any marker character replaced by its equivalent."""
    if isinstance(value, str):
        return value.translate(_SANITISE) if (_Z in value or _O in value) else value
    if isinstance(value, Mapping):
        return {_sanitise(k): _sanitise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_sanitise(v) for v in value]
    return value


def _split_marked(rendered: str, body_line: int) -> tuple[str, list[int]]:
    out_lines = rendered.split("\n")
    lines: list[int] = []
    texts: list[str] = []
    cur = body_line
    for ln in out_lines:
        if ln[:1] == _O and len(ln) >= _MARK_LEN:
            bits = ln[1:_MARK_LEN]
            if not bits.strip(_Z + _O):
                cur = body_line + int(bits.translate(_FROM_MARK), 2)
                ln = ln[_MARK_LEN:]
        lines.append(cur)
        texts.append(ln)
    text = "\n".join(texts)
    if _Z in text or _O in text:
        text = text.translate(_DROP_MARKS)
    return text, lines


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
    "assign", "increment", "decrement", "cycle", "echo", "liquid", "include", "link", "#",
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


def _snippet(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _line_starts(text: str) -> list[int]:
    starts = [0]
    find = text.find
    i = find("\n")
    while i >= 0:
        starts.append(i + 1)
        i = find("\n", i + 1)
    return starts


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

    def warn(self, file: str, line: int, message: str) -> None:
        self.problems.append(Problem("warning", Source(file, line), message))

    def warn_at(self, token: Any, message: str) -> None:
        info = self.sources.get(id(getattr(token, "source", None))) if token else None
        if info is None or token.start_index < 0:  # a fragment, e.g. where_exp's condition
            self.warn(self.file, self.body_line, message)
            return
        line, snippet = info.where(token.start_index)
        if snippet and not message.startswith(("{{", "{%")):
            message = f"{snippet}: {message}"
        if info.included_from:
            message = f"{message} (included from {info.included_from})"
        self.warn(info.file, line, message)


_STATE: contextvars.ContextVar[_State | None] = contextvars.ContextVar("cfexport_liquid_state", default=None)


# --- the environment ------------------------------------------------------------------------


class _Env(Environment):
    """Jekyll-flavoured, locked down, and reporting every error as a warning of the page."""

    loop_iteration_limit = LOOP_LIMIT
    output_stream_limit = OUTPUT_LIMIT
    local_namespace_limit = NAMESPACE_LIMIT
    context_depth_limit = 30

    def error(self, exc: Any, msg: str | None = None, token: Any = None) -> None:  # noqa: D102
        if not isinstance(exc, LiquidError):
            exc = exc(msg, token=token)
        if isinstance(exc, (OutputStreamLimitError, LocalNamespaceLimitError)):
            raise exc  # stop the whole page; render_page reports it once
        state = _STATE.get()
        if state is None:
            raise exc
        tok = exc.token if exc.token is not None and exc.token.start_index >= 0 else token
        if tok is None or tok.start_index < 0:
            tok = state.last_token
        state.warn_at(tok, _describe(exc))


def _describe(exc: LiquidError) -> str:
    text = str(exc.message or type(exc).__name__)
    if isinstance(exc, LoopIterationLimitError):
        return f"loop stopped: more than {LOOP_LIMIT} iterations; the rest of it is left out"
    if isinstance(exc, ContextDepthError):
        return "nesting too deep; left out"
    if type(exc).__name__ == "LiquidSyntaxError":
        return f"Liquid syntax error ({text}); left out"
    return f"cannot evaluate ({text}); left out"


class _Context(RenderContext):
    def filter(self, name: str, token: Any) -> Callable[..., object]:  # noqa: A003
        if name in self.env.filters:
            return super().filter(name, token)
        state = _STATE.get()
        if state is not None:
            state.warn_at(token, f"unknown filter '{name}'; output left out")
        return _empty_filter


def _empty_filter(_value: object, *_args: object, **_kwargs: object) -> str:
    return ""


def _site() -> LiquidSite:
    state = _STATE.get()
    assert state is not None
    return state.site


# --- Jekyll filters -------------------------------------------------------------------------


def _is_absolute(url: str) -> bool:
    """Addressable's `absolute?`: the URL has a scheme."""
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:", url))


def _normalise(url: str) -> str:
    return quote(url, safe="/:@!$&'()*+,;=-._~%?#[]")


def _leading_slash(part: str) -> str:
    return part if not part or part.startswith("/") else "/" + part


def _s(value: object) -> str:
    if value is None or _undefined(value):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _undefined(value: object) -> bool:
    return isinstance(value, Undefined)


def relative_url(value: object) -> object:
    if value is None or _undefined(value):
        return None
    url = _s(value)
    if _is_absolute(url):
        return url
    baseurl = _s(_site().config.get("baseurl"))
    if baseurl.endswith("/"):
        baseurl = baseurl[:-1]
    return _normalise(_leading_slash(baseurl) + _leading_slash(url))


def absolute_url(value: object) -> object:
    if value is None or _undefined(value):
        return None
    url = _s(value)
    if _is_absolute(url):
        return url
    rel = relative_url(url)
    site_url = _site().config.get("url")
    if site_url is None:
        return rel
    return _normalise(_s(site_url) + str(rel))


def markdownify(value: object) -> str:
    return _s(value)  # the page goes to a markdown parser anyway


def _plain(value: object) -> object:
    if value is None or _undefined(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, range)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def jsonify(value: object) -> str:
    return json.dumps(_plain(value), ensure_ascii=False, separators=(",", ":"))


_SLUG_RE = {
    "raw": re.compile(r"\s+"),
    "default": re.compile(r"[\W_]+"),
    "pretty": re.compile(r"[^\w._~!$&'()+,;=@]+|_+"),
    "ascii": re.compile(r"[^a-zA-Z0-9]+"),
}


def slugify(value: object, mode: object = "default", cased: object = False) -> str:
    """Jekyll's `Utils.slugify`."""
    text = _s(value)
    mode = _s(mode) or "default"
    if mode == "none" or mode not in (*_SLUG_RE, "latin"):
        return text if mode == "none" else (text if cased else text.lower())
    if mode == "latin":
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
        mode = "ascii"
    if mode == "pretty":
        slug = re.sub(r"[^\w._~!$&'()+,;=@]+", "-", text)
    else:
        slug = _SLUG_RE[mode].sub("-", text)
    slug = re.sub(r"^-+|-+$", "", slug) if mode != "raw" else slug.strip("-")
    return slug if cased is True else slug.lower()


def xml_escape(value: object) -> str:
    return (
        _s(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def cgi_escape(value: object) -> str:
    return quote_plus(_s(value), safe="~")


def uri_escape(value: object) -> str:
    return quote(_s(value), safe="!#$&'()*+,/:;=?@[]~%")


def number_of_words(value: object, _mode: object = None) -> int:
    return len(_s(value).split())


def normalize_whitespace(value: object) -> str:
    return " ".join(_s(value).split())


def array_to_sentence_string(value: object, connector: object = "and") -> str:
    items = [_s(v) for v in _seq(value)]
    conn = _s(connector)
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    if len(items) == 2:
        return f"{items[0]} {conn} {items[1]}"
    return f"{', '.join(items[:-1])}, {conn} {items[-1]}"


def to_integer(value: object) -> object:
    try:
        return int(float(_s(value))) if not isinstance(value, bool) else int(value)
    except ValueError:
        return 0


def _seq(value: object) -> list[Any]:
    if value is None or _undefined(value):
        return []
    if isinstance(value, Mapping):
        return list(value.values())
    if isinstance(value, str):
        return [value]
    if isinstance(value, range) and len(value) > SEQUENCE_LIMIT:
        raise FilterArgumentError(f"sequence longer than {SEQUENCE_LIMIT}", token=None)
    try:
        return list(value)  # type: ignore[call-overload]
    except TypeError:
        return [value]


def _prop(item: object, prop: str) -> object:
    for part in prop.split("."):
        if isinstance(item, Mapping):
            item = item.get(part)
        else:
            return None
    return item


def where(value: object, prop: object = None, target: object = None) -> object:
    """Jekyll's `where`: items whose property, as a string, equals the target as a string."""
    if not prop or isinstance(target, (list, Mapping)):
        return value
    out = []
    want = None if target is None or _undefined(target) else _s(target)
    for item in _seq(value):
        have = _prop(item, _s(prop))
        if want is None:
            if have is None:
                out.append(item)
        elif isinstance(have, str):
            if have == want:
                out.append(item)
        elif any(_s(h) == want for h in (have if isinstance(have, list) else [have])):
            out.append(item)
    return out


@with_context
def where_exp(value: object, variable: object, expression: object, *, context: RenderContext) -> object:
    name, expr = _s(variable).strip(), _s(expression)
    if not re.fullmatch(r"[A-Za-z_][\w-]*", name) or "%}" in expr or "{%" in expr:
        raise FilterArgumentError("where_exp: invalid arguments", token=None)
    test = context.env.from_string("{% if " + expr + " %}1{% endif %}")
    out = []
    for item in _seq(value):
        buf = StringIO()
        test.render_with_context(context, buf, partial=True, **{name: item})
        if buf.getvalue() == "1":
            out.append(item)
    return out


def sort(value: object, prop: object = None, nils: object = "first") -> list[Any]:
    items = _seq(value)
    last = _s(nils) == "last"

    def key(item: object) -> tuple[int, int, Any]:
        v = _prop(item, _s(prop)) if prop is not None and not _undefined(prop) else item
        if v is None or _undefined(v):
            return (1 if last else -1, 0, "")
        if isinstance(v, bool):
            return (0, 1, str(v))
        if isinstance(v, (int, float)):
            return (0, 0, v)
        return (0, 1, str(v))

    return sorted(items, key=key)


def group_by(value: object, prop: object) -> list[dict[str, Any]]:
    groups: dict[str, list[Any]] = {}
    for item in _seq(value):
        groups.setdefault(_s(_prop(item, _s(prop))), []).append(item)
    return [{"name": k, "items": v, "size": len(v)} for k, v in groups.items()]


def _guard(func: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse to walk an enormous range, e.g. `{{ (1..1000000000) | join }}`."""

    @functools.wraps(func)
    def guarded(value: object, *args: Any, **kwargs: Any) -> Any:
        if isinstance(value, range) and len(value) > SEQUENCE_LIMIT:
            raise FilterArgumentError(f"sequence longer than {SEQUENCE_LIMIT}", token=None)
        return func(value, *args, **kwargs)

    return guarded


_JEKYLL_FILTERS: dict[str, Callable[..., Any]] = {
    "relative_url": relative_url,
    "absolute_url": absolute_url,
    "markdownify": markdownify,
    "smartify": markdownify,
    "jsonify": jsonify,
    "slugify": slugify,
    "xml_escape": xml_escape,
    "cgi_escape": cgi_escape,
    "uri_escape": uri_escape,
    "number_of_words": number_of_words,
    "normalize_whitespace": normalize_whitespace,
    "array_to_sentence_string": array_to_sentence_string,
    "to_integer": to_integer,
    "where": where,
    "where_exp": where_exp,
    "sort": sort,
    "group_by": group_by,
}


# --- Jekyll tags ----------------------------------------------------------------------------


class _RenderedNode(Node):
    """A tag whose whole behaviour is one function of the context."""

    __slots__ = ("expr", "func")

    def __init__(self, token: Any, expr: str, func: Callable[[RenderContext, Any, str], str]):
        super().__init__(token)
        self.expr = expr
        self.func = func
        self.blank = False

    def __str__(self) -> str:
        return f"{{% {self.token.value} {self.expr} %}}"

    def render_to_output(self, context: RenderContext, buffer: Any) -> int:
        return buffer.write(self.func(context, self.token, self.expr))

    def children(self, *_a: Any, **_k: Any) -> list[Any]:
        return []


class _SimpleTag(Tag):
    block = False

    def parse(self, stream: Any) -> Node:
        token = stream.eat(TOKEN_TAG)
        expr = ""
        if stream.current.kind == TOKEN_EXPRESSION:
            expr = stream.current.value
        else:
            stream.pos -= 1  # leave the stream on this tag, as python-liquid's tags do
        return _RenderedNode(token, expr, type(self).render)

    @staticmethod
    def render(context: RenderContext, token: Any, expr: str) -> str:  # pragma: no cover
        raise NotImplementedError


def _render_fragment(context: RenderContext, text: str) -> str:
    """`{{ var }}` inside a tag's argument, as Jekyll renders it."""
    if "{{" not in text:
        return text
    buf = StringIO()
    context.env.from_string(text).render_with_context(context, buf, partial=True)
    return buf.getvalue()


class _LinkTag(_SimpleTag):
    name = "link"

    @staticmethod
    def render(context: RenderContext, token: Any, expr: str) -> str:
        state = _STATE.get()
        assert state is not None
        path = _render_fragment(context, expr).strip()
        url = state.site.url_of(path) if path else None
        if url is None and path.startswith("/"):
            url = state.site.url_of(path.lstrip("/"))
        if url is None:
            state.warn_at(token, f"{{% link {path} %}}: no such page")
            return ""
        return str(relative_url(url))


_PARAM = re.compile(
    r"""([\w-]+)\s*=\s*(?:"([^"\\]*(?:\\.[^"\\]*)*)"|'([^'\\]*(?:\\.[^'\\]*)*)'|([\w.-]+))"""
)
_VARIABLE_FILE = re.compile(r"(?P<file>[^{]*(?:\{\{\s*[\w\-.]+\s*(?:\|.*?)?\}\}[^\s{}]*)+)(?P<params>.*)", re.S)
_VALID_FILE = re.compile(r"^[\w/.\-()+~#@]+$")


class _IncludeTag(_SimpleTag):
    """Jekyll's include: `{% include file.md key="value" key2=var %}`, from `_includes/` only."""

    name = "include"

    @staticmethod
    def render(context: RenderContext, token: Any, expr: str) -> str:
        state = _STATE.get()
        assert state is not None
        m = _VARIABLE_FILE.fullmatch(expr.strip())
        if m:
            name, params_text = _render_fragment(context, m.group("file")).strip(), m.group("params")
        else:
            name, _, params_text = expr.strip().partition(" ")
        params: dict[str, object] = {}
        for pm in _PARAM.finditer(params_text):
            key, dq, sq, var = pm.groups()
            if dq is not None:
                params[key] = dq.replace('\\"', '"')
            elif sq is not None:
                params[key] = sq.replace("\\'", "'")
            else:
                params[key] = context.get(var.split("."), token=token, default=None)
        if state.include_depth >= INCLUDE_DEPTH:
            state.warn_at(token, f"{{% include {name} %}}: includes nested deeper than {INCLUDE_DEPTH}; left out")
            return ""
        found = _read_include(state.site.root, name)
        if isinstance(found, str):
            state.warn_at(token, f"{{% include {name} %}}: {found}; left out")
            return ""
        text, rel = found
        info_from = state.sources.get(id(token.source))
        where_from = ""
        if info_from is not None:
            where_from = f"{info_from.file}:{info_from.where(token.start_index)[0]}"
        try:
            processed, info = _prepare(text, rel, 1, state, with_markers=False, included_from=where_from)
        except _Unparsable as bad:
            state.warn(rel, 1 + text.count("\n", 0, bad.index),
                       f"Liquid syntax error ({bad.reason}); all Liquid of this include is left out"
                       + (f" (included from {where_from})" if where_from else ""))
            return strip_liquid(text)[0]
        template = context.env.from_string(processed)
        state.sources[id(processed)] = info
        state.keep.append(processed)
        buf = StringIO()
        state.include_depth += 1
        try:
            with context.extend({"include": params}):
                template.render_with_context(context, buf, partial=True)
        finally:
            state.include_depth -= 1
        return buf.getvalue()


def _read_include(root: Path, name: str) -> tuple[str, str] | str:
    if (
        not name
        or not _VALID_FILE.match(name)
        or name.startswith("/")
        or ".." in name.split("/")
        or "./" in name
    ):
        return "not a file name inside _includes/"
    try:
        site_root = Path(root).resolve()
        inc_dir = (site_root / "_includes").resolve()
        if not inc_dir.is_relative_to(site_root):
            return "_includes/ is outside the site"
        target = (inc_dir / name).resolve()
        if not target.is_relative_to(inc_dir):
            return "resolves outside _includes/"
        if not target.is_file():
            return "no such file in _includes/"
        if target.stat().st_size > INCLUDE_SIZE:
            return f"larger than {INCLUDE_SIZE} bytes"
        data = target.read_bytes()
    except OSError as err:
        return f"cannot be read ({err.strerror or err})"
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    return text.lstrip("\ufeff"), f"_includes/{name}"


def _noting_position(get_node: Callable[[Any], Node]) -> Callable[[Any], Node]:
    """Remember where the parser is, for the few syntax errors whose token is end-of-input."""

    @functools.wraps(get_node)
    def wrapper(stream: Any) -> Node:
        state = _STATE.get()
        if state is not None:
            state.last_token = stream.current
        return get_node(stream)

    return wrapper


def _make_env() -> _Env:
    env = _Env(tolerance=Mode.WARN, strict_filters=True)
    for tag in ("render",):  # not in Jekyll's Liquid 4; would need a loader
        env.tags.pop(tag, None)
    env.add_tag(_LinkTag)
    env.add_tag(_IncludeTag)
    for tag in env.tags.values():
        tag.get_node = _noting_position(tag.get_node)  # type: ignore[method-assign]
    for name in ("safe", "escapejs"):  # python-liquid extras, not Liquid/Jekyll
        env.filters.pop(name, None)
    env.filters.update(_JEKYLL_FILTERS)
    for name, func in list(env.filters.items()):
        env.filters[name] = _guard(func)
    return env


_ENV: _Env | None = None


def _env() -> _Env:
    global _ENV
    if _ENV is None:
        _ENV = _make_env()
    return _ENV


_KNOWN = set(_BLOCKS) | set(_ENDS) | _INLINE


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


# --- the entry point ------------------------------------------------------------------------


def _has_liquid(text: str) -> bool:
    return "{{" in text or "{%" in text


def render_page(body: str, file: str, body_line: int, page: dict, site: LiquidSite) -> Rendered:
    """Render a page body's Liquid as Jekyll would; see the module docstring."""
    if not _has_liquid(body):
        return Rendered(body, list(range(body_line, body_line + body.count("\n") + 1)), [])
    state = _State(site=site, file=file, body_line=body_line)
    token = _STATE.set(state)
    try:
        return _render(body, file, body_line, page, site, state)
    except Exception as err:  # noqa: BLE001  (never let anything escape)
        text, lines = strip_liquid(body, body_line)
        state.warn(file, body_line, f"Liquid could not be evaluated ({type(err).__name__}: {err}); "
                   "all Liquid left out of this page")
        return Rendered(text, lines, _dedupe(state.problems, file))
    finally:
        _STATE.reset(token)


def _render(body: str, file: str, body_line: int, page: dict, site: LiquidSite, state: _State) -> Rendered:
    src = body.translate(_SANITISE)
    try:
        processed, info = _prepare(src, file, body_line, state, with_markers=True)
    except _Unparsable as bad:
        line = body_line + src.count("\n", 0, bad.index)
        state.problems.clear()
        state.warn(file, line, f"Liquid syntax error ({bad.reason}); the page cannot be parsed, "
                   "so all its Liquid is left out")
        text, lines = strip_liquid(body, body_line)
        return Rendered(text, lines, list(state.problems))
    env = _env()
    state.sources[id(processed)] = info
    template = env.from_string(processed)
    context = _Context(
        template,
        globals={"site": _site_vars(site.config), "page": _sanitise(page), "jekyll": {"environment": "production"}},
    )
    buf = LimitedStringIO(limit=OUTPUT_LIMIT)
    try:
        template.render_with_context(context, buf)
    except OutputStreamLimitError:
        state.warn(file, body_line, f"Liquid output larger than {OUTPUT_LIMIT} bytes; the rest of the page is left out")
    except LocalNamespaceLimitError:
        state.warn(file, body_line, "Liquid variables too large; the rest of the page is left out")
    text, lines = _split_marked(buf.getvalue(), body_line)
    return Rendered(text, lines, _dedupe(state.problems, file))


_SITE_VARS: dict[int, tuple[dict, Any]] = {}


def _site_vars(config: dict) -> Any:
    """`site`, sanitised once per config (a build renders hundreds of pages with one)."""
    hit = _SITE_VARS.get(id(config))
    if hit is not None and hit[0] is config:
        return hit[1]
    if len(_SITE_VARS) > 8:
        _SITE_VARS.clear()
    value = _sanitise(config)
    _SITE_VARS[id(config)] = (config, value)
    return value


def _dedupe(problems: list[Problem], file: str) -> list[Problem]:
    """Each finding once (a loop repeats them): the page's in line order, then its includes'."""
    return sorted(
        dict.fromkeys(problems), key=lambda p: (p.source.file != file, p.source.file, p.source.line)
    )
