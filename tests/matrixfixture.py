"""A competency-matrix workbook written for the matrix-xlsx reader's tests: cfexport's layout
moved about as a print-layout change or an HR edit would move it (title on row 2, legend on
row 1 to the right, header on row 4, the levels split into two blocks, a formula)."""

from __future__ import annotations

from pathlib import Path

import openpyxl

MARKUP = "Uses `<br>` and *stars* | pipes [link](x) \\ too"


def write_matrix(path: Path) -> Path:
    wb = openpyxl.Workbook()
    wb.properties.title = "Ünicode Framework: competency matrix"
    for n, (name, spec, quality) in enumerate((("Backend", "Backend", "• Tests every change\n• Reviews code"),
                                               ("Front end", "Front end", "• Tests every change"))):
        ws = wb.active if n == 0 else wb.create_sheet()
        ws.title = name
        ws["F1"], ws["G1"] = "Not yet defined (TODO)", "Not described at this level"
        ws["A2"] = f"Platform Craft · {spec}"
        ws.append([])
        ws.append(["Area", "Applies to", "What the area covers", "Level 1 · Júnior", "Level 2 · Senior"])  # row 4
        ws.append(["Delivery", "Shared", "Shipping work.", "• Ships small changes\n• Asks for help", "• Ships features"])
        ws.append(["Quality", "Shared", "Not defined on the craft page", quality, "Not yet defined (TODO)"])
        ws.append([f"{spec} skills", spec, f"What {spec} needs.", f"• {MARKUP}" if n == 0 else "• Builds 画面 UIs",
                   "Not described at this level"])
        ws.append([])
        ws.append([])
        ws.append(["Area", "Level 3 · Staff"])  # row 10: the levels go on below, for printing
        ws.append(["Delivery", "• Leads delivery across teams"])
        ws.append(["Quality", "TODO"])
        ws.append([f"{spec} skills", "=HYPERLINK(\"http://example.com\",\"never evaluated\")"])
    about = wb.create_sheet("About")
    about.append(["Ünicode Framework"])
    about.append(["Version", "2.1"])
    stmts = wb.create_sheet("Statements")
    stmts.append(["Craft", "Specialism", "Area", "Level", "Statement"])
    wb.save(path)
    return path
