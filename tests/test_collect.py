"""`cfexport collect`: a whole round from examples/people.csv, filled in with openpyxl and
python-docx as people would (one copy re-saved by LibreOffice, one zipped, one renamed,
one never returned, one edited, one typed by hand), among hostile files from the mail.
Counts are checked against what the test filled in, read with openpyxl, never our code."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import zipfile
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FRAMEWORK, ROOT, need_tool

from cfexport.cli import main
from cfexport.collect import guard
from cfexport.collect.provenance import parse, read_custom

EXAMPLE = ROOT / "examples" / "people.csv"
RATINGS = ["Not yet", "Sometimes", "Consistently"]
EPOCH = {"SOURCE_DATE_EPOCH": "1700000000"}


def cli(*args: str, env: dict | None = None):
    result = CliRunner().invoke(main, list(args), env=env)
    assert "Traceback" not in result.output, result.output
    return result


# --- filling in, as a person (openpyxl, python-docx) would --------------------------------------------------------

def _header(ws):
    for row in ws.iter_rows(max_row=60):
        texts = [c.value for c in row]
        if "Statement" in texts and "Self rating" in texts:
            return row[0].row, {t: i + 1 for i, t in enumerate(texts) if isinstance(t, str)}
    raise AssertionError("no header")


def fill_xlsx(src: Path, dst: Path, pattern: int, edit: dict | None = None, typed: dict | None = None) -> dict:
    """Rate every statement (self and manager, from `pattern`), evidence on every other row.
    Returns {no: (area title, self, manager, edited)} as filled in."""
    import openpyxl

    wb = openpyxl.load_workbook(src)
    ws = wb["Self-assessment"]
    head, cols = _header(ws)
    filled = {}
    for r in range(head + 1, ws.max_row + 1):
        no = ws.cell(r, cols["No."]).value
        if not isinstance(no, int):
            continue
        self_r, mgr_r = RATINGS[(no + pattern) % 3], RATINGS[(no * 2 + pattern) % 3]
        ws.cell(r, cols["Self rating"]).value = self_r
        ws.cell(r, cols["Manager rating"]).value = mgr_r
        if no % 2:
            ws.cell(r, cols["Evidence"]).value = f"=Shipped thing {no}, see https://example.com/{no}"
            ws.cell(r, cols["Evidence"]).data_type = "s"
        edited = False
        if edit and no in edit:
            ws.cell(r, cols["Statement"]).value = edit[no]
            edited = True
        for who, value in (typed or {}).get(no, {}).items():
            ws.cell(r, cols[who]).value = value
            if who == "Manager rating":
                mgr_r = None
            else:
                self_r = None
        filled[no] = (ws.cell(r, cols["Area"]).value, self_r, mgr_r, edited)
    wb.save(dst)
    return filled


def fill_docx(src: Path, dst: Path, rows: dict[int, int], modified: datetime) -> dict:
    """Fill `rows[k]` rows of the k-th evidence table and the manager's summary.
    Returns {area title: filled rows}."""
    import docx

    doc = docx.Document(str(src))
    filled, k, heading = {}, 0, None
    for block in doc.iter_inner_content():
        if isinstance(block, docx.text.paragraph.Paragraph):
            if block.style.name == "Heading 2":
                heading = block.text
            continue
        cells = [c.text for c in block.rows[0].cells]
        if cells[:3] == ["Example", "Impact", "Link"]:
            n = rows.get(k, 0)
            for row in block.rows[1:1 + n]:
                row.cells[0].text = f"Did something in {heading}"
                row.cells[2].text = "=HYPERLINK(\"http://x\")"
            filled[heading] = n
            k += 1
        elif cells[0] == "Summary of the evidence":
            block.rows[0].cells[1].text = "Ready: strong evidence in every area."
    doc.core_properties.modified = modified
    doc.save(str(dst))
    return filled


def _libreoffice(files: list[Path], fmt: str, outdir: Path, profile: Path) -> None:
    soffice = need_tool("soffice")
    proc = subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{profile}", "--convert-to", fmt,
                           "--outdir", str(outdir), *map(str, files)], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr


def _bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("packs/self-assessment.xlsx", b"\0" * (40 * 2**20))
    return out.getvalue()


def _with_member(src: bytes, name: str, body: bytes, replace: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if not (replace and item.filename == name):
                zout.writestr(item, zin.read(item.filename))
        zout.writestr(name, body)
    return out.getvalue()


# --- the round -----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def round_(tmp_path_factory):
    import openpyxl

    tmp = tmp_path_factory.mktemp("collect")
    out = tmp / "out"
    result = cli("packs", "--people", str(EXAMPLE), "--framework", str(FRAMEWORK), "--out", str(out), "--jobs", "1",
                 env=EPOCH)
    assert result.exit_code == 0, result.output
    packs = out / "packs"
    ada = packs / "ada-lovelace-mlengineer-ml-engineer-level-5-to-6"
    alan = packs / "alan-turing-mlengineer-edge-ml-engineer-level-6-to-7"
    work, returns = tmp / "work", tmp / "returns"
    work.mkdir()
    (returns / "early").mkdir(parents=True)
    expect = {}

    # Ada: an early, empty copy (renamed); the filled workbook and case re-saved by LibreOffice; the case zipped
    shutil.copy(ada / "self-assessment.xlsx", returns / "early" / "Ada - my assessment.xlsx")
    xlsx = fill_xlsx(ada / "self-assessment.xlsx", work / "self-assessment.xlsx", pattern=0)
    case = fill_docx(ada / "promotion-case.docx", work / "promotion-case.docx", {0: 2, 1: 1, 3: 3},
                     datetime(2024, 3, 1, 12, 0))
    _libreoffice([work / "self-assessment.xlsx"], "xlsx", returns / "ada", tmp / "lo")
    resaved = tmp / "resaved"
    _libreoffice([work / "promotion-case.docx"], "docx", resaved, tmp / "lo")
    with zipfile.ZipFile(returns / "ada-case.zip", "w") as zf:
        zf.write(resaved / "promotion-case.docx", "Ada/promotion case FINAL.docx")
    expect["Ada Lovelace"] = (xlsx, case)

    # Alan: renamed files, statement 2 edited, a manager rating typed by hand, a self rating as a formula
    xlsx = fill_xlsx(alan / "self-assessment.xlsx", returns / "Alan Turing final (2).xlsx", pattern=1,
                     edit={2: "I sometimes design things."},
                     typed={3: {"Manager rating": "consistently!"}, 4: {"Self rating": '=IF(1,"Consistently")'}})
    case = fill_docx(alan / "promotion-case.docx", returns / "case alan.docx", {0: 1, 2: 2}, datetime(2024, 3, 2))
    expect["Alan Turing"] = (xlsx, case)
    # Katherine: not returned

    # hostile mail
    (returns / "bomb.zip").write_bytes(_bomb())
    shutil.copy(returns / "ada" / "self-assessment.xlsx", returns / "ada-macro.xlsm")
    (returns / "sneaky.xlsx").write_bytes(_with_member((ada / "self-assessment.xlsx").read_bytes(),
                                                       "xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 macro"))
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Statement"
    wb.save(returns / "budget.xlsx")
    (returns / "locked.xlsx").write_bytes(guard.OLE_MAGIC + b"\0" * 4000)
    original = (ada / "self-assessment.xlsx").read_bytes()
    with zipfile.ZipFile(io.BytesIO(original)) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
    body = sheet.split(b"?>", 1)[1] if sheet.startswith(b"<?xml") else sheet
    laughs = (b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
              + body.replace(b"<t>", b"<t>&b;", 1))
    (returns / "laughs.xlsx").write_bytes(_with_member(original, "xl/worksheets/sheet1.xml", laughs, replace=True))

    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in returns.rglob("*") if p.is_file()}
    summary = tmp / "summary" / "round-summary.xlsx"
    result = cli("collect", str(returns), "--round", str(packs), "--out", str(summary), "--framework", str(FRAMEWORK),
                 env=EPOCH)
    assert result.exit_code == 0, result.output
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in returns.rglob("*") if p.is_file()}
    assert after == before, "collect never changes a returned file"
    assert sorted(p.name for p in summary.parent.iterdir()) == ["round-summary.json", "round-summary.xlsx"]
    return {"tmp": tmp, "summary": summary, "expect": expect, "returns": returns, "packs": packs,
            "json": json.loads(summary.with_suffix(".json").read_text("utf-8")), "output": result.output}


def _sheet(path: Path, name: str) -> list[dict]:
    import openpyxl

    ws = openpyxl.load_workbook(path)[name]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def test_people_counts_equal_what_was_filled_in_person_by_person(round_):
    people = {r["Person"]: r for r in _sheet(round_["summary"], "People")}
    assert sorted(people) == ["Ada Lovelace", "Alan Turing", "Katherine Johnson"]
    assert people["Ada Lovelace"]["Status"] == "returned"
    assert people["Alan Turing"]["Status"] == "edited"
    assert people["Katherine Johnson"]["Status"] == "missing"
    for person, (xlsx, case) in round_["expect"].items():
        row = people[person]
        for i, who in ((1, "Self"), (2, "Manager")):
            counts = Counter(v[i] for v in xlsx.values() if v[i])
            assert {r: row[f"{who}: {r}"] for r in RATINGS} == {r: counts.get(r, 0) for r in RATINGS}, (person, who)
        top = sum(1 for v in xlsx.values() if v[2] == "Consistently") / len(xlsx)
        assert row["Manager: share Consistently"] == pytest.approx(top, abs=1e-4)
        assert row["Evidence rows"] == sum(case.values())
        assert row["Manager"] == "Grace Hopper" and row["Manager's summary"].endswith("strong evidence in every area.")
    ada = people["Ada Lovelace"]
    assert "ada-case.zip!/Ada/promotion case FINAL.docx" in ada["Files"]
    assert "Ada - my assessment.xlsx (older copy, not read)" in ada["Files"]  # both returns listed, newest read
    assert "Alan Turing final (2).xlsx" in people["Alan Turing"]["Files"]  # renamed: matched by its properties


def test_areas_sheet_counts_the_managers_ratings_area_by_area(round_):
    areas = _sheet(round_["summary"], "Areas")
    for person, (xlsx, case) in round_["expect"].items():
        rows = {r["Area"]: r for r in areas if r["Person"] == person}
        for area in {v[0] for v in xlsx.values()}:
            counts = Counter(v[2] for v in xlsx.values() if v[0] == area and v[2])
            assert {r: rows[area][f"Manager: {r}"] for r in RATINGS} == {r: counts.get(r, 0) for r in RATINGS}
        for area, n in case.items():
            assert rows[area]["Evidence rows"] == n, (person, area)
    assert not [r for r in areas if r["Person"] == "Katherine Johnson"]


def test_every_problem_is_on_the_problems_sheet_and_in_the_json(round_):
    sheet = _sheet(round_["summary"], "Problems")
    data = round_["json"]
    in_json = [(p["kind"], p["file"] or "") for p in data["problems"]] + \
              [(p["kind"], p["file"] or "") for pack in data["packs"] for p in pack["problems"]]
    in_sheet = [(r["Kind"], r["File"] or "") for r in sheet]
    assert sorted(in_json) == sorted(in_sheet)
    kinds = {(kind, Path(file.split("!/")[0]).name) for kind, file in in_sheet}
    for expected in [("zip bomb", "bomb.zip"), ("macros", "ada-macro.xlsm"), ("macros", "sneaky.xlsx"),
                     ("not a pack", "budget.xlsx"), ("encrypted", "locked.xlsx"), ("XML trick", "laughs.xlsx"),
                     ("edited statement", "Alan Turing final (2).xlsx"),
                     ("unknown rating", "Alan Turing final (2).xlsx"), ("not returned", "")]:
        assert expected in kinds, expected
    alan = next(p for p in data["packs"] if p["person"] == "Alan Turing")
    assert [e["no"] for e in alan["edited_statements"]] == [2]
    assert alan["edited_statements"][0]["text"] == "I sometimes design things."
    assert sorted((u["no"], u["who"], u["value"]) for u in alan["unknown_ratings"]) == [
        (3, "manager", "consistently!"), (4, "self", '=IF(1,"Consistently")')]  # a formula is text, never evaluated
    texts = {r["Problem"] for r in sheet}
    assert any("consistently!" in t for t in texts)
    assert round_["json"]["counts"] == {"returned": 1, "missing": 1, "partial": 0, "unreadable": 0, "edited": 1}


def test_the_json_matches_its_schema_and_the_workbook_holds_text_as_text(round_):
    jsonschema = pytest.importorskip("jsonschema")
    import openpyxl

    from cfexport.collect import write
    schema = json.loads((Path(write.__file__).parents[1] / "schema" / "round-summary.schema.json").read_text("utf-8"))
    jsonschema.validate(round_["json"], schema)
    ada = next(p for p in round_["json"]["packs"] if p["person"] == "Ada Lovelace")
    assert ada["ratings"]["manager"] == {r: n for r, n in zip(RATINGS, _people_counts(round_, "Ada Lovelace"))}
    wb = openpyxl.load_workbook(round_["summary"])
    assert wb.sheetnames == ["People", "Areas", "Problems"]
    formulas = [c for ws in wb for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert not formulas, "returned text (e.g. an evidence '=HYPERLINK') is never a formula in the summary"
    assert wb["Areas"].conditional_formatting, "the manager score has a colour scale"


def _people_counts(round_, person):
    row = next(r for r in _sheet(round_["summary"], "People") if r["Person"] == person)
    return [row[f"Manager: {r}"] for r in RATINGS]


def test_strict_exits_1_when_there_are_problems_and_0_when_there_are_none(round_, tmp_path):
    summary = round_["summary"]
    result = cli("collect", str(round_["returns"]), "--round", str(round_["packs"]), "--out", str(summary), "--strict")
    assert result.exit_code == 1 and "--strict" in result.output
    clean = tmp_path / "clean"
    clean.mkdir()
    shutil.copy(round_["returns"] / "ada" / "self-assessment.xlsx", clean / "a.xlsx")
    shutil.copy(round_["returns"] / "ada-case.zip", clean)
    result = cli("collect", str(clean), "--out", str(tmp_path / "s.xlsx"), "--strict")
    assert result.exit_code == 0, result.output
    assert "1 returned" in result.output


def test_collect_never_replaces_a_file_it_did_not_write(round_, tmp_path):
    mine = tmp_path / "mine.xlsx"
    mine.write_bytes(b"my own workbook")
    result = cli("collect", str(round_["returns"] / "case alan.docx"), "--out", str(mine))
    assert result.exit_code == 3 and "not written by cfexport collect" in result.output
    assert mine.read_bytes() == b"my own workbook"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.xlsx"]


def test_a_pack_of_another_framework_version_is_collected_with_a_warning(round_, tmp_path):
    later = {"SOURCE_DATE_EPOCH": str(1700000000 + 86400 * 30)}  # no version in the framework: the build date is
    result = cli("pack", "--role", "mlengineer/ml-engineer", "--from", "5", "--to", "6", "--person", "Ada Lovelace",
                 "--manager", "Grace Hopper", "--framework", str(FRAMEWORK), "--out", str(tmp_path / "o"), env=later)
    assert result.exit_code == 0, result.output
    [folder] = (tmp_path / "o" / "packs").iterdir()
    out = tmp_path / "s.xlsx"
    result = cli("collect", str(folder / "self-assessment.xlsx"), "--round", str(round_["packs"]), "--out", str(out))
    assert result.exit_code == 0, result.output
    ada = next(p for p in json.loads(out.with_suffix(".json").read_text("utf-8"))["packs"] if p["person"] == "Ada Lovelace")
    assert ada["expected"] and ada["statements"] == 10
    assert [p["kind"] for p in ada["problems"] if p["kind"] == "other version"] == ["other version"]


def test_libreoffice_opens_the_summary_without_repair(round_, tmp_path):
    _libreoffice([round_["summary"]], "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
                 tmp_path, tmp_path / "lo")
    people = (tmp_path / "round-summary-People.csv").read_text("utf-8")
    assert "Ada Lovelace" in people and "missing" in people
    problems = (tmp_path / "round-summary-Problems.csv").read_text("utf-8")
    assert "consistently!" in problems


# --- the pack record and the guard, without a round ----------------------------------------------------------------

def test_every_pack_document_carries_its_record_and_pack_json_its_id(round_):
    ada = round_["packs"] / "ada-lovelace-mlengineer-ml-engineer-level-5-to-6"
    record = json.loads((ada / "pack.json").read_text("utf-8"))
    for name, kind in (("self-assessment.xlsx", "self-assessment"), ("promotion-case.docx", "promotion-case")):
        with zipfile.ZipFile(ada / name) as zf:
            rec = parse(read_custom(zf.read("docProps/custom.xml")))
            assert all(len(v) <= 255 for v in read_custom(zf.read("docProps/custom.xml")).values())
            assert all(i.date_time == (2023, 11, 14, 22, 13, 20) for i in zf.infolist())  # reproducible dates
        assert rec["document"] == kind and rec["pack_id"] == record["pack_id"]
        assert (rec["person"], rec["manager"], rec["role"], rec["current_level"], rec["target_level"]) == (
            "Ada Lovelace", "Grace Hopper", "mlengineer/ml-engineer", 5, 6)
        assert len(rec["statements"]) == 10 and all(len(s["sha256"]) == 64 for s in rec["statements"])


def _zip(members: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    return out.getvalue()


@pytest.mark.parametrize("members,kind", [
    ({f"f{i}.xml": b"<a/>" for i in range(1001)}, "zip bomb"),
    ({"../../etc/passwd": b"x"}, "zip trick"),
    ({"/abs.xml": b"x"}, "zip trick"),
    ({"big.xml": b" " * (5 * 2**20)}, "zip bomb"),  # ratio
])
def test_the_guard_reads_the_central_directory_before_anything_is_extracted(members, kind):
    with pytest.raises(guard.Refused) as exc:
        guard.open_zip(_zip(members))
    assert exc.value.kind == kind


def test_the_guard_refuses_dtds_encrypted_files_and_non_zips():
    for xml in (b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>', b"<!DOCTYPE a><a/>"):
        with pytest.raises(guard.Refused) as exc:
            guard.parse_xml(xml, "part.xml")
        assert exc.value.kind == "XML trick"
    with pytest.raises(guard.Refused) as exc:
        guard.check_office(guard.OLE_MAGIC + b"\0" * 600, "a.xlsx")
    assert exc.value.kind == "encrypted"
    with pytest.raises(guard.Refused) as exc:
        guard.check_office(b"%PDF-1.7", "a.docx")
    assert exc.value.kind == "not a zip"


def test_a_forged_pack_record_is_refused_not_crashed_on():
    from cfexport.collect.provenance import ProvenanceError, properties

    good = {"format": 1, "pack_id": "pk-" + "0" * 20, "document": "self-assessment", "person": "A", "manager": None,
            "role": "r", "current_level": 1, "target_level": 2, "framework_version": "1", "areas": [],
            "statements": []}
    assert parse(properties(good))["person"] == "A"
    for bad, words in (({**good, "person": "\ud800"}, "not valid Unicode"), ({**good, "statements": [1]}, "not one")):
        with pytest.raises(ProvenanceError, match=words):
            parse(properties(bad))
    cut = properties(good)
    cut["cfexport.pack.1"] = cut["cfexport.pack.1"][:-3]
    with pytest.raises(ProvenanceError, match="checksum"):
        parse(cut)


def test_an_empty_file_and_a_workbook_openpyxl_cannot_read_say_what_happened_and_what_to_do(round_, tmp_path):
    """An empty file (a download that failed) was called 'not an Office document or zip'; a sheet
    written by a tool other than Excel, which openpyxl cannot read, showed only the library's words
    ('TypeError: SheetDimension.__init__() got an unexpected keyword argument')."""
    ada = round_["packs"] / "ada-lovelace-mlengineer-ml-engineer-level-5-to-6" / "self-assessment.xlsx"
    original = ada.read_bytes()
    with zipfile.ZipFile(io.BytesIO(original)) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
    assert b'<dimension ref="' in sheet
    odd = sheet.replace(b'<dimension ref="', b'<dimension span="1" ref="', 1)  # an attribute openpyxl does not know
    returns = tmp_path / "returns"
    returns.mkdir()
    (returns / "Ada final.xlsx").write_bytes(b"")
    (returns / "Ada odd.xlsx").write_bytes(_with_member(original, "xl/worksheets/sheet1.xml", odd, replace=True))
    summary = tmp_path / "summary.xlsx"
    result = cli("collect", str(returns), "--round", str(round_["packs"]), "--out", str(summary), env=EPOCH)
    assert result.exit_code == 0, result.output
    data = json.loads(summary.with_suffix(".json").read_text("utf-8"))
    skipped = {Path(p["file"]).name: p for p in data["problems"]}
    assert skipped["Ada final.xlsx"]["kind"] == "empty", skipped
    assert "empty file (0 bytes)" in skipped["Ada final.xlsx"]["message"]
    [ada_pack] = [p for p in data["packs"] if p["person"] == "Ada Lovelace"]
    assert ada_pack["status"] == "unreadable"
    [odd_message] = [p["message"] for p in ada_pack["problems"] if p["kind"] == "unreadable"]
    assert "the workbook is damaged" in odd_message and "save it again" in odd_message, odd_message
    assert odd_message.index("save it again") < odd_message.index("detail:")  # what to do before the library's words


def test_a_round_index_saved_again_by_a_spreadsheet_still_names_the_round(round_, tmp_path):
    """HR opened round.csv, looked, and saved it (LibreOffice with ';' as the separator, as in a
    German or French locale): `--round` refused the folder as 'not a round index cfexport wrote'."""
    packs = tmp_path / "packs"
    shutil.copytree(round_["packs"], packs)
    original = (packs / "round.csv").read_bytes()
    # opened as UTF-8 with commas (what LibreOffice's import dialog offers for it), saved with ';'
    soffice = need_tool("soffice")
    proc = subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path / 'lo'}",
                           "--infilter=Text - txt - csv (StarCalc):44,34,76,1",
                           "--convert-to", "csv:Text - txt - csv (StarCalc):59,34,76,1",
                           "--outdir", str(tmp_path / "saved"), str(packs / "round.csv")],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    saved = (tmp_path / "saved" / "round.csv").read_bytes()
    assert b";" in saved and saved != original
    (packs / "round.csv").write_bytes(saved)
    summary = tmp_path / "summary.xlsx"
    result = cli("collect", str(round_["returns"]), "--round", str(packs), "--out", str(summary), env=EPOCH)
    assert result.exit_code == 0, result.output
    data = json.loads(summary.with_suffix(".json").read_text("utf-8"))
    assert data["counts"] == round_["json"]["counts"]
    status = {p["person"]: p["status"] for p in data["packs"]}
    assert status["Katherine Johnson"] == "missing"


def _collect_alone(wb, tmp_path: Path, name: str) -> dict:
    """`wb` saved as the only returned file (replacing the last one) and collected: its pack's summary."""
    returns = tmp_path / "returns"
    shutil.rmtree(returns, ignore_errors=True)
    returns.mkdir()
    wb.save(returns / name)
    summary = tmp_path / "summary.xlsx"
    result = cli("collect", str(returns), "--out", str(summary), env=EPOCH)
    assert result.exit_code == 0, result.output
    [pack] = json.loads(summary.with_suffix(".json").read_text("utf-8"))["packs"]
    return pack


