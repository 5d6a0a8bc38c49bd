"""The `json` exporter: the canonical model as JSON, the machine-readable framework.

Its shape is described by `cfexport/schema/framework.schema.json` (JSON Schema).

The content comes first and where it was written last: every statement carries its stable
id (`cfexport.ids`), and the file and line of every node are in the trailing `sources`
map, keyed the same way. So a line inserted on a page changes only `sources`, and a
diff of two framework.json files shows the real changes first.

The file is written a craft at a time (`_Object`/`_Array` hold generators), in exactly
the bytes `json.dumps(..., indent=2, ensure_ascii=False)` gives for the whole dictionary,
so that a framework of thousands of roles never sits in memory twice over as Python
objects (the whole-dictionary `json.dumps` of an extra-large framework took ten times the
size of its file).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import ClassVar, Iterable

from cfexport import ids
from cfexport.exporters.base import Context, Document
from cfexport.model import Craft, Framework, Source

SCHEMA_ID = "https://cfexport.invalid/schema/framework.schema.json"


def _without_source(node) -> dict:
    return {k: v for k, v in asdict(node).items() if k != "source"}


def _craft_dict(craft: Craft) -> dict:
    levels = []
    for level in craft.levels:
        expectations = []
        for exp in level.expectations:
            statements = [{"id": sid, "text": st.text}
                          for st, sid in zip(exp.statements, ids.statement_ids(craft, level, exp))]
            expectations.append({"area_id": exp.area_id, "area_title": exp.area_title,
                                 "specialism": exp.specialism, "statements": statements, "todo": exp.todo})
        levels.append({**{k: v for k, v in _without_source(level).items() if k != "expectations"},
                       "expectations": expectations})
    return {**{k: v for k, v in _without_source(craft).items() if k not in ("areas", "levels")},
            "areas": [_without_source(a) for a in craft.areas], "levels": levels}


def _where(source: Source) -> dict:
    return {"file": source.file, "line": source.line}


class _Object:
    """A JSON object whose (key, value) pairs come one at a time."""

    def __init__(self, pairs: Iterable[tuple[str, object]]):
        self.pairs = pairs


class _Array:
    """A JSON array whose values come one at a time."""

    def __init__(self, values: Iterable[object]):
        self.values = values


def _write(value, depth: int, out: bytearray) -> None:
    """`value` as `json.dumps(value, indent=2, ensure_ascii=False)` writes it `depth` levels deep."""
    if isinstance(value, (_Object, _Array)):
        is_object = isinstance(value, _Object)
        items = iter(value.pairs if is_object else value.values)
        first = True
        inner = b"\n" + b"  " * (depth + 1)
        for item in items:
            out += (b"{" if is_object else b"[") + inner if first else b"," + inner
            first = False
            if is_object:
                key, item = item
                out += json.dumps(key, ensure_ascii=False).encode("utf-8") + b": "
            _write(item, depth + 1, out)
        if first:
            out += b"{}" if is_object else b"[]"
        else:
            out += b"\n" + b"  " * depth + (b"}" if is_object else b"]")
        return
    text = json.dumps(value, indent=2, ensure_ascii=False)
    if depth and "\n" in text:  # (JSON strings hold no raw newline: every one is indentation)
        text = text.replace("\n", "\n" + "  " * depth)
    out += text.encode("utf-8")


def framework_json(framework: Framework) -> bytes:
    """framework.json's bytes, as `json.dumps(..., indent=2, ensure_ascii=False)` and a newline
    would write them, written a craft at a time."""
    head = {k: v for k, v in _without_source(framework).items() if k != "crafts"}
    body = _Object([("$schema", SCHEMA_ID), *head.items(),
                    ("crafts", _Array(_craft_dict(c) for c in framework.crafts)),
                    ("sources", _Object((kind, _Object((key, _where(s)) for key, s in ids.sources(framework, kind)))
                                        for kind in ids.SOURCE_KINDS))])
    out = bytearray()
    _write(body, 0, out)
    out += b"\n"
    return bytes(out)


class JsonExporter:
    name: ClassVar[str] = "json"
    description: ClassVar[str] = "the framework model as JSON (framework.json), with a JSON Schema"

    def plan(self, framework: Framework) -> list[Document]:
        return [Document(("framework",), ".json")]

    styled_by: ClassVar[tuple[str, ...]] = ()  # no templates; the whole model: no `fingerprint` needed

    def render(self, framework: Framework, document: Document, context: Context) -> bytes:
        return framework_json(framework)
