"""Rendering many documents in worker processes, the same way for builds and for packs.

Each worker sets its state up once (the model, the exporters, the context: templates,
styles and fonts then load once per process) and renders item after item. Results come
back in the order of the items, so output does not depend on the number of processes.
"""

from __future__ import annotations

import gc
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from typing import Callable, Iterator, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_state: dict = {}  # this worker process's own state, made by `setup`


def _start(setup: Callable, args: tuple) -> None:
    _state["value"] = setup(*args)
    gc.freeze()  # the model lives for the whole process: keep it out of every collection


def _call(work: Callable, item):
    return work(_state["value"], item)


def imap(setup: Callable[..., object], args: tuple, work: Callable[[object, T], R], items: list[T],
         jobs: int = 1, chunks_per_worker: int = 4) -> Iterator[R]:
    """`work(setup(*args), item)` for every item, in order, in `jobs` processes.
    `setup` and `work` must be module-level functions (they are sent to the workers)."""
    jobs = max(1, min(jobs, len(items)))
    if jobs == 1:
        _start(setup, args)
        try:
            yield from (_call(work, item) for item in items)
        finally:
            gc.unfreeze()
        return
    chunk = max(1, len(items) // (jobs * chunks_per_worker))
    with ProcessPoolExecutor(jobs, initializer=_start, initargs=(setup, args)) as pool:
        yield from pool.map(partial(_call, work), items, chunksize=chunk)
