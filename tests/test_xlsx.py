"""The Excel competency matrix and the self-assessment workbook, read back with openpyxl
(and LibreOffice), never with our own code."""

from __future__ import annotations

import csv
import io
import math
import re
import subprocess
import tempfile
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import FRAMEWORK, TEMPLATES, need_tool
from factory import TODO, CraftSpec, LevelSpec, small_craft, write_framework
from openpyxl.utils import range_boundaries

from cfexport.cli import main
from cfexport.compare import compare
from cfexport.exporters.base import Context, ExportError
from cfexport.exporters.spreadsheet import ERROR_TEXTS, SheetNames
from cfexport.exporters.matrix import XlsxExporter
from cfexport.model import Area, Craft, Expectation, Framework, Level, Role, Source, Statement
from cfexport.packs.self_assessment import render_self_assessment
from cfexport.readers import read_framework

WHEN = datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
BULLET = "• "
TODO_TEXT = "Not yet defined (TODO)"
ABSENT_TEXT = "Not described at this level"
LONG_HEADER = ["Craft", "Specialism", "Area", "Level", "Level name", "Status", "No.", "Statement",
               "Source file", "Source line"]
HOSTILE = [
    "=1+1", "=HYPERLINK(\"http://evil.example\",\"click\")", "+44 20 7946 0000", "-- none --", "-2+3",
    "@SUM(A1:A2)", "#N/A", "TRUE", "0012", "1e5", "2024-01-02",
    "<b>R&D</b> </para> &amp; &nbsp; {{ 7*7 }}",
    "Ελληνικά Кириллица 日本語 😀 العربية עברית",
    "long " * 299 + "end",
]
QUOTED = {"=", "+", "-", "@"}


def _context(templates: Path = TEMPLATES) -> Context:
    return Context(templates=templates, build_time=WHEN, version="2023-11-14")


def _render(fw: Framework, templates: Path = TEMPLATES) -> tuple[bytes, Context]:
    ctx = _context(templates)
    ex = XlsxExporter()
    [doc] = ex.plan(fw)
    return ex.render(fw, doc, ctx), ctx


def _load(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data))


def _read(root: Path) -> Framework:
    result = read_framework(root)
    assert not result.errors, result.errors
    return result.framework


def _matrix_sheet(wb, craft, spec):
    """The sheet of one track, found by its title cell (sheet names may be shortened)."""
    title = f"{craft.title} · {spec}" if spec else craft.title
    found = [ws for ws in wb.worksheets if ws["A1"].value == title]
    assert len(found) == 1, (title, wb.sheetnames)
    return found[0]


def _grid(ws):
    """{(area title, level header): cell} of a matrix sheet, and the area order."""
    headers = {c.column: c.value for c in ws[2] if c.value}
    areas, grid = [], {}
    for row in ws.iter_rows(min_row=3):
        if row[0].value is None:
            continue
        areas.append(row[0].value)
        for cell in row:
            if cell.column in headers:
                grid[(row[0].value, headers[cell.column])] = cell
    return areas, grid


def _long_rows(wb):
    ws = wb["Statements"]
    rows = list(ws.iter_rows(min_row=1))
    assert [c.value for c in rows[0]] == LONG_HEADER
    return rows[1:]


# --- the shipped framework -------------------------------------------------------------

@pytest.fixture(scope="module")
def shipped_matrix(shipped):
    data, ctx = _render(shipped)
    return data, _load(data), ctx


def test_plan_is_one_workbook_for_the_whole_framework(shipped):
    [doc] = XlsxExporter().plan(shipped)
    assert (doc.path, doc.suffix, doc.craft, doc.specialism, doc.level) == (("competency-matrix",), ".xlsx",
                                                                            None, None, None)


def test_every_shipped_statement_is_in_the_matrix_in_its_area_row_and_level_column(shipped, shipped_matrix):
    _, wb, ctx = shipped_matrix
    assert wb.sheetnames == ["ML Engineer", "Edge ML Engineer", "Statements", "About"]
    assert ctx.problems == []
    todo_cells = 0
    for craft in shipped.crafts:
        for spec in craft.tracks():
            ws = _matrix_sheet(wb, craft, spec)
            areas, grid = _grid(ws)
            # craft-page order: shared areas first, then this specialism's; never another's
            expected = [a.title for a in craft.areas if a.specialism in (None, spec)]
            assert areas == expected
            assert [c.value for c in ws[2]][-len(craft.levels):] == [lv.label for lv in craft.levels]
            for level in craft.levels:
                for ae in Role(craft, spec, level).areas():
                    cell = grid[(ae.area_title, level.label)]
                    assert cell.data_type == "s"
                    if ae.statements:
                        assert cell.value.split("\n") == [BULLET + s.text for s in ae.statements]
                    elif ae.todo:
                        todo_cells += 1
                        assert cell.value == TODO_TEXT
                        assert cell.fill.fgColor.rgb.endswith("FFF2CC")
                    else:
                        assert cell.value == ABSENT_TEXT
            # the definition sits beside the area
            for area in craft.areas:
                if area.specialism in (None, spec):
                    row = areas.index(area.title) + 3
                    assert area.definition in [c.value for c in ws[row]]
    assert todo_cells == 6  # level 5: two areas, level 6: one; for each of the two specialisms


