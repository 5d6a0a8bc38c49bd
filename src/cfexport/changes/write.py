"""Write the chosen documents of one comparison into OUT/changes/, all or nothing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from cfexport import __version__
from cfexport.changes import excel, jsonout, markdown, report, word
from cfexport.changes.diff import Change
from cfexport.changes.revisions import Version
from cfexport.exporters.base import Context
from cfexport.output import MANIFEST, StagedOutput

FORMATS = ("md", "docx", "xlsx", "json")
FOLDER = "changes"


def render(old: Version, new: Version, changes: list[Change], formats: tuple[str, ...],
           context: Context) -> dict[str, bytes]:
    """File name -> bytes of each format asked for, in FORMATS order."""
    fw_old, fw_new = old.framework, new.framework
    summary = report.summary(changes, old.label, new.label)
    sections = report.sections(changes, fw_old, fw_new)
    out: dict[str, bytes] = {}
    for fmt in FORMATS:
        if fmt not in formats:
            continue
        if fmt == "md":
            data = markdown.render(fw_new.title, summary, old.label, new.label, sections)
        elif fmt == "docx":
            data = word.render(fw_new, summary, old.label, new.label, sections, context)
        elif fmt == "xlsx":
            data = excel.render(fw_new, changes, old.label, new.label, summary, context)
        else:
            data = jsonout.render(fw_new.title, (old.spec, old.label), (new.spec, new.label), changes)
        out[f"changes.{fmt}"] = data
    return out


def write(files: dict[str, bytes], out: Path) -> Path:
    """Replace OUT/changes/ with `files` and a manifest listing them (so a later run with fewer
    formats removes the documents of an earlier comparison instead of leaving them stale)."""
    folder = Path(out) / FOLDER
    entries = [{"path": name, "exporter": "changes", "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
               for name, data in files.items()]
    manifest = {"cfexport": __version__, "files": entries}
    with StagedOutput(folder, replace_unlisted=True) as stage:
        for name, data in files.items():
            stage.write(name, data)
        stage.write(MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode("utf-8"))
    return folder
