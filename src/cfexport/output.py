"""Writing an output folder safely: everything goes to a hidden staging folder inside it,
and the previous outputs are replaced only when every document was written.

A crash, a kill or an error while documents are rendered leaves the previous folder as it
was; a second build into the same folder at the same time is refused, not interleaved.
The lock, the staging and the trash all live inside the output folder, so every rename
stays on one file system (the folder may be a mount point) and only the folder itself has
to be writable. Files and folders at the top of the folder that cfexport did not write are
never touched; the folders it writes are its own.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO

try:
    import fcntl
except ImportError:  # Windows: no flock; an exclusively created lock file does the job
    fcntl = None

MANIFEST = "manifest.json"
RESERVED = ".cfexport"  # top-level names in an output folder that are cfexport's machinery
LOCK = f"{RESERVED}.lock"
STAGING = f"{RESERVED}-staging-"
TRASH = f"{RESERVED}-old-"


class OutputError(Exception):
    pass


def _lock_path(out: Path) -> Path:
    return out / LOCK


def check_relative(rel: str) -> PurePosixPath:
    """A relative path that stays inside its folder: no absolute paths, no `..`, no empty parts."""
    p = PurePosixPath(rel)
    if p.is_absolute() or not p.parts or any(part in ("", ".", "..") for part in p.parts) or "\\" in rel:
        raise OutputError(f"refusing to write '{rel}': it would leave the output folder")
    return p


def check_out_folder(out: str | Path, *keep: str | Path) -> None:
    """Refuse an output folder that holds what a build must never replace: the framework,
    the templates, or the folder the user is working in (`--out .` would swap it away)."""
    target = Path(out).resolve()
    for path in (Path.cwd(), *keep):
        path = Path(path).resolve()
        if path == target or target in path.parents:
            raise OutputError(f"refusing to write into {out}: it holds {path}; choose a folder of its own, "
                              "like output/")


def previous_files(out: str | Path) -> list[dict]:
    """The file entries of the manifest a previous build left in `out` (none when unreadable).
    Entries naming cfexport's own lock, staging or trash are never outputs."""
    try:
        files = json.loads((Path(out) / MANIFEST).read_text("utf-8")).get("files", [])
        return [f for f in files if isinstance(f, dict) and isinstance(f.get("path"), str)
                and not f["path"].startswith(RESERVED)]
    except (OSError, ValueError, AttributeError):
        return []


