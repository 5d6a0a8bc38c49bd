"""`/packs/new`: the promotion pack form (one person) and the round upload (a CSV of people).
Both answer with a zip download; a copy of each pack goes to `--out/packs/` as
`cfexport pack --zip` would write it. A round is also kept as it was handed out (the
download's index and pack folders) in a folder of its own, `--out/packs/round-DATE-TIME/`,
so `/collect` offers it as the round (and lists whoever did not return their pack); the
index of a round run with `cfexport packs` in `--out/packs/` is never touched.

Limits: a one-person form body of 16 KiB; a round CSV of 1 MiB and 500 rows, one file
(`common.UploadRules`, as for `/collect`). The upload is saved, under a name the server
chooses (`common.save_uploads`), into a temporary folder that is removed when the request ends, and read with the same rules as `cfexport packs --people`: strict
UTF-8, the exact header, characters no document can hold dropped."""

from __future__ import annotations

import io
import logging
import tempfile
import zipfile
from datetime import datetime, timezone
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.routing import Route

from cfexport.model import Problem, Source
from cfexport.packs.requests import MAX_NAME
from cfexport.web.common import (ZIP, UploadRules, bounded_form, download, framework_or_503, read_uploads, render,
                                 save_uploads)
from cfexport.web.pages.roles import context

log = logging.getLogger("cfexport.web")
NAV = [("Promotion packs", "/packs/new")]

MAX_FORM_BYTES = 16 * 1024
MAX_CSV_BYTES = 1024 * 1024
CSV_RULES = UploadRules(files=1, total_bytes=MAX_CSV_BYTES)  # the upload rules every upload form shares
MAX_ROWS = 500


def _choices(framework):
    from cfexport.packs import tracks

    roles = [{"id": tid, "label": f"{c.people_name}: {s}" if s else c.people_name,
              "levels": [lv.number for lv in c.levels]} for tid, (c, s) in tracks(framework).items()]
    levels = sorted({lv.number: lv for c in framework.crafts for lv in c.levels}.items())
    return roles, [{"number": n, "label": lv.label} for n, lv in levels]


