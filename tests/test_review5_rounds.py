"""Review 5, promotion rounds: defects found by sending a round out and collecting it back the way
people return files (Word with Track Changes on, LibreOffice's own formats, zips made on a Mac), each
as a test. Expected values come from what each test wrote, never from cfexport's code."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import FRAMEWORK, TEMPLATES
from test_collect import EPOCH, cli, fill_xlsx

EXAMPLE_PEOPLE = ("person,role,current_level,target_level,manager\n"
                  "Ada Lovelace,mlengineer/ml-engineer,5,6,Grace Hopper\n"
                  "Alan Turing,mlengineer/edge-ml-engineer,6,7,Grace Hopper\n")
ADA = "ada-lovelace-mlengineer-ml-engineer-level-5-to-6"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


@pytest.fixture(scope="module")
def packs(tmp_path_factory) -> Path:
    """A round of two packs (as folders), made once for the module."""
    tmp = tmp_path_factory.mktemp("round5")
    people = tmp / "people.csv"
    people.write_text(EXAMPLE_PEOPLE, "utf-8")
    result = cli("packs", "--people", str(people), "--framework", str(FRAMEWORK), "--out", str(tmp / "out"),
                 "--jobs", "1", env=EPOCH)
    assert result.exit_code == 0, result.output
    return tmp / "out" / "packs"


def collect(tmp_path: Path, *paths: Path, round_: Path | None = None) -> tuple[dict, object]:
    out = tmp_path / "summary" / "round-summary.xlsx"
    args = ["collect", *map(str, paths), "--out", str(out)]
    if round_ is not None:
        args += ["--round", str(round_)]
    result = cli(*args, env=EPOCH)
    assert result.exit_code == 0, result.output
    return json.loads(out.with_suffix(".json").read_text("utf-8")), result


def person(facts: dict, name: str) -> dict:
    return next(p for p in facts["packs"] if p["person"] == name)


# --- Word with Track Changes on ---------------------------------------------------------------------------------------

def _tracked(paragraph, inserted: str, deleted: str | None = None) -> None:
    """What Word writes when text is typed (and older text deleted) with Track Changes on:
    the runs inside w:ins (and w:del holding w:delText)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def change(tag: str, text: str, text_tag: str, rid: int):
        el = OxmlElement(tag)
        el.set(qn("w:id"), str(rid))
        el.set(qn("w:author"), "Grace Hopper")
        el.set(qn("w:date"), "2024-03-01T12:00:00Z")
        run, t = OxmlElement("w:r"), OxmlElement(text_tag)
        t.text = text
        t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        run.append(t)
        el.append(run)
        paragraph._p.append(el)

    if deleted is not None:
        change("w:del", deleted, "w:delText", 901)
    change("w:ins", inserted, "w:t", 902)


def test_evidence_and_summary_typed_with_track_changes_on_are_read_and_deleted_text_is_not(packs, tmp_path):
    """A manager reviewing with Track Changes on (Word writes what they type inside w:ins) returned a
    case with three evidence rows and a summary; collect counted 0 evidence rows and an empty
    summary, since python-docx's text leaves out runs inside w:ins."""
    import docx

    doc = docx.Document(str(packs / ADA / "promotion-case.docx"))
    tables = [t for t in doc.tables if [c.text for c in t.rows[0].cells][:3] == ["Example", "Impact", "Link"]]
    _tracked(tables[0].rows[1].cells[0].paragraphs[0], "Shipped the drift monitor")
    _tracked(tables[0].rows[2].cells[1].paragraphs[0], "Halved the time to deploy")
    _tracked(tables[2].rows[1].cells[0].paragraphs[0], "Wrote the AI strategy note")
    _tracked(tables[3].rows[1].cells[0].paragraphs[0], "", deleted="An example taken back")  # deleted: not a row
    summary = next(t for t in doc.tables if t.rows[0].cells[0].text == "Summary of the evidence")
    _tracked(summary.rows[0].cells[1].paragraphs[0], "Ready now.", deleted="Not ready yet.")
    returned = tmp_path / "returns" / "Ada case (tracked).docx"
    returned.parent.mkdir()
    doc.save(str(returned))

    facts, _ = collect(tmp_path, returned)
    ada = person(facts, "Ada Lovelace")
    assert ada["evidence_rows"] == 3
    rows = {a["title"]: a["evidence_rows"] for a in ada["areas"]}
    assert (rows["ML Ops"], rows["AI Strategy"], rows["Architecture Design"]) == (2, 1, 0)
    assert ada["summary"]["Summary of the evidence"] == "Ready now."
    assert "Not ready" not in json.dumps(ada)


