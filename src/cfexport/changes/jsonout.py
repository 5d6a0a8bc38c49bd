"""changes.json: every change for scripts and dashboards, described by
`cfexport/schema/changes.schema.json` (JSON Schema)."""

from __future__ import annotations

import json

from cfexport.changes.diff import Change, Place, counts
from cfexport.model import Source

SCHEMA_ID = "https://cfexport.invalid/schema/changes.schema.json"


def _source(s: Source | None) -> dict | None:
    return {"file": s.file, "line": s.line} if s else None


def _place(p: Place | None) -> dict | None:
    if p is None:
        return None
    return {"craft": p.craft, "craft_title": p.craft_title, "specialism": p.specialism, "level": p.level,
            "level_name": p.level_name, "area": p.area, "area_title": p.area_title}


def change_dict(ch: Change) -> dict:
    return {"kind": ch.kind, **_place(ch.place), "old": ch.old, "new": ch.new, "old_id": ch.old_id,
            "new_id": ch.new_id, "moved_from": _place(ch.old_place), "old_source": _source(ch.old_source),
            "new_source": _source(ch.new_source)}


def render(title: str, old: tuple[str, str], new: tuple[str, str], changes: list[Change]) -> bytes:
    """`old` and `new` are (as given on the command line, label)."""
    body = {"$schema": SCHEMA_ID, "framework": title,
            "from": {"spec": old[0], "version": old[1]}, "to": {"spec": new[0], "version": new[1]},
            "counts": counts(changes), "changes": [change_dict(ch) for ch in changes]}
    return (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
