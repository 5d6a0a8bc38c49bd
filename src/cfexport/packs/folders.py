"""Writing promotion packs: each pack's three documents (`render_pack`: the promotion case,
the self-assessment and both levels' cards), rendered in worker processes and written into
OUT/packs/ all or nothing (`write_packs`), as folders or zips, with the round's index.

A pack folder (or zip) is one pack: the person, their manager and the role move, recorded
in the folder's `pack.json` with the files cfexport wrote there. Another pack never takes
it (a namesake gets the next free suffix, the same one round after round), and a file the
user added to a pack folder is never touched: only the files `pack.json` lists are replaced.
"""

from __future__ import annotations

import gc
import itertools
import json
import os
import re
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterator, Sequence

from cfexport import __version__, workers
from cfexport.exporters.base import Context
from cfexport.model import Framework, Problem, Role
from cfexport.output import OutputError, StagedOutput
from cfexport.packs.requests import Pack, _identity

PACK_RECORD = "pack.json"
_MAX_RECORD = 64 * 1024
CHUNK = 4  # at most this many packs of one move per chunk a worker is handed (see pack_chunks)
# the files `render_pack` makes, and the record: what a round writes into each pack folder (checked
# in a folder an earlier round made before any pack is rendered, see `_FolderUpdates.check`)
PACK_FILES = ("promotion-case.docx", "self-assessment.xlsx", "level-cards.pdf", PACK_RECORD)


def render_pack(framework: Framework, pack: Pack, context: Context) -> dict[str, bytes]:
    """The three documents of one pack, by file name."""
    from cfexport.packs.promotion_case import render_promotion_case
    from cfexport.packs.self_assessment import render_self_assessment

    from cfexport.collect.provenance import stamp_pack

    req = pack.request
    changes = _compared(pack.current, pack.target)
    # the Word and Excel files as saved, not normalised: stamp_pack writes them again, normalised
    files = {
        "promotion-case.docx": render_promotion_case(framework, pack.current, pack.target, req.person,
                                                     req.manager, context, changes, normalise=False),
        "self-assessment.xlsx": render_self_assessment(framework, pack.current, pack.target, req.person,
                                                       req.manager, context, changes, normalise=False),
        "level-cards.pdf": _pack_cards(framework, pack, context, changes),
    }
    # what the Word and Excel files were made from, in their custom properties (read back by `collect`)
    return stamp_pack(files, framework, pack.current, pack.target, req.person, req.manager, context, changes)


_CHANGES: dict[tuple[int, int], tuple[Role, Role, tuple]] = {}  # this process's comparisons (see _compared)
_CHANGES_KEPT = 8


def _compared(current: Role, target: Role) -> tuple:
    """`compare(current, target)`, which every document of a pack asks for (four times a pack),
    once per move in a process. Keyed by the roles themselves, not by equal ones: the
    record `stamp_pack` writes finds a statement's id by the statement object, so the changes
    must hold these roles' statements. An entry holds its roles, so their ids stay theirs."""
    from cfexport.compare import compare

    key = (id(current), id(target))
    hit = _CHANGES.get(key)
    if hit is not None and hit[0] is current and hit[1] is target:
        return hit[2]
    if len(_CHANGES) >= _CHANGES_KEPT:
        _CHANGES.pop(next(iter(_CHANGES)))
    changes = compare(current, target)
    _CHANGES[key] = (current, target, changes)
    return changes


_CARDS: dict[tuple, bytes] = {}  # this process's pack cards by what they are made from (see _pack_cards)
_CARDS_KEPT = 32


def _pack_cards(framework: Framework, pack: Pack, context: Context, changes: tuple | None = None) -> bytes:
    """A pack's level cards. They name no person, so every pack of a round that makes the same
    move shares them: rendered once per process (the slowest of a pack's documents). The key
    is what they are made from: the two roles (compared by value), the templates and the
    theme file as it is now, the build time and version."""
    from cfexport.exporters.level_cards import render_pack_cards
    from cfexport.theme import THEME_FILE

    try:
        theme = (Path(context.templates) / THEME_FILE).stat()
        theme_key = (theme.st_mtime_ns, theme.st_size)
    except OSError:
        theme_key = None
    key = (pack.current, pack.target, str(context.templates), theme_key, context.build_time, context.version,
           framework.title)
    if key not in _CARDS:
        if len(_CARDS) >= _CARDS_KEPT:
            _CARDS.pop(next(iter(_CARDS)))
        _CARDS[key] = render_pack_cards(framework, pack.current, pack.target, context, changes)
    return _CARDS[key]


