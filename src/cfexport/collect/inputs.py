"""The files, folders and zips named on the command line, as the documents to read.

Folders are searched recursively (symbolic links are not followed); in a folder (or a
zip), files are looked at when their name says Office document or zip (or a document of
another office suite's own format, `.ods`, `.numbers`..., so the guard can say what to do):
the rest (the packs' PDFs, pack.json, notes) is passed over, and so are the files left
beside documents (Office's `~$` lock files, macOS's `._` files and `__MACOSX/`). A file named on the command line is
always looked at, whatever its name: its content decides. A zip that is not an Office
document is a zip of returned packs: its members are read in memory, never extracted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from cfexport.collect.guard import LIMITS, OFFICE_SUFFIXES, Limits, Refused, open_zip, read_member, sniff

MAX_FILES = 20_000  # files looked at in one collect run


@dataclass(frozen=True)
class Candidate:
    """One file to read: where it was found (`a.zip!/x/self-assessment.xlsx` for a member), its bytes."""

    where: str
    name: str  # the file name as received (the suffix says .xlsm and the like)
    data: bytes
    mtime: float | None  # the file's own modified time (None inside a zip)


@dataclass(frozen=True)
class Skipped:
    where: str
    kind: str
    reason: str


def _wanted(name: str) -> bool:
    return name.lower().endswith(OFFICE_SUFFIXES + (".zip",))


MAC_FOLDER = "__MACOSX"


def _left_beside(path: str) -> bool:
    """A file an office suite or an operating system leaves beside a document, never a returned
    file: Office's lock file of an open document (`~$name`), and macOS's AppleDouble files
    (`._name`: a file's Finder details, on a drive or a share that is not a Mac's, and under
    `__MACOSX/` in every zip made on a Mac)."""
    parts = path.split("/")
    return parts[-1].startswith(("~$", "._")) or MAC_FOLDER in parts[:-1]


def gather(paths: list[Path], exclude: set[Path] = frozenset(), limits: Limits = LIMITS
           ) -> Iterator[Candidate | Skipped]:
    """Every document under `paths` (files, folders, zips), in a stable order; `exclude`
    are files never read (collect's own output)."""
    count = 0
    seen: set[Path] = set()
    for root in paths:
        for path, explicit in _walk(root):
            try:
                real = path.resolve()
            except OSError:
                real = path
            if real in exclude or real in seen:
                continue
            seen.add(real)
            count += 1
            if count > MAX_FILES:
                yield Skipped(str(path), "too many files", f"more than {MAX_FILES:,} files; the rest were not read")
                return
            yield from _file(path, explicit, limits)


def _walk(root: Path) -> Iterator[tuple[Path, bool]]:
    if root.is_symlink() and root.is_dir():
        return
    if not root.is_dir():
        yield root, True
        return
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".cfexport") and d != MAC_FOLDER)
        for name in sorted(files):
            path = Path(folder) / name
            if _wanted(name) and not _left_beside(name):
                yield path, False


def _file(path: Path, explicit: bool, limits: Limits) -> Iterator[Candidate | Skipped]:
    where = str(path)
    if path.is_symlink():
        yield Skipped(where, "link", "a symbolic link; collect reads files, not links")
        return
    try:
        size = path.stat().st_size
        if size > limits.file_bytes:
            yield Skipped(where, "too large", f"{size / 2**20:,.1f} MiB; a returned pack file is at most "
                                              f"{limits.file_bytes // 2**20} MiB")
            return
        with open(path, "rb") as f:
            data = f.read(limits.file_bytes + 1)
        mtime = path.stat().st_mtime
    except OSError as exc:
        yield Skipped(where, "unreadable", f"cannot read the file: {exc.strerror or exc}")
        return
    yield from _bytes(where, path.name, data, mtime, limits, 0)


def _bytes(where: str, name: str, data: bytes, mtime: float | None, limits: Limits, depth: int
           ) -> Iterator[Candidate | Skipped]:
    if name.lower().endswith(".zip") or (sniff(data) == "zip" and not _is_document(data)):
        yield from _archive(where, data, limits, depth)
    else:
        yield Candidate(where, name, data, mtime)


def _is_document(data: bytes) -> bool:
    """Whether a zip is a document rather than a zip of files: an Office document ([Content_Types].xml),
    or one of another office suite's own format (an OpenDocument `mimetype`, Numbers' or Pages'
    `Index/`), which the document check names."""
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        return True  # let the document check say what is wrong with it
    return (any(n.lower() == "[content_types].xml" for n in names) or "mimetype" in names
            or any(n.startswith("Index/") and n.endswith(".iwa") for n in names))


def _archive(where: str, data: bytes, limits: Limits, depth: int) -> Iterator[Candidate | Skipped]:
    if depth >= limits.depth:
        yield Skipped(where, "zip trick", f"zips nested more than {limits.depth} deep")
        return
    try:
        zf = open_zip(data, limits, archive=True)
    except Refused as exc:
        yield Skipped(where, exc.kind, exc.reason)
        return
    with zf:
        for info in sorted(zf.infolist(), key=lambda i: i.filename):
            name = info.filename.rsplit("/", 1)[-1]
            if info.is_dir() or not _wanted(name) or _left_beside(info.filename):
                continue
            inner = f"{where}!/{info.filename}"
            try:
                member = read_member(zf, info.filename, limits.file_bytes)
            except Refused as exc:
                yield Skipped(inner, exc.kind, exc.reason)
                continue
            yield from _bytes(inner, name, member, None, limits, depth + 1)
