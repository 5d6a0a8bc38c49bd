"""Review 5: the documents as people see and print them.

Every check reads the written file back (openpyxl, python-docx, pdfplumber, LibreOffice's print),
with expected values taken from the input text, never from cfexport's code.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from conftest import TEMPLATES, need_tool
from factory import small_craft, write_framework

from cfexport.changes.diff import diff
from cfexport.changes.revisions import read_folder
from cfexport.changes.write import render as render_changes
from cfexport.exporters.base import Context

WHEN = datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)


def _templates(tmp: Path, paper: str) -> Path:
    """The shipped templates with the theme's top-level `paper:` set."""
    folder = tmp / f"templates-{paper}"
    if not folder.exists():
        shutil.copytree(TEMPLATES, folder, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
        theme = folder / "theme.yaml"
        text = theme.read_text("utf-8")
        assert re.search(r"^paper: A4$", text, re.M)
        theme.write_text(re.sub(r"^paper: A4$", f"paper: {paper}", text, flags=re.M), "utf-8")
    return folder


def _print(tmp: Path, *files: Path) -> list[Path]:
    """Print office files to PDF through LibreOffice, in one run, as a person's office suite would."""
    soffice = need_tool("soffice")
    out = tmp / "printed"
    out.mkdir(exist_ok=True)
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp}/lo", "--convert-to", "pdf",
                    "--outdir", str(out), *map(str, files)], check=True, capture_output=True, timeout=240)
    return [out / (f.stem + ".pdf") for f in files]


def _printed_words(pdf: Path) -> tuple[list[str], list[float]]:
    """The text of every printed page, and the size of every printed character."""
    import pdfplumber

    with pdfplumber.open(str(pdf)) as doc:
        texts = [page.extract_text() or "" for page in doc.pages]
        sizes = [c["size"] for page in doc.pages for c in page.chars if c["text"].strip()]
    return texts, sizes


# --- changes.xlsx printed ------------------------------------------------------------------------

NEW_STATEMENT = "I deliver work that other teams build on without asking me how it works."


def test_the_printed_changes_workbook_is_legible_on_a4_and_letter(tmp_path):
    """Before: changes.xlsx printed its 15 columns one page wide at a scale of 36 %, the body text
    about 3.6 pt on A4 and Letter: a page of grey specks nobody can read. Now it prints at least
    8 pt, whole columns to a page, the Kind column repeated, and nothing is lost."""
    old = read_folder(write_framework(tmp_path / "old", [small_craft()]), None)
    new = read_folder(write_framework(tmp_path / "new", [small_craft({"Delivery1": [NEW_STATEMENT]})]), None)
    changes = diff(old.framework, new.framework)
    assert changes
    files = []
    for paper in ("A4", "Letter"):
        ctx = Context(_templates(tmp_path, paper).absolute(), WHEN, "2023-11-14")
        made = render_changes(old, new, changes, ("xlsx",), ctx)
        path = tmp_path / f"changes-{paper}.xlsx"
        path.write_bytes(made["changes.xlsx"])
        files.append(path)
    for paper, pdf in zip(("A4", "Letter"), _print(tmp_path, *files)):
        texts, sizes = _printed_words(pdf)
        assert statistics.median(sizes) >= 8.0, (paper, statistics.median(sizes))
        assert min(sizes) >= 8.0, (paper, min(sizes))
        printed = " ".join(" ".join(t.split()) for t in texts)
        # every column heading and the changed statement are printed somewhere
        for heading in ("Kind", "Craft", "Specialism", "Level name", "Area", "Old text", "New text", "Moved from",
                        "Old file", "New file", "Old id", "New id"):
            assert heading in printed, (paper, heading)
        assert " ".join(NEW_STATEMENT.split()[:6]) in printed
        # the Kind column is repeated on every page across
        assert all("Kind" in t for t in texts), paper


# --- the Word footer ------------------------------------------------------------------------------

