"""Incremental builds (a document is reused when nothing it is made from changed), the
worker pool that renders the rest, and `build --watch`. No timings here: the speed goals
live in `make bench`."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, TEMPLATES

from cfexport import build as builder
from cfexport import registry, workers
from cfexport.cli import main
from cfexport.readers import read_framework
from cfexport.repro import build_time

sys.path.insert(0, str(ROOT / "benchmarks"))
from bench import make_framework  # noqa: E402  (the benchmark's synthetic framework, small here)


def _framework(root: Path) -> Path:
    """One craft, two specialisms, four levels, six areas: every exporter, in a second or two."""
    return make_framework(root, crafts=1, specialisms=2, levels=4, areas=6)


def _edit(fw: Path, level: int) -> None:
    """Reword the first statement of the shared (craft) section of one level page."""
    page = fw / "craft0" / f"level{level}.md"
    page.write_text(page.read_text("utf-8").replace("I ", "I really ", 1), "utf-8")


def _build(fw: Path, out: Path, templates: Path = TEMPLATES, clean: bool = False, jobs: int = 1):
    report = builder.BuildReport([], [])
    entries, problems = builder.build(read_framework(fw).framework, out, registry.load(), templates, build_time(),
                                      jobs, clean=clean, report=report)
    return report, entries, problems


def _files(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


ALL = 8 + 1 + 1 + 1  # 8 role descriptions, the cards, the workbook, framework.json


def test_editing_one_statement_rebuilds_only_the_documents_of_that_level_and_matches_a_clean_build(tmp_path, epoch):
    fw, out = _framework(tmp_path / "fw"), tmp_path / "out"
    first, _, _ = _build(fw, out)
    assert len(first.rendered) == ALL and not first.reused
    again, _, _ = _build(fw, out)
    assert not again.rendered and len(again.reused) == ALL  # nothing changed: nothing rendered

    _edit(fw, 3)
    report, _, _ = _build(fw, out, jobs=2)
    # level 3 of both specialisms (the edit is in the shared section), level 2 (its "what changes at the
    # next level"), the craft's cards, the workbook and framework.json
    assert sorted(report.rendered) == sorted(
        [f"role-descriptions/craft-0-engineering/specialism-{s}-level-{n}.docx" for s in "ab" for n in (2, 3)]
        + ["level-cards/craft-0-engineering.pdf", "competency-matrix.xlsx", "framework.json"])
    assert len(report.reused) == ALL - 7
    _build(fw, tmp_path / "clean", clean=True)
    assert _files(out) == _files(tmp_path / "clean")  # manifest included


def test_a_file_whose_bytes_no_longer_match_the_manifest_is_rebuilt(tmp_path, epoch):
    fw, out = _framework(tmp_path / "fw"), tmp_path / "out"
    _build(fw, out)
    good = _files(out)
    target = out / "role-descriptions" / "craft-0-engineering" / "specialism-a-level-1.docx"
    target.write_bytes(target.read_bytes()[:-10] + b"x" * 10)  # edited or damaged after the build
    (out / "framework.json").unlink()  # or deleted
    report, _, _ = _build(fw, out)
    assert sorted(report.rendered) == ["framework.json",
                                       "role-descriptions/craft-0-engineering/specialism-a-level-1.docx"]
    assert _files(out) == good


def test_a_changed_template_or_theme_rebuilds_what_it_styles(tmp_path, epoch):
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    fw, out = _framework(tmp_path / "fw"), tmp_path / "out"
    _build(fw, out, templates)

    intro = templates / "role-introduction.txt.j2"
    intro.write_text(intro.read_text("utf-8") + "\nOne more sentence.\n", "utf-8")
    report, _, _ = _build(fw, out, templates)
    assert len(report.rendered) == 8 and all(p.endswith(".docx") for p in report.rendered)

    theme = templates / "theme.yaml"
    theme.write_text(theme.read_text("utf-8") + "\n# a note\n", "utf-8")
    report, _, _ = _build(fw, out, templates)
    assert "framework.json" not in report.rendered and len(report.rendered) == ALL - 1  # JSON has no style

    shutil.copytree(out, tmp_path / "before")
    clean, _, _ = _build(fw, tmp_path / "clean", templates, clean=True)
    assert _files(out) == _files(tmp_path / "clean")


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_theme_edited_while_the_processes_stay_restyles_like_a_clean_build(tmp_path, epoch, jobs):
    """build --watch keeps its processes (and --jobs 2 its warm workers) from one rebuild to the
    next: what they loaded from the theme must follow the theme's edits."""
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    fw, out = _framework(tmp_path / "fw"), tmp_path / "out"
    framework = read_framework(fw).framework
    pool = builder.start_workers(jobs, None, templates)
    try:
        builder.build(framework, out, registry.load(), templates, build_time(), jobs, pool=pool)
        theme = templates / "theme.yaml"
        text = theme.read_text("utf-8")
        for old, new in (("  font_size: 10", "  font_size: 12"), ("  font_size: 7.5 ", "  font_size: 7.0 "),
                         ('expectations: "What this role expects"', 'expectations: "Expected of this role"')):
            assert old in text
            text = text.replace(old, new, 1)
        theme.write_text(text, "utf-8")
        builder.build(framework, out, registry.load(), templates, build_time(), jobs, pool=pool)
    finally:
        if pool is not None:
            pool.close()
    # the clean build in a fresh process, which has loaded nothing of the theme before
    subprocess.run([sys.executable, "-c", "from cfexport.cli import main; main()", "build", "--framework", str(fw),
                    "--out", str(tmp_path / "clean"), "--templates", str(templates), "--jobs", "1"],
                   check=True, capture_output=True)
    assert _files(out) == _files(tmp_path / "clean")