def zip_pack(files: dict[str, bytes], folder: str, context: Context) -> bytes:
    """One pack as a zip with fixed entry dates (same input, same bytes)."""
    from cfexport.repro import zip_bytes

    return zip_bytes(((f"{folder}/{name}", data) for name, data in files.items()), context.build_time)


def _worker(framework: Framework, packs: Sequence[Pack], context: Context, as_zip: bool) -> dict:
    return {"framework": framework, "packs": packs, "context": context, "as_zip": as_zip, "count": 0}


def _render(state: dict, i: int) -> tuple[dict[str, bytes] | bytes, list[Problem]]:
    """Pack `i` of the round, ready to write: its files with its pack.json, or its zip."""
    ctx: Context = state["context"]
    pack = state["packs"][i]
    ctx.problems = []
    files = render_pack(state["framework"], pack, ctx)
    files[PACK_RECORD] = _record_bytes(pack, files, ctx.version)
    out = zip_pack(files, pack.folder, ctx) if state["as_zip"] else files
    state["count"] += 1
    if state["count"] % 25 == 0:  # python-docx documents form reference cycles: keep memory flat
        gc.collect()
    return out, ctx.problems


def pack_chunks(packs: Sequence[Pack], jobs: int = 1) -> tuple[list[list[int]], list[int]]:
    """How `render_packs` hands out a round: the indexes of the packs making one move (the
    same current and target role, whose level cards and comparison a worker makes once and
    keeps) in chunks of at most `CHUNK` (fewer for a small round, so that each worker gets
    a few), in the order of the packs; the moves in the order of their first pack. Returns
    the chunks and each chunk's move (a number): `workers.results` gives a move's chunks to
    one worker, so a round where everybody makes one move still uses every worker, and a
    move's cards are made once per round, not once per worker (but at the very end).

    Roles are grouped by identity first (`plan` makes one object per role for the whole
    round), and compared by value once per distinct pair, never once per pack."""
    groups: list[list[int]] = []
    by_id: dict[tuple[int, int], int] = {}
    by_value: dict[tuple[Role, Role], int] = {}
    for i, pack in enumerate(packs):
        ident = (id(pack.current), id(pack.target))
        move = by_id.get(ident)
        if move is None:
            move = by_id[ident] = by_value.setdefault((pack.current, pack.target), len(by_value))
            if move == len(groups):
                groups.append([])
        groups[move].append(i)
    cap = max(1, min(CHUNK, -(-len(packs) // (max(1, jobs) * 4))))
    chunks, moves = [], []
    for move, members in enumerate(groups):
        for start in range(0, len(members), cap):
            chunks.append(members[start:start + cap])
            moves.append(move)
    return chunks, moves


def warm(templates: Path) -> None:
    """What a worker started ahead of a round does while the main process reads the pages and
    the people: import the packs' documents (python-docx, openpyxl, reportlab) and load the
    Word template, the workbook's settings and the cards' fonts."""
    from datetime import datetime, timezone

    import cfexport.collect.provenance  # noqa: F401
    import cfexport.packs.promotion_case  # noqa: F401
    import cfexport.packs.self_assessment  # noqa: F401
    from cfexport.exporters import spreadsheet, word_template
    from cfexport.exporters.card_settings import _setup

    context = Context(templates=Path(templates).absolute(), build_time=datetime.now(timezone.utc), version="")
    word_template.template(context)
    spreadsheet.settings(context.templates)
    _setup(context.templates, pair=True)


def start_workers(jobs: int, templates: Path) -> workers.Pool | None:
    """Worker processes for a round, started before the framework is read so that they warm up
    meanwhile (`warm`); None with one job (the round is then rendered in this process)."""
    return workers.Pool(jobs, warm=warm, warm_args=(templates,)) if jobs > 1 else None


def render_packs(framework: Framework, packs: Sequence[Pack], context: Context, jobs: int = 1,
                 as_zip: bool = False, pool: workers.Pool | None = None
                 ) -> Iterator[tuple[int, dict[str, bytes] | bytes, list[Problem]]]:
    """(i, what to write, its problems) for each pack `packs[i]` (their folders assigned, see
    `assign_folders`), in the order they are done (`pack_chunks`: a move at a time, in `jobs`
    processes). What to write is the pack's files by name with its pack.json, or with
    `as_zip` its zip's bytes: made in the worker, so the main process only writes them. The
    workers inherit the packs (forked; spawned, each is sent them once) and are handed only
    their indexes, never a pickled pack (each reaches its whole craft). `pool` (from
    `start_workers`) renders in processes started earlier, which are sent the packs once."""
    state = (framework, packs, context, as_zip)
    if pool is not None and pool.alive:
        chunks, moves = pack_chunks(packs, pool.jobs)
        done = pool.results(_worker, state, _render, range(len(packs)), chunks=chunks, keys=moves)
    else:
        chunks, moves = pack_chunks(packs, jobs)
        done = workers.results(_worker, state, _render, range(len(packs)), jobs, chunks=chunks, keys=moves)
    for i, (out, problems) in done:
        yield i, out, problems


def write_packs(framework: Framework, packs: list[Pack], out: Path, context: Context, jobs: int = 1,
                as_zip: bool = False, progress: Callable[[int], None] | None = None,
                index: bool = False, pool: workers.Pool | None = None) -> tuple[Written, list[Problem]]:
    """Render every pack into `out/packs/` (all or nothing); returns the paths written, relative to `out`.
    `index` also writes the round's index, `round.csv` and `round.xlsx`, beside the packs.

    New folders and every zip go through StagedOutput; a folder an earlier round made for
    the same pack is updated file by file (only the files its pack.json lists), and those
    replacements are undone when anything of the round fails.

    Each pack's documents are written as they arrive, in the order the workers finish them,
    and then dropped: what is kept until the end does not grow with the packs (their list
    aside), so a round of 10,000 packs needs the memory of a round of a hundred. What
    depends on the order (the problems, `Written`, the round's index) follows the packs'
    order, never the order they were done in."""
    from cfexport.packs import round_index

    packs_dir = Path(out) / "packs"
    # each problem once, with the first pack that met it and where in its list (every pack may say the
    # same): packs complete in any order, the problems are sorted back into the order of the packs
    problems: dict[Problem, tuple[int, int]] = {}
    updates = _FolderUpdates(packs_dir)
    try:
        with StagedOutput(packs_dir, replace_unlisted=True) as stage:  # holds the lock on out/packs
            packs = assign_folders(packs, packs_dir)
            if index:
                round_index.check_replaceable(packs_dir)
            if not as_zip:  # a kept folder's file that is not cfexport's, named in the order of the packs
                for pack in packs:
                    if _is_real_dir(packs_dir / pack.folder):
                        updates.check(pack.folder, PACK_FILES)
            for i, files, probs in render_packs(framework, packs, context, jobs, as_zip, pool):
                for n, problem in enumerate(probs):
                    if (i, n) < problems.setdefault(problem, (i, n)):
                        problems[problem] = (i, n)
                pack = packs[i]
                if as_zip:
                    stage.write(f"{pack.folder}.zip", files)  # the zip's bytes
                elif _is_real_dir(packs_dir / pack.folder):  # this pack's own folder from an earlier round
                    updates.stage(pack.folder, files)
                else:
                    for name, data in files.items():
                        stage.write(f"{pack.folder}/{name}", data)
                if progress:
                    progress(1)
            if index:
                round_index.write(packs, as_zip, context, stage)
            updates.apply()  # last before the commit: undone below if the commit fails
    except BaseException:
        updates.undo()
        raise
    finally:
        updates.discard()
    return Written(packs, as_zip), sorted(problems, key=problems.__getitem__)


class Written(Sequence[str]):
    """The paths a round wrote, relative to `out`: `packs/FOLDER/`, or `packs/FOLDER.zip` with
    `as_zip`, in the order of the packs. Made from the packs when asked for, so a round keeps
    no second list of its folders."""

    def __init__(self, packs: Sequence[Pack], as_zip: bool):
        self._packs, self._as_zip = packs, as_zip

    def _path(self, pack: Pack) -> str:
        return f"packs/{pack.folder}.zip" if self._as_zip else f"packs/{pack.folder}/"

    def __len__(self) -> int:
        return len(self._packs)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._path(p) for p in self._packs[i]]
        return self._path(self._packs[i])

    def __eq__(self, other) -> bool:
        return list(self) == list(other) if isinstance(other, (list, tuple, Written)) else NotImplemented

    def __repr__(self) -> str:
        return f"Written({list(self)!r})"

    def other_forms(self, out: Path) -> list[str]:
        """The packs of this round that also have the other form on disk, left by an earlier round
        (`packs/FOLDER/` beside the zip this round wrote, or `packs/FOLDER.zip` beside the folder),
        relative to `out`. They are the same packs (a name is never another pack's), but out of
        date and not in the round's index: what to tell the user, who may have sent them out."""
        other = (lambda p: f"packs/{p.folder}/") if self._as_zip else (lambda p: f"packs/{p.folder}.zip")
        return [other(p) for p in self._packs if _exists(Path(out) / other(p).rstrip("/"))]


# --- which folder is whose ------------------------------------------------------------------------------------------

def _record_bytes(pack: Pack, files: dict[str, bytes], version: str | None = None) -> bytes:
    from cfexport.collect.provenance import pack_id

    rec = pack.record()
    record = {**rec, "pack_id": pack_id(rec["person"], rec["manager"], rec["role"], rec["current"], rec["target"]),
              "framework_version": version, "cfexport": __version__, "files": sorted(files)}
    return (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _parse_record(data: bytes | None) -> dict | None:
    """A pack.json as cfexport writes it, or None (missing, damaged, not ours)."""
    if data is None or len(data) > _MAX_RECORD:
        return None
    try:
        record = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not (isinstance(record, dict) and isinstance(record.get("person"), str)
            and isinstance(record.get("manager"), (str, type(None))) and isinstance(record.get("role"), str)
            and type(record.get("current")) is int and type(record.get("target")) is int
            and isinstance(record.get("files"), list) and all(isinstance(f, str) for f in record["files"])):
        return None
    return record


def _is_real_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def folder_record(folder: Path) -> dict | None:
    """The pack.json of a pack folder (None when the folder is not a pack cfexport recorded)."""
    if not _is_real_dir(folder):
        return None
    record_file = folder / PACK_RECORD
    if record_file.is_symlink() or not record_file.is_file():
        return None
    try:
        with open(record_file, "rb") as f:
            return _parse_record(f.read(_MAX_RECORD + 1))
    except OSError:
        return None


def zip_record(path: Path, folder: str) -> dict | None:
    """The pack.json inside a pack zip (None when the zip is not a pack cfexport recorded)."""
    if path.is_symlink() or not path.is_file():
        return None
    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo(f"{folder}/{PACK_RECORD}")
            if info.file_size > _MAX_RECORD:
                return None
            return _parse_record(zf.read(info))
    except (OSError, KeyError, zipfile.BadZipFile, RuntimeError, ValueError):
        return None


def _occupants(packs_dir: Path, name: str) -> list[dict | None]:
    """The packs already at `name` (as a folder, a zip or both); None for anything cfexport did not record."""
    found = []
    if _exists(packs_dir / name):
        found.append(folder_record(packs_dir / name))
    if _exists(packs_dir / f"{name}.zip"):
        found.append(zip_record(packs_dir / f"{name}.zip", name))
    return found


def assign_folders(packs: list[Pack], packs_dir: Path) -> list[Pack]:
    """Each pack's folder name: the first of `stem`, `stem-2`, ... that is free or already
    this pack's (same person, manager, role and levels, as its pack.json or zip says), in
    this round and on disk. So a pack keeps its folder round after round, and never takes
    another pack's, nor a folder or zip cfexport did not record."""
    taken: set[str] = set()
    assigned = []
    for pack in packs:
        n = 1
        while True:
            name = pack.stem if n == 1 else f"{pack.stem}-{n}"
            if name.casefold() not in taken:
                here = _occupants(packs_dir, name)
                if all(r is not None and _identity(r) == pack.identity() for r in here):
                    break
            n += 1
        taken.add(name.casefold())
        assigned.append(replace(pack, folder=name))
    return assigned


# --- replacing files inside a kept folder ---------------------------------------------------------------------------

_NEW, _OLD = ".cfexport-new-", ".cfexport-old-"
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


class _FolderUpdates:
    """The files of kept pack folders, replaced one by one as part of the round's all or nothing.

    `stage` writes the new files beside the old ones (`.cfexport-new-NAME`); `apply` moves
    each old file cfexport wrote to `.cfexport-old-NAME` and the new one into its place;
    `undo` reverses those renames; `discard` removes what is left over. Only names the
    folder's pack.json lists (and pack.json) are moved; anything else in the folder is the
    user's and stays as it is.

    A round may keep thousands of folders, so what is noted per folder is small: its name and
    the names of its files (one shared tuple for all), never paths; the renames `apply`
    made are a count and one flag per file (whether an old file was moved away first), from
    which `undo` knows them again."""

    def __init__(self, packs_dir: Path) -> None:
        self.packs_dir = packs_dir
        self.staged: list[tuple[str, tuple[str, ...]]] = []  # (folder, its new files), in order
        self.retire: list[tuple[str, str]] = []  # (folder, file) cfexport wrote before and does not write now
        self.existed: bytearray = bytearray()  # per staged file, in order: was an old one moved away (by apply)
        self.renamed = 0  # renames apply made (the first of `_renames()`), to undo
        self._shared: dict = {}  # one copy of each file name and tuple of names, for every folder

    def _one(self, value):
        return self._shared.setdefault(value, value)

    def check(self, name: str, files) -> set[str]:
        """The files of the folder cfexport wrote (as its pack.json lists them); an OutputError when one
        of `files` is there and is not one of them (the user's: never replaced). Before the round's packs
        are rendered (they are done in any order), for every kept folder in the order of the packs; and
        again as each is staged."""
        folder = self.packs_dir / name
        _recover(folder)
        previous = (folder_record(folder) or {}).get("files", [])
        ours = {n for n in previous if _PLAIN_NAME.fullmatch(n)} | {PACK_RECORD}
        for file in files:
            place = folder / file
            if file not in ours and _exists(place):
                raise OutputError(f"{place} exists and was not written by cfexport; move it away")
        return ours

    def stage(self, name: str, files: dict[str, bytes]) -> None:
        folder = self.packs_dir / name
        ours = self.check(name, files)
        self.staged.append((name, self._one(tuple(files))))  # first: discard removes what is written below
        for file, data in files.items():
            (folder / f"{_NEW}{file}").write_bytes(data)
        self.retire += [(name, self._one(n)) for n in sorted(ours - set(files)) if (folder / n).is_file()]

    def _renames(self) -> Iterator[tuple[str, str, str]]:
        """The renames `apply` makes, in order, as (folder, from, to); as far as `existed` goes."""
        flags = iter(self.existed)
        for name, files in self.staged:
            for file in files:
                flag = next(flags, None)
                if flag is None:
                    return
                if flag:
                    yield name, file, _OLD + file
                yield name, _NEW + file, file
        for name, file in self.retire:
            yield name, file, _OLD + file

    def apply(self) -> None:
        try:
            for name, files in self.staged:
                folder = self.packs_dir / name
                for file in files:
                    self.existed.append(_exists(folder / file))
                    if self.existed[-1]:
                        self._rename(folder / file, folder / (_OLD + file))
                    self._rename(folder / (_NEW + file), folder / file)
            for name, file in self.retire:
                self._rename(self.packs_dir / name / file, self.packs_dir / name / (_OLD + file))
        except OSError:
            self.undo()
            raise

    def _rename(self, src: Path, dst: Path) -> None:
        os.replace(src, dst)
        self.renamed += 1

    def undo(self) -> None:
        done = list(itertools.islice(self._renames(), self.renamed))
        for name, src, dst in reversed(done):
            try:
                os.replace(self.packs_dir / name / dst, self.packs_dir / name / src)
            except OSError:
                pass
        self.renamed = 0

    def discard(self) -> None:
        """Remove the staged new files not used and, once committed, the old ones."""
        leftovers = itertools.chain(((name, prefix + file) for name, files in self.staged for file in files
                                     for prefix in (_NEW, _OLD)), ((name, _OLD + file) for name, file in self.retire))
        for name, left in leftovers:
            path = self.packs_dir / name / left
            try:
                if _exists(path):
                    path.unlink()
            except OSError:
                pass
        self.staged, self.retire = [], []


def _recover(folder: Path) -> None:
    """Leftovers of a run that was killed while it replaced files in `folder`: an old file
    whose new one never arrived goes back; other leftovers of ours are removed."""
    for left in folder.glob(".cfexport-*"):
        if left.name.startswith(_OLD) and not _exists(folder / left.name[len(_OLD):]):
            os.replace(left, folder / left.name[len(_OLD):])
        elif left.name.startswith((_NEW, _OLD)) and left.is_file():
            left.unlink()
