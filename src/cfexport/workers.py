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

A caller may make the chunks itself, with a key each (`results(..., chunks=, keys=)`): the
chunks of one key go to one worker while there is other work (what a worker caches for a
key, such as the level cards of one move in a round of packs, is then made once, not once
per worker); a worker with nothing else left takes the last chunks of another's key.

A pool started ahead of the work (`warm`: import the exporters, load templates and fonts
while the main process reads the pages) warms up once, in its first worker, which then
forks the others from itself (on Linux): on two cores the main process reads while one
process warms, instead of three processes sharing two cores, each worker importing the
same libraries.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import signal
from collections import deque
from multiprocessing.connection import wait
from typing import Callable, Hashable, Iterator, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_state: dict = {}  # this process's own state, made by `setup`
IN_FLIGHT = 2  # chunks per worker sent ahead: one being worked on, one waiting (no round trip idles a core)


class WorkerDied(ChildProcessError):
    """A worker process ended without answering (killed, out of memory, or it could not start).
    An OSError, so the command line reports it as output that could not be written (exit 3)."""


def _start(setup: Callable, args: tuple) -> object:
    _state["value"] = setup(*args)
    gc.freeze()  # the model lives for the whole process: keep it out of every collection
    return _state["value"]


def _warm(warm: Callable | None, warm_args: tuple) -> None:
    if warm is not None:
        try:
            warm(*warm_args)
        except Exception:  # noqa: BLE001 - a broken theme or template: the render that needs it says so
            pass


def _zygote(conns: list, theirs: list, warm: Callable, warm_args: tuple) -> None:
    """The first worker of a pool started ahead of the work: warm up, then fork the other
    workers from this process (they start warm, sharing its memory), then work as worker 0.
    Each worker serves its own connection; `theirs` are the main process's ends, closed here
    so that a worker's pipe ends when the main process closes it (or dies). Stopped
    (SIGTERM), this worker stops the ones it forked; it reaps them in any case."""
    _worker_signals()
    for conn in theirs:
        conn.close()
    children: list[int] = []

    def stop(_signum, _frame):
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
        raise SystemExit(1)

    signal.signal(signal.SIGTERM, stop)
    try:
        _warm(warm, warm_args)
        gc.freeze()  # what warming loaded is shared with the forked workers: keep collections off its pages
        for i, conn in enumerate(conns[1:], 1):
            try:
                pid = os.fork()
            except OSError:  # no more processes allowed: the main process finds this pipe closed
                conn.close()
                continue
            if pid == 0:  # a worker: its own connection only, and out with os._exit (no parent's clean-up)
                code = 0
                try:
                    signal.signal(signal.SIGTERM, _stop_worker)
                    for j, other in enumerate(conns):
                        if j != i:
                            other.close()
                    _main(conn, None, (), None, signals=False)
                except BaseException:  # noqa: BLE001
                    code = 1
                finally:
                    os._exit(code)
            children.append(pid)
            conn.close()
        _main(conns[0], None, (), None, signals=False)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        for pid in children:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


def _stop_worker(_signum, _frame):
    """SIGTERM in a worker (the pool is closing after Ctrl-C or an error): end the way an
    exception does, so that what the render holds on disk is cleaned up."""
    raise SystemExit(1)


