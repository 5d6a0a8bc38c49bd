"""Shared Excel helpers: the one way framework text reaches a cell, sheet names that
Excel accepts, print set-up, row heights, styles created once, reproducible saving.

Every workbook cfexport writes (the competency matrix, self-assessments) goes through
these, so the safety rules live in one place:

- framework text is always a string cell (`data_type = "s"`), never a formula or an
  error value, whatever it starts with; text starting with `= + - @` or a tab (or an
  error code such as `#N/A`) also gets Excel's invisible quote prefix, so editing the
  cell later does not turn it into one;
- text longer than a cell holds (32,767 UTF-16 units) is an `ExportError` naming the
  source, never cut;
- characters XML cannot hold are dropped with a warning naming the source;
- sheet names are valid and unique whatever the titles say;
- the saved bytes depend only on the content and the build time.
"""

from __future__ import annotations

import io
import math
import os
import re
import tempfile
from copy import copy
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Protection, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.dimensions import RowDimension
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.worksheet import Worksheet

from cfexport.exporters.base import Context, ExportError
from cfexport.model import Source
from cfexport.repro import normalise_zip, write_normalised_zip
from cfexport.text import ILLEGAL
from cfexport.theme import THEME_FILE, hex_colour, paper as theme_paper, section, version as theme_version

MAX_CELL = 32_767  # Excel's limit, counted in UTF-16 code units
MAX_SHEET_NAME = 31
MAX_ROW_HEIGHT = 409.0  # points, Excel's limit
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t")
# Text Excel would turn into an error value when someone edits the cell.
ERROR_TEXTS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA"})
# What XML 1.0 (and so openpyxl) refuses; the reader removes these already, this is the
# last line of defence for models built some other way.
_ILLEGAL = ILLEGAL  # what no XML file can hold: the same rule as at ingestion
_SHEET_FORBIDDEN = str.maketrans({"[": "(", "]": ")", ":": "-", "/": "-", "\\": "-", "*": None, "?": None})
_RESERVED_SHEETS = {"history"}  # Excel keeps it for change tracking


# --- text -------------------------------------------------------------------------

def utf16_len(text: str) -> int:
    """Length as Excel counts it: characters outside the BMP (emoji) count twice."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def check_length(text: str, source: Source | None, what: str = "this text") -> None:
    """An ExportError when `text` does not fit in one Excel cell (never cut silently)."""
    if len(text) * 2 <= MAX_CELL:  # fast path: fits even if every character were two units
        return
    n = utf16_len(text)
    if n > MAX_CELL:
        raise ExportError(
            f"{what} is {n:,} characters long; an Excel cell holds at most {MAX_CELL:,}. "
            "Shorten it or split it into several statements (separate them with <br>).",
            source,
        )


def clean(text: str, source: Source | None, context: Context | None, what: str = "text") -> str:
    """`text` without characters an Excel file cannot hold; warns (or fails without a source)."""
    if not _ILLEGAL.search(text):
        return text
    found = ", ".join(sorted({f"U+{ord(c):04X}" for c in _ILLEGAL.findall(text)}))
    if source is None or context is None:
        raise ExportError(f"{what} holds control characters a spreadsheet cannot hold ({found}); remove them")
    warn_once(context, source, f"removed character(s) an Excel cell cannot hold: {found}")
    return _ILLEGAL.sub("", text)


def warn_once(context: Context, source: Source, message: str) -> None:
    """A warning, once per place and message (one text may fill several cells)."""
    if not any(p.source == source and p.message == message for p in context.problems):
        context.warn(source, message)


def hf_escape(text: str, limit: int = 80) -> str:
    """Literal text for a page header/footer, where `&` starts a code (&P, &A, &"font")."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text.replace("&", "&&")


# East Asian wide and full-width characters, and emoji: about two average characters wide.
_WIDE = re.compile(
    "[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf"
    "\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\U0001f000-\U0001faff"
    "\U00020000-\U0003fffd]"
)


def display_units(text: str) -> int:
    """Roughly how many average character widths `text` takes (CJK and emoji count two)."""
    if text.isascii():
        return len(text)
    return len(text) + len(_WIDE.findall(text))


