"""Returned documents grouped into packs; the packs the round expected (its index).

A pack is known by its id (person, manager, role and levels), which every document
carries; two returns of the same document (an early and a late copy) are both kept,
and the newest by the document's own modified time is the one read (a tie goes to the
copy with more filled in, then to the first path).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from cfexport.collect.provenance import PROMOTION_CASE, SELF_ASSESSMENT, pack_id
from cfexport.collect.read import Returned
from cfexport.csvfile import decode_csv, sniff_delimiter
from cfexport.text import DecodeError

MAX_INDEX = 10 * 1024 * 1024
_OLDEST = datetime(1, 1, 1, tzinfo=timezone.utc)


class RoundError(Exception):
    """The --round folder is not a round cfexport wrote."""


@dataclass
class PackIdentity:
    """Which pack: its id, who it is for and the move it is about."""

    pack_id: str
    person: str
    manager: str | None
    role: str
    role_title: str
    current: int
    target: int


@dataclass
class Expected(PackIdentity):
    """A pack the round's index lists."""

    pack: str  # the folder or zip in the round
    framework_version: str | None = None


@dataclass
class PackReturn(PackIdentity):
    """One pack: who, and every copy of its documents that came back."""

    expected: bool | None  # None: no --round to say
    copies: dict[str, list[Returned]] = field(default_factory=dict)

    def chosen(self, kind: str) -> Returned | None:
        docs = self.copies.get(kind) or []
        if not docs:
            return None
        return max(docs, key=lambda d: (d.modified or _OLDEST, d.filled, [-ord(c) for c in d.where]))


def read_round(folder: Path) -> list[Expected]:
    """The packs of a round, from the index `cfexport packs` wrote (round.csv) and each pack's pack.json."""
    from cfexport.packs import folder_record, zip_record
    from cfexport.packs.round_index import CSV_COLUMNS, INDEX_CSV

    index = folder / INDEX_CSV
    if not index.is_file() or index.is_symlink():
        raise RoundError(f"{folder} has no {INDEX_CSV}: pass the folder `cfexport packs` wrote (OUT/packs)")
    with open(index, "rb") as f:
        data = f.read(MAX_INDEX + 1)
    if len(data) > MAX_INDEX:
        raise RoundError(f"{index} is larger than a round index can be")
    # as `packs` wrote it, or opened and saved again in a spreadsheet (another separator or encoding)
    try:
        text = decode_csv(data).lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
        rows = list(csv.reader(io.StringIO(text), delimiter=sniff_delimiter(text.split("\n", 1)[0])))
    except DecodeError as exc:
        raise RoundError(f"{index}:{exc.line}: {exc.message}") from None
    except csv.Error as exc:
        raise RoundError(f"{index} cannot be read: {exc}") from None
    rows = [row[:len(CSV_COLUMNS)] if not any(c.strip() for c in row[len(CSV_COLUMNS):]) else row for row in rows]
    if not rows or [h.strip() for h in rows[0]] != CSV_COLUMNS:
        raise RoundError(f"{index} is not a round index cfexport wrote (its header is not {','.join(CSV_COLUMNS)}): "
                         "use the round.csv `cfexport packs` wrote, or collect without --round")
    out = []
    for line, row in enumerate(rows[1:], 2):
        if not any(row):
            continue
        if len(row) != len(CSV_COLUMNS):
            raise RoundError(f"{index}:{line}: expected {len(CSV_COLUMNS)} columns")
        person, manager, role, title, cur, tgt, pack = (_untext(c) for c in row)
        try:
            current, target = int(cur), int(tgt)
        except ValueError:
            raise RoundError(f"{index}:{line}: the levels are not numbers") from None
        place = folder / pack
        record = zip_record(place, pack[:-4]) if pack.endswith(".zip") else folder_record(place)
        out.append(Expected(pack_id(person, manager or None, role, current, target), person, manager or None, role,
                            title, current, target, pack, (record or {}).get("framework_version")))
    return out


def _untext(cell: str) -> str:
    """A round.csv cell as written: a leading `'` was added to text starting like a formula."""
    from cfexport.exporters.spreadsheet import FORMULA_TRIGGERS

    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_TRIGGERS) else cell


def round_version(expected: list[Expected]) -> str | None:
    versions = Counter(e.framework_version for e in expected if e.framework_version)
    return versions.most_common(1)[0][0] if versions else None


def group(docs: list[Returned], expected: list[Expected], have_round: bool = True) -> list[PackReturn]:
    """One PackReturn per pack: the round's packs in its order (returned or not), then the
    packs that came back without being in the round, by person."""
    packs: dict[str, PackReturn] = {}
    for e in expected:
        packs.setdefault(e.pack_id, PackReturn(e.pack_id, e.person, e.manager, e.role, e.role_title, e.current,
                                               e.target, True))
    extra: dict[str, PackReturn] = {}
    for doc in docs:
        rec = doc.record
        pack = packs.get(rec["pack_id"])
        if pack is None:
            pack = extra.setdefault(rec["pack_id"], PackReturn(
                rec["pack_id"], rec["person"], rec.get("manager"), rec["role"],
                str(rec.get("role_title") or rec["role"]), rec["current_level"], rec["target_level"],
                False if have_round else None))
        pack.copies.setdefault(doc.kind, []).append(doc)
    for pack in list(packs.values()) + list(extra.values()):
        for kind in (SELF_ASSESSMENT, PROMOTION_CASE):
            pack.copies.setdefault(kind, []).sort(key=lambda d: d.where)
    return list(packs.values()) + sorted(extra.values(), key=lambda p: (p.person.casefold(), p.pack_id))
