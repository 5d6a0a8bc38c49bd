"""The competency-matrix workbook's sheets (the `xlsx` exporter, `exporters.matrix`), written
with openpyxl's write-only sheets, a row at a time, each sheet closed when it is written: a
large framework's workbook never sits in memory whole. So each sheet works out its column
widths and row heights first, then writes its rows in order.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo

from cfexport import __version__
from cfexport.exporters.base import Context
from cfexport.exporters.matrix import (
    ABOUT_SHEET,
    ABSENT_TEXT,
    KEY_TEXT,
    LONG_COLUMNS,
    MAX_LEVEL_WIDTH,
    NO_DEFINITION,
    PARTLY_TODO_TEXT,
    STATEMENTS_SHEET,
    STATUS_DEFINED,
    STATUS_TODO,
    TODO_TEXT,
)
from cfexport.exporters.spreadsheet import (
    MAX_ROW_HEIGHT,
    merge,
    min_scale,
    usable_chars,
    SheetNames,
    Styles,
    append_row,
    check_length,
    declare_size,
    discard,
    hf_escape,
    new_workbook,
    print_setup,
    row_height,
    save,
    set_widths,
    settings,
    text_cell,
    value_cell,
    warn_once,
    wrapped_lines,
)
from cfexport.model import AreaExpectations, Craft, Framework, Role, Source, Statement

@dataclass(frozen=True)
class _Row:
    """One area row of a matrix sheet."""

    area_id: str
    title: str
    scope: str
    definition: str | None
    source: Source


def write_workbook(framework: Framework, context: Context) -> bytes:
    """The matrix workbook's bytes."""
    s = settings(context.templates)
    wb = new_workbook(write_only=True)
    styles = Styles(wb, s)
    try:
        return _write(wb, framework, styles, context)
    except BaseException:
        discard(wb)  # the sheets written so far, on disk until saved
        raise


def _write(wb, framework: Framework, styles: Styles, context: Context) -> bytes:
    names = SheetNames(reserved=(STATEMENTS_SHEET, ABOUT_SHEET))
    sheets: list[tuple[str, Craft, str | None]] = []
    spec_counts: dict[str, int] = {}
    for craft in framework.crafts:
        for spec in craft.tracks():
            if spec:
                spec_counts[spec.casefold()] = spec_counts.get(spec.casefold(), 0) + 1
    for craft in framework.crafts:
        for spec in craft.tracks():
            if spec is None:
                wanted = craft.people_name
            elif spec_counts[spec.casefold()] == 1:
                wanted = spec
            else:  # the same specialism name in two crafts: say which
                wanted = f"{spec} ({craft.people_name})"
            name = names.take(wanted)
            ws = wb.create_sheet(name)
            _matrix_sheet(ws, framework, craft, spec, styles, context)
            ws.close()  # to disk now: a thousand sheets open at once would run out of files
            sheets.append((name, craft, spec))
    ws = wb.create_sheet(STATEMENTS_SHEET)
    _long_sheet(ws, framework, styles, context)
    ws.close()
    ws = wb.create_sheet(ABOUT_SHEET)
    _about_sheet(ws, framework, sheets, styles, context)
    ws.close()
    wb.active = 0
    return save(wb, context, title=f"{framework.title}: competency matrix", creator=framework.title,
                subject="Competency matrix", keywords="career framework, competency matrix")


# --- the matrix ----------------------------------------------------------------------

def _rows(craft: Craft, spec: str | None) -> tuple[list[_Row], dict[tuple[str, int], AreaExpectations]]:
    """The area rows of one track (craft-page order, then areas only level pages name),
    and what each level says for each area."""
    rows: dict[str, _Row] = {}
    cells: dict[tuple[str, int], AreaExpectations] = {}
    for level in craft.levels:
        for ae in Role(craft, spec, level).areas():
            cells[(ae.area_id, level.number)] = ae
            if ae.area_id not in rows:
                if ae.area is not None:
                    scope = ae.area.specialism or "Shared"
                    rows[ae.area_id] = _Row(ae.area_id, ae.area.title, scope, ae.area.definition, ae.area.source)
                else:
                    exp = ae.expectations[0]
                    rows[ae.area_id] = _Row(ae.area_id, ae.area_title, exp.specialism or "Shared", None,
                                            exp.source)
    # craft areas first in craft-page order; areas only level pages name keep first-seen order
    order = {a.id: i for i, a in enumerate(craft.areas)}
    ordered = sorted(rows.values(), key=lambda r: order.get(r.area_id, len(order)))
    return ordered, cells


