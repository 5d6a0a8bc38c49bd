"""`cfexport build`: the model through every exporter asked for, into one output folder.

The core plans every document, gives each a safe unique path, renders them (in worker
processes when there are several cores), and writes them all to a staging folder with a
manifest; the output folder is replaced only when every document was written.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

from cfexport import __version__, fingerprint, workers
from cfexport.exporters.base import Context, Document
from cfexport.model import Framework, Problem, Source
from cfexport.output import MANIFEST, OutputError, StagedOutput, check_relative, previous_files
from cfexport.repro import reproducible
from cfexport.slugs import safe_file_name
from cfexport.workers import imap


@dataclass(frozen=True, slots=True)
class Planned:
    """A document with the exporter that makes it and the path it will have."""

    exporter: str
    document: Document
    path: str


def plan(framework: Framework, exporters: list) -> tuple[list[Planned], list[Problem]]:
    """Every document of every exporter, each with its own safe path (no two on one name,
    whatever their titles; compared case-insensitively, as Windows and macOS do)."""
    planned, problems, taken = [], [], set()
    for exporter in exporters:
        for doc in exporter.plan(framework):
            segments = [safe_file_name(s) for s in doc.path]
            stem, n = "/".join(segments), 1
            path = f"{stem}{doc.suffix}"
            while path.casefold() in taken:
                n += 1
                path = f"{stem}-{n}{doc.suffix}"
            if n > 1:
                problems.append(Problem("warning", framework.source,
                                        f"two documents would be named {stem}{doc.suffix}; the second is {path}"))
            taken.add(path.casefold())
            planned.append(Planned(exporter.name, doc, path))
    return planned, problems


def _warm_ahead(exporter) -> Callable | None:
    """The exporter's `warm` hook if every worker should run it before its first document. An
    exporter that makes one document a build (`warm_ahead = False`: the workbook) is left to load
    what it needs when that document is rendered, in the one worker that renders it: loading it
    ahead in every worker would make the whole build wait for a library only one of them uses."""
    return getattr(exporter, "warm", None) if getattr(exporter, "warm_ahead", True) else None


def _worker(framework: Framework, exporters: list, context: Context) -> dict:
    """A worker's state: the model and the exporters, each warmed up once (templates, fonts)."""
    for exporter in exporters:
        warm = _warm_ahead(exporter)
        if warm is not None:
            warm(context)
    return {"framework": framework, "exporters": {e.name: e for e in exporters}, "context": context}


def warm(formats: list[str] | None, templates: Path) -> None:
    """What a worker started ahead of the work does while the framework is read: import the
    exporters and load their templates, styles and fonts (`warm`, where an exporter has one)."""
    from datetime import timezone

    from cfexport import registry

    context = Context(templates=Path(templates).absolute(), build_time=datetime.now(timezone.utc), version="")
    for exporter in registry.load(formats):
        hook = _warm_ahead(exporter)
        if hook is not None:
            hook(context)


def start_workers(jobs: int | None, formats: list[str] | None, templates: Path) -> workers.Pool | None:
    """Worker processes for a build, started before the framework is read so that they warm up
    meanwhile; None with one job (the build then renders in this process)."""
    jobs = jobs or workers.cpu_count()
    return workers.Pool(jobs, warm=warm, warm_args=(formats, templates)) if jobs > 1 else None


def _render(state: dict, item: Planned) -> tuple[bytes, list[Problem]]:
    ctx: Context = state["context"]
    ctx.problems = []
    data = state["exporters"][item.exporter].render(state["framework"], item.document, ctx)
    return data, ctx.problems


def cost(item: Planned) -> int:
    """How long a document takes, roughly, from what it spans: the whole framework (a workbook,
    framework.json) > a craft (its level cards) > one role. The slow ones start first."""
    doc = item.document
    return 3 if doc.craft is None else 2 if doc.level is None else 1


def render_all(framework: Framework, exporters: list, items: list[Planned], context: Context,
               jobs: int = 1, progress: Callable[[int], None] | None = None):
    """Yield (planned, bytes, warnings) in plan order, in `jobs` processes."""
    results = imap(_worker, (framework, exporters, context), _render, items, jobs)
    for item, (data, probs) in zip(items, results):
        if progress:
            progress(1)
        yield item, data, probs


