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
from typing import BinaryIO, Iterable

_ZIP_EPOCH = datetime(1980, 1, 1, tzinfo=timezone.utc)
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


def zip_bytes(entries: Iterable[tuple[str, bytes | BinaryIO]], when: datetime) -> bytes:
    """A zip of `entries` (name, body) whose bytes depend only on them and `when`: fixed
    entry dates (`when`, or 1980 for an earlier date) and permissions, deflated. A body is
    bytes, or a file to copy from a chunk at a time (a large part never whole in memory;
    the same bytes as the whole body would give)."""
    stamp = max(when, _ZIP_EPOCH).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, body in entries:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            if hasattr(body, "read"):
                with dst.open(info, "w") as part:
                    shutil.copyfileobj(body, part, 1 << 20)
            else:
                dst.writestr(info, body)
    return out.getvalue()


def normalise_zip(data: bytes, when: datetime) -> bytes:
    """Rewrite an OOXML package so its bytes depend only on its content and `when`."""
    iso = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()

    def entries():
        with zipfile.ZipFile(io.BytesIO(data)) as src:
            for item in src.infolist():
                if item.filename == "docProps/core.xml":
                    body = src.read(item.filename)
                    yield item.filename, _CORE_DATE.sub(lambda m: m.group(1) + iso + m.group(3), body)
                else:
                    with src.open(item) as body:
                        yield item.filename, body

    return zip_bytes(entries(), when)
