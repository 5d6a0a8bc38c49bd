"""The CLI as a user meets it, and the README that documents it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from conftest import FRAMEWORK, ROOT, TEMPLATES

from cfexport.cli import main
from cfexport.readers import read_framework
from cfexport.registry import available

README = (ROOT / "README.md").read_text("utf-8")


def test_list_shows_every_role_with_its_id():
    result = CliRunner().invoke(main, ["list", "--framework", str(FRAMEWORK)])
    assert result.exit_code == 0
    for level, name in ((5, "Junior"), (6, "Mid-Level"), (7, "Senior"), (8, "Lead")):
        for slug, spec in (("ml-engineer", "ML Engineer"), ("edge-ml-engineer", "Edge ML Engineer")):
            assert re.search(rf"mlengineer/{slug}/{level}\s+{name} {spec}\n", result.output)
    data = json.loads(CliRunner().invoke(main, ["list", "--framework", str(FRAMEWORK), "--json"]).output)
    [craft] = data["crafts"]
    assert [s["id"] for s in craft["specialisms"]] == ["mlengineer/ml-engineer", "mlengineer/edge-ml-engineer"]
    assert len(craft["roles"]) == 8 and craft["roles"][0]["title"] == "Junior ML Engineer"


def test_help_and_formats():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("validate", "list", "formats", "build", "pack", "packs"):
        assert command in result.output
    result = CliRunner().invoke(main, ["formats"])
    assert result.exit_code == 0
    for name in ("docx", "xlsx", "pdf", "json"):
        assert re.search(rf"^{name}\s", result.output, re.M)


def test_readme_documents_every_command_and_exporter():
    for command in main.commands:
        assert f"cfexport {command}" in README, f"README does not document `cfexport {command}`"
    for name in available():
        assert f"`{name}`" in README or f"--format {name}" in README, f"README does not mention exporter {name}"


def test_the_readme_plugin_example_runs_through_a_real_build(tmp_path):
    code = README.split("# my_exporter.py\n", 1)[1].split("```", 1)[0]
    (tmp_path / "my_exporter.py").write_text(code, "utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        from my_exporter import MarkdownListExporter
    finally:
        sys.path.remove(str(tmp_path))
    from cfexport import build as builder
    from cfexport.repro import build_time

    fw = read_framework(FRAMEWORK).framework
    out = tmp_path / "out"
    entries, _ = builder.build(fw, out, [MarkdownListExporter()], TEMPLATES, build_time(), jobs=1)
    assert len(entries) == 8
    text = (out / "checklists/ml-and-edge-ml-engineer-craft/junior-ml-engineer.txt").read_text("utf-8")
    assert "  [ ] I understand risks from ML such as model bias and model drift." in text


def test_help_does_not_import_the_document_libraries():
    code = ("import sys; from cfexport.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('docx', 'openpyxl', 'reportlab') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT).stdout
    assert "HEAVY []" in out
    code = code.replace("['--help']", f"['validate', '--framework', {str(FRAMEWORK)!r}]")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT).stdout
    assert "HEAVY []" in out


def test_build_outside_the_repository_uses_the_templates_shipped_in_the_package(tmp_path):
    exe = Path(sys.executable).parent / "cfexport"
    proc = subprocess.run([str(exe), "build", "--framework", str(FRAMEWORK), "--out", "out", "--format", "docx",
                           "--format", "pdf", "--jobs", "1"], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "level-cards" / "ml-and-edge-ml-engineer-craft.pdf").exists()
    assert len(list((tmp_path / "out" / "role-descriptions").rglob("*.docx"))) == 8


# --- templates: which folder, and starting one -------------------------------------------------

def test_a_templates_folder_without_a_theme_is_not_mistaken_for_ours(tmp_path, monkeypatch):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "base.html").write_text("<html>{{ content }}</html>", "utf-8")
    monkeypatch.chdir(tmp_path)
    from cfexport.theme import default_templates

    assert (default_templates() / "theme.yaml").is_file() and default_templates() != Path("templates")
    result = CliRunner().invoke(main, ["build", "--framework", str(FRAMEWORK), "--out", "out", "--format", "docx",
                                       "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "out" / "role-descriptions").rglob("*.docx"))) == 8


def test_a_local_templates_folder_with_a_theme_is_used(tmp_path, monkeypatch):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "theme.yaml").write_text("colours:\n  primary: 1F3A5F\ncolours:\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["build", "--framework", str(FRAMEWORK), "--out", "out", "--format", "json"])
    assert result.exit_code == 1
    assert "templates/theme.yaml:3: error: duplicate key 'colours' (first on line 1); keep one" in result.output


def test_init_templates_copies_the_shipped_templates_and_build_uses_them(tmp_path):
    branding = tmp_path / "branding"
    result = CliRunner().invoke(main, ["init-templates", str(branding)])
    assert result.exit_code == 0, result.output
    got = sorted(p.relative_to(branding).as_posix() for p in branding.rglob("*") if p.is_file())
    shipped = sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*")
                     if p.is_file() and p.suffix not in (".py", ".pyc"))
    assert got == shipped
    assert {"theme.yaml", "role-description.docx", "role-introduction.txt.j2", "promotion-introduction.txt.j2",
            "fonts/DejaVuSans.ttf", "fonts/DejaVuSans-Bold.ttf", "fonts/LICENSE-DejaVu.txt"} <= set(got)
    for name in got:
        assert (branding / name).read_bytes() == (TEMPLATES / name).read_bytes()
    (branding / "role-introduction.txt.j2").write_text("Our own introduction for {{ role }}.\n", "utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", "--framework", str(FRAMEWORK), "--out", str(out), "--format", "docx",
                                       "--templates", str(branding), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    from readback import docx_text

    [doc] = [p for p in out.rglob("*.docx") if p.name == "ml-engineer-level-5.docx"]
    assert "Our own introduction for Junior ML Engineer." in docx_text(doc)


def test_init_templates_refuses_a_folder_that_is_not_empty_unless_forced(tmp_path):
    branding = tmp_path / "branding"
    branding.mkdir()
    (branding / "notes.txt").write_text("mine", "utf-8")
    result = CliRunner().invoke(main, ["init-templates", str(branding)])
    assert result.exit_code == 2 and "--force" in result.output and "Traceback" not in result.output
    assert sorted(p.name for p in branding.iterdir()) == ["notes.txt"]
    result = CliRunner().invoke(main, ["init-templates", str(branding), "--force"])
    assert result.exit_code == 0, result.output
    assert (branding / "theme.yaml").is_file() and (branding / "notes.txt").read_text("utf-8") == "mine"


def test_a_missing_templates_folder_says_how_to_start_one(tmp_path):
    result = CliRunner().invoke(main, ["build", "--framework", str(FRAMEWORK), "--out", str(tmp_path / "o"),
                                       "--templates", str(tmp_path / "branding")])
    assert result.exit_code == 2
    assert f"cfexport init-templates {tmp_path / 'branding'}" in result.output


# --- folders, strictness, exit codes ----------------------------------------------------------

def test_a_missing_framework_folder_is_a_usage_error_without_a_line_number(tmp_path):
    missing = tmp_path / "site" / "careerframework"
    for command in (["validate"], ["list"], ["build", "--out", str(tmp_path / "o")]):
        result = CliRunner().invoke(main, [*command, "--framework", str(missing)])
        assert result.exit_code == 2, result.output
        assert result.output.strip().splitlines() == [
            f"error: framework folder {missing} not found; pass --framework DIR"], result.output


def test_a_problem_about_a_whole_folder_prints_no_line():
    from cfexport.cli import _located
    from cfexport.model import Problem, Source

    assert _located(Path("fw"), Problem("error", Source("fw", 0), "no pages found")) == "fw: error: no pages found"
    assert _located(Path("fw"), Problem("error", Source("a.md", 3), "x")) == f"{Path('fw') / 'a.md'}:3: error: x"


def test_validate_never_says_nothing_was_written():
    result = CliRunner().invoke(main, ["validate", "--framework", str(FRAMEWORK), "--strict"])
    assert result.exit_code == 1
    assert "nothing was written" not in result.output and "--strict" in result.output


def test_strict_validation_can_allow_todo_cells_and_only_them(tmp_path):
    result = CliRunner().invoke(main, ["validate", "--framework", str(FRAMEWORK), "--strict", "--allow", "todo"])
    assert result.exit_code == 0, result.output
    assert "is TODO" not in result.output
    todo = [p for p in read_framework(FRAMEWORK).problems if "is TODO" in p.message]
    assert todo and all(p.code == "todo" and p.severity == "warning" for p in todo)
    # another warning still fails under --strict --allow todo
    from factory import small_craft, write_framework

    fw = write_framework(tmp_path / "fw", [small_craft()])
    page = fw / "test" / "level1.md"
    page.write_text(page.read_text("utf-8").replace("/framework/test#delivery", "/framework/test#delivry"), "utf-8")
    result = CliRunner().invoke(main, ["validate", "--framework", str(fw), "--strict", "--allow", "todo"])
    assert result.exit_code == 1 and "'#delivry'" in result.output
    result = CliRunner().invoke(main, ["validate", "--framework", str(FRAMEWORK), "--allow", "nothing"])
    assert result.exit_code == 2


def test_readme_shows_strict_validation_for_ci():
    ci = README.split("### `cfexport validate`", 1)[1].split("\n### ", 1)[0]
    assert "cfexport validate --framework framework --strict --allow todo" in ci
    assert re.search(r"\bCI\b", ci)


def test_help_and_readme_state_the_exit_codes():
    help_text = " ".join(CliRunner().invoke(main, ["--help"]).output.split())
    table = README.split("### Exit codes", 1)[1].split("\n#", 1)[0]
    for code, words in ((0, "ok"), (1, "input"), (2, "usage"), (3, "written"), (4, "internal")):
        assert re.search(rf"\b{code}\b[^0-9]*{words}", help_text), (code, help_text)
        assert re.search(rf"^\| {code} \|.*{words}", table, re.M), (code, table)


# --- the README: set-up first, one place for each piece of documentation ----------------------

def test_readme_says_where_the_command_is_before_using_it():
    first_use = re.search(r"^cfexport (validate|list|formats|build|pack|packs|init-templates)\b", README, re.M).start()
    assert ".venv/bin/cfexport" in README[:first_use]
    assert "source .venv/bin/activate" in README[:first_use]


def test_readme_states_the_prerequisites_and_how_long_the_bench_takes():
    setup = README.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    for words in ("Python 3.11", "python3-venv", "make", "package index"):
        assert words in setup, words
    assert re.search(r"make bench.{0,200}\d+ minutes", setup, re.S)


def test_every_document_is_linked_and_every_link_resolves():
    docs = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").rglob("*.md"))
    assert docs == [], f"documentation lives in the README; not linked from it: {docs}"
    for target in re.findall(r"\]\(([^)#]+)\)", README):
        if not re.match(r"https?://", target):
            assert (ROOT / target).exists(), target
    assert "docs/images" in (ROOT / "tools" / "make_pictures.py").read_text("utf-8").replace('" / "', "/")


def test_a_closed_pipe_is_not_an_error(monkeypatch):
    """`cfexport list | head -1`: the reader closed the pipe; nothing failed."""
    import cfexport.cli.framework as commands

    def closed(*args, **kwargs):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(commands.click, "echo", closed)
    result = CliRunner().invoke(main, ["list", "--framework", str(FRAMEWORK)])
    assert result.exit_code == 0 and "error" not in result.output


def test_an_unknown_format_is_reported_before_the_framework_is_read():
    result = CliRunner().invoke(main, ["build", "--framework", str(FRAMEWORK), "--format", "nope", "--out", "x"])
    assert result.exit_code == 2
    assert "unknown format 'nope'" in result.output and "TODO" not in result.output