def test_clean_renders_everything_and_the_cli_says_what_was_reused(tmp_path, epoch):
    fw, out = _framework(tmp_path / "fw"), tmp_path / "out"
    args = ["build", "--framework", str(fw), "--out", str(out), "--templates", str(TEMPLATES), "--jobs", "1"]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "reused" not in first.output
    _edit(fw, 4)
    second = CliRunner().invoke(main, args)
    assert second.exit_code == 0, second.output
    assert f"rendered 7, reused {ALL - 7} unchanged" in second.output
    third = CliRunner().invoke(main, args + ["--clean"])
    assert third.exit_code == 0 and "reused" not in third.output, third.output


def test_a_reused_file_keeps_its_built_time_and_its_warnings(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    fw, out = _framework(tmp_path / "fw"), tmp_path / "out"
    page = fw / "craft0" / "level2.md"
    page.write_text(page.read_text("utf-8").replace("I ", "I 中文 ", 1), "utf-8")  # the PDF font lacks these
    _, entries, problems = _build(fw, out)
    assert any("level2.md" in p.source.file for p in problems)
    time.sleep(1.1)
    report, again, problems_again = _build(fw, out)
    assert not report.rendered
    assert problems_again == problems  # the reused card PDF still warns (and fails --strict)
    built = lambda es: {e["path"]: e["built"] for e in es}  # noqa: E731
    assert built(again) == built(entries)  # the files are the ones built then
    with pytest.raises(builder.StrictWarnings):
        builder.build(read_framework(fw).framework, out, registry.load(), TEMPLATES, build_time(), 1, strict=True)


def test_a_new_build_date_under_source_date_epoch_rebuilds_everything(tmp_path, monkeypatch):
    fw, out = _framework(tmp_path / "fw"), tmp_path / "out"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    _build(fw, out)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    report, _, _ = _build(fw, out)
    assert len(report.rendered) == ALL
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert {f["built"] for f in manifest["files"]} == {"2027-01-15T08:00:00Z"}


# -- the worker pool ----------------------------------------------------------------------------------------------

def _setup(offset: int) -> dict:
    return {"offset": offset, "pid": os.getpid()}


def _work(state: dict, item: int) -> tuple[int, int]:
    if item == 13:
        raise ValueError("thirteen")
    return item + state["offset"], state["pid"]


def test_results_are_the_same_whatever_the_number_of_processes_and_the_costs():
    items = list(range(40))
    one = dict(workers.results(_setup, (100,), _work, [i for i in items if i != 13], 1))
    two = dict(workers.results(_setup, (100,), _work, [i for i in items if i != 13], 2, cost=lambda i: i % 7,
                               chunk=3))
    assert {k: v[0] for k, v in one.items()} == {k: v[0] for k, v in two.items()}
    assert len({pid for _, pid in two.values()}) == 2 and os.getpid() not in {pid for _, pid in two.values()}
    ordered = list(workers.imap(_setup, (0,), _work, [i for i in items if i != 13], 2))
    assert [r for r, _ in ordered] == [i for i in items if i != 13]


def test_the_longest_documents_are_handed_out_first():
    order = [i for i, _ in workers.results(_setup, (0,), _work, [1, 2, 3, 4], 1, cost=lambda i: i % 3)]
    assert order == [1, 0, 3, 2]  # costs 1, 2, 0, 1: the largest first, ties in their order


def test_an_error_in_a_worker_reaches_the_caller_and_the_workers_stop():
    with pytest.raises(ValueError, match="thirteen"):
        list(workers.results(_setup, (0,), _work, list(range(30)), 2))
    assert not [c for c in __import__("multiprocessing").active_children()]


def _note_warm(path: str) -> None:
    with open(path, "a") as f:
        f.write(f"{os.getpid()}\n")


def _pid(state, item: int) -> tuple[int, int]:
    return item * 2, os.getpid()


@pytest.mark.skipif(sys.platform == "win32", reason="fork")
def test_a_pool_started_ahead_warms_once_and_its_workers_share_it(tmp_path):
    """Started before the work (build: while the pages are read), the first worker warms up and
    forks the others from itself: one warm-up, two workers, the same results, nothing left running."""
    import multiprocessing

    note = tmp_path / "warmed"
    with workers.Pool(2, warm=_note_warm, warm_args=(str(note),)) as pool:
        got = dict(pool.results(_setup, (0,), _pid, list(range(40)), chunk=1))
        again = dict(pool.results(_setup, (0,), _pid, list(range(10))))  # a pool serves rebuilds (watch)
    assert {i: r for i, (r, _) in got.items()} == {i: 2 * i for i in range(40)}
    assert {i: r for i, (r, _) in again.items()} == {i: 2 * i for i in range(10)}
    pids = {pid for _, pid in got.values()}
    assert len(note.read_text().split()) == 1 and len(pids) == 2 and os.getpid() not in pids
    assert not multiprocessing.active_children()
    deadline = time.monotonic() + 5
    while any(_running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_running(pid) for pid in pids)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _die(state, item: int) -> int:
    if item == 5:
        os._exit(3)  # a worker killed (out of memory) mid-work
    time.sleep(0.01)
    return item


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="/proc")
def test_a_worker_forked_by_the_first_that_dies_is_reported_not_waited_for(tmp_path):
    with workers.Pool(2, warm=_note_warm, warm_args=(str(tmp_path / "w"),)) as pool:
        with pytest.raises(workers.WorkerDied, match="stopped unexpectedly"):
            list(pool.results(_setup, (0,), _die, list(range(20))))
        assert not pool.alive


