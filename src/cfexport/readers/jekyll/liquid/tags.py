"""Jekyll's tags: `{% link %}`, Jekyll-syntax `{% include %}` (from `_includes/` only) and
`{% include_relative %}` (from the page's own folder)."""

from __future__ import annotations

import posixpath
import re
from io import StringIO
from pathlib import Path
from typing import Any, Callable

from liquid.ast import Node
from liquid.context import RenderContext
from liquid.tag import Tag
from liquid.token import TOKEN_EXPRESSION, TOKEN_TAG

from cfexport.readers.jekyll.liquid.build import _prepare, _Unparsable, strip_liquid
from cfexport.readers.jekyll.liquid.filters import relative_url
from cfexport.readers.jekyll.liquid.state import _STATE, INCLUDE_DEPTH, INCLUDE_SIZE

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
        return _include(context, token, expr, "_includes", "include")


class _IncludeRelativeTag(_SimpleTag):
    """Jekyll's include_relative: a file in the folder of the page being rendered (or below it;
    never `..`, never outside the site), with parameters as for include."""

    name = "include_relative"

    @staticmethod
    def render(context: RenderContext, token: Any, expr: str) -> str:
        state = _STATE.get()
        assert state is not None
        return _include(context, token, expr, posixpath.dirname(state.file), "include_relative")


def _include(context: RenderContext, token: Any, expr: str, folder: str, tag: str) -> str:
    """An include tag's file from `folder` (site-relative), rendered with `include` set to its parameters."""
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
        state.warn_at(token, f"{{% {tag} {name} %}}: includes nested deeper than {INCLUDE_DEPTH} (an include "
                      "that includes itself?); Jekyll stops the build here too: fix the include", "error")
        return ""
    found = _read_include(state.site.root, folder, name)
    if isinstance(found, str):
        state.warn_at(token, f"{{% {tag} {name} %}}: {found}; left out")
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


def _read_include(root: Path, folder: str, name: str) -> tuple[str, str] | str:
    """The text of `folder`/`name` (site-relative, `folder` inside the site) and its site-relative
    path, or why it cannot be included: never `..`, an absolute path, or a file outside `folder`."""
    where = f"{folder}/" if folder else "the site's folder"
    if (
        not name
        or not _VALID_FILE.match(name)
        or name.startswith("/")
        or ".." in name.split("/")
        or "./" in name
    ):
        return f"not a file name inside {where}"
    try:
        site_root = Path(root).resolve()
        inc_dir = (site_root / folder).resolve()
        if not inc_dir.is_relative_to(site_root):
            return f"{where} is outside the site"
        target = (inc_dir / name).resolve()
        if not target.is_relative_to(inc_dir):
            return f"resolves outside {where}"
        if not target.is_file():
            return f"no such file in {where}"
        if target.stat().st_size > INCLUDE_SIZE:
            return f"larger than {INCLUDE_SIZE} bytes"
        data = target.read_bytes()
    except OSError as err:
        return f"cannot be read ({err.strerror or err})"
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    return text.lstrip("\ufeff"), posixpath.join(folder, name)
