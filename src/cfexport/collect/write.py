"""round-summary.xlsx and round-summary.json: the same facts, for people and for programs.

Every text that came from a framework or a returned file is a string cell written by the
shared Excel helpers (never a formula, whatever it starts with), after the characters a
spreadsheet cannot hold are dropped. The two files replace earlier summaries atomically,
and never a file collect did not write.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

from cfexport import __version__
from cfexport.output import OutputError
from cfexport.text import ILLEGAL

MARK = "cfexport round summary"  # the workbook's keywords: a later collect may replace it
GENERATOR = f"cfexport collect {__version__}"
PEOPLE, AREAS, PROBLEMS = "People", "Areas", "Problems"
STATUS_FILLS = {"returned": "C6E0B4", "partial": "FFE699", "edited": "F4B183", "unreadable": "F8CBAD",
                "missing": "D9D9D9"}


def _t(value) -> str:
    return ILLEGAL.sub("", "" if value is None else str(value))


def json_bytes(facts: dict) -> bytes:
    return (json.dumps({"generator": GENERATOR, **facts}, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def render_xlsx(facts: dict, context) -> bytes:
    from openpyxl.formatting.rule import CellIsRule, ColorScaleRule
    from openpyxl.styles import PatternFill
    from openpyxl.utils import get_column_letter

    from cfexport.collect.summary import all_problems
    from cfexport.exporters.spreadsheet import (Styles, new_workbook, put_style, put_text, put_value, row_height, save,
                                          set_height, settings)

    ratings = facts["ratings"]
    wb = new_workbook()
    s = settings(context.templates)
    styles = Styles(wb, s)

    def table(ws, headers: list[str], rows: list[list], widths: list[int]) -> None:
        for col, text in enumerate(headers, 1):
            put_text(ws, 1, col, _t(text), "cf header", styles)
        for r, row in enumerate(rows, 2):
            for col, value in enumerate(row, 1):
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    put_value(ws, r, col, value, "cf number", styles)
                elif value is None or value == "":
                    put_style(ws, r, col, "cf text", styles)
                else:
                    put_text(ws, r, col, _t(value)[:32_000], "cf text", styles)
        for col, width in enumerate(widths, 1):
            ws.column_dimensions[get_column_letter(col)].width = width
        ws.freeze_panes = "B2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{max(len(rows) + 1, 2)}"
        ws.row_dimensions[1].height = 32

    # People
    ws = wb.create_sheet(PEOPLE)
    headers = (["Person", "Manager", "Role", "Current level", "Target level", "Status"]
               + [f"Self: {r}" for r in ratings] + [f"Manager: {r}" for r in ratings]
               + [f"Manager: share {ratings[-1]}", "New at target", "New rated by manager", "Evidence rows",
                  "Manager's summary", "Files", "Pack id"])
    rows = []
    for p in facts["packs"]:
        files = "\n".join(f["path"] + ("" if f["used"] else " (older copy, not read)") for f in p["files"])
        summary = "\n".join(f"{k}: {v}" for k, v in p["summary"].items() if v)
        rows.append([p["person"], p["manager"] or "", p["role_title"] or p["role"], p["current_level"],
                     p["target_level"], p["status"]]
                    + [p["ratings"]["self"].get(r, 0) for r in ratings]
                    + [p["ratings"]["manager"].get(r, 0) for r in ratings]
                    + [p["top_share"], p["new_at_target"], p["new_rated"], p["evidence_rows"], summary[:2000], files,
                       p["pack_id"]])
    n = len(ratings)
    table(ws, headers, rows, [24, 22, 22, 9, 9, 12] + [10] * (2 * n) + [12, 9, 10, 10, 50, 60, 26])
    share_col = 7 + 2 * n
    for r, row in enumerate(rows, 2):
        ws.cell(row=r, column=share_col).number_format = "0%"
        lines = max(1, *(len(str(v).split("\n")) for v in row[-3:-1]))
        set_height(ws, r, row_height(s, min(lines, 20)), fixed=False)
    if rows:
        rng = f"F2:F{len(rows) + 1}"
        for status, colour in STATUS_FILLS.items():
            fill = PatternFill(fill_type="solid", start_color=colour, end_color=colour)
            ws.conditional_formatting.add(rng, CellIsRule(operator="equal", formula=[f'"{status}"'], fill=fill))

    # Areas
    ws = wb.create_sheet(AREAS)
    headers = (["Person", "Role", "Area", "Statements"] + [f"Manager: {r}" for r in ratings]
               + ["Manager: not rated", "Manager score", "Evidence rows"])
    rows = []
    for p in facts["packs"]:
        if p["status"] == "missing":
            continue
        for a in p["areas"]:
            rated = sum(a["manager"].values())
            score = (sum(i * a["manager"].get(r, 0) for i, r in enumerate(ratings)) / (rated * (n - 1))
                     if rated and n > 1 else None)
            rows.append([p["person"], p["role_title"] or p["role"], a["title"], a["statements"]]
                        + [a["manager"].get(r, 0) for r in ratings]
                        + [a["statements"] - rated, round(score, 4) if score is not None else None, a["evidence_rows"]])
    table(ws, headers, rows, [24, 22, 30, 11] + [11] * n + [11, 11, 10])
    score_col = get_column_letter(6 + n)
    for r in range(2, len(rows) + 2):
        ws[f"{score_col}{r}"].number_format = "0%"
    if rows:
        fills = list(s.rating_fills) + ["C6E0B4"] * 3
        ws.conditional_formatting.add(
            f"{score_col}2:{score_col}{len(rows) + 1}",
            ColorScaleRule(start_type="num", start_value=0, start_color=fills[0], mid_type="num", mid_value=0.5,
                           mid_color=fills[len(ratings) // 2] if len(ratings) > 2 else "FFE699",
                           end_type="num", end_value=1, end_color=fills[len(ratings) - 1]))

    # Problems
    ws = wb.create_sheet(PROBLEMS)
    rows = [[p["person"] or "", p["kind"], p["statement"] or "", p["file"] or "", p["message"]]
            for p in all_problems(facts)]
    table(ws, ["Person", "Kind", "Statement", "File", "Problem"], rows, [24, 18, 34, 60, 90])
    for ws in wb.worksheets:
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    wb.active = 0
    return save(wb, context, "Promotion round summary", "cfexport", keywords=MARK)


def _ours(path: Path) -> bool:
    """Whether an existing file at --out (or its .json) is a summary collect wrote."""
    try:
        if path.suffix.lower() == ".json":
            with open(path, "rb") as f:
                head = f.read(4096).decode("utf-8", "replace")
            return '"generator": "cfexport collect' in head
        with zipfile.ZipFile(path) as zf:
            return MARK.encode() in zf.read("docProps/core.xml")
    except (OSError, KeyError, zipfile.BadZipFile, RuntimeError, ValueError):
        return False


def json_path(out: Path) -> Path:
    return out.with_suffix(".json")


def write(out: Path, facts: dict, context) -> list[Path]:
    """Write --out and the JSON beside it; an OutputError when either place holds a file collect did not write."""
    targets = {out: render_xlsx(facts, context), json_path(out): json_bytes(facts)}
    for path in targets:
        if path.is_symlink() or path.is_dir() or (path.exists() and not _ours(path)):
            raise OutputError(f"{path} exists and was not written by cfexport collect; move it away or choose "
                              "another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    temps = []
    try:
        for path, data in targets.items():
            fd, tmp = tempfile.mkstemp(prefix=".cfexport-", suffix=path.suffix, dir=path.parent)
            temps.append((Path(tmp), path))
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.chmod(tmp, 0o644)
        for tmp, path in temps:
            os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        for tmp, _ in temps:
            if tmp.exists():
                tmp.unlink()
    return list(targets)
