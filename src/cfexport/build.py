"""`cfexport build`: the model through every exporter asked for, into one output folder.

The core plans every document, gives each a safe unique path, renders them (in worker
processes when there are several cores), and writes them all to a staging folder with a
manifest; the output folder is replaced only when every document was written.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

from cfexport import __version__
from cfexport.exporters.base import Context, Document
from cfexport.model import Framework, Problem
from cfexport.output import MANIFEST, OutputError, StagedOutput, check_relative, previous_files
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


def _worker(framework: Framework, exporters: list, context: Context) -> dict:
    return {"framework": framework, "exporters": {e.name: e for e in exporters}, "context": context}


def _render(state: dict, item: Planned) -> tuple[bytes, list[Problem]]:
    ctx: Context = state["context"]
    ctx.problems = []
    data = state["exporters"][item.exporter].render(state["framework"], item.document, ctx)
    return data, ctx.problems


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


def manifest_entry(item: Planned, data: bytes, when: datetime) -> dict:
    doc = item.document
    return {
        "path": item.path,
        "exporter": item.exporter,
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "craft": doc.craft,
        "specialism": doc.specialism,
        "level": doc.level,
        "built": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def manifest_bytes(framework: Framework, entries: list[dict]) -> bytes:
    body = {"cfexport": __version__, "framework": framework.title,
            "files": sorted(entries, key=lambda e: e["path"])}
    return (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def build(framework: Framework, out: Path, exporters: list, templates: Path, when: datetime,
          jobs: int | None = None, progress: Callable[[int], None] | None = None,
          strict: bool = False, planned: tuple[list[Planned], list[Problem]] | None = None,
          force: bool = False) -> tuple[list[dict], list[Problem]]:
    """Write every document into `out` atomically; returns the manifest entries and warnings
    (those of this build's exporters first, then the ones kept from the previous build).
    With `strict`, a warning from an exporter raises StrictWarnings before anything is replaced.
    `planned` is `plan(framework, exporters)` when the caller already made it. With `force`,
    an entry at a name this build writes is replaced even when it is not cfexport's."""
    items, problems = planned or plan(framework, exporters)
    problems = list(problems)
    context = Context.for_framework(framework, templates, when)
    entries = []
    with StagedOutput(out, replace_unlisted=force) as stage:
        for item, data, probs in render_all(framework, exporters, items, context, jobs or os.cpu_count() or 1,
                                            progress):
            stage.write(item.path, data)
            entries.append(manifest_entry(item, data, when))
            problems.extend(probs)
        problems += _dropped_crafts(stage.out, framework, {e.name for e in exporters})
        if strict and problems:
            raise StrictWarnings(_unique(problems))
        entries += _carry_over(stage.out, stage, {e.name for e in exporters}, {e["path"] for e in entries})
        stage.write(MANIFEST, manifest_bytes(framework, entries))
    return entries, _unique(problems)


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