# --- saved in another office suite's own format ----------------------------------------------------------------------

def test_a_pack_saved_as_ods_or_odt_is_a_problem_saying_how_to_save_it_as_xlsx_or_docx(packs, tmp_path):
    """A person who filled the pack in LibreOffice and kept its own format returned
    self-assessment.ods and promotion-case.odt: collect passed over them in a folder without a word
    and, named on the command line or uploaded on /collect, read them as zips of files (finding
    none), so the pack was just 'not returned' and nobody was told why."""
    from test_collect import _libreoffice

    filled = tmp_path / "filled"
    filled.mkdir()
    fill_xlsx(packs / ADA / "self-assessment.xlsx", filled / "self-assessment.xlsx", pattern=0)
    returns = tmp_path / "returns"
    _libreoffice([filled / "self-assessment.xlsx"], "ods", returns / "ada", tmp_path / "lo")
    _libreoffice([packs / ADA / "promotion-case.docx"], "odt", returns / "ada", tmp_path / "lo")
    assert sorted(p.name for p in (returns / "ada").iterdir()) == ["promotion-case.odt", "self-assessment.ods"]
    with zipfile.ZipFile(returns / "from-ada.zip", "w") as zf:
        zf.write(returns / "ada" / "self-assessment.ods", "Ada/self assessment.ods")

    for paths in ([returns], [returns / "ada" / "self-assessment.ods", returns / "ada" / "promotion-case.odt"]):
        facts, result = collect(tmp_path, *paths, round_=packs)
        assert person(facts, "Ada Lovelace")["status"] == "missing"
        problems = {Path(p["file"]).name: p for p in facts["problems"]}
        assert {"self-assessment.ods", "promotion-case.odt"} <= set(problems), facts["problems"]
        ods, odt = problems["self-assessment.ods"], problems["promotion-case.odt"]
        assert ods["kind"] == odt["kind"] == "other format"
        assert ".ods" in ods["message"] and "Save As" in ods["message"] and ".xlsx" in ods["message"]
        assert ".odt" in odt["message"] and ".docx" in odt["message"]
        assert "self-assessment.ods" in result.output
    facts, _ = collect(tmp_path, returns / "from-ada.zip")
    assert [(p["file"], p["kind"]) for p in facts["problems"]] == [
        (f"{returns / 'from-ada.zip'}!/Ada/self assessment.ods", "other format")]


# --- zips made on a Mac ----------------------------------------------------------------------------------------------

APPLE_DOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + b"\x00" * 60


def test_macos_appledouble_files_in_a_zip_or_a_folder_are_passed_over_not_problems(packs, tmp_path):
    """A zip of returns made with the Finder (Compress) holds `__MACOSX/.../._name.xlsx` beside every
    file, and a Mac writing to a shared drive leaves `._name.docx` files: each was listed as a problem
    ('not a zip: not an Office document or zip'), so a clean round had problems and --strict failed."""
    returns = tmp_path / "returns"
    (returns / "Ada").mkdir(parents=True)
    fill_xlsx(packs / ADA / "self-assessment.xlsx", returns / "Ada" / "self-assessment.xlsx", pattern=0)
    shutil.copy(packs / ADA / "promotion-case.docx", returns / "Ada" / "promotion-case.docx")
    (returns / "Ada" / "._promotion-case.docx").write_bytes(APPLE_DOUBLE)
    (returns / "__MACOSX" / "Ada").mkdir(parents=True)
    (returns / "__MACOSX" / "Ada" / "._self-assessment.xlsx").write_bytes(APPLE_DOUBLE)
    finder = tmp_path / "Returns.zip"
    with zipfile.ZipFile(finder, "w") as zf:
        for name in ("self-assessment.xlsx", "promotion-case.docx"):
            zf.write(returns / "Ada" / name, f"Returns/Ada/{name}")
            zf.writestr(f"__MACOSX/Returns/Ada/._{name}", APPLE_DOUBLE)

    for path in (returns, finder):
        facts, result = collect(tmp_path, path)
        assert facts["problems"] == [], facts["problems"]
        ada = person(facts, "Ada Lovelace")
        assert len(ada["files"]) == 2 and not any("._" in f["path"] or "__MACOSX" in f["path"] for f in ada["files"])
        result = cli("collect", str(path), "--out", str(tmp_path / "strict" / "s.xlsx"), "--strict")
        assert result.exit_code == 0, result.output


