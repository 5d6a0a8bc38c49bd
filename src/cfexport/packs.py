"""Promotion packs: for a person moving from one level of a role to another, the
promotion case (Word), a self-assessment (Excel) and both levels' cards (PDF).

A round is a CSV of people; every row is checked before anything is written.
"""

from __future__ import annotations

import csv
import gc
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from cfexport.exporters.base import Context
from cfexport.model import Framework, Problem, Role, Source
from cfexport.output import StagedOutput
from cfexport.slugs import safe_file_name, slugify
from cfexport.text import DecodeError, clean, decode, normalise
from cfexport.workers import imap

CSV_HEADER = ["person", "role", "current_level", "target_level", "manager"]


class PackError(Exception):
    """A request that cannot become a pack; the message says what the valid choices are."""


@dataclass(frozen=True, slots=True)
class PackRequest:
    person: str
    track: str  # craft/specialism id as `cfexport list` prints it
    current: int
    target: int
    manager: str | None = None
    source: Source | None = None  # the CSV file and line, when it came from one


@dataclass(frozen=True, slots=True)
class Pack:
    """A checked request: the two roles and the folder it goes to."""

    request: PackRequest
    current: Role
    target: Role
    folder: str


def tracks(framework: Framework) -> dict[str, tuple]:
    """Every role id a pack takes (`craft/specialism`, or `craft` without specialisms)."""
    return {c.track_id(s): (c, s) for c in framework.crafts for s in c.tracks()}


def resolve(framework: Framework, track: str, current: int, target: int,
            known: dict[str, tuple] | None = None) -> tuple[Role, Role]:
    """The current and target roles, or a PackError naming the valid ids and levels.
    `known` is `tracks(framework)` when the caller checks many requests."""
    known = known if known is not None else tracks(framework)
    key = track.strip().strip("/")
    if key not in known:  # a role id with its level, or a specialism's own id, if unambiguous
        base = key.rsplit("/", 1)[0] if key.rsplit("/", 1)[-1].isdigit() else key
        matches = [t for t in known if t == base or t.endswith("/" + slugify(base))]
        if len(matches) != 1:
            raise PackError(f"unknown role '{track}'; roles are: {', '.join(known)} (see `cfexport list`)")
        key = matches[0]
    craft, specialism = known[key]
    numbers = [lv.number for lv in craft.levels]
    for label, n in (("current", current), ("target", target)):
        if n not in numbers:
            raise PackError(f"{label} level {n} does not exist for '{key}'; levels are: "
                            f"{', '.join(map(str, numbers))}")
    if target <= current:
        raise PackError(f"target level {target} is not above the current level {current}")
    return Role(craft, specialism, craft.level(current)), Role(craft, specialism, craft.level(target))


def plan(framework: Framework, requests: list[PackRequest]) -> tuple[list[Pack], list[Problem]]:
    """Check every request; returns the packs and one error per bad request (with its CSV line)."""
    packs, errors, taken = [], [], set()
    known = tracks(framework)
    for req in requests:
        where = req.source or Source("--role", 1)
        if not req.person.strip():
            errors.append(Problem("error", where, "person is empty"))
            continue
        try:
            current, target = resolve(framework, req.track, req.current, req.target, known)
        except PackError as exc:
            errors.append(Problem("error", where, str(exc)))
            continue
        stem = f"{safe_file_name(req.person, 60)}-{safe_file_name(current.track_id.replace('/', '-'))}" \
               f"-level-{req.current}-to-{req.target}"
        folder, n = stem, 1
        while folder.casefold() in taken:  # two people of one name: never one folder
            n += 1
            folder = f"{stem}-{n}"
        taken.add(folder.casefold())
        packs.append(Pack(req, current, target, folder))
    return packs, errors


