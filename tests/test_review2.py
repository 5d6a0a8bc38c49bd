"""Review of the speed change (4fd860f..594e3a8): what it broke, each as a test."""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from datetime import datetime, timezone

from conftest import TEMPLATES

from cfexport.exporters.base import Context

WHEN = datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)


def _big_write_only_workbook(rows: int, text: str):
    from cfexport.exporters.spreadsheet import Styles, append_row, new_workbook, settings, text_cell

    wb = new_workbook(write_only=True)
    styles = Styles(wb, settings(TEMPLATES))
    ws = wb.create_sheet("Big")
    for r in range(rows):
        append_row(ws, [text_cell(ws, f"{r} {text}", "cf text", styles)])
    ws.close()  # the rows are on disk now
    return wb


def test_saving_a_write_only_workbook_never_holds_its_unpacked_package_in_memory():
    """The competency matrix of an extra-large framework is ~100 MB of sheet XML, streamed to disk a
    row at a time; its package was then written stored (not deflated) into memory before being
    normalised: +100 MB of peak memory for the process writing it (118 -> 212 MB for the xl
    framework's xlsx, against a goal of 300 MB per process with the other documents). The stored
    package goes through a temporary file, as `save_to` does; the bytes are those of `save_to`."""
    from cfexport.exporters.spreadsheet import save, save_to

    text = "what this level asks of everyone in the craft, " * 12
    wb = _big_write_only_workbook(12_000, text)
    tracemalloc.start()
    try:
        data = save(wb, Context(TEMPLATES, WHEN, "1"), "Big", "cfexport")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        unpacked = zf.getinfo("xl/worksheets/sheet1.xml").file_size
    assert unpacked > 6_000_000
    assert peak < unpacked / 3, f"peak {peak:,} bytes for a sheet of {unpacked:,}"

    again = io.BytesIO()
    save_to(again, _big_write_only_workbook(12_000, text), Context(TEMPLATES, WHEN, "1"), "Big", "cfexport")
    assert again.getvalue() == data
