"""The locked-down, Jekyll-flavoured Liquid environment; every error becomes a warning of the page."""

from __future__ import annotations

import functools
from typing import Any, Callable

from liquid import Environment, Mode
from liquid.ast import Node
from liquid.context import RenderContext
from liquid.exceptions import (
    ContextDepthError,
    LiquidError,
    LocalNamespaceLimitError,
    LoopIterationLimitError,
    OutputStreamLimitError,
)

from cfexport.readers.jekyll.liquid.filters import _JEKYLL_FILTERS, _guard
from cfexport.readers.jekyll.liquid.state import (
    _STATE,
    LOOP_LIMIT,
    NAMESPACE_LIMIT,
    OUTPUT_LIMIT,
)
from cfexport.readers.jekyll.liquid.tags import _IncludeRelativeTag, _IncludeTag, _LinkTag

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
    env.add_tag(_IncludeRelativeTag)
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
