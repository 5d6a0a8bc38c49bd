"""A returned self-assessment or promotion case, read back.

Nothing here relies on cell addresses or paragraph numbers (the layouts change): the
self-assessment's table is found by its header texts and its rows are matched to the
pack's statements by the hash of their text (then by their number, then by order); the
promotion case's evidence tables by their header row, each under its area's heading, and
the manager's summary by its heading. Formulas are never evaluated: a cell gives its
cached value, or else its formula as text. A document that fails any `guard` check is
never opened by openpyxl or python-docx.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone

from cfexport.collect import guard
from cfexport.collect.inputs import Candidate, Skipped
from cfexport.collect.provenance import (PROMOTION_CASE, SELF_ASSESSMENT, XLSX_COLUMNS, ProvenanceError, parse,
                                         read_custom, text_hash)
from cfexport.exporters.matrix import ABSENT_TEXT, NOTHING_TO_RATE, TODO_TEXT

MAX_ROWS = 5000  # rows read below the self-assessment's header
MAX_HEADER_ROW = 200
MAX_TEXT = 2000  # characters of a returned text kept in the summary


@dataclass
class Rated:
    """One statement as the returned self-assessment has it."""

    self: str | None = None  # a label of the rating scale, or None
    manager: str | None = None
    evidence: str = ""
    notes: str = ""


@dataclass
class Returned:
    """One returned document of a pack: what it says, and what was wrong with it."""

    where: str
    kind: str  # self-assessment | promotion-case
    record: dict
    modified: datetime | None
    error: str | None = None  # the document could not be read (its pack is still known)
    rated: dict[str, Rated] = field(default_factory=dict)  # statement id -> ratings
    edited: list[dict] = field(default_factory=list)  # {"id", "no", "area", "text"}
    unknown: list[dict] = field(default_factory=list)  # {"id", "who", "value"}
    missing: list[str] = field(default_factory=list)  # statement ids not found
    evidence: dict[str, int] = field(default_factory=dict)  # area id -> filled evidence rows
    summary: dict[str, str] = field(default_factory=dict)  # manager's summary: label -> text
    notes: list[str] = field(default_factory=list)  # other findings, for the Problems sheet

    @property
    def filled(self) -> int:
        """How much was filled in (breaks a tie between two copies of the same age)."""
        return (sum(bool(r.self) + bool(r.manager) + bool(r.evidence) + bool(r.notes) for r in self.rated.values())
                + sum(self.evidence.values()) + sum(bool(v) for v in self.summary.values()))


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def read(candidate: Candidate, ratings: tuple[str, ...]) -> Returned | Skipped:
    """The document in `candidate`, or why it was skipped. Never raises for a bad file."""
    try:
        pkg = guard.check_office(candidate.data, candidate.name)
    except guard.Refused as exc:
        return Skipped(candidate.where, exc.kind, exc.reason)
    if pkg.custom is None and pkg.core and (b"cfexport round index" in pkg.core
                                            or b"cfexport round summary" in pkg.core):
        return Skipped(candidate.where, "cfexport file", "a round index or summary cfexport wrote")
    if pkg.custom is None:
        return Skipped(candidate.where, "not a pack", "no pack id in its document properties: not a document "
                                                      "of a cfexport pack")
    try:
        rec = parse(read_custom(pkg.custom))
    except ProvenanceError as exc:
        return Skipped(candidate.where, "not a pack", str(exc))
    except Exception as exc:  # a custom.xml that parses but is not what it claims
        return Skipped(candidate.where, "not a pack", f"its document properties cannot be read ({exc})")
    expected = {"xlsx": SELF_ASSESSMENT, "docx": PROMOTION_CASE}[pkg.kind]
    if rec["document"] != expected:
        return Skipped(candidate.where, "not a pack", f"its pack record is a {rec['document']}'s but the file is "
                                                      f"a {pkg.kind}")
    doc = Returned(candidate.where, expected, rec, _modified(pkg.core, candidate.mtime))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl's notes on extensions it does not read
            if pkg.kind == "xlsx":
                _read_xlsx(doc, pkg.data, ratings)
            else:
                _read_docx(doc, pkg.data)
    except Exception as exc:  # a damaged document that passed the checks: its pack is known, its content not
        # what to do first; the library's words last, for whoever looks into it
        what = {"xlsx": "workbook", "docx": "document"}[pkg.kind]
        doc.error = (f"cannot be read: the {what} is damaged, or was written by a program cfexport cannot "
                     f"read; open it in Office or LibreOffice, save it again and collect again, or ask for it "
                     f"again (detail: "
                     f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]})")
    return doc


def _modified(core: bytes | None, mtime: float | None) -> datetime | None:
    """The document's own modified time (core properties), else the file's."""
    if core:
        try:
            root = guard.parse_xml(core, "docProps/core.xml")
            for el in root:
                if el.tag == "{http://purl.org/dc/terms/}modified" and el.text:
                    when = datetime.fromisoformat(el.text.strip().replace("Z", "+00:00"))
                    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
        except (guard.Refused, ValueError):
            pass
    return datetime.fromtimestamp(mtime, timezone.utc) if mtime is not None else None


# --- the self-assessment -------------------------------------------------------------------------------------------

def _read_xlsx(doc: Returned, data: bytes, ratings: tuple[str, ...]) -> None:
    import openpyxl

    rec = doc.record
    columns = {**XLSX_COLUMNS, **{k: v for k, v in (rec.get("columns") or {}).items() if isinstance(v, str)}}
    values = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    formulas = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        tables = []  # (sheet name, its rows) of every sheet with the table: a person may fill in a copy of it
        for sheet, header, cols in _find_headers(values, columns):
            rows_v = values[sheet].iter_rows(min_row=header + 1, max_row=header + MAX_ROWS, values_only=True)
            rows_f = formulas[sheet].iter_rows(min_row=header + 1, max_row=header + MAX_ROWS, values_only=True)
            tables.append((sheet, [{k: _text(_cell(rv, c) if _cell(rv, c) is not None else _cell(rf, c))
                                    for k, c in cols.items()} for rv, rf in zip(rows_v, rows_f)]))
    finally:
        values.close()
        formulas.close()
    if not tables:
        doc.error = (f"no table with the columns {columns['statement']!r}, {columns['self']!r} and "
                     f"{columns['manager']!r} was found")
        return
    # the most filled in (the Self-assessment sheet on a tie)
    sheet, rows = max(tables, key=lambda t: sum(bool(r.get(k)) for r in t[1] for k in _FILLED))
    others = [name for name, rows_ in tables if name != sheet and any(r.get(k) for r in rows_ for k in _FILLED)]
    if others:
        doc.notes.append(f"the sheets {', '.join(repr(n) for n in [sheet, *others])} each hold ratings or evidence; "
                         f"'{sheet}', the most filled in, is read")
    _match_rows(doc, rows, ratings)


def _cell(row: tuple, col: int):
    return row[col] if col < len(row) else None


_FILLED = ("self", "manager", "evidence", "notes")


def _find_headers(wb, columns: dict[str, str]) -> list[tuple[str, int, dict[str, int]]]:
    """(sheet name, header row, {column key: 0-based index}) of each sheet whose table has the
    statement and both rating columns; the Self-assessment sheet first."""
    wanted = {_key(v): k for k, v in columns.items()}
    sheets = sorted(wb.sheetnames, key=lambda n: n != "Self-assessment")
    found = []
    for name in sheets:
        for r, row in enumerate(wb[name].iter_rows(max_row=MAX_HEADER_ROW, values_only=True), 1):
            cols = {}
            for c, value in enumerate(row):
                k = wanted.get(_key(_text(value)))
                if k and k not in cols:
                    cols[k] = c
            if {"statement", "self", "manager"} <= set(cols):
                found.append((name, r, cols))
                break
    return found


_NOTHING_TO_RATE = frozenset(why + NOTHING_TO_RATE for why in (TODO_TEXT, ABSENT_TEXT))


def _match_rows(doc: Returned, rows: list[dict], ratings: tuple[str, ...]) -> None:
    """Rows to statements: by text hash, else by the No. column, else in order; the
    ratings checked against the scale."""
    statements = doc.record["statements"]
    by_hash: dict[str, list[dict]] = {}
    for s in statements:
        by_hash.setdefault(s["sha256"], []).append(s)
    by_no = {s["no"]: s for s in statements}
    taken: set[str] = set()
    matched: list[tuple[dict, dict, bool]] = []  # (statement, row, edited)
    unplaced: list[dict] = []
    for row in rows:
        text = row.get("statement", "")
        hit = next((s for s in by_hash.get(text_hash(text), ()) if s["id"] not in taken), None) if text else None
        edited = False
        if hit is None and row.get("number", "").isdigit():
            cand = by_no.get(int(row["number"]))
            if cand is not None and cand["id"] not in taken and text:
                hit, edited = cand, True
        if hit is None:
            # (a row saying there is nothing to rate, where a rating copied down the column lands: not a statement)
            if any(row.get(k) for k in _FILLED) and text not in _NOTHING_TO_RATE:
                unplaced.append(row)
            continue
        taken.add(hit["id"])
        matched.append((hit, row, edited))
    left = [s for s in statements if s["id"] not in taken]
    for s, row in zip(left, unplaced):  # rows whose text and number both changed: in order
        taken.add(s["id"])
        matched.append((s, row, True))
    for row in unplaced[len(left):]:
        doc.notes.append(f"a row that matches no statement holds ratings or evidence: {_cut(row.get('statement', ''))!r}")
    scale = {_key(r): r for r in ratings}
    for s, row, edited in matched:
        rated = Rated(evidence=_cut(row.get("evidence", "")), notes=_cut(row.get("notes", "")))
        for who in ("self", "manager"):
            value = row.get(who, "")
            if not value:
                continue
            label = scale.get(_key(value))
            if label is None:
                doc.unknown.append({"id": s["id"], "no": s["no"], "who": who, "value": _cut(value)[:200]})
            else:
                setattr(rated, who, label)
        doc.rated[s["id"]] = rated
        if edited:
            doc.edited.append({"id": s["id"], "no": s["no"], "area": s["area"], "text": _cut(row.get("statement", ""))})
    doc.missing = [s["id"] for s in statements if s["id"] not in taken]


# --- the promotion case --------------------------------------------------------------------------------------------

def _blocks(body):
    """Paragraphs and tables of a body in order, looking inside content controls (w:sdt)."""
    from docx.oxml.ns import qn

    for child in body.iterchildren():
        if child.tag == qn("w:p"):
            yield "p", child
        elif child.tag == qn("w:tbl"):
            yield "t", child
        elif child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from _blocks(content)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# what a paragraph holds that is not its text as shown with every tracked change accepted: deleted
# and moved-away runs, and text boxes (drawn over the page, and written twice: DrawingML and VML)
_NOT_SHOWN = frozenset(_W + t for t in ("del", "moveFrom", "txbxContent", "pPr", "rPr"))
_SPACING = {_W + "tab": "\t", _W + "br": "\n", _W + "cr": "\n"}


def _paragraph_text(p) -> str:
    """A paragraph's text with every tracked change accepted, as Word shows it in "No Markup":
    runs directly in the paragraph and inside insertions (w:ins), moves (w:moveTo), hyperlinks,
    fields, smart tags and content controls; never deleted text (w:del, w:moveFrom). (python-docx's
    own `text` reads only the runs and hyperlinks directly in the paragraph, so what a manager typed
    with Track Changes on was lost.)"""
    out: list[str] = []

    def walk(el) -> None:
        for child in el:
            tag = child.tag
            if not isinstance(tag, str) or tag in _NOT_SHOWN:
                continue
            if tag == _W + "t":
                out.append(child.text or "")
            elif tag in _SPACING:
                out.append(_SPACING[tag])
            else:
                walk(child)

    walk(p)
    return "".join(out)


def _cell_text(tc) -> str:
    """The text of a table cell: its paragraphs (also those in a content control), as
    `_paragraph_text` reads them; a table nested in the cell is not part of it."""
    paragraphs = [text for kind, el in _blocks(tc) if kind == "p" for text in [_paragraph_text(el)]]
    return "\n".join(paragraphs)


def _table_rows(tbl, document) -> list[list[str]]:
    from docx.table import Table

    rows = []
    for row in Table(tbl, document).rows:
        seen, cells = set(), []
        for cell in row.cells:
            if id(cell._tc) not in seen:  # a merged cell appears once per grid column
                seen.add(id(cell._tc))
                cells.append(_cell_text(cell._tc).strip())
        rows.append(cells)
    return rows


def _read_docx(doc: Returned, data: bytes) -> None:
    import docx

    rec = doc.record
    labels = rec.get("labels") or {}
    columns = [_key(c) for c in labels.get("evidence_columns") or ["Example", "Impact", "Link"]]
    summary_label = _key(labels.get("summary") or "Manager's summary")
    summary_rows = {_key(r) for r in labels.get("summary_rows") or []}
    areas = rec["areas"]
    titles: dict[str, list[str]] = {}
    for a in areas:
        titles.setdefault(_key(a["title"]), []).append(a["id"])
    document = docx.Document(io.BytesIO(data))
    area, after_summary, tables = None, False, 0
    used: set[str] = set()
    summary_table = None
    for kind, el in _blocks(document.element.body):
        if kind == "p":
            text = _key(_paragraph_text(el))
            if text in titles:
                area = next((a for a in titles[text] if a not in used), None)
            elif text == summary_label:
                after_summary, area = True, None
            continue
        rows = _table_rows(el, document)
        if rows and [_key(c) for c in rows[0][: len(columns)]] == columns:
            if area is None or area in used:  # no heading before it: the tables' order says which area
                area = next((a["id"] for a in areas[tables:] if a["id"] not in used), None)
            tables += 1
            if area is not None:
                used.add(area)
                doc.evidence[area] = doc.evidence.get(area, 0) + sum(1 for r in rows[1:] if any(r))
            area = None
        elif summary_table is None and (after_summary or (
                summary_rows and len({_key(r[0]) for r in rows if r} & summary_rows) * 2 >= len(summary_rows))):
            summary_table = rows
    if not tables:
        doc.notes.append("no evidence table was found (their header row " + ", ".join(labels.get("evidence_columns")
                         or []) + " is missing)")
    for a in areas:
        doc.evidence.setdefault(a["id"], 0)
    if summary_table is None:
        doc.notes.append("the manager's summary was not found")
    else:
        for row in summary_table:
            if len(row) >= 2 and row[0]:
                doc.summary[row[0]] = _cut(" ".join(c for c in row[1:] if c))
