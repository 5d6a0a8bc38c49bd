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
