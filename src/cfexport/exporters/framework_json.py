"""The `json` exporter: the canonical model as JSON, the machine-readable framework.

Its shape is described by `cfexport/schema/framework.schema.json` (JSON Schema).

The content comes first and where it was written last: every statement carries its stable
id (`cfexport.ids`), and the file and line of every node are in the trailing `sources`
map, keyed the same way. So a line inserted on a page changes only `sources`, and a
diff of two framework.json files shows the real changes first.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import ClassVar

from cfexport import ids
from cfexport.exporters.base import Context, Document
from cfexport.model import Framework

SCHEMA_ID = "https://cfexport.invalid/schema/framework.schema.json"


def _without_source(node) -> dict:
    return {k: v for k, v in asdict(node).items() if k != "source"}


def model_dict(framework: Framework) -> dict:
    """The framework as framework.json holds it."""
    crafts = []
    for craft in framework.crafts:
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
        crafts.append({**{k: v for k, v in _without_source(craft).items() if k not in ("areas", "levels")},
                       "areas": [_without_source(a) for a in craft.areas], "levels": levels})
    head = {k: v for k, v in _without_source(framework).items() if k != "crafts"}
    srcs = {kind: {key: {"file": s.file, "line": s.line} for key, s in by_key.items()}
            for kind, by_key in ids.sources(framework).items()}
    return {**head, "crafts": crafts, "sources": srcs}


class JsonExporter:
    name: ClassVar[str] = "json"
    description: ClassVar[str] = "the framework model as JSON (framework.json), with a JSON Schema"

    def plan(self, framework: Framework) -> list[Document]:
        return [Document(("framework",), ".json")]

    styled_by: ClassVar[tuple[str, ...]] = ()  # no templates; the whole model: no `fingerprint` needed

    def render(self, framework: Framework, document: Document, context: Context) -> bytes:
        body = {"$schema": SCHEMA_ID, **model_dict(framework)}
        return (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