def wrapped_lines(text: str, width: float) -> int:
    """How many lines `text` takes when wrapped in a column `width` characters wide.

    Conservative (wrapping at word boundaries wastes part of each line, and the cell
    font may be wider than the column unit): a row a little too tall reads; a row too
    short hides text.
    """
    per_line = max(4.0, width * 1.15 - 1)
    total = 0
    for line in text.split("\n"):
        total += max(1, math.ceil(display_units(line) / per_line))
    return total


# --- sheet names ------------------------------------------------------------------

def _cut_utf16(text: str, limit: int) -> str:
    out, n = [], 0
    for ch in text:
        n += 2 if ord(ch) > 0xFFFF else 1
        if n > limit:
            break
        out.append(ch)
    return "".join(out)


def _tidy_sheet_name(name: str, limit: int) -> str:
    name = " ".join(_ILLEGAL.sub("", name).translate(_SHEET_FORBIDDEN).split())
    name = _cut_utf16(name.strip("'").strip(), limit)
    return name.strip().strip("'").strip()


class SheetNames:
    """Valid, unique sheet names in the order asked, whatever the titles say: no
    `[]:*?/\\`, not starting or ending with `'`, at most 31 UTF-16 units, not "History",
    unique ignoring case (a clash gets " (2)", " (3)", ... within the limit)."""

    def __init__(self, reserved: tuple[str, ...] = ()):
        self._taken = set(_RESERVED_SHEETS) | {r.casefold() for r in reserved}

    def take(self, wanted: str) -> str:
        base = _tidy_sheet_name(wanted, MAX_SHEET_NAME) or "Sheet"
        name, n = base, 1
        while name.casefold() in self._taken:
            n += 1
            suffix = f" ({n})"
            name = (_tidy_sheet_name(base, MAX_SHEET_NAME - len(suffix)) or "Sheet") + suffix
        self._taken.add(name.casefold())
        return name


# --- settings and styles ------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    """The `xlsx:` section of templates/theme.yaml, checked."""

    font: str
    font_size: float
    header_fill: str
    header_font: str
    title_font: str
    todo_fill: str
    new_fill: str
    absent_fill: str
    absent_font: str
    bullet: str
    paper: str
    widths: dict
    ratings: tuple[str, ...]
    rating_fills: tuple[str, ...]
    assessment_help: str


_DEFAULT_WIDTHS = {"area": 22, "scope": 14, "definition": 34, "level": 40, "statement": 60,
                   "assessment_statement": 46, "evidence": 45, "notes": 30}
_DEFAULT_HELP = (
    "Rate each statement of the target level, yourself and then with your manager. Under Evidence, "
    "give concrete examples: what you did, its impact, and a link. A rating is a summary of the "
    "evidence, not a tick box."
)
_settings_cache: dict[tuple, Settings] = {}


def settings(templates: Path) -> Settings:
    """The checked `xlsx` theme settings, loaded once per process and version of the theme."""
    key = theme_version(templates)
    found = _settings_cache.get(key)
    if found is None:
        found = _settings_cache[key] = _load_settings(Path(templates))
    return found


