"""A round of packs in several processes: a move's packs go to one worker (its cards are made
once), the workers are handed indexes, and whatever order the packs complete in, the files
and the problems are those of one process."""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FRAMEWORK

from cfexport import workers
from cfexport.cli import main
from cfexport.model import Problem, Source

fork_only = pytest.mark.skipif(sys.platform == "win32", reason="patches that only forked workers inherit")

MOVES = [(spec, cur, tgt) for spec in ("ml-engineer", "edge-ml-engineer")
         for cur, tgt in ((5, 6), (6, 7), (7, 8), (5, 7))]  # 8 moves


def _rows(people: int, first: int = 0, manager: str = "Grace Hopper") -> list[str]:
    """`people` rows cycling through the moves (as a real round lists people, not moves)."""
    rows = []
    for n in range(first, first + people):
        spec, cur, tgt = MOVES[n % len(MOVES)]
        rows.append(f"Person {n},mlengineer/{spec},{cur},{tgt},{manager}")
    return rows


def _packs(rows: list[str], tmp_path: Path, name: str = "people.csv"):
    from cfexport.packs import plan, read_people
    from cfexport.readers import read_framework

    people = tmp_path / name
    people.write_text("person,role,current_level,target_level,manager\n" + "\n".join(rows) + "\n", "utf-8")
    framework = read_framework(FRAMEWORK).framework
    requests, errors = read_people(people)
    packs, plan_errors = plan(framework, requests)
    assert not errors and not plan_errors
    return framework, packs


