"""Same input, same bytes: build dates from SOURCE_DATE_EPOCH, and zip containers
(docx, xlsx) rewritten with fixed entry dates and core-property dates.

python-docx and openpyxl stamp "now" into every zip entry, and openpyxl overwrites
`modified` inside `save()`, so the fix has to be applied to the saved bytes.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import zipfile
from datetime import datetime, timezone
from typing import BinaryIO, Iterable, Iterator

_ZIP_EPOCH = datetime(1980, 1, 1, tzinfo=timezone.utc)
_PIECE = 64 * 1024  # how much of an entry a streamed copy holds at a time
CORE_PART = "docProps/core.xml"
_CORE_DATE = re.compile(rb"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)")


def build_time() -> datetime:
    """SOURCE_DATE_EPOCH when set (reproducible builds), else now; always UTC, whole seconds."""
    raw = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if raw:
        try:
            return datetime.fromtimestamp(int(raw), tz=timezone.utc)
        except (ValueError, OverflowError, OSError):
            raise ValueError(f"SOURCE_DATE_EPOCH must be a whole number of seconds, not {raw!r}") from None
    return datetime.now(timezone.utc).replace(microsecond=0)


def reproducible() -> bool:
    return bool(os.environ.get("SOURCE_DATE_EPOCH", "").strip())


def zip_bytes(entries: Iterable[tuple[str, bytes]], when: datetime) -> bytes:
    """A zip of `entries` (name, bytes) whose bytes depend only on them and `when`: fixed
    entry dates (`when`, or 1980 for an earlier date) and permissions, deflated."""
    out = io.BytesIO()
    write_zip(entries, when, out)
    return out.getvalue()


def write_zip(entries: Iterable[tuple[str, bytes | BinaryIO]], when: datetime, out: BinaryIO) -> None:
    """`zip_bytes` written into the seekable file `out`; an entry's body may also be a file
    open for reading, copied a piece at a time (the same bytes as when given whole)."""
    stamp = max(when, _ZIP_EPOCH).timetuple()[:6]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, body in entries:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            if hasattr(body, "read"):
                with dst.open(info, "w") as entry:
                    shutil.copyfileobj(body, entry, _PIECE)
            else:
                dst.writestr(info, body)


def normalise_zip(data: bytes, when: datetime) -> bytes:
    """Rewrite an OOXML package so its bytes depend only on its content and `when` (each part
    copied a piece at a time: a large workbook's sheet is never held whole a second time)."""
    return zip_bytes(_normalised(io.BytesIO(data), when, stream=True), when)


def write_normalised_zip(package: BinaryIO, when: datetime, out: BinaryIO) -> None:
    """`normalise_zip` from one file into another, each entry copied a piece at a time: for a
    package too large to hold in memory twice over (a round's index of thousands of rows)."""
    write_zip(_normalised(package, when, stream=True), when, out)


def core_dates(core: bytes, when: datetime) -> bytes:
    """An OOXML package's docProps/core.xml with its created and modified dates set to `when`."""
    iso = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    return _CORE_DATE.sub(lambda m: m.group(1) + iso + m.group(3), core)


def _normalised(package: BinaryIO, when: datetime, stream: bool) -> Iterator[tuple[str, bytes | BinaryIO]]:
    """The entries of an OOXML package, the core properties' dates set to `when`; with
    `stream`, each other entry as a file to read (valid until the next entry is asked for)."""
    with zipfile.ZipFile(package) as src:
        for item in src.infolist():
            if item.filename == CORE_PART:
                yield item.filename, core_dates(src.read(item), when)
            elif stream:
                with src.open(item) as body:
                    yield item.filename, body
            else:
                yield item.filename, src.read(item)