def _cell_text(ae: AreaExpectations | None, bullet: str) -> tuple[str, str, Source | None]:
    """(text, style, source) of one matrix cell."""
    if ae is None or not ae.expectations:
        return ABSENT_TEXT, "cf absent", None
    source = ae.expectations[0].source
    statements = ae.statements
    if not statements:  # a TODO cell, or an empty one (the level sets nothing here), as the other formats say
        return (TODO_TEXT, "cf todo", source) if ae.todo else (ABSENT_TEXT, "cf absent", source)
    lines = [bullet + st.text for st in statements]
    if any(e.todo for e in ae.expectations):
        lines.append(PARTLY_TODO_TEXT)
        return "\n".join(lines), "cf todo", source
    return "\n".join(lines), "cf text", source


def _matrix_sheet(ws, framework: Framework, craft: Craft, spec: str | None, styles: Styles,
                  context: Context) -> None:
    s = styles.settings
    w = s.widths
    rows, cells = _rows(craft, spec)
    has_scope = bool(craft.specialisms)
    columns = [("Area", w["area"])]
    if has_scope:
        columns.append(("Applies to", w["scope"]))
    columns.append(("What the area covers", w["definition"]))
    first_level = len(columns) + 1
    last_col = len(columns) + len(craft.levels)

    # title row. The key to the shaded cells is not on the sheet, where it would read as a level
    # or an area (rows below the table are areas to anyone reading the sheet back): it is in the
    # printed footer and, with samples of the colours, on the About sheet.
    title = f"{craft.title} · {spec}" if spec else craft.title
    title_cell = text_cell(ws, title, "cf title", styles, craft.source, context, "the craft title")

    # header row
    header_texts = [c[0] for c in columns] + [lv.label for lv in craft.levels]
    header_cells = []
    for col, text in enumerate(header_texts, 1):
        source = craft.levels[col - first_level].source if col >= first_level else None
        header_cells.append(text_cell(ws, text, "cf header", styles, source, context, "the level title"))

    # the text of every cell first, so that the level columns can be widened if a cell is huge
    grid: list[list[tuple[str, str, Source | None]]] = []
    for r in rows:
        line = [(r.title, "cf area", r.source)]
        if has_scope:
            line.append((r.scope, "cf note", r.source))
        if r.definition is not None:
            line.append((r.definition, "cf text", r.source))
        else:
            line.append((NO_DEFINITION, "cf absent", None))
        for lv in craft.levels:
            text, style, source = _cell_text(cells.get((r.area_id, lv.number)), s.bullet)
            check_length(text, source, f"the statements of '{r.title}' at {lv.label}")
            line.append((text, style, source))
        grid.append(line)

    fixed_widths = [c[1] for c in columns]
    level_width = w["level"]
    widths = fixed_widths + [level_width] * len(craft.levels)
    heights = [_needed(line, widths, s) for line in grid]
    # a cell taller than Excel's tallest row (409 pt) would hide text: widen the level columns
    while level_width < MAX_LEVEL_WIDTH and heights and max(heights) > MAX_ROW_HEIGHT:
        level_width += 10
        widths = fixed_widths + [level_width] * len(craft.levels)
        heights = [_needed(line, widths, s) for line in grid]
    header_lines = max(wrapped_lines(t, widths[i]) for i, t in enumerate(header_texts))

    # what the file holds above the rows, then the rows in order
    set_widths(ws, widths)
    ws.freeze_panes = "B3"
    declare_size(ws, len(rows) + 2, last_col)
    append_row(ws, [title_cell], row_height(s, 1) + 8)
    append_row(ws, header_cells, row_height(s, header_lines) + 4)
    for i, line in enumerate(grid):
        append_row(ws, [text_cell(ws, text, style, styles, source, context) for text, style, source in line],
                   heights[i])
        if heights[i] > MAX_ROW_HEIGHT:
            # still too tall: everything is in the cell, but a reader has to open it to see it all
            longest = max(line[first_level - 1:], key=lambda cell: len(cell[0]))
            warn_once(context, longest[2] or rows[i].source,
                         f"the statements of '{rows[i].title}' are too long to show whole in one Excel row "
                         "(at most 409 points tall); all the text is in the cell. Shorter statements read better.")

    last_row = max(3, len(rows) + 2)
    # printed from the header row down: the title row, cut to the area column on the pages of
    # later levels, would read as nonsense; the page header names the sheet instead
    ws.print_area = f"A2:{get_column_letter(last_col)}{last_row}"
    ws.auto_filter.ref = f"A2:{get_column_letter(last_col)}{last_row}"
    scale = _print_levels(ws, s, widths, first_level)
    print_setup(ws, s, "2:2", framework.title, context.stamp, scale=scale)
    ws.oddHeader.right.text = hf_escape(title)
    ws.oddFooter.center.text = hf_escape(KEY_TEXT, 120)


