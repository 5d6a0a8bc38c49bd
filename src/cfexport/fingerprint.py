"""What a document is made from, as bytes to hash: the key that lets `build` reuse a file.

An exporter may define `fingerprint(framework, document) -> bytes`: everything of the
model its `render` reads for that document. Without one, a document is made from the
whole model (always safe, never reused after any edit). The helpers here are the slices
the built-in exporters read: a role (with the next level of the same role, which its
description compares against), a craft, the whole framework. Each slice is the `repr`
of the frozen model nodes concerned: every field, text and source line included, so a
changed word or a moved line changes it, and an unchanged page leaves it equal.

An exporter may also name the files of the templates folder that style it
(`styled_by`, glob patterns); without it, every file there counts.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Iterator

from cfexport.model import Craft, Framework, Level, Role

_whole: list = []  # [(framework, digest)]: the last framework hashed whole (one build at a time)
_index: list = []  # [(framework, {craft id: craft})]
_headers: list = []  # [(framework, {craft id: craft_header})]: every role of a craft shares it
_code: dict[str, bytes] = {}


def _header(node, skip: str) -> str:
    """The repr of a node's fields except the big one (`skip`)."""
    return repr(tuple(getattr(node, f.name) for f in fields(node) if f.name != skip))


def framework_header(framework: Framework) -> bytes:
    """The framework's own fields (title, description, version...), not its crafts."""
    return _header(framework, "crafts").encode("utf-8")


def craft_header(craft: Craft) -> bytes:
    """A craft's own fields (title, areas, specialisms...) and every level's title, not what levels ask."""
    levels = tuple(_header(lv, "expectations") for lv in craft.levels)
    return (_header(craft, "levels") + repr(levels)).encode("utf-8")


def whole(framework: Framework) -> bytes:
    """The whole model (computed once per framework object)."""
    if _whole and _whole[0][0] is framework:
        return _whole[0][1]
    h = hashlib.sha256(framework_header(framework))
    for c in framework.crafts:  # a craft at a time: the repr of an extra-large framework is ~100 MB of text
        text = repr(c).encode("utf-8")
        h.update(len(text).to_bytes(8, "big") + text)
    digest = h.digest()
    _whole[:] = [(framework, digest)]
    return digest


def craft(framework: Framework, craft_id: str) -> Craft | None:
    if not (_index and _index[0][0] is framework):
        _index[:] = [(framework, {c.id: c for c in framework.crafts})]
    return _index[0][1].get(craft_id)


def craft_slice(framework: Framework, craft_id: str) -> bytes:
    """A craft with all its levels, and the framework's own fields."""
    found = craft(framework, craft_id)
    return framework_header(framework) + repr(found).encode("utf-8") if found else whole(framework)


_kept: list = []  # [this build's, the previous build's] slices of levels, while `keep_between_builds()`


def _level(role: Role) -> bytes:
    """What one level asks of one specialism."""
    if not _kept:
        return _level_bytes(role)
    # the same level object (a page `build --watch` did not read again) gives the same bytes; the
    # entry holds the level itself, so its id cannot be another object's while it is kept
    key = (id(role.level), role.specialism)
    now, before = _kept
    found = now.get(key) or before.get(key)
    if found is None or found[0] is not role.level:
        found = (role.level, _level_bytes(role))
    now[key] = found
    return found[1]


def _level_bytes(role: Role) -> bytes:
    return (_header(role.level, "expectations") + repr(role.specialism) + repr(role.expectations())).encode("utf-8")


@contextmanager
def keep_between_builds() -> Iterator[None]:
    """Builds inside (`build --watch`) reuse the slices of the levels the previous build used
    (one build's worth is kept: `next_build` drops what the build before did not use)."""
    _kept[:] = [{}, {}]
    try:
        yield
    finally:
        _kept.clear()


def next_build() -> None:
    """A build starts."""
    if _kept:
        _kept[:] = [{}, _kept[0]]


def role_slice(framework: Framework, craft_id: str, specialism: str | None, number: int) -> bytes:
    """One role (craft, specialism, level: what that specialism is asked at that level) and the
    same role one level up; the craft's and the framework's own fields."""
    found = craft(framework, craft_id)
    level: Level | None = found.level(number) if found else None
    if found is None or level is None or specialism not in found.tracks():
        return whole(framework)
    role = Role(found, specialism, level)
    i = found.levels.index(level)
    nxt = Role(found, specialism, found.levels[i + 1]) if i + 1 < len(found.levels) else None
    if not (_headers and _headers[0][0] is framework):
        _headers[:] = [(framework, {})]
    header = _headers[0][1].get(craft_id)
    if header is None:
        header = _headers[0][1][craft_id] = craft_header(found)
    return b"\0".join((framework_header(framework), header, _level(role),
                       _level(nxt) if nxt else b"-"))


def code(exporter) -> bytes:
    """The code that renders: cfexport's own modules (any change to them rebuilds), and the
    exporter's module when it comes from another package."""
    import cfexport

    package = Path(cfexport.__file__).parent
    if "cfexport" not in _code:
        h = hashlib.sha256()
        for path in sorted(package.rglob("*.py")):
            h.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
        _code["cfexport"] = h.digest()
    module = type(exporter).__module__
    if module.split(".")[0] == "cfexport":
        return _code["cfexport"]
    if module not in _code:
        import sys

        file = getattr(sys.modules.get(module), "__file__", None)
        try:
            data = Path(file).read_bytes() if file else module.encode()
        except OSError:
            data = module.encode()
        _code[module] = hashlib.sha256(data).digest()
    return _code["cfexport"] + _code[module]


def templates(folder: Path, patterns: tuple[str, ...] | None) -> bytes:
    """The files of the templates folder that match `patterns` (all when None), names and bytes."""
    folder = Path(folder)
    h = hashlib.sha256()
    seen = set()
    for pattern in patterns if patterns is not None else ("**/*",):
        for path in sorted(folder.glob(pattern)):
            if path in seen or not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            seen.add(path)
    for path in sorted(seen):
        try:
            data = path.read_bytes()
        except OSError:
            data = b"?"
        h.update(path.relative_to(folder).as_posix().encode() + b"\0" + hashlib.sha256(data).digest())
    return h.digest()
