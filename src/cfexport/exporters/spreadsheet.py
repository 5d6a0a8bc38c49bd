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
import zipfile
from copy import copy
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from lxml.etree import XMLParser, fromstring
from openpyxl import LXML as _LXML, Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Protection, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.styles.styleable import StyleableObject
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import WorkbookAlreadySaved
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.dimensions import RowDimension
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

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

# A cell of a row of a write-only sheet, as `text_cell` and `value_cell` make it for `append_row`:
# (value, openpyxl's data type, style array). Lighter than a `Cell`, which is made only should
# openpyxl's own code write the row; the style array is the `Styles` one, never changed.
RowCell = tuple


def text_cell(ws, text: str, style: str, styles: Styles, source: Source | None = None,
              context: Context | None = None, what: str = "this text", row: int = 1,
              column: int = 1) -> Cell | RowCell:
    """`text` as a literal string cell of `ws`: never a formula, never an error value, never
    cut. Not yet on the sheet: `put_text` places it, or a row of a write-only sheet holds it
    (`append_row`, which numbers the cells; for a write-only sheet this is a `RowCell`).

    The text is checked here (length, characters) and then stored as it is with type
    "s": openpyxl's own `cell.value = ...` would make "=..." a formula, "#N/A" an error
    value, and cut anything past 32,767 characters without a word.
    """
    check_length(text, source, what)
    if _ILLEGAL.search(text):
        text = clean(text, source, context, what)
    if isinstance(ws, WriteOnlyWorksheet):
        return (text, "s", styles.array(style, text))
    cell = Cell(ws, row=row, column=column, style_array=styles.array(style, text))
    cell._value = text
    cell.data_type = "s"
    return cell


def value_cell(ws, value, style: str, styles: Styles, row: int = 1, column: int = 1) -> Cell | RowCell:
    """A cell of a value of ours (a number, or a formula cfexport built), or an empty styled
    cell when `value` is None; not yet on the sheet (see `text_cell`)."""
    if (value is None or type(value) is int or type(value) is float) and isinstance(ws, WriteOnlyWorksheet):
        return (value, "n", styles.array(style))  # what `Cell.value = value` makes of it
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


def append_row(ws, cells, height: float | None = None) -> int:
    """Append the next row of a write-only sheet: `cells` in column order from A (None
    where a column is empty), made by `text_cell` and `value_cell` (or openpyxl cells), at
    `height` points when given. Returns the row's number."""
    rows = ws.__dict__.get("_cf_rows")
    if rows is None:
        rows = _Rows.start(ws)
    return rows.append(cells, height)


# openpyxl writes a row of a write-only sheet a cell at a time: a context manager per element
# (`<c>`, `<is>`, `<t>`, `<v>`), and the workbook's list of styles asked for each cell's style
# index; with a `Cell` made for each cell, that was most of the time of writing the competency
# matrix. `_Rows` writes the same XML for the cells cfexport makes (literal text, numbers,
# empty styled cells, plain formulas), a batch of rows parsed by lxml at a time, and hands any
# other row (a hyperlink, a comment, a date, rich text...) to openpyxl's own `write_row` whole.
#
# The private parts of openpyxl (3.1) this module depends on, used here and nowhere else
# (and, to save a workbook, `openpyxl.writer.excel.ExcelWriter`: see `_write_package`):
# - `WriteOnlyWorksheet._get_writer()`, which makes `._writer`, a `WorksheetWriter` that has
#   written what sits above the rows; its `.xf` generator, which `send(True)` answers with
#   the sheet's lxml `xmlfile` and `send(None)` takes back; the sheet's `._rows`, the
#   generator that holds `<sheetData>` open, which `close()` ends: `_Rows._stream` stands in
#   for openpyxl's (`_write_rows`), as `WriteOnlyWorksheet.append` would start it;
# - `WorksheetWriter.write_row(xf, cells, row_idx)`, for the rows `_Rows` does not write itself;
# - `Workbook._cell_styles` (an `IndexedList` of `StyleArray`), whose `add` gives the index
#   `Cell.style_id` gives;
# - `Cell._value`, `._style`, `._comment`, `._hyperlink` (slots), read.
# Should openpyxl not write with lxml (`openpyxl.LXML` false) or lack one of these, the rows
# go through `ws.append` and openpyxl's own code, as before: slower, and the same file; the
# sheet's `_values_to_row` is then replaced by `_Rows._placed` (which makes `Cell`s of the
# `RowCell`s), as it was before `_Rows`.
# tests/test_xlsx.py compares the sheet XML written here with what openpyxl's own writer
# writes for the same cells, hostile text included.