def test_a_second_read_in_a_session_reuses_unchanged_pages_and_equals_a_fresh_read(tmp_path):
    """build --watch reads again after every save; pages whose inputs did not change are not parsed
    again. Whatever was edited (a statement, a new problem, the craft page's areas), the result and
    its problems are those of a fresh read."""
    from cfexport.readers import memo
    from cfexport.readers.jekyll import framework as jekyll

    fw = _framework(tmp_path / "fw")
    parsed: list[str] = []
    real = jekyll._Reader.read_level

    def counting(self, page, *args):
        parsed.append(page.site_page.file)
        return real(self, page, *args)

    jekyll._Reader.read_level = counting
    try:
        with memo.session():
            first = read_framework(fw)
            assert len(parsed) == 4
            edits = [
                lambda: _edit(fw, 2),  # one statement reworded
                lambda: _replace(fw / "craft0" / "level3.md", "|:------------------|\n",  # a new problem
                                 "|:------------------|\n| | a description with no area |\n"),
                lambda: _replace(fw / "craft0" / "index.md", "### Area 0\\-1", "### Area 0\\-1 renamed"),
            ]
            # the renamed area changes what every level page is read against: all of them are read again
            every = sorted(f"craft0/level{n}.md" for n in range(1, 5))
            expected_parsed = [["craft0/level2.md"], ["craft0/level3.md"], every]
            for edit, expected in zip(edits, expected_parsed):
                parsed.clear()
                edit()
                remembered = read_framework(fw)
                assert sorted(parsed) == expected
                memo_free = _fresh(fw)
                assert remembered.framework == memo_free.framework
                assert remembered.problems == memo_free.problems
            assert remembered.framework != first.framework
            assert any("no area" in p.message for p in remembered.problems)
        parsed.clear()
        read_framework(fw)
        assert len(parsed) == 4  # outside a session nothing is remembered
    finally:
        jekyll._Reader.read_level = real