def _cli(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result


_csv_number = itertools.count()


def _round(tmp_path: Path, rows: list[str], out: Path, jobs: int, *extra: str):
    people = tmp_path / f"people-{next(_csv_number)}.csv"
    people.write_text("person,role,current_level,target_level,manager\n" + "\n".join(rows) + "\n", "utf-8")
    result = _cli("packs", "--people", str(people), "--framework", str(FRAMEWORK), "--out", str(out),
                  "--jobs", str(jobs), *extra)
    assert result.exit_code == 0, result.output
    return result


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --- how a round is handed out ---------------------------------------------------------------------------------------

def test_a_moves_packs_are_chunked_together_in_order_up_to_the_cap(tmp_path):
    from cfexport.packs.folders import CHUNK, pack_chunks

    framework, packs = _packs(_rows(100), tmp_path)  # 8 moves, 12 or 13 packs each, rows cycling through them
    chunks, moves = pack_chunks(packs, 2)
    assert sorted(i for chunk in chunks for i in chunk) == list(range(100))  # each pack once
    assert len(moves) == len(chunks) and all(0 < len(chunk) <= CHUNK for chunk in chunks)
    for chunk, move in zip(chunks, moves):
        assert {(packs[i].current, packs[i].target) for i in chunk} == {(packs[chunk[0]].current,
                                                                        packs[chunk[0]].target)}
        req = packs[chunk[0]].request
        assert move == MOVES.index((req.track.split("/")[1], req.current, req.target))
    # each move: its packs in their order, in as few chunks as the cap allows, one after the other
    for move in range(len(MOVES)):
        mine = [chunk for chunk, m in zip(chunks, moves) if m == move]
        members = [i for i in range(100) if i % len(MOVES) == move]
        assert [i for chunk in mine for i in chunk] == members
        assert len(mine) == -(-len(members) // CHUNK)
    assert moves == sorted(moves)  # the moves in the order of their first pack


def test_a_round_where_everybody_makes_one_move_is_still_shared_out(tmp_path):
    from cfexport.packs.folders import CHUNK, pack_chunks

    rows = [f"Person {n},mlengineer/ml-engineer,5,6," for n in range(40)]
    _, packs = _packs(rows, tmp_path)
    chunks, moves = pack_chunks(packs, 2)
    assert set(moves) == {0} and len(chunks) >= 8 and max(map(len, chunks)) <= CHUNK
    assert [i for chunk in chunks for i in chunk] == list(range(40))


def test_equal_roles_that_are_other_objects_make_one_move(tmp_path):
    """`plan` shares one object per role, but render_packs takes any packs: a move is compared by value."""
    from cfexport.packs.folders import pack_chunks

    _, first = _packs(_rows(4), tmp_path, "a.csv")
    _, second = _packs(_rows(4, first=8), tmp_path, "b.csv")  # other Role objects, the same four moves
    assert first[0].current is not second[0].current and first[0].current == second[0].current
    chunks, moves = pack_chunks(first + second, 1)
    assert [sorted(chunk) for chunk in chunks] == [[0, 4], [1, 5], [2, 6], [3, 7]] and moves == [0, 1, 2, 3]


def test_a_keys_chunks_go_to_the_worker_that_took_the_first_until_only_they_are_left():
    hand = workers._Handout(6, ["a", "a", "a", "b", "b", "c"])
    assert [hand.next("w1"), hand.next("w1"), hand.next("w2"), hand.next("w2")] == [0, 1, 3, 4]
    assert [hand.next("w2"), hand.next("w1"), hand.next("w1"), hand.next("w2")] == [5, 2, None, None]
    # one key for everything: the second worker takes the last chunks, the owner goes on from the front
    hand = workers._Handout(5, ["a"] * 5)
    assert [hand.next("w1"), hand.next("w2"), hand.next("w2"), hand.next("w1"), hand.next("w1")] == [0, 4, 3, 1, 2]
    assert hand.next("w2") is None
    # a worker with nothing of its own left helps with the key that has most chunks left
    hand = workers._Handout(7, ["a", "a", "b", "b", "b", "b", "b"])
    assert [hand.next("w1"), hand.next("w2"), hand.next("w1"), hand.next("w1"), hand.next("w1")] == [0, 2, 1, 6, 5]
    assert [hand.next("w2"), hand.next("w2"), hand.next("w1")] == [3, 4, None]
    # without keys: in order
    hand = workers._Handout(3, None)
    assert [hand.next("w1"), hand.next("w2"), hand.next("w1"), hand.next("w2")] == [0, 1, 2, None]


def _setup(offset: int) -> dict:
    return {"offset": offset, "pid": os.getpid()}


def _work(state: dict, item: int) -> tuple[int, int]:
    return item + state["offset"], state["pid"]


def test_explicit_chunks_give_every_result_once_and_one_process_takes_them_a_key_at_a_time():
    chunks = [[0, 5], [1, 6], [2, 7], [3, 8], [4, 9], [10], [11]]
    keys = ["x", "y", "x", "y", "z", "x", "w"]
    one = list(workers.results(_setup, (100,), _work, list(range(12)), 1, chunks=chunks, keys=keys))
    assert [i for i, _ in one] == [0, 5, 2, 7, 10, 1, 6, 3, 8, 4, 9, 11]  # key by key, in order of their first chunk
    two = dict(workers.results(_setup, (100,), _work, list(range(12)), 2, chunks=chunks, keys=keys))
    assert {i: r for i, (r, _) in two.items()} == {i: r for i, (r, _) in one} == {i: i + 100 for i in range(12)}
    assert len({pid for _, pid in two.values()}) == 2 and os.getpid() not in {pid for _, pid in two.values()}
    with pytest.raises(ValueError, match="2 keys for 7 chunks"):
        list(workers.results(_setup, (0,), _work, list(range(12)), 2, chunks=chunks, keys=["x", "y"]))


# --- a round in two processes ------------------------------------------------------------------------------------------

@fork_only
def test_with_two_workers_each_moves_cards_are_rendered_once(tmp_path, monkeypatch):
    """16 packs, 8 moves, rows cycling through them: every move's cards once in the round, not once
    per worker (handed out a pack or two at a time in row order, both workers made most moves' cards)."""
    import cfexport.exporters.level_cards as level_cards
    import cfexport.packs.folders as folders

    note = tmp_path / "cards.txt"
    real = level_cards.render_pack_cards

    def counted(framework, current, target, context, *args):
        with open(note, "a", encoding="utf-8") as f:
            f.write(f"{os.getpid()} {current.id} {target.id}\n")
        return real(framework, current, target, context, *args)

    monkeypatch.setattr(level_cards, "render_pack_cards", counted)  # the forked workers inherit it
    monkeypatch.setattr(folders, "_CARDS", {})  # nothing this test process rendered before
    _round(tmp_path, _rows(16), tmp_path / "out", 2)
    calls = [line.split() for line in note.read_text("utf-8").splitlines()]
    moves = [(cur, tgt) for _, cur, tgt in calls]
    assert len(moves) == len(set(moves)) == 8, calls
    pids = {pid for pid, _, _ in calls}
    assert len(pids) == 2 and str(os.getpid()) not in pids  # both workers worked


@fork_only
def test_the_workers_are_handed_indexes_not_packs(tmp_path, monkeypatch):
    """The packs (each reaching its whole craft) are inherited with the workers' state: a chunk is
    a list of numbers, not of pickled packs."""
    from datetime import datetime, timezone

    from conftest import TEMPLATES

    from cfexport.exporters.base import Context
    from cfexport.packs import write_packs

    sent = []
    real = workers.Pool._send

    def send(self, conn, message):
        if message and message[0] == "work":
            sent.append(message[2])
        return real(self, conn, message)

    monkeypatch.setattr(workers.Pool, "_send", send)
    framework, packs = _packs(_rows(6), tmp_path)
    ctx = Context.for_framework(framework, TEMPLATES, datetime(2024, 1, 1, tzinfo=timezone.utc))
    written, _ = write_packs(framework, packs, tmp_path / "out", ctx, 2)
    assert len(written) == 6
    assert sorted(i for chunk in sent for i in chunk) == list(range(6))
    assert all(type(i) is int for chunk in sent for i in chunk)


@fork_only
def test_problems_come_back_in_the_order_of_the_packs_whatever_order_they_are_done_in(tmp_path, monkeypatch):
    """The packs are done a move at a time (and in two processes, as they complete), not in
    row order: the problems are still listed in the order of the packs, each once."""
    import cfexport.packs.folders as folders
    from cfexport.exporters.base import Context
    from cfexport.packs import write_packs
    from conftest import TEMPLATES
    from datetime import datetime, timezone

    real = folders.render_pack

    def render(framework, pack, context):
        n = int(pack.request.person.split()[-1])
        if n % 3 == 0:
            context.problems.append(Problem("warning", Source("people.csv", n + 2), f"odd name {n}"))
        context.problems.append(Problem("warning", Source("theme", 1), "a font is missing"))  # every pack says it
        if n % 3 == 0:
            context.problems.append(Problem("warning", Source("people.csv", n + 2), f"odd name {n}"))  # twice
        return real(framework, pack, context)

    monkeypatch.setattr(folders, "render_pack", render)
    framework, packs = _packs(_rows(12), tmp_path)
    expected = ["odd name 0", "a font is missing", "odd name 3", "odd name 6", "odd name 9"]
    for jobs in (1, 2):
        ctx = Context.for_framework(framework, TEMPLATES, datetime(2024, 1, 1, tzinfo=timezone.utc))
        written, problems = write_packs(framework, packs, tmp_path / f"out{jobs}", ctx, jobs)
        assert [p.message for p in problems] == expected
        assert list(written) == [f"packs/{p.folder}/" for p in folders.assign_folders(packs, tmp_path / "none")]


@pytest.mark.parametrize("as_zip", [False, True], ids=["folders", "zip"])
def test_jobs_1_and_jobs_2_write_the_same_bytes_round_after_round(tmp_path, monkeypatch, as_zip):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    extra = ("--zip",) if as_zip else ()
    trees = {}
    for jobs in (1, 2):
        out = tmp_path / f"out{jobs}"
        _round(tmp_path, _rows(14), out, jobs, *extra)
        first = _tree(out / "packs")
        # a second round into the same folder: 10 packs kept (their folders updated), 4 new ones
        _round(tmp_path, _rows(14, first=4), out, jobs, *extra)
        trees[jobs] = (first, _tree(out / "packs"))
    assert trees[1] == trees[2]
    first, second = trees[1]
    suffix = ".zip" if as_zip else "/pack.json"
    assert sum(name.endswith(suffix) for name in first) == 14 and sum(name.endswith(suffix) for name in second) == 18
    assert first.keys() < second.keys()


@fork_only
def test_a_rounds_workers_start_before_the_pages_are_read_and_warm_up_meanwhile(tmp_path, monkeypatch):
    """`packs --jobs 2` starts its workers first: one loads the libraries, the Word template and the
    card fonts while the main process reads the pages and the people (as `build` does); the round
    they render is the one a single process writes."""
    import cfexport.cli.packs as cli_packs
    import cfexport.packs.folders as folders

    order: list[str] = []
    warmed = tmp_path / "warmed.txt"
    real_start, real_read, real_warm = folders.start_workers, cli_packs.read_or_fail, folders.warm

    def warm(templates):
        real_warm(templates)
        with open(warmed, "a", encoding="utf-8") as f:
            f.write(f"{os.getpid()}\n")

    monkeypatch.setattr(folders, "warm", warm)  # the forked first worker runs this one
    monkeypatch.setattr(folders, "start_workers", lambda *a: order.append("workers") or real_start(*a))
    monkeypatch.setattr(cli_packs, "read_or_fail", lambda *a, **kw: order.append("read") or real_read(*a, **kw))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    _round(tmp_path, _rows(6), tmp_path / "two", 2)
    assert order == ["workers", "read"]
    assert warmed.read_text("utf-8").split() != [str(os.getpid())] and len(warmed.read_text("utf-8").split()) == 1
    _round(tmp_path, _rows(6), tmp_path / "one", 1)
    assert _tree(tmp_path / "two" / "packs") == _tree(tmp_path / "one" / "packs")
