"""Promotion pack requests: who moves from which level of which role to which, checked
against the framework (`resolve`, `plan`), from the command line or from a round's CSV
(`read_people`: UTF-8 or UTF-16, commas, semicolons or tabs, as spreadsheets save it).

A round is a CSV of people; every row is checked before anything is written. Two requests
are the same pack when the person, manager, role and levels are (`Pack.identity`).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from cfexport.model import Framework, Problem, Role, Source
from cfexport.slugs import safe_file_name, slugify
from cfexport.csvfile import decode_csv, sniff_delimiter
from cfexport.text import DecodeError, clean, normalise

CSV_HEADER = ["person", "role", "current_level", "target_level", "manager"]
MAX_CSV_BYTES = 10 * 1024 * 1024  # a round is a list of people: far below this
MAX_ROWS = 10_000
MAX_NAME = 200  # characters of a person's or a manager's name: a longer one is a paragraph pasted in the wrong cell


class PackError(Exception):
    """A request that cannot become a pack; the message says what the valid choices are."""


@dataclass(frozen=True, slots=True)
class PackRequest:
    person: str
    track: str  # craft/specialism id as `cfexport list` prints it
    current: int
    target: int
    manager: str | None = None
    source: Source | None = None  # the CSV file and line, when it came from one


@dataclass(frozen=True, slots=True)
class Pack:
    """A checked request: the two roles, and the folder it goes to (`stem`, or `stem-2`,
    `stem-3`... when another pack has `stem`; chosen by `assign_folders` when writing)."""

    request: PackRequest
    current: Role
    target: Role
    stem: str
    folder: str = ""

    def record(self) -> dict:
        """What makes this pack this pack (the start of its `pack.json`)."""
        req = self.request
        return {"person": req.person, "manager": req.manager, "role": self.current.track_id,
                "current": req.current, "target": req.target}

    def identity(self) -> tuple:
        return _identity(self.record())


def tracks(framework: Framework) -> dict[str, tuple]:
    """Every role id a pack takes (`craft/specialism`, or `craft` without specialisms)."""
    return {c.track_id(s): (c, s) for c in framework.crafts for s in c.tracks()}


def resolve(framework: Framework, track: str, current: int, target: int,
            known: dict[str, tuple] | None = None, current_label: str = "--from") -> tuple[Role, Role]:
    """The current and target roles, or a PackError naming the valid ids and levels.
    `track` is a role id without a level (`craft/specialism`), a specialism's own id if
    unambiguous, or a role id with its level (`craft/specialism/5`) when that level is the
    current one. `known` is `tracks(framework)` when the caller checks many requests;
    `current_label` names the current level in messages (`--from`, `current_level`)."""
    known = known if known is not None else tracks(framework)
    key = track.strip().strip("/")
    level = None
    if key not in known:  # a role id with its level, or a specialism's own id, if unambiguous
        head, _, tail = key.rpartition("/")
        base = key
        if head and tail.isascii() and tail.isdigit():
            base, level = head, int(tail)
        matches = [t for t in known if t == base or t.endswith("/" + slugify(base))]
        if len(matches) != 1:
            raise PackError(f"unknown role '{track}'; roles are: {', '.join(known)} (see `cfexport list`)")
        key = matches[0]
    if level is not None and level != current:
        raise PackError(f"role id '{track}' names level {level} but {current_label} is {current}; pass the role "
                        f"without its level ({key}) or make them agree")
    craft, specialism = known[key]
    numbers = [lv.number for lv in craft.levels]
    for label, n in (("current", current), ("target", target)):
        if n not in numbers:
            raise PackError(f"{label} level {n} does not exist for '{key}'; levels are: "
                            f"{', '.join(map(str, numbers))}")
    if target <= current:
        raise PackError(f"target level {target} is not above the current level {current}")
    return Role(craft, specialism, craft.level(current)), Role(craft, specialism, craft.level(target))


def plan(framework: Framework, requests: list[PackRequest],
         problems: list[Problem] | None = None) -> tuple[list[Pack], list[Problem]]:
    """Check every request; returns the packs and one error per bad request (with its CSV line).
    Two rows for the same pack (person, manager, role and levels) are an error on the later one.
    Two rows alike but for the manager are two packs (namesakes are told apart by their manager),
    with a warning added to `problems` (a manager's name mistyped on one row is the likelier case)."""
    packs, errors, seen = [], [], {}
    managers: dict[tuple, PackRequest] = {}
    known = tracks(framework)
    roles: dict[tuple, Role] = {}  # one object per role for the whole round, not two per pack
    for req in requests:
        where = req.source or Source("--role", 1)
        if not req.person.strip():
            errors.append(Problem("error", where, "person is empty"))
            continue
        try:
            current, target = resolve(framework, req.track, req.current, req.target, known,
                                      "current_level" if req.source else "--from")
        except PackError as exc:
            errors.append(Problem("error", where, str(exc)))
            continue
        current, target = (roles.setdefault((id(r.craft), r.specialism, r.level.number), r) for r in (current, target))
        stem = f"{safe_file_name(req.person, 60)}-{safe_file_name(current.track_id.replace('/', '-'))}" \
               f"-level-{req.current}-to-{req.target}"
        pack = Pack(req, current, target, stem)
        first = seen.setdefault(pack.identity(), where)
        if first is not where:
            errors.append(Problem("error", where, f"same person, role and levels as line {first.line}; remove one"))
            continue
        other = managers.setdefault(pack.identity()[:1] + pack.identity()[2:], req)
        if other is not req and problems is not None and other.source and req.source:
            problems.append(Problem("warning", where, f"{req.person} has the same role and levels as on line "
                                    f"{other.source.line}, with another manager ('{req.manager or ''}', not "
                                    f"'{other.manager or ''}'): two packs, as for two people of one name; if it "
                                    "is one person, correct the manager's name"))
        packs.append(pack)
    return packs, errors


def read_people(path: Path, problems: list[Problem] | None = None) -> tuple[list[PackRequest], list[Problem]]:
    """The rows of a round's CSV, and one message per bad row naming its line. Characters no
    document can hold are dropped from the cells, with a warning added to `problems`.

    The file is what a spreadsheet saves: UTF-8 with or without a BOM, or UTF-16 with a BOM
    (Excel's "Unicode Text"); separated by commas, semicolons (Excel where the list separator
    is `;`) or tabs, as the header line shows; lines ending in CRLF, LF or CR; empty columns
    after the last one are ignored."""
    file = str(path)

    def error(line: int, message: str) -> tuple[list[PackRequest], list[Problem]]:
        return [], [Problem("error", Source(file, line), message)]

    try:
        with open(path, "rb") as f:
            data = f.read(MAX_CSV_BYTES + 1)
    except OSError as exc:
        return error(1, f"cannot read the file: {exc.strerror or exc}")
    if len(data) > MAX_CSV_BYTES:
        return error(1, f"the file is larger than {MAX_CSV_BYTES // 2**20} MiB; a round's CSV is one line per "
                        "person (is this the right file?)")
    for magic, what in _NOT_CSV:
        if data.startswith(magic):
            return error(1, f"this is {what}, not a CSV; save it as CSV UTF-8 (in Excel: File > Save As > "
                            "CSV UTF-8; in LibreOffice: File > Save As > Text CSV)")
    try:
        # lines end in CRLF (Windows), LF, or CR alone (Excel for Mac's "Comma Separated Values")
        text = decode_csv(data).replace("\r\n", "\n").replace("\r", "\n")
    except DecodeError as exc:
        return error(exc.line, exc.message)
    if not text.lstrip("\ufeff").strip():  # (an empty sheet saved as CSV UTF-8 is its byte-order mark alone)
        return error(1, f"the file is empty; it needs the header line {','.join(CSV_HEADER)} and a line per person")
    delimiter = sniff_delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    try:
        header = _trim(next(reader, None) or [])
    except csv.Error as exc:
        return error(1, f"cannot read the header as CSV: {exc}")
    if [h.strip().lower() for h in header] != CSV_HEADER:
        found = delimiter.join(header)
        return error(1, f"the header must be: {','.join(CSV_HEADER)} (separated by commas, semicolons or tabs); "
                        + (f"found: {found!r}" if found.strip() else "found an empty line"))
    requests, errors = [], []
    problems = problems if problems is not None else []
    shared: dict[str, str] = {}  # one copy of each role and manager, which most rows repeat
    rows = 0
    while True:
        try:
            row = next(reader, None)
        except csv.Error as exc:
            errors.append(Problem("error", Source(file, reader.line_num), f"cannot read this line as CSV: {exc}"))
            break
        if row is None:
            break
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        rows += 1
        if rows > MAX_ROWS:
            errors.append(Problem("error", Source(file, line), f"more than {MAX_ROWS:,} people in one round; "
                                  "split the file into smaller rounds"))
            return [], errors
        row = _trim(row, len(CSV_HEADER))
        if len(row) != len(CSV_HEADER):
            errors.append(Problem("error", Source(file, line), f"expected {len(CSV_HEADER)} columns "
                                  f"({','.join(CSV_HEADER)}), found {len(row)}"))
            continue
        person, track, cur, tgt, manager = (clean(normalise(c).strip(), Source(file, line), problems)
                                            for c in row)
        person, manager = (_one_line(name, Source(file, line), problems) for name in (person, manager))
        too_long = [(what, name) for what, name in (("person", person), ("manager", manager)) if len(name) > MAX_NAME]
        if too_long:
            errors.extend(Problem("error", Source(file, line), f"the {what}'s name is {len(name):,} characters long "
                                  f"('{name[:40]}...'); at most {MAX_NAME}: is it in the right column?")
                          for what, name in too_long)
            continue
        if not all(v.isascii() and v.isdigit() and len(v) <= 6 for v in (cur, tgt)):  # not int(): "5_0", "+5", "٥"
            errors.append(Problem("error", Source(file, line), "current_level and target_level must be "
                                  f"level numbers, not '{cur}' and '{tgt}'"))
            continue
        current, target = int(cur), int(tgt)
        track, manager = shared.setdefault(track, track), shared.setdefault(manager, manager)
        requests.append(PackRequest(person, track, current, target, manager or None, Source(file, line)))
    return requests, errors


# what people upload instead of the CSV: the workbook they typed the round into, or a document
_NOT_CSV = ((b"PK\x03\x04", "a zip file (an Excel .xlsx or LibreOffice .ods workbook, or a Word document?)"),
            (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 workbook (.xls) or another old Office file"),
            (b"%PDF-", "a PDF"))

_BREAKS = re.compile("[ ]*[\n\r\t\v\f\x85\u2028\u2029][\n\r\t\v\f\x85\u2028\u2029 ]*")


def _one_line(name: str, source: Source, problems: list[Problem]) -> str:
    """A name on one line: a spreadsheet cell may hold line breaks (Alt+Enter, a quoted CSV field
    over several lines), which would break a document's title, its header and the round's index.
    They become spaces, with a warning (the pack is the same person's: names are compared with
    their spacing aside)."""
    if not _BREAKS.search(name):
        return name
    one = _BREAKS.sub(" ", name).strip()
    problems.append(Problem("warning", source, f"the name '{one}' was written over several lines in the file; "
                                               "it is used on one line"))
    return one


def _trim(row: list[str], keep: int = 0) -> list[str]:
    """`row` without the empty cells a spreadsheet adds after the last column (`,,`)."""
    row = list(row)
    while len(row) > keep and not row[-1].strip():
        row.pop()
    return row


# --- which pack is which ----------------------------------------------------------------------------------------------

def _norm(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFC", text or "").split()).casefold()


def _identity(record: dict) -> tuple:
    """Person, manager, role and levels; names compared as people read them (case and spacing aside)."""
    return (_norm(record.get("person")), _norm(record.get("manager")), record.get("role"),
            record.get("current"), record.get("target"))