# --- round CSVs ------------------------------------------------------------------------------------------------------

def test_a_round_csv_with_lines_ending_in_cr_alone_as_excel_for_mac_saves_it_is_read(tmp_path):
    """Excel for Mac's "Comma Separated Values (.csv)" ends lines with CR alone: `packs` stopped at
    line 1 with Python's own words, 'cannot read the header as CSV: new-line character seen in
    unquoted field - do you need to open the file in universal-newline mode?', and wrote nothing."""
    people = tmp_path / "round.csv"
    people.write_bytes(EXAMPLE_PEOPLE.replace("\n", "\r").encode("ascii"))
    result = cli("packs", "--people", str(people), "--framework", str(FRAMEWORK), "--out", str(tmp_path / "out"),
                 "--jobs", "1", env=EPOCH)
    assert result.exit_code == 0, result.output
    index = (tmp_path / "out" / "packs" / "round.csv").read_text("utf-8-sig").splitlines()
    assert [row.split(",")[:3] for row in index[1:]] == [["Ada Lovelace", "Grace Hopper", "mlengineer/ml-engineer"],
                                                         ["Alan Turing", "Grace Hopper", "mlengineer/edge-ml-engineer"]]
    bad = tmp_path / "bad.csv"  # and a bad row is still named by its line
    bad.write_bytes(EXAMPLE_PEOPLE.replace("\n", "\r").replace("mlengineer/edge-ml-engineer", "nope").encode())
    result = cli("packs", "--people", str(bad), "--framework", str(FRAMEWORK), "--out", str(tmp_path / "o2"))
    assert result.exit_code == 1 and "bad.csv:3: error: unknown role 'nope'" in result.output, result.output


# --- collect's --out ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["round-summary.json", "round-summary.csv", "round-summary"])
def test_an_out_that_is_not_an_xlsx_name_is_a_usage_error_and_nothing_is_written(packs, tmp_path, name):
    """`collect --out round-summary.json` (wanting the JSON) ended in 'internal error (IndexError: list
    index out of range)', exit 4, after writing the JSON alone; `--out round-summary.csv` wrote an Excel
    workbook named .csv, which Excel refuses to open as a workbook."""
    out = tmp_path / "summary" / name
    result = cli("collect", str(packs / ADA / "self-assessment.xlsx"), "--out", str(out))
    assert result.exit_code == 2, result.output
    assert "--out" in result.output and ".xlsx" in result.output and "internal error" not in result.output
    assert not out.parent.exists()
    result = cli("collect", str(packs / ADA / "self-assessment.xlsx"), "--out", str(out.parent / "Summary.XLSX"))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.parent.iterdir()) == ["Summary.XLSX", "Summary.json"]


# --- the web page: a round made on /packs/new, collected on /collect ------------------------------------------------