def test_a_rating_copied_down_over_the_nothing_to_rate_row_is_no_problem(round_, tmp_path):
    """Ada rated her first statement and copied the rating down the whole column in Excel, over the row
    that says 'Not yet defined (TODO): nothing to rate at this level yet': collect listed 'a row that
    matches no statement holds ratings', so `--strict` failed a round that had nothing wrong with it."""
    import openpyxl

    src = round_["packs"] / "ada-lovelace-mlengineer-ml-engineer-level-5-to-6" / "self-assessment.xlsx"
    wb = openpyxl.load_workbook(src)
    ws = wb["Self-assessment"]
    head, cols = _header(ws)
    rated = todo = 0
    for r in range(head + 1, ws.max_row + 1):
        text = ws.cell(r, cols["Statement"]).value
        if isinstance(ws.cell(r, cols["No."]).value, int):
            rated += 1
        elif isinstance(text, str) and text.startswith("Not yet defined (TODO)"):
            todo += 1
        else:
            continue
        ws.cell(r, cols["Self rating"]).value = "Sometimes"
        ws.cell(r, cols["Manager rating"]).value = "Sometimes"
    assert rated and todo == 1
    pack = _collect_alone(wb, tmp_path, "Ada.xlsx")
    assert [p for p in pack["problems"] if p["kind"] == "content"] == []
    assert pack["ratings"]["self"]["Sometimes"] == rated == pack["statements"]