def test_every_shipped_statement_is_in_the_long_table_with_its_source(shipped, shipped_matrix):
    _, wb, _ = shipped_matrix
    rows = [[c.value for c in r] for r in _long_rows(wb)]
    expected = []
    for craft in shipped.crafts:
        for level in craft.levels:
            for exp in level.expectations:
                title = craft.area(exp.area_id).title
                spec = exp.specialism or "shared"
                if exp.todo:
                    expected.append([craft.title, spec, title, level.number, level.name, "todo", None, None,
                                     exp.source.file, exp.source.line])
                for i, s in enumerate(exp.statements, 1):
                    expected.append([craft.title, spec, title, level.number, level.name, "defined", i, s.text,
                                     s.source.file, s.source.line])
    assert rows == expected
    assert sum(1 for r in rows if r[5] == "defined") == sum(1 for _ in shipped.statements())
    # the file and line really are where the statement is written
    for r in rows:
        if r[5] == "defined":
            line = (FRAMEWORK / r[8]).read_text("utf-8").split("\n")[r[9] - 1]
            # the site shows kramdown's typographic apostrophe where the page has a straight one
            assert r[7].replace("\u2019", "'") in line.replace("\u2019", "'"), r
    table = wb["Statements"].tables["FrameworkStatements"]
    assert table.ref == f"A1:J{len(rows) + 1}"
    assert table.tableStyleInfo.showRowStripes


def test_matrix_is_made_for_people_and_printers(shipped_matrix):
    _, wb, _ = shipped_matrix
    ws = wb["ML Engineer"]
    assert ws.freeze_panes == "B3"
    assert ws.auto_filter.ref == f"A2:G{ws.max_row}"
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9  # A4
    # printed large enough to read: whole level columns per page, the area column repeated
    assert not ws.sheet_properties.pageSetUpPr.fitToPage and int(ws.page_setup.scale) >= 85
    assert [b.id for b in ws.col_breaks.brk] == [5] and ws.print_title_cols == "$A:$A"
    assert ws.print_title_rows == "$2:$2" and ws.print_area == "'ML Engineer'!$A$2:$G$8"
    assert ws.oddHeader.right.text == "ML and Edge ML Engineer Craft · ML Engineer"
    assert ws.oddFooter.right.text == "Page &P of &N"
    assert ws.oddHeader.left.text == "Vaarst Career Framework"
    # no `version:` in the framework: the footer says when it was built, not "Version <date>"
    assert ws.oddFooter.left.text == "Built 2023-11-14"
    assert TODO_TEXT in ws.oddFooter.center.text and ABSENT_TEXT in ws.oddFooter.center.text
    assert all(c.value not in (TODO_TEXT, ABSENT_TEXT) for c in ws[1])  # no legend above the level headers
    for row in ws.iter_rows(min_row=3):
        lines = max(len(str(c.value).split("\n")) for c in row if c.value)
        height = ws.row_dimensions[row[0].row].height
        assert height and height >= 12.5 * lines, (row[0].row, height, lines)
        assert all(c.alignment.wrap_text for c in row)
    for letter in "ABCDEFG":
        assert ws.column_dimensions[letter].width >= 14
    about = [c.value for row in wb["About"].iter_rows() for c in row if c.value]
    assert "Vaarst Career Framework" in about and "2023-11-14 22:13 UTC" in about
    assert about[about.index("Version") + 1].startswith("not given")  # the build date is not a version
    assert TODO_TEXT in about and ABSENT_TEXT in about
    assert wb.properties.title == "Vaarst Career Framework: competency matrix"
    assert wb.properties.creator == "Vaarst Career Framework"
    assert wb.properties.created == WHEN.replace(tzinfo=None)


def test_layout_set_before_the_rows_survives_writing_row_by_row(shipped_matrix, hostile_matrix):
    # The workbook is written a row at a time, where widths, heights, freeze panes, grid lines
    # and the sheet's size only count when given before the rows they belong to.
    data, wb, _ = shipped_matrix
    # About: the description of the framework's index page, merged across both columns, in a
    # row taller than a one-line one; no grid lines
    body = (FRAMEWORK / "index.md").read_text("utf-8").split("---", 2)[2]
    paragraphs = [" ".join(p.split()) for p in body.strip().split("\n\n") if not p.startswith("#")]
    about = wb["About"]
    assert about["A2"].value.split("\n\n") == paragraphs
    assert [str(r) for r in about.merged_cells.ranges] == ["A2:B2"]
    built = next(row[0].row for row in about.iter_rows() if row[0].value == "Built")
    assert about.row_dimensions[2].height > about.row_dimensions[built].height >= 15
    assert about["A1"].value == "Vaarst Career Framework" and about.row_dimensions[1].height > 15
    assert about.sheet_view.showGridLines is False
    assert about.column_dimensions["B"].width > about.column_dimensions["A"].width > 13
    # a matrix sheet: the header row and the title row keep their heights, the columns their widths
    ws = wb["ML Engineer"]
    assert ws.row_dimensions[1].height > 15 and ws.row_dimensions[2].height >= 15
    assert ws.column_dimensions["C"].width > ws.column_dimensions["A"].width > 13
    # Statements: headers frozen, the table's columns named as its header row
    long = wb["Statements"]
    assert long.freeze_panes == "A2"
    table = long.tables["FrameworkStatements"]
    assert [c.name for c in table.tableColumns] == [c.value for c in long[1]] == LONG_HEADER
    # each sheet states its size at its top, as a reader that streams the sheet needs it
    streamed = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    assert [streamed[n].calculate_dimension() for n in wb.sheetnames] == [wb[n].dimensions for n in wb.sheetnames]
    # a long statement's row is as tall as its wrapped text; a one-line row keeps the default
    _, _, hostile_wb, _ = hostile_matrix
    rows = {r[7].value: r[0].row for r in _long_rows(hostile_wb)}
    heights = hostile_wb["Statements"].row_dimensions
    assert heights[rows["long " * 299 + "end"]].height > 10 * 12.5
    assert heights[rows["=1+1"]].height is None


