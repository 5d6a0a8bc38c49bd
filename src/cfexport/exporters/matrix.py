"""The `xlsx` exporter: one competency-matrix workbook for the whole framework. (The
self-assessment workbook of a promotion pack is `cfexport.packs.self_assessment`.)

The matrix workbook holds
- a matrix sheet per craft and specialism: a row per area (craft-page order, shared areas
  first, then the specialism's), the area's definition beside it, a column per level; each
  cell the level's statements for the area, one per line; a TODO cell is filled and says
  "Not yet defined (TODO)", an area a level leaves out says "Not described at this level";
- "Statements": every statement on its own row of a real Excel table (filter buttons,
  banded rows) with its craft, specialism, area, level, status and source file and line,
  ready for pivots and for diffing two versions;
- "About": the framework, its version and build date, how the workbook is laid out, the legend.

All framework text goes through `spreadsheet.text_cell` (string cells only, never formulas).
The sheets are written by `matrix_workbook`, imported when a workbook is rendered: planning a
build (the main process) never imports openpyxl.
"""

from __future__ import annotations

from typing import ClassVar

from cfexport.exporters.base import Context, Document
from cfexport.model import Framework

TODO_TEXT = "Not yet defined (TODO)"
PARTLY_TODO_TEXT = "Partly not yet defined (TODO)"
ABSENT_TEXT = "Not described at this level"
NOTHING_TO_RATE = ": nothing to rate at this level yet"  # after one of the two above, in a self-assessment's row
NO_DEFINITION = "Not defined on the craft page"
KEY_TEXT = f"{TODO_TEXT}: not written yet · {ABSENT_TEXT}: the level leaves the area out"
STATEMENTS_SHEET = "Statements"
ABOUT_SHEET = "About"
LONG_COLUMNS = ("Craft", "Specialism", "Area", "Level", "Level name", "Status", "No.", "Statement",
                "Source file", "Source line")
STATUS_DEFINED, STATUS_TODO = "defined", "todo"
MAX_LEVEL_WIDTH = 120


class XlsxExporter:
    name: ClassVar[str] = "xlsx"
    description: ClassVar[str] = "competency matrix workbook: a sheet per craft and specialism, every statement, about"

    def plan(self, framework: Framework) -> list[Document]:
        return [Document(("competency-matrix",), ".xlsx")]

    styled_by: ClassVar[tuple[str, ...]] = ("theme.yaml",)  # the whole model: no `fingerprint` needed

    def render(self, framework: Framework, document: Document, context: Context) -> bytes:
        from cfexport.exporters.matrix_workbook import write_workbook

        return write_workbook(framework, context)

    # One workbook a build: openpyxl is imported by the worker that renders it, not ahead in every
    # worker (cfexport.build); `warm` is for a process kept warm between builds (build --watch).
    warm_ahead: ClassVar[bool] = False

    def warm(self, context: Context) -> None:
        import cfexport.exporters.matrix_workbook  # noqa: F401 - openpyxl
