"""The `matrix-xlsx` reader: a competency-matrix workbook in the layout cfexport writes.

Every sheet with a header row holding an "Area" cell and "Level N" (or "Level N · Name")
cells is a matrix: the rows under it are areas, each level column holds that level's
statements, one per line. Found by its headers, not by fixed coordinates: a title above the
header ("Craft" or "Craft · Specialism", else the sheet's name) names the craft and the
specialism, an "Applies to" column says whether an area is shared or a specialism's, a "What
the area covers" column holds its definition, and level columns may be split into several
blocks (each with its own "Area" column). Other sheets (Statements, About) are not read.

A shared area's cell that says the same on every specialism's sheet is one shared
expectation; where the sheets differ (an edit on one of them), each specialism has its own.
"Not yet defined (TODO)" or "TODO" is a TODO; "Not described at this level", or an empty
cell, leaves the area out. No formula is evaluated: cells are read as their cached values.
Problems name cells: `book.xlsx!'Sheet name'!C7` (a Source with that file and line 0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import ClassVar

from cfexport.model import Area, Craft, Expectation, Framework, Level, ReadResult, Source, Statement
from cfexport.readers.assemble import Findings, check_coverage, paragraphs, squash, unique_ids
from cfexport.readers.xlsx_guard import MACRO_SUFFIXES, WorkbookRefused, check
from cfexport.slugs import slugify
from cfexport.text import ILLEGAL, normalise

SUFFIXES = (".xlsx", ".xltx")
MAX_SHEETS = 200
MAX_ROWS = 5000
MAX_COLS = 300
MAX_CELLS = 1_000_000
MAX_CELL = 32767
# The legend texts the xlsx exporter writes (tests check they are the exporter's).
TODO_TEXTS = {"todo", "not yet defined (todo)", "not yet defined"}
ABSENT_TEXTS = {"not described at this level"}
PARTLY_TODO = "partly not yet defined (todo)"
NO_DEFINITION = "not defined on the craft page"
SHARED = {"shared", "all", "craft", ""}
_LEVEL = re.compile(r"^level\s+(\d+)\s*(?:[·:\-–—|]\s*(.*?)|\((.*)\))?\s*$", re.IGNORECASE)
_BULLET = re.compile(r"^[•◦▪▫‣⁃∙●○■□]\s*")
_TITLE_SEP = " · "
_SCOPE = {"applies to", "specialism", "scope", "track"}
_DEFINITION = {"what the area covers", "definition", "description", "what it covers"}


class MatrixXlsxReader:
    name: ClassVar[str] = "matrix-xlsx"
    looks_for: ClassVar[str] = ("a competency-matrix workbook (.xlsx) as cfexport writes it: a sheet per craft and "
                                "specialism, an 'Area' column, a 'Level N' column per level, statements one per line")

    def recognise(self, path: Path) -> int:
        return 2 if path.is_file() and path.suffix.lower() in SUFFIXES + MACRO_SUFFIXES else 0

    def read(self, path: Path, root: str | None = None) -> ReadResult:
        return _Book(Path(path)).read(root)


@dataclass
class _Block:
    area_col: int
    scope_col: int | None
    definition_col: int | None
    levels: dict[int, int]  # column -> level number


@dataclass
class _Sheet:
    name: str
    craft: str
    specialism: str | None
    levels: dict[int, tuple[str, str]] = field(default_factory=dict)  # number -> (name, header cell)
    rows: dict[str, dict] = field(default_factory=dict)  # area title -> {cell, scope, definition, levels}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return ILLEGAL.sub("", normalise(str(value)))


def _quote(sheet: str) -> str:
    return sheet if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", sheet) else "'" + sheet.replace("'", "''") + "'"


def _column(n: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(n)


class _Book:
    def __init__(self, path: Path):
        self.path = path
        self.file = path.name
        self.findings = Findings()

    def at(self, sheet: str, row: int | None = None, col: int | None = None) -> Source:
        where = f"{self.file}!{_quote(sheet)}" + (f"!{_column(col)}{row}" if row and col else "")
        return Source(where, 0)

    def read(self, root: str | None) -> ReadResult:
        f = self.findings
        if not self.path.is_file():
            f.error(Source(str(self.path), 0), "not found; pass --framework with the workbook")
            return ReadResult(None, tuple(f.problems))
        try:
            check(self.path)
        except (WorkbookRefused, OSError) as exc:
            f.error(Source(self.file, 0), str(exc))
            return ReadResult(None, tuple(f.problems))
        import openpyxl

        try:
            wb = openpyxl.load_workbook(self.path, read_only=True, data_only=True, keep_vba=False, keep_links=False)
        except Exception as exc:  # a broken part: openpyxl raises many kinds
            f.error(Source(self.file, 0), f"not a workbook openpyxl can read ({type(exc).__name__}: {exc})")
            return ReadResult(None, tuple(f.problems))
        try:
            sheets = self.sheets(wb)
            title = (wb.properties.title or "").strip()
            version = self.about(wb) if "About" in wb.sheetnames else None
        finally:
            wb.close()
        if root is not None:
            f.warn(Source(self.file, 0), "--root picks a framework in a Jekyll site; ignored for matrix-xlsx")
        if not sheets:
            if not f.failed:
                f.error(Source(self.file, 0), "no matrix sheet: expected a sheet with an 'Area' header cell and "
                                              "'Level N' header cells to its right")
            return ReadResult(None, tuple(f.problems))
        crafts: dict[str, list[_Sheet]] = {}
        for sheet in sheets:
            crafts.setdefault(sheet.craft, []).append(sheet)
        built = [self.craft(name, group) for name, group in crafts.items()]
        ids = unique_ids([c.id for c in built], [c.source for c in built], "craft", f)
        built = [replace(c, id=i) for c, i in zip(built, ids)]
        title = re.sub(r":\s*competency matrix$", "", title, flags=re.IGNORECASE) or self.path.stem
        framework = Framework(title=title, description="", permalink=None, crafts=tuple(built),
                              source=Source(self.file, 0), version=version)
        return ReadResult(framework, tuple(f.problems))

    def about(self, wb) -> str | None:
        for row in wb["About"].iter_rows(max_row=60, max_col=2, values_only=True):
            if row and _text(row[0]).strip().casefold() == "version" and len(row) > 1:
                return _text(row[1]).strip() or None
        return None

    # -- sheets -----------------------------------------------------------------------
    def sheets(self, wb) -> list[_Sheet]:
        out, cells = [], 0
        if len(wb.sheetnames) > MAX_SHEETS:
            self.findings.error(Source(self.file, 0), f"the workbook has {len(wb.sheetnames)} sheets, more than "
                                                      f"{MAX_SHEETS}")
            return []
        for ws in wb.worksheets:
            grid = []
            for r, row in enumerate(ws.iter_rows(min_row=1, max_row=MAX_ROWS + 1, max_col=MAX_COLS + 1,
                                                 values_only=True), 1):
                values = [_text(v) for v in row]
                if any(values) and (r > MAX_ROWS or len(values) > MAX_COLS and values[MAX_COLS]):
                    self.findings.error(self.at(ws.title), f"the sheet is larger than {MAX_ROWS} rows by "
                                                           f"{MAX_COLS} columns; not a matrix cfexport reads")
                    return []
                cells += sum(1 for v in values if v)
                if cells > MAX_CELLS:
                    self.findings.error(Source(self.file, 0), f"the workbook has more than {MAX_CELLS} cells")
                    return []
                long = next((c for c, v in enumerate(values, 1) if len(v) > MAX_CELL), None)
                if long:
                    self.findings.error(self.at(ws.title, r, long), f"the cell holds more than {MAX_CELL} characters")
                    values[long - 1] = ""
                grid.append(values[:MAX_COLS])
            sheet = self.matrix(ws.title, grid)
            if sheet is not None:
                out.append(sheet)
            else:
                self.findings.info(self.at(ws.title), "no 'Area' and 'Level N' header row: not a matrix sheet, "
                                                      "not read")
        return out

    def blocks(self, row: list[str]) -> list[_Block]:
        heads = [v.strip().casefold() for v in row]
        starts = [c for c, v in enumerate(heads, 1) if v == "area"]
        out = []
        for i, start in enumerate(starts):
            end = starts[i + 1] if i + 1 < len(starts) else len(heads) + 1
            block = _Block(start, None, None, {})
            for col in range(start + 1, end):
                head = " ".join(heads[col - 1].split())
                m = _LEVEL.match(head)
                if m:
                    block.levels[col] = int(m.group(1))
                elif head in _SCOPE:
                    block.scope_col = col
                elif head in _DEFINITION:
                    block.definition_col = col
            if block.levels:
                out.append(block)
        return out

    def matrix(self, name: str, grid: list[list[str]]) -> _Sheet | None:
        headers = [(r, self.blocks(row)) for r, row in enumerate(grid, 1)]
        headers = [(r, b) for r, b in headers if b]
        if not headers:
            return None
        craft, spec = name, None
        for row in grid[: headers[0][0] - 1]:
            texts = [squash(v) for v in row if squash(v)]
            texts = [t for t in texts if t.casefold() not in TODO_TEXTS | ABSENT_TEXTS | {PARTLY_TODO, NO_DEFINITION,
                                                                                             "legend"}]
            if texts:
                craft, _, spec = texts[0].partition(_TITLE_SEP)
                craft, spec = craft.strip() or name, spec.strip() or None
                break
        sheet = _Sheet(name, craft, spec)
        for n, (r, blocks) in enumerate(headers):
            last = headers[n + 1][0] - 1 if n + 1 < len(headers) else len(grid)
            for block in blocks:
                self.read_block(sheet, grid, r, last, block)
        return sheet

    def read_block(self, sheet: _Sheet, grid, header: int, last: int, block: _Block) -> None:
        f = self.findings
        for col, number in block.levels.items():
            m = _LEVEL.match(" ".join(grid[header - 1][col - 1].split()))
            level_name = squash(m.group(2) or m.group(3) or "")
            cell = f"{_column(col)}{header}"
            if number in sheet.levels:
                other = sheet.levels[number]
                if other[1] != cell:
                    f.error(self.at(sheet.name, header, col), f"a second column for level {number} (the other is "
                                                              f"{other[1]}); keep one")
                continue
            sheet.levels[number] = (level_name, cell)
        for r in range(header + 1, last + 1):
            row = grid[r - 1]
            get = lambda c: row[c - 1] if c and c <= len(row) else ""  # noqa: E731
            area = squash(get(block.area_col))
            filled = [c for c in block.levels if get(c).strip()]
            if not area:
                if filled:
                    f.error(self.at(sheet.name, r, filled[0]), "a row with statements but no area; name the area "
                                                               f"in column {_column(block.area_col)}")
                continue
            entry = sheet.rows.get(area)
            if entry is None:
                definition = paragraphs(get(block.definition_col))
                entry = sheet.rows[area] = {"cell": (r, block.area_col), "scope": squash(get(block.scope_col)),
                                            "definition": "" if definition.casefold() == NO_DEFINITION else definition,
                                            "levels": {}}
            for col in block.levels:
                number = block.levels[col]
                if number in entry["levels"]:
                    first = entry["levels"][number][0]
                    f.error(self.at(sheet.name, r, block.area_col), f"two rows for the area '{area}' at level "
                            f"{number} (the other is {_column(first[1])}{first[0]}); keep one")
                    continue
                entry["levels"][number] = ((r, col), self.cell(sheet.name, r, col, get(col)))

    def cell(self, sheet: str, r: int, col: int, text: str):
        """A level cell: None (absent), "todo", or the statements."""
        lines = [squash(_BULLET.sub("", line)) for line in text.split("\n")]
        lines = [line for line in lines if line]
        if not lines or (len(lines) == 1 and lines[0].casefold() in ABSENT_TEXTS):
            return None
        if len(lines) == 1 and lines[0].casefold() in TODO_TEXTS:
            return "todo"
        if lines[-1].casefold() == PARTLY_TODO:
            self.findings.info(self.at(sheet, r, col), "'Partly not yet defined (TODO)' is not read: the statements "
                                                       "above it are")
            lines = lines[:-1]
        source = self.at(sheet, r, col)
        return tuple(Statement(line, source) for line in lines)

    # -- sheets into crafts -------------------------------------------------------------
    def craft(self, title: str, sheets: list[_Sheet]) -> Craft:
        f = self.findings
        specs = [s.specialism for s in sheets if s.specialism]
        for s in sheets:
            for entry in s.rows.values():
                scope = entry["scope"]
                if scope.casefold() not in SHARED and scope not in specs:
                    specs.append(scope)
        spec_sheets = [s for s in sheets if s.specialism]
        # areas: title -> (specialism, sheet, entry), in sheet order
        areas: dict[str, tuple[str | None, _Sheet, dict]] = {}
        for s in sheets:
            for area, entry in s.rows.items():
                scope = entry["scope"]
                if scope:
                    spec = None if scope.casefold() in SHARED else scope
                elif s.specialism and len(spec_sheets) > 1:
                    spec = None if all(area in o.rows for o in spec_sheets) else s.specialism
                else:
                    spec = None
                if area not in areas:
                    areas[area] = (spec, s, entry)
                elif entry["definition"] and areas[area][2]["definition"] and \
                        entry["definition"] != areas[area][2]["definition"]:
                    r, c = entry["cell"]
                    f.warn(self.at(s.name, r, c), f"the area '{area}' is defined differently on sheet "
                                                  f"'{areas[area][1].name}'; that definition is read")
        ordered = sorted(areas.items(), key=lambda kv: kv[1][0] is not None)  # shared areas first
        ids = unique_ids([slugify(a) or "area" for a, _ in ordered],
                         [self.at(s.name, *e["cell"]) for _, (_, s, e) in ordered], "area", f)
        model_areas = tuple(Area(i, a, e["definition"], spec, self.at(s.name, *e["cell"]))
                            for i, (a, (spec, s, e)) in zip(ids, ordered))
        levels = self.levels(title, sheets)
        built = []
        for number, (name, source) in levels:
            expectations = []
            for want in [None, *specs]:
                for area, (spec, _, _) in zip(model_areas, [v for _, v in ordered]):
                    expectations += self.expect(sheets, area, spec, want, number)
            label = f"Level {number} ({name})" if name else f"Level {number}"
            built.append(Level(number=number, name=name, title=label, heading=label, permalink=None,
                               illustrative=False, expectations=tuple(expectations), source=source))
        check_coverage(model_areas, built, f, severity="info", hint="its cell is empty or 'Not described'")
        first = sheets[0]
        return Craft(id=slugify(title) or "craft", title=title, description="", permalink=None, areas=model_areas,
                     specialisms=tuple(specs), specialism_ids=unique_ids([slugify(s) or "specialism" for s in specs],
                                                                         [self.at(first.name)] * len(specs),
                                                                         "specialism", f),
                     levels=tuple(built), source=self.at(first.name))

    def levels(self, title: str, sheets: list[_Sheet]) -> list[tuple[int, tuple[str, Source]]]:
        found: dict[int, tuple[str, str, str]] = {}
        for s in sheets:
            for number, (name, cell) in s.levels.items():
                if number in found and name != found[number][0]:
                    other = found[number]
                    self.findings.error(Source(f"{self.file}!{_quote(s.name)}!{cell}", 0),
                                        f"level {number} of '{title}' is named '{name}' here and '{other[0]}' on "
                                        f"sheet '{other[1]}' ({other[2]}); use one name")
                found.setdefault(number, (name, s.name, cell))
        return [(n, (v[0], Source(f"{self.file}!{_quote(v[1])}!{v[2]}", 0))) for n, v in sorted(found.items())]

    def expect(self, sheets: list[_Sheet], area: Area, spec: str | None, want: str | None, number: int):
        """The expectations of one area at one level for `want` (None: shared)."""
        cells = [(s, s.rows[area.title]["levels"][number]) for s in sheets
                 if area.title in s.rows and number in s.rows[area.title]["levels"]]
        cells = [(s, rc, value) for s, (rc, value) in cells if value is not None]
        if spec is not None:  # a specialism's area: its own sheets (or any sheet that has the row)
            if want != spec:
                return []
            mine = [c for c in cells if c[0].specialism in (spec, None)]
            return [self.expectation(area, spec, *mine[0])] if mine else []
        spec_cells = [c for c in cells if c[0].specialism]
        plain = [c for c in cells if not c[0].specialism]
        if plain or not spec_cells:
            return [self.expectation(area, None, *plain[0])] if want is None and plain else []
        values = {repr(_texts(c[2])) for c in spec_cells}
        everywhere = {c[0].specialism for c in spec_cells} >= {s.specialism for s in sheets if s.specialism
                                                                and area.title in s.rows}
        if len(values) == 1 and everywhere:  # the same on every sheet: shared
            return [self.expectation(area, None, *spec_cells[0])] if want is None else []
        return [self.expectation(area, want, *c) for c in spec_cells if c[0].specialism == want] if want else []

    def expectation(self, area: Area, spec: str | None, sheet: _Sheet, rc, value) -> Expectation:
        source = self.at(sheet.name, *rc)
        if value == "todo":
            self.findings.warn(source, f"'{area.title}' is TODO: not yet defined at this level", "todo")
            return Expectation(area.id, area.title, spec, (), True, source)
        return Expectation(area.id, area.title, spec, value, False, source)


def _texts(value):
    return value if value == "todo" else tuple(s.text for s in value)