class StagedOutput:
    """`with StagedOutput(out) as stage: stage.write(rel, data)`; committed on a clean exit.

    `out` is resolved first (symlinks and `..`), so every spelling of one folder shares one
    lock. The lock is `out/.cfexport.lock`; documents are written to `out/.cfexport-staging-*`
    and the previous ones moved to `out/.cfexport-old-*`, so every rename stays inside `out`
    (one file system, even when `out` is a mount point) and only `out` needs to be writable.
    The commit swaps each top-level entry the build wrote into `out` (the manifest last) and
    moves away what the previous build wrote and this one did not. Nothing else in `out` is
    ever moved: a file or folder that cfexport did not write stays where it is, whatever
    happens. An entry of the same name that no manifest lists is replaced when it is
    cfexport's own all the same (see `written_by_cfexport`); `replace_unlisted` replaces it
    whatever it is (packs, whose names are their own, and `build --force`).
    """

    def __init__(self, out: str | Path, replace_unlisted: bool = False):
        self.out = Path(out).resolve()
        self.replace_unlisted = replace_unlisted
        self.stage: Path | None = None
        self._stage_real: Path | None = None  # the staging folder as made, resolved once (see _target)
        self._lock_fd: int | None = None
        self._made_out = False

    def __enter__(self) -> StagedOutput:
        if _exists(self.out) and not self.out.is_dir():
            raise OutputError(f"{self.out} exists and is not a folder")
        try:
            self._made_out = not self.out.exists()
            self.out.mkdir(parents=True, exist_ok=True)
            self._lock()
        except OutputError:
            self._remove_made_out()
            raise
        except OSError as exc:
            self._remove_made_out()
            raise self._cannot_write(exc) from None
        try:
            self._clean_leftovers()
            self.stage = Path(tempfile.mkdtemp(prefix=STAGING, dir=self.out))
            self.stage.chmod(0o777 & ~_umask())
            self._stage_real = self.stage.resolve()
        except BaseException as exc:
            self.__exit__(type(exc), exc, None)
            if isinstance(exc, OSError):
                raise self._cannot_write(exc) from None
            raise
        return self

    def _cannot_write(self, exc: OSError) -> OutputError:
        return OutputError(f"cannot write to {self.out}: {exc.strerror or exc}; choose another --out")

    def _remove_made_out(self) -> None:
        """A folder this build made and left empty (a failed first build leaves nothing)."""
        if self._made_out:
            try:
                self.out.rmdir()
            except OSError:
                pass
            self._made_out = False

    def _lock(self) -> None:
        lock = _lock_path(self.out)
        if fcntl is None:
            try:
                self._lock_fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                raise OutputError(f"another cfexport is writing {self.out} (if none is running, a killed one "
                                  f"left {lock}: delete it)") from None
            return
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.fstat(fd).st_ino != os.stat(lock).st_ino:  # the file was removed and made anew meanwhile
                raise BlockingIOError
        except (BlockingIOError, FileNotFoundError):
            os.close(fd)
            raise OutputError(f"another cfexport is writing {self.out}; wait for it to finish") from None
        self._lock_fd = fd

    def _clean_leftovers(self) -> None:
        """The staging and trash of a build that was killed (we hold the lock, so none is live)."""
        for pattern in (f"{STAGING}*", f"{TRASH}*"):
            for old in self.out.glob(pattern):
                if old.is_dir() and not old.is_symlink():
                    shutil.rmtree(old, ignore_errors=True)

    def _target(self, rel: str) -> Path:
        assert self.stage is not None
        parts = check_relative(rel).parts
        if parts[0].startswith(RESERVED):
            raise OutputError(f"refusing to write '{rel}': {RESERVED}* names are cfexport's own machinery")
        target = self.stage.joinpath(*parts)
        # the staging folder as it was made, resolved once (a round writes thousands of files; and
        # a staging folder swapped for a symlink since does not move the check along with it)
        if not target.resolve().is_relative_to(self._stage_real):
            raise OutputError(f"refusing to write '{rel}': it would leave the output folder")
        return target

    def write(self, rel: str, data: bytes) -> Path:
        target = self._target(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return target

    def open(self, rel: str) -> BinaryIO:
        """A new file at `rel`, open for writing bytes: for a file written piece by piece
        (a round's index), so that its whole content is never held in memory."""
        target = self._target(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        return open(target, "wb")

    def link(self, rel: str, source: Path, data: bytes) -> Path:
        """Put the previous build's file `source` (whose bytes are `data`) at `rel`: a hard link
        when the file system allows (cheap: the bytes are not written again), else a copy."""
        target = self._target(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target, follow_symlinks=False)
        except OSError:
            target.write_bytes(data)
        return target

    def _owned(self) -> set[str]:
        """Top-level names in `out` that the previous build wrote (so this one replaces them)."""
        names = {f["path"].split("/", 1)[0] for f in previous_files(self.out)}
        return {MANIFEST} | {n for n in names if n and not n.startswith(RESERVED)}

    def commit(self) -> None:
        assert self.stage is not None
        owned = self._owned()
        staged = sorted((p.name for p in self.stage.iterdir()), key=lambda n: (n == MANIFEST, n))
        for name in staged:
            if name in owned or self.replace_unlisted or not _exists(self.out / name):
                continue
            foreign = _foreign_file(self.out / name, self.stage / name)
            if foreign == self.out / name:
                raise OutputError(f"{foreign} exists and was not written by cfexport; move it away, or pass "
                                  "--force to replace it")
            if foreign is not None:
                raise OutputError(f"{foreign} was not written by cfexport, and this build replaces the folder "
                                  f"{self.out / name} that holds it; move it away, or pass --force to replace "
                                  "the folder")
        trash = Path(tempfile.mkdtemp(prefix=TRASH, dir=self.out))
        # renames made, to undo if one fails: (from folder, to folder, name), the folders shared by all
        # (a round of packs moves one entry per pack: no two paths each)
        done: list[tuple[Path, Path, str]] = []

        def move(src: Path, dst: Path, name: str) -> None:
            os.rename(src / name, dst / name)
            done.append((src, dst, name))

        try:
            for name in staged:  # each a single rename: a document is either the old one or the new one
                if _exists(self.out / name):
                    move(self.out, trash, name)
                move(self.stage, self.out, name)
            for name in owned - set(staged):
                if _exists(self.out / name):
                    move(self.out, trash, name)
        except OSError:
            for src, dst, name in reversed(done):  # put the previous outputs back as they were
                os.rename(dst / name, src / name)
            try:
                os.rmdir(trash)  # empty again: everything is back in place
            except OSError:
                pass
            raise
        shutil.rmtree(trash, ignore_errors=True)

    def __exit__(self, exc_type, exc, tb) -> None:
        committed = False
        try:
            if exc_type is None:
                self.commit()
                committed = True
        finally:
            if self.stage is not None:
                shutil.rmtree(self.stage, ignore_errors=True)
                self.stage = None
            if self._lock_fd is not None:
                if fcntl is None:  # Windows cannot remove an open file
                    os.close(self._lock_fd)
                try:  # with flock: removed while still held; a late opener notices (inode check) and refuses
                    _lock_path(self.out).unlink()
                except OSError:
                    pass
                if fcntl is not None:
                    os.close(self._lock_fd)
                self._lock_fd = None
            if not committed:
                self._remove_made_out()


def _foreign_file(existing: Path, new: Path) -> Path | None:
    """The first file under `existing` (a file, or a folder walked in name order) that is not
    cfexport's own, or None when all are; `new` is what this build puts at the same place."""
    if existing.is_symlink() or not existing.is_dir():
        return None if written_by_cfexport(existing, new) else existing
    for path in sorted(existing.rglob("*")):
        if path.is_symlink() or not path.is_dir():
            counterpart = new.joinpath(path.relative_to(existing))
            if not written_by_cfexport(path, counterpart):
                return path
    return None


_CORE_NAMES = ("title", "subject", "creator", "keywords")
_PDF_CREATOR = re.compile(rb"/Creator\s*\(([^()\\]*)\)")


def written_by_cfexport(path: Path, new: Path | None = None) -> bool:
    """Whether the file at `path` is one cfexport wrote, when no manifest says so (it was
    deleted, or an older build left it): byte-identical to `new`, what this build writes
    there; or carrying cfexport's own marks. Those are a Word file's `lastModifiedBy`
    "cfexport", a PDF's `/Creator (cfexport)`, framework.json's `$schema`, and for an
    Office file without a mark of ours (openpyxl's workbooks) the same title, subject,
    creator and keywords as `new`. Anything else, symlinks included, is someone else's."""
    try:
        if path.is_symlink() or not path.is_file():
            return False
        data = path.read_bytes()
        new_data = new.read_bytes() if new is not None and new.is_file() and not new.is_symlink() else None
    except OSError:
        return False
    if data == new_data:
        return True
    if data.startswith(b"PK"):
        props = _core_properties(data)
        if props.get("lastModifiedBy") == "cfexport":
            return True
        theirs = _core_properties(new_data) if new_data else {}
        return bool(props.get("title")) and all(props.get(k) == theirs.get(k) for k in _CORE_NAMES)
    if data.startswith(b"%PDF-"):
        creators = _PDF_CREATOR.findall(data)
        return bool(creators) and creators[-1] == b"cfexport"  # the last /Info written wins
    if path.suffix == ".json":
        from cfexport.exporters.framework_json import SCHEMA_ID

        try:
            body = json.loads(data)
        except ValueError:
            return False
        return isinstance(body, dict) and body.get("$schema") == SCHEMA_ID
    return False


def _core_properties(data: bytes) -> dict[str, str]:
    """The core properties (docProps/core.xml) of an Office file, by local name; {} when none."""
    import io
    from xml.etree import ElementTree

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            info = zf.getinfo("docProps/core.xml")
            if info.file_size > 1 << 20:
                return {}
            root = ElementTree.fromstring(zf.read(info))
    except (KeyError, OSError, ValueError, zipfile.BadZipFile, ElementTree.ParseError):
        return {}
    return {el.tag.rsplit("}", 1)[-1]: (el.text or "") for el in root}


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
