"""The `xlsx` exporter: one competency-matrix workbook for the whole framework, and the
self-assessment workbook of a promotion pack (`render_self_assessment`).

The matrix workbook holds
- a matrix sheet per craft and specialism: a row per area (craft-page order, shared areas
  first, then the specialism's), the area's definition beside it, a column per level; each
  cell the level's statements for the area, one per line; a TODO cell is filled and says
  "Not yet defined (TODO)", an area a level leaves out says "Not described at this level";
- "Statements": every statement on its own row of a real Excel table (filter buttons,
  banded rows) with its craft, specialism, area, level, status and source file and line,
  ready for pivots and for diffing two versions;
- "About": the framework, its version and build date, how the workbook is laid out, the legend.

All framework text goes through `excel.put_text` (string cells only, never formulas).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableStyleInfo

from cfexport import __version__
from cfexport.compare import compare, promotion_problem
from cfexport.exporters.base import Context, Document, ExportError
from cfexport.exporters.excel import (
    MAX_ROW_HEIGHT,
    merge,
    SheetNames,
    Styles,
    check_length,
    new_workbook,
    print_setup,
    put_style,
    put_text,
    put_value,
    row_height,
    save,
    set_height,
    settings,
    warn_once,
    wrapped_lines,
)
from cfexport.model import AreaExpectations, Craft, Framework, Role, Source

TODO_TEXT = "Not yet defined (TODO)"
PARTLY_TODO_TEXT = "Partly not yet defined (TODO)"
ABSENT_TEXT = "Not described at this level"
NO_DEFINITION = "Not defined on the craft page"
STATEMENTS_SHEET = "Statements"
ABOUT_SHEET = "About"
LONG_COLUMNS = ("Craft", "Specialism", "Area", "Level", "Level name", "Status", "No.", "Statement",
                "Source file", "Source line")
STATUS_DEFINED, STATUS_TODO = "defined", "todo"
MAX_LEVEL_WIDTH = 120


@dataclass(frozen=True)
class _Row:
    """One area row of a matrix sheet."""

    area_id: str
    title: str
    scope: str
    definition: str | None
    source: Source


class XlsxExporter:
    name: ClassVar[str] = "xlsx"
    description: ClassVar[str] = "competency matrix workbook: a sheet per craft and specialism, every statement, about"

    def plan(self, framework: Framework) -> list[Document]:
        return [Document(("competency-matrix",), ".xlsx")]

    styled_by: ClassVar[tuple[str, ...]] = ("theme.yaml",)  # the whole model: no `fingerprint` needed

    def render(self, framework: Framework, document: Document, context: Context) -> bytes:
        s = settings(context.templates)
        wb = new_workbook()
        styles = Styles(wb, s)
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
                _matrix_sheet(wb.create_sheet(name), framework, craft, spec, styles, context)
                sheets.append((name, craft, spec))
        _long_sheet(wb.create_sheet(STATEMENTS_SHEET), framework, styles, context)
        _about_sheet(wb.create_sheet(ABOUT_SHEET), framework, sheets, styles, context)
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

    # title row, with the legend at the right
    title = f"{craft.title} · {spec}" if spec else craft.title
    put_text(ws, 1, 1, title, "cf title", styles, craft.source, context, "the craft title")
    legend_col = max(first_level, last_col - 1)
    put_text(ws, 1, legend_col, TODO_TEXT, "cf todo", styles)
    put_text(ws, 1, legend_col + 1, ABSENT_TEXT, "cf absent", styles)
    set_height(ws, 1, row_height(s, 1) + 8)

    # header row
    header_texts = [c[0] for c in columns] + [lv.label for lv in craft.levels]
    for col, text in enumerate(header_texts, 1):
        source = craft.levels[col - first_level].source if col >= first_level else None
        put_text(ws, 2, col, text, "cf header", styles, source, context, "the level title")

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

    for i, line in enumerate(grid):
        row = i + 3
        for col, (text, style, source) in enumerate(line, 1):
            put_text(ws, row, col, text, style, styles, source, context)
        set_height(ws, row, heights[i])
        if heights[i] > MAX_ROW_HEIGHT:
            # still too tall: everything is in the cell, but a reader has to open it to see it all
            longest = max(line[first_level - 1:], key=lambda cell: len(cell[0]))
            warn_once(context, longest[2] or rows[i].source,
                         f"the statements of '{rows[i].title}' are too long to show whole in one Excel row "
                         "(at most 409 points tall); all the text is in the cell. Shorter statements read better.")

    for col, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(col)].width = width
    header_lines = max(wrapped_lines(t, widths[i]) for i, t in enumerate(header_texts))
    set_height(ws, 2, row_height(s, header_lines) + 4)

    last_row = max(3, len(rows) + 2)
    ws.freeze_panes = "B3"
    ws.auto_filter.ref = f"A2:{get_column_letter(last_col)}{last_row}"
    print_setup(ws, s, "1:2", framework.title, f"Version {context.version}")


def _needed(line, widths, s) -> float:
    lines = 1
    for (text, style, _), width in zip(line, widths):
        # bold text is wider: count the area column a little narrower
        lines = max(lines, wrapped_lines(text, width * (0.9 if style == "cf area" else 1.0)))
    return row_height(s, lines)


# --- the long sheet ------------------------------------------------------------------

def _long_sheet(ws, framework: Framework, styles: Styles, context: Context) -> None:
    s = styles.settings
    widths = (28, 16, 26, 7, 12, 9, 6, s.widths["statement"], 24, 11)
    for col, name in enumerate(LONG_COLUMNS, 1):
        put_text(ws, 1, col, name, "cf header", styles)
    set_height(ws, 1, row_height(s, max(wrapped_lines(n, w) for n, w in zip(LONG_COLUMNS, widths))))
    row = 1
    for craft in framework.crafts:
        craft_lines = wrapped_lines(craft.title, widths[0])
        for level in craft.levels:
            level_lines = max(craft_lines, wrapped_lines(level.name, widths[4]))
            for exp in level.expectations:
                area = craft.area(exp.area_id)
                area_title = area.title if area else exp.area_title
                spec = exp.specialism or "shared"
                base_lines = max(level_lines, wrapped_lines(spec, widths[1]), wrapped_lines(area_title, widths[2]),
                                 wrapped_lines(exp.source.file, widths[8]))
                items = [(None, exp.source)] if exp.todo and not exp.statements else \
                        [(st, st.source) for st in exp.statements]
                for number, (st, source) in enumerate(items, 1):
                    row += 1
                    put_text(ws, row, 1, craft.title, "cf text", styles, craft.source, context)
                    put_text(ws, row, 2, spec, "cf text", styles, exp.source, context)
                    put_text(ws, row, 3, area_title, "cf text", styles, exp.source, context)
                    put_value(ws, row, 4, level.number, "cf number", styles)
                    put_text(ws, row, 5, level.name, "cf text", styles, level.source, context)
                    if st is None:
                        put_text(ws, row, 6, STATUS_TODO, "cf todo", styles)
                        put_style(ws, row, 7, "cf todo", styles)
                        put_style(ws, row, 8, "cf todo", styles)
                        lines = base_lines
                    else:
                        put_text(ws, row, 6, STATUS_DEFINED, "cf text", styles)
                        put_value(ws, row, 7, number, "cf number", styles)
                        put_text(ws, row, 8, st.text, "cf text", styles, source, context, "this statement")
                        lines = max(base_lines, wrapped_lines(st.text, widths[7]))
                    put_text(ws, row, 9, source.file, "cf text", styles, source, context)
                    put_value(ws, row, 10, source.line, "cf number", styles)
                    if lines > 1:  # one line fits the default row height
                        set_height(ws, row, row_height(s, lines))
    for col, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(col)].width = width
    last = get_column_letter(len(LONG_COLUMNS))
    if row > 1:
        table = Table(displayName="FrameworkStatements", ref=f"A1:{last}{row}")
        table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True,
                                              showColumnStripes=False, showFirstColumn=False,
                                              showLastColumn=False)
        ws.add_table(table)
    ws.freeze_panes = "A2"
    print_setup(ws, s, "1:1", framework.title, f"Version {context.version}")


# --- about -----------------------------------------------------------------------------

def _about_sheet(ws, framework: Framework, sheets, styles: Styles, context: Context) -> None:
    s = styles.settings
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 100
    put_text(ws, 1, 1, framework.title, "cf title", styles, framework.source, context, "the framework title")
    set_height(ws, 1, row_height(s, 1) + 8)
    row = 2
    if framework.description:
        put_text(ws, row, 1, framework.description, "cf plain", styles, framework.source, context)
        merge(ws, row, 1, row, 2)
        set_height(ws, row, row_height(s, wrapped_lines(framework.description, 125)))
        row += 1
    row += 1

    def pair(label: str, value: str, value_style: str = "cf plain", source: Source | None = None,
             label_style: str = "cf label") -> None:
        nonlocal row
        put_text(ws, row, 1, label, label_style, styles, source, context)
        put_text(ws, row, 2, value, value_style, styles, source, context)
        set_height(ws, row, row_height(s, max(wrapped_lines(label, 27), wrapped_lines(value, 98))))
        row += 1

    pair("Version", context.version)
    pair("Built", context.build_time.strftime("%Y-%m-%d %H:%M UTC"))
    pair("Made with", f"cfexport {__version__}, from the framework's pages")
    row += 1
    put_text(ws, row, 1, "How this workbook is laid out", "cf title", styles)
    set_height(ws, row, row_height(s, 1) + 8)
    row += 1
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
    row += 1
    put_text(ws, row, 1, "Legend", "cf title", styles)
    set_height(ws, row, row_height(s, 1) + 8)
    row += 1
    pair(TODO_TEXT, "The level page marks this area TODO: the company has not written it yet. "
                    "It is not an empty expectation.", label_style="cf todo")
    pair(ABSENT_TEXT, "The level page does not mention this area at all.", label_style="cf absent")
    pair(NO_DEFINITION, "A level page names this area, but the craft page does not define it "
                        "(cfexport validate reports it).", label_style="cf absent")
    illustrative = [(c, lv) for c in framework.crafts for lv in c.levels if lv.illustrative]
    if illustrative:
        row += 1
        text = "; ".join(f"{c.title}: {lv.label}" for c, lv in illustrative)
        pair("Illustrative text", "These levels hold example text that the company replaces: " + text + ".",
             source=illustrative[0][1].source)
    ws.sheet_view.showGridLines = False
    print_setup(ws, s, "1:1", framework.title, f"Version {context.version}")


# --- the self-assessment of a promotion pack -----------------------------------------

ASSESSMENT_SHEET = "Self-assessment"
SUMMARY_SHEET = "Summary"
ASSESSMENT_COLUMNS = ("Area", "No.", "Statement", "New at this level?", "Self rating", "Manager rating",
                      "Evidence", "Notes")
NEW_YES, NEW_REWORDED, NEW_NO = "Yes", "Yes (reworded)", "No"


def render_self_assessment(framework: Framework, current: Role, target: Role, person: str,
                           manager: str | None, context: Context) -> bytes:
    """The self-assessment workbook of a promotion pack from `current` to `target`.

    One row per statement of the target level, in the craft page's area order, with
    whether it is new (or reworded) compared with the current level, self and manager
    rating dropdowns, evidence and notes; areas the target level marks TODO (or leaves
    out) are listed as information rows without dropdowns, since there is nothing to
    rate yet. A "Summary" sheet counts the ratings per area with formulas.
    """
    problem = promotion_problem(current, target)
    if problem:
        raise ExportError(problem, target.level.source)
    s = settings(context.templates)
    wb = new_workbook()
    styles = Styles(wb, s)
    ws = wb.create_sheet(ASSESSMENT_SHEET)
    w = s.widths
    widths = (w["area"], 6, w["assessment_statement"], 14, 15, 15, w["evidence"], w["notes"])
    for col, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(col)].width = width
    role_name = target.specialism or target.craft.people_name

    # cover
    put_text(ws, 1, 1, f"Self-assessment: {current.title} → {target.title}", "cf title", styles,
             target.level.source, context)
    set_height(ws, 1, row_height(s, 1) + 8)
    cover = [
        ("Person", person, None),
        ("Role", f"{role_name} ({target.craft.title})", target.craft.source),
        ("Current level", current.level.label, current.level.source),
        ("Target level", target.level.label, target.level.source),
        ("Manager", manager or "(not given)", None),
        ("Framework", f"{framework.title}, version {context.version}", framework.source),
    ]
    row = 2
    for label, value, source in cover:
        put_text(ws, row, 1, label, "cf label", styles)
        put_text(ws, row, 2, value, "cf strong" if label == "Person" else "cf value", styles, source, context,
                 f"the {label.lower()}")
        row += 1
    put_text(ws, row, 1, s.assessment_help, "cf help", styles)
    merge(ws, row, 1, row, len(ASSESSMENT_COLUMNS))
    set_height(ws, row, row_height(s, wrapped_lines(s.assessment_help, sum(widths) * 0.95)))
    row += 2

    header = row
    for col, text in enumerate(ASSESSMENT_COLUMNS, 1):
        put_text(ws, header, col, text, "cf header", styles)
    set_height(ws, header, row_height(s, 2))
    first = header + 1
    rated_rows: list[int] = []
    rated_areas: list[tuple[str, Source]] = []
    info_areas: list[tuple[str, str, Source | None]] = []
    number = 0
    row = first
    for change in compare(current, target):
        area_source = change.area.source if change.area else None
        if change.target:
            for ch in change.changes:
                number += 1
                new = {"new": NEW_YES, "changed": NEW_REWORDED}.get(ch.kind, NEW_NO)
                style = "cf new" if ch.kind != "same" else "cf text"
                put_text(ws, row, 1, change.area_title, "cf area", styles, area_source or ch.statement.source,
                         context)
                put_value(ws, row, 2, number, "cf number", styles)
                put_text(ws, row, 3, ch.statement.text, style, styles, ch.statement.source, context,
                         "this statement")
                put_text(ws, row, 4, new, style, styles)
                for col in (5, 6, 7, 8):
                    put_style(ws, row, col, "cf input", styles)
                lines = max(wrapped_lines(ch.statement.text, widths[2]),
                            wrapped_lines(change.area_title, widths[0] * 0.9), 2)
                set_height(ws, row, row_height(s, lines), fixed=False)
                rated_rows.append(row)
                if change.area_title not in [a for a, _ in rated_areas]:
                    rated_areas.append((change.area_title, area_source or ch.statement.source))
                row += 1
        elif change.target_todo or not change.current:
            # nothing to rate: say why, without dropdowns
            text = TODO_TEXT if change.target_todo else ABSENT_TEXT
            style = "cf todo" if change.target_todo else "cf absent"
            put_text(ws, row, 1, change.area_title, "cf area", styles, area_source, context)
            put_text(ws, row, 3, text + ": nothing to rate at this level yet", style, styles)
            for col in (2, 4, 5, 6, 7, 8):
                put_style(ws, row, col, style, styles)
            set_height(ws, row, row_height(s, 1))
            info_areas.append((change.area_title, text, area_source))
            row += 1
        # an area only the current level has: the target does not ask for it, so nothing to rate
    last = max(first, row - 1)

    ratings = s.ratings
    choices = ", ".join(ratings)
    error = f"Choose one of: {choices}." if len(choices) < 200 else "Choose a rating from the list."
    prompt = f"Choose: {choices}" if len(choices) < 240 else "Choose a rating from the list."
    dv = DataValidation(type="list", formula1='"' + ",".join(ratings) + '"', allow_blank=True,
                        showErrorMessage=True, showInputMessage=True, errorStyle="stop",
                        errorTitle="Choose a rating", error=error,  # Excel: at most 225 characters
                        promptTitle="Rating", prompt=prompt)  # at most 255
    for a, b in _runs(rated_rows):
        dv.add(f"E{a}:F{b}")
    if rated_rows:
        ws.add_data_validation(dv)
        rng = f"E{rated_rows[0]}:F{rated_rows[-1]}"
        for label, colour in zip(ratings, s.rating_fills):
            fill = PatternFill(fill_type="solid", start_color=colour, end_color=colour)
            ws.conditional_formatting.add(rng, CellIsRule(operator="equal", formula=[f'"{label}"'], fill=fill))

    ws.freeze_panes = f"D{first}"
    ws.auto_filter.ref = f"A{header}:{get_column_letter(len(ASSESSMENT_COLUMNS))}{last}"
    print_setup(ws, s, f"{header}:{header}", f"{person}: {current.title} → {target.title}",
                f"{framework.title}, version {context.version}")

    _summary_sheet(wb.create_sheet(SUMMARY_SHEET), framework, current, target, person, styles, context,
                   rated_areas, info_areas, first, last)
    wb.active = 0
    return save(wb, context, title=f"Self-assessment: {person}, {current.title} → {target.title}",
                creator=framework.title, subject="Promotion self-assessment",
                keywords="career framework, promotion, self-assessment")


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Consecutive row numbers as (first, last) runs."""
    out: list[tuple[int, int]] = []
    for r in rows:
        if out and out[-1][1] == r - 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out