def read_people(path: Path, problems: list[Problem] | None = None) -> tuple[list[PackRequest], list[Problem]]:
    """The rows of a round's CSV, and one message per bad row naming its line. Characters no
    document can hold are dropped from the cells, with a warning added to `problems`."""
    try:
        text = decode(path.read_bytes())
    except DecodeError as exc:
        return [], [Problem("error", Source(str(path), exc.line), exc.message)]
    except OSError as exc:
        return [], [Problem("error", Source(str(path), 1), f"cannot read the file: {exc.strerror or exc}")]
    reader = csv.reader(io.StringIO(text.replace("\r\n", "\n")))
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header] != CSV_HEADER:
        return [], [Problem("error", Source(str(path), 1), f"the header must be exactly: {','.join(CSV_HEADER)}")]
    requests, errors = [], []
    problems = problems if problems is not None else []
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(CSV_HEADER):
            errors.append(Problem("error", Source(str(path), line), f"expected {len(CSV_HEADER)} columns "
                                  f"({','.join(CSV_HEADER)}), found {len(row)}"))
            continue
        person, track, cur, tgt, manager = (clean(normalise(c).strip(), Source(str(path), line), problems)
                                            for c in row)
        try:
            current, target = int(cur), int(tgt)
        except ValueError:
            errors.append(Problem("error", Source(str(path), line), "current_level and target_level must be "
                                  f"level numbers, not '{cur}' and '{tgt}'"))
            continue
        requests.append(PackRequest(person, track, current, target, manager or None, Source(str(path), line)))
    return requests, errors


def render_pack(framework: Framework, pack: Pack, context: Context) -> dict[str, bytes]:
    """The three documents of one pack, by file name."""
    from cfexport.exporters.docx import render_promotion_case
    from cfexport.exporters.pdf import render_pack_cards
    from cfexport.exporters.xlsx import render_self_assessment

    req = pack.request
    return {
        "promotion-case.docx": render_promotion_case(framework, pack.current, pack.target, req.person,
                                                     req.manager, context),
        "self-assessment.xlsx": render_self_assessment(framework, pack.current, pack.target, req.person,
                                                       req.manager, context),
        "level-cards.pdf": render_pack_cards(framework, pack.current, pack.target, context),
    }


def zip_pack(files: dict[str, bytes], folder: str, context: Context) -> bytes:
    """One pack as a zip with fixed entry dates (same input, same bytes)."""
    stamp = max(context.build_time.timetuple()[:6], (1980, 1, 1, 0, 0, 0))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return out.getvalue()


def _worker(framework: Framework, context: Context) -> dict:
    return {"framework": framework, "context": context, "count": 0}


def _render(state: dict, pack: Pack) -> tuple[dict[str, bytes], list[Problem]]:
    ctx: Context = state["context"]
    ctx.problems = []
    files = render_pack(state["framework"], pack, ctx)
    state["count"] += 1
    if state["count"] % 25 == 0:  # python-docx documents form reference cycles: keep memory flat
        gc.collect()
    return files, ctx.problems


def render_packs(framework: Framework, packs: list[Pack], context: Context, jobs: int = 1
                 ) -> Iterator[tuple[Pack, dict[str, bytes], list[Problem]]]:
    results = imap(_worker, (framework, context), _render, packs, jobs, chunks_per_worker=8)
    for pack, (files, problems) in zip(packs, results):
        yield pack, files, problems


def write_packs(framework: Framework, packs: list[Pack], out: Path, context: Context, jobs: int = 1,
                as_zip: bool = False, progress: Callable[[int], None] | None = None) -> tuple[list[str], list[Problem]]:
    """Render every pack into `out/packs/` (all or nothing); returns the paths written, relative to `out`."""
    written, problems = [], []
    with StagedOutput(Path(out) / "packs", replace_unlisted=True) as stage:
        for pack, files, probs in render_packs(framework, packs, context, jobs):
            problems.extend(probs)
            if as_zip:
                stage.write(f"{pack.folder}.zip", zip_pack(files, pack.folder, context))
                written.append(f"packs/{pack.folder}.zip")
            else:
                for name, data in files.items():
                    stage.write(f"{pack.folder}/{name}", data)
                written.append(f"packs/{pack.folder}/")
            if progress:
                progress(1)
    return written, list(dict.fromkeys(problems))
