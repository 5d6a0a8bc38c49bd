"""Rendering many documents in worker processes, the same way for builds and for packs.

Each worker sets its state up once (the model, the exporters, the context; `warm` then
loads templates, styles and fonts once per process) and renders chunk after chunk. The
workers pull their work: a worker that finishes a chunk gets the next one, so a slow
document never leaves the other core idle behind a fixed share of the list. Items are
handed out in the order of their `cost`, largest first (longest processing time first),
so the long single documents start at once instead of running alone at the end.

On Linux the workers are forked once the state exists, so the model is inherited, never
pickled; elsewhere it is sent to each worker once. At most two chunks per worker are in
flight at any time: memory stays flat however many items there are. `results` yields
(index, result) as chunks complete; `imap` gives them back in the order of the items.
Either way the output does not depend on the number of processes.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
from multiprocessing.connection import wait
from typing import Callable, Iterator, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_state: dict = {}  # this process's own state, made by `setup`
IN_FLIGHT = 2  # chunks per worker sent ahead: one being worked on, one waiting (no round trip idles a core)


class WorkerDied(Exception):
    """A worker process ended without answering (killed, or out of memory)."""


def _start(setup: Callable, args: tuple) -> object:
    _state["value"] = setup(*args)
    gc.freeze()  # the model lives for the whole process: keep it out of every collection
    return _state["value"]


def _main(conn, setup: Callable, args: tuple, work: Callable) -> None:
    """A worker: set up once, then answer each chunk with its results (or the exception)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it stops us
    try:
        state = _start(setup, args)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
        _send(conn, ("error", -1, exc))
        return
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        number, chunk = message
        try:
            _send(conn, ("ok", number, [work(state, item) for item in chunk]))
        except BaseException as exc:  # noqa: BLE001
            _send(conn, ("error", number, exc))


def _send(conn, message: tuple) -> None:
    try:
        conn.send(message)
    except Exception as exc:  # the exception itself does not pickle: send what it says
        if message[0] == "error":
            conn.send(("error", message[1], RuntimeError(f"{type(message[2]).__name__}: {message[2]}")))
        else:
            conn.send(("error", message[1], RuntimeError(f"a result cannot be sent back: {exc}")))


def chunked(order: Sequence[int], size: int) -> list[list[int]]:
    return [list(order[i:i + size]) for i in range(0, len(order), size)]


def results(setup: Callable[..., object], args: tuple, work: Callable[[object, T], R], items: Sequence[T],
            jobs: int = 1, cost: Callable[[T], float] | None = None, chunk: int = 1) -> Iterator[tuple[int, R]]:
    """(index, `work(setup(*args), item)`) for every item, as they complete, in `jobs`
    processes. Items are handed out by decreasing `cost` (ties: in their order), `chunk`
    at a time. `setup` and `work` must be module-level functions."""
    n = len(items)
    order = list(range(n))
    if cost is not None:
        costs = [cost(item) for item in items]
        order.sort(key=lambda i: -costs[i])  # stable: equal costs keep their order
    jobs = max(1, min(jobs, n))
    if jobs == 1:
        state = _start(setup, args)
        try:
            for i in order:
                yield i, work(state, items[i])
        finally:
            gc.unfreeze()
        return
    yield from _parallel(setup, args, work, items, chunked(order, max(1, chunk)), jobs)


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _parallel(setup, args, work, items, chunks: list[list[int]], jobs: int):
    ctx = _context()
    workers = []  # (process, connection)
    try:
        for _ in range(jobs):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_main, args=(child, setup, args, work), daemon=True)
            proc.start()
            child.close()
            workers.append((proc, parent))
        pending: dict = {conn: [] for _, conn in workers}  # chunk numbers sent to each worker
        todo = iter(range(len(chunks)))

        def feed(conn) -> None:
            while len(pending[conn]) < IN_FLIGHT:
                number = next(todo, None)
                if number is None:
                    return
                conn.send((number, [items[i] for i in chunks[number]]))
                pending[conn].append(number)

        for _, conn in workers:
            feed(conn)
        procs = {conn: proc for proc, conn in workers}
        while any(pending.values()):
            for conn in wait([c for c, sent in pending.items() if sent]):
                try:
                    status, number, payload = conn.recv()
                except (EOFError, OSError):
                    proc = procs[conn]
                    proc.join(1)
                    raise WorkerDied(f"a worker process stopped unexpectedly (exit code {proc.exitcode}); "
                                     "if the machine is short of memory, try fewer --jobs") from None
                if status == "error":
                    raise payload
                pending[conn].remove(number)
                feed(conn)
                for i, result in zip(chunks[number], payload):
                    yield i, result
    finally:
        for proc, conn in workers:
            try:
                conn.send(None)
            except (OSError, ValueError):
                pass
        for proc, conn in workers:
            proc.join(2)
            if proc.is_alive():
                proc.terminate()
                proc.join(2)
            conn.close()


def imap(setup: Callable[..., object], args: tuple, work: Callable[[object, T], R], items: Sequence[T],
         jobs: int = 1, chunks_per_worker: int = 8) -> Iterator[R]:
    """`work(setup(*args), item)` for every item, in the order of the items, in `jobs`
    processes; items go out in their order, a few per chunk (at most `len(items) //
    (jobs * chunks_per_worker)`, at most 16), so few results ever wait for an earlier one."""
    chunk = max(1, min(16, len(items) // (max(1, jobs) * chunks_per_worker)))
    waiting: dict[int, R] = {}
    following = 0
    for i, result in results(setup, args, work, items, jobs, chunk=chunk):
        waiting[i] = result
        while following in waiting:
            yield waiting.pop(following)
            following += 1


def cpu_count() -> int:
    """The cores this process may use (its affinity, where the system says), else all."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1