_FAST_ROWS = bool(_LXML) and all((
    callable(getattr(WriteOnlyWorksheet, "_get_writer", None)),
    callable(getattr(WorksheetWriter, "write_row", None)),
    {"_value", "_style", "_comment", "_hyperlink", "data_type"} <= set(Cell.__slots__) | set(StyleableObject.__slots__),
))


class _Rows:
    """The rows of one write-only sheet (`append_row`), numbered and written in order (see above).

    Rows are written a batch at a time: the markup of a batch of rows (coordinates, style ids,
    types, numbers, heights; no text) is parsed by lxml in one go, much faster than making the
    elements one by one, or a row at a time; each text (and formula) is then set on its element,
    so lxml checks and escapes it just as it does those openpyxl makes, and the rows are written.
    """

    BATCH = 64  # rows parsed at a time

    __slots__ = ("ws", "count", "writer", "xf", "style_ids", "cell_styles", "letters", "heads", "parser",
                 "pending", "texts", "empty")

    @classmethod
    def start(cls, ws) -> "_Rows":
        """Before the sheet's first row."""
        rows = ws._cf_rows = cls(ws)
        if (_FAST_ROWS and isinstance(ws, WriteOnlyWorksheet) and ws._writer is None and ws._rows is None
                and isinstance(rows.cell_styles, IndexedList)):
            ws._get_writer()  # the sheet's file, with what sits above the rows
            ws._rows = rows._stream()  # as `WriteOnlyWorksheet.append` starts its own
            next(ws._rows)
        else:
            ws._values_to_row = rows._placed
        return rows

    def __init__(self, ws):
        self.ws = ws
        self.count = 0
        self.writer = None
        self.xf = None  # the sheet's lxml xmlfile, inside `<sheetData>`, while rows go there
        wb = ws.parent
        # a style array (as bytes) -> the `s` openpyxl writes for it (None for no style); one map
        # per workbook, as the index is the workbook's
        self.style_ids: dict[bytes, str | None] = wb.__dict__.setdefault("_cf_style_ids", {})
        self.cell_styles = getattr(wb, "_cell_styles", None)
        self.letters: list[str] = [""]  # column letters by number
        self.heads: dict[tuple, str] = {}  # (style array as bytes, data type) -> `_head`
        # one parser per sheet (lxml's are not to be shared between threads); what it parses is
        # markup made here, without any text
        self.parser = XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)
        self.pending: list[str] = []  # the markup of the rows of the batch
        self.texts: list[str] = []  # of the batch's `<t>` and `<f>`, in order
        self.empty: list[tuple[int, int]] = []  # (row, cell) of the batch's empty elements; cell -1: the row

    def _stream(self):
        """The sheet's `<sheetData>`, open until the sheet is closed (`WriteOnlyWorksheet.close`
        and `discard` close this generator): what `WriteOnlyWorksheet._write_rows` does, but for
        rows that `append` writes straight into the file. A row given to the sheet's own
        `append` comes in here."""
        self.writer = self.ws._writer
        xf = self.writer.xf.send(True)
        with xf.element("sheetData"):
            self.xf = xf
            try:
                while True:
                    values = yield
                    self.append(values)
            except GeneratorExit:
                self.flush()
            finally:
                self.xf = None
        self.writer.xf.send(None)

    def append(self, cells, height: float | None = None) -> int:
        """`append_row`: the row joins the batch, or is written on its own after the batch (a
        cell openpyxl writes, or a RowDimension set for the row). Returns the row's number."""
        ws = self.ws
        if self.writer is None:  # openpyxl's own way
            self.count = row_idx = self.count + 1
            if height is not None:
                set_height(ws, row_idx, height)
            ws.append(cells)
            ws.row_dimensions.pop(row_idx, None)  # written with the row: no need to keep it
            return row_idx
        if self.xf is None:
            raise WorkbookAlreadySaved("The sheet is closed: no more rows can be added to it")
        self.count = row_idx = self.count + 1
        made = self._cells(cells, row_idx)
        if made is not None and row_idx not in ws.row_dimensions:
            inner, texts, empty = made
            n = len(self.pending)
            # the row's attributes, as `WorksheetWriter.write_row` gives them: `r`, and those of a
            # RowDimension of that height
            if height is None:
                self.pending.append(f'<row r="{row_idx}">{inner}</row>')
            else:
                self.pending.append(f'<row r="{row_idx}" ht="{"%.16g" % _height(height)}" customHeight="1">{inner}</row>')
            if texts:
                self.texts += texts
            if empty:
                self.empty += [(n, i) for i in empty]
            elif not inner:
                self.empty.append((n, -1))
            if n + 1 >= self.BATCH:
                self.flush()
            return row_idx
        # a row written on its own, after those before it
        self.flush()
        if height is not None:
            set_height(ws, row_idx, height)
        try:
            if made is None:  # a cell this does not write: the whole row as openpyxl writes it
                WorksheetWriter.write_row(self.writer, self.xf, self._placed(cells, row_idx), row_idx)
            else:  # something set on the row beyond its height: openpyxl says what
                inner, texts, empty = made
                marks = [(0, i) for i in empty] if empty else [] if inner else [(0, -1)]
                [row] = self._parse([f"<row>{inner}</row>"], texts, marks)
                row.set("r", str(row_idx))
                for key, value in ws.row_dimensions[row_idx]:
                    row.set(key, value)
                self.xf.write(row)
        finally:
            ws.row_dimensions.pop(row_idx, None)  # written with the row: no need to keep it
        return row_idx

    def flush(self) -> None:
        """Write the rows of the batch."""
        if self.pending:
            rows = self._parse(self.pending, self.texts, self.empty)
            self.pending, self.texts, self.empty = [], [], []
            self.xf.write(*rows)

    def drop(self) -> None:
        """Forget the rows not yet written (the workbook will not be saved)."""
        self.pending, self.texts, self.empty = [], [], []

    def _parse(self, rows: list[str], texts: list[str], empty) -> list:
        """The `<row>` elements of `rows` (markup), `texts` set on their `<t>` and `<f>` in order, and
        each of `empty` (row, cell) an element with no content written as openpyxl writes it,
        `<c ...></c>` (`<v></v>` in a formula's cell, `<row ...></row>` when cell is -1)."""
        batch = fromstring("<rows>" + "".join(rows) + "</rows>", self.parser)
        if texts:
            for element, text in zip(batch.iter("t", "f"), texts):
                element.text = text
        for r, i in empty:
            element = batch[r] if i < 0 else batch[r][i]
            if len(element):
                element[-1].text = ""
            else:
                element.text = ""
        return list(batch)

    def _placed(self, cells, row: int):
        """The cells of a row as openpyxl `Cell`s, numbered: what openpyxl's write-only sheet makes
        of what it is given (`_values_to_row`), without first trying each cell as a value (which
        raises and catches an exception per cell). A value (given to the sheet's own `append`)
        becomes a cell as openpyxl makes it."""
        for column, cell in enumerate(cells, 1):
            if cell is None:
                continue
            if type(cell) is tuple:  # a RowCell
                value, kind, style = cell
                cell = Cell(self.ws, row=row, column=column, style_array=style)
                cell._value, cell.data_type = value, kind
            elif isinstance(cell, Cell):
                cell.row, cell.column = row, column
                if cell._hyperlink is not None:
                    cell._hyperlink.ref = cell.coordinate
            else:
                cell = Cell(self.ws, row=row, column=column, value=cell)
            yield cell

    def _cells(self, cells, row_idx: int):
        """The markup of the row's cells (no text), the row's texts and formulas in order, and
        which of its cells are empty; None when a cell is not one this writes."""
        parts = []
        texts = []
        empty = None
        letters, heads = self.letters, self.heads
        suffix = str(row_idx)
        for column, cell in enumerate(cells, 1):
            if cell is None:
                continue
            if type(cell) is tuple:  # a RowCell, whose text `text_cell` has checked
                value, kind, style = cell
            elif type(cell) is Cell and cell._comment is None and cell._hyperlink is None:
                value, kind, style = cell._value, cell.data_type, cell._style
                if type(value) is str and _ILLEGAL.search(value):  # openpyxl says what it says
                    return None
                cell.row, cell.column = row_idx, column
            else:
                return None
            head = heads.get((None if style is None else style.tobytes(), kind))
            if head is None:
                head = self._head(style, kind)
            if value is None:
                if not head.startswith(' s="'):  # openpyxl leaves out an empty cell without a style
                    continue
            elif kind == "s":
                if type(value) is not str:
                    return None
            elif kind == "n":
                if (type(value) is not int and type(value) is not float) or not math.isfinite(value):
                    return None
            elif kind != "f" or type(value) is not str:
                return None
            if column >= len(letters):
                letters.extend(get_column_letter(c) for c in range(len(letters), column + 1))
            if value is None or value == "":
                if empty is None:
                    empty = []
                empty.append(len(parts))
                parts.append(f'<c r="{letters[column]}{suffix}"{head}</c>')
            elif kind == "s":
                texts.append(value)
                if value != value.strip():
                    parts.append(f'<c r="{letters[column]}{suffix}"{head}<is><t xml:space="preserve"/></is></c>')
                else:
                    parts.append(f'<c r="{letters[column]}{suffix}"{head}<is><t/></is></c>')
            elif kind == "n":
                parts.append(f'<c r="{letters[column]}{suffix}"{head}<v>{"%.16g" % value}</v></c>')
            else:  # a formula, without its "=", and an empty value
                texts.append(value[1:])
                if empty is None:
                    empty = []
                empty.append(len(parts))
                parts.append(f'<c r="{letters[column]}{suffix}"{head}<f/><v/></c>')
        return "".join(parts), texts, empty

    def _head(self, style, kind: str) -> str:
        """A `<c>`'s attributes after `r`, as openpyxl's `_set_attributes` writes them for a cell of
        that style array and data type: `s` (its index in the workbook's styles, as `Cell.style_id`
        gives it, for a cell `Cell.has_style` says is styled), then `t`."""
        key = None if style is None else style.tobytes()
        sid = self.style_ids.get(key) if key is not None else None
        if key is not None and key not in self.style_ids:
            sid = self.style_ids[key] = str(self.cell_styles.add(StyleArray(style))) if any(style) else None
        head = "" if sid is None else f' s="{sid}"'
        if kind == "s":
            head += ' t="inlineStr"'
        elif kind != "f":
            head += f' t="{kind}"'
        head = self.heads[(key, kind)] = head + ">"
        return head


