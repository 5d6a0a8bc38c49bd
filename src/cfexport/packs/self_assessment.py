"""The self-assessment workbook of a promotion pack (Excel): a row per statement of the
target level with whether it is new, self and manager rating dropdowns, evidence and notes,
and a Summary sheet counting the ratings per area with formulas. Written with the shared
workbook machinery (`exporters.spreadsheet`); the matrix's wording for TODO and absent
areas (`exporters.matrix`).
"""

from __future__ import annotations

from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from cfexport.compare import compare, promotion_problem
from cfexport.exporters.base import Context, ExportError
from cfexport.exporters.matrix import ABSENT_TEXT, NOTHING_TO_RATE, TODO_TEXT
from cfexport.exporters.spreadsheet import (
    MAX_ROW_HEIGHT,
    Styles,
    line_height,
    merge,
    min_scale,
    new_workbook,
    print_setup,
    put_style,
    put_text,
    put_value,
    row_height,
    save,
    set_height,
    settings,
    usable_chars,
    warn_once,
    wrapped_lines,
)
from cfexport.model import Framework, Role, Source

ASSESSMENT_SHEET = "Self-assessment"
SUMMARY_SHEET = "Summary"
ASSESSMENT_COLUMNS = ("Area", "No.", "Statement", "New at this level?", "Self rating", "Manager rating",
                      "Evidence", "Notes")
NEW_YES, NEW_REWORDED, NEW_NO = "Yes", "Yes (reworded)", "No"


def render_self_assessment(framework: Framework, current: Role, target: Role, person: str,
                           manager: str | None, context: Context, changes: tuple | None = None,
                           normalise: bool = True) -> bytes:
    """The self-assessment workbook of a promotion pack from `current` to `target`.

    One row per statement of the target level, in the craft page's area order, with
    whether it is new (or reworded) compared with the current level, self and manager
    rating dropdowns, evidence and notes; areas the target level marks TODO (or leaves
    out) are listed as information rows without dropdowns, since there is nothing to
    rate yet. A "Summary" sheet counts the ratings per area with formulas. `changes`:
    `compare(current, target)`, when the caller has it already; `normalise` as
    `spreadsheet.save` takes.
    """
    problem = promotion_problem(current, target)
    if problem:
        raise ExportError(problem, target.level.source)
    s = settings(context.templates)
    wb = new_workbook()
    styles = Styles(wb, s)
    ws = wb.create_sheet(ASSESSMENT_SHEET)
    widths, scale = _assessment_widths(s)
    for col, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(col)].width = width
    role_name = target.specialism or target.craft.people_name

    # cover: the details at the left, how to fill it in at the right (over ratings, evidence, notes)
    put_text(ws, 1, 1, f"Self-assessment: {current.title} → {target.title}", "cf title", styles,
             target.level.source, context)
    set_height(ws, 1, row_height(s, 1) + 8)
    stamp = context.stamp
    cover = [
        ("Person", person, None),
        ("Role", f"{role_name} ({target.craft.title})", target.craft.source),
        ("Current level", current.level.label, current.level.source),
        ("Target level", target.level.label, target.level.source),
        ("Manager", manager or "(not given)", None),
        ("Framework", f"{framework.title}, {stamp[0].lower()}{stamp[1:]}", framework.source),
    ]
    row = 2
    for label, value, source in cover:
        put_text(ws, row, 1, label, "cf label", styles)
        put_text(ws, row, 2, value, "cf strong" if label == "Person" else "cf value", styles, source, context,
                 f"the {label.lower()}")
        row += 1
    put_text(ws, 2, 5, s.assessment_help, "cf help", styles)
    merge(ws, 2, 5, row - 1, len(ASSESSMENT_COLUMNS))
    help_lines = wrapped_lines(s.assessment_help, sum(widths[4:]) * 0.95)
    per_row = max(row_height(s, 1), (help_lines * line_height(s) + 6) / len(cover))
    for r in range(2, row):
        set_height(ws, r, per_row)
    row += 1

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
    for change in compare(current, target) if changes is None else changes:
        area_source = change.area.source if change.area else None
        if change.target:
            for ch in change.changes:
                number += 1
                new = {"new": NEW_YES, "changed": NEW_REWORDED}.get(ch.kind, NEW_NO)
                style = "cf new" if ch.kind != "same" else "cf text"
                put_text(ws, row, 1, change.area_title, "cf area", styles, area_source or ch.statement.source,
                         context)
                put_value(ws, row, 2, number, "cf index", styles)
                put_text(ws, row, 3, ch.statement.text, style, styles, ch.statement.source, context,
                         "this statement")
                put_text(ws, row, 4, new, style, styles)
                for col in (5, 6, 7, 8):
                    put_style(ws, row, col, "cf input", styles)
                lines = max(wrapped_lines(ch.statement.text, widths[2]),
                            wrapped_lines(change.area_title, widths[0] * 0.9), 2)
                # room to write evidence by hand on the printed form
                set_height(ws, row, max(row_height(s, lines), HANDWRITING_PT / scale), fixed=False)
                if row_height(s, lines) > MAX_ROW_HEIGHT:
                    # Excel's tallest row: the end of the statement would print cut off
                    warn_once(context, ch.statement.source,
                              "this statement is too long to print whole in the self-assessment (its row "
                              "would be taller than Excel's 409 points; the end is cut off on paper, all the "
                              "text is in the cell). Shorter statements read better.")
                rated_rows.append(row)
                if change.area_title not in [a for a, _ in rated_areas]:
                    rated_areas.append((change.area_title, area_source or ch.statement.source))
                row += 1
        elif change.target_todo or not change.current:
            # nothing to rate: say why, without dropdowns
            text = TODO_TEXT if change.target_todo else ABSENT_TEXT
            style = "cf todo" if change.target_todo else "cf absent"
            put_text(ws, row, 1, change.area_title, "cf area", styles, area_source, context)
            note = text + NOTHING_TO_RATE
            put_text(ws, row, 3, note, style, styles)
            for col in (2, 4, 5, 6, 7, 8):
                put_style(ws, row, col, style, styles)
            # bold text wraps sooner than the body text the estimate is made for: a line to spare
            lines = max(wrapped_lines(note, widths[2] * 0.9), wrapped_lines(change.area_title, widths[0] * 0.9))
            set_height(ws, row, row_height(s, lines))
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
                f"{framework.title}, {stamp[0].lower()}{stamp[1:]}")
    _protect(ws)

    counts: dict[str, int] = {}
    for r in rated_rows:
        area = ws.cell(r, 1).value
        counts[area] = counts.get(area, 0) + 1
    _summary_sheet(wb.create_sheet(SUMMARY_SHEET), framework, current, target, person, styles, context,
                   rated_areas, info_areas, first, last, counts)
    wb.active = 0
    return save(wb, context, title=f"Self-assessment: {person}, {current.title} → {target.title}",
                creator=framework.title, subject="Promotion self-assessment",
                keywords="career framework, promotion, self-assessment", normalise=normalise)