def test_two_builds_with_source_date_epoch_are_byte_identical(tmp_path):
    runner = CliRunner()
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        result = runner.invoke(main, ["build", "--framework", str(FRAMEWORK), "--out", str(out), "--format", "xlsx",
                                      "--jobs", "1"], env={"SOURCE_DATE_EPOCH": "1700000000"})
        assert result.exit_code == 0, result.output
        outs.append((out / "competency-matrix.xlsx").read_bytes())
    assert outs[0] == outs[1]
    with zipfile.ZipFile(io.BytesIO(outs[0])) as zf:
        assert {i.date_time for i in zf.infolist()} == {(2023, 11, 14, 22, 13, 20)}
        assert b"2023-11-14T22:13:20Z" in zf.read("docProps/core.xml")


# --- hostile text ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def hostile_matrix(tmp_path_factory):
    root = write_framework(tmp_path_factory.mktemp("hostile") / "fw",
                           [small_craft({"Delivery1": HOSTILE})], title="R&D &P Framework")
    fw = _read(root)
    data, ctx = _render(fw)
    return fw, data, _load(data), ctx


def test_a_workbook_saved_into_a_file_is_the_bytes_save_returns():
    """`save_to` (the round index: the package copied from a temporary file a piece at a time) and `save` (every
    other workbook, in memory) make the same bytes, cached formula values included."""
    from cfexport.exporters.spreadsheet import Styles, new_workbook, put_text, put_value, save, save_to, settings

    ctx = Context(templates=TEMPLATES, build_time=WHEN, version="1")
    for formulas in (False, True):
        made = []
        for _ in range(2):
            wb = new_workbook()
            ws = wb.create_sheet("Sheet")
            styles = Styles(wb, settings(TEMPLATES))
            for row in range(1, 3000):  # the sheet's XML far larger than a piece of the copy
                put_text(ws, row, 1, f"text {row} " + "x" * (row % 50), "cf text", styles)
                put_value(ws, row, 2, row, "cf number", styles)
            if formulas:
                put_value(ws, 1, 3, "=SUM(B1:B2999)", "cf number", styles, cached=4498500)
            made.append(wb)
        into = io.BytesIO()
        save_to(into, made[0], ctx, "T", "cfexport")
        assert into.getvalue() == save(made[1], ctx, "T", "cfexport")
    assert b"<v>4498500</v>" in zipfile.ZipFile(io.BytesIO(into.getvalue())).read("xl/worksheets/sheet1.xml")


def test_hostile_statements_are_literal_string_cells_never_formulas(hostile_matrix):
    fw, data, wb, ctx = hostile_matrix
    assert ctx.problems == []
    rows = [r for r in _long_rows(wb) if r[2].value == "Delivery" and r[3].value == 1 and r[1].value == "shared"]
    assert [r[7].value for r in rows] == HOSTILE
    for r in rows:
        cell = r[7]
        assert cell.data_type == "s"
        assert bool(cell.quotePrefix) == (cell.value[0] in QUOTED or cell.value == "#N/A"), cell.value
    craft = fw.crafts[0]
    for spec in craft.tracks():
        _, grid = _grid(_matrix_sheet(wb, craft, spec))
        cell = grid[("Delivery", "Level 1 · Junior")]
        assert cell.data_type == "s"
        assert cell.value.split("\n") == [BULLET + s for s in HOSTILE]
    # nothing anywhere in the package is a formula or an error value
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/"):
                xml = zf.read(name).decode("utf-8")
                assert "<f>" not in xml and "<f " not in xml and 't="e"' not in xml, name
    # the header escapes & so that "&P" in a title is not a page number
    assert wb.worksheets[0].oddHeader.left.text == "R&&D &&P Framework"


def test_a_statement_too_long_for_a_cell_is_an_error_naming_file_and_line(tmp_path):
    for i, text in enumerate(["word " * 7000, "😀" * 16_400]):  # 35,000 characters; 32,800 UTF-16 units
        root = write_framework(tmp_path / f"fw{i}", [small_craft({"Analysis2": ["short", text]})])
        fw = _read(root)
        with pytest.raises(ExportError) as err:
            _render(fw)
        page = root / "test" / "level2.md"
        line = next(n for n, ln in enumerate(page.read_text("utf-8").split("\n"), 1) if "short" in ln)
        assert str(err.value.source) == f"test/level2.md:{line}"
        assert "32,767" in str(err.value)


def test_a_workbook_stopped_by_an_error_leaves_no_files_behind(tmp_path, monkeypatch):
    # sheets already written wait on disk for the save; a server renders many workbooks in one process
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    fine, too_long = small_craft(), small_craft({"Analysis2": ["short", "word " * 7000]})
    too_long.title, too_long.slug = "Other Craft", "other"
    fw = _read(write_framework(tmp_path / "fw", [fine, too_long]))
    with pytest.raises(ExportError):
        _render(fw)
    assert list(scratch.iterdir()) == []


def test_long_text_below_the_limit_is_kept_whole(tmp_path):
    text = "x" * 32_000
    fw = _read(write_framework(tmp_path / "fw", [small_craft({"Analysis2": [text]})]))
    wb = _load(_render(fw)[0])
    assert text in [r[7].value for r in _long_rows(wb)]


