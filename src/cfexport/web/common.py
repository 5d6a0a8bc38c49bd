"""What every page module shares: the page renderer, the 400/404 errors, downloads, the CSRF
token and bounded request bodies."""

from __future__ import annotations

import hmac
import secrets
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from cfexport.web.store import Snapshot

HERE = Path(__file__).resolve().parent
CSRF_COOKIE = "cfexport_csrf"
CSRF_FIELD = "csrf_token"
CSRF_MAX_AGE = 12 * 3600  # a form left open over a working day still submits


class BadRequest(HTTPException):
    """A form or query value that cannot be used: a 400 page listing what to fix."""

    def __init__(self, *fixes: str, title: str = "Please check the form", back: str | None = None):
        super().__init__(400, "; ".join(fixes))
        self.fixes = list(fixes)
        self.title = title
        self.back = back


class NotFound(HTTPException):
    def __init__(self, what: str):
        super().__init__(404, what)
        self.what = what


class TooLarge(HTTPException):
    def __init__(self, what: str):
        super().__init__(413, what)
        self.what = what


@lru_cache(maxsize=1)
def environment():
    """The web pages' own jinja2 environment: autoescaped, strict, separate from the
    sandboxed environment of the document templates (theme.py)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["urlpath"] = lambda value: quote(str(value), safe="/")
    return env


def render(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    snap: Snapshot | None = context.pop("snap", None) or getattr(request.state, "snap", None)
    html = environment().get_template(template).render(
        request=request, snap=snap, csrf_token=csrf_token(request), path=request.url.path,
        framework=snap.framework if snap else None, **context)
    response = HTMLResponse(html, status_code=status)
    _set_csrf_cookie(request, response)
    return response


async def snapshot(request: Request) -> Snapshot:
    """The framework for this request (read again first when its pages changed)."""
    snap = await run_in_threadpool(request.app.state.store.snapshot)
    request.state.snap = snap
    return snap


async def framework_or_503(request: Request):
    snap = await snapshot(request)
    if snap.framework is None:
        raise HTTPException(503, "the framework cannot be read; see /problems")
    return snap


def download(data: bytes, file_name: str, media_type: str) -> Response:
    """An attachment; `file_name` is already a safe slug."""
    return Response(data, media_type=media_type, headers={
        "Content-Disposition": f"attachment; filename=\"{file_name}\"; filename*=UTF-8''{quote(file_name)}",
        "Cache-Control": "no-store"})


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
ZIP = "application/zip"


# -- CSRF: a signed token in a hidden field, its nonce in a cookie (double submit) -------------
def _serializer(request: Request):
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(request.app.state.secret, salt="cfexport-csrf")


def csrf_token(request: Request) -> str:
    nonce = getattr(request.state, "csrf_nonce", None) or request.cookies.get(CSRF_COOKIE) or ""
    if not (20 <= len(nonce) <= 64 and nonce.replace("-", "").replace("_", "").isalnum()):
        nonce = secrets.token_urlsafe(24)
    request.state.csrf_nonce = nonce
    return _serializer(request).dumps(nonce)


def _set_csrf_cookie(request: Request, response: Response) -> None:
    nonce = getattr(request.state, "csrf_nonce", None)
    if nonce and request.cookies.get(CSRF_COOKIE) != nonce:
        response.set_cookie(CSRF_COOKIE, nonce, max_age=CSRF_MAX_AGE, httponly=True, samesite="strict", path="/")


def check_csrf(request: Request, form: FormData) -> None:
    from itsdangerous import BadData

    token, cookie = form.get(CSRF_FIELD), request.cookies.get(CSRF_COOKIE)
    try:
        nonce = _serializer(request).loads(token, max_age=CSRF_MAX_AGE) if isinstance(token, str) else None
    except BadData:
        nonce = None
    if not nonce or not cookie or not hmac.compare_digest(str(nonce), cookie):
        raise BadRequest("the form has expired or did not come from this page: open the page again and resend it",
                         title="The form could not be accepted", back=request.url.path)


# -- bounded bodies -------------------------------------------------------------------------
async def bounded_form(request: Request, max_bytes: int, max_files: int, max_fields: int = 20) -> FormData:
    """The form, refusing a body over `max_bytes` (whatever Content-Length claims) and more than
    `max_files` files or `max_fields` fields; the CSRF token is checked before it is returned."""
    declared = request.headers.get("content-length")
    if declared is not None and (not (declared.isascii() and declared.isdigit()) or int(declared) > max_bytes):
        raise TooLarge(f"the upload is larger than {max_bytes // 1024} KiB")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge(f"the upload is larger than {max_bytes // 1024} KiB")
        chunks.append(chunk)
    body = b"".join(chunks)
    sent = False

    async def replay():
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    bounded = Request(request.scope, replay)
    try:
        form = await bounded.form(max_files=max_files, max_fields=max_fields, max_part_size=max_bytes)
    except HTTPException as exc:  # starlette's own: too many files or fields, a malformed body
        raise BadRequest(f"the form could not be read ({exc.detail}); open the page again and resend it") from None
    check_csrf(request, form)
    return form
