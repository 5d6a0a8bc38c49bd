"""Writing an output folder safely: everything goes to a staging folder beside it, and
the previous outputs are replaced only when every document was written.

A crash, a kill or an error while documents are rendered leaves the previous folder as it
was; a second build into the same folder at the same time is refused, not interleaved.
Files in the folder that cfexport did not write (not in the previous manifest) are kept.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath

MANIFEST = "manifest.json"
_STAGING_PREFIX = ".cfexport-staging-"
_TRASH_PREFIX = ".cfexport-old-"


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
    """`with StagedOutput(out) as stage: stage.write(rel, data)`; committed on a clean exit."""

    def __init__(self, out: str | Path):
        self.out = Path(out).absolute()
        self.stage: Path | None = None
        self._lock_fd: int | None = None

    def __enter__(self) -> StagedOutput:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        lock = _lock_path(self.out)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise OutputError(f"another cfexport is writing {self.out}; wait for it to finish") from None
        self._lock_fd = fd
        self._clean_leftovers()
        self.stage = Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=self.out.parent))
        self.stage.chmod(0o777 & ~_umask())
        return self

    def _clean_leftovers(self) -> None:
        """Staging folders of a build that was killed (we hold the lock, so none is live)."""
        for prefix in (_STAGING_PREFIX, _TRASH_PREFIX):
            for old in self.out.parent.glob(f"{prefix}*"):
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
        if self.out.exists():
            if not self.out.is_dir():
                raise OutputError(f"{self.out} exists and is not a folder")
            owned = self._owned()
            staged = {p.name for p in self.stage.iterdir()}
            for entry in self.out.iterdir():  # keep what is not ours (a placeholder, packs, notes)
                if entry.name not in owned and entry.name not in staged:
                    os.rename(entry, self.stage / entry.name)
            trash = Path(tempfile.mkdtemp(prefix=_TRASH_PREFIX, dir=self.out.parent))
            os.rename(self.out, trash / "old")
            os.rename(self.stage, self.out)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.rename(self.stage, self.out)
        self.stage = None

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self.commit()
        finally:
            if self.stage is not None:
                shutil.rmtree(self.stage, ignore_errors=True)
            if self._lock_fd is not None:
                try:  # removed while still held, so no one can take a lock on a stale file
                    _lock_path(self.out).unlink()
                except OSError:
                    pass
                os.close(self._lock_fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
