"""Readers as plugins: FT YAML, Monzo, matrix workbooks and Jekyll pages into one model, every
exporter on each, `convert --to jekyll` reading back into an equal model, and bad input
reported as FILE:LINE (or book.xlsx!Sheet!CELL)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import FRAMEWORK, ROOT, TEMPLATES
from matrixfixture import MARKUP, write_matrix

from cfexport.cli import main
from cfexport.readers import read_framework
from cfexport.readers.registry import available

FIX = ROOT / "tests" / "fixtures"
FT_WRITTEN = FIX / "ft" / "written"
FT_REAL = FIX / "ft" / "engineering-progression" / "data"
MONZO_WRITTEN = FIX / "monzo" / "written" / "frameworks"
MONZO_REAL = FIX / "monzo" / "progression-framework" / "frameworks"


def shape(fw):
    """Everything a reader says about the framework, without sources and URLs."""
    return (fw.title, fw.description, fw.version, [
        (c.id, c.title, c.description, c.specialisms, c.specialism_ids,
         [(a.id, a.title, a.definition, a.specialism) for a in c.areas],
         [(lv.number, lv.name, lv.illustrative,
           [(e.area_id, e.area_title, e.specialism, tuple(s.text for s in e.statements), e.todo)
            for e in lv.expectations]) for lv in c.levels])
        for c in fw.crafts])


def ok(path, **kw):
    result = read_framework(path, **kw)
    assert not result.errors, [str(p) for p in result.errors]
    return result


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    return write_matrix(tmp_path_factory.mktemp("matrix") / "book.xlsx")


# --- the registry ----------------------------------------------------------------------

def test_built_in_readers_are_entry_points_and_formats_lists_them_with_the_exporters():
    assert set(available()) >= {"jekyll", "ft-yaml", "monzo", "matrix-xlsx"}
    result = run("formats")
    assert result.exit_code == 0, result.output
    exporters, readers = result.output.split("\nreaders (")
    for name in ("jekyll", "ft-yaml", "monzo", "matrix-xlsx"):
        assert f"  {name} " in readers
    for name in ("docx", "xlsx", "pdf", "json"):
        assert f"\n{name} " in "\n" + exporters


def test_each_reader_recognises_its_own_layout(matrix):
    from cfexport.readers.registry import detect

    assert detect(FRAMEWORK).name == "jekyll"
    assert detect(FT_REAL).name == "ft-yaml" and detect(FT_REAL.parent).name == "ft-yaml"
    assert detect(FT_WRITTEN / "job-families" / "delivery.yml").name == "ft-yaml"
    assert detect(MONZO_REAL).name == "monzo" and detect(MONZO_WRITTEN).name == "monzo"
    assert detect(matrix).name == "matrix-xlsx"
    assert read_framework(FRAMEWORK).framework == read_framework(FRAMEWORK, None, "jekyll").framework


def test_a_path_no_reader_recognises_lists_the_readers_and_what_each_looks_for(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    result = run("validate", "--framework", tmp_path / "notes.txt")
    assert result.exit_code == 1
    assert "no reader recognises this" in result.output
    for name in ("jekyll:", "ft-yaml:", "monzo:", "matrix-xlsx:"):
        assert name in result.output
    assert run("validate", "--framework", tmp_path / "missing").exit_code == 2
    bad = run("list", "--framework", FRAMEWORK, "--from-format", "nope")
    assert bad.exit_code == 2 and "unknown --from-format 'nope'" in bad.output and "ft-yaml" in bad.output


def test_from_format_forces_a_reader():
    result = run("validate", "--framework", MONZO_WRITTEN, "--from-format", "jekyll")
    assert result.exit_code == 1  # the Monzo folder read as a Jekyll site: not a framework
    assert run("list", "--framework", MONZO_WRITTEN, "--from-format", "monzo").exit_code == 0


# --- ft-yaml ----------------------------------------------------------------------------

def test_ft_yaml_maps_themes_levels_tracks_and_competencies():
    result = ok(FT_WRITTEN)
    [craft] = result.framework.crafts
    assert craft.title == "Délivery Engineering ✓" and craft.id == "delivery"
    assert craft.description == ("A job family written for cfexport's tests, in the layout of the FT's "
                                 "engineering-progression data.\n\nIt has a second paragraph.")
    assert [(a.id, a.title, a.definition) for a in craft.areas] == [
        ("delivery", "Delivery & <Impact>", "Shipping work that matters, on time."), ("craft", "Craft", "")]
    assert craft.specialisms == ("Individual Contributor", "People Manager")
    assert [(lv.number, lv.name) for lv in craft.levels] == [(1, "Junior Engineer"), (2, "Senior Engineer"),
                                                             (3, "Principal Engineer")]
    junior, senior, principal = craft.levels
    assert [(e.specialism, [s.text for s in e.statements]) for e in junior.expectations] == [
        (None, ["Ships small changes with git — café-level polish."]),
        (None, ["Writes tests | checks them.", "Reads code written in 日本語 comments."])]
    assert [str(s.source) for s in junior.expectations[1].statements] == [
        "job-families/delivery.yml:50", "job-families/delivery.yml:51"]
    assert [(e.specialism, e.area_id, e.statements[0].text) for e in senior.expectations] == [
        ("Individual Contributor", "delivery", "Leads the technical delivery of a project."),
        ("Individual Contributor", "craft", 'Sets the team\'s "standards" for code.'),
        ("People Manager", "delivery", "Runs the team's planning."),
        ("People Manager", "craft", "Coaches engineers on their craft.")]
    assert principal.expectations == ()  # the missing level
    assert any("level 'Principal Engineer' has no competencies" in str(p) for p in result.warnings)


def test_ft_yaml_structural_problems_are_file_line_errors(tmp_path):
    text = (FT_WRITTEN / "job-families" / "delivery.yml").read_text("utf-8")
    text = text.replace("level: senior-pm\n    theme: craft", "level: senior\n    theme: craft")
    text = text.replace("00000000-0000-4000-8000-000000000005", "00000000-0000-4000-8000-000000000003")
    text = text.replace("proficiency: Expert", "proficiency: Guru")
    family = tmp_path / "job-families"
    family.mkdir()
    (family / "delivery.yml").write_text(text, "utf-8")
    result = run("validate", "--framework", tmp_path)
    assert result.exit_code == 1
    out = result.output
    assert f"{tmp_path}/job-families/delivery.yml:66: error: the competency id '00000000-0000-4000-8000-000000000003' is used twice (first on line 54)" in out
    assert f"{tmp_path}/job-families/delivery.yml:74: error: level 'senior' is not one of" in out
    assert f"{tmp_path}/job-families/delivery.yml:64: warning: proficiency 'Guru'" in out
    (family / "delivery.yml").write_text("name: X\nname: Y\n", "utf-8")
    out = run("validate", "--framework", tmp_path, "--from-format", "ft-yaml").output
    assert "delivery.yml:2: error: duplicate key 'name'" in out


def test_ft_yaml_reads_the_real_engineering_progression_data():
    result = ok(FT_REAL)
    fw = result.framework
    assert [c.title for c in fw.crafts] == ["Engineering", "Engineering (Legacy)", "Operations"]
    eng = fw.crafts[0]
    assert eng.specialisms == ("Individual Contributor", "People Manager")
    assert [lv.name for lv in eng.levels] == ["Junior Engineer", "Engineer", "Senior Engineer 1", "Senior Engineer 2",
                                              "Principal Engineer", "Technology Director"]
    texts = " ".join(s.text for s in fw.statements())
    for file in sorted((FT_REAL / "job-families").glob("*.yml")):
        for competency in yaml.safe_load(file.read_text("utf-8"))["competencies"]:
            first = competency["summary"].strip().split("\n")[0].lstrip("0123456789. ")
            assert first.split("*")[0][:40] in texts, first


# --- monzo ------------------------------------------------------------------------------

def test_monzo_maps_topics_levels_criteria_and_the_generic_framework():
    result = ok(MONZO_WRITTEN)
    fw = result.framework
    assert [c.title for c in fw.crafts] == ["🛠️ Platform Engineering Framework", "📄 Generic Framework"]
    platform = fw.crafts[0]
    assert platform.id == "platform" and platform.specialisms == ()
    assert platform.description == ("Platform engineers run the platform that every squad builds on.\n\n"
                                    "Written for cfexport's tests in the layout of Monzo's progression framework.")
    assert [(a.id, a.title) for a in platform.areas] == [("communication", "🗣️ Communication"),
                                                         ("systems", "⚙️ Systems")]
    assert [lv.label for lv in platform.levels] == ["Level 1", "Level 2", "Level 3", "Level 4"]
    one, two, three, four = platform.levels
    assert [[s.text for s in e.statements] for e in one.expectations] == [
        ["Writes *clear* PR descriptions with `code` & <b>tags</b> | pipes",  # Monzo shows criteria as text
         "Gives feedback kindly — naïve café ✓", "Listens to others"],  # exampleCriteria, then generic's
        ["Runs one service"]]
    assert [str(s.source) for s in one.expectations[0].statements] == [
        "engineering/platform.md:15", "engineering/platform.md:17", "generic.md:15"]
    assert [[s.text for s in e.statements] for e in two.expectations] == [
        ["Explains their work to anyone"], ["Runs several services", "Is on call for them"]]
    assert three.expectations == ()  # the missing level
    assert any("level 3 of '🛠️ Platform Engineering Framework' has no criteria" in str(p) for p in result.warnings)
    assert [e.area_id for e in four.expectations] == ["systems"]


def test_monzo_structural_problems_are_file_line_errors(tmp_path):
    page = (MONZO_WRITTEN / "engineering" / "platform.md").read_text("utf-8")
    (tmp_path / "a.md").write_text(page.replace("      - level: 4", "      - level: four"), "utf-8")
    (tmp_path / "b.md").write_text(page.replace('  - name: "systems"', '  - name: "communication"'), "utf-8")
    out = run("validate", "--framework", tmp_path).output
    assert f"{tmp_path}/a.md:32: error: level must be a whole number, not 'four'" in out
    assert f"{tmp_path}/b.md:22: error: the topic 'communication' appears twice (first on line 10)" in out


def test_monzo_reads_a_real_excerpt_of_the_progression_framework():
    result = ok(MONZO_REAL)
    fw = result.framework
    assert [c.title for c in fw.crafts] == ["🛠️ Backend Engineering Framework", "📄 Generic Framework",
                                            "🎯 Ops Leadership Framework", "🙂 People"]
    assert any("product-design.md" in str(p) and "not a framework file" in p.message for p in result.problems)
    backend = fw.crafts[0]
    assert backend.areas[0].title == "💬 Communication"  # titled by the generic framework's topic
    texts = {s.text for s in fw.statements()}
    from cfexport.readers.yamltree import yaml12_tabs

    for file in sorted(MONZO_REAL.rglob("*.md")):
        meta = yaml.safe_load(yaml12_tabs(file.read_text("utf-8").split("\n---", 1)[0][4:]))
        for topic in meta.get("topics") or []:
            for content in topic["content"]:
                if content["level"] > meta["levels"]:
                    continue
                for criterion in content.get("criteria") or []:
                    assert " ".join(criterion.split()) in texts, (file, criterion)
    assert any("beyond 'levels: 5'" in str(p) for p in result.warnings)


# --- matrix-xlsx ------------------------------------------------------------------------

def test_matrix_xlsx_finds_the_layout_by_its_headers(matrix):
    result = ok(matrix)
    fw = result.framework
    assert fw.title == "Ünicode Framework" and fw.version == "2.1"
    [craft] = fw.crafts
    assert craft.title == "Platform Craft" and craft.specialisms == ("Backend", "Front end")
    assert [(a.title, a.specialism, a.definition) for a in craft.areas] == [
        ("Delivery", None, "Shipping work."), ("Quality", None, ""),
        ("Backend skills", "Backend", "What Backend needs."), ("Front end skills", "Front end", "What Front end needs.")]
    assert [(lv.number, lv.name) for lv in craft.levels] == [(1, "Júnior"), (2, "Senior"), (3, "Staff")]
    one, two, three = craft.levels
    got = [(e.area_title, e.specialism, [s.text for s in e.statements], e.todo) for e in one.expectations]
    assert got == [
        ("Delivery", None, ["Ships small changes", "Asks for help"], False),
        ("Quality", "Backend", ["Tests every change", "Reviews code"], False),  # the sheets differ
        ("Backend skills", "Backend", [MARKUP], False),
        ("Quality", "Front end", ["Tests every change"], False),
        ("Front end skills", "Front end", ["Builds 画面 UIs"], False)]
    assert [(e.area_title, e.specialism, e.todo) for e in two.expectations] == [
        ("Delivery", None, False), ("Quality", None, True)]  # "Not described" leaves the area out
    assert [(e.area_title, [s.text for s in e.statements], e.todo) for e in three.expectations] == [
        ("Delivery", ["Leads delivery across teams"], False), ("Quality", [], True)]  # the formula is not read
    assert str(one.expectations[2].source) == "book.xlsx!Backend!D7:0"
    assert str(three.expectations[0].source) == "book.xlsx!Backend!B11:0"


def test_matrix_xlsx_problems_name_the_cell(tmp_path):
    import openpyxl

    path = write_matrix(tmp_path / "book.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["Front end"]["E4"] = "Level 1 · Other"
    wb["Front end"]["D8"] = "• a statement without an area"
    wb.save(path)
    out = run("validate", "--framework", path).output
    assert f"{tmp_path}/book.xlsx!'Front end'!E4: error: a second column for level 1 (the other is D4)" in out
    assert f"{tmp_path}/book.xlsx!'Front end'!D8: error: a row with statements but no area" in out


def _rezip(src: Path, dst: Path, extra: dict[str, bytes] | None = None, edit=None) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info.filename, edit(info.filename, data) if edit else data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    return dst


def test_matrix_xlsx_refuses_untrusted_workbook_tricks(tmp_path, matrix):
    cases = {
        "macros.xlsx": _rezip(matrix, tmp_path / "macros.xlsx", {"xl/vbaProject.bin": b"\0" * 10}),
        "bomb.xlsx": _rezip(matrix, tmp_path / "bomb.xlsx", {"xl/media/big.bin": b"\0" * (8 * 1024 * 1024)}),
        "entities.xlsx": _rezip(matrix, tmp_path / "entities.xlsx", edit=lambda n, d: (
            b'<!DOCTYPE x [<!ENTITY a "aaaa">]>' + d.split(b"?>", 1)[-1]) if n == "xl/workbook.xml" else d),
    }
    assert all(path.exists() for path in cases.values())
    (tmp_path / "book.xlsm").write_bytes(matrix.read_bytes())
    (tmp_path / "notazip.xlsx").write_bytes(b"hello")
    expected = {"macros.xlsx": "holds macros", "bomb.xlsx": "zip bomb", "entities.xlsx": "DOCTYPE or entities",
                "book.xlsm": "can hold macros", "notazip.xlsx": "not a zip archive"}
    for name, words in expected.items():
        result = read_framework(tmp_path / name)
        assert result.framework is None and words in result.errors[0].message, (name, result.problems)


# --- every exporter on every reader, and back to Jekyll ------------------------------------

@pytest.mark.parametrize("source", ["ft", "monzo", "matrix"])
def test_every_exporter_runs_on_each_reader_and_convert_reads_back_an_equal_model(tmp_path, source, matrix):
    path = {"ft": FT_WRITTEN, "monzo": MONZO_WRITTEN, "matrix": matrix}[source]
    fw = ok(path).framework
    out = tmp_path / "out"
    result = run("build", "--framework", path, "--out", out, "--templates", TEMPLATES, "--jobs", "1")
    assert result.exit_code == 0, result.output
    model = json.loads((out / "framework.json").read_text("utf-8"))
    stored = [s["text"] for c in model["crafts"] for lv in c["levels"] for e in lv["expectations"]
              for s in e["statements"]]
    assert stored == [s.text for s in fw.statements()]
    from readback import xlsx_cells

    cells = "\n".join(str(c.value) for c in xlsx_cells(out / "competency-matrix.xlsx"))
    assert all(s.text in cells for s in fw.statements())
    assert len(list(out.rglob("*.docx"))) == sum(1 for _ in fw.roles()) and list(out.rglob("*.pdf"))

    pages = tmp_path / "pages"
    result = run("convert", "--framework", path, "--to", "jekyll", "--out", pages)
    assert result.exit_code == 0, result.output
    back = ok(pages).framework
    assert shape(back)[3] == shape(fw)[3] and back.title == fw.title and back.description == fw.description
    assert run("convert", "--framework", path, "--to", "jekyll", "--out", pages).exit_code == 0  # again: replaced


def test_the_shipped_matrix_read_back_gives_the_same_statements_per_role(tmp_path, shipped):
    out = tmp_path / "out"
    assert run("build", "--framework", FRAMEWORK, "--out", out, "--format", "xlsx").exit_code == 0
    back = ok(out / "competency-matrix.xlsx").framework

    def per_role(fw):
        return {(r.craft.title, r.specialism, r.level.number, r.level.name):
                [(a.area_title, tuple(s.text for s in a.statements), a.todo) for a in r.areas()] for r in fw.roles()}

    assert per_role(back) == per_role(shipped)


def test_the_matrix_legend_texts_are_the_exporters():
    from cfexport.exporters import matrix
    from cfexport.readers import matrix_xlsx

    assert matrix.TODO_TEXT.casefold() in matrix_xlsx.TODO_TEXTS
    assert matrix.ABSENT_TEXT.casefold() in matrix_xlsx.ABSENT_TEXTS
    assert matrix.PARTLY_TODO_TEXT.casefold() == matrix_xlsx.PARTLY_TODO
    assert matrix.NO_DEFINITION.casefold() == matrix_xlsx.NO_DEFINITION


# --- one way: readers -> model -> exporters ------------------------------------------------

def _imports(module: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(module.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return {n for n in names if n.startswith("cfexport")}


def test_imports_run_one_way_and_have_no_cycle():
    src = ROOT / "src" / "cfexport"
    for module in (src / "readers").rglob("*.py"):
        bad = {n for n in _imports(module) if n.startswith(("cfexport.exporters", "cfexport.writers", "cfexport.cli",
                                                             "cfexport.build", "cfexport.packs"))}
        assert not bad, (module, bad)
    for folder in ("exporters", "writers"):
        for module in (src / folder).rglob("*.py"):
            assert not {n for n in _imports(module) if n.startswith("cfexport.readers")}, module
            # packs are built on the exporters' machinery, never the other way round
            assert not {n for n in _imports(module) if n.startswith(("cfexport.packs", "cfexport.cli"))}, module
    assert _imports(src / "model.py") == set()
    modules = ["cfexport.readers.registry", "cfexport.readers.ft_yaml", "cfexport.readers.monzo",
               "cfexport.readers.matrix_xlsx", "cfexport.writers.jekyll_pages", "cfexport.cli", "cfexport.packs",
               "cfexport.exporters.level_cards", "cfexport.packs.promotion_case"]
    for name in modules:  # each first in a fresh interpreter: an import cycle would fail here
        subprocess.run([sys.executable, "-c", f"import {name}"], check=True)