def test_a_session_parses_only_changed_front_matter_and_scans_the_readers_once_per_read(tmp_path, monkeypatch):
    """In build --watch, a page's front matter is parsed again only when its text changed, each read
    gets its own copy of it (what one read does to it cannot reach the next), and the installed
    readers are looked up once per read, not once per reader."""
    import importlib.metadata

    from cfexport import frontmatter
    from cfexport.readers import memo
    from cfexport.readers import registry as readers

    fw = _framework(tmp_path / "fw")
    split_calls: list[str] = []
    real_split = frontmatter.split
    monkeypatch.setattr(frontmatter, "split", lambda text: split_calls.append(text) or real_split(text))
    scans: list[str] = []
    real_scan = importlib.metadata.entry_points
    monkeypatch.setattr(readers, "entry_points", lambda **kw: scans.append(kw.get("group")) or real_scan(**kw))
    pages = len(list(fw.rglob("*.md")))
    with memo.session():
        read_framework(fw)
        assert len(split_calls) == pages and len(scans) == 1
        split_calls.clear()
        scans.clear()
        _replace(fw / "craft0" / "level2.md", "title:", "nav_exclude: true\ntitle:")
        again = read_framework(fw)
        assert len(split_calls) == 1 and "nav_exclude" in split_calls[0]  # only the edited page
        assert scans == []  # the same installed readers as the previous read
        reader = readers.detect(fw)  # the readers still load from the remembered scan
        assert reader is not None and reader.name == "jekyll"
    assert again.framework == _fresh(fw).framework and again.problems == _fresh(fw).problems
    scans.clear()
    read_framework(fw)
    assert len(scans) == 1  # outside a session: one scan per read (it was one per installed reader, and one more)


def test_keys_kept_between_watch_builds_equal_keys_computed_afresh(tmp_path):
    """build --watch keeps each level's slice of the model from one build to the next (for the
    level objects a read did not make again); every document's key is still the one a fresh
    process computes, after an edit as before it."""
    from datetime import datetime, timezone

    from cfexport import fingerprint
    from cfexport.exporters.base import Context
    from cfexport.readers import memo

    fw = _framework(tmp_path / "fw")
    exporters = registry.load([])
    when = datetime(2024, 1, 1, tzinfo=timezone.utc)

    def keys(framework):
        items, _ = builder.plan(framework, exporters)
        context = Context.for_framework(framework, TEMPLATES, when)
        return dict(zip((i.path for i in items), builder.document_keys(framework, exporters, items, context)))

    with memo.session(), fingerprint.keep_between_builds():
        before = keys(read_framework(fw).framework)
        assert keys(read_framework(fw).framework) == before
        _edit(fw, 2)
        after = keys(read_framework(fw).framework)
        assert after == keys(read_framework(fw).framework)
    fresh = keys(_fresh(fw).framework)
    assert after == fresh
    changed = sorted(p for p in fresh if fresh[p] != before[p])
    assert changed and all("level-2" in p or "level-1" in p or not p.endswith(".docx") for p in changed)


def _replace(page: Path, old: str, new: str) -> None:
    text = page.read_text("utf-8")
    assert old in text
    page.write_text(text.replace(old, new, 1), "utf-8")