def _load_settings(templates: Path) -> Settings:
    raw = section(templates, "xlsx")
    colours, fonts = raw.get("colours") or {}, raw.get("fonts") or {}
    where = templates / THEME_FILE

    def colour(key: str, fallback_key: str | None, default: str) -> str:
        value = raw.get(key, colours.get(fallback_key, default) if fallback_key else default)
        hex_value = hex_colour(str(value))
        if hex_value is None:
            raise ExportError(f"{where}: xlsx.{key} (or colours.{fallback_key}) must be a hex colour like "
                              f"\"1F3A5F\", not {value!r}")
        return hex_value

    widths = dict(_DEFAULT_WIDTHS)
    given = raw.get("widths") or {}
    if not isinstance(given, dict):
        raise ExportError(f"{where}: xlsx.widths must be a set of 'name: number' lines")
    for k, v in given.items():
        if k not in widths or not isinstance(v, (int, float)) or not 4 <= v <= 200:
            raise ExportError(f"{where}: xlsx.widths.{k} must be one of {', '.join(widths)} "
                              "with a number of characters between 4 and 200")
        widths[k] = float(v)

    ratings = raw.get("ratings", ["Not yet", "Sometimes", "Consistently"])
    if (not isinstance(ratings, list) or not 2 <= len(ratings) <= 10
            or not all(isinstance(r, str) and r.strip() for r in ratings)):
        raise ExportError(f"{where}: xlsx.ratings must be a list of 2 to 10 labels")
    ratings = tuple(r.strip() for r in ratings)
    bad = [r for r in ratings if "," in r or '"' in r or r.startswith(FORMULA_TRIGGERS) or _ILLEGAL.search(r)]
    if bad or len(set(r.casefold() for r in ratings)) != len(ratings) or len(",".join(ratings)) > 250:
        raise ExportError(f"{where}: xlsx.ratings must be distinct labels without commas or quotes, "
                          "not starting with = + - @, 250 characters in all (a dropdown list holds no more)")
    fills = raw.get("rating_fills", ["F8CBAD", "FFE699", "C6E0B4"])
    if not isinstance(fills, list) or not all(hex_colour(f) for f in fills):
        raise ExportError(f"{where}: xlsx.rating_fills must be a list of hex colours like \"C6E0B4\"")
    fills = tuple(f.lstrip("#").upper() for f in fills)

    # xlsx.paper when given, else the theme's top-level `paper:`, else A4
    paper = theme_paper(templates, raw.get("paper"), "xlsx.paper", ("A4", "A3", "Letter")) or "A4"
    size = raw.get("font_size", 10)
    if not isinstance(size, (int, float)) or not 6 <= size <= 24:
        raise ExportError(f"{where}: xlsx.font_size must be a number between 6 and 24")
    bullet = raw.get("bullet", "• ")
    if not isinstance(bullet, str) or len(bullet) > 4 or _ILLEGAL.search(bullet) or bullet.startswith(FORMULA_TRIGGERS):
        raise ExportError(f"{where}: xlsx.bullet must be up to 4 characters (\"\" for none), "
                          "not starting with = + - @")
    help_text = raw.get("assessment_help", _DEFAULT_HELP)
    if not isinstance(help_text, str) or _ILLEGAL.search(help_text) or len(help_text) > 2000:
        raise ExportError(f"{where}: xlsx.assessment_help must be text of up to 2,000 characters")
    font = raw.get("font") or fonts.get("body") or "Calibri"
    if not isinstance(font, str) or len(font) > 31 or _ILLEGAL.search(font):
        raise ExportError(f"{where}: xlsx.font must be a font name of at most 31 characters")

    return Settings(
        font=font, font_size=float(size),
        header_fill=colour("header_fill", "primary", "1F3A5F"),
        header_font=colour("header_font", None, "FFFFFF"),
        title_font=colour("title_font", "primary", "1F3A5F"),
        todo_fill=colour("todo_fill", "todo", "FFF2CC"),
        new_fill=colour("new_fill", "new", "E2F0D9"),
        absent_fill=colour("absent_fill", None, "F2F2F2"),
        absent_font=colour("absent_font", None, "595959"),
        bullet=bullet, paper=paper, widths=widths, ratings=ratings,
        rating_fills=tuple(hex_colour(f) for f in fills),
        assessment_help=help_text.strip(),
    )


