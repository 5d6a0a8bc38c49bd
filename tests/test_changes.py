"""`cfexport changes` in a real git repository: three commits of the shipped framework,
compared pair by pair, from git objects and from folders; the user's working tree and
index are left as they were; the documents read back with python-docx and openpyxl.

Every golden value is a text the test itself writes into the pages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import jsonschema
import openpyxl
import pytest
from click.testing import CliRunner
from conftest import FRAMEWORK
from readback import docx_text

import cfexport
from cfexport.cli import main

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}

# The edits of the second commit, and what they are.
ADDED = "I write runbooks for the models I deploy."
AREA_STATEMENT = "I build reliable data pipelines for training."
REWORD_OLD = "I understand risks from ML such as model bias and model drift."
REWORD_NEW = "I understand risks from ML such as model bias, data leakage and model drift."
REMOVED = "I advise the team on the responsible and compliant use of AI."
FILLED = "I suggest improvements to the tools and platforms of my team."
AREA = "Data Engineering"
AREA_ID = "data-engineering"

V1_V2 = {
    ("statement-added", 6, "ml-ops", None, ADDED),
    ("statement-added", 5, AREA_ID, None, AREA_STATEMENT),
    ("statement-reworded", 5, "ai-governance", REWORD_OLD, REWORD_NEW),
    ("statement-removed", 7, "ai-governance", REMOVED, None),
    ("todo-filled", 6, "technical-strategy", None, FILLED),
    ("area-added", None, AREA_ID, None, AREA),
}
V2_V3 = {("level-renamed", 8, None, "Lead", "Staff")}


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}, check=True)
    return proc.stdout


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert text.count(old) == 1, (path, old)
    path.write_text(text.replace(old, new), "utf-8")


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """A repository with tags v1, v2, v3 (the edits above) and a branch `broken` that does not
    validate; folder copies of each version in snapshots/."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    base = tmp_path_factory.mktemp("changes")
    repo, snaps = base / "repo", base / "snapshots"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    fw = repo / "framework"
    shutil.copytree(FRAMEWORK, fw)

    def commit(tag: str) -> None:
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", tag)
        git(repo, "tag", tag)
        shutil.copytree(fw, snaps / tag)

    commit("v1")
    ml = fw / "mlengineer"
    edit(ml / "level6.md", "and fix the issues I find. |", f"and fix the issues I find. <br><br> {ADDED} |")
    edit(ml / "level5.md", REWORD_OLD, REWORD_NEW)
    edit(ml / "level7.md", f" <br><br> {REMOVED}", "")
    edit(ml / "level6.md", "| [Technical Strategy](/careerframework/mlengineer#technical-strategy) | TODO |",
         f"| [Technical Strategy](/careerframework/mlengineer#technical-strategy) | {FILLED} |")
    # re-wrap a cell: other spacing around <br>, padding, and another spelling of the link
    edit(ml / "level5.md", "| [ML Ops](/careerframework/mlengineer#ml-ops) | I work effectively with the ML tools "
         "and software packages used by my team. <br><br> I have",
         "|   [ML Ops](/careerframework/mlengineer/#ml-ops)   |   I work effectively with the ML tools and  "
         "software packages used by my team.<br><br>I have")
    # move a row within a table
    lines = (ml / "level7.md").read_text("utf-8").split("\n")
    a = next(i for i, line in enumerate(lines) if line.startswith("| [AI Strategy]"))
    b = next(i for i, line in enumerate(lines) if line.startswith("| [Architecture Design]"))
    lines[a], lines[b] = lines[b], lines[a]
    (ml / "level7.md").write_text("\n".join(lines), "utf-8")
    # add an area, defined on the craft page and expected at level 5
    edit(ml / "index.md", "## Craft - ML Engineer\n",
         f"### {AREA}\n\nBuilding the data pipelines that feed training and evaluation.\n\n## Craft - ML Engineer\n")
    edit(ml / "level5.md", "| [Technical Strategy](/careerframework/mlengineer#technical-strategy) | TODO |\n",
         "| [Technical Strategy](/careerframework/mlengineer#technical-strategy) | TODO |\n"
         f"| [{AREA}](/careerframework/mlengineer#{AREA_ID}) | {AREA_STATEMENT} |\n")
    commit("v2")
    edit(ml / "level8.md", "title: Level 8 (Lead)", "title: Level 8 (Staff)")
    commit("v3")
    git(repo, "checkout", "-q", "-b", "broken")
    edit(ml / "level5.md", "I understand how my work fits into Vaarst's AI Strategy. |",
         "I understand how my work fits into Vaarst's AI Strategy. | a third cell |")
    git(repo, "commit", "-q", "-am", "broken")
    git(repo, "checkout", "-q", "main")
    return repo