def test_a_filled_in_copy_of_the_sheet_is_read_and_the_two_sheets_are_named(round_, tmp_path):
    """A person copied the Self-assessment sheet (right click > Move or Copy) and filled in the copy:
    collect read the empty original and listed every statement as not rated."""
    import openpyxl

    src = round_["packs"] / "alan-turing-mlengineer-edge-ml-engineer-level-6-to-7" / "self-assessment.xlsx"
    work = tmp_path / "copy.xlsx"
    wb = openpyxl.load_workbook(src)
    copy = wb.copy_worksheet(wb["Self-assessment"])
    copy.title = "My answers"
    wb.save(work)
    filled = fill_xlsx(work, work, pattern=2)  # fills the "Self-assessment" sheet of the file it is given...
    wb = openpyxl.load_workbook(work)
    original, mine = wb["Self-assessment"], wb["My answers"]
    for row_o, row_m in zip(original.iter_rows(), mine.iter_rows()):  # ...so move what it wrote to the copy
        for cell_o, cell_m in zip(row_o, row_m):
            if cell_o.value != cell_m.value:
                cell_m.value, cell_o.value = cell_o.value, cell_m.value
    pack = _collect_alone(wb, tmp_path, "Alan.xlsx")
    expected = Counter(self_r for _, self_r, _, _ in filled.values())
    assert {k: v for k, v in pack["ratings"]["self"].items() if v} == dict(expected)
    assert not [p for p in pack["problems"] if "each hold ratings" in p["message"]]  # the original is empty

    head, cols = _header(original)  # a rating left in the original too: both sheets are named
    first = next(r for r in range(head + 1, original.max_row + 1) if isinstance(original.cell(r, cols["No."]).value, int))
    original.cell(first, cols["Self rating"]).value = "Not yet"
    pack = _collect_alone(wb, tmp_path, "Alan.xlsx")
    assert {k: v for k, v in pack["ratings"]["self"].items() if v} == dict(expected)
    assert [p["message"] for p in pack["problems"] if "each hold ratings" in p["message"]] == [
        "the sheets 'My answers', 'Self-assessment' each hold ratings or evidence; 'My answers', the most filled "
        "in, is read"]


