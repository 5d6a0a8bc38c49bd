"""Edge cases of the worker pool (a worker that fails, dies or cannot start; Ctrl-C) and of the streamed
framework.json, found by reviewing the speed round's change."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from factory import CraftSpec, LevelSpec, write_framework

from cfexport import ids, workers
from cfexport.readers import read_framework


# --- framework.json: the streamed writer against the whole-dictionary json.dumps it replaced -------------------

def _old_framework_json(framework) -> bytes:
    """framework.json as commit 7c061ef wrote it: one dictionary, one json.dumps."""

    def without_source(node) -> dict:
        return {k: v for k, v in dataclasses.asdict(node).items() if k != "source"}

    crafts = []
    for craft in framework.crafts:
        levels = []
        for level in craft.levels:
            expectations = []
            for exp in level.expectations:
                statements = [{"id": sid, "text": st.text}
                              for st, sid in zip(exp.statements, ids.statement_ids(craft, level, exp))]
                expectations.append({"area_id": exp.area_id, "area_title": exp.area_title,
                                     "specialism": exp.specialism, "statements": statements, "todo": exp.todo})
            levels.append({**{k: v for k, v in without_source(level).items() if k != "expectations"},
                           "expectations": expectations})
        crafts.append({**{k: v for k, v in without_source(craft).items() if k not in ("areas", "levels")},
                       "areas": [without_source(a) for a in craft.areas], "levels": levels})
    head = {k: v for k, v in without_source(framework).items() if k != "crafts"}
    # the old ids.sources: plain dictionaries, so a key met twice keeps its first place and its LAST value
    srcs: dict = {"framework": {"framework": framework.source}, "crafts": {}, "areas": {}, "levels": {},
                  "expectations": {}, "statements": {}}
    for craft in framework.crafts:
        srcs["crafts"][craft.id] = craft.source
        for area in craft.areas:
            srcs["areas"][ids.area_key(craft, area.id)] = area.source
        for level in craft.levels:
            srcs["levels"][ids.level_key(craft, level)] = level.source
            for exp in level.expectations:
                srcs["expectations"][ids.expectation_key(craft, level, exp)] = exp.source
                for st, sid in zip(exp.statements, ids.statement_ids(craft, level, exp)):
                    srcs["statements"][sid] = st.source
    srcs = {kind: {key: {"file": s.file, "line": s.line} for key, s in by_key.items()} for kind, by_key in srcs.items()}
    from cfexport.exporters.framework_json import SCHEMA_ID

    body = {"$schema": SCHEMA_ID, **head, "crafts": crafts, "sources": srcs}
    return (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def test_framework_json_with_a_repeated_area_id_is_the_bytes_json_dumps_wrote(tmp_path):
    """Two headings with the same kramdown id (`Foo` twice gives foo, foo-1; `Foo 1` is foo-1 again): the
    reader only warns, so the build writes framework.json. The old dictionary kept the LAST source of the
    key `craft/foo-1` (line 24); the streamed `ids.sources` keeps the FIRST (line 20)."""
    from cfexport.exporters.framework_json import framework_json

    areas = [(None, "Foo", "First."), (None, "Foo", "Second."), (None, "Foo 1", "Third.")]
    levels = [LevelSpec(1, "Junior", {None: [("Foo", ["I do foo."])]})]
    fw = read_framework(write_framework(tmp_path / "fw", [CraftSpec("Craft", "craft", areas, levels)])).framework
    assert [a.id for a in fw.crafts[0].areas] == ["foo", "foo-1", "foo-1"]
    assert framework_json(fw) == _old_framework_json(fw)


def test_framework_json_of_odd_text_is_the_bytes_json_dumps_wrote(tmp_path):
    """Control characters, U+2028/2029, non-BMP, very long text, empty levels and crafts: same bytes."""
    from cfexport.exporters.framework_json import framework_json
    from cfexport.model import Area, Craft, Expectation, Framework, Level, Source, Statement

    odd = "nul\x00 bell\x07 \u2028\u2029 \U0001f600 \ud7ff \ufeff \\ \" / </script> " + "x" * 70_000
    src = Source("a.md", 3)
    st = Statement(odd, src)
    exp = Expectation("a", odd, None, (st, st), False, src)
    level = Level(1, odd, odd, odd, None, True, (exp,), src)
    empty_level = Level(2, "", "", "", "", False, (), src)
    craft = Craft("c", odd, odd, None, (Area("a", odd, odd, None, src),), (), (), (level, empty_level), src)
    empty = Craft("d", "", "", None, (), (), (), (), src)
    fw = Framework(odd, odd, None, (craft, empty), src, version=odd)
    assert framework_json(fw) == _old_framework_json(fw)


# --- workers: a pool started ahead (the first worker forks the others) -----------------------------------------

def _no_warm() -> None:
    pass


def _note_file(path: str) -> str:
    return path


def _fail_or_big(path: str, item: int) -> bytes:
    """Items 0 and 1 go to the first worker, 2 and 3 to the one it forked (two chunks in flight each)."""
    if item == 0:
        time.sleep(0.3)
        raise ValueError("a document that cannot be rendered")
    if item == 2:
        with open(path, "a") as f:
            f.write(f"{os.getpid()}\n")
        time.sleep(1.0)
        return b"x" * (8 << 20)  # a large document (a workbook, a craft's cards): more than a socket buffer
    return b""


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="/proc")
def test_an_error_in_one_worker_leaves_no_forked_worker_behind(tmp_path):
    """The first worker fails while the worker it forked renders a large document. The old pool
    terminated every worker still alive 2 s after close(); here the forked worker is nobody's to stop:
    the first one is terminated while it waits for it, and the forked one blocks for ever sending its
    8 MB answer (it holds the main process's end of its own pipe, so the send never fails)."""
    note = tmp_path / "pids"
    pids: list[int] = []
    try:
        with workers.Pool(2, warm=_no_warm) as pool:
            with pytest.raises(ValueError, match="cannot be rendered"):
                list(pool.results(_note_file, (str(note),), _fail_or_big, [0, 1, 2, 3]))
        pids = [int(p) for p in note.read_text().split()]
        assert pids and os.getpid() not in pids
        deadline = time.monotonic() + 10
        while any(_running(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in pids if _running(pid)], "a worker outlived its pool"
    finally:
        for pid in pids:  # do not leave the stuck worker behind the test
            if _running(pid):
                os.kill(pid, signal.SIGKILL)


def _no_fork_in_workers(monkeypatch) -> None:
    """os.fork fails (EAGAIN: the container's pids limit, `ulimit -u`) in any process but this one:
    the pool's first worker starts, and cannot fork the others."""
    main_pid, real_fork = os.getpid(), os.fork

    def fork():
        if os.getpid() != main_pid:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        return real_fork()

    monkeypatch.setattr(os, "fork", fork)


def _double(state, item: int) -> int:
    return 2 * item


@pytest.mark.skipif(sys.platform == "win32", reason="fork")
def test_a_pool_whose_first_worker_could_not_fork_the_others_says_so(monkeypatch):
    """The first worker cannot fork the others (EAGAIN): it closes their pipes and sending them the
    state is WorkerDied, never a BrokenPipeError (which the command line takes for a closed pipe
    after `| head`, exit 0)."""
    _no_fork_in_workers(monkeypatch)
    with workers.Pool(2, warm=_no_warm) as pool:
        with pytest.raises(workers.WorkerDied):
            list(pool.results(_note_file, ("",), _double, [1, 2, 3, 4]))


@pytest.mark.skipif(sys.platform == "win32", reason="fork")
def test_a_pool_whose_first_worker_was_killed_before_the_work_says_so():
    with workers.Pool(2, warm=_no_warm) as pool:
        first = pool._workers[0][0]
        time.sleep(0.3)
        os.kill(first.pid, signal.SIGKILL)
        first.join(10)
        with pytest.raises(workers.WorkerDied):
            list(pool.results(_note_file, ("",), _double, [1, 2, 3, 4]))


@pytest.mark.skipif(sys.platform == "win32", reason="fork")
def test_a_build_whose_workers_could_not_start_does_not_exit_0_having_written_nothing(tmp_path, monkeypatch):
    from click.testing import CliRunner
    from factory import small_craft

    from cfexport.cli import build as build_command
    from cfexport.cli import main

    _no_fork_in_workers(monkeypatch)
    real_read = build_command.read_or_fail

    def slow_read(*args, **kwargs):  # a framework that takes a moment to read: the first worker is gone by then
        time.sleep(3)
        return real_read(*args, **kwargs)

    monkeypatch.setattr(build_command, "read_or_fail", slow_read)
    fw = write_framework(tmp_path / "fw", [small_craft()])
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", "--framework", str(fw), "--out", str(out), "--format", "json",
                                       "--jobs", "2"])
    wrote = (out / "framework.json").is_file()
    assert wrote or result.exit_code != 0, f"exit {result.exit_code}, nothing written, output: {result.output!r}"
    if not wrote:  # a worker that could not start is said plainly, not as an internal error of ours
        assert result.exit_code == 3 and "worker process stopped" in result.output, result.output


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="/proc")
def test_ctrl_c_of_a_parallel_build_leaves_no_process_and_no_temporary_file_behind(tmp_path):
    """Ctrl-C while `build --jobs 2` renders: the command stops, every worker (those the first one
    forked too) ends, and no half-written workbook is left in the temporary folder."""
    import subprocess

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench import make_framework

    fw = make_framework(tmp_path / "fw", crafts=3, specialisms=4, levels=12, areas=40)  # some seconds to build
    temp = tmp_path / "tmp"
    temp.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", "from cfexport.cli import main; main()", "build", "--framework",
                             str(fw), "--out", str(tmp_path / "out"), "--jobs", "2", "--clean"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
                            env={**os.environ, "TMPDIR": str(temp)})
    deadline = time.monotonic() + 60
    while not _descendants(proc.pid) and time.monotonic() < deadline:  # the workers have started
        time.sleep(0.05)
    time.sleep(1.0)  # rendering by now
    seen = set(_descendants(proc.pid))
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and b"Traceback" not in err
    deadline = time.monotonic() + 10
    while [p for p in seen if _running(p)] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert seen and not [p for p in seen if _running(p)]
    assert not list(temp.iterdir())


def _descendants(pid: int) -> list[int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[-1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        children = [p for p, pp in parents.items() if pp == parent]
        found += children
        todo += children
    return found