def test_control_characters_are_dropped_with_a_warning_naming_file_and_line():
    # a model built by some other reader, which did not clean its text
    src = Source("x/level1.md", 12)
    area = Area("a", "Area", "Def", None, Source("x/index.md", 3))
    exp = Expectation("a", "Area", None, (Statement("keep\x0bthis\x00", src),), False, src)
    level = Level(1, "One", "Level 1 (One)", "One", None, False, (exp,), Source("x/level1.md", 1))
    craft = Craft("x", "X Craft", "", None, (area,), (), (), (level,), Source("x/index.md", 1))
    fw = Framework("FW", "", None, (craft,), Source("index.md", 1))
    data, ctx = _render(fw)
    assert [str(p) for p in ctx.problems] == [
        "x/level1.md:12: warning: removed character(s) an Excel cell cannot hold: U+0000, U+000B"]
    assert "keepthis" in [r[7].value for r in _long_rows(_load(data))]


def _no_specialisms(title: str, slug: str) -> CraftSpec:
    return CraftSpec(title, slug, [(None, "Delivery", "Shipping work.")],
                     [LevelSpec(1, "One", {None: [("Delivery", [f"I deliver in {slug}."])]})])


def test_sheet_names_are_valid_and_unique_whatever_the_titles(tmp_path):
    long = "Engineering [Platform]: Infrastructure / Reliability * Operations? "
    crafts = [small_craft(), small_craft(), _no_specialisms("History", "hist"),
              _no_specialisms("Statements", "stat"), _no_specialisms("'Quoted' Craft", "quoted"),
              _no_specialisms(long + "one", "long1"), _no_specialisms(long + "two", "long2")]
    crafts[0].title, crafts[1].title, crafts[1].slug = "Test Craft", "Other Craft", "other"
    fw = _read(write_framework(tmp_path / "fw", crafts))
    wb = _load(_render(fw)[0])
    names = wb.sheetnames
    assert len({n.casefold() for n in names}) == len(names)
    for name in names:
        assert 0 < len(name.encode("utf-16-le")) // 2 <= 31, name
        assert not set(name) & set("[]:*?/\\"), name
        assert not name.startswith("'") and not name.endswith("'"), name
        assert name.casefold() != "history"
    assert names[-2:] == ["Statements", "About"]
    # every track has its own sheet, found by its full title; the two long titles collide
    # after truncation and still get two sheets
    for craft in fw.crafts:
        for spec in craft.tracks():
            _matrix_sheet(wb, craft, spec)
    assert len(names) == 2 * 2 + 5 + 2


def test_sheet_names_edge_cases():
    names = SheetNames(reserved=("Statements", "About"))
    got = [names.take(t) for t in ["", "'''", "history", "ABOUT", "a" * 40, "a" * 40, "😀" * 20, "x/y:z?*",
                                   "[x]", " 'q' "]]
    assert got == ["Sheet", "Sheet (2)", "history (2)", "ABOUT (2)", "a" * 31, "a" * 27 + " (2)",
                   "😀" * 15, "x-y-z", "(x)", "q"]


def test_left_out_areas_say_so_and_huge_cells_widen_their_column_with_a_warning(tmp_path):
    many = [f"A long statement about delivery that goes on for a while, number {i}." for i in range(150)]
    areas = [(None, "Delivery", "Shipping work."), (None, "Mentoring", "Growing others.")]
    levels = [LevelSpec(1, "One", {None: [("Delivery", ["I deliver."])]}),  # leaves Mentoring out
              LevelSpec(2, "Two", {None: [("Delivery", many), ("Mentoring", ["I mentor."])]})]
    fw = _read(write_framework(tmp_path / "fw", [CraftSpec("Plain Craft", "plain", areas, levels)]))
    data, ctx = _render(fw)
    wb = _load(data)
    ws = wb["Plain"]
    assert [c.value for c in ws[2]] == ["Area", "What the area covers", "Level 1 · One", "Level 2 · Two"]
    _, grid = _grid(ws)
    assert grid[("Mentoring", "Level 1 · One")].value == ABSENT_TEXT
    assert grid[("Delivery", "Level 2 · Two")].value.split("\n") == [BULLET + m for m in many]
    assert ws.column_dimensions["D"].width > 40 and ws.row_dimensions[3].height == 409
    assert len(ctx.problems) == 1 and "too long to show whole" in ctx.problems[0].message
    assert str(ctx.problems[0].source).startswith("plain/level2.md:")


# --- write-only rows: the XML openpyxl's own writer writes -----------------------------

ROW_TEXTS = [
    "plain", " leading space", "trailing space ", "  both  ", "   ", "\nleading newline", "trailing newline\n",
    "\ttab first", "line\nbreaks\r\nand\rreturns", "R&D <b>bold</b> & </para> &amp; &#169; &nbsp;", "]]>", "a]]>b",
    "\"double\" 'single' `back`", "😀 emoji, 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 astral, 日本語, العربية, עברית, e\u0301", "\u0085 NEL \u2028 LS \u007f DEL \ufeff BOM",
    "=1+1", "=HYPERLINK(\"http://evil.example\",\"x\")", "+44 20", "-2+3", "-- none --", "@SUM(A1:A2)", "#N/A", "#n/a",
    "#REF!", "#", "TRUE", "0012", "1e5", "2024-01-02", "x" * 32_767, "😀" * 16_383 + "x", "",
]
ROW_NUMBERS = [0, 1, -5, 17, 2**53 + 1, 12345678901234567890, 1.5, -0.0, 1e-300, 3.141592653589793, 1e16, float("nan"),
               float("inf")]


