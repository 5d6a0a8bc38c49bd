"""Promotion packs, one at a time and for a whole round, read back from the files."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FRAMEWORK, ROOT, need_tool
from readback import docx_text, pdf_text, squash, xlsx_cells

from cfexport.cli import main
from cfexport.model import Role

EXAMPLE = ROOT / "examples" / "people.csv"


def cli(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def ml_pack(tmp_path_factory):
    out = tmp_path_factory.mktemp("pack")
    result = cli("pack", "--role", "mlengineer/ml-engineer", "--from", "5", "--to", "6", "--person", "Ada Lovelace",
                 "--manager", "Grace Hopper", "--framework", str(FRAMEWORK), "--out", str(out))
    assert result.exit_code == 0, result.output
    folder = out / "packs" / "ada-lovelace-mlengineer-ml-engineer-level-5-to-6"
    assert sorted(p.name for p in folder.iterdir()) == ["level-cards.pdf", "promotion-case.docx",
                                                       "self-assessment.xlsx"]
    return folder


def _roles(shipped):
    craft = shipped.crafts[0]
    return Role(craft, "ML Engineer", craft.level(5)), Role(craft, "ML Engineer", craft.level(6))


def test_promotion_case_holds_both_levels_and_marks_what_is_new(ml_pack, shipped):
    text = docx_text(ml_pack / "promotion-case.docx")
    current, target = _roles(shipped)
    for role in (current, target):
        for area in role.areas():
            assert area.area_title in text
            for s in area.statements:
                assert s.text in text, s.text
    for edge in (e for e in shipped.crafts[0].level(6).expectations if e.specialism == "Edge ML Engineer"):
        for s in edge.statements:
            assert s.text not in text
    assert "Ada Lovelace" in text and "Grace Hopper" in text
    # new at level 6 (written on the level 6 page, not on level 5)
    assert "I design components of ML systems with guidance, and explain the trade-offs I made." in text
    import docx
    doc = docx.Document(str(ml_pack / "promotion-case.docx"))
    headers = [[c.text for c in t.rows[0].cells] for t in doc.tables]
    # an evidence table per area the target level describes (none where there is nothing to evidence)
    assert sum(1 for h in headers if h[:3] == ["Example", "Impact", "Link"]) == \
        sum(1 for a in target.areas() if a.statements)


def test_self_assessment_has_every_target_statement_dropdowns_and_no_formula_text(ml_pack, shipped):
    import openpyxl
    wb = openpyxl.load_workbook(str(ml_pack / "self-assessment.xlsx"))
    cells = xlsx_cells(ml_pack / "self-assessment.xlsx")
    strings = {c.value for c in cells if c.data_type == "s"}
    _, target = _roles(shipped)
    for s in (s for a in target.areas() for s in a.statements):
        assert s.text in strings
    validations = [dv for ws in wb.worksheets for dv in ws.data_validations.dataValidation]
    assert validations and all(dv.type == "list" for dv in validations)
    assert any("Consistently" in (dv.formula1 or "") for dv in validations)
    formulas = [c for c in cells if c.data_type == "f"]
    assert formulas, "the summary counts ratings with formulas"
    framework_texts = {s.text for s in shipped.statements()}
    assert not [c for c in formulas if c.value in framework_texts]


def test_level_cards_hold_both_levels(ml_pack, shipped):
    text = squash(pdf_text(ml_pack / "level-cards.pdf"))
    for role in _roles(shipped):
        assert squash(role.title) in text
        for s in (s for a in role.areas() for s in a.statements):
            assert squash(s.text) in text


def test_a_round_from_the_example_csv_with_zip(tmp_path):
    out = tmp_path / "out"
    result = cli("packs", "--people", str(EXAMPLE), "--framework", str(FRAMEWORK), "--out", str(out), "--zip",
                 "--jobs", "2")
    assert result.exit_code == 0, result.output
    zips = sorted(p.name for p in (out / "packs").iterdir())
    assert zips == ["ada-lovelace-mlengineer-ml-engineer-level-5-to-6.zip",
                    "alan-turing-mlengineer-edge-ml-engineer-level-6-to-7.zip",
                    "katherine-johnson-mlengineer-ml-engineer-level-7-to-8.zip"]
    with zipfile.ZipFile(out / "packs" / zips[0]) as zf:
        assert sorted(zf.namelist()) == [f"{zips[0][:-4]}/{n}" for n in
                                         ("level-cards.pdf", "promotion-case.docx", "self-assessment.xlsx")]
    assert "wrote 3 pack(s)" in result.output


def _csv(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "round.csv"
    path.write_text("person,role,current_level,target_level,manager\n" + "\n".join(rows) + "\n", "utf-8")
    return path


def test_a_bad_row_is_named_by_line_and_nothing_is_written(tmp_path):
    people = _csv(tmp_path, ["Ann,mlengineer/ml-engineer,5,6,Bo", "Cy,mlengineer/nope,5,6,",
                             "Di,mlengineer/ml-engineer,6,6,", "Ed,mlengineer/ml-engineer,five,6,"])
    out = tmp_path / "out"
    result = cli("packs", "--people", str(people), "--framework", str(FRAMEWORK), "--out", str(out))
    assert result.exit_code != 0
    assert f"{people}:3: error: unknown role 'mlengineer/nope'; roles are: mlengineer/ml-engineer" in result.output
    assert f"{people}:4: error: target level 6 is not above the current level 6" in result.output
    assert f"{people}:5: error: current_level and target_level must be level numbers" in result.output
    lines = [ln.split(":")[1] for ln in result.output.splitlines() if ": error: " in ln]
    assert lines == ["3", "4", "5"]  # in file order, whichever check found them
    assert not out.exists()
    result = cli("packs", "--people", str(people), "--framework", str(FRAMEWORK), "--out", str(out),
                 "--keep-going", "--jobs", "1")
    assert result.exit_code != 0 and "3 bad row(s) skipped; 1 pack(s) built" in result.output
    assert [p.name for p in (out / "packs").iterdir()] == ["ann-mlengineer-ml-engineer-level-5-to-6"]


def test_person_names_are_safe_folders_and_namesakes_never_share_one(tmp_path):
    people = _csv(tmp_path, ["../../etc,mlengineer/ml-engineer,5,6,", "Jo Smith,mlengineer/ml-engineer,5,6,",
                             "Jo Smith,mlengineer/ml-engineer,5,6,", "=cmd|' /C calc'!A0,mlengineer/ml-engineer,5,6,"])
    out = tmp_path / "out"
    result = cli("packs", "--people", str(people), "--framework", str(FRAMEWORK), "--out", str(out), "--jobs", "1")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (out / "packs").iterdir())
    assert names == ["cmd-c-calc-a0-mlengineer-ml-engineer-level-5-to-6", "etc-mlengineer-ml-engineer-level-5-to-6",
                     "jo-smith-mlengineer-ml-engineer-level-5-to-6", "jo-smith-mlengineer-ml-engineer-level-5-to-6-2"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "round.csv"]
    case = docx_text(out / "packs" / names[0] / "promotion-case.docx")
    assert "=cmd|' /C calc'!A0" in case
    cells = xlsx_cells(out / "packs" / names[0] / "self-assessment.xlsx")
    assert [c for c in cells if c.value == "=cmd|' /C calc'!A0" and c.data_type == "s"]


def test_unknown_role_and_level_name_the_valid_ones(tmp_path):
    result = cli("pack", "--role", "ml", "--from", "5", "--to", "6", "--person", "x", "--framework", str(FRAMEWORK),
                 "--out", str(tmp_path))
    assert result.exit_code == 2 and "roles are: mlengineer/ml-engineer, mlengineer/edge-ml-engineer" in result.output
    result = cli("pack", "--role", "mlengineer/ml-engineer", "--from", "5", "--to", "9", "--person", "x",
                 "--framework", str(FRAMEWORK), "--out", str(tmp_path))
    assert result.exit_code == 2 and "levels are: 5, 6, 7, 8" in result.output
    assert list(tmp_path.iterdir()) == []


def test_libreoffice_opens_every_pack_document(ml_pack, tmp_path):
    soffice = need_tool("soffice")
    need_tool("pdftotext")
    docs = [ml_pack / "promotion-case.docx", ml_pack / "self-assessment.xlsx"]
    proc = subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to",
                           "pdf", "--outdir", str(tmp_path), *map(str, docs)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    for doc in docs:
        pdf = tmp_path / f"{doc.stem}.pdf"
        assert pdf.exists(), proc.stdout + proc.stderr
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        assert "I design components of ML systems" in " ".join(text.split())


def test_pack_cards_pass_qpdf_and_embed_every_font(ml_pack):
    qpdf, pdffonts = need_tool("qpdf"), need_tool("pdffonts")
    pdf = str(ml_pack / "level-cards.pdf")
    assert subprocess.run([qpdf, "--check", pdf], capture_output=True).returncode == 0
    lines = subprocess.run([pdffonts, pdf], capture_output=True, text=True).stdout.splitlines()[2:]
    assert lines and all(line.split()[-5] == "yes" for line in lines), lines


def test_control_characters_in_a_csv_are_dropped_with_a_warning_naming_the_line(tmp_path):
    people = _csv(tmp_path, ["Ann\x07 Lee,mlengineer/ml-engineer,5,6,Bo\x1b"])
    out = tmp_path / "out"
    result = cli("packs", "--people", str(people), "--framework", str(FRAMEWORK), "--out", str(out), "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert f"{people}:2: warning: removed character(s)" in result.output
    assert "Ann Lee" in docx_text(out / "packs" / "ann-lee-mlengineer-ml-engineer-level-5-to-6" / "promotion-case.docx")
