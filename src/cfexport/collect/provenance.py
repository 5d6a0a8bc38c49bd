"""What a pack's documents were made from, written into the documents themselves.

Every promotion case and self-assessment a pack writes carries an OOXML custom-properties
part (`docProps/custom.xml`, File > Properties > Custom in Word, Excel and LibreOffice)
that says which pack it belongs to and what it was made from: the pack id, person,
manager, role, levels, framework version, and for each statement of the target level its
id and a hash of its text. So `cfexport collect` matches a returned file to its pack
whatever the file is called, and never guesses from file names.

The properties (all `vt:lpwstr`, ASCII, each at most 255 characters: the limit Office's
property dialogs keep):

- `cfexport.pack.id`      the pack id, readable on its own
- `cfexport.pack.format`  the format of the record (1)
- `cfexport.pack.parts`   how many parts the record has
- `cfexport.pack.sha256`  the SHA-256 of the whole record (a cut or edited record is refused)
- `cfexport.pack.1` ...   the record: compact JSON (ASCII, \\u escapes), cut into parts

This module only adds a part to finished bytes: the exporters are not touched, and the
bytes stay reproducible (fixed zip dates, as the exporters write them).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import unicodedata
import zipfile
from datetime import datetime
from xml.sax.saxutils import escape, quoteattr

from cfexport.ids import statement_ids
from cfexport.model import Craft, Framework, Level, Role

FORMAT = 1
PREFIX = "cfexport.pack"
PART_CHARS = 240
MAX_PARTS = 400  # about 96,000 characters: far above any pack's record
CUSTOM_PART = "docProps/custom.xml"
CUSTOM_TYPE = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
CUSTOM_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
CUSTOM_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"  # the one format id of user-defined properties

# The self-assessment's column headers collect looks for (recorded in each workbook, so a
# later rename of a header does not orphan the packs already sent out).
XLSX_COLUMNS = {"statement": "Statement", "number": "No.", "area": "Area", "self": "Self rating",
                "manager": "Manager rating", "evidence": "Evidence", "notes": "Notes"}
SELF_ASSESSMENT, PROMOTION_CASE = "self-assessment", "promotion-case"
DOCUMENTS = {"self-assessment.xlsx": SELF_ASSESSMENT, "promotion-case.docx": PROMOTION_CASE}


class ProvenanceError(Exception):
    """The document's record is missing, cut or not one cfexport wrote."""


# --- ids -----------------------------------------------------------------------------------------------------------

