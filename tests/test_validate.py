"""`cfexport validate`: every problem at once, FILE:LINE: severity: message, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FRAMEWORK
from factory import small_craft, write_framework

from cfexport.cli import main


def run(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.fixture
def fw(tmp_path) -> Path:
    return write_framework(tmp_path / "fw", [small_craft()])


def level(fw: Path, n: int = 1) -> Path:
    return fw / "test" / f"level{n}.md"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), "utf-8")


def test_shipped_framework_validates_clean_apart_from_todo_warnings():
    result = run("validate", "--framework", str(FRAMEWORK))
    assert result.exit_code == 0
    lines = [ln for ln in result.output.splitlines() if ": warning: " in ln or ": error: " in ln]
    assert lines and all(": warning: " in ln and "is TODO" in ln for ln in lines)
    assert "ok: 1 craft(s), 8 role(s)" in result.output


def test_strict_makes_warnings_fail():
    result = run("validate", "--framework", str(FRAMEWORK), "--strict")
    assert result.exit_code == 1
    assert "--strict" in result.output


def expect_error(fw: Path, file: Path, line: int, words: str):
    result = run("validate", "--framework", str(fw))
    assert result.exit_code == 1, result.output
    wanted = f"{file}:{line}: error: "
    hits = [ln for ln in result.output.splitlines() if ln.startswith(wanted)]
    assert hits, f"no line starting {wanted!r} in:\n{result.output}"
    assert words in hits[0], hits[0]
    assert "nothing was written" not in result.output  # validate never writes
    return result


def test_front_matter_that_does_not_parse(fw):
    edit(level(fw), "title: Level 1 (Junior)", "title: [Level 1")
    result = expect_error(fw, level(fw), 4, "not valid YAML")
    assert "started on line 3" in result.output


def test_parent_that_does_not_exist(fw):
    edit(level(fw), 'parent: "Test Craft"', 'parent: "Tset Craft"')
    expect_error(fw, level(fw), 6, "parent 'Tset Craft' does not exist")


def test_two_pages_for_one_level(fw):
    (fw / "test" / "copy.md").write_text(level(fw).read_text("utf-8"), "utf-8")
    result = expect_error(fw, fw / "test" / "level1.md", 3, "two pages for level 1")
    assert "copy.md" in result.output


def test_level_title_without_a_number(fw):
    edit(level(fw), "title: Level 1 (Junior)", "title: Junior level")
    expect_error(fw, level(fw), 3, "has no number")


def test_no_pages_at_all(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run("validate", "--framework", str(tmp_path / "empty"))
    assert result.exit_code == 1, result.output
    assert f"{tmp_path / 'empty'}: error: no pages found" in result.output  # a folder has no line


def test_file_that_is_not_utf8(fw):
    edit(level(fw), "I deliver at level 1\\.", "I don’t deliver")
    level(fw).write_bytes(level(fw).read_bytes().replace("’".encode(), b"\x92"))
    result = expect_error(fw, level(fw), 16, "not UTF-8 (byte 0x92")
    assert "re-save the file as UTF-8" in result.output


def test_every_problem_is_reported_at_once(fw):
    edit(level(fw), "title: Level 1 (Junior)", "title: Junior")
    edit(level(fw, 2), 'parent: "Test Craft"', 'parent: "Nope"')
    result = run("validate", "--framework", str(fw))
    assert f"{level(fw)}:3: error:" in result.output
    assert f"{level(fw, 2)}:6: error:" in result.output


@pytest.mark.parametrize("yaml_text, line, words", [
    ("a: &x [1, 2]\nb: *x\n", 3, "anchors and aliases"),
    ("title: one\ntitle: two\n", 3, "duplicate key 'title' (first on line 2)"),
])
def test_unsafe_or_ambiguous_yaml_is_an_error_naming_the_line(fw, yaml_text, line, words):
    page = fw / "test" / "extra.md"
    page.write_text(f"---\n{yaml_text}---\n# x\n", "utf-8")
    expect_error(fw, page, line, words)


def test_alias_bomb_is_refused_before_it_expands(fw):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi"))
    page = fw / "test" / "bomb.md"
    page.write_text(f"---\n{bomb}---\n", "utf-8")
    expect_error(fw, page, 3, "anchors and aliases")


def test_huge_front_matter_is_an_error_not_an_out_of_memory(fw):
    page = fw / "test" / "huge.md"
    page.write_text("---\n" + "".join(f"k{i}: {'v' * 60}\n" for i in range(2000)) + "---\n", "utf-8")
    expect_error(fw, page, 1, "larger than 64 KiB")


def test_yaml_11_lookalikes_stay_the_text_the_author_wrote(fw):
    edit(fw / "test" / "index.md", 'title: "Test Craft"', "title: NO")
    for n in (1, 2):
        edit(level(fw, n), 'parent: "Test Craft"', "parent: NO")
        edit(level(fw, n), "title: Level", "title: 'Level")
        edit(level(fw, n), f"Level {n} ({'Junior' if n == 1 else 'Senior'})",
             f"Level {n} ({'Junior' if n == 1 else 'Senior'})'")
    edit(fw / "index.md", "nav_order: 1", "nav_order: 1\nversion: 1.10")
    from cfexport.readers import read_framework
    result = read_framework(fw)
    assert not result.errors, result.errors
    assert result.framework.crafts[0].title == "NO"
    assert result.framework.version == "1.10"


def test_python_tags_are_not_executed(fw, tmp_path):
    marker = tmp_path / "pwned"
    page = fw / "test" / "evil.md"
    page.write_text(f"---\ntitle: !!python/object/apply:os.system ['touch {marker}']\n---\n", "utf-8")
    run("validate", "--framework", str(fw))
    assert not marker.exists()


@pytest.mark.parametrize("change, words", [
    (("I deliver at level 1\\.", "TODO"), "'Delivery' is TODO"),
    (("/framework/test#delivery", "/framework/test#delivry"), "'#delivry', which the craft page does not define"),
    (("I deliver at level 1\\.", ""), "empty description"),
])
def test_warnings_name_file_and_line(fw, change, words):
    edit(level(fw), *change)
    result = run("validate", "--framework", str(fw))
    assert result.exit_code == 0, result.output
    assert any(ln.startswith(f"{level(fw)}:16: warning: ") and words in ln for ln in result.output.splitlines()), \
        result.output


def test_an_area_a_level_leaves_out_is_a_warning(fw):
    text = level(fw).read_text("utf-8")
    level(fw).write_text("\n".join(ln for ln in text.splitlines() if "[Mentoring]" not in ln), "utf-8")
    result = run("validate", "--framework", str(fw))
    assert result.exit_code == 0
    assert f"{level(fw)}:3: warning: level 1 leaves out the area 'Mentoring'" in result.output


def test_installed_command_in_a_subprocess_reports_without_traceback(fw):
    edit(level(fw), "title: Level 1 (Junior)", "title: Junior")
    exe = Path(sys.executable).parent / "cfexport"
    proc = subprocess.run([str(exe), "validate", "--framework", str(fw)], capture_output=True, text=True)
    assert proc.returncode == 1
    assert f"{level(fw)}:3: error:" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    proc = subprocess.run([sys.executable, "-m", "cfexport", "validate", "--framework", str(FRAMEWORK)],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "ok:" in proc.stdout


def test_dates_and_thematic_breaks_in_pages_do_not_confuse_the_reader(fw):
    edit(fw / "index.md", "nav_order: 1", "nav_order: 1\nreviewed: 2024-13-01\nupdated: 2024-01-02")
    edit(level(fw), "# Junior - Level 1", "# Junior - Level 1\n\n---\n\nIntro text.\n\n---")
    from cfexport.readers import read_framework
    result = read_framework(fw)
    assert not result.errors, result.errors
    stmts = [s.text for e in result.framework.crafts[0].level(1).expectations for s in e.statements]
    assert "I deliver at level 1." in stmts
