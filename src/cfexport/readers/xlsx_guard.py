"""Checks on a workbook from someone else, before openpyxl parses a byte of it.

A workbook is a zip of XML parts. Refused: macro-enabled workbooks (`.xlsm` and friends, a
`vbaProject.bin`, a macro-enabled content type), encrypted or broken zips, more parts or
more bytes than a competency matrix ever needs, parts that inflate far beyond their
compressed size (zip bombs; sizes are counted as the parts are read, not taken from the
zip's own headers), and XML with a DOCTYPE or entity declarations (entity expansion and
external entities). openpyxl then parses with defusedxml as a second line.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

MAX_FILE = 50 * 1024 * 1024  # bytes of the workbook
MAX_PARTS = 5000  # zip entries
MAX_PART = 100 * 1024 * 1024  # bytes of one part, inflated
MAX_TOTAL = 300 * 1024 * 1024  # bytes of all parts, inflated
MAX_RATIO = 200  # inflated / compressed, for parts over 1 MiB
MACRO_SUFFIXES = (".xlsm", ".xltm", ".xlam", ".xlsb")
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_CHUNK = 1024 * 1024


class WorkbookRefused(Exception):
    """The workbook is not read; the message says why and what to do."""


def check(path: Path) -> None:
    if path.suffix.lower() in MACRO_SUFFIXES:
        raise WorkbookRefused(f"a {path.suffix} workbook can hold macros; save it as .xlsx (Excel Workbook) "
                              "and read that")
    size = path.stat().st_size
    if size > MAX_FILE:
        raise WorkbookRefused(f"the workbook is {size // (1024 * 1024)} MiB; more than the {MAX_FILE // (1024 * 1024)} "
                              "MiB a competency matrix can need")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_PARTS:
                raise WorkbookRefused(f"the workbook has {len(infos)} parts, more than {MAX_PARTS}")
            total = 0
            for info in infos:
                name = info.filename
                if info.flag_bits & 0x1:
                    raise WorkbookRefused("the workbook is encrypted; save an unprotected copy")
                if name.lower().rsplit("/", 1)[-1] == "vbaproject.bin":
                    raise WorkbookRefused(f"the workbook holds macros ({name}); save it as .xlsx without macros")
                total += _check_part(zf, info, MAX_TOTAL - total)
    except zipfile.BadZipFile:
        raise WorkbookRefused("not an Excel workbook (.xlsx): the file is not a zip archive") from None
    except (zipfile.LargeZipFile, NotImplementedError, RuntimeError) as exc:
        raise WorkbookRefused(f"the workbook cannot be read safely: {exc}") from None


def _check_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, room: int) -> int:
    """Inflate one part in chunks, counting its real size; look for declarations in XML."""
    limit = min(MAX_PART, room)
    xml = info.filename.lower().endswith((".xml", ".rels", ".vml")) or info.filename == "[Content_Types].xml"
    read = 0
    tail = b""
    with zf.open(info) as fh:
        while chunk := fh.read(_CHUNK):
            read += len(chunk)
            if read > limit:
                raise WorkbookRefused(f"the part {info.filename} inflates to more than {limit // (1024 * 1024)} MiB; "
                                      "not a workbook cfexport reads")
            if read > 1024 * 1024 and read > MAX_RATIO * max(info.compress_size, 1):
                raise WorkbookRefused(f"the part {info.filename} inflates more than {MAX_RATIO} times (a zip bomb?)")
            if xml:
                window = tail + chunk
                if _DECLARATION.search(window):
                    raise WorkbookRefused(f"the part {info.filename} declares a DOCTYPE or entities; Office never "
                                          "writes those, and they are how XML attacks work")
                if info.filename == "[Content_Types].xml" and b"macroenabled" in window.lower():
                    raise WorkbookRefused("the workbook is macro-enabled; save it as .xlsx without macros")
                tail = chunk[-32:]
    return read
