"""Promotion packs, one at a time and for a whole round, read back from the files."""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FRAMEWORK, ROOT, need_tool
from readback import docx_text, pdf_text, squash, xlsx_cells

from cfexport import __version__
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
    assert sorted(p.name for p in folder.iterdir()) == ["level-cards.pdf", "pack.json", "promotion-case.docx",
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
    zips = sorted(p.name for p in (out / "packs").iterdir() if p.suffix == ".zip")
    assert zips == ["ada-lovelace-mlengineer-ml-engineer-level-5-to-6.zip",
                    "alan-turing-mlengineer-edge-ml-engineer-level-6-to-7.zip",
                    "katherine-johnson-mlengineer-ml-engineer-level-7-to-8.zip"]
    with zipfile.ZipFile(out / "packs" / zips[0]) as zf:
        assert sorted(zf.namelist()) == [f"{zips[0][:-4]}/{n}" for n in
                                         ("level-cards.pdf", "pack.json", "promotion-case.docx",
                                          "self-assessment.xlsx")]
    assert "wrote 3 pack(s)" in result.output


def test_a_round_written_as_folders_then_as_zips_says_the_folders_are_the_old_copies(tmp_path):
    """Both forms of a pack side by side (folders from one run, zips from the next) looked equally
    current, and only one is in the round's index: whoever sends packs out must be told."""
    out = tmp_path / "out"
    args = ("packs", "--people", str(EXAMPLE), "--framework", str(FRAMEWORK), "--out", str(out), "--jobs", "1")
    first = cli(*args)
    assert first.exit_code == 0 and "note:" not in first.output
    as_zips = cli(*args, "--zip")
    assert as_zips.exit_code == 0, as_zips.output
    assert "note: 3 of these pack(s) also have a folder from an earlier round" in as_zips.output
    assert f"({out / 'packs' / 'ada-lovelace-mlengineer-ml-engineer-level-5-to-6'}, " in as_zips.output
    again = cli(*args)  # folders again: now the zips are the old ones
    assert again.exit_code == 0, again.output
    assert "note: 3 of these pack(s) also have a .zip from an earlier round" in again.output
    for p in (out / "packs").glob("*.zip"):
        p.unlink()
    assert "note:" not in cli(*args).output


def _csv(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "round.csv"
    path.write_text("person,role,current_level,target_level,manager\n" + "\n".join(rows) + "\n", "utf-8")
    return path


def test_a_bad_row_is_named_by_line_and_nothing_is_written(tmp_path):
    people = _csv(tmp_path, ["Ann,mlengineer/ml-engineer,5,6,Bo", "Cy,mlengineer/nope,5,6,",
                             "Di,mlengineer/ml-engineer,6,6,", "Ed,mlengineer/ml-engineer,five,6,"])
    out = tmp_path / "out"
    result = cli("packs", "--people", str(people), "--framework", str(FRAMEWORK), "--out", str(out))
    assert result.exit_code == 1  # the CSV's contents need fixing
    assert f"{people}:3: error: unknown role 'mlengineer/nope'; roles are: mlengineer/ml-engineer" in result.output
    assert f"{people}:4: error: target level 6 is not above the current level 6" in result.output
    assert f"{people}:5: error: current_level and target_level must be level numbers" in result.output
    lines = [ln.split(":")[1] for ln in result.output.splitlines() if ": error: " in ln]
    assert lines == ["3", "4", "5"]  # in file order, whichever check found them
    assert not out.exists()
    result = cli("packs", "--people", str(people), "--framework", str(FRAMEWORK), "--out", str(out),
                 "--keep-going", "--jobs", "1")
    assert result.exit_code == 1 and "3 bad row(s) skipped; 1 pack(s) built" in result.output
    assert sorted(p.name for p in (out / "packs").iterdir()) == ["ann-mlengineer-ml-engineer-level-5-to-6",
                                                                 "round.csv", "round.xlsx"]


@pytest.mark.parametrize("level", ["5_0", "+5", "٥", "5.0"])
def test_a_level_that_int_would_take_but_a_person_would_not_write_is_an_error(tmp_path, level):
    people = _csv(tmp_path, [f"Ann,mlengineer/ml-engineer,{level},6,Bo"])
    result = cli("packs", "--people", str(people), "--framework", str(FRAMEWORK), "--out", str(tmp_path / "o"))
    assert result.exit_code == 1
    assert f"{people}:2: error: current_level and target_level must be level numbers" in result.output


def test_person_names_are_safe_folders_and_namesakes_never_share_one(tmp_path):
    people = _csv(tmp_path, ["../../etc,mlengineer/ml-engineer,5,6,", "Jo Smith,mlengineer/ml-engineer,5,6,Ann",
                             "Jo Smith,mlengineer/ml-engineer,5,6,Bob", "=cmd|' /C calc'!A0,mlengineer/ml-engineer,5,6,"])
    out = tmp_path / "out"
    result = cli("packs", "--people", str(people), "--framework", str(FRAMEWORK), "--out", str(out), "--jobs", "1")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (out / "packs").iterdir() if p.is_dir())
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


def test_a_name_written_over_several_lines_in_a_spreadsheet_cell_is_used_on_one_line(tmp_path):
    """Excel saves a cell typed with Alt+Enter as a quoted field over two lines: the name went into the
    promotion case's title and header, and the round's index, with its line break."""
    people = tmp_path / "people.csv"
    people.write_bytes(b"person,role,current_level,target_level,manager\r\n"
                       b'"Ada\r\nLovelace",mlengineer/ml-engineer,5,6,"Grace \tHopper"\r\n')
    out = tmp_path / "out"
    result = cli("packs", "--people", str(people), "--framework", str(FRAMEWORK), "--out", str(out), "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert f"{people}:3: warning: the name 'Ada Lovelace' was written over several lines" in result.output
    folder = out / "packs" / "ada-lovelace-mlengineer-ml-engineer-level-5-to-6"
    text = docx_text(folder / "promotion-case.docx")
    assert "Ada Lovelace" in text and "Grace Hopper" in text and "Ada\n" not in text
    index = (out / "packs" / "round.csv").read_text("utf-8-sig")
    assert "Ada Lovelace" in index and "Grace Hopper" in index and "\t" not in index


def test_one_person_twice_with_two_managers_makes_two_packs_and_says_so(tmp_path):
    """A manager's name mistyped on one row ('Grace Hoppers') made a second pack for the same person
    without a word: namesakes are told apart by their manager."""
    people = _csv(tmp_path, ["Ada Lovelace,mlengineer/ml-engineer,5,6,Grace Hopper",
                             "Bo Chen,mlengineer/ml-engineer,5,6,Grace Hopper",
                             "Ada Lovelace,mlengineer/ml-engineer,5,6,Grace Hoppers"])
    out = tmp_path / "out"
    result = cli("packs", "--people", str(people), "--framework", str(FRAMEWORK), "--out", str(out), "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert (f"{people}:4: warning: Ada Lovelace has the same role and levels as on line 2, with another manager "
            "('Grace Hoppers', not 'Grace Hopper')") in result.output
    assert len([p for p in (out / "packs").iterdir() if p.is_dir()]) == 3


def test_a_paragraph_pasted_into_a_name_cell_is_refused_at_its_line(tmp_path):
    """A name of thousands of characters (a whole note pasted into the wrong column) went into every
    title, header, folder name and the round's index; the web form already refused names over 200."""
    paragraph = "Ada has led the migration of our payments platform and mentored three engineers. " * 40
    people = _csv(tmp_path, ["Bo Chen,mlengineer/ml-engineer,5,6,", f'"{paragraph}",mlengineer/ml-engineer,5,6,'])
    out = tmp_path / "out"
    result = cli("packs", "--people", str(people), "--framework", str(FRAMEWORK), "--out", str(out), "--jobs", "1")
    assert result.exit_code != 0
    assert f"{people}:3: error: the person's name is {len(paragraph.strip()):,} characters long" in result.output
    assert "at most 200" in result.output and "Traceback" not in result.output
    assert not (out / "packs").exists()  # every row is checked before anything is written

    result = cli("pack", "--role", "mlengineer/ml-engineer", "--from", "5", "--to", "6", "--person", "Ann",
                 "--manager", "M" * 201, "--framework", str(FRAMEWORK), "--out", str(out))
    assert result.exit_code == 2 and "--manager is 201 characters long" in result.output, result.output


# --- a pack folder is one pack: person, role move and manager ----------------------------------------------------

JO = "jo-smith-mlengineer-ml-engineer-level-5-to-6"


def _round(tmp_path: Path, name: str, rows: list[str], out: Path, *extra: str):
    people = tmp_path / name
    people.write_text("person,role,current_level,target_level,manager\n" + "\n".join(rows) + "\n", "utf-8")
    return cli("packs", "--people", str(people), "--framework", str(FRAMEWORK), "--out", str(out), "--jobs", "1",
               *extra)


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_namesakes_keep_their_own_folders_across_rounds_and_added_files_stay(tmp_path):
    out = tmp_path / "out"
    packs = out / "packs"
    result = _round(tmp_path, "round1.csv", ["Jo Smith,mlengineer/ml-engineer,5,6,Ann",
                                             "Jo Smith,mlengineer/ml-engineer,5,6,Bob"], out)
    assert result.exit_code == 0, result.output
    assert "Ann" in docx_text(packs / JO / "promotion-case.docx")
    assert "Bob" in docx_text(packs / f"{JO}-2" / "promotion-case.docx")
    for folder in (JO, f"{JO}-2"):
        (packs / folder / "notes.txt").write_text("my notes on this case", "utf-8")
    anns = _tree(packs / JO)

    result = _round(tmp_path, "round2.csv", ["Jo Smith,mlengineer/ml-engineer,5,6,Bob"], out)
    assert result.exit_code == 0, result.output
    assert _tree(packs / JO) == anns  # Ann's Jo's pack, and the file added to it, as they were
    bobs = packs / f"{JO}-2"  # Bob's Jo keeps the folder of round 1
    assert "Bob" in docx_text(bobs / "promotion-case.docx") and "Ann" not in docx_text(bobs / "promotion-case.docx")
    assert (bobs / "notes.txt").read_text("utf-8") == "my notes on this case"
    record = json.loads((bobs / "pack.json").read_text("utf-8"))
    assert {k: record[k] for k in ("person", "manager", "role", "current", "target")} == {
        "person": "Jo Smith", "manager": "Bob", "role": "mlengineer/ml-engineer", "current": 5, "target": 6}
    assert record["cfexport"] == __version__
    assert sorted(record["files"]) == ["level-cards.pdf", "promotion-case.docx", "self-assessment.xlsx"]
    assert sorted(p.name for p in bobs.iterdir()) == ["level-cards.pdf", "notes.txt", "pack.json",
                                                      "promotion-case.docx", "self-assessment.xlsx"]

    result = _round(tmp_path, "round3.csv", ["Jo Smith,mlengineer/ml-engineer,5,6,Cy",
                                             "Jo Smith,mlengineer/ml-engineer,5,6,Bob"], out)
    assert result.exit_code == 0, result.output
    assert "Cy" in docx_text(packs / f"{JO}-3" / "promotion-case.docx")  # a new namesake takes a new folder
    assert "Bob" in docx_text(bobs / "promotion-case.docx") and (bobs / "notes.txt").exists()
    assert _tree(packs / JO) == anns


def test_a_folder_without_a_pack_record_is_not_replaced(tmp_path):
    """A folder of the packs' name that cfexport did not record (a user's, or an older cfexport's) is left alone."""
    out = tmp_path / "out"
    theirs = out / "packs" / JO
    theirs.mkdir(parents=True)
    (theirs / "promotion-case.docx").write_bytes(b"someone else's case")
    result = _round(tmp_path, "round.csv", ["Jo Smith,mlengineer/ml-engineer,5,6,Bob"], out)
    assert result.exit_code == 0, result.output
    assert _tree(theirs) == {"promotion-case.docx": b"someone else's case"}
    assert "Bob" in docx_text(out / "packs" / f"{JO}-2" / "promotion-case.docx")


def test_namesakes_zips_are_never_replaced_by_another_pack(tmp_path):
    out = tmp_path / "out"
    packs = out / "packs"
    result = _round(tmp_path, "round1.csv", ["Jo Smith,mlengineer/ml-engineer,5,6,Ann",
                                             "Jo Smith,mlengineer/ml-engineer,5,6,Bob"], out, "--zip")
    assert result.exit_code == 0, result.output
    anns = (packs / f"{JO}.zip").read_bytes()
    result = _round(tmp_path, "round2.csv", ["Jo Smith,mlengineer/ml-engineer,5,6,Bob"], out, "--zip")
    assert result.exit_code == 0, result.output
    assert (packs / f"{JO}.zip").read_bytes() == anns
    with zipfile.ZipFile(packs / f"{JO}-2.zip") as zf:
        assert sorted(zf.namelist()) == [f"{JO}-2/{n}" for n in ("level-cards.pdf", "pack.json",
                                                                 "promotion-case.docx", "self-assessment.xlsx")]
        record = json.loads(zf.read(f"{JO}-2/pack.json"))
        assert (record["person"], record["manager"]) == ("Jo Smith", "Bob")
        zf.extract(f"{JO}-2/promotion-case.docx", tmp_path / "x")
    assert "Bob" in docx_text(tmp_path / "x" / f"{JO}-2" / "promotion-case.docx")


def test_a_failed_round_leaves_the_packs_and_added_files_as_they_were(tmp_path, monkeypatch):
    """Per-file replacement inside a kept folder is part of the round's all or nothing."""
    out = tmp_path / "out"
    packs = out / "packs"
    result = _round(tmp_path, "round1.csv", ["Jo Smith,mlengineer/ml-engineer,5,6,Bob"], out)
    assert result.exit_code == 0, result.output
    (packs / JO / "notes.txt").write_text("mine", "utf-8")
    before = _tree(packs)

    import cfexport.output

    def fail(self):
        raise OSError(13, "Permission denied")

    monkeypatch.setattr(cfexport.output.StagedOutput, "commit", fail)  # the new folder cannot be moved in
    result = _round(tmp_path, "round2.csv", ["Jo Smith,mlengineer/ml-engineer,5,6,Bob",
                                             "Ann Lee,mlengineer/ml-engineer,5,6,"], out)
    assert result.exit_code == 3, result.output
    assert _tree(packs) == before
    assert [p.name for p in out.iterdir()] == ["packs"]  # no staging or lock left beside it


def test_a_render_failure_leaves_the_packs_as_they_were(tmp_path, monkeypatch):
    out = tmp_path / "out"
    packs = out / "packs"
    result = _round(tmp_path, "round1.csv", ["Jo Smith,mlengineer/ml-engineer,5,6,Bob"], out)
    assert result.exit_code == 0, result.output
    before = _tree(packs)

    import cfexport.packs.folders
    real = cfexport.packs.folders.render_pack

    def render(framework, pack, context):
        if pack.request.person == "Ann Lee":
            raise OSError(28, "No space left on device")
        return real(framework, pack, context)

    monkeypatch.setattr(cfexport.packs.folders, "render_pack", render)
    result = _round(tmp_path, "round2.csv", ["Jo Smith,mlengineer/ml-engineer,5,6,Bob",
                                             "Ann Lee,mlengineer/ml-engineer,5,6,"], out)
    assert result.exit_code == 3, result.output
    assert _tree(packs) == before


def test_exact_duplicate_rows_are_an_error_naming_both_lines(tmp_path):
    people = _csv(tmp_path, ["Ann Lee,mlengineer/ml-engineer,5,6,Bo", "Jo Smith,mlengineer/ml-engineer,6,7,Bo",
                             "Cy,mlengineer/ml-engineer,5,6,", "Jo Smith,mlengineer/ml-engineer,6,7,Bo",
                             "Ann Lee,ml-engineer,5,6,Bo"])
    out = tmp_path / "out"
    result = cli("packs", "--people", str(people), "--framework", str(FRAMEWORK), "--out", str(out))
    assert result.exit_code == 1, result.output
    assert f"{people}:5: error: same person, role and levels as line 3; remove one" in result.output
    assert f"{people}:6: error: same person, role and levels as line 2; remove one" in result.output
    assert not out.exists()


# --- CSVs as spreadsheets save them ------------------------------------------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures" / "csv"
ROUND = [("Zoë Brontë", "mlengineer/ml-engineer", 5, 6, "Grace Hopper"),
         ("Alan Turing", "mlengineer/edge-ml-engineer", 6, 7, "Hopper, Grace"),
         ("Katherine Johnson", "mlengineer/ml-engineer", 7, 8, None)]


@pytest.mark.parametrize("name", ["libreoffice-semicolon.csv", "libreoffice-utf16-tab.txt",
                                  "excel-utf8-bom-trailing-columns.csv", "excel-unicode-text.txt",
                                  "excel-semicolon-trailing-columns.csv"])
def test_round_csvs_as_spreadsheets_save_them(name):
    from cfexport.packs import read_people

    requests, errors = read_people(FIXTURES / name)
    assert errors == []
    expected = [r if "semicolon-trailing" not in name or r[0] != "Zoë Brontë" else ("Zoe Bronte", *r[1:])
                for r in ROUND]
    assert [(r.person, r.track, r.current, r.target, r.manager) for r in requests] == expected
    assert [r.source.line for r in requests] == [2, 3, 4]


def test_a_workbook_or_an_empty_file_given_as_the_round_says_what_it_is_and_how_to_save_a_csv(tmp_path):
    """People upload the workbook they typed the round into: it was called "UTF-16 without a
    byte-order mark", and an empty file "found an empty line"."""
    from cfexport.packs import read_people

    soffice = need_tool("soffice")
    source = tmp_path / "round.csv"
    source.write_bytes((FIXTURES / "libreoffice-semicolon.csv").read_bytes())
    for fmt in ("xlsx", "xls"):  # opened in LibreOffice and saved as a workbook, as Excel would save it
        proc = subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path / 'lo'}",
                               "--infilter=Text - txt - csv (StarCalc):59,34,76,1", "--convert-to", fmt,
                               "--outdir", str(tmp_path), str(source)], capture_output=True, text=True, timeout=180)
        assert proc.returncode == 0, proc.stderr
        requests, errors = read_people(tmp_path / f"round.{fmt}")
        assert requests == [] and len(errors) == 1 and errors[0].source.line == 1
        what = {"xlsx": "a zip file (an Excel .xlsx", "xls": "an Excel 97-2003 workbook (.xls)"}[fmt]
        assert errors[0].message.startswith(f"this is {what}") and "save it as CSV UTF-8" in errors[0].message
    for empty in (b"", b"\r\n\r\n", b"\xef\xbb\xbf"):
        (tmp_path / "empty.csv").write_bytes(empty)
        requests, errors = read_people(tmp_path / "empty.csv")
        assert [e.message.split(";")[0] for e in errors] == ["the file is empty"], (empty, errors)


