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

from dataclasses import fields
from json.encoder import encode_basestring
from typing import ClassVar, Iterable

from cfexport import ids
from cfexport.exporters.base import Context, Document
from cfexport.model import Craft, Framework, Source

SCHEMA_ID = "https://cfexport.invalid/schema/framework.schema.json"


_FIELDS: dict[type, tuple[str, ...]] = {}


def _own(node, *skip: str) -> dict:
    """A node's own fields but its source and `skip`, as they are (tuples write as JSON lists)."""
    names = _FIELDS.get(type(node))
    if names is None:
        names = _FIELDS[type(node)] = tuple(f.name for f in fields(node) if f.name != "source")
    return {name: getattr(node, name) for name in names if name not in skip}


def _craft_dict(craft: Craft) -> dict:
    levels = []
    for level in craft.levels:
        expectations = []
        for exp in level.expectations:
            statements = [{"id": sid, "text": st.text}
                          for st, sid in zip(exp.statements, ids.statement_ids(craft, level, exp))]
            expectations.append({"area_id": exp.area_id, "area_title": exp.area_title,
                                 "specialism": exp.specialism, "statements": statements, "todo": exp.todo})
        levels.append({**_own(level, "expectations"), "expectations": expectations})
    return {**_own(craft, "areas", "levels"), "areas": [_own(a) for a in craft.areas], "levels": levels}


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


class _Sink:
    """Text pieces, turned into UTF-8 bytes a value of a streamed array or object at a time."""

    def __init__(self):
        self.pieces: list[str] = []
        self.data = bytearray()

    def flush(self) -> None:
        self.data += "".join(self.pieces).encode("utf-8")
        self.pieces.clear()


def _write(value, depth: int, sink: _Sink) -> None:
    """`value` as `json.dumps(value, indent=2, ensure_ascii=False)` writes it `depth` levels deep
    (strings by the same C encoder json.dumps uses; the model holds only str, int, bool, None,
    lists, tuples and dicts)."""
    out = sink.pieces
    if isinstance(value, str):
        out.append(encode_basestring(value))
    elif value is None:
        out.append("null")
    elif value is True or value is False:
        out.append("true" if value else "false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, (dict, list, tuple, _Object, _Array)):
        is_object = isinstance(value, (dict, _Object))
        streamed = isinstance(value, (_Object, _Array))
        items = value.items() if isinstance(value, dict) else value.pairs if is_object and streamed else \
            value.values if streamed else value
        inner = "\n" + "  " * (depth + 1)
        first = True
        for item in items:
            out.append(("{" if is_object else "[") + inner if first else "," + inner)
            first = False
            if is_object:
                key, item = item
                out.append(encode_basestring(key))
                out.append(": ")
            _write(item, depth + 1, sink)
            if streamed:
                sink.flush()
                out = sink.pieces
        if first:
            out.append("{}" if is_object else "[]")
        else:
            out.append("\n" + "  " * depth + ("}" if is_object else "]"))
    else:
        raise TypeError(f"framework.json holds no {type(value).__name__}")


def framework_json(framework: Framework) -> bytes:
    """framework.json's bytes, as `json.dumps(..., indent=2, ensure_ascii=False)` and a newline
    would write them, written a craft at a time."""
    head = _own(framework, "crafts")
    body = _Object([("$schema", SCHEMA_ID), *head.items(),
                    ("crafts", _Array(_craft_dict(c) for c in framework.crafts)),
                    ("sources", _Object((kind, _Object((key, _where(s)) for key, s in ids.sources(framework, kind)))
                                        for kind in ids.SOURCE_KINDS))])
    sink = _Sink()
    _write(body, 0, sink)
    sink.pieces.append("\n")
    sink.flush()
    return bytes(sink.data)


class JsonExporter:
    name: ClassVar[str] = "json"
    description: ClassVar[str] = "the framework model as JSON (framework.json), with a JSON Schema"

    def plan(self, framework: Framework) -> list[Document]:
        return [Document(("framework",), ".json")]

    styled_by: ClassVar[tuple[str, ...]] = ()  # no templates; the whole model: no `fingerprint` needed

    def render(self, framework: Framework, document: Document, context: Context) -> bytes:
        return framework_json(framework)