def test_a_round_made_on_the_page_is_offered_on_collect_and_lists_who_did_not_return(tmp_path):
    """HR made a round on /packs/new (upload the people CSV, download the zip) and came back to
    /collect with the returns: the page said 'No round has been made in OUT/packs yet (the promotion
    packs page makes one from a people CSV)' and offered none, so nobody who did not return a pack was
    listed as missing. A round `cfexport packs` wrote into OUT/packs is left as it was."""
    pytest.importorskip("starlette")
    import html
    import re

    from starlette.testclient import TestClient
    from webfixtures import csrf

    from cfexport.web.app import create_app

    out = tmp_path / "out"
    cli_csv = tmp_path / "cli.csv"
    cli_csv.write_text("person,role,current_level,target_level,manager\n"
                       "Grace Hopper,mlengineer/ml-engineer,7,8,\n", "utf-8")
    assert cli("packs", "--people", str(cli_csv), "--framework", str(FRAMEWORK), "--out", str(out),
               "--jobs", "1").exit_code == 0
    cli_index = {n: (out / "packs" / n).read_bytes() for n in ("round.csv", "round.xlsx")}
    people = EXAMPLE_PEOPLE + "Katherine Johnson,mlengineer/ml-engineer,7,8,\n"
    with TestClient(create_app(FRAMEWORK, TEMPLATES, out), raise_server_exceptions=False) as client:
        token = csrf(client.get("/packs/new").text)
        r = client.post("/packs/round", data={"csrf_token": token},
                        files={"people": ("people.csv", people.encode(), "text/csv")})
        assert r.status_code == 200, r.text
        handed_out = tmp_path / "handed-out"
        zipfile.ZipFile(io.BytesIO(r.content)).extractall(handed_out)
        filled = fill_xlsx(handed_out / ADA / "self-assessment.xlsx", tmp_path / "Ada final.xlsx", pattern=1)

        page = client.get("/collect").text
        offered = re.findall(r'<option value="([^"]+)"', page)
        web_rounds = [v for v in offered if v.startswith("packs/") and v != "packs"]
        assert len(web_rounds) == 1, offered
        assert "packs" in offered  # the command line's round is still offered too
        r = client.post("/collect", data={"csrf_token": csrf(page), "round": web_rounds[0]},
                        files=[("returns", ("Ada final.xlsx", (tmp_path / "Ada final.xlsx").read_bytes(),
                                            "application/octet-stream"))])
        assert r.status_code == 200, r.text
        status = {html.unescape(who): what for what, who in
                  re.findall(r'<tr class="status-([a-z]+)">\s*<th scope="row">([^<]*)</th>', r.text)}
        assert status == {"Ada Lovelace": "partial", "Alan Turing": "missing", "Katherine Johnson": "missing"}
        assert len(filled) == 10
    assert {n: (out / "packs" / n).read_bytes() for n in cli_index} == cli_index


def test_a_pack_saved_as_xls_or_doc_is_an_old_format_problem_not_an_encrypted_file(packs, tmp_path):
    """A self-assessment saved as Excel 97-2003 (.xls) and a case as Word 97-2003 (.doc) were both listed
    with the kind 'encrypted', 'an encrypted (password-protected) Office file, or an old binary .xls/.doc':
    HR asked people to remove a password they never set. Saved back as .xlsx/.docx they are read (the
    pack record survives), so the problem says to do that; a password-protected file is still 'encrypted'."""
    from test_collect import _libreoffice

    from cfexport.collect import guard

    returns = tmp_path / "returns"
    _libreoffice([packs / ADA / "self-assessment.xlsx"], "xls", returns, tmp_path / "lo")
    _libreoffice([packs / ADA / "promotion-case.docx"], "doc", returns, tmp_path / "lo")
    # an encrypted Office file: an OLE compound file whose directory names the encrypted package
    (returns / "locked.xlsx").write_bytes(guard.OLE_MAGIC + b"\0" * 504 + "EncryptionInfo".encode("utf-16-le")
                                          + b"\0" * 50 + "EncryptedPackage".encode("utf-16-le") + b"\0" * 4000)
    facts, _ = collect(tmp_path, returns)
    problems = {Path(p["file"]).name: p for p in facts["problems"]}
    assert problems["self-assessment.xls"]["kind"] == problems["promotion-case.doc"]["kind"] == "old format"
    assert "Excel 97-2003" in problems["self-assessment.xls"]["message"]
    assert "Save As" in problems["self-assessment.xls"]["message"] and ".xlsx" in problems["self-assessment.xls"]["message"]
    assert "Word 97-2003" in problems["promotion-case.doc"]["message"] and ".docx" in problems["promotion-case.doc"]["message"]
    assert problems["locked.xlsx"]["kind"] == "encrypted" and ".xls/" not in problems["locked.xlsx"]["message"]

    saved = tmp_path / "saved"  # what the problem says to do: read, as the pack's
    _libreoffice([returns / "self-assessment.xls"], "xlsx", saved, tmp_path / "lo")
    _libreoffice([returns / "promotion-case.doc"], "docx", saved, tmp_path / "lo")
    facts, _ = collect(tmp_path, saved)
    assert facts["problems"] == [] and [len(p["files"]) for p in facts["packs"]] == [2]