def discard(wb: Workbook) -> None:
    """Delete what a write-only workbook that will not be saved (an error stopped it) has on
    disk: openpyxl keeps each sheet's file until the workbook is saved or the process ends,
    and a server renders many workbooks in one process."""
    for ws in wb.worksheets:
        writer = getattr(ws, "_writer", None)
        if writer is None:  # no row yet: nothing on disk
            continue
        rows = ws.__dict__.get("_cf_rows")
        if rows is not None:
            rows.drop()  # (not worth writing)
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


def _height(points: float) -> float:
    """A row height as cfexport writes it: 15 to 409 points, to a tenth."""
    return round(min(MAX_ROW_HEIGHT, max(points, 15.0)), 1)


def set_height(ws, row: int, points: float, fixed: bool = True) -> None:
    points = _height(points)
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


def _column_pages(ws, widths: list[float], usable: float, room: float) -> int:
    """Print a sheet wider than one legible page across several: as many whole columns to a
    page as fit in `room` characters (never a column cut in two), column A repeated on each
    page after the first. Returns the scale, in percent, at which the widest page fits."""
    from openpyxl.worksheet.pagebreak import Break

    pages: list[list[int]] = [[1]]
    width = widths[0]
    for col in range(2, len(widths) + 1):
        w = widths[col - 1]
        if width + w <= room:
            pages[-1].append(col)
            width += w
        else:
            pages.append([col])
            width = widths[0] + w
    page_widths = [sum(widths[c - 1] for c in cols) + (widths[0] if i else 0) for i, cols in enumerate(pages)]
    if len(pages) > 1:
        for cols in pages[:-1]:
            ws.col_breaks.append(Break(id=cols[-1]))
        ws.print_title_cols = "A:A"
    return int(100 * usable / max(page_widths))