def _write_only_rows(build):
    """The parts of a write-only workbook whose rows `build(ws, styles)` appends, saved by openpyxl."""
    from cfexport.exporters.spreadsheet import Styles, new_workbook, settings

    wb = new_workbook(write_only=True)
    styles = Styles(wb, settings(TEMPLATES))
    for name in ("One", "Two"):  # the style indexes are the workbook's: shared by its sheets
        ws = wb.create_sheet(name)
        ws.column_dimensions["A"].width = 30
        build(ws, styles)
        ws.close()
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as zf:
        return {n: zf.read(n) for n in zf.namelist() if n != "docProps/core.xml"}, buf.getvalue()  # (core: "now")


def _rows_spec():
    """Rows of cells as (kind, value, style) and a height: every kind of cell a write-only sheet holds, hostile text,
    and the cells cfexport does not write itself (a hyperlink, a comment, a date, a bool, rich text, an array
    formula), which openpyxl's own writer writes."""
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont
    from openpyxl.comments import Comment
    from openpyxl.worksheet.formula import ArrayFormula

    styles = ["cf text", "cf note", "cf number", "cf todo", "cf header"]
    rows = []
    for i, text in enumerate(ROW_TEXTS):  # text in every column, and a number, an empty styled cell, a gap
        rows.append(([("text", text, styles[i % 5]), ("value", ROW_NUMBERS[i % len(ROW_NUMBERS)], "cf number"),
                      ("value", None, "cf todo"), None, ("text", text, "cf header")],
                     [None, 10, 15, 20.04, 33.333, 409, 500][i % 7]))
    rows.append(([("value", n, "cf number") for n in ROW_NUMBERS], None))
    rows.append(([], 30))  # an empty row, with a height
    rows.append(([None, None], None))
    rows.append(([("text", f"column {c}", "cf text") for c in range(1, 60)], 18))  # past Z and AZ
    rows.append(([("value", "=SUM(B1:B3)", "cf number"), ("value", "=IF(A1<2,\"a&b\",\"<c>\")", "cf text"),
                  ("value", "=", "cf text"), ("value", "=\"x\" ", "cf text")], None))  # formulas ("=" is text)
    rows.append(([("cell", lambda c: setattr(c, "hyperlink", "https://example.com/?a=1&b=2"), "hyperlink"),
                  ("text", "after a hyperlink", "cf text")], 40))
    rows.append(([("cell", lambda c: setattr(c, "comment", Comment("a note & <more>", "cfexport")), "commented"),
                  ("value", 3, "cf number")], None))
    rows.append(([("cell", None, datetime(2024, 1, 2, 3, 4, 5)), ("cell", None, True), ("cell", None, False),
                  ("cell", None, CellRichText("rich ", TextBlock(InlineFont(b=True), "bold"))),
                  ("cell", None, ArrayFormula("A1:A2", "=SUM(B1:B2)")), ("cell", None, "#DIV/0!")], 25))
    rows.append(([("text", "after the odd ones", "cf text"), ("raw", "unstyled", None), ("raw", None, None),
                  ("raw", 7, None)], None))
    return rows


ROW_DIMENSIONS = {3: {"hidden": True}, 8: {"outlineLevel": 1}}  # set on a row before it is appended


def _append_fast(ws, styles):
    from cfexport.exporters.spreadsheet import append_row, text_cell, value_cell

    for r, (spec, height) in enumerate(_rows_spec(), 1):
        for key, value in ROW_DIMENSIONS.get(r, {}).items():
            setattr(ws.row_dimensions[r], key, value)
        cells = []
        for item in spec:
            if item is None:
                cells.append(None)
            elif item[0] == "text":
                cells.append(text_cell(ws, item[1], item[2], styles))
            elif item[0] == "value":
                cells.append(value_cell(ws, item[1], item[2], styles))
            else:
                cells.append(_openpyxl_cell(ws, item))
        assert append_row(ws, cells, height) == r


def _openpyxl_cell(ws, item):
    from openpyxl.cell.cell import Cell

    kind, value, extra = item
    if kind == "raw":
        return Cell(ws, row=1, column=1, value=value)
    cell = Cell(ws, row=1, column=1, value=extra)  # a value openpyxl types itself, as WriteOnlyCell makes it
    if value is not None:
        value(cell)
    return cell


def _append_reference(ws, styles):
    """The same rows, as the cfexport before this writer made them (a `Cell` each, text stored as a string
    whatever it looks like) and as openpyxl writes them itself (`ws.append`, the row's height set first)."""
    from openpyxl.cell.cell import Cell

    for r, (spec, height) in enumerate(_rows_spec(), 1):
        cells = []
        for item in spec:
            if item is None:
                cells.append(None)
            elif item[0] == "text":
                cell = Cell(ws, row=1, column=1, style_array=styles.array(item[2], item[1]))
                cell._value, cell.data_type = item[1], "s"
                cells.append(cell)
            elif item[0] == "value":
                cells.append(Cell(ws, row=1, column=1, value=item[1], style_array=styles.array(item[2])))
            else:
                cells.append(_openpyxl_cell(ws, item))
        for key, value in ROW_DIMENSIONS.get(r, {}).items():
            setattr(ws.row_dimensions[r], key, value)
        if height is not None:
            ws.row_dimensions[r].height = round(min(409.0, max(height, 15.0)), 1)  # as set_height says
        ws.append(cells)


@pytest.mark.parametrize("fast, batch", [(True, 64), (True, 3), (False, 64)],
                         ids=["row-writer", "row-writer-small-batches", "openpyxl-fallback"])
