"""`site.data`: the files of a Jekyll site's `_data` folder, as Liquid sees them.

Jekyll loads every `.yml`, `.yaml`, `.json`, `.csv` and `.tsv` file of `_data/` (or the
folder `data_dir` names) into `site.data`, keyed by file name without its extension, a
sub-folder as a nested set (`_data/teams/ml.yml` is `site.data.teams.ml`). A page whose
table reads `{{ site.data.terms.sla }}` shows that text on the site, so the reader must see
it too: left undefined, it would be an empty cell, text lost without a word.

YAML is read as front matter is (safe, no aliases, duplicate keys refused, values as
written); CSV and TSV as Jekyll reads them, a header row then one set of values per row. A
file that cannot be read is a warning naming it and its line, and is left out (a page that
uses it then shows nothing there, as it would if the file were missing); sizes are bounded.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from cfexport import frontmatter
from cfexport.model import Problem, Source
from cfexport.text import DecodeError, decode, normalise

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_FILES = 1_000
MAX_DEPTH = 8
EXTENSIONS = (".yml", ".yaml", ".json", ".csv", ".tsv")


def load_data(root: Path, data_dir: str) -> tuple[dict, list[Problem]]:
    """`site.data` for the site at `root`, and the problems of its files."""
    problems: list[Problem] = []
    folder = (root / data_dir).absolute()
    data: dict = {}
    try:
        inside = folder.resolve().is_relative_to(root.resolve())
    except OSError:
        inside = False
    if not inside or not folder.is_dir():
        return data, problems
    count = 0
    for here, dirs, files in os.walk(folder):
        dirs.sort()
        depth = len(Path(here).relative_to(folder).parts)
        if depth >= MAX_DEPTH:
            dirs.clear()
        for name in sorted(files):
            path = Path(here) / name
            stem, ext = os.path.splitext(name)
            if ext.lower() not in EXTENSIONS or name.startswith(".") or path.is_symlink():
                continue
            count += 1
            rel = path.relative_to(root).as_posix()
            if count > MAX_FILES:
                problems.append(Problem("warning", Source(rel, 1), f"more than {MAX_FILES} data files; the rest "
                                        "are not read"))
                return data, problems
            value = _read(path, rel, ext.lower(), problems)
            if value is None:
                continue
            target = data
            for part in Path(here).relative_to(folder).parts:
                nested = target.setdefault(part, {})
                if not isinstance(nested, dict):
                    break
                target = nested
            else:
                target[stem] = value
    return data, problems


def _read(path: Path, rel: str, ext: str, problems: list[Problem]):
    def warn(line: int, message: str) -> None:
        problems.append(Problem("warning", Source(rel, line), f"{message}; site.data leaves this file out"))

    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            warn(1, f"a data file larger than {MAX_FILE_BYTES // 2**20} MiB")
            return None
        text = normalise(decode(path.read_bytes()))
    except DecodeError as exc:
        warn(exc.line, exc.message)
        return None
    except OSError as exc:
        warn(1, f"cannot read the file: {exc.strerror or exc}")
        return None
    if ext in (".yml", ".yaml"):
        try:
            return frontmatter.load_typed(text, 1, rel)  # typed as Jekyll types it
        except frontmatter.YamlError as exc:
            warn(exc.line, exc.message)
            return None
    if ext == ".json":
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as exc:
            warn(getattr(exc, "lineno", 1), f"not JSON: {getattr(exc, 'msg', exc)}")
            return None
    reader = csv.DictReader(io.StringIO(text), delimiter="\t" if ext == ".tsv" else ",")
    try:
        return [{k: v for k, v in row.items() if k is not None} for row in reader]  # None: cells past the header
    except csv.Error as exc:
        warn(reader.line_num, f"cannot read this line as CSV: {exc}")
        return None