def _worker_signals() -> None:
    """Ctrl-C is the main process's to handle (it stops the workers); SIGTERM ends a worker
    (whatever handler the main process had installed before the fork, such as --watch's)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_worker)


def _main(conn, setup: Callable | None, args: tuple, work: Callable | None, warm: Callable | None = None,
          warm_args: tuple = (), theirs: tuple = (), signals: bool = True) -> None:
    """A worker: warm up, set up (now, or when a ("setup", ...) message brings the state), then
    answer each chunk with its results (or the exception). `theirs`: the main process's pipe
    ends this process inherited, closed here (a pipe must end when the main process closes it)."""
    if signals:
        _worker_signals()
    for other in theirs:
        other.close()
    _warm(warm, warm_args)
    try:
        _serve(conn, setup, args, work)
    except OSError:  # the main process closed the pipe (Ctrl-C, an error elsewhere): nothing to answer
        return


def _serve(conn, setup: Callable | None, args: tuple, work: Callable | None) -> None:
    state = None
    if setup is not None:
        try:
            state = _start(setup, args)
        except (SystemExit, KeyboardInterrupt):
            raise
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
        if message[0] == "setup":
            try:
                setup, args, work = pickle.loads(message[1])
                gc.unfreeze()
                state = _start(setup, args)
                reply: tuple = ("ready", -1, None)
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:  # noqa: BLE001
                reply = ("error", -1, exc)
            _send(conn, reply)
            continue
        _, number, chunk = message
        try:
            reply = ("ok", number, [work(state, item) for item in chunk])
        except (SystemExit, KeyboardInterrupt):
            raise  # stopped: the pool is closing
        except BaseException as exc:  # noqa: BLE001
            reply = ("error", number, exc)
        _send(conn, reply)


def _send(conn, message: tuple) -> None:
    """Send an answer; OSError when the pipe is closed."""
    try:
        conn.send(message)
    except OSError:
        raise
    except Exception as exc:  # the exception itself does not pickle: send what it says
        if message[0] == "error":
            conn.send(("error", message[1], RuntimeError(f"{type(message[2]).__name__}: {message[2]}")))
        else:
            conn.send(("error", message[1], RuntimeError(f"a result cannot be sent back: {exc}")))


def results(setup: Callable[..., object], args: tuple, work: Callable[[object, T], R], items: Sequence[T],
            jobs: int = 1, cost: Callable[[T], float] | None = None, chunk: int = 1,
            chunks: Sequence[Sequence[int]] | None = None, keys: Sequence[Hashable] | None = None
            ) -> Iterator[tuple[int, R]]:
    """(index, `work(setup(*args), item)`) for every item, as they complete, in `jobs`
    processes. Items are handed out by decreasing `cost` (ties: in their order), `chunk`
    at a time; or, given `chunks` (lists of indexes of `items`, each index in one of them),
    those chunks in their order, or with `keys` (one per chunk) a key at a time, the chunks
    of a key to one worker as far as possible (`_Handout`; `cost` and `chunk` then play no
    part). `setup` and `work` must be module-level functions."""
    if chunks is None:
        chunks = _Chunks(_order(items, cost), max(1, chunk))
    if keys is not None and len(keys) != len(chunks):  # before any process is started
        raise ValueError(f"{len(keys)} keys for {len(chunks)} chunks")
    jobs = max(1, min(jobs, len(chunks)))
    if jobs == 1:
        state = _start(setup, args)
        handout = _Handout(len(chunks), keys)
        try:
            while (number := handout.next(None)) is not None:
                for i in chunks[number]:
                    yield i, work(state, items[i])
        finally:
            gc.unfreeze()
        return
    with Pool(jobs, setup=setup, args=args, work=work) as pool:
        yield from pool.results(setup, args, work, items, cost, chunk, chunks, keys)


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


class Pool:
    """`jobs` worker processes, started now and kept until `close`.

    Started before the framework is read, they import the exporters and load templates and
    fonts (`warm(*warm_args)`) while the main process reads the pages; `results` then sends
    each worker the state once (pickled) and hands out the work. Started with `setup`,
    `args` and `work` instead, the state is inherited when the workers fork (nothing is
    pickled). A pool serves one `results` at a time; `build --watch` reuses it for every
    rebuild, so its workers stay warm."""

    def __init__(self, jobs: int, warm: Callable | None = None, warm_args: tuple = (),
                 setup: Callable | None = None, args: tuple = (), work: Callable | None = None):
        self.jobs = max(1, jobs)
        self._workers: list = []  # (process, connection)
        self._inherited = setup is not None
        self._used = False
        ctx = _context()
        try:
            if setup is None and warm is not None and self.jobs > 1 and ctx.get_start_method() == "fork":
                pipes = [ctx.Pipe() for _ in range(self.jobs)]
                proc = ctx.Process(target=_zygote, args=([child for _, child in pipes],
                                                         [parent for parent, _ in pipes], warm, warm_args),
                                   daemon=True)
                proc.start()
                for parent, child in pipes:
                    child.close()
                    # the workers the first one forks are its children: they answer on their pipe, and
                    # end when it closes
                    self._workers.append((proc if not self._workers else None, parent))
                return
            for _ in range(self.jobs):
                parent, child = ctx.Pipe()
                # forked, a worker has the main process's ends of every pipe made so far (spawned: none)
                theirs = tuple(c for _, c in self._workers) + (parent,) if ctx.get_start_method() == "fork" else ()
                proc = ctx.Process(target=_main, args=(child, setup, args, work, warm, warm_args, theirs),
                                   daemon=True)
                proc.start()
                child.close()
                self._workers.append((proc, parent))
        except BaseException:
            self.close()
            raise

    @property
    def alive(self) -> bool:
        """False once closed (an error in a worker closes its pool)."""
        return bool(self._workers)

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def results(self, setup: Callable, args: tuple, work: Callable, items: Sequence[T],
                cost: Callable[[T], float] | None = None, chunk: int = 1,
                chunks: Sequence[Sequence[int]] | None = None, keys: Sequence[Hashable] | None = None
                ) -> Iterator[tuple[int, R]]:
        """Like the module's `results`, in this pool's processes."""
        if chunks is None:
            chunks = _Chunks(_order(items, cost), max(1, chunk))
        if not len(chunks):
            return
        conns = [conn for _, conn in self._workers][: max(1, min(self.jobs, len(chunks)))]
        if not self._inherited:
            payload = pickle.dumps((setup, args, work), protocol=pickle.HIGHEST_PROTOCOL)
            for conn in conns:
                self._send(conn, ("setup", payload))
            for conn in conns:
                self._answer(conn)  # "ready", or the setup's exception
        self._used = True
        yield from self._run(items, chunks, _Handout(len(chunks), keys), conns)

    def _send(self, conn, message) -> None:
        try:
            conn.send(message)
        except OSError:  # the worker is gone (it could not start, or was killed)
            self.close()
            raise WorkerDied("a worker process stopped unexpectedly; if the machine is short of memory or of "
                             "processes, try fewer --jobs") from None

    def _answer(self, conn):
        try:
            status, number, payload = conn.recv()
        except (EOFError, OSError):
            proc = next(p for p, c in self._workers if c is conn)
            code = ""
            if proc is not None:
                proc.join(1)
                code = f" (exit code {proc.exitcode})"
            raise WorkerDied(f"a worker process stopped unexpectedly{code}; "
                             "if the machine is short of memory, try fewer --jobs") from None
        if status == "error":
            raise payload
        return number, payload

    def _run(self, items, chunks: Sequence[Sequence[int]], handout: _Handout, conns: list):
        pending: dict = {conn: [] for conn in conns}  # chunk numbers sent to each worker
        broken = True

        def feed(conn) -> None:
            while len(pending[conn]) < IN_FLIGHT:
                number = handout.next(conn)
                if number is None:
                    return
                self._send(conn, ("work", number, [items[i] for i in chunks[number]]))
                pending[conn].append(number)

        try:
            for conn in conns:
                feed(conn)
            while any(pending.values()):
                for conn in wait([c for c, sent in pending.items() if sent]):
                    number, payload = self._answer(conn)
                    pending[conn].remove(number)
                    feed(conn)
                    for i, result in zip(chunks[number], payload):
                        yield i, result
            broken = False
        finally:
            if broken:  # an error, or the caller stopped early: answers may still be on their way
                self.close()

    def close(self) -> None:
        for proc, conn in self._workers:
            try:
                conn.send(None)
            except (OSError, ValueError):
                pass
        for proc, conn in self._workers:
            conn.close()  # a worker forked by the first one sees its pipe close, and ends
        for proc, conn in self._workers:
            if proc is None:
                continue
            # a worker that never got work (a build with nothing to render) may still be warming up: it
            # is stopped at once; the others finish what they are doing (and the first one waits for
            # those it forked)
            if self._used:
                proc.join(2)
            if proc.is_alive():
                proc.terminate()
                proc.join(2)
        self._workers = []


class _Chunks:
    """Chunk `number` of `order`, `size` indexes at a time, made when it is sent (and again
    when its answer comes): nothing per item is kept for a long list in its own order."""

    def __init__(self, order: Sequence[int], size: int):
        self.order, self.size = order, size

    def __len__(self) -> int:
        return -(-len(self.order) // self.size)

    def __getitem__(self, number: int) -> Sequence[int]:
        return self.order[number * self.size:(number + 1) * self.size]


class _Handout:
    """Which chunk a worker gets next: without keys, the next one in order. With keys (one
    per chunk), a worker takes the next chunk of the key it is on; when that key has none
    left, the first chunk of the next key no worker has taken yet (the key is then its own);
    when every key is taken, the last chunk of the key with the most chunks left, and the
    ones after it of that key (its owner goes on from the front). So a key's chunks stay in
    one process except at the end of the work, when an idle worker shares what is left."""

    def __init__(self, count: int, keys: Sequence[Hashable] | None):
        self.left = count
        self._next = 0
        self._queues: dict[Hashable, deque[int]] | None = None
        if keys is not None:
            if len(keys) != count:
                raise ValueError(f"{len(keys)} keys for {count} chunks")
            self._queues = {}
            for number, key in enumerate(keys):
                self._queues.setdefault(key, deque()).append(number)
            self._fresh = iter(list(self._queues))  # keys no worker has taken, in order of their first chunk
            self._owner: dict[Hashable, object] = {}
            self._on: dict[object, Hashable] = {}  # the key each worker is on

    def next(self, worker: object) -> int | None:
        if self.left == 0:
            return None
        self.left -= 1
        if self._queues is None:
            self._next += 1
            return self._next - 1
        if worker in self._on:
            key = self._on[worker]
            queue = self._queues[key]
            if queue:
                return queue.popleft() if self._owner[key] is worker else queue.pop()
        for key in self._fresh:
            self._owner[key], self._on[worker] = worker, key
            return self._queues[key].popleft()
        key = max((k for k, q in self._queues.items() if q), key=lambda k: len(self._queues[k]))
        self._on[worker] = key
        return self._queues[key].pop()


def _order(items: Sequence, cost: Callable | None) -> Sequence[int]:
    """The indexes of `items` by decreasing cost (ties: in their order); without `cost`, their own order."""
    if cost is None:
        return range(len(items))
    costs = [cost(item) for item in items]
    return sorted(range(len(items)), key=lambda i: -costs[i])  # stable: equal costs keep their order


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