def test_write_only_rows_are_the_xml_openpyxl_writes(fast, batch, monkeypatch):
    """`append_row` writes rows as lxml elements parsed a batch at a time; every part of the package, the sheets'
    XML and the styles above all, is byte for byte what openpyxl's own writer makes of the same cells (hostile text,
    every kind of value, heights and other row settings, rows it hands to openpyxl), and also when it is not used
    (an openpyxl it does not know)."""
    from cfexport.exporters import spreadsheet

    monkeypatch.setattr(spreadsheet, "_FAST_ROWS", fast)
    monkeypatch.setattr(spreadsheet._Rows, "BATCH", batch)
    ours, data = _write_only_rows(_append_fast)
    reference, _ = _write_only_rows(_append_reference)
    assert ours.keys() == reference.keys()
    for name in reference:
        assert ours[name] == reference[name], name
    sheet = ours["xl/worksheets/sheet1.xml"].decode("ascii")
    assert sheet.count("<row ") == len(_rows_spec()) and 'xml:space="preserve"' in sheet and "&#128512;" in sheet
    assert '<c r="BG' in sheet and "<f>IF(A1&lt;2" in sheet and "&amp;amp;" in sheet and "]]&gt;" in sheet

    # read back: every text and number as it was given
    wb = _load(data)
    ws = wb["One"]
    for r, text in enumerate(ROW_TEXTS, 1):
        a, b, c, d, e = (ws.cell(r, col) for col in range(1, 6))
        if text:
            assert (a.value, a.data_type, e.value, e.font.b) == (text, "s", text, True)
            assert bool(a.quotePrefix) == (text[0] in "=+-@\t" or text.upper() in ERROR_TEXTS), repr(text)
        else:  # an empty string is an empty cell (as openpyxl writes it)
            assert a.value is None and a.has_style
        n = ROW_NUMBERS[(r - 1) % len(ROW_NUMBERS)]
        # (openpyxl writes a number to 16 significant digits, and NaN or infinity as no value)
        assert b.value == float("%.16g" % n) if math.isfinite(n) else b.value is None
        assert c.value is None and c.has_style and c.fill.fgColor.rgb.endswith("FFF2CC")
        assert d.value is None and not d.has_style
    numbers = [ws.cell(len(ROW_TEXTS) + 1, col).value for col in range(1, len(ROW_NUMBERS) + 1)]
    assert numbers == [0, 1, -5, 17, 2**53, 1.234567890123457e19, 1.5, 0, 1e-300, 3.141592653589793, 1e16, None, None]
    heights = [ws.row_dimensions[r].height for r in range(1, 8)]
    assert heights == [None, 15, 15, 20, 33.3, 409, 409]
    assert ws.row_dimensions[3].hidden and ws.row_dimensions[8].outlineLevel == 1


def test_write_only_rows_after_the_sheet_is_closed_are_refused():
    from openpyxl.utils.exceptions import WorkbookAlreadySaved

    from cfexport.exporters.spreadsheet import Styles, append_row, new_workbook, settings, text_cell

    wb = new_workbook(write_only=True)
    styles = Styles(wb, settings(TEMPLATES))
    ws = wb.create_sheet("One")
    append_row(ws, [text_cell(ws, "one", "cf text", styles)])
    ws.append([text_cell(ws, "two: given to openpyxl's own append", "cf text", styles), 2])  # numbered on
    ws.close()
    with pytest.raises(WorkbookAlreadySaved):
        append_row(ws, [text_cell(ws, "three", "cf text", styles)])
    buf = io.BytesIO()
    wb.save(buf)
    assert [[c.value for c in r] for r in _load(buf.getvalue())["One"].iter_rows()] == [
        ["one", None], ["two: given to openpyxl's own append", 2]]


def test_libreoffice_reads_write_only_rows_as_written(tmp_path):
    soffice = need_tool("soffice")
    _, data = _write_only_rows(_append_fast)
    (tmp_path / "rows.xlsx").write_bytes(data)
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to",
                    "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1", "--outdir",
                    str(tmp_path), str(tmp_path / "rows.xlsx")], check=True, capture_output=True, timeout=180)
    rows = list(csv.reader(io.StringIO((tmp_path / "rows-One.csv").read_text("utf-8"), newline="")))
    for r, text in enumerate(ROW_TEXTS):
        # (LibreOffice reads a CR, even one written as "&#13;", as a line end: so it does whoever wrote the XML)
        assert rows[r][0] == rows[r][4] == text.replace("\r\n", "\n").replace("\r", "\n"), repr(text)
    assert rows[len(ROW_TEXTS)][:4] == ["0", "1", "-5", "17"]
    assert rows[len(ROW_TEXTS) + 3][:3] == ["column 1", "column 2", "column 3"]


# --- theme settings --------------------------------------------------------------------

