"""`/collect`: upload the returned files of a promotion round (self-assessments, promotion
cases, zips of them) and get the round summary, as `cfexport collect` makes it.

- Limits (`UPLOAD_RULES`, the rules every upload form shares, see `common.UploadRules`): at
  most 200 files and 50 MiB in all. 50 MiB is what collect's guard allows one returned file
  (`guard.LIMITS.file_bytes`), so no file the command line would read is refused here for its
  size; 200 files is a round of 100 people returning two documents each. A bigger round goes
  in a zip (one file, up to 5,000 documents, as for the command line).
- Every file is saved under a name the server chooses (`upload-0001.xlsx`: a number and the
  file's plain suffix, which collect looks at for `.xlsm` and `.zip`) into a temporary folder
  removed when the request ends, and read by `cfexport.collect.collect` with the hostile-file
  rules of `collect/guard.py`: a zip bomb, a macro-enabled file, an encrypted one or a
  workbook that is no pack is a problem on the page, never an error. The summary names each
  file as the browser sent it, never by its temporary path.
- The round (optional) is one of those found in `--out/packs/` (`round.csv`, as `packs`
  writes it, there or one folder down): the browser sends a choice from the list, never a path.
- The answer is the page with the People essentials and the Problems, and a link to the
  workbook `round-summary.xlsx` (People, Areas, Problems): HR opens it in Excel and passes it
  on. round-summary.json, the same facts for programs, is what the command line is for. The
  workbook is kept in memory only (the last `KEEP` summaries, for `KEEP_SECONDS`, for the
  browser that uploaded), so nothing from the upload is written to disk but the temporary files.
"""

from __future__ import annotations

import hmac
import re
import secrets
import tempfile
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import Route

from cfexport.collect.guard import LIMITS
from cfexport.web.common import (CSRF_COOKIE, XLSX, NotFound, Upload, UploadRules, download, read_uploads, render,
                                 save_uploads, snapshot)

NAV = [("Collect", "/collect")]

UPLOAD_RULES = UploadRules(files=200, total_bytes=LIMITS.file_bytes, overhead=200 * 1024)
KEEP = 20  # summaries kept for download
KEEP_SECONDS = 3600
MAX_SHOWN = 1000  # problems listed on the page (the workbook has all of them)


# -- the rounds in --out/packs -----------------------------------------------------------------
def rounds(out: Path) -> list[dict]:
    """The rounds `packs` wrote under `out/packs` (its round.csv there, or one folder down: a
    round moved aside), newest first, each as {value (relative to out), label, path}."""
    from cfexport.packs.round_index import INDEX_CSV

    packs = out / "packs"
    if not packs.is_dir() or packs.is_symlink():
        return []
    try:
        folders = [packs] + sorted(d for d in packs.iterdir()
                                   if not d.name.startswith(".") and d.is_dir() and not d.is_symlink())
    except OSError:
        return []
    found = []
    for folder in folders:
        index = folder / INDEX_CSV
        try:
            if index.is_symlink() or not index.is_file():
                continue
            written = index.stat().st_mtime
        except OSError:
            continue
        value = "packs" if folder == packs else f"packs/{folder.name}"
        people = _people(index)
        when = datetime.fromtimestamp(written, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        label = f"{value}/ ({people} people, made {when})" if people is not None else f"{value}/ (made {when})"
        found.append({"value": value, "label": label, "path": folder, "written": written})
    return sorted(found, key=lambda r: -r["written"])


def _people(index: Path) -> int | None:
    import csv
    import io

    from cfexport.collect.match import MAX_INDEX

    try:
        with open(index, "rb") as f:
            data = f.read(MAX_INDEX + 1)
        if len(data) > MAX_INDEX:
            return None
        return sum(1 for row in list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1:] if any(row))
    except (OSError, UnicodeDecodeError, csv.Error):
        return None


# -- the page ----------------------------------------------------------------------------------
def _page(request: Request, status: int = 200, errors: list[str] | None = None, chosen: str | None = None,
          result: dict | None = None):
    found = rounds(request.app.state.out_dir)
    if chosen is None:
        chosen = found[0]["value"] if found else ""
    return render(request, "collect.html", status=status, rounds=found, chosen=chosen, errors=errors or [],
                  result=result, limits=UPLOAD_RULES.text(), max_files=UPLOAD_RULES.files,
                  out_dir=str(request.app.state.out_dir))


async def collect_form(request: Request):
    await snapshot(request)
    return _page(request)


