"""Writing an output folder safely: everything goes to a staging folder beside it, and
the previous outputs are replaced only when every document was written.

A crash, a kill or an error while documents are rendered leaves the previous folder as it
was; a second build into the same folder at the same time is refused, not interleaved.
Files and folders at the top of the folder that cfexport did not write (not in the
previous manifest) are never touched; the folders it writes are its own.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath

try:
    import fcntl
except ImportError:  # Windows: no flock; an exclusively created lock file does the job
    fcntl = None

MANIFEST = "manifest.json"


class OutputError(Exception):
    pass


def _lock_path(out: Path) -> Path:
    return out.parent / f".{out.name}.cfexport.lock"


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
    """The file entries of the manifest a previous build left in `out` (none when unreadable)."""
    try:
        files = json.loads((Path(out) / MANIFEST).read_text("utf-8")).get("files", [])
        return [f for f in files if isinstance(f, dict) and isinstance(f.get("path"), str)]
    except (OSError, ValueError, AttributeError):
        return []


class StagedOutput:
    """`with StagedOutput(out) as stage: stage.write(rel, data)`; committed on a clean exit.

    Documents are written to `.<out>.cfexport-staging-*` beside `out`. The commit then swaps
    each top-level entry the build wrote into `out` (the manifest last) and moves away what
    the previous build wrote and this one did not. Nothing else in `out` is ever moved: a
    file or folder that cfexport did not write stays where it is, whatever happens.
    `replace_unlisted` lets a writer whose names are its own (packs) replace an entry of
    the same name that no manifest lists.
    """

    def __init__(self, out: str | Path, replace_unlisted: bool = False):
        self.out = Path(out).absolute()
        self.replace_unlisted = replace_unlisted
        self.stage: Path | None = None
        self._lock_fd: int | None = None
        self._prefix = f".{self.out.name}.cfexport-"

    def __enter__(self) -> StagedOutput:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self._lock()
        self._clean_leftovers()
        self.stage = Path(tempfile.mkdtemp(prefix=f"{self._prefix}staging-", dir=self.out.parent))
        self.stage.chmod(0o777 & ~_umask())
        return self

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
        """This folder's staging and trash of a build that was killed (we hold its lock, so
        none is live). Other folders' leftovers beside it are theirs, not ours."""
        for old in self.out.parent.glob(f"{self._prefix}*"):
            if old.is_dir():
                shutil.rmtree(old, ignore_errors=True)

    def write(self, rel: str, data: bytes) -> Path:
        assert self.stage is not None
        target = self.stage.joinpath(*check_relative(rel).parts)
        if not target.resolve().is_relative_to(self.stage.resolve()):
            raise OutputError(f"refusing to write '{rel}': it would leave the output folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return target

    def _owned(self) -> set[str]:
        """Top-level names in `out` that the previous build wrote (so this one replaces them)."""
        return {MANIFEST} | {f["path"].split("/", 1)[0] for f in previous_files(self.out)}

    def commit(self) -> None:
        assert self.stage is not None
        if self.out.exists() and not self.out.is_dir():
            raise OutputError(f"{self.out} exists and is not a folder")
        self.out.mkdir(exist_ok=True)
        owned = self._owned()
        staged = sorted((p.name for p in self.stage.iterdir()), key=lambda n: (n == MANIFEST, n))
        clash = [n for n in staged if n not in owned and not self.replace_unlisted and _exists(self.out / n)]
        if clash:
            raise OutputError(f"{self.out / clash[0]} exists and was not written by cfexport; move it away "
                              "or choose another --out")
        trash = Path(tempfile.mkdtemp(prefix=f"{self._prefix}old-", dir=self.out.parent))
        done: list[tuple[Path, Path]] = []  # renames made, to undo if one fails

        def move(src: Path, dst: Path) -> None:
            os.rename(src, dst)
            done.append((src, dst))

        try:
            for name in staged:  # each a single rename: a document is either the old one or the new one
                if _exists(self.out / name):
                    move(self.out / name, trash / name)
                move(self.stage / name, self.out / name)
            for name in owned - set(staged):
                if _exists(self.out / name):
                    move(self.out / name, trash / name)
        except OSError:
            for src, dst in reversed(done):  # put the previous outputs back as they were
                os.rename(dst, src)
            raise
        shutil.rmtree(trash, ignore_errors=True)

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self.commit()
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


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
