"""Readers are plugins, found through the entry-point group `cfexport.readers`, like exporters.

A reader is a class with
- `name` (the `--from-format` value and its entry-point name) and `looks_for` (one line: what
  it recognises, shown by `cfexport formats` and when no reader recognises a path);
- `recognise(path) -> int`: 0 when the path is not in its format, 1 when it can read it as a
  fallback (the Jekyll reader, for any folder), 2 when the path is plainly its format; it
  must be cheap and never raise;
- `read(path, root) -> ReadResult`: the canonical model and every problem found.

Sources in the model are relative to the framework folder, or to the folder of the file
when the framework is one file (a workbook, one FT job-family file). The built-in readers
are declared in pyproject.toml the same way a third-party package declares its own.
"""

from __future__ import annotations

import sys
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

from cfexport.model import Problem, ReadResult, Source
from cfexport.registry import UnknownFormat

GROUP = "cfexport.readers"
DEFAULT = "jekyll"


def available() -> dict[str, EntryPoint]:
    """Installed readers by name (nothing is imported). Scanning the installed packages takes
    a few milliseconds: a read scans once, not once per reader, and `build --watch` (a memo
    session) scans once for the whole session (a reader installed meanwhile is seen when it
    is started again)."""
    from cfexport.readers import memo

    return memo.remember(memo.key("reader entry points", sys.path), _scan)


def _scan() -> dict[str, EntryPoint]:
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=GROUP):
        if ep.name in found and found[ep.name].value != ep.value:
            raise UnknownFormat(f"two readers are installed under the name '{ep.name}' "
                                f"({found[ep.name].value} and {ep.value}); uninstall one")
        found[ep.name] = ep
    return dict(sorted(found.items()))


def load(name: str, installed: dict[str, EntryPoint] | None = None):
    """The reader installed as `name` (among `installed`, when the caller has them); UnknownFormat
    (a usage error) when there is none."""
    installed = available() if installed is None else installed
    if name not in installed:
        raise UnknownFormat(f"unknown --from-format '{name}'; installed readers: "
                            f"{', '.join(installed) or 'none'}")
    cls = installed[name].load()
    if getattr(cls, "name", None) != name:
        raise UnknownFormat(f"reader {installed[name].value} says its name is {getattr(cls, 'name', None)!r}, "
                            f"but is installed as '{name}'")
    return cls()


def readers() -> list:
    """An instance of every installed reader, by name."""
    installed = available()
    return [load(name, installed) for name in installed]


def detect(path: Path):
    """The reader that recognises `path` best (a specific format before the fallback), or None."""
    best, score = None, 0
    for reader in readers():
        try:
            mine = int(reader.recognise(path))
        except Exception:  # a plugin's bug must not hide the other readers
            mine = 0
        if mine > score:
            best, score = reader, mine
    return best


def unrecognised(path: Path) -> ReadResult:
    """No reader recognises `path`: say what each looks for."""
    lines = "; ".join(f"{r.name}: {r.looks_for}" for r in readers())
    return ReadResult(None, (Problem("error", Source(str(path), 0),
                                     f"no reader recognises this; the readers and what each looks for: {lines}. "
                                     "Pass --from-format NAME to force one"),))


def read(path: str | Path, root: str | None = None, from_format: str | None = None) -> ReadResult:
    path = Path(path)
    reader = load(from_format) if from_format else detect(path)
    if reader is None:
        return unrecognised(path)
    return reader.read(path, root)
