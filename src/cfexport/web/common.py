"""What every page module shares: the page renderer, the 400/404 errors, downloads, the CSRF
token, bounded request bodies and the one set of rules for uploaded files (`UploadRules`,
`read_uploads`, `save_uploads`)."""

from __future__ import annotations

import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
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
    def __init__(self, what: str, back: str | None = None):
        super().__init__(413, what)
        self.what = what
        self.back = back


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
async def bounded_form(request: Request, max_bytes: int, max_files: int, max_fields: int = 20,
                       rules: UploadRules | None = None, back: str | None = None) -> FormData:
    """The form, refusing a body over `max_bytes` (whatever Content-Length claims) and more than
    `max_files` files or `max_fields` fields; the CSRF token is checked before it is returned.
    With `rules`, a refusal names those limits (as the page states them)."""
    too_large = (f"the upload is larger than the limit: {rules.text()}" if rules
                 else f"the upload is larger than {max_bytes // 1024} KiB")
    declared = request.headers.get("content-length")
    if declared is not None and (not (declared.isascii() and declared.isdigit()) or int(declared) > max_bytes):
        raise TooLarge(too_large, back)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge(too_large, back)
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
        if rules and str(exc.detail).startswith("Too many files"):
            raise BadRequest(f"too many files: {rules.text()}", title="The upload is too large", back=back) from None
        raise BadRequest(f"the form could not be read ({exc.detail}); open the page again and resend it") from None
    check_csrf(request, form)
    return form


# -- uploaded files: one set of rules for every upload form ---------------------------------
def _size(n: int) -> str:
    return f"{n // 2**20} MiB" if n >= 2**20 and n % 2**20 == 0 else f"{n // 1024} KiB"


@dataclass(frozen=True)
class UploadRules:
    """How many files one form may carry and how large they may be. The body is refused as it
    arrives (before anything is parsed) when it is larger than `total_bytes` and the form's own
    overhead; then each file is held to `file_bytes` and all of them to `total_bytes`."""

    files: int
    total_bytes: int
    file_bytes: int | None = None  # None: total_bytes
    fields: int = 5  # form fields other than the files (the CSRF token, a choice or two)
    overhead: int = 16 * 1024  # the fields and the multipart headers

    @property
    def each(self) -> int:
        return min(self.file_bytes or self.total_bytes, self.total_bytes)

    def text(self) -> str:
        """The limits as a page states them."""
        if self.files == 1:
            return f"at most one file of {_size(self.each)}"
        each = f", each at most {_size(self.each)}" if self.each < self.total_bytes else ""
        return f"at most {self.files:,} files and {_size(self.total_bytes)} in all{each}"


@dataclass(frozen=True)
class Upload:
    """One uploaded file: `name` is the browser's file name, for display only (never a path);
    `suffix` its extension if it is a plain one (".xlsx"), lower-cased, else ""."""

    name: str
    suffix: str
    data: bytes


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def shown_name(filename: str | None, fallback: str = "the file") -> str:
    """The last part of the browser's file name (either slash), without control or direction
    characters, at most 120 characters: for display, never for a path."""
    name = unicodedata.normalize("NFC", filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _CONTROL.sub("", name).strip()
    return (name[:117] + "...") if len(name) > 120 else (name or fallback)


def _suffix(name: str) -> str:
    match = re.search(r"\.([A-Za-z0-9]{1,8})$", name)
    return "." + match.group(1).lower() if match else ""


async def read_uploads(request: Request, field: str, rules: UploadRules, back: str | None = None
                       ) -> tuple[FormData, list[Upload]]:
    """The form (CSRF-checked, body bounded by `rules`) and the files sent in `field`, read into
    memory within the limits; a file input left empty gives no Upload. Too large: a 413 page
    naming the limits; too many files: a 400 page naming them."""
    form = await bounded_form(request, rules.total_bytes + rules.overhead, max_files=rules.files,
                              max_fields=rules.fields, rules=rules, back=back)
    uploads, total = [], 0
    try:
        for item in form.getlist(field):
            if not isinstance(item, UploadFile) or not item.filename:
                continue
            data = await item.read(rules.each + 1)
            total += len(data)
            if len(data) > rules.each or total > rules.total_bytes:
                raise TooLarge(f"the upload is larger than the limit: {rules.text()}", back)
            name = shown_name(item.filename)
            uploads.append(Upload(name, _suffix(name), data))
    finally:
        await form.close()
    return form, uploads


def save_uploads(uploads: list[Upload], folder: Path) -> list[Path]:
    """Each upload written into `folder` (a `tempfile.TemporaryDirectory`) under a name the
    server chooses: its number and its plain suffix (collect looks at the suffix: `.xlsm`,
    `.zip`). The browser's name is never part of a path."""
    paths = []
    for i, upload in enumerate(uploads, 1):
        path = Path(folder) / f"upload-{i:04d}{upload.suffix}"
        with open(path, "xb") as f:  # never follows or replaces anything already there
            f.write(upload.data)
        paths.append(path)
    return paths
