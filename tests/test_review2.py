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


def test_a_kept_folder_holding_a_file_that_is_not_cfexports_is_named_in_pack_order_before_anything_is_rendered(
        tmp_path, monkeypatch):
    """A pack folder of an earlier round whose pack.json does not list a file the round writes there (the user's
    own `level-cards.pdf`) stops the round. The packs are rendered a move at a time and, with --jobs 2, as they
    complete: the folder named was the first met in that order (--jobs 1 named the 31st pack's when the 2nd
    also had one, and --jobs 2 either), and only after rendering up to it. It is the first in the order of the
    packs, whatever --jobs, and found before any pack is rendered."""
    import json

    from click.testing import CliRunner
    from conftest import FRAMEWORK

    import cfexport.packs.folders as folders
    from cfexport.cli import main

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    people = tmp_path / "people.csv"
    moves = [(5, 6), (6, 7)]
    people.write_text("person,role,current_level,target_level,manager\n" + "".join(
        f"P{n},mlengineer/ml-engineer,{moves[n % 2][0]},{moves[n % 2][1]},M\n" for n in range(12)), "utf-8")

    def run(out, jobs):
        return CliRunner().invoke(main, ["packs", "--people", str(people), "--framework", str(FRAMEWORK),
                                         "--out", str(out), "--jobs", str(jobs)])

    first = tmp_path / "first"
    assert run(first, 1).exit_code == 0
    folders_made = sorted(p.name for p in (first / "packs").iterdir() if p.is_dir())
    p1 = next(f for f in folders_made if f.startswith("p1-"))
    p10 = next(f for f in folders_made if f.startswith("p10-"))
    for name in (p1, p10):  # the user's own level-cards.pdf: pack.json no longer lists it
        record = first / "packs" / name / "pack.json"
        data = json.loads(record.read_text("utf-8"))
        assert set(data["files"]) | {"pack.json"} == set(folders.PACK_FILES)  # what is checked up front
        data["files"].remove("level-cards.pdf")
        record.write_text(json.dumps(data, indent=2) + "\n", "utf-8")

    rendered = []
    real = folders.render_pack
    monkeypatch.setattr(folders, "render_pack", lambda *a: rendered.append(a[1].folder) or real(*a))
    import shutil

    for jobs in (1, 2):
        out = tmp_path / f"again{jobs}"
        shutil.copytree(first, out)
        result = run(out, jobs)
        assert result.exit_code == 3, result.output
        assert f"{p1}/level-cards.pdf exists and was not written by cfexport" in result.output, result.output
        assert _tree(out) == _tree(first)
    assert rendered == []  # (in this process: --jobs 1)


def _tree(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
