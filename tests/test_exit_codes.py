"""One exit-code scheme for every command: 0 ok; 1 the input has problems to fix; 2 usage;
3 output could not be written; 4 internal error (a bug)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FRAMEWORK, TEMPLATES
from factory import small_craft, write_framework

from cfexport.cli import main

ROLE = ["--role", "mlengineer/ml-engineer", "--from", "5", "--to", "6", "--person", "Ada"]


def _bad_framework(tmp: Path) -> Path:
    fw = write_framework(tmp / "bad-fw", [small_craft()])
    page = fw / "test" / "level1.md"
    page.write_text(page.read_text("utf-8").replace("title: Level 1 (Junior)", "title: Junior"), "utf-8")
    return fw


def _bad_theme(tmp: Path) -> Path:
    import shutil

    tpl = tmp / "bad-theme"
    shutil.copytree(TEMPLATES, tpl, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    (tpl / "theme.yaml").write_text("colours:\n  primary: 1F3A5F\ncolours:\n  accent: 2E86AB\n", "utf-8")
    return tpl


def _csv(tmp: Path, row: str) -> Path:
    path = tmp / "round.csv"
    path.write_text(f"person,role,current_level,target_level,manager\n{row}\n", "utf-8")
    return path


def _blocked(tmp: Path) -> Path:
    """An output folder that cannot be made: its parent is a file."""
    (tmp / "a-file").write_text("x", "utf-8")
    return tmp / "a-file" / "out"


def _folder(tmp: Path) -> Path:
    """An empty folder of returns."""
    (tmp / "returns").mkdir(exist_ok=True)
    return tmp / "returns"


def _bug(monkeypatch, target: str) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(target, broken)


FW = str(FRAMEWORK)
# (command, args from tmp, expected exit code, a few words of the message, a bug to plant)
CASES = [
    ("validate", lambda t: ["--framework", FW, "--allow", "todo"], 0, "ok:", None),
    ("validate", lambda t: ["--framework", str(_bad_framework(t))], 1, "error:", None),
    ("validate", lambda t: ["--framework", FW, "--strict"], 1, "--strict", None),
    ("validate", lambda t: ["--framework", FW, "--templates", str(_bad_theme(t))], 1, "duplicate key", None),
    ("validate", lambda t: ["--framework", str(t / "nope")], 2, "not found", None),
    ("validate", lambda t: ["--framework", FW, "--no-such-option"], 2, "No such option", None),
    ("validate", lambda t: ["--framework", FW], 4, "internal error", "cfexport.readers.read_framework"),
    ("list", lambda t: ["--framework", FW], 0, "mlengineer/ml-engineer/5", None),
    ("list", lambda t: ["--framework", str(_bad_framework(t))], 1, "error:", None),
    ("list", lambda t: ["--framework", str(t / "nope")], 2, "not found", None),
    ("list", lambda t: ["--framework", FW], 4, "internal error", "cfexport.readers.read_framework"),
    ("formats", lambda t: [], 0, "docx", None),
    ("formats", lambda t: ["extra"], 2, "Got unexpected extra argument", None),
    ("formats", lambda t: [], 4, "internal error", "cfexport.registry.available"),
    ("build", lambda t: ["--framework", FW, "--out", str(t / "o"), "--format", "json"], 0, "wrote", None),
    ("build", lambda t: ["--framework", str(_bad_framework(t)), "--out", str(t / "o")], 1, "error:", None),
    ("build", lambda t: ["--framework", FW, "--out", str(t / "o"), "--strict"], 1, "--strict", None),
    ("build", lambda t: ["--framework", FW, "--out", str(t / "o"), "--format", "json", "--templates",
                         str(_bad_theme(t))], 1, "duplicate key", None),
    ("build", lambda t: ["--framework", FW, "--out", str(t / "o"), "--format", "nope"], 2, "unknown format", None),
    ("build", lambda t: ["--framework", str(t / "nope"), "--out", str(t / "o")], 2, "not found", None),
    ("build", lambda t: ["--framework", FW, "--out", str(t / "o"), "--templates", str(t / "nope")], 2,
     "init-templates", None),
    ("build", lambda t: ["--framework", FW, "--out", str(_blocked(t)), "--format", "json"], 3, "error:", None),
    ("build", lambda t: ["--framework", FW, "--out", str(t / "o")], 4, "internal error", "cfexport.build.build"),
    ("pack", lambda t: [*ROLE, "--framework", FW, "--out", str(t / "o")], 0, "wrote 1 pack", None),
    ("pack", lambda t: [*ROLE, "--framework", str(_bad_framework(t)), "--out", str(t / "o")], 1, "error:", None),
    ("pack", lambda t: [*ROLE, "--framework", FW, "--out", str(t / "o"), "--templates", str(_bad_theme(t))], 1,
     "duplicate key", None),
    ("pack", lambda t: ["--role", "nope", "--from", "5", "--to", "6", "--person", "Ada", "--framework", FW,
                        "--out", str(t / "o")], 2, "unknown role", None),
    ("pack", lambda t: [*ROLE, "--framework", FW, "--out", str(t / "o"), "--templates", str(t / "nope")], 2,
     "init-templates", None),
    ("pack", lambda t: [*ROLE, "--framework", FW, "--out", str(_blocked(t))], 3, "error:", None),
    ("pack", lambda t: [*ROLE, "--framework", FW, "--out", str(t / "o")], 4, "internal error",
     "cfexport.packs.write_packs"),
    ("packs", lambda t: ["--people", str(_csv(t, "Ada,mlengineer/ml-engineer,5,6,")), "--framework", FW,
                         "--out", str(t / "o"), "--jobs", "1"], 0, "wrote 1 pack", None),
    ("packs", lambda t: ["--people", str(_csv(t, "Ada,mlengineer/nope,5,6,")), "--framework", FW,
                         "--out", str(t / "o"), "--jobs", "1"], 1, "unknown role", None),
    ("packs", lambda t: ["--people", str(_csv(t, "Ada,mlengineer/ml-engineer,5,6,")), "--framework", FW,
                         "--out", str(t / "o"), "--jobs", "1", "--templates", str(_bad_theme(t))], 1,
     "duplicate key", None),
    ("packs", lambda t: ["--people", str(t / "missing.csv"), "--framework", FW, "--out", str(t / "o")], 2,
     "does not exist", None),
    ("packs", lambda t: ["--people", str(_csv(t, "Ada,mlengineer/ml-engineer,5,6,")), "--framework", FW,
                         "--out", str(_blocked(t)), "--jobs", "1"], 3, "error:", None),
    ("packs", lambda t: ["--people", str(_csv(t, "Ada,mlengineer/ml-engineer,5,6,")), "--framework", FW,
                         "--out", str(t / "o"), "--jobs", "1"], 4, "internal error", "cfexport.packs.write_packs"),
    ("changes", lambda t: ["--from", FW, "--to", FW, "--out", str(t / "o")], 0, "no changes", None),
    ("changes", lambda t: ["--from", str(_bad_framework(t)), "--to", FW, "--out", str(t / "o")], 1, "error:", None),
    ("changes", lambda t: ["--from", "no-such-rev", "--framework", FW, "--out", str(t / "o")], 2, "no-such-rev",
     None),
    ("changes", lambda t: ["--from", FW, "--to", FW, "--out", str(_blocked(t))], 3, "error:", None),
    ("changes", lambda t: ["--from", FW, "--to", FW, "--out", str(t / "o")], 4, "internal error",
     "cfexport.changes.diff.diff"),
    ("convert", lambda t: ["--framework", FW, "--to", "jekyll", "--out", str(t / "o")], 0, "wrote", None),
    ("convert", lambda t: ["--framework", str(_bad_framework(t)), "--to", "jekyll", "--out", str(t / "o")], 1,
     "error:", None),
    ("convert", lambda t: ["--framework", FW, "--to", "word", "--out", str(t / "o")], 2, "Invalid value", None),
    ("convert", lambda t: ["--framework", FW, "--from-format", "nope", "--to", "jekyll", "--out", str(t / "o")], 2,
     "unknown --from-format", None),
    ("convert", lambda t: ["--framework", FW, "--to", "jekyll", "--out", str(_blocked(t))], 3, "error:", None),
    ("convert", lambda t: ["--framework", FW, "--to", "jekyll", "--out", str(t / "o")], 4, "internal error",
     "cfexport.writers.jekyll_pages.write"),
    ("collect", lambda t: [str(_folder(t)), "--out", str(t / "s.xlsx")], 0, "0 pack(s)", None),
    ("collect", lambda t: [str(_folder(t)), "--round", str(_folder(t)), "--out", str(t / "s.xlsx")], 1,
     "no round.csv", None),
    ("collect", lambda t: [str(t / "nope"), "--out", str(t / "s.xlsx")], 2, "does not exist", None),
    ("collect", lambda t: [str(_folder(t)), "--out", str(_blocked(t) / "s.xlsx")], 3, "error:", None),
    ("collect", lambda t: [str(_folder(t)), "--out", str(t / "s.xlsx")], 4, "internal error",
     "cfexport.collect.collect"),
    ("init-templates", lambda t: [str(t / "branding")], 0, "wrote", None),
    ("init-templates", lambda t: [str(Path(FW))], 2, "--force", None),
    ("init-templates", lambda t: [str(_blocked(t))], 3, "error:", None),
    # serve runs until stopped: its 0 is --help here (tests/test_web.py serves and stops it)
    ("serve", lambda t: ["--help"], 0, "web page", None),
    ("serve", lambda t: ["--framework", str(t / "nope")], 2, "not found", None),
    ("serve", lambda t: ["--framework", FW, "--port", "70000"], 2, "70000", None),
    ("serve", lambda t: ["--framework", FW, "--port", "0", "--out", str(t / "o")], 4, "internal error",
     "cfexport.web.app.create_app"),
]


@pytest.mark.parametrize("command, args, code, words, bug", CASES,
                         ids=[f"{c[0]}-{c[2]}-{i}" for i, c in enumerate(CASES)])
def test_exit_codes(tmp_path, monkeypatch, command, args, code, words, bug):
    argv = [command, *args(tmp_path)]
    if bug:
        _bug(monkeypatch, bug)
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == code, result.output
    assert words in result.output, result.output
    assert "Traceback" not in result.output
    if code == 4:
        assert "run again with --debug and report it" in result.output
    if code not in (0, 2) or command == "validate":
        assert result.output.count("\n") >= 1


def test_every_command_has_an_exit_code_case():
    assert {c[0] for c in CASES} == set(main.commands)
    for command in main.commands:
        codes = {c[2] for c in CASES if c[0] == command}
        assert {0, 2} <= codes and (4 in codes or command == "init-templates"), (command, codes)


def test_the_constants_keep_their_values():
    from cfexport import cli

    assert (cli.EXIT_INVALID, cli.EXIT_USAGE, cli.EXIT_EXPORT, cli.EXIT_INTERNAL) == (1, 2, 3, 4)