def _norm_name(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFC", text or "").split()).casefold()


def pack_id(person: str, manager: str | None, role: str, current: int, target: int) -> str:
    """A pack's id: the same for the same person, manager, role and levels (names compared as
    people read them, as `pack.json` does), whatever the framework version or the run."""
    key = json.dumps([_norm_name(person), _norm_name(manager), role, int(current), int(target)], ensure_ascii=True)
    return "pk-" + hashlib.sha256(key.encode("ascii")).hexdigest()[:20]


def text_hash(text: str) -> str:
    """SHA-256 of a statement's text as people read it: Unicode NFC, white space collapsed."""
    return hashlib.sha256(" ".join(unicodedata.normalize("NFC", text).split()).encode("utf-8")).hexdigest()


def level_statement_ids(craft: Craft, level: Level) -> dict[int, str]:
    """`id(statement)` -> its statement id, for every statement of one level page: the stable
    ids framework.json and `changes` use (`cfexport.ids`), so one id means one statement
    everywhere."""
    out: dict[int, str] = {}
    for exp in level.expectations:
        for statement, sid in zip(exp.statements, statement_ids(craft, level, exp)):
            out[id(statement)] = sid
    return out


def framework_statements(framework: Framework) -> dict[str, str]:
    """Every statement id of a framework -> the hash of its text (to match packs of another version by id)."""
    out = {}
    for craft in framework.crafts:
        for level in craft.levels:
            ids = level_statement_ids(craft, level)
            for exp in level.expectations:
                for s in exp.statements:
                    out[ids[id(s)]] = text_hash(s.text)
    return out


# --- the record ------------------------------------------------------------------------------------------------------

def record(framework: Framework, current: Role, target: Role, person: str, manager: str | None, context,
           document: str, changes: tuple | None = None) -> dict:
    """What one document of a pack was made from (`document`: self-assessment or promotion-case).
    `changes`: `compare(current, target)` of these very roles, when the caller has it already."""
    from cfexport.compare import compare
    from cfexport.exporters.spreadsheet import settings as xlsx_settings
    from cfexport.exporters.word_template import settings as word_settings

    ids = level_statement_ids(target.craft, target.level)
    statements, areas, number = [], [], 0
    for change in compare(current, target) if changes is None else changes:
        areas.append({"id": change.area_id, "title": change.area_title})
        if not change.target:
            continue
        for ch in change.changes:
            number += 1
            statements.append({"id": ids.get(id(ch.statement), f"?/{change.area_id}/{number}"),
                               "area": change.area_id, "no": number, "sha256": text_hash(ch.statement.text),
                               "new": ch.kind})
    rec = {
        "format": FORMAT,
        "pack_id": pack_id(person, manager, current.track_id, current.level.number, target.level.number),
        "document": document,
        "person": person,
        "manager": manager,
        "role": current.track_id,
        "role_title": current.specialism or current.craft.people_name,
        "current_level": current.level.number,
        "target_level": target.level.number,
        "framework": framework.title,
        "framework_version": context.version,
        "made": context.build_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "areas": areas,
        "statements": statements,
    }
    if document == SELF_ASSESSMENT:
        rec["ratings"] = list(xlsx_settings(context.templates).ratings)
        rec["columns"] = dict(XLSX_COLUMNS)
    else:
        labels = word_settings(context.templates).labels
        rec["labels"] = {"evidence_columns": list(labels["evidence_columns"]), "summary": labels["summary"],
                         "summary_rows": list(labels["summary_rows"])}
    return rec


def properties(rec: dict) -> dict[str, str]:
    """The custom properties that carry `rec`."""
    text = json.dumps(rec, ensure_ascii=True, separators=(",", ":"), sort_keys=True)
    parts = [text[i:i + PART_CHARS] for i in range(0, len(text), PART_CHARS)]
    if len(parts) > MAX_PARTS:
        raise ValueError(f"the pack's record is {len(text):,} characters long; at most {MAX_PARTS * PART_CHARS:,}")
    props = {f"{PREFIX}.id": rec["pack_id"], f"{PREFIX}.format": str(FORMAT), f"{PREFIX}.parts": str(len(parts)),
             f"{PREFIX}.sha256": hashlib.sha256(text.encode("ascii")).hexdigest()}
    props.update({f"{PREFIX}.{i}": part for i, part in enumerate(parts, 1)})
    return props


def parse(props: dict[str, str]) -> dict:
    """The record the properties carry, checked; a ProvenanceError says why not."""
    if f"{PREFIX}.id" not in props:
        raise ProvenanceError("no pack id in its document properties: not a document of a cfexport pack")
    try:
        n = int(props.get(f"{PREFIX}.parts", ""))
    except ValueError:
        raise ProvenanceError("its pack record is damaged (no part count)") from None
    if not 1 <= n <= MAX_PARTS:
        raise ProvenanceError("its pack record is damaged (bad part count)")
    missing = [i for i in range(1, n + 1) if f"{PREFIX}.{i}" not in props]
    if missing:
        raise ProvenanceError(f"its pack record is incomplete ({len(missing)} of {n} part(s) missing)")
    text = "".join(props[f"{PREFIX}.{i}"] for i in range(1, n + 1))
    if hashlib.sha256(text.encode("utf-8")).hexdigest() != props.get(f"{PREFIX}.sha256"):
        raise ProvenanceError("its pack record was cut or changed (checksum differs)")
    try:
        rec = json.loads(text)
    except ValueError:
        raise ProvenanceError("its pack record is not valid JSON") from None
    try:  # a lone surrogate (\\ud800) is valid JSON but no text a workbook or UTF-8 file can hold
        json.dumps(rec, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ProvenanceError("its pack record holds text that is not valid Unicode") from None
    if not _valid(rec) or rec["pack_id"] != props[f"{PREFIX}.id"]:
        raise ProvenanceError("its pack record is not one cfexport wrote")
    if rec["format"] != FORMAT:
        raise ProvenanceError(f"its pack record has format {rec['format']}; this cfexport reads format {FORMAT}")
    return rec


def _valid(rec) -> bool:
    if not isinstance(rec, dict):
        return False
    kinds = {"format": int, "pack_id": str, "document": str, "person": str, "role": str, "current_level": int,
             "target_level": int, "framework_version": str, "areas": list, "statements": list}
    if not all(isinstance(rec.get(k), t) for k, t in kinds.items()):
        return False
    if rec["document"] not in DOCUMENTS.values() or not isinstance(rec.get("manager"), (str, type(None))):
        return False
    ok_area = all(isinstance(a, dict) and isinstance(a.get("id"), str) and isinstance(a.get("title"), str)
                  for a in rec["areas"])
    ok_st = all(isinstance(s, dict) and isinstance(s.get("id"), str) and isinstance(s.get("area"), str)
                and isinstance(s.get("sha256"), str) and type(s.get("no")) is int and isinstance(s.get("new"), str)
                for s in rec["statements"])
    return ok_area and ok_st


# --- the part in the package -------------------------------------------------------------------------------------------

def custom_xml(props: dict[str, str]) -> bytes:
    lines = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
             f'<Properties xmlns="{CUSTOM_NS}" xmlns:vt="{VT_NS}">']
    for pid, (name, value) in enumerate(props.items(), 2):  # pid 0 and 1 are reserved
        lines.append(f'<property fmtid="{FMTID}" pid="{pid}" name={quoteattr(name)}>'
                     f"<vt:lpwstr>{escape(value)}</vt:lpwstr></property>")
    lines.append("</Properties>")
    return "".join(lines).encode("utf-8")


def read_custom(xml: bytes) -> dict[str, str]:
    """Name -> text of every text property of a custom.xml (parsed with defusedxml: no DTD, no entities)."""
    from defusedxml.ElementTree import fromstring

    root = fromstring(xml, forbid_dtd=True)
    out = {}
    for prop in root:
        if prop.tag != f"{{{CUSTOM_NS}}}property" or not prop.get("name"):
            continue
        value = next(iter(prop), None)
        if value is not None and value.tag in (f"{{{VT_NS}}}lpwstr", f"{{{VT_NS}}}lpstr", f"{{{VT_NS}}}bstr"):
            out[prop.get("name")] = value.text or ""
    return out


def stamp(data: bytes, rec: dict, when: datetime) -> bytes:
    """`data` (a docx or xlsx cfexport rendered, normalised or just saved) with `rec` in its
    custom properties; other custom properties (a restyled template's) are kept, earlier
    `cfexport.pack*` ones replaced. The package is written once, normalised as it is written
    (as `repro.normalise_zip` would: fixed zip dates and core dates, the parts in their order)."""
    from cfexport.repro import CORE_PART, core_dates, zip_bytes

    ours = properties(rec)
    entries = []
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        names = src.namelist()
        kept = {}
        if CUSTOM_PART in names:
            kept = {k: v for k, v in read_custom(src.read(CUSTOM_PART)).items()
                    if k != PREFIX and not k.startswith(PREFIX + ".")}
        for item in src.infolist():
            if item.filename == CUSTOM_PART:
                continue
            body = src.read(item.filename)
            if item.filename == "[Content_Types].xml" and b"/docProps/custom.xml" not in body:
                body = _insert_before(body, b"</Types>",
                                      f'<Override PartName="/{CUSTOM_PART}" ContentType="{CUSTOM_TYPE}"/>'.encode())
            elif item.filename == "_rels/.rels" and CUSTOM_REL.encode() not in body:
                rid = _free_rid(body)
                body = _insert_before(body, b"</Relationships>",
                                      f'<Relationship Id="{rid}" Type="{CUSTOM_REL}" Target="{CUSTOM_PART}"/>'.encode())
            elif item.filename == CORE_PART:
                body = core_dates(body, when)
            entries.append((item.filename, body))
    entries.append((CUSTOM_PART, custom_xml({**kept, **ours})))
    return zip_bytes(entries, when)


def _insert_before(body: bytes, closing: bytes, element: bytes) -> bytes:
    at = body.rfind(closing)
    if at < 0:
        raise ValueError(f"{closing.decode()} not found in a package part cfexport wrote")
    return body[:at] + element + body[at:]


def _free_rid(rels: bytes) -> str:
    used = set(re.findall(rb'Id="([^"]+)"', rels))
    n = 1
    while f"rIdCf{n}".encode() in used:
        n += 1
    return f"rIdCf{n}"


def stamp_pack(files: dict[str, bytes], framework: Framework, current: Role, target: Role, person: str,
               manager: str | None, context, changes: tuple | None = None) -> dict[str, bytes]:
    """A pack's files with the record added to its Word and Excel documents (`changes`: as `record` takes)."""
    out = dict(files)
    for name, document in DOCUMENTS.items():
        if name in out:
            rec = record(framework, current, target, person, manager, context, document, changes)
            out[name] = stamp(out[name], rec, context.build_time)
    return out