def _unique(names: list[str]) -> list[str]:
    """The browser's names, a repeated one numbered ("self-assessment.xlsx (2)"): every
    person's self-assessment is called the same."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def _renamed(value, pattern: re.Pattern, names: dict[str, str], tmp: str):
    """`value` (the round's facts) with every temporary path replaced by the file's name as uploaded."""
    if isinstance(value, str):
        value = pattern.sub(lambda m: names[m.group(0)], value) if names else value
        return value.replace(tmp, "upload")  # nothing of the temporary folder reaches the page
    if isinstance(value, dict):
        return {k: _renamed(v, pattern, names, tmp) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, pattern, names, tmp) for v in value]
    return value


def run_collect(uploads: list[Upload], round_dir: Path | None, round_name: str | None, framework,
                ratings: tuple[str, ...]) -> dict:
    """The round's facts from the uploaded files, as `cfexport collect` finds them; files named
    as uploaded. Raises match.RoundError for a round that cannot be read."""
    from cfexport.collect import collect

    with tempfile.TemporaryDirectory(prefix="cfexport-collect-") as tmp:
        paths = save_uploads(uploads, Path(tmp))
        facts = collect(paths, ratings, round_dir, framework)
    names = {str(p): shown for p, shown in zip(paths, _unique([u.name for u in uploads]))}
    pattern = re.compile("|".join(re.escape(p) for p in sorted(names, key=len, reverse=True)))
    facts = _renamed(facts, pattern, names, tmp)
    facts["round"] = round_name
    return facts


def _view(facts: dict) -> dict:
    from cfexport.collect.summary import STATUSES, all_problems

    people = []
    for p in facts["packs"]:
        people.append({
            "person": p["person"], "manager": p["manager"] or "", "role": p["role_title"] or p["role"],
            "levels": f"{p['current_level']} → {p['target_level']}", "status": p["status"],
            "self": [p["ratings"]["self"].get(r, 0) for r in facts["ratings"]],
            "manager_counts": [p["ratings"]["manager"].get(r, 0) for r in facts["ratings"]],
            "not_rated": p["not_rated"], "statements": p["statements"], "evidence": p["evidence_rows"],
            "files": [f["path"] + ("" if f["used"] else " (older copy, not read)") for f in p["files"]],
        })
    problems = all_problems(facts)
    return {"counts": [f"{facts['counts'].get(s, 0)} {s}" for s in STATUSES], "ratings": facts["ratings"],
            "people": people, "problems": problems[:MAX_SHOWN], "more_problems": max(0, len(problems) - MAX_SHOWN),
            "total_problems": len(problems)}


@dataclass
class Kept:
    nonce: str
    made: float
    data: bytes
    name: str


def _keep(request: Request, data: bytes, name: str) -> str:
    kept: OrderedDict[str, Kept] = getattr(request.app.state, "collect_summaries", None)
    if kept is None:
        kept = request.app.state.collect_summaries = OrderedDict()
    now = time.monotonic()
    for token in [t for t, k in kept.items() if now - k.made > KEEP_SECONDS]:
        del kept[token]
    token = secrets.token_urlsafe(24)
    kept[token] = Kept(request.cookies.get(CSRF_COOKIE, ""), now, data, name)
    while len(kept) > KEEP:
        kept.popitem(last=False)
    return token


async def collect_upload(request: Request):
    from cfexport import repro
    from cfexport.collect.match import RoundError
    from cfexport.collect.write import render_xlsx
    from cfexport.exporters.base import Context
    from cfexport.exporters.spreadsheet import settings

    snap = await snapshot(request)
    form, uploads = await read_uploads(request, "returns", UPLOAD_RULES, back="/collect")
    choice = form.get("round")
    choice = choice if isinstance(choice, str) else ""
    found = {r["value"]: r for r in rounds(request.app.state.out_dir)}
    if choice and choice not in found:
        return _page(request, 400, [f"Round: choose one from the list (the rounds in {request.app.state.out_dir}"
                                    "/packs have changed since the page was opened)"], chosen="")
    if not uploads:
        return _page(request, 400, ["Returned files: choose one or more files (.xlsx, .docx or .zip) to upload"],
                     chosen=choice)
    templates = request.app.state.templates
    round_dir = found[choice]["path"] if choice else None
    try:
        ratings = settings(templates).ratings
        facts = await run_in_threadpool(run_collect, uploads, round_dir, choice or None, snap.framework, ratings)
    except RoundError as exc:
        return _page(request, 400, [f"Round: {exc}; choose another round or none"], chosen=choice)
    context = Context(templates=Path(templates).absolute(), build_time=repro.build_time(),
                      version=facts["framework_version"] or "")
    data = await run_in_threadpool(request.app.state.store.render, lambda: render_xlsx(facts, context))
    name = f"round-summary-{context.build_time.date().isoformat()}.xlsx"
    token = _keep(request, data, name)
    result = {**_view(facts), "token": token, "file_name": name, "files": len(uploads),
              "round": choice or None, "version": facts["framework_version"]}
    return _page(request, 200, chosen=choice, result=result)


async def collect_summary(request: Request):
    kept = getattr(request.app.state, "collect_summaries", None) or {}
    item = kept.get(request.path_params["token"])
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if (item is None or time.monotonic() - item.made > KEEP_SECONDS
            or not item.nonce or not hmac.compare_digest(item.nonce, cookie)):
        raise NotFound(f"This round summary is not kept any more: the page keeps the last {KEEP} for an hour, "
                       "for the browser that uploaded the files, until cfexport serve stops. Upload the files again "
                       "on /collect.")
    return download(item.data, item.name, XLSX)


routes = [
    Route("/collect", collect_form, methods=["GET", "HEAD"]),
    Route("/collect", collect_upload, methods=["POST"]),
    Route("/collect/summary/{token}", collect_summary, methods=["GET", "HEAD"]),
]
