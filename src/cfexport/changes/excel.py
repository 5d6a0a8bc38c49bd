"""changes.xlsx: one row per change as an Excel table, to filter and sort.

Every text goes through the Excel exporters' `put_text` (a string cell, never a formula
or an error value, never cut) and the workbook through their reproducible `save`."""

from __future__ import annotations

from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo

from cfexport.changes.diff import Change
from cfexport.exporters.base import Context
from cfexport.exporters.spreadsheet import (Styles, new_workbook, print_setup, put_style, put_text, put_value, row_height,
                                      save, set_height, settings, wrapped_lines)
from cfexport.model import Framework, with_the

COLUMNS = ("Kind", "Craft", "Specialism", "Level", "Level name", "Area", "Old text", "New text", "Moved from",
           "Old file", "Old line", "New file", "New line", "Old id", "New id")
WIDTHS = (22, 24, 16, 7, 14, 24, 60, 60, 24, 24, 9, 24, 9, 30, 30)
SHEET = "Changes"
TABLE = "Changes"


def _moved_from(ch: Change) -> str:
    p = ch.old_place
    if p is None:
        return ""
    return ", ".join(b for b in (f"Level {p.level}" if p.level is not None else "", p.specialism or "",
                                 p.area_title or "") if b)


def render(framework: Framework, changes: list[Change], old_label: str, new_label: str, summary: str,
           context: Context) -> bytes:
    s = settings(context.templates)
    wb = new_workbook()
    styles = Styles(wb, s)
    ws = wb.create_sheet(SHEET)
    for col, name in enumerate(COLUMNS, 1):
        put_text(ws, 1, col, name, "cf header", styles)
    row = 1
    for ch in changes:
        row += 1
        p = ch.place
        texts = {1: ch.kind, 2: p.craft_title, 3: p.specialism or "", 5: p.level_name or "", 6: p.area_title or "",
                 7: ch.old or "", 8: ch.new or "", 9: _moved_from(ch),
                 10: ch.old_source.file if ch.old_source else "", 12: ch.new_source.file if ch.new_source else "",
                 14: ch.old_id or "", 15: ch.new_id or ""}
        source = ch.new_source or ch.old_source
        for col, text in texts.items():
            if text:
                put_text(ws, row, col, text, "cf text", styles, source, context)
            else:
                put_style(ws, row, col, "cf text", styles)
        for col, value in ((4, p.level), (11, ch.old_source.line if ch.old_source else None),
                           (13, ch.new_source.line if ch.new_source else None)):
            if value is not None:
                put_value(ws, row, col, value, "cf number", styles)
            else:
                put_style(ws, row, col, "cf number", styles)
        lines = max(wrapped_lines(texts[c], WIDTHS[c - 1]) for c in (2, 6, 7, 8, 9))
        if lines > 1:
            set_height(ws, row, row_height(s, lines))
    for col, width in enumerate(WIDTHS, 1):
        ws.column_dimensions[get_column_letter(col)].width = width
    table = Table(displayName=TABLE, ref=f"A1:{get_column_letter(len(COLUMNS))}{max(row, 2)}")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True, showColumnStripes=False,
                                          showFirstColumn=False, showLastColumn=False)
    ws.add_table(table)
    ws.freeze_panes = "A2"
    print_setup(ws, s, "1:1", framework.title, f"{old_label} → {new_label}")
    return save(wb, context, f"What changed in {with_the(framework.title)}", framework.title, subject=summary,
                keywords=f"{old_label}; {new_label}; changes")
