"""Review 3: defects found by using cfexport on inputs nobody on the project wrote, each as a test.

Fixtures have the shape real inputs have (a workbook filled in and saved again by LibreOffice, pages
as authors write them); golden values come from the text written here, never from cfexport."""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from pathlib import Path

from click.testing import CliRunner
from conftest import FRAMEWORK, ROOT, need_tool
from readback import docx_text

from cfexport.cli import main

EPOCH = {"SOURCE_DATE_EPOCH": "1700000000"}


def cli(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, list(args), env=env)


def _libreoffice(files: list[Path], fmt: str, outdir: Path, profile: Path) -> None:
    soffice = need_tool("soffice")
    proc = subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{profile}", "--convert-to", fmt,
                           "--outdir", str(outdir), *map(str, files)], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr


# --- collect: a returned workbook with a damaged picture -------------------------------------------------------------

def _damage_member(data: bytes, name: str) -> bytes:
    """The zip with the local header of `name` garbled, as a broken download or mail gateway leaves it
    (the central directory, read first, is intact)."""
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        offset = zf.getinfo(name).header_offset
    out[offset:offset + 4] = b"\0\0\0\0"
    return bytes(out)


def test_collect_lists_a_returned_workbook_with_a_damaged_picture_as_damaged_and_reads_the_rest(tmp_path):
    """A self-assessment with a screenshot pasted as evidence, saved again by LibreOffice, whose picture
    part came back damaged: collect stopped the whole round with 'internal error (Error -3 while
    decompressing data)' or 'Bad magic number for file header' (exit 4), reading none of the other
    returns. The part was opened, to see whether it held XML, outside the guard's error handling."""
    import openpyxl
    from openpyxl.drawing.image import Image
    from PIL import Image as PILImage

    out = tmp_path / "out"
    result = cli("packs", "--people", str(ROOT / "examples" / "people.csv"), "--framework", str(FRAMEWORK),
                 "--out", str(out), "--jobs", "1", env=EPOCH)
    assert result.exit_code == 0, result.output
    packs = out / "packs"
    ada = packs / "ada-lovelace-mlengineer-ml-engineer-level-5-to-6" / "self-assessment.xlsx"
    alan = packs / "alan-turing-mlengineer-edge-ml-engineer-level-6-to-7" / "self-assessment.xlsx"

    work, returns = tmp_path / "work", tmp_path / "returns"
    work.mkdir()
    returns.mkdir()
    shot = work / "screenshot.png"
    PILImage.new("RGB", (120, 80), (200, 30, 30)).save(shot)
    wb = openpyxl.load_workbook(ada)
    ws = wb["Self-assessment"]
    ws.add_image(Image(str(shot)), "G10")
    wb.save(work / "Ada self-assessment.xlsx")
    _libreoffice([work / "Ada self-assessment.xlsx"], "xlsx", work / "lo", tmp_path / "profile")
    resaved = (work / "lo" / "Ada self-assessment.xlsx").read_bytes()
    with zipfile.ZipFile(io.BytesIO(resaved)) as zf:
        pictures = [n for n in zf.namelist() if n.startswith("xl/media/")]
    assert pictures, "LibreOffice kept the picture"
    (returns / "Ada self-assessment.xlsx").write_bytes(_damage_member(resaved, pictures[0]))

    wb = openpyxl.load_workbook(alan)  # a good return beside it
    ws = wb["Self-assessment"]
    for row in ws.iter_rows(min_row=1):
        if isinstance(row[1].value, int):
            row[4].value, row[5].value = "Sometimes", "Consistently"
    wb.save(returns / "Alan.xlsx")

    summary = tmp_path / "summary.xlsx"
    result = cli("collect", str(returns), "--round", str(packs), "--out", str(summary), env=EPOCH)
    assert "internal error" not in result.output, result.output
    assert result.exit_code == 0, result.output
    data = json.loads(summary.with_suffix(".json").read_text("utf-8"))
    problems = [p for p in data["problems"] if p["file"].endswith("Ada self-assessment.xlsx")]
    assert problems and "damaged" in json.dumps(problems), data["problems"]
    alan_pack = next(p for p in data["packs"] if p["person"] == "Alan Turing")
    assert alan_pack["ratings"]["manager"]["Consistently"] == alan_pack["statements"] > 0