class Styles:
    """Named cell styles of one workbook (HR can restyle them all in Excel's Cell Styles),
    created once per workbook; cells get a copy of a precomputed style array, so writing a
    cell costs no style object and no lookup."""

    def __init__(self, wb: Workbook, s: Settings):
        self.settings = s
        self._arrays: dict[str, StyleArray] = {}
        self._quoted: dict[str, StyleArray] = {}
        thin = Side(style="thin", color="BFBFBF")
        grid = Border(left=thin, right=thin, top=thin, bottom=thin)
        top_wrap = Alignment(wrap_text=True, vertical="top")
        body = Font(name=s.font, size=s.font_size, color="222222")
        bold = Font(name=s.font, size=s.font_size, bold=True, color="222222")

        def fill(hex_: str) -> PatternFill:
            return PatternFill(fill_type="solid", start_color=hex_, end_color=hex_)

        specs = {
            "cf title": dict(font=Font(name=s.font, size=s.font_size + 4, bold=True, color=s.title_font),
                             alignment=Alignment(vertical="center")),
            "cf subtitle": dict(font=Font(name=s.font, size=s.font_size, italic=True, color="595959"),
                                alignment=Alignment(vertical="center")),
            "cf header group": dict(font=Font(name=s.font, size=s.font_size, bold=True, color=s.header_font),
                                    fill=fill(s.header_fill), border=grid,
                                    alignment=Alignment(horizontal="centerContinuous", vertical="center")),
            "cf header": dict(font=Font(name=s.font, size=s.font_size, bold=True, color=s.header_font),
                              fill=fill(s.header_fill), border=grid,
                              alignment=Alignment(wrap_text=True, vertical="center")),
            "cf area": dict(font=bold, border=grid, alignment=top_wrap),
            "cf text": dict(font=body, border=grid, alignment=top_wrap),
            "cf note": dict(font=Font(name=s.font, size=s.font_size, italic=True, color="404040"),
                            border=grid, alignment=top_wrap),
            "cf todo": dict(font=Font(name=s.font, size=s.font_size, bold=True, color="7F6000"),
                            fill=fill(s.todo_fill), border=grid, alignment=top_wrap),
            "cf absent": dict(font=Font(name=s.font, size=s.font_size, italic=True, color=s.absent_font),
                              fill=fill(s.absent_fill), border=grid, alignment=top_wrap),
            "cf new": dict(font=body, fill=fill(s.new_fill), border=grid, alignment=top_wrap),
            "cf number": dict(font=body, border=grid, alignment=Alignment(vertical="top", horizontal="right")),
            "cf help": dict(font=Font(name=s.font, size=s.font_size, italic=True, color="404040"),
                            alignment=top_wrap),
            "cf strong": dict(font=bold, alignment=Alignment(vertical="top")),
            "cf value": dict(font=body, alignment=Alignment(vertical="top")),  # no wrap: runs on to the right
            "cf label": dict(font=bold, alignment=Alignment(vertical="top", wrap_text=True)),
            "cf plain": dict(font=body, alignment=top_wrap),
            # what people fill in: the only cells left editable on a protected sheet
            "cf input": dict(font=body, border=grid, alignment=top_wrap, protection=Protection(locked=False)),
            "cf index": dict(font=body, border=grid, alignment=Alignment(vertical="top", horizontal="center")),
            "cf total": dict(font=bold, border=grid, alignment=Alignment(vertical="top")),
        }
        for name, kw in specs.items():
            style = NamedStyle(name=name, **kw)
            wb.add_named_style(style)
            arr = copy(style.as_tuple())
            self._arrays[name] = arr
            quoted = copy(arr)
            quoted.quotePrefix = 1
            self._quoted[name] = quoted

    def array(self, name: str, text: str | None = None) -> StyleArray:
        """The style for a cell (the cell copies it); the quote-prefixed twin when `text`
        starts like a formula or is an error code."""
        if text and (text.startswith(FORMULA_TRIGGERS) or (text[0] == "#" and text.upper() in ERROR_TEXTS)):
            return self._quoted[name]
        return self._arrays[name]


# --- cells ------------------------------------------------------------------------

def text_cell(ws, text: str, style: str, styles: Styles, source: Source | None = None,
              context: Context | None = None, what: str = "this text", row: int = 1,
              column: int = 1) -> Cell:
    """`text` as a literal string cell of `ws`: never a formula, never an error value, never
    cut. Not yet on the sheet: `put_text` places it, or a row of a write-only sheet holds it
    (`append_row`, which numbers the cells).

    The text is checked here (length, characters) and then stored as it is with type
    "s": openpyxl's own `cell.value = ...` would make "=..." a formula, "#N/A" an error
    value, and cut anything past 32,767 characters without a word.
    """
    check_length(text, source, what)
    if _ILLEGAL.search(text):
        text = clean(text, source, context, what)
    cell = Cell(ws, row=row, column=column, style_array=styles.array(style, text))
    cell._value = text
    cell.data_type = "s"
    return cell


