"""One version of the framework, from a folder or from a git revision, read by the same
reader as `build` reads the working tree.

A revision is read straight from git's objects with the `git` command's read-only
plumbing (`rev-parse`, `ls-tree`, `cat-file --batch`, `describe`, `tag`): its site is
written into a temporary folder, read, and the folder removed. Nothing is checked out,
the index is never written (`GIT_OPTIONAL_LOCKS=0`; git's variables that would point at
another index or work tree are dropped), and the user's working tree is never touched.
`git` rather than a pure-Python library: every machine with a repository has it, it reads
every repository format (packs, shallow clones, worktrees, alternates, reftables) that
git itself writes, and it needs no new dependency.
"""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cfexport.model import Framework, Problem, ReadResult
from cfexport.readers import read_framework
from cfexport.readers.jekyll.site import CONFIG, MAX_PAGE_BYTES

_DROPPED_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_NAMESPACE",
                "GIT_CEILING_DIRECTORIES", "GIT_PREFIX")
_CHUNK = 1 << 16


class RevisionError(Exception):
    """A revision that cannot be read: unknown, no framework there, no git. `usage`: the
    command line names something that does not exist (exit 2); else the input is at fault."""

    def __init__(self, message: str, usage: bool = True):
        super().__init__(message)
        self.message = message
        self.usage = usage


@dataclass(frozen=True)
class Version:
    """One side of a comparison: what the user named, its label in documents, what was read."""

    spec: str  # as given: a revision or a folder
    label: str  # the index page's `version:`, else `git describe`, else the folder name
    result: ReadResult
    is_revision: bool

    @property
    def framework(self) -> Framework | None:
        return self.result.framework

    def where(self, problem: Problem) -> str:
        """A problem as FILE:LINE: severity: message, the file prefixed with the revision."""
        file = f"{self.spec}:{problem.source.file}" if self.is_revision else \
            str(Path(self.spec) / problem.source.file)
        line = f":{problem.source.line}" if problem.source.line else ""
        return f"{file}{line}: {problem.severity}: {problem.message}"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV}
    env.update(GIT_OPTIONAL_LOCKS="0", GIT_TERMINAL_PROMPT="0", LC_ALL="C", LANGUAGE="C")
    return env


def _git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    git = shutil.which("git")
    if git is None:
        raise RevisionError("git is not installed (or not on the PATH): it is needed to read a revision; "
                            "install git, or pass folders to --from and --to")
    proc = subprocess.run([git, "-C", str(repo), *args], capture_output=True, env=_env(), stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise RevisionError(f"git {args[0]} failed: {proc.stderr.decode('utf-8', 'replace').strip()}", usage=False)
    return proc


def _existing(path: Path) -> Path:
    path = path.absolute()
    for candidate in (path, *path.parents):
        if candidate.is_dir():
            return candidate
    return Path.cwd()


def repository(framework_dir: Path) -> tuple[Path, str]:
    """The repository holding `framework_dir` and the folder's path in it ("" at the top).
    The folder need not exist in the working tree (it may exist only in old revisions)."""
    near = _existing(framework_dir)
    proc = _git(near, "rev-parse", "--show-toplevel", check=False)
    if proc.returncode != 0:
        raise RevisionError(f"error: {framework_dir} is not in a git repository, so revisions cannot be read; "
                            "pass folders to --from and --to, or --framework a folder inside a repository",
                            usage=True)
    top = Path(proc.stdout.decode("utf-8", "surrogateescape").strip()).resolve()
    target = near.resolve() / framework_dir.absolute().relative_to(near)  # the part that exists, resolved
    try:
        rel = target.relative_to(top).as_posix()
    except ValueError:
        raise RevisionError(f"error: {framework_dir} is outside the repository {top}") from None
    return top, "" if rel == "." else rel


def resolve(repo: Path, rev: str) -> str:
    """The commit `rev` names; unknown: an error naming it and the tags nearest to it."""
    if not rev or rev.startswith("-") or any(c in rev for c in "\0\n"):
        raise RevisionError(f"error: '{rev}' is not a revision or a folder")
    proc = _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}", check=False)
    if proc.returncode == 0:
        return proc.stdout.decode().strip()
    tags = _git(repo, "tag", "--list", "--sort=-creatordate", check=False).stdout.decode("utf-8", "replace").split()
    near = difflib.get_close_matches(rev, tags, n=5, cutoff=0.4) or tags[:5]
    hint = f"; tags nearby: {', '.join(near)}" if near else "; the repository has no tags"
    raise RevisionError(f"error: unknown revision '{rev}' in {repo} (not a folder either){hint}")


def describe(repo: Path, commit: str, rev: str) -> str:
    proc = _git(repo, "describe", "--tags", "--always", commit, check=False)
    return proc.stdout.decode("utf-8", "replace").strip() or rev