def test_a_word_97_case_whose_text_says_workbook_is_named_a_word_document(round_, tmp_path):
    """A promotion case saved as Word 97-2003 (.doc) whose evidence says 'see the Workbook attached'
    (with an accented name, so Word keeps the text as UTF-16): collect called it 'an Excel 97-2003
    workbook (.xls)' and said to save it as an Excel Workbook, because it looked for the stream name
    'Workbook' anywhere in the file's bytes, the document's own text included."""
    import docx

    src = round_["packs"] / "ada-lovelace-mlengineer-ml-engineer-level-5-to-6" / "promotion-case.docx"
    doc = docx.Document(str(src))
    doc.add_paragraph("Evidence for José: see the Workbook attached.")
    work = tmp_path / "work"
    work.mkdir()
    doc.save(str(work / "promotion-case.docx"))
    returns = tmp_path / "returns"
    _libreoffice([work / "promotion-case.docx"], "doc", returns, tmp_path / "lo")
    assert "Workbook".encode("utf-16-le") in (returns / "promotion-case.doc").read_bytes()  # the text, as stored
    summary = tmp_path / "summary.xlsx"
    result = cli("collect", str(returns), "--out", str(summary), env=EPOCH)
    assert result.exit_code == 0, result.output
    [problem] = json.loads(summary.with_suffix(".json").read_text("utf-8"))["problems"]
    assert problem["kind"] == "old format"
    assert "Word 97-2003" in problem["message"] and "Excel 97-2003" not in problem["message"], problem["message"]