LONG_CRAFT = "Machine Learning and Edge Machine Learning Engineering Craft"  # 60 characters, a real name


def _words(pdf: Path, page: int = 0) -> list[dict]:
    import pdfplumber

    with pdfplumber.open(str(pdf)) as doc:
        return doc.pages[page].extract_words(), float(doc.pages[page].height)


def test_the_word_footer_keeps_page_x_of_y_on_the_line_of_a_long_craft_name(tmp_path):
    """Before: a craft named "Machine Learning and Edge Machine Learning Engineering Craft" pushed the
    footer's "Page 1 of 2" onto a second line, centred under the craft's name, in every role
    description and promotion case (the footer's left text ran past the centre tab stop, so the second
    tab wrapped). Now "Page X of Y" stays on the footer's one line, right of the craft's name."""
    from cfexport.exporters.role_descriptions import render_role_description
    from cfexport.model import Role
    from cfexport.readers import read_framework

    craft = small_craft()
    craft.title = LONG_CRAFT
    fw = read_framework(write_framework(tmp_path / "fw", [craft])).framework
    c = fw.crafts[0]
    files = []
    for paper in ("A4", "Letter"):
        ctx = Context(_templates(tmp_path, paper).absolute(), WHEN, "2023-11-14")
        path = tmp_path / f"role-{paper}.docx"
        path.write_bytes(render_role_description(fw, Role(c, c.tracks()[0], c.levels[0]), ctx))
        files.append(path)
    for paper, pdf in zip(("A4", "Letter"), _print(tmp_path, *files)):
        words, height = _words(pdf)
        footer = [w for w in words if w["top"] > height * 0.85]
        [page] = [w for w in footer if w["text"] == "Page"]
        last_craft_word = [w for w in footer if w["text"] == LONG_CRAFT.split()[-1]]
        assert last_craft_word, (paper, [w["text"] for w in footer])
        assert abs(page["top"] - last_craft_word[0]["top"]) < 2, (paper, page, last_craft_word[0])
        assert page["x0"] > last_craft_word[0]["x1"], paper


# --- the self-assessment: a statement too long for Excel's tallest row ------------------------------

LONG_WORDS = " ".join(f"word{i:04d}" for i in range(260))  # about 2,340 characters


def test_a_statement_too_long_for_the_self_assessment_row_is_a_warning_at_its_line(tmp_path):
    """Before: a 2,340-character statement printed only up to 'word0163' of 'word0259' on the
    self-assessment (the row stops at Excel's 409 points), and the pack was written without a word:
    the person rating it never saw the rest. Now the pack warns at the statement's file and line, as
    the competency matrix does for a cell it cannot show whole."""
    from cfexport.model import Role
    from cfexport.packs.self_assessment import render_self_assessment
    from cfexport.readers import read_framework

    fw = read_framework(write_framework(tmp_path / "fw", [small_craft({"Delivery2": [LONG_WORDS]})])).framework
    c = fw.crafts[0]
    track = c.tracks()[0]
    ctx = Context(TEMPLATES, WHEN, "2023-11-14")
    data = render_self_assessment(fw, Role(c, track, c.levels[0]), Role(c, track, c.levels[1]), "Zoë Brontë",
                                  None, ctx)
    import io

    import openpyxl

    ws = openpyxl.load_workbook(io.BytesIO(data))["Self-assessment"]
    [cell] = [cl for row in ws.iter_rows() for cl in row if cl.value == LONG_WORDS]  # all the text is in the cell
    warnings = [p for p in ctx.problems if "too long" in p.message and "self-assessment" in p.message]
    assert len(warnings) == 1, [p.message for p in ctx.problems]
    assert warnings[0].source.file.endswith("level2.md")
    page = (tmp_path / "fw" / "test" / "level2.md").read_text("utf-8").splitlines()
    assert "word0259" in page[warnings[0].source.line - 1]