def value_cell(ws, value, style: str, styles: Styles, row: int = 1, column: int = 1) -> Cell:
    """A cell of a value of ours (a number, or a formula cfexport built), or an empty styled
    cell when `value` is None; not yet on the sheet (see `text_cell`)."""
    return Cell(ws, row=row, column=column, value=value, style_array=styles.array(style))


def put_text(ws, row: int, column: int, text: str, style: str, styles: Styles,
             source: Source | None = None, context: Context | None = None, what: str = "this text"):
    """Write `text` literally as a string cell (`text_cell`) at `row`, `column`. Returns the cell."""
    cell = text_cell(ws, text, style, styles, source, context, what, row, column)
    ws._add_cell(cell)
    return cell


def put_value(ws, row: int, column: int, value, style: str, styles: Styles, cached: float | None = None):
    """Write a value of ours (a number, or a formula cfexport built). A formula's `cached`
    value is stored with it, so a preview that does not calculate (mail, Quick Look) shows
    it rather than a blank."""
    cell = value_cell(ws, value, style, styles, row, column)
    ws._add_cell(cell)
    if cached is not None and cell.data_type == "f":
        ws.__dict__.setdefault("_cf_cached", {})[cell.coordinate] = cached
    return cell


def put_style(ws, row: int, column: int, style: str, styles: Styles):
    """An empty cell with a style (a blank input cell, a filled gap)."""
    cell = value_cell(ws, None, style, styles, row, column)
    ws._add_cell(cell)
    return cell


# --- write-only sheets ------------------------------------------------------------
# A workbook too large to hold (the competency matrix of a large framework) is written with
# openpyxl's write-only sheets: rows go to disk as they are appended, in order. What sits
# above the rows in the file must be set before the first row: column widths, freeze panes,
# grid lines, the sheet's size (`set_widths`, `declare_size`); a row's height before that row.
# Merged cells, print set-up, headers and footers, breaks, filters and tables are written when
# the sheet is closed.

def set_widths(ws, widths) -> None:
    """Column widths in characters, from column A on."""
    for col, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(col)].width = width


def declare_size(ws, last_row: int, last_col: int) -> None:
    """The used range a normal sheet states at its top (`<dimension ref="A1:..">`, which
    readers use to size the sheet before reading it), for a write-only sheet whose cells
    start at A1 and reach `last_col` of `last_row`. Before the first row."""
    ref = f"A1:{get_column_letter(max(last_col, 1))}{max(last_row, 1)}"
    ws.calculate_dimension = lambda: ref  # what openpyxl's writer asks a sheet for


def _placed(cells, row: int):
    """The cells of a row, numbered: what openpyxl's write-only sheet does with what it is
    given (`_values_to_row`), without first trying each cell as a value, which raises and
    catches an exception per cell (a third of the time of writing the sheet)."""
    for column, cell in enumerate(cells, 1):
        if cell is not None:
            cell.row, cell.column = row, column
            yield cell


def append_row(ws, cells, height: float | None = None) -> int:
    """Append the next row of a write-only sheet: `cells` in column order from A (None
    where a column is empty), at `height` points when given. Returns the row's number."""
    row = ws.__dict__.get("_cf_rows", 0) + 1
    if row == 1:  # (were openpyxl to stop calling it, its own way gives the same rows)
        ws._values_to_row = _placed
    ws._cf_rows = row
    if height is not None:
        set_height(ws, row, height)
    ws.append(cells)
    ws.row_dimensions.pop(row, None)  # written with the row: no need to keep it
    return row


