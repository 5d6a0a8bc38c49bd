"""The `json` exporter: the canonical model as JSON, the machine-readable framework.

Its shape is described by `cfexport/schema/framework.schema.json` (JSON Schema).
"""

from __future__ import annotations

import json
from typing import ClassVar

from cfexport.exporters.base import Context, Document
from cfexport.model import Framework

SCHEMA_ID = "https://cfexport.invalid/schema/framework.schema.json"


class JsonExporter:
    name: ClassVar[str] = "json"
    description: ClassVar[str] = "the framework model as JSON (framework.json), with a JSON Schema"

    def plan(self, framework: Framework) -> list[Document]:
        return [Document(("framework",), ".json")]

    def render(self, framework: Framework, document: Document, context: Context) -> bytes:
        body = {"$schema": SCHEMA_ID, **framework.to_dict()}
        return (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