class StrictWarnings(Exception):
    """`--strict` and the exporters warned: nothing is written."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} warning(s) while exporting (--strict); nothing was written")
        self.problems = problems


def manifest_entry(item: Planned, data: bytes, when: datetime, key: str | None = None,
                   problems: list[Problem] = (), sha256: str | None = None) -> dict:
    doc = item.document
    entry = {
        "path": item.path,
        "exporter": item.exporter,
        "sha256": sha256 or hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "craft": doc.craft,
        "specialism": doc.specialism,
        "level": doc.level,
        "built": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if key is not None:
        entry["key"] = key
    if problems:
        entry["warnings"] = [[p.severity, p.source.file, p.source.line, p.message, p.code] for p in problems]
    return entry


def manifest_bytes(framework: Framework, entries: list[dict]) -> bytes:
    body = {"cfexport": __version__, "framework": framework.title,
            "files": sorted(entries, key=lambda e: e["path"])}
    return (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


KEY_FORMAT = b"cfexport-key-1"


def document_keys(framework: Framework, exporters: list, items: list[Planned], context: Context) -> list[str]:
    """Each document's key: a sha256 of everything it is made from. The exporter's slice of
    the model (`fingerprint`, else the whole model), the templates files that style it
    (`styled_by`, else all of them), the exporter and cfexport's code and version, the
    document's name and path, the framework's version and, under SOURCE_DATE_EPOCH, the
    build date (without it, a reused file keeps the date it was built on, as its `built` says)."""
    fingerprint.next_build()
    by_name = {e.name: e for e in exporters}
    shared = [KEY_FORMAT, __version__.encode(), (framework.version or "").encode()]
    if reproducible():
        shared.append(context.build_time.isoformat().encode())
    styled: dict[str, bytes] = {}
    keys = []
    for item in items:
        exporter = by_name[item.exporter]
        if item.exporter not in styled:
            styled[item.exporter] = fingerprint.templates(context.templates, getattr(exporter, "styled_by", None))
        reads = getattr(exporter, "fingerprint", None)
        model = reads(framework, item.document) if reads is not None else fingerprint.whole(framework)
        h = hashlib.sha256()
        for part in (*shared, fingerprint.code(exporter), item.exporter.encode(),
                     f"{type(exporter).__module__}.{type(exporter).__qualname__}".encode(),
                     str(getattr(exporter, "version", "")).encode(), repr(item.document).encode(),
                     item.path.encode(), styled[item.exporter], model):
            h.update(len(part).to_bytes(8, "big") + part)
        keys.append(h.hexdigest())
    return keys


def _reusable(out: Path, entry: dict | None, key: str) -> bytes | None:
    """The previous build's file for this document, when its key matches and its bytes are
    still the ones the manifest lists (never trusted blindly); else None."""
    if not entry or entry.get("key") != key or not isinstance(entry.get("sha256"), str):
        return None
    try:
        path = out.joinpath(*check_relative(entry["path"]).parts)
        if path.is_symlink() or not path.is_file() or not path.resolve().is_relative_to(out):
            return None
        data = path.read_bytes()
    except (OutputError, OSError, ValueError):
        return None
    return data if hashlib.sha256(data).hexdigest() == entry["sha256"] else None


def _warnings(entry: dict) -> list[Problem]:
    found = []
    for w in entry.get("warnings") or ():
        try:
            severity, file, line, message, code = w
            found.append(Problem(str(severity), Source(str(file), int(line)), str(message),
                                 None if code is None else str(code)))
        except (TypeError, ValueError):
            continue
    return found


@dataclass
class BuildReport:
    """What a build did: the paths it rendered and the ones it reused from the previous build."""

    rendered: list[str]
    reused: list[str]


def build(framework: Framework, out: Path, exporters: list, templates: Path, when: datetime,
          jobs: int | None = None, progress: Callable[[int], None] | None = None,
          strict: bool = False, planned: tuple[list[Planned], list[Problem]] | None = None,
          force: bool = False, clean: bool = False, report: BuildReport | None = None,
          pool: workers.Pool | None = None) -> tuple[list[dict], list[Problem]]:
    """Write every document into `out` atomically; returns the manifest entries and warnings
    (those of this build's exporters first, then the ones kept from the previous build).
    With `strict`, a warning from an exporter raises StrictWarnings before anything is replaced.
    `planned` is `plan(framework, exporters)` when the caller already made it. With `force`,
    an entry at a name this build writes is replaced even when it is not cfexport's.

    A document whose key (`document_keys`) equals the one the previous build's manifest
    lists for its path, and whose file still has the bytes listed, is reused (hard-linked or
    copied into the staging folder) with its warnings and its `built` time; the others are
    rendered, longest first, in `jobs` processes. `clean` renders everything. `report`, when
    given, is filled with the paths rendered and reused. `pool` (from `start_workers`) renders
    in processes started earlier, instead of `jobs` new ones."""
    items, problems = planned or plan(framework, exporters)
    problems = list(problems)
    context = Context.for_framework(framework, templates, when)
    keys = document_keys(framework, exporters, items, context)
    ran = {e.name for e in exporters}
    per_item: list[list[Problem]] = [[] for _ in items]
    entries: list[dict | None] = [None] * len(items)
    report = report if report is not None else BuildReport([], [])
    with StagedOutput(out, replace_unlisted=force) as stage:
        previous = {} if clean else {e["path"]: e for e in previous_files(stage.out) if e.get("exporter") in ran}
        todo = []
        for i, item in enumerate(items):
            old = previous.get(item.path)
            data = _reusable(stage.out, old, keys[i])
            if data is None:
                todo.append(i)
                continue
            stage.link(item.path, stage.out.joinpath(*check_relative(item.path).parts), data)
            per_item[i] = _warnings(old)
            entries[i] = {**manifest_entry(item, data, when, keys[i], per_item[i], old["sha256"]),
                          "built": old.get("built")}
            report.reused.append(item.path)
            if progress:
                progress(1)
        needed = {items[i].exporter for i in todo}
        work = [items[i] for i in todo]
        state = (framework, [e for e in exporters if e.name in needed], context)
        if pool is not None and pool.alive:
            rendered = pool.results(_worker, state, _render, work, cost=cost)
        else:
            rendered = workers.results(_worker, state, _render, work, jobs or workers.cpu_count(), cost=cost)
        for j, (data, probs) in rendered:
            i = todo[j]
            stage.write(items[i].path, data)
            per_item[i] = probs
            entries[i] = manifest_entry(items[i], data, when, keys[i], probs)
            if progress:
                progress(1)
        report.rendered += [items[i].path for i in todo]
        for probs in per_item:
            problems.extend(probs)
        problems += _dropped_crafts(stage.out, framework, ran)
        if strict and problems:
            raise StrictWarnings(_unique(problems))
        done = [e for e in entries if e is not None]
        done += _carry_over(stage.out, stage, ran, {e["path"] for e in done})
        stage.write(MANIFEST, manifest_bytes(framework, done))
    return done, _unique(problems)


def _dropped_crafts(out: Path, framework: Framework, ran: set[str]) -> list[Problem]:
    """A craft the previous build made documents for and this one does not is never dropped
    silently: a page that stopped being readable (a symlink now outside the site, a broken
    `parent`) would otherwise just delete its documents."""
    now = {c.title for c in framework.crafts}
    gone: dict[str, int] = {}
    for entry in previous_files(out):
        craft = entry.get("craft")
        if isinstance(craft, str) and craft not in now and entry.get("exporter") in ran:
            gone[craft] = gone.get(craft, 0) + 1
    return [Problem("warning", framework.source, f"the previous build had {n} document(s) for the craft "
                    f"'{craft}', which is not in the framework now: they are removed (if it should be there, "
                    "see the problems reported for its pages)") for craft, n in sorted(gone.items())]


def _carry_over(out: Path, stage: StagedOutput, ran: set[str], written: set[str]) -> list[dict]:
    """Keep what the previous build wrote with exporters this one did not run, so that
    `--format docx` refreshes the Word files without deleting the workbook. Their manifest
    entries keep the `built` time of the build that made them."""
    kept = []
    for entry in previous_files(out):
        path = entry["path"]
        if entry.get("exporter") in ran or path in written:
            continue
        try:
            source = Path(out).joinpath(*check_relative(path).parts)
            data = source.read_bytes()
        except (OutputError, OSError):
            continue  # gone or unsafe: nothing to keep
        stage.write(path, data)
        kept.append({**entry, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
                     "built": entry.get("built")})
    return kept


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))
