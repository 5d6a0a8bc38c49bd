"""The index of a promotion round, beside its packs: `round.csv` and `round.xlsx`, one row
per pack (person, manager, role, levels, and the folder or zip), so HR can send the packs
without opening each.

Names come from a CSV anyone may have typed into, and both files are opened in Excel:
in `round.xlsx` every text is a string cell written by the shared Excel helpers (never a
formula); in `round.csv` a cell starting like a formula gets a leading `'`, so that Excel
shows it as text.

Both are written a row at a time, straight into the round's staging folder (`write`): the
workbook is a write-only sheet saved from a temporary file, the same bytes as the workbook
built in memory, so a round of 10,000 packs needs no more memory for its index than a round
of ten.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Iterable, Iterator, Sequence

from cfexport.exporters.base import Context
from cfexport.output import OutputError

if TYPE_CHECKING:
    from cfexport.output import StagedOutput
    from cfexport.packs import Pack

INDEX_CSV = "round.csv"
INDEX_XLSX = "round.xlsx"
CSV_COLUMNS = ["person", "manager", "role", "role_title", "current_level", "target_level", "pack"]
XLSX_COLUMNS = ["person", "manager", "role", "role title", "current level", "target level", "pack"]
_MARK = "cfexport round index"  # the workbook's keywords: how a later round knows the file is its own
_WIDTHS = (28, 28, 32, 24, 13, 13, 60)


def rows(packs: Iterable[Pack], as_zip: bool) -> Iterator[list]:
    """One row per pack, made as they are asked for: texts, and the two level numbers as numbers."""
    for pack in packs:
        req, role = pack.request, pack.current
        yield [req.person, req.manager or "", role.track_id, role.specialism or role.craft.people_name,
               req.current, req.target, f"{pack.folder}.zip" if as_zip else pack.folder]


def render(packs: Sequence[Pack], as_zip: bool, context: Context) -> dict[str, bytes]:
    """Both files, in memory (a small round: the web page's round zip)."""
    csv_out, xlsx_out = io.BytesIO(), io.BytesIO()
    write_csv(rows(packs, as_zip), csv_out)
    write_xlsx(rows(packs, as_zip), len(packs), context, xlsx_out)
    return {INDEX_CSV: csv_out.getvalue(), INDEX_XLSX: xlsx_out.getvalue()}


def write(packs: Sequence[Pack], as_zip: bool, context: Context, stage: StagedOutput) -> None:
    """Both files into the staging folder a row at a time: however many packs the round has,
    no more than a row is held in memory (the packs themselves aside)."""
    with stage.open(INDEX_CSV) as f:
        write_csv(rows(packs, as_zip), f)
    with stage.open(INDEX_XLSX) as f:
        write_xlsx(rows(packs, as_zip), len(packs), context, f)


def _csv_text(value) -> str:
    from cfexport.exporters.spreadsheet import FORMULA_TRIGGERS

    text = str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def write_csv(table: Iterable[list], out: BinaryIO) -> None:
    """UTF-8 with a BOM and CRLF, as Excel reads accents right and writes CSVs itself."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in table:
        writer.writerow([_csv_text(v) if isinstance(v, str) else v for v in row])
    text.flush()
    text.detach()  # `out` stays open: its owner closes it


def write_xlsx(table: Iterable[list], count: int, context: Context, out: BinaryIO) -> None:
    """The workbook of `count` rows, written into `out` as the rows come: a write-only sheet
    (its rows go to a temporary file), saved without reading the package back into memory.
    The bytes are the same as a workbook built cell by cell and saved would have."""
    from cfexport.exporters.spreadsheet import (Styles, append_row, declare_size, discard, new_workbook, save_to,
                                                set_widths, settings, text_cell, value_cell)
    from openpyxl.utils import get_column_letter

    wb = new_workbook(write_only=True)
    ws = wb.create_sheet("Round")
    styles = Styles(wb, settings(context.templates))
    set_widths(ws, _WIDTHS)  # columns, panes and size first: they come before the rows in the file
    declare_size(ws, count + 1, len(XLSX_COLUMNS))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(XLSX_COLUMNS))}{count + 1}"
    try:
        append_row(ws, [text_cell(ws, label, "cf header", styles) for label in XLSX_COLUMNS])
        written = 0
        for r, row in enumerate(table, 2):
            cells = []
            for col, value in enumerate(row, 1):
                if isinstance(value, int):
                    cells.append(value_cell(ws, value, "cf number", styles))
                elif value:
                    cells.append(text_cell(ws, value, "cf text", styles, what=f"the {XLSX_COLUMNS[col - 1]} on row {r}"))
                else:
                    cells.append(value_cell(ws, None, "cf text", styles))
            append_row(ws, cells)
            written += 1
        if written != count:
            raise ValueError(f"the round index was told {count} rows and given {written}")
        save_to(out, wb, context, "Promotion round", "cfexport", keywords=_MARK)
    except BaseException:
        discard(wb)  # the sheet written so far, on disk until saved
        raise


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