def _print_levels(ws, s, widths: list[float], first_level: int) -> int:
    """Print the matrix large enough to read: level columns split across pages (whole columns,
    never one cut in two), the area column repeated on each, at the largest scale that fits
    the widest page and never below the legible minimum. Returns the scale in percent."""
    from openpyxl.worksheet.pagebreak import Break

    usable = usable_chars(s)
    room = usable / min_scale(s)  # the widest a page may be, in characters at 100 %
    pages: list[list[int]] = []  # the level columns of each page
    width = sum(widths[: first_level - 1])  # the first page has the area, scope and definition
    for col in range(first_level, len(widths) + 1):
        w = widths[col - 1]
        if pages and pages[-1] and width + w <= room:
            pages[-1].append(col)
            width += w
        elif not pages:
            pages.append([col])
            width += w
        else:
            pages.append([col])
            width = widths[0] + w  # later pages repeat the area column only
    page_widths = [sum(widths[: first_level - 1]) + sum(widths[c - 1] for c in pages[0])]
    page_widths += [widths[0] + sum(widths[c - 1] for c in cols) for cols in pages[1:]]
    scale = max(10, min(100, int(100 * usable / max(page_widths))))
    if len(pages) > 1:
        for cols in pages[:-1]:
            ws.col_breaks.append(Break(id=cols[-1]))
        ws.print_title_cols = "A:A"
    return scale


def _needed(line, widths, s) -> float:
    lines = 1
    for (text, style, _), width in zip(line, widths):
        # bold text is wider: count the area column a little narrower
        lines = max(lines, wrapped_lines(text, width * (0.9 if style == "cf area" else 1.0)))
    return row_height(s, lines)


# --- the long sheet ------------------------------------------------------------------

def _long_items(exp) -> list[tuple[Statement | None, Source]]:
    """The rows of one expectation on the Statements sheet: (statement, source) per statement,
    or one (None, source) for an area the level marks TODO."""
    return [(None, exp.source)] if exp.todo and not exp.statements else [(st, st.source) for st in exp.statements]


def _long_sheet(ws, framework: Framework, styles: Styles, context: Context) -> None:
    s = styles.settings
    # narrow columns, wrapped, so that the sheet prints one page wide at a legible size
    others = (16, 12, 18, 6, 10, 8, 5, 20, 6)
    statement = max(30.0, min(s.widths["statement"], usable_chars(s) / 0.92 - sum(others)))
    widths = (*others[:7], statement, *others[7:])
    count = sum(len(_long_items(exp)) for craft in framework.crafts for level in craft.levels
                for exp in level.expectations)
    set_widths(ws, widths)
    ws.freeze_panes = "A2"
    declare_size(ws, count + 1, len(LONG_COLUMNS))
    append_row(ws, [text_cell(ws, name, "cf header", styles) for name in LONG_COLUMNS],
               row_height(s, max(wrapped_lines(n, w) for n, w in zip(LONG_COLUMNS, widths))))
    # The cells of a write-only sheet are values (`RowCell`), which one row or many may hold: those that
    # repeat are made once, when first needed (so any warning about their text comes in the same order)
    defined = text_cell(ws, STATUS_DEFINED, "cf text", styles)
    todo = [text_cell(ws, STATUS_TODO, "cf todo", styles), value_cell(ws, None, "cf todo", styles),
            value_cell(ws, None, "cf todo", styles)]
    row = 1
    for craft in framework.crafts:
        craft_lines = wrapped_lines(craft.title, widths[0])
        craft_cell = None
        for level in craft.levels:
            level_lines = max(craft_lines, wrapped_lines(level.name, widths[4]))
            level_cells = None
            for exp in level.expectations:
                area = craft.area(exp.area_id)
                area_title = area.title if area else exp.area_title
                spec = exp.specialism or "shared"
                base_lines = max(level_lines, wrapped_lines(spec, widths[1]), wrapped_lines(area_title, widths[2]),
                                 wrapped_lines(exp.source.file, widths[8]))
                first = None  # the row's first five cells
                for number, (st, source) in enumerate(_long_items(exp), 1):
                    if first is None:
                        if craft_cell is None:
                            craft_cell = text_cell(ws, craft.title, "cf text", styles, craft.source, context)
                        first = [craft_cell, text_cell(ws, spec, "cf text", styles, exp.source, context),
                                 text_cell(ws, area_title, "cf text", styles, exp.source, context)]
                        if level_cells is None:
                            level_cells = [value_cell(ws, level.number, "cf number", styles),
                                           text_cell(ws, level.name, "cf text", styles, level.source, context)]
                        first += level_cells
                    if st is None:
                        cells = first + todo
                        lines = base_lines
                    else:
                        cells = first + [defined, value_cell(ws, number, "cf number", styles),
                                         text_cell(ws, st.text, "cf text", styles, source, context, "this statement")]
                        lines = max(base_lines, wrapped_lines(st.text, widths[7]))
                    cells += [text_cell(ws, source.file, "cf text", styles, source, context),
                              value_cell(ws, source.line, "cf number", styles)]
                    # one line fits the default row height
                    row = append_row(ws, cells, row_height(s, lines) if lines > 1 else None)
    last = get_column_letter(len(LONG_COLUMNS))
    if row > 1:
        table = Table(displayName="FrameworkStatements", ref=f"A1:{last}{row}")
        table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True,
                                              showColumnStripes=False, showFirstColumn=False,
                                              showLastColumn=False)
        # a write-only sheet cannot be read back for the column names: they are the header row
        table._initialise_columns()
        for column, name in zip(table.tableColumns, LONG_COLUMNS):
            column.name = name
        with warnings.catch_warnings():  # openpyxl's reminder to do just that
            warnings.filterwarnings("ignore", "In write-only mode you must add table columns manually")
            ws.add_table(table)
    print_setup(ws, s, "1:1", framework.title, context.stamp, last_col=len(LONG_COLUMNS))