HANDWRITING_PT = 20 * 72 / 25.4  # a rated row prints at least 20 mm tall: two or three handwritten lines


def _assessment_widths(s) -> tuple[tuple[float, ...], float]:
    """The self-assessment's column widths and the scale it will print at: the theme's widths,
    the statement, evidence and notes columns narrowed (never below a readable floor) so that
    the sheet prints one page wide with body text at least MIN_PRINT_PT."""
    w = s.widths
    fixed = {0: min(w["area"], 18.0), 1: 5.0, 3: 10.0, 4: 12.0, 5: 12.0}
    flexible = {2: (w["assessment_statement"], 30.0), 6: (w["evidence"], 24.0), 7: (w["notes"], 14.0)}
    room = usable_chars(s) / max(min_scale(s), 0.9)
    spare = room - sum(fixed.values())
    want = sum(v for v, _ in flexible.values())
    shrink = min(1.0, spare / want) if want > 0 else 1.0
    widths = [0.0] * len(ASSESSMENT_COLUMNS)
    for i, v in fixed.items():
        widths[i] = v
    for i, (v, floor) in flexible.items():
        widths[i] = round(max(floor, min(v, v * shrink)), 1)
    scale = min(1.0, usable_chars(s) / sum(widths))
    return tuple(widths), scale


def _protect(ws) -> None:
    """Protect the sheet without a password: only unlocked cells ("cf input") can be typed
    in. Rows and columns may still be resized, links added and filters used."""
    p = ws.protection
    p.sheet = True
    p.formatRows = p.formatColumns = p.autoFilter = p.insertHyperlinks = False


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
                   context: Context, rated_areas, info_areas, first: int, last: int,
                   counts: dict[str, int]) -> None:
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
        count = counts.get(area, 0)  # the cached values: nothing is rated yet
        put_value(ws, row, 2, f"=SUMPRODUCT(({area_rng}=$A{row})*ISNUMBER({num_rng}))", "cf number", styles,
                  cached=count)
        for who in (0, 1):
            base = 3 + who * n
            for i in range(len(ratings)):
                col = get_column_letter(base + i)
                put_value(ws, row, base + i,
                          f"=SUMPRODUCT(({area_rng}=$A{row})*({rating_rng[who]}={col}${header_row}))",
                          "cf number", styles, cached=0)
            lo, hi = get_column_letter(base), get_column_letter(base + len(ratings) - 1)
            put_value(ws, row, base + len(ratings), f"=$B{row}-SUM({lo}{row}:{hi}{row})", "cf number", styles,
                      cached=count)
        set_height(ws, row, row_height(s, wrapped_lines(area, 28 * 0.9)))
        row += 1
    if rated_areas:
        put_text(ws, row, 1, "Total", "cf total", styles)
        total = sum(counts.values())
        for col in range(2, 3 + 2 * n):
            letter = get_column_letter(col)
            rated = col not in (2, 2 + n, 2 + 2 * n)  # statements and "Not rated" hold the total
            put_value(ws, row, col, f"=SUM({letter}{header_row + 1}:{letter}{row - 1})", "cf total", styles,
                      cached=0 if rated else total)
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
    stamp = context.stamp
    print_setup(ws, s, f"{group_row}:{header_row}", person, f"{framework.title}, {stamp[0].lower()}{stamp[1:]}")
    _protect(ws)
