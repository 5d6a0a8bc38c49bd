"""The index of a promotion round, beside its packs: `round.csv` and `round.xlsx`, one row
per pack (person, manager, role, levels, and the folder or zip), so HR can send the packs
without opening each.

Names come from a CSV anyone may have typed into, and both files are opened in Excel:
in `round.xlsx` every text is a string cell written by the shared Excel helpers (never a
formula); in `round.csv` a cell starting like a formula gets a leading `'`, so that Excel
shows it as text.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from cfexport.exporters.base import Context
from cfexport.output import OutputError

if TYPE_CHECKING:
    from cfexport.packs import Pack

INDEX_CSV = "round.csv"
INDEX_XLSX = "round.xlsx"
CSV_COLUMNS = ["person", "manager", "role", "role_title", "current_level", "target_level", "pack"]
XLSX_COLUMNS = ["person", "manager", "role", "role title", "current level", "target level", "pack"]
_MARK = "cfexport round index"  # the workbook's keywords: how a later round knows the file is its own
_WIDTHS = (28, 28, 32, 24, 13, 13, 60)


def rows(packs: list[Pack], as_zip: bool) -> list[list]:
    """One row per pack: texts, and the two level numbers as numbers."""
    out = []
    for pack in packs:
        req, role = pack.request, pack.current
        out.append([req.person, req.manager or "", role.track_id, role.specialism or role.craft.people_name,
                    req.current, req.target, f"{pack.folder}.zip" if as_zip else pack.folder])
    return out


def render(packs: list[Pack], as_zip: bool, context: Context) -> dict[str, bytes]:
    table = rows(packs, as_zip)
    return {INDEX_CSV: render_csv(table), INDEX_XLSX: render_xlsx(table, context)}


def _csv_text(value) -> str:
    from cfexport.exporters.spreadsheet import FORMULA_TRIGGERS

    text = str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def render_csv(table: list[list]) -> bytes:
    """UTF-8 with a BOM and CRLF, as Excel reads accents right and writes CSVs itself."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in table:
        writer.writerow([_csv_text(v) if isinstance(v, str) else v for v in row])
    return buf.getvalue().encode("utf-8-sig")


def render_xlsx(table: list[list], context: Context) -> bytes:
    from openpyxl.utils import get_column_letter

    from cfexport.exporters.spreadsheet import Styles, new_workbook, put_style, put_text, put_value, save, settings

    wb = new_workbook()
    ws = wb.create_sheet("Round")
    styles = Styles(wb, settings(context.templates))
    for col, label in enumerate(XLSX_COLUMNS, 1):
        put_text(ws, 1, col, label, "cf header", styles)
    for r, row in enumerate(table, 2):
        for col, value in enumerate(row, 1):
            if isinstance(value, int):
                put_value(ws, r, col, value, "cf number", styles)
            elif value:
                put_text(ws, r, col, value, "cf text", styles, what=f"the {XLSX_COLUMNS[col - 1]} on row {r}")
            else:
                put_style(ws, r, col, "cf text", styles)
    for col, width in enumerate(_WIDTHS, 1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(XLSX_COLUMNS))}{len(table) + 1}"
    return save(wb, context, "Promotion round", "cfexport", keywords=_MARK)


def _ours(path: Path) -> bool:
    """Whether an existing index file is one cfexport wrote (a later round may replace it)."""
    try:
        if path.is_symlink() or not path.is_file():
            return False
        if path.name == INDEX_CSV:
            with open(path, "rb") as f:
                first = f.read(4096).decode("utf-8-sig", "replace").split("\r\n", 1)[0]
            return first == ",".join(CSV_COLUMNS)
        with zipfile.ZipFile(path) as zf:
            return _MARK.encode() in zf.read("docProps/core.xml")
    except (OSError, KeyError, zipfile.BadZipFile, RuntimeError, ValueError):
        return False


def check_replaceable(packs_dir: Path) -> None:
    """An OutputError when `round.csv` or `round.xlsx` exists in `packs_dir` and is not an index cfexport wrote."""
    for name in (INDEX_CSV, INDEX_XLSX):
        path = packs_dir / name
        if (path.exists() or path.is_symlink()) and not _ours(path):
            raise OutputError(f"{path} exists and was not written by cfexport; move it away")