# --- kramdown footnotes and abbreviations ----------------------------------------------------------------------------

def test_footnotes_and_abbreviation_definitions_are_not_framework_text(tmp_path):
    """kramdown pages put notes in footnotes (`[^1]` in the text, `[^1]: ...` at the foot of the page) and
    explain acronyms with abbreviation definitions (`*[SLA]: ...`). The site shows a superscript number and
    the note at the foot; neither definition is text where it stands. The reader took a definition below the
    last area of the craft page as part of that area's definition ('... use it. *[SLA]: Service Level
    Agreement [^pipelines]: ...') and kept `[^1]` in a statement. The marker is left out with a warning
    that names the line and the note, so the note is not lost silently."""
    from sitefixture import make_site

    site = make_site(tmp_path)
    craft = site / "careers" / "engineering" / "index.md"
    craft.write_text(craft.read_text("utf-8") + (
        "\n*[SLA]: Service Level Agreement\n\n"
        "[^pipelines]: Batch and streaming pipelines alike,\n"
        "    including the ones we inherit.\n"), "utf-8")
    level6 = site / "careers" / "engineering" / "level6.markdown"
    text = level6.read_text("utf-8")
    old = "At level 6 I design streaming and batch pipelines and own them in production. |"
    assert old in text
    level6.write_text(text.replace(old, "At level 6 I design streaming and batch pipelines[^own] and own them in "
                                        "production to an SLA. |")
                      + "\n[^own]: Owning means being on call for them.\n", "utf-8")
    line = next(n for n, t in enumerate(level6.read_text("utf-8").split("\n"), 1) if "[^own]" in t)

    out = tmp_path / "out"
    result = cli("build", "--framework", str(site), "--out", str(out), "--format", "json", "--format", "docx",
                 "--jobs", "1", env=EPOCH)
    assert result.exit_code == 0, result.output
    assert f"level6.markdown:{line}: warning: footnote [^own]" in result.output, result.output
    assert "Owning means being on call for them." in result.output

    data = json.loads((out / "framework.json").read_text("utf-8"))
    areas = {a["id"]: a for c in data["crafts"] for a in c["areas"]}
    assert areas["tooling-1"]["definition"] == ("The databases, warehouses, orchestrators and query languages a Data "
                                                "Engineer builds with.")
    texts = [s["text"] for c in data["crafts"] for lv in c["levels"] for e in lv["expectations"]
             for s in e["statements"]]
    assert ("At level 6 I design streaming and batch pipelines and own them in production to an SLA."
            in texts)
    role = docx_text(out / "role-descriptions" / "ml-and-data-engineering-craft" / "data-engineer-level-6.docx")
    assert "pipelines and own them in production to an SLA." in role
    for leak in ("[^", "*[SLA]", "Service Level Agreement", "Batch and streaming pipelines alike"):
        assert leak not in json.dumps(data, ensure_ascii=False) and leak not in role, leak


def test_a_footnote_marker_without_a_definition_stays_text_as_kramdown_leaves_it(tmp_path):
    from sitefixture import make_site

    site = make_site(tmp_path)
    level6 = site / "careers" / "engineering" / "level6.markdown"
    old = "At level 6 I design streaming and batch pipelines and own them in production. |"
    level6.write_text(level6.read_text("utf-8").replace(old, "At level 6 I design pipelines[^x]. |"), "utf-8")
    out = tmp_path / "out"
    result = cli("build", "--framework", str(site), "--out", str(out), "--format", "json", "--jobs", "1", env=EPOCH)
    assert result.exit_code == 0, result.output
    assert "At level 6 I design pipelines[^x]." in (out / "framework.json").read_text("utf-8")


# --- a blank line inside a table ---------------------------------------------------------------------------------------

