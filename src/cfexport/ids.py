"""Stable ids for the nodes of the model, and the source map that goes with them.

A statement's id says where it is and what it says:

    mlengineer/ml-engineer/5/machine-learning-and-deep-learning/3f2a9c1b
    └ craft ─┘└ specialism┘└level┘└──────── area ──────────────┘└ text ─┘

The last part is a short hash of the statement's text with its white space collapsed,
so the id survives every unrelated edit (other statements added, removed or reordered,
rows moved, cells re-wrapped, lines inserted above it); a shared statement has no
specialism part. Rewording a statement gives it a new id: `cfexport changes` pairs
the old and the new id by their wording (`compare`'s matching) and reports one rewording.
The same text twice in one area gets `-2`, `-3`, ... in page order.

Other nodes are known by keys built the same way (`mlengineer`, `mlengineer/5`,
`mlengineer/ml-ops` for an area, `mlengineer/5/ml-ops` for one level's row of an area).
Nothing here knows about files or formats: it only reads the model.
"""

from __future__ import annotations

import hashlib
from typing import Iterator

from cfexport.model import Craft, Expectation, Framework, Level, Source, Statement
from cfexport.slugs import slugify

HASH_CHARS = 8


def words(text: str) -> str:
    """The text as a comparison sees it: white space (line breaks, runs of spaces) collapsed."""
    return " ".join(text.split())


def track(craft: Craft, specialism: str | None) -> str:
    """`craft` for shared expectations, `craft/specialism-id` for a specialism's (a specialism
    the craft page does not define gets the slug of its name)."""
    if specialism is None:
        return craft.id
    if specialism in craft.specialisms:
        return craft.track_id(specialism)
    return f"{craft.id}/{slugify(specialism) or 'specialism'}"


def level_key(craft: Craft, level: Level) -> str:
    return f"{craft.id}/{level.number}"


def area_key(craft: Craft, area_id: str) -> str:
    return f"{craft.id}/{area_id}"


def expectation_key(craft: Craft, level: Level, exp: Expectation) -> str:
    return f"{track(craft, exp.specialism)}/{level.number}/{exp.area_id}"


def text_hash(text: str) -> str:
    return hashlib.sha256(words(text).encode("utf-8")).hexdigest()[:HASH_CHARS]


def statement_ids(craft: Craft, level: Level, exp: Expectation) -> tuple[str, ...]:
    """The ids of one row's statements, in order."""
    base = expectation_key(craft, level, exp)
    seen: dict[str, int] = {}
    out = []
    for st in exp.statements:
        h = text_hash(st.text)
        seen[h] = seen.get(h, 0) + 1
        out.append(f"{base}/{h}" if seen[h] == 1 else f"{base}/{h}-{seen[h]}")
    return tuple(out)


def walk_statements(framework: Framework) -> Iterator[tuple[Craft, Level, Expectation, Statement, str]]:
    """Every statement with where it is and its id, in page order."""
    for craft in framework.crafts:
        for level in craft.levels:
            for exp in level.expectations:
                for st, sid in zip(exp.statements, statement_ids(craft, level, exp)):
                    yield craft, level, exp, st, sid


SOURCE_KINDS = ("framework", "crafts", "areas", "levels", "expectations", "statements")


def sources(framework: Framework, kind: str) -> Iterator[tuple[str, Source]]:
    """Where every node of one kind (`SOURCE_KINDS`) was written, by key, in page order; a
    key met twice (two areas with one id) keeps its first place and its last source, as a
    dict of them all would. Two passes, so that the map is never held whole."""
    seen: set[str] = set()
    last: dict[str, Source] = {}
    for key, source in _sources(framework, kind):
        if key in seen:
            last[key] = source
        seen.add(key)
    seen.clear()
    for key, source in _sources(framework, kind):
        if key not in seen:
            seen.add(key)
            yield key, last.get(key, source)


def _sources(framework: Framework, kind: str) -> Iterator[tuple[str, Source]]:
    if kind == "framework":
        yield "framework", framework.source
        return
    for craft in framework.crafts:
        if kind == "crafts":
            yield craft.id, craft.source
        elif kind == "areas":
            for area in craft.areas:
                yield area_key(craft, area.id), area.source
        elif kind in ("levels", "expectations", "statements"):
            for level in craft.levels:
                if kind == "levels":
                    yield level_key(craft, level), level.source
                    continue
                for exp in level.expectations:
                    if kind == "expectations":
                        yield expectation_key(craft, level, exp), exp.source
                        continue
                    for st, sid in zip(exp.statements, statement_ids(craft, level, exp)):
                        yield sid, st.source