def print_setup(ws, s: Settings, title_rows: str, left_header: str, left_footer: str,
                scale: int | None = None, last_col: int | None = None) -> None:
    """Landscape, title rows on every page, sheet name and page numbers; one page wide (several
    pages across, whole columns to a page, when one page would print below MIN_PRINT_PT), or at
    `scale` percent when given (the caller sets column breaks and title columns). Merged
    cells must not reach past the last column that holds a value. A write-only sheet, which
    does not know its columns, says the last one with a value in `last_col`."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = PAPER_SIZES[s.paper]
    if scale is None:
        # one page wide: the scale is computed here rather than left to "fit to width", which
        # an office suite measuring with another font would shrink below a legible size
        columns = ws.max_column if last_col is None else last_col
        widths = [ws.column_dimensions[get_column_letter(c)].width or 13 for c in range(1, columns + 1)]
        usable = usable_chars(s)
        scale = int(100 * usable / max(sum(widths), 1))
        if scale < 100 * min_scale(s):
            # too wide for one legible page: whole columns to a page, the first column repeated
            scale = _column_pages(ws, widths, usable, usable / min_scale(s))
        # (at most 98 %: at 100 % LibreOffice may spill an empty sliver page past the last column)
        scale = max(10, min(98, scale))
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
    writes it again anyway (a pack's `provenance.stamp`).

    A write-only workbook (its rows on disk already, the competency matrix of a large framework
    among them) is saved as `save_to` saves it: its package, stored rather than deflated (see
    `_write_package`), goes through a temporary file, never into memory (~100 MB for an extra-large
    framework's matrix)."""
    _set_properties(wb, context, title, creator, subject, keywords)
    if wb.write_only and normalise:
        out = io.BytesIO()
        _save_normalised(out, wb, context)
        return out.getvalue()
    buf = io.BytesIO()
    _write_package(wb, buf)
    data = _cache_formula_values(buf.getvalue(), wb)
    return normalise_zip(data, context.build_time) if normalise else data