def _fresh(fw: Path):
    from cfexport.readers import memo

    saved = list(memo._sessions)
    memo._sessions.clear()
    try:
        return read_framework(fw)
    finally:
        memo._sessions.extend(saved)


# -- build --watch ------------------------------------------------------------------------------------------------

def _lines(proc) -> queue.Queue:
    q: queue.Queue = queue.Queue()

    def read() -> None:
        for line in proc.stdout:
            q.put(line)
        q.put(None)

    threading.Thread(target=read, daemon=True).start()
    return q


def _wait_for(q: queue.Queue, text: str, seen: list, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = q.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        if text in line:
            return line
    raise AssertionError(f"no line with {text!r} in:\n{''.join(seen)}")


def test_watch_rebuilds_what_an_edit_changes_survives_a_bad_edit_and_stops_on_ctrl_c(tmp_path):
    fw, out = _framework(tmp_path / "fw"), tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "cfexport", "build", "--watch", "--framework", str(fw), "--out",
                             str(out), "--templates", str(TEMPLATES), "--format", "json", "--format", "docx",
                             "--jobs", "1"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000", "PYTHONUNBUFFERED": "1"},
                            # Ctrl-C as on a terminal, even when the tests run where SIGINT is ignored (a background job)
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen: list[str] = []
    try:
        q = _lines(proc)
        _wait_for(q, "watching", seen)
        good = (out / "framework.json").read_bytes()

        page = fw / "craft0" / "level3.md"
        text = page.read_text("utf-8")
        page.write_text(text.replace("title: Level 3", "title: Three", 1), "utf-8")  # a page cfexport cannot read
        _wait_for(q, "the previous output is kept", seen)
        assert (out / "framework.json").read_bytes() == good

        # saved as `sed -i` saves: a temporary file beside the page, renamed over it
        temporary = page.parent / "sedX4kq2v"
        temporary.write_text(text.replace("I ", "I really ", 1), "utf-8")
        os.replace(temporary, page)
        line = _wait_for(q, "rebuilt 5 file(s), reused 4", seen)
        assert "craft0/level3.md" in line and "framework.json" in line
        assert "sedX4kq2v" not in line  # the temporary file is no change of its own
        assert b"I really" in (out / "framework.json").read_bytes()

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        _wait_for(q, "stopped watching", seen)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in "".join(seen)
    assert not [p for p in out.iterdir() if p.name.startswith(".cfexport")]  # no lock or staging left


def test_watch_names_files_that_changed_not_temporary_files_and_sees_moved_folders(tmp_path):
    from cfexport.watch import _canonical, _touched

    craft = tmp_path / "craft0"
    craft.mkdir()
    page = craft / "level1.md"
    page.write_text("x", "utf-8")
    known = {str(page)}
    # a temporary file that came and went, and the page it was renamed over
    assert _touched([(1, str(craft / ".level1.md.swo~")), (3, str(craft / "sedAbc123")), (2, str(page))],
                    known) == [str(page)]
    assert _touched([(3, str(craft / "sedAbc123"))], known) == []  # only a temporary file: nothing to rebuild
    # a folder moved away, then back under another name: both are changes, and its files are known again
    moved = tmp_path / "craft1"
    craft.rename(moved)
    assert _touched([(3, str(craft)), (1, str(moved))], known) == [str(craft), str(moved)]
    assert known == {str(moved / "level1.md")}
    (moved / "level1.md").unlink()
    assert _touched([(3, str(moved / "level1.md"))], known) == [str(moved / "level1.md")]
    assert known == set()
    # a folder reached through a link (macOS: /var is /private/var): the event's spelling and the listing's are one
    real = tmp_path / "real"
    (real / "craft").mkdir(parents=True)
    (tmp_path / "alias").symlink_to(real)
    listed = real / "craft" / "level2.md"
    listed.write_text("x", "utf-8")
    known = {_canonical(str(tmp_path / "alias" / "craft" / "level2.md"))}
    listed.unlink()
    assert _touched([(3, str(listed))], known) == [str(listed)] and known == set()
