"""Read documents back with the libraries real users' tools agree with, never with our code."""

from __future__ import annotations

import re
from pathlib import Path


def docx_text(path: Path) -> str:
    """Every paragraph of the body, its tables, headers and footers, one per line."""
    import docx

    doc = docx.Document(str(path))
    lines = []

    def walk(container):
        for p in container.paragraphs:
            lines.append(p.text)
        for table in container.tables:
            for row in table.rows:
                for cell in row.cells:
                    walk(cell)

    walk(doc)
    for section in doc.sections:
        walk(section.header)
        walk(section.footer)
    return "\n".join(lines)


def xlsx_cells(path: Path) -> list:
    """Every non-empty cell of every sheet (openpyxl cells, so data_type can be checked)."""
    import openpyxl

    wb = openpyxl.load_workbook(str(path))
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)


def squash(text: str) -> str:
    """Text without white space or soft hyphens: PDF extraction rewraps lines, and a soft hyphen
    is invisible by definition; neither counts as loss."""
    return re.sub(r"[\s\u00ad]+", "", text)