def _summary_sheet(ws, framework, current: Role, target: Role, person: str, styles: Styles,
                   context: Context, rated_areas, info_areas, first: int, last: int) -> None:
    """Ratings counted per area, with formulas that follow the Self-assessment sheet.

    The area is matched with SUMPRODUCT's exact comparison rather than COUNTIFS, because
    COUNTIFS reads its criterion as a pattern: an area called "C++ *nix" or "<Edge>" would
    be counted wrong. The formulas name cells, never framework text."""
    s = styles.settings
    ratings = s.ratings
    put_text(ws, 1, 1, f"Summary: {person}, {current.level.label} → {target.level.label}", "cf title", styles,
             target.level.source, context)
    set_height(ws, 1, row_height(s, 1) + 8)
    put_text(ws, 2, 1, f"The counts follow the ratings chosen on the {ASSESSMENT_SHEET} sheet.", "cf subtitle",
             styles)
    group_row, header_row = 4, 5
    n = len(ratings) + 1  # each rating, then "Not rated"
    # each group title centred over its columns (centre-across-selection, not merged cells)
    for col in range(1, 3 + 2 * n):
        put_style(ws, group_row, col, "cf header group" if col > 2 else "cf header", styles)
    put_text(ws, group_row, 3, "Self rating", "cf header group", styles)
    put_text(ws, group_row, 3 + n, "Manager rating", "cf header group", styles)
    headers = ["Area", "Statements"] + [*ratings, "Not rated"] * 2
    for col, text in enumerate(headers, 1):
        put_text(ws, header_row, col, text, "cf header", styles)
    set_height(ws, header_row, row_height(s, 2))

    sheet = quote_sheetname(ASSESSMENT_SHEET)
    area_rng = f"{sheet}!$A${first}:$A${last}"
    num_rng = f"{sheet}!$B${first}:$B${last}"
    rating_rng = {0: f"{sheet}!$E${first}:$E${last}", 1: f"{sheet}!$F${first}:$F${last}"}
    row = header_row + 1
    for area, source in rated_areas:
        put_text(ws, row, 1, area, "cf area", styles, source, context)
        put_value(ws, row, 2, f"=SUMPRODUCT(({area_rng}=$A{row})*ISNUMBER({num_rng}))", "cf number", styles)
        for who in (0, 1):
            base = 3 + who * n
            for i in range(len(ratings)):
                col = get_column_letter(base + i)
                put_value(ws, row, base + i,
                          f"=SUMPRODUCT(({area_rng}=$A{row})*({rating_rng[who]}={col}${header_row}))",
                          "cf number", styles)
            lo, hi = get_column_letter(base), get_column_letter(base + len(ratings) - 1)
            put_value(ws, row, base + len(ratings), f"=$B{row}-SUM({lo}{row}:{hi}{row})", "cf number", styles)
        set_height(ws, row, row_height(s, wrapped_lines(area, 28 * 0.9)))
        row += 1
    if rated_areas:
        put_text(ws, row, 1, "Total", "cf total", styles)
        for col in range(2, 3 + 2 * n):
            letter = get_column_letter(col)
            put_value(ws, row, col, f"=SUM({letter}{header_row + 1}:{letter}{row - 1})", "cf total", styles)
        row += 1
    if info_areas:
        row += 1
        put_text(ws, row, 1, f"Nothing to rate yet at {target.level.label}:", "cf strong", styles,
                 target.level.source, context)
        row += 1
        for area, why, source in info_areas:
            put_text(ws, row, 1, area, "cf area", styles, source, context)
            put_text(ws, row, 2, why, "cf todo" if why == TODO_TEXT else "cf absent", styles)
            merge(ws, row, 2, row, 2 + n)
            row += 1
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 11
    for col in range(3, 3 + 2 * n):
        ws.column_dimensions[get_column_letter(col)].width = 13
    ws.freeze_panes = f"B{header_row + 1}"
    print_setup(ws, s, f"{group_row}:{header_row}", person, f"{framework.title}, version {context.version}")