def discard(wb: Workbook) -> None:
    """Delete what a write-only workbook that will not be saved (an error stopped it) has on
    disk: openpyxl keeps each sheet's file until the workbook is saved or the process ends,
    and a server renders many workbooks in one process."""
    for ws in wb.worksheets:
        writer = getattr(ws, "_writer", None)
        if writer is None:  # no row yet: nothing on disk
            continue
        if ws._rows is not None:
            ws._rows.close()
        writer.close()
        if os.path.exists(writer.out):
            writer.cleanup()


def merge(ws, first_row: int, first_col: int, last_row: int, last_col: int) -> None:
    """Merge a range whose cells other than the first are empty. openpyxl's `merge_cells`
    also creates a styled placeholder for each hidden cell, which costs more than the
    rest of a small sheet; the file is the same without them."""
    ws.merged_cells.add(CellRange(min_row=first_row, min_col=first_col, max_row=last_row, max_col=last_col))


class _FlexibleRow(RowDimension):
    """A row with a starting height that Excel may still grow when someone types into it
    (no customHeight), for sheets people fill in."""

    @property
    def customHeight(self):  # noqa: N802 (openpyxl's name)
        return False


def set_height(ws, row: int, points: float, fixed: bool = True) -> None:
    points = round(min(MAX_ROW_HEIGHT, max(points, 15.0)), 1)
    if fixed:
        ws.row_dimensions[row].height = points
    else:
        ws.row_dimensions[row] = _FlexibleRow(ws, index=row, ht=points)


def line_height(s: Settings) -> float:
    """Points per wrapped line for the body font (a little generous)."""
    return s.font_size * 1.3


def row_height(s: Settings, lines: int) -> float:
    return lines * line_height(s) + 5


# --- sheets and saving ------------------------------------------------------------

# --- print ----------------------------------------------------------------------------
# Paper in points (portrait) and the margins print_setup sets, in inches.
PAPER_POINTS = {"A4": (595.3, 841.9), "A3": (841.9, 1190.6), "Letter": (612.0, 792.0)}
PAPER_SIZES = {"A4": Worksheet.PAPERSIZE_A4, "A3": Worksheet.PAPERSIZE_A3, "Letter": Worksheet.PAPERSIZE_LETTER}
MARGIN_X, MARGIN_Y = 0.4, 0.7
# Printed body text is at least this size: a sheet never prints smaller than MIN_PRINT_PT / font_size.
MIN_PRINT_PT = 8.5
# A column `w` characters wide is w * 7 pixels of the workbook's default font (Calibri 11), 0.75 pt each,
# in Excel; LibreOffice (with Carlito, Calibri's metric twin) draws it about 6 % wider. 8.5 % in hand.
POINTS_PER_CHAR = 7 * 0.75 * 1.085


def usable_chars(s: Settings, landscape: bool = True) -> float:
    """How many characters of column width fit across the printable width at 100 %."""
    short, long = PAPER_POINTS[s.paper]
    return ((long if landscape else short) - 2 * 72 * MARGIN_X) / POINTS_PER_CHAR


def min_scale(s: Settings) -> float:
    """The smallest print scale that keeps body text at MIN_PRINT_PT or more."""
    return min(1.0, MIN_PRINT_PT / s.font_size)