def test_theme_settings_change_the_workbook_and_bad_ones_name_the_file(tmp_path, shipped):
    good = tmp_path / "good"
    good.mkdir()
    (good / "theme.yaml").write_text("xlsx:\n  bullet: \"\"\n  ratings: [Low, Mid, High]\n  todo_fill: \"FF0000\"\n",
                                     "utf-8")
    wb = _load(_render(shipped, good)[0])
    _, grid = _grid(wb["ML Engineer"])
    assert grid[("ML Ops", "Level 5 · Junior")].value.split("\n")[0] == \
        "I work effectively with the ML tools and software packages used by my team."
    assert grid[("Architecture Design", "Level 5 · Junior")].fill.fgColor.rgb.endswith("FF0000")
    craft = shipped.crafts[0]
    data = render_self_assessment(shipped, Role(craft, "ML Engineer", craft.level(5)),
                                  Role(craft, "ML Engineer", craft.level(6)), "P", None, _context(good))
    [dv] = _load(data)["Self-assessment"].data_validations.dataValidation
    assert dv.formula1 == '"Low,Mid,High"'
    for i, bad in enumerate(["xlsx:\n  todo_fill: yellowish\n", "xlsx:\n  ratings: [\"A,B\", C]\n",
                             "xlsx:\n  widths: {level: 1000}\n"]):
        folder = tmp_path / f"bad{i}"
        folder.mkdir()
        (folder / "theme.yaml").write_text(bad, "utf-8")
        with pytest.raises(ExportError) as err:
            _render(shipped, folder)
        assert str(folder / "theme.yaml") in str(err.value)


# --- the self-assessment ---------------------------------------------------------------

@pytest.fixture(scope="module")
def ml_assessment(shipped):
    craft = shipped.crafts[0]
    current, target = Role(craft, "ML Engineer", craft.level(5)), Role(craft, "ML Engineer", craft.level(6))
    ctx = _context()
    data = render_self_assessment(shipped, current, target, "Ada Lovelace", "Grace Hopper", ctx)
    return current, target, data, _load(data), ctx


def _assessment_rows(ws):
    header = next(r[0].row for r in ws.iter_rows() if r[0].value == "Area" and r[2].value == "Statement")
    assert [c.value for c in ws[header]] == ["Area", "No.", "Statement", "New at this level?", "Self rating",
                                             "Manager rating", "Evidence", "Notes"]
    return header, [r for r in ws.iter_rows(min_row=header + 1) if r[0].value is not None]


def test_self_assessment_has_every_target_statement_marked_new_or_not(ml_assessment):
    current, target, _, wb, ctx = ml_assessment
    assert wb.sheetnames == ["Self-assessment", "Summary"]
    assert ctx.problems == []
    ws = wb["Self-assessment"]
    _, rows = _assessment_rows(ws)
    rated = [(r[0].value, r[2].value, r[3].value) for r in rows if isinstance(r[1].value, int)]
    expected = [(a.area_title, c.statement.text, {"new": "Yes", "changed": "Yes (reworded)"}.get(c.kind, "No"))
                for a in compare(current, target) for c in a.changes]
    assert rated == expected
    assert [s.text for a in target.areas() for s in a.statements] == [r[1] for r in rated]
    assert ("Architecture Design",
            "I design components of ML systems with guidance, and explain the trade-offs I made.", "Yes") in rated
    assert ("ML Ops", "I work effectively with the ML tools and software packages used by my team.", "No") in rated
    info = [(r[0].value, r[2].value) for r in rows if not isinstance(r[1].value, int)]
    assert info == [("Technical Strategy", TODO_TEXT + ": nothing to rate at this level yet")]
    cover = [c.value for row in ws.iter_rows(max_row=8) for c in row if c.value]
    for value in ("Ada Lovelace", "Grace Hopper", "Level 5 · Junior", "Level 6 · Mid-Level"):
        assert value in cover
    assert all(r[2].data_type == "s" for r in rows)


