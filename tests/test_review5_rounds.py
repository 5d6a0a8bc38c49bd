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
from conftest import FRAMEWORK
from test_collect import EPOCH, RATINGS, cli, fill_xlsx

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