# --- about -----------------------------------------------------------------------------

def _about_sheet(ws, framework: Framework, sheets, styles: Styles, context: Context) -> None:
    s = styles.settings
    rows: list[tuple[list, float | None]] = []  # the sheet's rows in order: cells and height

    def line(cells: list, height: float | None = None) -> None:
        rows.append((cells, height))

    line([text_cell(ws, framework.title, "cf title", styles, framework.source, context, "the framework title")],
         row_height(s, 1) + 8)
    if framework.description:
        line([text_cell(ws, framework.description, "cf plain", styles, framework.source, context)],
             row_height(s, wrapped_lines(framework.description, 125)))
        merge(ws, len(rows), 1, len(rows), 2)
    line([])

    def pair(label: str, value: str, value_style: str = "cf plain", source: Source | None = None,
             label_style: str = "cf label") -> None:
        line([text_cell(ws, label, label_style, styles, source, context),
              text_cell(ws, value, value_style, styles, source, context)],
             row_height(s, max(wrapped_lines(label, 27), wrapped_lines(value, 98))))

    def heading(text: str) -> None:
        line([text_cell(ws, text, "cf title", styles)], row_height(s, 1) + 8)

    pair("Version", context.version if context.stamp.startswith("Version") else
         "not given (add `version:` to the front matter of the framework's index page)")
    pair("Built", context.build_time.strftime("%Y-%m-%d %H:%M UTC"))
    pair("Made with", f"cfexport {__version__}, from the framework's pages")
    line([])
    heading("How this workbook is laid out")
    for name, craft, spec in sheets:
        what = f"{craft.title} · {spec}" if spec else craft.title
        order = "shared areas first, then the specialism's" if spec else "in the craft page's order"
        pair(name, f"{what}: a row per area ({order}) with what the area covers, a column per level "
                   "from the first to the last; each cell holds that level's statements, one per line.",
             source=craft.source)
    pair(STATEMENTS_SHEET, "Every statement on its own row of an Excel table: craft, specialism (\"shared\" "
                           "when every specialism of the craft has it), area, level, status, statement "
                           "number and text, and the file and line of the page it comes from. Filter it, "
                           "build pivot tables from it, or compare it between two versions. Rows with "
                           "status \"todo\" are areas a level marks as not yet defined: they hold no "
                           "statement.")
    pair(ABOUT_SHEET, "This sheet.")
    line([])
    heading("Legend")
    pair(TODO_TEXT, "The level page marks this area TODO: the company has not written it yet. "
                    "It is not an empty expectation.", label_style="cf todo")
    pair(ABSENT_TEXT, "The level page does not mention this area at all.", label_style="cf absent")
    pair(NO_DEFINITION, "A level page names this area, but the craft page does not define it "
                        "(cfexport validate reports it).", label_style="cf absent")
    illustrative = [(c, lv) for c in framework.crafts for lv in c.levels if lv.illustrative]
    if illustrative:
        line([])
        text = "; ".join(f"{c.title}: {lv.label}" for c, lv in illustrative)
        pair("Illustrative text", "These levels hold example text that the company replaces: " + text + ".",
             source=illustrative[0][1].source)

    set_widths(ws, (30, 100))
    ws.sheet_view.showGridLines = False
    declare_size(ws, len(rows), 2)
    for cells, height in rows:
        append_row(ws, cells, height)
    print_setup(ws, s, "1:1", framework.title, context.stamp, last_col=2)