def test_rows_after_a_blank_line_inside_a_table_are_read_as_the_site_shows_them(tmp_path):
    """An author leaves a blank line between two rows of a level page's table. kramdown needs no header
    row: the site (Jekyll 4.3, kramdown 2.4 with kramdown-parser-gfm 1.1, checked) shows the rows after
    the blank line as a second table. CommonMark reads them as a paragraph, so the reader dropped them:
    'AI Strategy' and 'Architecture Design' became "Not described at this level" in every document, with
    only 'level 6 leaves out the area' warnings. They are rows of the table above, with their own lines."""
    import shutil

    import openpyxl

    fw = tmp_path / "framework"
    shutil.copytree(FRAMEWORK, fw)
    page = fw / "mlengineer" / "level6.md"
    text = page.read_text("utf-8")
    assert text.count("\n| [AI Strategy]") == 1
    page.write_text(text.replace("\n| [AI Strategy]", "\n\n| [AI Strategy]"), "utf-8")
    strategy_line = next(n for n, t in enumerate(page.read_text("utf-8").split("\n"), 1) if "[AI Strategy]" in t)

    out = tmp_path / "out"
    result = cli("build", "--framework", str(fw), "--out", str(out), "--format", "json", "--format", "xlsx",
                 "--format", "docx", "--jobs", "1", env=EPOCH)
    assert result.exit_code == 0, result.output
    assert "leaves out the area" not in result.output, result.output

    expected = {
        "ai-strategy": ["I understand the reasoning behind my team’s strategic decisions, and am able to verify "
                        "and debug implementations of the design.",
                        "I understand how my work fits into Vaarst’s AI Strategy."],
        "architecture-design": ["I design components of ML systems with guidance, and explain the trade-offs I made."],
    }
    data = json.loads((out / "framework.json").read_text("utf-8"))
    level6 = next(lv for lv in data["crafts"][0]["levels"] if lv["number"] == 6)
    got = {e["area_id"]: [s["text"] for s in e["statements"]] for e in level6["expectations"]}
    for area, texts in expected.items():
        assert got.get(area) == texts, got
    assert data["sources"]["expectations"]["mlengineer/6/ai-strategy"]["line"] == strategy_line

    role = docx_text(out / "role-descriptions" / "ml-and-edge-ml-engineer-craft" / "ml-engineer-level-6.docx")
    wb = openpyxl.load_workbook(out / "competency-matrix.xlsx", read_only=True)
    cells = "\n".join(str(v) for ws in wb for row in ws.iter_rows(values_only=True) for v in row if v)
    for texts in expected.values():
        for t in texts:
            assert t in role and t in cells, t


def test_a_row_commented_out_inside_a_table_hides_that_row_only(tmp_path):
    """An author hides one row of a level page by putting `<!--` and `-->` around it, on lines of their own.
    The rows after the comment were dropped with it ('Architecture Design' and 'Technical Strategy' left out,
    shown as "Not described at this level" in every document, with only 'leaves out the area' warnings).
    The commented row is not framework text; the rows after it are, with their own line numbers."""
    import shutil

    fw = tmp_path / "framework"
    shutil.copytree(FRAMEWORK, fw)
    page = fw / "mlengineer" / "level6.md"
    lines = page.read_text("utf-8").split("\n")
    i = next(n for n, t in enumerate(lines) if t.startswith("| [AI Strategy]"))
    lines[i:i + 1] = ["<!--", lines[i], "-->"]
    page.write_text("\n".join(lines), "utf-8")
    design_line = next(n for n, t in enumerate(lines, 1) if t.startswith("| [Architecture Design]"))

    out = tmp_path / "out"
    result = cli("build", "--framework", str(fw), "--out", str(out), "--format", "json", "--format", "docx",
                 "--jobs", "1", env=EPOCH)
    assert result.exit_code == 0, result.output
    assert "leaves out the area 'AI Strategy'" in result.output  # the one row the author hid
    assert "leaves out the area 'Architecture Design'" not in result.output, result.output
    data = json.loads((out / "framework.json").read_text("utf-8"))
    level6 = next(lv for lv in data["crafts"][0]["levels"] if lv["number"] == 6)
    got = {e["area_id"]: [s["text"] for s in e["statements"]] for e in level6["expectations"]}
    assert got["architecture-design"] == ["I design components of ML systems with guidance, and explain the "
                                          "trade-offs I made."]
    assert "ai-strategy" not in got
    assert data["sources"]["expectations"]["mlengineer/6/architecture-design"]["line"] == design_line
    role = docx_text(out / "role-descriptions" / "ml-and-edge-ml-engineer-craft" / "ml-engineer-level-6.docx")
    assert "explain the trade-offs I made." in role
    assert "I understand how my work fits into" not in role
