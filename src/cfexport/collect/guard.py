"""Returned files come from mail: every rule that keeps a hostile one harmless, in one place,
for Word and Excel documents and for zips of returned packs alike.

A file is refused (with a reason for the Problems sheet, never an exception that escapes)
when it is
- too large, or not a zip at all; an OLE compound file (`D0 CF 11 E0`) is an encrypted
  Office document or an old binary .xls/.doc (which of them, its directory's stream names say);
- a zip whose central directory, read before anything is extracted, shows more members,
  more bytes in all or in one member, or a higher compression ratio than a pack ever has;
  member names that are absolute, hold `..`, a drive or a backslash; duplicate names;
  encrypted members;
- macro-enabled: a `.xlsm`/`.docm` name, a `vbaProject.bin` member or a macro content type;
- a document of another office suite's own format (OpenDocument `.ods`/`.odt`, Numbers,
  Pages): refused saying how to save it as the pack's Excel or Word file;
- an Office document any of whose XML parts has a DTD (entity expansion, external
  entities): every XML part is parsed with defusedxml before openpyxl or python-docx
  sees the file, so their own parsers only ever get XML without a DOCTYPE.

Members are read through `zipfile`, which stops at the size the central directory
declares, so a member that lies about its size cannot grow past the limits either.
Nothing is written to disk.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath

MiB = 1024 * 1024
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
MACRO_SUFFIXES = (".xlsm", ".xltm", ".xlam", ".docm", ".dotm", ".pptm", ".xlsb")
# what an office suite saves in its own format when a returned file is saved "as is" (LibreOffice's
# Keep Current Format answered the other way, Numbers and Pages by default): looked at, to say so
OTHER_FORMAT_SUFFIXES = (".ods", ".odt", ".numbers", ".pages")
OFFICE_SUFFIXES = (".xlsx", ".xltx", ".docx", ".dotx") + MACRO_SUFFIXES + (".xls", ".doc") + OTHER_FORMAT_SUFFIXES
MAIN_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": "xlsx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "docx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml": "docx",
}


@dataclass(frozen=True)
class Limits:
    """What a returned file may be. A pack's documents are tens of kilobytes with about
    twenty parts; these leave room for anything an office suite adds (pictures pasted
    as evidence) and refuse what only an attack needs."""

    file_bytes: int = 50 * MiB  # a file on disk or a zip member, compressed
    members: int = 1000  # parts of one document
    archive_members: int = 5000  # members of a zip of returned packs
    total: int = 200 * MiB  # uncompressed bytes of one zip, all members
    member: int = 100 * MiB  # uncompressed bytes of one member
    ratio: int = 100  # uncompressed / compressed, for members over `ratio_floor`
    ratio_floor: int = 1 * MiB
    xml_part: int = 30 * MiB  # one XML part parsed
    depth: int = 2  # zips inside zips


LIMITS = Limits()


class Refused(Exception):
    """A file collect will not read; `kind` is short (for the Problems sheet), `reason` says why."""

    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def sniff(data: bytes) -> str:
    """`zip`, `ole` or `other`, from the first bytes."""
    if data.startswith(OLE_MAGIC):
        return "ole"
    if data.startswith(ZIP_MAGIC) or data.startswith(b"PK\x05\x06"):
        return "zip"
    return "other"


def _stream(name: str) -> bytes:
    """How an OLE compound file's directory spells a stream's name (UTF-16 LE)."""
    return name.encode("utf-16-le")


def _has_stream(data: bytes, name: str) -> bool:
    """Whether an OLE compound file's directory has an entry named `name`: a 128-byte entry (at a
    multiple of 128 past the 512-byte header, in sectors of 512 or 4096 bytes) whose name field is
    the name, NUL-terminated, with its length in bytes at offset 64. The name found elsewhere is
    not enough: a Word 97-2003 document keeps its text as UTF-16 too ('see the Workbook attached')."""
    field = _stream(name) + b"\0\0"
    size = len(field).to_bytes(2, "little")
    at = data.find(field, 512)
    while at != -1:
        if at % 128 == 0 and data[at + 64:at + 66] == size:
            return True
        at = data.find(field, at + 1)
    return False


def refuse_ole(data: bytes = b"") -> Refused:
    """Why an OLE compound file is not read, by the streams its directory names: a password-protected
    Office file (its `EncryptedPackage`), or a workbook or document saved in the Excel or Word 97-2003
    format (`Workbook`, `WordDocument`), which a person can save again as .xlsx/.docx themselves
    (the pack's record goes along)."""
    if _stream("EncryptedPackage") in data or _stream("EncryptionInfo") in data:
        return Refused("encrypted", "an encrypted (password-protected) Office file: ask for it again saved "
                                    "without a password")
    for stream, what, save_as in (("Workbook", "an Excel 97-2003 workbook (.xls)", "Excel Workbook (.xlsx)"),
                                  ("WordDocument", "a Word 97-2003 document (.doc)", "Word Document (.docx)")):
        if _has_stream(data, stream):
            return Refused("old format", f"{what}, not the Excel or Word file of the pack: open it, File > Save "
                                         f"As > {save_as}, and collect the saved file (if it asks for a password, "
                                         "ask for it again without one)")
    return Refused("encrypted", "an encrypted (password-protected) Office file, or an old binary .xls/.doc: "
                                "ask for it again saved as .xlsx/.docx without a password")


def open_zip(data: bytes, limits: Limits = LIMITS, archive: bool = False) -> zipfile.ZipFile:
    """The zip in `data`, its central directory checked before any member is read."""
    if len(data) > limits.file_bytes:
        raise Refused("too large", f"{len(data) / MiB:.1f} MiB; a returned pack file is at most "
                                   f"{limits.file_bytes // MiB} MiB")
    if not data:
        raise Refused("empty", "an empty file (0 bytes): it was saved or copied incompletely; ask for it again")
    kind = sniff(data)
    if kind == "ole":
        raise refuse_ole(data)
    if kind != "zip":
        raise Refused("not a zip", "not an Office document or zip (the file's first bytes say so)")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError, NotImplementedError) as exc:
        raise Refused("damaged", f"a damaged zip ({exc})") from None
    most = limits.archive_members if archive else limits.members
    if len(infos) > most:
        raise Refused("zip bomb", f"{len(infos):,} members in one zip; at most {most:,}")
    total, seen = 0, set()
    for info in infos:
        name = info.filename
        _check_name(name)
        if name.casefold() in seen:
            raise Refused("zip trick", f"the member name {name!r} appears twice")
        seen.add(name.casefold())
        if info.flag_bits & 0x1:
            raise Refused("encrypted", f"the zip member {name!r} is encrypted")
        if info.file_size > limits.member:
            raise Refused("zip bomb", f"the member {name!r} unpacks to {info.file_size / MiB:,.0f} MiB; "
                                      f"at most {limits.member // MiB} MiB")
        if info.file_size > limits.ratio_floor and info.file_size > limits.ratio * max(info.compress_size, 1):
            raise Refused("zip bomb", f"the member {name!r} is compressed {info.file_size // max(info.compress_size, 1):,}"
                                      f" to 1; at most {limits.ratio} to 1")
        total += info.file_size
        if total > limits.total:
            raise Refused("zip bomb", f"the zip unpacks to more than {limits.total // MiB} MiB")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise Refused("damaged", f"the member {name!r} uses a compression Office files do not use")
    return zf