def save_to(out: BinaryIO, wb: Workbook, context: Context, title: str, creator: str, subject: str = "",
            keywords: str = "") -> None:
    """`save` into the file `out`, never holding the workbook's contents in memory: openpyxl
    writes the package into a temporary file and each part is copied from there a piece at a
    time (a write-only workbook, whose rows were streamed to disk already)."""
    _set_properties(wb, context, title, creator, subject, keywords)
    _save_normalised(out, wb, context)


def _save_normalised(out: BinaryIO, wb: Workbook, context: Context) -> None:
    """`save_to`, its properties set."""
    with tempfile.TemporaryFile() as package:
        _write_package(wb, package)
        if any(ws.__dict__.get("_cf_cached") for ws in wb.worksheets):  # formulas to fill in: a small workbook
            package.seek(0)
            out.write(normalise_zip(_cache_formula_values(package.read(), wb), context.build_time))
            return
        package.seek(0)
        write_normalised_zip(package, context.build_time, out)


def _write_package(wb: Workbook, out: BinaryIO) -> None:
    """What openpyxl's `Workbook.save` writes into `out`, with its parts stored rather than
    deflated: `normalise_zip` and `write_normalised_zip` deflate every part again, and the
    bytes they make depend only on the parts' contents, so deflating here as well only cost
    time (a third of saving the competency matrix). The same steps as `Workbook.save` and
    `openpyxl.writer.excel.save_workbook` (3.1), but for the zip's compression and that the
    `modified` date stays the build time rather than now (the dates are set again anyway)."""
    if wb.read_only:
        raise TypeError("Workbook is read-only")
    if wb.write_only and not wb.worksheets:
        wb.create_sheet()
    ExcelWriter(wb, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True)).save()


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