def test_a_header_that_is_still_wrong_says_what_was_found_and_what_is_expected(tmp_path):
    people = tmp_path / "round.csv"
    people.write_bytes(b"name;role;from;to;manager\r\nAnn;mlengineer/ml-engineer;5;6;\r\n")
    result = cli("packs", "--people", str(people), "--framework", str(FRAMEWORK), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1, result.output
    assert f"{people}:1: error:" in result.output
    assert "name;role;from;to;manager" in result.output  # what was found
    assert "person,role,current_level,target_level,manager" in result.output  # what is expected


def test_utf16_without_a_byte_order_mark_is_named(tmp_path):
    people = tmp_path / "round.csv"
    people.write_bytes("person\trole\tcurrent_level\ttarget_level\tmanager\r\n".encode("utf-16-le"))
    result = cli("packs", "--people", str(people), "--framework", str(FRAMEWORK), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1, result.output
    assert f"{people}:1: error:" in result.output and "UTF-16" in result.output


def test_a_header_only_csv_is_an_error(tmp_path):
    people = _csv(tmp_path, [])
    result = cli("packs", "--people", str(people), "--framework", str(FRAMEWORK), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1, result.output
    assert f"error: no people in {people}" in result.output


def test_a_missing_csv_is_a_usage_error(tmp_path):
    people = tmp_path / "round.csv"
    result = cli("packs", "--people", str(people), "--framework", str(FRAMEWORK), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    assert str(people) in result.output and "does not exist" in result.output
    assert "bad row" not in result.output


def test_an_oversized_csv_is_refused_before_it_is_read(tmp_path):
    people = tmp_path / "round.csv"
    with people.open("wb") as f:
        f.write(b"person,role,current_level,target_level,manager\n")
        f.write(b"a" * (11 * 1024 * 1024) + b",mlengineer/ml-engineer,5,6,\n")
    result = cli("packs", "--people", str(people), "--framework", str(FRAMEWORK), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1, result.output
    assert f"{people}:1: error:" in result.output and "10 MiB" in result.output


def test_too_many_rows_is_an_error_naming_the_limit(tmp_path):
    people = _csv(tmp_path, [f"P{i},mlengineer/ml-engineer,5,6," for i in range(10_001)])
    result = cli("packs", "--people", str(people), "--framework", str(FRAMEWORK), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1, result.output
    assert f"{people}:10002: error:" in result.output and "10,000" in result.output
    assert not (tmp_path / "out").exists()


# --- the round's index -------------------------------------------------------------------------------------------

def test_the_round_index_lists_every_pack_safely_and_reproducibly(tmp_path, shipped):
    import csv as csv_
    import openpyxl

    rows = ["=HYPERLINK(\"http://x\";\"y\"),mlengineer/ml-engineer,5,6,@Ann", "Zoë Brontë,ml-engineer,6,7,+44 20",
            "Cy,mlengineer/edge-ml-engineer,7,8,"]
    people = _csv(tmp_path, rows)
    written = []
    for run in ("a", "b"):
        result = CliRunner().invoke(main, ["packs", "--people", str(people), "--framework", str(FRAMEWORK),
                                           "--out", str(tmp_path / run), "--jobs", "1"],
                                    env={"SOURCE_DATE_EPOCH": "1700000000"})
        assert result.exit_code == 0, result.output
        written.append(tmp_path / run / "packs")
    a, b = written
    for name in ("round.csv", "round.xlsx"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name

    given = list(csv_.reader(io.StringIO(people.read_text("utf-8"))))[1:]  # the input, as csv reads it
    titles = {"mlengineer/ml-engineer": "ML Engineer", "mlengineer/edge-ml-engineer": "Edge ML Engineer"}
    tracks = ["mlengineer/ml-engineer", "mlengineer/ml-engineer", "mlengineer/edge-ml-engineer"]

    raw = (a / "round.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw  # opens in Excel with its accents
    table = list(csv_.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0] == ["person", "manager", "role", "role_title", "current_level", "target_level", "pack"]
    for row, (person, _, cur, tgt, manager), track in zip(table[1:], given, tracks, strict=True):
        quoted = [("'" + v if v[:1] in ("=", "+", "-", "@") else v) for v in (person, manager)]
        assert row[:2] == quoted
        assert row[2:6] == [track, titles[track], cur, tgt]
        assert (a / row[6]).is_dir() and (a / row[6] / "pack.json").is_file()

    ws = openpyxl.load_workbook(str(a / "round.xlsx")).worksheets[0]
    values = [[c.value for c in r] for r in ws.iter_rows()]
    assert values[0] == ["person", "manager", "role", "role title", "current level", "target level", "pack"]
    for cells, xrow, (person, _, cur, tgt, manager), track, crow in zip(
            ws.iter_rows(min_row=2), values[1:], given, tracks, table[1:], strict=True):
        assert xrow[:6] == [person, manager or None, track, titles[track], int(cur), int(tgt)]
        assert xrow[6] == crow[6]
        assert cells[0].data_type == "s" and (cells[1].value is None or cells[1].data_type == "s")


def test_the_round_index_names_the_zips(tmp_path):
    out = tmp_path / "out"
    result = cli("packs", "--people", str(EXAMPLE), "--framework", str(FRAMEWORK), "--out", str(out), "--zip",
                 "--jobs", "1")
    assert result.exit_code == 0, result.output
    import csv as csv_
    table = list(csv_.reader(io.StringIO((out / "packs" / "round.csv").read_text("utf-8-sig"))))
    people = [r[0] for r in list(csv_.reader(io.StringIO(EXAMPLE.read_text("utf-8"))))[1:]]
    assert [r[0] for r in table[1:]] == people
    assert all(r[6].endswith(".zip") and (out / "packs" / r[6]).is_file() for r in table[1:])


def test_a_round_index_cfexport_did_not_write_is_not_replaced(tmp_path):
    out = tmp_path / "out"
    (out / "packs").mkdir(parents=True)
    (out / "packs" / "round.csv").write_text("my own list\n", "utf-8")
    result = _round(tmp_path, "people.csv", ["Ann Lee,mlengineer/ml-engineer,5,6,"], out)
    assert result.exit_code == 3, result.output
    assert "round.csv" in result.output
    assert (out / "packs" / "round.csv").read_text("utf-8") == "my own list\n"


def test_the_round_index_written_a_row_at_a_time_is_the_workbook_built_in_memory(tmp_path):
    """The index is streamed (a write-only sheet, saved from a temporary file) so that a round of thousands of
    packs holds no workbook in memory; its bytes are those of the same rows built cell by cell and saved."""
    from datetime import datetime, timezone

    from openpyxl.utils import get_column_letter

    from cfexport.exporters.base import Context
    from cfexport.exporters.spreadsheet import (Styles, new_workbook, put_style, put_text, put_value, save,
                                                settings)
    from cfexport.packs import round_index
    from conftest import TEMPLATES

    names = ["=1+1", "+44 20", "-x", "@Ann", "#N/A", "R&D <b>\"x\"</b> 'y'", "Zoë Brontë 日本語 😀", "tab\tin",
             "two\nlines", "a" * 300, "  spaced  "]
    table = [[name, names[-1 - i] if i % 3 else "", f"craft/{i}", "Title", i + 1, i + 2, f"folder-{i}"]
             for i, name in enumerate(names)]
    table += [[f"Person {i}", "Manager", "craft/x", "Title", 1, 2, f"person-{i}"] for i in range(400)]  # > 64 KiB
    ctx = Context(templates=TEMPLATES, build_time=datetime(2023, 11, 14, tzinfo=timezone.utc), version="1")

    wb = new_workbook()  # the index as cfexport built it before it was streamed
    ws = wb.create_sheet("Round")
    styles = Styles(wb, settings(ctx.templates))
    for col, label in enumerate(round_index.XLSX_COLUMNS, 1):
        put_text(ws, 1, col, label, "cf header", styles)
    for r, row in enumerate(table, 2):
        for col, value in enumerate(row, 1):
            if isinstance(value, int):
                put_value(ws, r, col, value, "cf number", styles)
            elif value:
                put_text(ws, r, col, value, "cf text", styles)
            else:
                put_style(ws, r, col, "cf text", styles)
    for col, width in enumerate(round_index._WIDTHS, 1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:G{len(table) + 1}"
    built = save(wb, ctx, "Promotion round", "cfexport", keywords=round_index._MARK)

    with open(tmp_path / "round.xlsx", "wb") as f:
        round_index.write_xlsx(iter(table), len(table), ctx, f)
    assert (tmp_path / "round.xlsx").read_bytes() == built
    with pytest.raises(ValueError):  # the size goes into the file before the rows: it must be right
        round_index.write_xlsx(iter(table), len(table) + 1, ctx, io.BytesIO())

    csv_out = io.BytesIO()
    round_index.write_csv(iter(table), csv_out)
    import csv as csv_
    text = io.StringIO()
    csv_.writer(text, lineterminator="\r\n").writerows(
        [round_index.CSV_COLUMNS] + [[round_index._csv_text(v) if isinstance(v, str) else v for v in row]
                                     for row in table])
    assert csv_out.getvalue() == text.getvalue().encode("utf-8-sig")


@pytest.mark.parametrize("failing", [1, 2, 9, 16, 17])
def test_a_round_that_fails_while_replacing_kept_files_puts_back_every_one_it_moved(tmp_path, monkeypatch, failing):
    """Replacing the files of kept folders is a series of renames; whichever one fails, those made before it
    are undone (the undo knows them from a count and one flag per file, not from a list of paths)."""
    import os

    import cfexport.packs.folders

    out = tmp_path / "out"
    packs = out / "packs"
    rows = ["Jo Smith,mlengineer/ml-engineer,5,6,Bob", "Ann Lee,mlengineer/ml-engineer,5,6,"]
    result = _round(tmp_path, "round1.csv", rows, out)
    assert result.exit_code == 0, result.output
    (packs / JO / "notes.txt").write_text("mine", "utf-8")
    record = json.loads((packs / JO / "pack.json").read_text("utf-8"))  # a file an older round wrote, not this one
    record["files"].append("old-summary.pdf")
    (packs / JO / "pack.json").write_text(json.dumps(record), "utf-8")
    (packs / JO / "old-summary.pdf").write_bytes(b"old summary")
    before = _tree(packs)

    calls = []
    real = os.replace

    def replace(src, dst):  # renames 1-8: Jo's four files; 9-16: Ann's; 17: Jo's old summary moved aside
        calls.append(dst)
        if len(calls) == failing:
            raise OSError(13, "Permission denied")
        return real(src, dst)

    monkeypatch.setattr(cfexport.packs.folders.os, "replace", replace)
    result = _round(tmp_path, "round2.csv", rows, out)
    assert result.exit_code == 3, result.output
    assert len(calls) == 2 * failing - 1  # every rename made before the failing one, undone
    assert _tree(packs) == before
    assert not [p for p in packs.rglob(".cfexport-*")]


# --- role ids with a level ---------------------------------------------------------------------------------------

def test_a_role_id_with_a_level_must_agree_with_from(tmp_path, shipped):
    result = cli("pack", "--role", "mlengineer/ml-engineer/7", "--from", "5", "--to", "6", "--person", "x",
                 "--framework", str(FRAMEWORK), "--out", str(tmp_path))
    assert result.exit_code == 2
    assert ("error: role id 'mlengineer/ml-engineer/7' names level 7 but --from is 5; pass the role without its "
            "level (mlengineer/ml-engineer) or make them agree") in result.output
    assert list(tmp_path.iterdir()) == []

    from cfexport.packs import resolve
    current, target = resolve(shipped, "mlengineer/ml-engineer/5", 5, 6)
    assert (current.id, target.id) == ("mlengineer/ml-engineer/5", "mlengineer/ml-engineer/6")

    people = _csv(tmp_path, ["Ann,mlengineer/ml-engineer/7,5,6,"])
    result = cli("packs", "--people", str(people), "--framework", str(FRAMEWORK), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert f"{people}:2: error: role id 'mlengineer/ml-engineer/7' names level 7 but current_level is 5" \
        in result.output

    help_text = " ".join(cli("pack", "--help").output.split())
    assert "mlengineer/ml-engineer" in help_text and "mlengineer/ml-engineer/5" in help_text


def test_leftovers_of_a_killed_round_in_a_kept_folder_are_tidied(tmp_path):
    """A kill between moving an old file aside and moving the new one in leaves `.cfexport-old-NAME`: the next
    round of that pack puts things right and leaves nothing of ours behind."""
    out = tmp_path / "out"
    folder = out / "packs" / JO
    result = _round(tmp_path, "round1.csv", ["Jo Smith,mlengineer/ml-engineer,5,6,Bob"], out)
    assert result.exit_code == 0, result.output
    (folder / "promotion-case.docx").rename(folder / ".cfexport-old-promotion-case.docx")
    (folder / ".cfexport-new-self-assessment.xlsx").write_bytes(b"half written")
    (folder / "notes.txt").write_text("mine", "utf-8")
    result = _round(tmp_path, "round2.csv", ["Jo Smith,mlengineer/ml-engineer,5,6,Bob"], out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == ["level-cards.pdf", "notes.txt", "pack.json",
                                                        "promotion-case.docx", "self-assessment.xlsx"]
    assert "Bob" in docx_text(folder / "promotion-case.docx")


def test_cards_shared_by_packs_of_one_move_never_outlive_an_edit(tmp_path):
    """Pack cards are rendered once per move in a process; an edited framework is another move."""
    from datetime import datetime, timezone

    from factory import small_craft, write_framework

    from cfexport.exporters.base import Context
    from cfexport.packs import PackRequest, plan, render_pack
    from cfexport.readers import read_framework
    from conftest import TEMPLATES

    texts = []
    for n, words in enumerate(["I deliver at level 2.", "I deliver CHANGED at level 2."]):
        fw = read_framework(write_framework(tmp_path / f"fw{n}", [small_craft({"Delivery2": [words]})])).framework
        packs, errors = plan(fw, [PackRequest("Ann", "test/data", 1, 2), PackRequest("Bo", "test/data", 1, 2)])
        assert not errors
        ctx = Context.for_framework(fw, TEMPLATES, datetime(2024, 1, 1, tzinfo=timezone.utc))
        first, second = (render_pack(fw, p, ctx)["level-cards.pdf"] for p in packs)
        assert first == second  # the same move: the same cards
        path = tmp_path / f"cards{n}.pdf"
        path.write_bytes(first)
        texts.append(squash(pdf_text(path)))
    assert squash("I deliver CHANGED at level 2.") in texts[1] and squash("CHANGED") not in texts[0]