def _page(request: Request, status: int = 200, values: dict | None = None, errors: list[str] | None = None):
    roles, levels = _choices(request.state.snap.framework)
    values = {k: "" for k in ("person", "role", "from", "to", "manager")} | (values or {})
    return render(request, "packs.html", status=status, roles=roles, levels=levels, values=values,
                  errors=errors or [], max_rows=MAX_ROWS, max_csv_kib=MAX_CSV_BYTES // 1024)


async def pack_form(request: Request):
    await framework_or_503(request)
    values = {k: request.query_params.get(k, "")[:MAX_NAME] for k in ("person", "role", "from", "to", "manager")}
    return _page(request, values=values)


def _text(form, name: str, label: str, required: bool, fixes: list[str], warnings: list[Problem]) -> str | None:
    from cfexport.text import clean, normalise

    value = form.get(name)
    if value is None or isinstance(value, UploadFile):
        value = ""
    value = clean(normalise(value), Source(label, 1), warnings).strip()
    if required and not value:
        fixes.append(f"{label}: fill it in")
    elif len(value) > MAX_NAME:
        fixes.append(f"{label}: at most {MAX_NAME} characters, not {len(value)}")
    return value or None


def _number(form, name: str, label: str, fixes: list[str]) -> int | None:
    value = form.get(name)
    value = value.strip() if isinstance(value, str) else ""
    if not (value.isascii() and value.isdigit()) or len(value) > 6:
        fixes.append(f"{label}: choose a level" if not value else f"{label}: a level number, not '{value[:20]}'")
        return None
    return int(value)


def _write(request: Request, framework, packs, ctx) -> list[Path]:
    """Write the packs as zips into `--out/packs/` exactly as `cfexport packs --zip` does (a pack
    keeps its own zip round after round and never takes another pack's), and return them."""
    from cfexport.packs import write_packs

    out = request.app.state.out_dir
    written, _ = write_packs(framework, packs, out, ctx, 1, as_zip=True)
    return [out / rel for rel in written]


class NotSaved(Exception):
    """`--out` could not be written: the page says so instead of handing out an unrecorded pack."""


def _saved(request: Request, work):
    from cfexport.exporters.base import ExportError
    from cfexport.output import OutputError

    try:
        return request.app.state.store.render(work)
    except (OutputError, OSError) as exc:
        log.warning("could not write the pack(s) into %s: %s", request.app.state.out_dir / "packs", exc)
        raise NotSaved(f"The pack could not be saved in {request.app.state.out_dir / 'packs'} ({exc}). "
                       "Ask whoever started this page to check its --out folder.") from None
    except ExportError:
        raise


async def make_pack(request: Request):
    from cfexport.packs import PackRequest, plan

    snap = await framework_or_503(request)
    form = await bounded_form(request, MAX_FORM_BYTES, max_files=0)
    fixes: list[str] = []
    warnings: list[Problem] = []
    person = _text(form, "person", "Person", True, fixes, warnings)
    manager = _text(form, "manager", "Manager", False, fixes, warnings)
    role = form.get("role") if isinstance(form.get("role"), str) else ""
    if not role:
        fixes.append("Role: choose one")
    current = _number(form, "from", "Current level", fixes)
    target = _number(form, "to", "Target level", fixes)
    values = {"person": person or "", "manager": manager or "", "role": role,
              "from": "" if current is None else str(current), "to": "" if target is None else str(target)}
    if not fixes:
        packs_, errors = plan(snap.framework, [PackRequest(person, role, current, target, manager)])
        fixes += [e.message for e in errors]
    if fixes:
        return _page(request, 400, values, fixes)
    ctx = context(request)
    try:
        [path] = await run_in_threadpool(_saved, request, lambda: _write(request, snap.framework, packs_, ctx))
    except NotSaved as exc:
        return _page(request, 503, values, [str(exc)])
    return download(path.read_bytes(), path.name, ZIP)


WARNINGS = "warnings.txt"


def _round_zip(packs, paths: list[Path], ctx, warnings: list[str] = ()) -> bytes:
    """One zip for the whole round: every pack's folder (as in its own zip) and this round's
    index, `round.csv` and `round.xlsx`, and the warnings about the uploaded CSV in
    `warnings.txt` when there are any (the page answers with the download alone: it is where
    they can be read). The index goes into the zip only: `--out/packs/` may hold the index of
    a round HR runs with `cfexport packs`, and an upload on this page must never replace it."""
    from dataclasses import replace

    from cfexport.packs import round_index

    from cfexport.repro import zip_bytes

    assigned = [replace(pack, folder=path.stem) for pack, path in zip(packs, paths)]  # the folders write_packs chose

    def entries():
        if warnings:
            yield WARNINGS, "".join(f"{w}\r\n" for w in warnings).encode("utf-8-sig")
        yield from round_index.render(assigned, False, ctx).items()
        for path in paths:
            with zipfile.ZipFile(path) as pack_zip:  # ours, just written: the folder's files
                for member in pack_zip.namelist():
                    yield member, pack_zip.read(member)

    return zip_bytes(entries(), ctx.build_time)


ROUND_FOLDER = "round-"


def _keep_round(out: Path, body: bytes) -> str:
    """The round zip's content (its index and a folder per pack) written, all or nothing, into a new
    folder `round-DATE-TIME` of `out/packs/` (the round as handed out: what `/collect` offers as a
    round, as a round `cfexport packs` made and moved aside); returns the folder's name."""
    from cfexport.output import StagedOutput

    packs_dir = out / "packs"
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d-%H%M%S")
    with StagedOutput(packs_dir) as stage:  # holds the lock on out/packs: the name stays free until the commit
        name, n = f"{ROUND_FOLDER}{stamp}", 1
        while (packs_dir / name).exists() or (packs_dir / name).is_symlink():
            n += 1
            name = f"{ROUND_FOLDER}{stamp}-{n}"
        with zipfile.ZipFile(io.BytesIO(body)) as zf:  # ours, just made
            for member in zf.infolist():
                if not member.is_dir():
                    stage.write(f"{name}/{member.filename}", zf.read(member))
    return name


async def make_round(request: Request):
    from cfexport.packs import plan, read_people

    snap = await framework_or_503(request)
    _, uploads = await read_uploads(request, "people", CSV_RULES, back="/packs/new")
    if not uploads:
        return _page(request, 400, errors=["People CSV: choose a .csv file to upload"])
    [upload] = uploads
    shown = upload.name[:80]
    warnings: list[Problem] = []
    with tempfile.TemporaryDirectory(prefix="cfexport-upload-") as tmp:
        [path] = save_uploads([upload], Path(tmp))  # the browser's file name is never a path here
        requests, errors = await run_in_threadpool(read_people, path, warnings)

    def where(p: Problem) -> str:
        return f"{shown}, line {p.source.line}: {p.message}"

    if len(requests) + len(errors) > MAX_ROWS:
        return _page(request, 400, errors=[f"{shown}: {len(requests) + len(errors)} rows; at most {MAX_ROWS} "
                                           "in one upload (split the round into several files)"])
    packs_, plan_errors = plan(snap.framework, requests, warnings)
    errors = sorted(errors + plan_errors, key=lambda p: p.source.line)
    if errors:
        return _page(request, 400, errors=[where(p) for p in errors[:50]]
                     + ([f"... and {len(errors) - 50} more bad rows"] if len(errors) > 50 else []))
    if not packs_:
        return _page(request, 400, errors=[f"{shown}: no people in the file, only the header"])
    ctx = context(request)
    out = request.app.state.out_dir

    def work() -> bytes:
        notes = [where(p) for p in sorted(warnings, key=lambda p: p.source.line)]
        body = _round_zip(packs_, _write(request, snap.framework, packs_, ctx), ctx, notes)
        _keep_round(out, body)
        return body

    try:
        body = await run_in_threadpool(_saved, request, work)
    except NotSaved as exc:
        return _page(request, 503, errors=[str(exc)])
    name = f"promotion-round-{ctx.build_time.date().isoformat()}.zip"
    return download(body, name, ZIP)


routes = [
    Route("/packs/new", pack_form, methods=["GET", "HEAD"]),
    Route("/packs/new", make_pack, methods=["POST"]),
    Route("/packs/round", make_round, methods=["POST"]),
]
