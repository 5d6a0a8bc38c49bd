"""The web application: `create_app(framework_dir, templates_dir, out_dir, root=None)`.

Pages come from the router modules named in `PAGES` (see `pages/__init__.py`). Every
response carries a strict Content-Security-Policy (scripts from this server only, no inline
script), every page escapes what it shows (jinja2 autoescape), every form is CSRF-checked,
and a server error is logged with its traceback and shown as a plain page without one.
"""

from __future__ import annotations

import importlib
import logging
import secrets
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from cfexport.web import common
from cfexport.web.store import FrameworkStore

log = logging.getLogger("cfexport.web")

# One router module per page group, in cfexport.web.pages; each has `routes` (a list of routes)
# and may have `NAV` ((label, path)) for the header. To add a page: see pages/__init__.py.
PAGES = ("home", "roles", "compare", "matrix", "packs", "collect", "problems")

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class SecurityHeaders:
    """Pure ASGI middleware: the headers above on every response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.decode("latin-1").lower() not in {h.lower() for h in SECURITY_HEADERS}]
                headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in SECURITY_HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def nav() -> list[tuple[str, str]]:
    items = []
    for name in PAGES:
        module = importlib.import_module(f"cfexport.web.pages.{name}")
        items.extend(getattr(module, "NAV", ()))
    return items


async def _http_error(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    if isinstance(exc, common.BadRequest):
        return _error_page(request, status, exc.title, exc.fixes, exc.back)
    if status == 404:
        what = exc.what if isinstance(exc, common.NotFound) else "There is no page at this address."
        return _error_page(request, 404, "Page not found", [what], "/")
    if status == 413:
        back = exc.back if isinstance(exc, common.TooLarge) and exc.back else request.url.path
        return _error_page(request, 413, "The upload is too large", [str(exc.detail)], back)
    if status == 405:
        return _error_page(request, 405, "Not allowed", ["this address does not take that kind of request"], "/")
    if status == 503:
        return _error_page(request, 503, "The framework cannot be read", [
            "the framework's pages have errors and no earlier version could be read; see the problems page"],
            "/problems")
    return _error_page(request, status, "Something went wrong", [str(exc.detail)], "/")


def _error_page(request: Request, status: int, title: str, fixes: list[str], back: str | None) -> Response:
    try:
        return common.render(request, "error.html", status=status, title=title, fixes=fixes, back=back)
    except Exception:  # the error page itself failed: say so plainly
        log.exception("rendering the error page failed")
        return HTMLResponse(_PLAIN_500, status_code=status)


_PLAIN_500 = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Server error</title></head>"
              "<body><main><h1>Something went wrong on the server</h1><p>The error has been logged where "
              "<code>cfexport serve</code> runs. <a href=\"/\">Back to the framework</a></p></main></body></html>")


async def _export_error(request: Request, exc: Exception) -> Response:
    """A document the framework, the theme or a template as they stand cannot make: not a fault of
    the server's code (no traceback; Starlette re-raises what its catch-all handler answers, and the
    server logs it as a crash) but of its set-up, like a framework that cannot be read (503)."""
    log.warning("%s %s: %s", request.method, request.url.path, exc)
    return _error_page(request, 503, "The document could not be made",
                       [str(exc), "fix it and reload this page; the problems page lists what validate reports"],
                       "/problems")


async def _server_error(request: Request, exc: Exception) -> Response:
    """Logged with its traceback; the browser gets a plain page without one."""
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    try:
        return common.render(request, "error.html", status=500, title="Something went wrong on the server",
                             fixes=["the error has been logged where cfexport serve runs; please tell whoever "
                                    "looks after it"], back="/")
    except Exception:
        return HTMLResponse(_PLAIN_500, status_code=500)


def _luminance(hex6: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(hex6[i:i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def theme_css(templates: Path) -> str:
    """The theme's colours (templates/theme.yaml) as CSS variables. The primary colour is used
    for text on white and white on it, so one with less than 4.5:1 contrast (WCAG AA) is
    replaced by the shipped one; fills are only backgrounds of dark text."""
    from cfexport.theme import hex_colour, load_theme

    colours = {"primary": "1F3A5F", "accent": "2E86AB", "new": "E2F0D9", "todo": "FFF2CC", "text": "222222"}
    try:
        theme = (load_theme(templates).get("colours") or {})
    except Exception:  # a broken theme is reported on /problems; the page keeps its own colours
        theme = {}
    for key in colours:
        value = hex_colour(theme.get(key)) if isinstance(theme, dict) else None
        if value:
            colours[key] = value
    for key in ("primary", "text"):
        if 1.05 / (_luminance(colours[key]) + 0.05) < 4.5:
            colours[key] = {"primary": "1F3A5F", "text": "222222"}[key]
    for key in ("new", "todo"):
        if (_luminance(colours[key]) + 0.05) / (_luminance(colours["text"]) + 0.05) < 4.5:
            colours[key] = {"new": "E2F0D9", "todo": "FFF2CC"}[key]
    return ":root {\n" + "".join(f"  --{k}: #{v};\n" for k, v in colours.items()) + "}\n"


async def _theme_css(request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    css = await run_in_threadpool(theme_css, request.app.state.templates)
    return Response(css, media_type="text/css", headers={"Cache-Control": "no-cache"})


def create_app(framework_dir: Path, templates_dir: Path, out_dir: Path, root: str | None = None,
               check_every: float | None = None) -> Starlette:
    """The application for one framework. The framework is read here (once) and again when its
    pages change; `out_dir` receives a copy of every pack handed out (under `out_dir/packs/`)."""
    store = FrameworkStore(Path(framework_dir), Path(templates_dir), root,
                           **({"check_every": check_every} if check_every is not None else {}))
    routes: list = [Route("/theme.css", _theme_css), Mount("/static", app=StaticFiles(directory=str(common.HERE / "static")), name="static")]
    for name in PAGES:
        routes.extend(importlib.import_module(f"cfexport.web.pages.{name}").routes)
    from cfexport.exporters.base import ExportError

    app = Starlette(
        debug=False, routes=routes, middleware=[Middleware(SecurityHeaders)],
        exception_handlers={HTTPException: _http_error, ExportError: _export_error, Exception: _server_error},
    )
    app.state.store = store
    app.state.framework_dir = Path(framework_dir)
    app.state.templates = Path(templates_dir)
    app.state.out_dir = Path(out_dir)
    app.state.secret = secrets.token_bytes(32)  # per process: a restart makes open forms ask to be resent
    app.state.nav = nav()
    return app