def test_self_assessment_has_dropdowns_on_every_rated_row_and_our_formulas_only(ml_assessment, shipped):
    _, _, _, wb, _ = ml_assessment
    ws = wb["Self-assessment"]
    _, rows = _assessment_rows(ws)
    [dv] = ws.data_validations.dataValidation
    assert dv.type == "list" and dv.formula1 == '"Not yet,Sometimes,Consistently"' and dv.showErrorMessage
    covered = set()
    for rng in str(dv.sqref).split():
        c1, r1, c2, r2 = range_boundaries(rng)
        covered |= {(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
    for r in rows:
        has_number = isinstance(r[1].value, int)
        assert ((r[0].row, 5) in covered) == has_number and ((r[0].row, 6) in covered) == has_number
    # the summary counts with formulas of ours; no framework text is ever a formula
    formulas = [c for s in wb.worksheets for row in s.iter_rows() for c in row if c.data_type == "f"]
    assert len(formulas) >= 5 * 9
    assert all(c.parent.title == "Summary" and re.match(r"=(SUMPRODUCT\(|SUM\(|\$B\d+-SUM\()", c.value)
               for c in formulas)
    texts = [s.text for s in shipped.statements()] + [a.title for a in shipped.crafts[0].areas]
    assert not [c for c in formulas if any(t in c.value for t in texts)]
    summary = wb["Summary"]
    assert [c.value for c in summary[5]][:6] == ["Area", "Statements", "Not yet", "Sometimes", "Consistently",
                                                 "Not rated"]
    assert [summary.cell(row=r, column=1).value for r in range(6, 12)] == [
        "ML Ops", "AI Governance", "AI Strategy", "Architecture Design", "Machine Learning and Deep Learning",
        "Total"]


def test_self_assessment_refuses_levels_that_are_not_a_promotion(shipped):
    craft = shipped.crafts[0]
    five, six = craft.level(5), craft.level(6)
    with pytest.raises(ExportError, match="above"):
        render_self_assessment(shipped, Role(craft, "ML Engineer", six), Role(craft, "ML Engineer", five), "P", None,
                               _context())
    with pytest.raises(ExportError, match="one role"):
        render_self_assessment(shipped, Role(craft, "ML Engineer", five), Role(craft, "Edge ML Engineer", six), "P",
                               None, _context())


def _hostile_areas_framework(root: Path) -> Framework:
    areas = [(None, "<Edge> *nix", "Wildcards."), (None, "=Sum area", "A formula-looking area."),
             (None, "C++ ?", "More wildcards."), (None, "Later", "Defined later.")]
    levels = [LevelSpec(1, "One", {None: [("<Edge> *nix", ["e1"]), ("=Sum area", ["s1"]), ("C++ ?", ["c1"]),
                                          ("Later", TODO)]}),
              LevelSpec(2, "Two", {None: [("<Edge> *nix", ["e1", "=e2", "e3"]), ("=Sum area", ["s1", "s2"]),
                                          ("C++ ?", ["c1"]), ("Later", TODO)]})]
    return _read(write_framework(root, [CraftSpec("Odd Craft", "odd", areas, levels)]))


# --- LibreOffice: every workbook converts, and the text (and our formulas) survive -------

@pytest.fixture(scope="module")
def libreoffice(tmp_path_factory, shipped_matrix, hostile_matrix, ml_assessment):
    soffice = need_tool("soffice")
    need_tool("pdftotext")
    folder = tmp_path_factory.mktemp("lo")
    files = {"matrix": shipped_matrix[0], "hostile": hostile_matrix[1], "assessment": ml_assessment[2]}
    # a self-assessment with hostile area titles, rated as a person would in a spreadsheet
    fw = _hostile_areas_framework(folder / "odd")
    craft = fw.crafts[0]
    data = render_self_assessment(fw, Role(craft, None, craft.level(1)), Role(craft, None, craft.level(2)),
                                  "=cmd|' /C calc'!A0", None, _context())
    wb = _load(data)
    ws = wb["Self-assessment"]
    _, rows = _assessment_rows(ws)
    ratings = {"e1": ("Consistently", "Sometimes"), "=e2": ("Sometimes", None), "e3": ("Not yet", "Not yet"),
               "s1": ("Consistently", "Consistently"), "s2": ("Consistently", None)}
    for r in rows:
        self_, manager = ratings.get(r[2].value, (None, None))
        r[4].value, r[5].value = self_, manager
    buf = io.BytesIO()
    wb.save(buf)
    files["rated"] = buf.getvalue()
    paths = []
    for name, content in files.items():
        (folder / f"{name}.xlsx").write_bytes(content)
        paths.append(str(folder / f"{name}.xlsx"))
    profile = f"-env:UserInstallation=file://{folder}/profile"
    for target, outdir in (("pdf", "pdf"), ("csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,"
                                           "false,false,-1", "csv")):
        subprocess.run([soffice, "--headless", profile, "--convert-to", target, "--outdir", str(folder / outdir),
                        *paths], check=True, capture_output=True, timeout=180)
    return folder


def _csv(folder: Path, name: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO((folder / "csv" / f"{name}.csv").read_text("utf-8"), newline="")))


def _pdf_text(path: Path) -> str:
    out = subprocess.run(["pdftotext", "-raw", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return re.sub(r"\s+", "", out)


def test_libreoffice_converts_the_matrix_to_pdf_and_csv_and_the_text_survives(libreoffice, shipped, hostile_matrix):
    text = _pdf_text(libreoffice / "pdf" / "matrix.pdf")
    for s in shipped.statements():
        assert re.sub(r"\s+", "", s.text) in text, s.text
    assert "Notyetdefined(TODO)" in text
    long_rows = _csv(libreoffice, "matrix-Statements")
    assert long_rows[0] == LONG_HEADER
    assert [r[7] for r in long_rows[1:] if r[5] == "defined"] == [s.text for s in shipped.statements()]
    cells = {c for row in _csv(libreoffice, "matrix-ML Engineer") for c in row}
    assert BULLET + "I understand risks from ML such as model bias and model drift." in cells
    # hostile text: literal in the CSV (never evaluated), and in the PDF for the scripts the font covers
    hostile_rows = _csv(libreoffice, "hostile-Statements")
    assert [r[7] for r in hostile_rows if r[2] == "Delivery" and r[3] == "1" and r[1] == "shared"] == HOSTILE
    text = _pdf_text(libreoffice / "pdf" / "hostile.pdf")
    for s in ("=1+1", "+44207946", "@SUM(A1:A2)", "#N/A", "<b>R&D</b></para>&amp;", "ΕλληνικάКириллица"):
        assert s in text, s


def test_libreoffice_computes_the_summary_from_ratings_whatever_the_area_titles(libreoffice):
    rows = _csv(libreoffice, "rated-Summary")
    header = next(i for i, r in enumerate(rows) if r[:2] == ["Area", "Statements"])
    table = {r[0]: [int(x) for x in r[1:11]] for r in rows[header + 1:] if r and r[0] and r[1].isdigit()}
    #                       stmts  self: N  S  C  -   manager: N  S  C  -
    assert table["<Edge> *nix"] == [3, 1, 1, 1, 0, 1, 1, 0, 1]
    assert table["=Sum area"] == [2, 0, 0, 2, 0, 0, 0, 1, 1]
    assert table["C++ ?"] == [1, 0, 0, 0, 1, 0, 0, 0, 1]
    assert table["Total"] == [6, 1, 1, 3, 1, 1, 1, 1, 3]
    assessment = _csv(libreoffice, "rated-Self-assessment")
    assert ["=cmd|' /C calc'!A0"] == [c for r in assessment for c in r if c.startswith("=cmd")]
    assert any(r[2] == "=e2" for r in assessment if len(r) > 2)
    assert _pdf_text(libreoffice / "pdf" / "assessment.pdf").count("Notyetdefined(TODO)") >= 1