def run(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    return result


def changes_json(repo: Path, out: Path, *args: str) -> dict:
    result = run("changes", "--framework", str(repo / "framework"), "--out", str(out), "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads((out / "changes" / "changes.json").read_text("utf-8"))


def found(data: dict) -> set:
    return {(c["kind"], c["level"], c["area"], c["old"], c["new"]) for c in data["changes"]}


@pytest.mark.parametrize("old,new,expected", [("v1", "v2", V1_V2), ("v2", "v3", V2_V3), ("v1", "v3", V1_V2 | V2_V3)])
def test_changes_between_each_pair_of_revisions_are_exactly_the_edits_made(repo, tmp_path, old, new, expected):
    data = changes_json(repo, tmp_path, "--from", old, "--to", new)
    schema = json.loads((Path(cfexport.__file__).parent / "schema" / "changes.schema.json").read_text("utf-8"))
    jsonschema.validate(data, schema)
    assert found(data) == expected  # nothing for the re-wrapped cell, the moved row or the link spelling
    assert len(data["changes"]) == len(expected)
    assert data["from"] == {"spec": old, "version": old} and data["to"] == {"spec": new, "version": new}
    reworded = [c for c in data["changes"] if c["kind"] == "statement-reworded"]
    for c in reworded:  # one change with both ids, not a removal and an addition
        assert c["old_id"] and c["new_id"] and c["old_id"] != c["new_id"]
        assert c["old_source"]["file"] == c["new_source"]["file"] == "mlengineer/level5.md"


def test_folders_give_the_same_changes_as_revisions(repo, tmp_path):
    snaps = repo.parent / "snapshots"
    for old, new in (("v1", "v2"), ("v2", "v3")):
        by_git = changes_json(repo, tmp_path / "git", "--from", old, "--to", new)
        by_folder = changes_json(repo, tmp_path / "dir", "--from", str(snaps / old), "--to", str(snaps / new))
        assert by_folder["changes"] == by_git["changes"]
        assert by_folder["to"]["version"] == new  # a folder is labelled by its name


def test_the_working_tree_and_index_are_left_as_they_were(repo, tmp_path):
    level5 = repo / "framework" / "mlengineer" / "level5.md"
    original = level5.read_bytes()
    level5.write_bytes(original.replace(REWORD_NEW.encode(), b"I understand risks from ML such as model bias, data leakage, privacy and model drift."))  # unstaged
    (repo / "notes.txt").write_text("mine")
    git(repo, "add", "notes.txt")  # staged
    try:
        before = (git(repo, "status", "--porcelain=v2", "--branch"), (repo / ".git" / "index").read_bytes(),
                  git(repo, "rev-parse", "HEAD"), level5.stat().st_mtime_ns)
        data = changes_json(repo, tmp_path, "--from", "v3")  # to the working tree
        assert ("statement-reworded", 5, "ai-governance", REWORD_NEW, "I understand risks from ML such as model bias, data leakage, privacy and model drift.") \
            in found(data)
        changes_json(repo, tmp_path, "--from", "v1", "--to", "v3")
        after = (git(repo, "status", "--porcelain=v2", "--branch"), (repo / ".git" / "index").read_bytes(),
                 git(repo, "rev-parse", "HEAD"), level5.stat().st_mtime_ns)
        assert after == before
        assert not list(repo.glob("**/.cfexport*"))
    finally:
        git(repo, "reset", "-q", "--", "notes.txt")
        (repo / "notes.txt").unlink()
        level5.write_bytes(original)
    assert git(repo, "status", "--porcelain") == ""


def test_same_version_twice_is_no_changes_and_exit_0(repo, tmp_path):
    result = run("changes", "--framework", str(repo / "framework"), "--out", str(tmp_path), "--from", "v2",
                 "--to", "v2", "--format", "md")
    assert result.exit_code == 0, result.output
    assert "no changes" in result.output
    assert "No changes from v2 to v2." in (tmp_path / "changes" / "changes.md").read_text("utf-8")


def test_an_unknown_revision_is_named_with_the_tags_nearby_and_is_a_usage_error(repo, tmp_path):
    result = run("changes", "--framework", str(repo / "framework"), "--out", str(tmp_path), "--from", "v21")
    assert result.exit_code == 2
    assert "unknown revision 'v21'" in result.output and "v2" in result.output and "v1" in result.output
    assert not (tmp_path / "changes").exists()


def test_a_revision_without_the_framework_folder_says_so(repo, tmp_path):
    (repo / "later").mkdir()
    try:
        result = run("changes", "--framework", str(repo / "later"), "--out", str(tmp_path), "--from", "v1")
    finally:
        (repo / "later").rmdir()
    assert result.exit_code == 2
    assert "the framework folder later does not exist at v1" in result.output


def test_a_version_that_does_not_validate_names_the_revision_in_each_file_name(repo, tmp_path):
    broken = git(repo, "show", "broken:framework/mlengineer/level5.md").split("\n")
    line = next(i for i, text in enumerate(broken, 1) if "a third cell" in text)
    result = run("changes", "--framework", str(repo / "framework"), "--out", str(tmp_path), "--from", "v3",
                 "--to", "broken")
    assert result.exit_code == 1
    assert f"broken:mlengineer/level5.md:{line}: error: " in result.output
    assert not (tmp_path / "changes").exists()


def test_docx_xlsx_md_read_back_and_are_reproducible(repo, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    args = ("changes", "--framework", str(repo / "framework"), "--from", "v1", "--to", "v3")
    assert run(*args, "--out", str(tmp_path / "a")).exit_code == 0
    assert run(*args, "--out", str(tmp_path / "b")).exit_code == 0
    out = tmp_path / "a" / "changes"
    for name in ("changes.md", "changes.docx", "changes.xlsx", "changes.json"):
        assert (out / name).read_bytes() == (tmp_path / "b" / "changes" / name).read_bytes(), name

    text = docx_text(out / "changes.docx")
    assert "What changed for Junior ML Engineers" in text and "What changed for Mid-Level Edge ML Engineers" in text
    assert f"Reworded: {REWORD_NEW}" in text and f"Previously: {REWORD_OLD}" in text
    assert f"Removed: {REMOVED}" in text and FILLED in text and "Lead → Staff" in text
    assert "v1 → v3" in text

    wb = openpyxl.load_workbook(out / "changes.xlsx")
    ws = wb["Changes"]
    [table] = ws.tables.values()
    rows = list(ws.iter_rows(values_only=True))
    assert table.ref == f"A1:O{len(rows)}"
    header = rows[0]
    assert header[:9] == ("Kind", "Craft", "Specialism", "Level", "Level name", "Area", "Old text", "New text",
                          "Moved from")
    body = [dict(zip(header, r)) for r in rows[1:]]
    assert len(body) == len(V1_V2 | V2_V3)
    [reworded] = [r for r in body if r["Kind"] == "statement-reworded"]
    assert (reworded["Old text"], reworded["New text"], reworded["Level"]) == (REWORD_OLD, REWORD_NEW, 5)
    assert reworded["Old file"] == reworded["New file"] == "mlengineer/level5.md"
    assert isinstance(reworded["Old line"], int) and isinstance(reworded["New line"], int)

    md = (out / "changes.md").read_text("utf-8")
    assert md.splitlines()[4].startswith("7 changes from v1 to v3: 1 level renamed, 1 area added, 2 statements added")
    assert f"- **Reworded**: {REWORD_NEW}" in md


def test_a_folder_inside_a_site_is_read_from_the_site_root_of_the_revision(tmp_path):
    """The jtd fixture site (with _config.yml and _includes/) committed: the revision's model is the
    working tree's, so comparing them finds nothing."""
    from sitefixture import SITE

    from cfexport.changes.revisions import read_version

    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    shutil.copytree(SITE, repo / "site")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "site")
    folder = repo / "site" / "careers"
    from_git = read_version("HEAD", folder, None)
    on_disk = read_version(None, folder, None)
    assert from_git.framework is not None and not from_git.result.errors
    assert from_git.framework.to_dict() == on_disk.framework.to_dict()
    assert from_git.result.problems == on_disk.result.problems