def _check_name(name: str) -> None:
    p = PurePosixPath(name)
    if (not name or name.startswith("/") or "\\" in name or "\x00" in name or ":" in p.parts[0]
            or any(part == ".." for part in p.parts)):
        raise Refused("zip trick", f"the member name {name!r} points outside the zip")


def read_member(zf: zipfile.ZipFile, name: str, limit: int) -> bytes:
    info = zf.getinfo(name)
    if info.file_size > limit:
        raise Refused("too large", f"the part {name!r} is {info.file_size / MiB:,.1f} MiB; at most {limit // MiB} MiB")
    try:
        with zf.open(info) as f:
            data = f.read(limit + 1)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise Refused("damaged", f"the part {name!r} cannot be unpacked ({exc})") from None
    if len(data) > limit:
        raise Refused("zip bomb", f"the part {name!r} unpacks to more than it declares")
    return data


def parse_xml(data: bytes, what: str):
    """An XML part parsed with defusedxml: a DTD (and so any entity) is refused."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise Refused("XML trick", f"the part {what!r} declares a DTD or entities ({type(exc).__name__}); "
                                   "Office never writes one") from None
    except (ParseError, ValueError) as exc:
        raise Refused("damaged", f"the part {what!r} is not well-formed XML ({exc})") from None


@dataclass
class Package:
    """A checked Office document: which kind, its zip (members checked), its parts' XML safe."""

    kind: str  # "xlsx" | "docx"
    zf: zipfile.ZipFile
    data: bytes
    custom: bytes | None  # docProps/custom.xml (or where the package relationship points)
    core: bytes | None


