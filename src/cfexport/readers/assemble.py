"""What the readers share when they build the model: findings, text tidied as the Jekyll
reader tidies it, ids made unique and coverage checked, with the same messages whatever the
format."""

from __future__ import annotations

import re
from pathlib import Path

from cfexport.model import Area, Level, Problem, Source
from cfexport.text import DecodeError, clean, decode, normalise

_SPACE = re.compile(r"[ \t\n]+")
_PARAGRAPHS = re.compile(r"\n[ \t]*\n")
MAX_FILE = 4 * 1024 * 1024  # bytes of one data file (YAML or markdown); real ones are tens of KB


class Findings:
    """The problems a reader found, in the order found."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def error(self, source: Source, message: str) -> None:
        self.problems.append(Problem("error", source, message))

    def warn(self, source: Source, message: str, code: str | None = None) -> None:
        self.problems.append(Problem("warning", source, message, code))

    def info(self, source: Source, message: str) -> None:
        self.problems.append(Problem("info", source, message))

    @property
    def failed(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


def squash(text: str) -> str:
    """One line: runs of ASCII white space to one space (as markdown shows them), trimmed."""
    return _SPACE.sub(" ", text).strip()


def paragraphs(text: str) -> str:
    """Prose as the Jekyll reader keeps it: paragraphs split at blank lines, each one line,
    joined by a blank line."""
    return "\n\n".join(p for p in (squash(p) for p in _PARAGRAPHS.split(text.strip())) if p)


def read_text(path: Path, rel: str, findings: Findings) -> str | None:
    """A UTF-8 file as normalised text (LF, NFC, characters no output can hold dropped), or
    None with an error naming the file."""
    try:
        if path.stat().st_size > MAX_FILE:
            findings.error(Source(rel, 0), f"the file is larger than {MAX_FILE // (1024 * 1024)} MiB; split it")
            return None
        text = normalise(decode(path.read_bytes()))
    except DecodeError as exc:
        findings.error(Source(rel, exc.line), exc.message)
        return None
    except OSError as exc:
        findings.error(Source(rel, 0), f"cannot read the file: {exc.strerror or exc}")
        return None
    return clean(text, Source(rel, 1), findings.problems)


def unique_ids(ids: list[str], sources: list[Source], what: str, findings: Findings) -> tuple[str, ...]:
    """Ids as given, a repeated one suffixed `-2`, `-3`... with a warning (as the Jekyll reader does)."""
    out: list[str] = []
    for wanted, source in zip(ids, sources):
        new, n = wanted, 1
        while new in out:
            n += 1
            new = f"{wanted}-{n}"
        if new != wanted:
            findings.warn(source, f"two {what}s would have the id '{wanted}'; this one is '{new}' "
                          "(rename one to keep ids stable)")
        out.append(new)
    return tuple(out)


def check_coverage(areas: tuple[Area, ...], levels: list[Level], findings: Findings, severity: str = "warning",
                   hint: str = "add it, or mark it TODO") -> None:
    """A level that says nothing about an area of its craft, in the Jekyll reader's words."""
    for level in levels:
        present = {e.area_id for e in level.expectations}
        for area in areas:
            if area.id not in present:
                findings.problems.append(Problem(severity, level.source, f"level {level.number} leaves out the area "
                                                 f"'{area.title}' ({area.source}); {hint}"))


def folder_title(path: Path, skip: tuple[str, ...]) -> str:
    """A framework's title from its folder when the data names none: "engineering-progression/data"
    -> "Engineering Progression" (folders named in `skip`, like `data`, are passed over)."""
    for part in reversed(path.absolute().parts):
        if part and part not in skip and part != path.absolute().anchor:
            return " ".join(w[:1].upper() + w[1:] for w in re.split(r"[-_\s]+", part) if w)
    return "Career framework"
