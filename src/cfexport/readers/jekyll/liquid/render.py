"""The entry point: render a page body's Liquid, falling back to stripping it."""

from __future__ import annotations

from typing import Any

from liquid.exceptions import LocalNamespaceLimitError, OutputStreamLimitError
from liquid.output import LimitedStringIO

from cfexport.model import Problem
from cfexport.readers.jekyll.liquid.build import _prepare, _Unparsable, strip_liquid
from cfexport.readers.jekyll.liquid.environment import _Context, _env
from cfexport.readers.jekyll.liquid.markers import _SANITISE, _sanitise, _split_marked
from cfexport.readers.jekyll.liquid.state import (
    _STATE,
    OUTPUT_LIMIT,
    LiquidSite,
    Rendered,
    _State,
)

# --- the entry point ------------------------------------------------------------------------


def _has_liquid(text: str) -> bool:
    return "{{" in text or "{%" in text


def render_page(body: str, file: str, body_line: int, page: dict, site: LiquidSite) -> Rendered:
    """Render a page body's Liquid as Jekyll would; see the package docstring."""
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