def check_office(data: bytes, name: str, limits: Limits = LIMITS) -> Package:
    """`data` as a Word or Excel document that is safe to hand to python-docx or openpyxl,
    or Refused. `name` is the file name as received (only its suffix is looked at)."""
    if name.lower().endswith(MACRO_SUFFIXES):
        raise Refused("macros", f"a macro-enabled file ({PurePosixPath(name).suffix}); ask for it saved as "
                                ".xlsx or .docx")
    zf = open_zip(data, limits)
    names = zf.namelist()
    lower = {n.lower(): n for n in names}
    if any(n.rsplit("/", 1)[-1] in ("vbaproject.bin", "vbadata.xml") for n in lower):
        raise Refused("macros", "holds a macro project (vbaProject.bin); ask for it saved as .xlsx or .docx")
    if "encryptioninfo" in lower or "encryptedpackage" in lower:
        raise Refused("encrypted", "an encrypted Office package")
    if "[content_types].xml" not in lower:
        raise other_format(zf, names) or Refused("not a pack", "a zip that is not an Office document")
    types: list[str] = []
    for n in names:
        if n.lower().endswith((".xml", ".rels")) or _looks_like_xml(zf, n):  # a part's name need not say it
            root = parse_xml(read_member(zf, n, limits.xml_part), n)
            if n.lower() == "[content_types].xml":
                types = _content_types(root)
    if any("macroenabled" in t.lower() or "vbaproject" in t.lower() for t in types):
        raise Refused("macros", "a macro-enabled document (its content types say so)")
    kinds = {MAIN_TYPES[t] for t in types if t in MAIN_TYPES}
    if len(kinds) != 1:
        raise Refused("not a pack", "neither a Word (.docx) nor an Excel (.xlsx) document")
    custom_name = _custom_part(zf, lower)
    custom = read_member(zf, custom_name, limits.xml_part) if custom_name else None
    core = read_member(zf, lower["docprops/core.xml"], limits.xml_part) if "docprops/core.xml" in lower else None
    return Package(kinds.pop(), zf, data, custom, core)


_OTHER_FORMATS = {
    "application/vnd.oasis.opendocument.spreadsheet": ("an OpenDocument spreadsheet (.ods)", "LibreOffice",
                                                       "Excel 2007-365 (.xlsx)"),
    "application/vnd.oasis.opendocument.text": ("an OpenDocument text (.odt)", "LibreOffice", "Word 2007-365 (.docx)"),
}


def other_format(zf: zipfile.ZipFile, names: list[str]) -> Refused | None:
    """Why a zip that is a document of another office suite's own format is not read (the pack's
    record is in it, but collect reads Word and Excel documents), and what to do: None when it is none."""
    if "mimetype" in names:
        try:
            mimetype = read_member(zf, "mimetype", 200).decode("ascii", "replace").strip()
        except Refused:
            mimetype = ""
        if mimetype in _OTHER_FORMATS:
            what, suite, save_as = _OTHER_FORMATS[mimetype]
        elif mimetype.startswith("application/vnd.oasis.opendocument."):
            what, suite, save_as = "an OpenDocument file", "LibreOffice", "Word or Excel 2007-365"
        else:
            return None
    elif any(n.startswith("Index/") and n.endswith(".iwa") for n in names):  # Numbers or Pages, as one file
        what, suite, save_as = "an Apple Numbers or Pages document", "Numbers or Pages", None
    else:
        return None
    how = (f"in {suite}, File > Export To > Excel (or Word)" if save_as is None else
           f"in {suite}, File > Save As > {save_as}")
    return Refused("other format", f"{what}, not the Excel or Word file of the pack: it was saved in its office "
                                   f"suite's own format; {how}, then collect the saved file (or ask for it again)")


def _content_types(root) -> list[str]:
    return [el.get("ContentType", "") for el in root if el.tag.endswith(("}Override", "}Default"))]


def _custom_part(zf: zipfile.ZipFile, lower: dict[str, str]) -> str | None:
    """The custom-properties part the package relationships name, else docProps/custom.xml."""
    from cfexport.collect.provenance import CUSTOM_REL

    rels = lower.get("_rels/.rels")
    if rels:
        root = parse_xml(read_member(zf, rels, LIMITS.xml_part), rels)
        for rel in root:
            if rel.get("Type") == CUSTOM_REL and rel.get("TargetMode") != "External":
                target = (rel.get("Target") or "").lstrip("/").lower()
                if target in lower:
                    return lower[target]
    return lower.get("docprops/custom.xml")


def _looks_like_xml(zf: zipfile.ZipFile, name: str) -> bool:
    """Whether a part whose name does not end in .xml holds XML all the same (openpyxl and
    python-docx follow the relationships, not the names): its first bytes say so."""
    if name.endswith("/"):
        return False
    try:
        with zf.open(name) as part:
            head = part.read(64)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise Refused("damaged", f"the part {name!r} cannot be unpacked ({exc})") from None
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")