def _exists(repo: Path, commit: str, path: str, kind: str) -> bool:
    proc = _git(repo, "cat-file", "-t", f"{commit}:{path}", check=False)
    return proc.returncode == 0 and proc.stdout.decode().strip() == kind


def site_path(repo: Path, commit: str, rel: str) -> str:
    """The folder of the revision to write out: the nearest one up from the framework folder
    holding `_config.yml` (the site root, as the reader finds it), else the framework folder."""
    parts = PurePosixPath(rel).parts if rel else ()
    for n in range(len(parts), -1, -1):
        candidate = "/".join(parts[:n])
        if _exists(repo, commit, f"{candidate}/{CONFIG}" if candidate else CONFIG, "blob"):
            return candidate
    return rel


def materialise(repo: Path, commit: str, subtree: str, dest: Path) -> None:
    """Write the files of `subtree` at `commit` under `dest`, at their paths in the repository.
    Blobs are streamed; a file larger than any page the reader accepts is written only as far
    as the reader looks (so it still reports the page as too large)."""
    listing = _git(repo, "ls-tree", "-r", "-z", "--full-tree", commit, "--", subtree or ".").stdout
    entries = []
    for raw in listing.split(b"\0"):
        if not raw:
            continue
        meta, _, name = raw.partition(b"\t")
        mode, kind, oid = meta.decode().split()
        path = PurePosixPath(name.decode("utf-8", "surrogateescape"))
        if kind != "blob" or path.is_absolute() or any(p in ("", ".", "..", ".git") for p in path.parts):
            continue  # submodules, and names no checkout would write
        entries.append((mode, oid, path))
    if not entries:
        return
    git = shutil.which("git")
    proc = subprocess.Popen([git, "-C", str(repo), "cat-file", "--batch"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_env())

    def feed() -> None:
        try:
            for _, oid, _ in entries:
                proc.stdin.write(oid.encode() + b"\n")
            proc.stdin.close()
        except BrokenPipeError:
            pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        for mode, oid, path in entries:
            header = proc.stdout.readline().split()
            if len(header) != 3:
                raise RevisionError(f"git cat-file could not read {path} ({oid})", usage=False)
            size = int(header[2])
            target = dest.joinpath(*path.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            keep = MAX_PAGE_BYTES + 1
            data = bytearray()
            left = size
            while left:
                chunk = proc.stdout.read(min(_CHUNK, left))
                if not chunk:
                    raise RevisionError(f"git cat-file stopped while reading {path}", usage=False)
                left -= len(chunk)
                if len(data) < keep:
                    data += chunk[: keep - len(data)]
            proc.stdout.read(1)  # the newline after each object
            if mode == "120000":  # a symlink: the reader follows it only inside the site, as in a checkout
                os.symlink(data.decode("utf-8", "surrogateescape"), target)
            else:
                target.write_bytes(bytes(data))
    finally:
        feeder.join()
        proc.stdout.close()
        proc.wait()


def read_revision(repo: Path, rel: str, rev: str, root: str | None) -> Version:
    commit = resolve(repo, rev)
    if rel and not _exists(repo, commit, rel, "tree"):
        raise RevisionError(f"error: the framework folder {rel} does not exist at {rev}")
    site = site_path(repo, commit, rel)
    with tempfile.TemporaryDirectory(prefix="cfexport-rev-") as tmp:
        top = Path(tmp) / "r"
        top.mkdir()
        (top / ".git").write_bytes(b"")  # the reader looks for the site root no further up than this
        materialise(repo, commit, site, top)
        folder = top.joinpath(*PurePosixPath(rel).parts) if rel else top
        folder.mkdir(parents=True, exist_ok=True)
        result = read_framework(folder, root)
    fw = result.framework
    label = (fw.version if fw is not None and fw.version else None) or describe(repo, commit, rev)
    return Version(rev, label, result, True)


def read_folder(folder: Path, root: str | None) -> Version:
    result = read_framework(folder, root)
    fw = result.framework
    label = (fw.version if fw is not None and fw.version else None) or folder.absolute().name
    return Version(str(folder), label, result, False)


def read_version(spec: str | None, framework_dir: Path, root: str | None) -> Version:
    """`spec` as a folder when one exists at that path, else as a revision of the repository
    holding `framework_dir`; None: the framework folder as it is on disk (the working tree)."""
    if spec is None:
        if not framework_dir.is_dir():
            raise RevisionError(f"error: framework folder {framework_dir} not found; pass --framework DIR "
                                "or --to REVISION")
        return read_folder(framework_dir, root)
    if Path(spec).is_dir():
        return read_folder(Path(spec), root)
    try:
        repo, rel = repository(framework_dir)
    except RevisionError as exc:
        raise RevisionError(f"error: '{spec}' is not a folder; " + exc.message.removeprefix("error: ")) from None
    return read_revision(repo, rel, spec, root)