def print_setup(ws, s: Settings, title_rows: str, left_header: str, left_footer: str,
                scale: int | None = None, last_col: int | None = None) -> None:
    """Landscape, title rows on every page, sheet name and page numbers; one page wide, or at
    `scale` percent when given (the caller sets column breaks and title columns). Merged
    cells must not reach past the last column that holds a value. A write-only sheet, which
    does not know its columns, says the last one with a value in `last_col`."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = PAPER_SIZES[s.paper]
    if scale is None:
        # one page wide: the scale is computed here rather than left to "fit to width", which
        # an office suite measuring with another font would shrink below a legible size
        columns = ws.max_column if last_col is None else last_col
        total = sum(ws.column_dimensions[get_column_letter(c)].width or 13 for c in range(1, columns + 1))
        # (at most 98 %: at 100 % LibreOffice may spill an empty sliver page past the last column)
        scale = max(10, min(98, int(100 * usable_chars(s) / max(total, 1))))
    ws.page_setup.scale = scale
    ws.page_setup.pageOrder = "downThenOver"  # every area of some levels, then the next levels
    ws.print_title_rows = title_rows
    ws.page_margins = PageMargins(left=MARGIN_X, right=MARGIN_X, top=MARGIN_Y, bottom=MARGIN_Y, header=0.3,
                                  footer=0.3)
    ws.oddHeader.left.text = hf_escape(left_header)
    ws.oddHeader.right.text = "&A"
    ws.oddFooter.left.text = hf_escape(left_footer)
    ws.oddFooter.right.text = "Page &P of &N"


def new_workbook(write_only: bool = False) -> Workbook:
    """An empty workbook; `write_only` for one written row by row (see `append_row`)."""
    if write_only:
        return Workbook(write_only=True)
    wb = Workbook()
    wb.remove(wb.active)
    return wb


def save(wb: Workbook, context: Context, title: str, creator: str, subject: str = "",
         keywords: str = "", normalise: bool = True) -> bytes:
    """The workbook's bytes, identical for identical content and build time; without
    `normalise`, the package before its zip dates and core dates are fixed, for a caller that
    writes it again anyway (a pack's `provenance.stamp`)."""
    _set_properties(wb, context, title, creator, subject, keywords)
    buf = io.BytesIO()
    wb.save(buf)
    data = _cache_formula_values(buf.getvalue(), wb)
    return normalise_zip(data, context.build_time) if normalise else data


def save_to(out: BinaryIO, wb: Workbook, context: Context, title: str, creator: str, subject: str = "",
            keywords: str = "") -> None:
    """`save` into the file `out`, never holding the workbook's contents in memory: openpyxl
    writes the package into a temporary file and each part is copied from there a piece at a
    time (a write-only workbook, whose rows were streamed to disk already)."""
    _set_properties(wb, context, title, creator, subject, keywords)
    with tempfile.TemporaryFile() as package:
        wb.save(package)
        if any(ws.__dict__.get("_cf_cached") for ws in wb.worksheets):  # formulas to fill in: a small workbook
            package.seek(0)
            out.write(normalise_zip(_cache_formula_values(package.read(), wb), context.build_time))
            return
        package.seek(0)
        write_normalised_zip(package, context.build_time, out)


def _set_properties(wb: Workbook, context: Context, title: str, creator: str, subject: str, keywords: str) -> None:
    when = context.build_time.replace(tzinfo=None)  # openpyxl refuses aware datetimes
    props = wb.properties
    props.title = clean(title, None, None, "the title")[:255]
    props.creator = clean(creator, None, None, "the creator")[:255]
    props.subject = subject[:255] or None
    props.keywords = keywords[:255] or None
    props.lastModifiedBy = "cfexport"  # the mark that says a workbook is ours (as in Word files)
    props.created = when
    props.modified = when
    wb.calculation.fullCalcOnLoad = True  # Excel and LibreOffice compute the formulas again on open


def _cache_formula_values(data: bytes, wb: Workbook) -> bytes:
    """Store each formula's value (noted by put_value) beside it: openpyxl writes formulas with
    an empty value, which a preview that does not calculate shows as a blank cell. The parts
    are stored uncompressed: the package is always written again (normalised) after this."""
    import zipfile

    sheets = {f"xl/worksheets/sheet{i}.xml": ws.__dict__.get("_cf_cached")
              for i, ws in enumerate(wb.worksheets, 1)}
    if not any(sheets.values()):
        return data
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            cached = sheets.get(item.filename)
            if cached:
                def value(m: re.Match) -> str:
                    v = cached.get(m.group(2))
                    shown = "" if v is None else (str(int(v)) if float(v).is_integer() else repr(float(v)))
                    return f"{m.group(1)}<v>{shown}</v>" if shown else m.group(0)

                body = _FORMULA_CELL.sub(value, body.decode("utf-8")).encode("utf-8")
            dst.writestr(item, body, zipfile.ZIP_STORED)
    return out.getvalue()


_FORMULA_CELL = re.compile(r'(<c r="([A-Z]+[0-9]+)"[^>]*><f>[^<]*</f>)(?:<v\s*/>|<v></v>)')
