"""What a reader may remember from one read to the next in the same process.

`build --watch` reads the same framework again after every save, and a save changes one
page: the others need not be parsed again. Nothing is remembered unless the caller opens a
`session()` (one-off commands never hold parsed pages they will not need again). Inside a
session, `remember(key, make)` returns what `make()` returned for an equal key in this read
or the previous one; the key must say everything the result depends on (the page's text,
its settings, what it is read against). A reader marks the start of each read with
`next_read()`; what the previous read remembered and this one did not use is then dropped,
so a session holds one read's results, never a growing history.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

T = TypeVar("T")

_sessions: list[dict] = []  # the open sessions, innermost last: {"previous": {}, "current": {}}


@contextmanager
def session() -> Iterator[None]:
    """Reads inside reuse what the previous read inside parsed, where its inputs are unchanged."""
    _sessions.append({"previous": {}, "current": {}})
    try:
        yield
    finally:
        _sessions.pop()


def next_read() -> None:
    """A read starts: what the last read remembered is kept for it to reuse, the rest dropped."""
    if _sessions:
        store = _sessions[-1]
        store["previous"], store["current"] = store["current"], {}


def key(*parts: object) -> bytes:
    """A compact key for `remember`: a digest of the parts' reprs."""
    h = hashlib.sha256()
    for part in parts:
        text = repr(part).encode("utf-8", "surrogatepass")
        h.update(len(text).to_bytes(8, "big") + text)
    return h.digest()


def remember(found_by: bytes, make: Callable[[], T]) -> T:
    """`make()`, or its result from this read or the previous one for the same key (in a session)."""
    if not _sessions:
        return make()
    store = _sessions[-1]
    if found_by in store["current"]:
        return store["current"][found_by]
    value = store["previous"].pop(found_by) if found_by in store["previous"] else make()
    store["current"][found_by] = value
    return value
