"""Documents that read well on paper, in A4 and US Letter.

The workbooks are printed through LibreOffice, as a person's office suite would, and the
size of the printed characters is measured (pdfplumber). One conversion per module: every
workbook of every case goes through a single `soffice` run.
"""

from __future__ import annotations

import importlib.util
import io
import re
import shutil
import statistics
import subprocess
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
from conftest import ROOT, TEMPLATES, need_tool
from factory import CraftSpec, LevelSpec, write_framework

from cfexport.exporters.base import Context
from cfexport.exporters.level_cards import MM, render_cards, render_pack_cards
from cfexport.model import Role
from cfexport.readers import read_framework

WHEN = datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
MIN_PRINTED_PT = 8.0


def _bench():
    """benchmarks/bench.py, whose medium framework (8 levels) the measurements reuse."""
    spec = importlib.util.spec_from_file_location("cfexport_bench", ROOT / "benchmarks" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _templates(tmp: Path, paper: str) -> Path:
    """The shipped templates with the theme's top-level `paper:` set."""
    folder = tmp / f"templates-{paper}"
    shutil.copytree(TEMPLATES, folder, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    theme = folder / "theme.yaml"
    text = theme.read_text("utf-8")
    assert re.search(r"^paper: A4$", text, re.M), "the shipped theme sets paper: A4 at the top"
    theme.write_text(re.sub(r"^paper: A4$", f"paper: {paper}", text, flags=re.M), "utf-8")
    return folder


def _context(templates: Path) -> Context:
    return Context(templates=Path(templates).absolute(), build_time=WHEN, version="2023-11-14")


def _roles(framework, specialism_index: int = 0):
    craft = framework.crafts[0]
    spec = craft.tracks()[specialism_index]
    levels = craft.levels
    return craft, Role(craft, spec, levels[0]), Role(craft, spec, levels[1])


@pytest.fixture(scope="module")
def frameworks(tmp_path_factory, shipped):
    medium = _bench().make_framework(tmp_path_factory.mktemp("medium") / "fw", 4)
    result = read_framework(medium)
    assert not result.errors
    return {"shipped": shipped, "medium": result.framework}


@pytest.fixture(scope="module")
def printed(tmp_path_factory, frameworks):
    """The matrix and a self-assessment of each framework on each paper, printed to PDF by
    LibreOffice in one run: {(framework, paper, document): pdf path}."""
    soffice = need_tool("soffice")
    from cfexport.exporters.matrix import XlsxExporter
    from cfexport.packs.self_assessment import render_self_assessment

    tmp = tmp_path_factory.mktemp("printed")
    files = {}
    for paper in ("A4", "Letter"):
        templates = _templates(tmp, paper)
        for name, fw in frameworks.items():
            ctx = _context(templates)
            [doc] = XlsxExporter().plan(fw)
            matrix = tmp / f"{name}-{paper}-matrix.xlsx"
            matrix.write_bytes(XlsxExporter().render(fw, doc, ctx))
            _, current, target = _roles(fw)
            assessment = tmp / f"{name}-{paper}-assessment.xlsx"
            assessment.write_bytes(render_self_assessment(fw, current, target, "Ada Lovelace", "Grace Hopper", ctx))
            files[(name, paper, "matrix")] = matrix
            files[(name, paper, "assessment")] = assessment
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp}/lo", "--convert-to", "pdf",
                    "--outdir", str(tmp), *map(str, files.values())], check=True, capture_output=True, timeout=240)
    return {key: path.with_suffix(".pdf") for key, path in files.items()}


def _char_sizes(pdf: Path, pages: int = 6) -> tuple[list[float], tuple[float, float]]:
    """The size of every printed character of the first `pages` pages (a whole matrix sheet's
    pages: reading the medium matrix's hundred pages would take half a minute), and the page size."""
    import pdfplumber

    with pdfplumber.open(str(pdf), pages=list(range(1, pages + 1))) as doc:
        sizes = [c["size"] for page in doc.pages for c in page.chars if c["text"].strip()]
        box = tuple(float(v) for v in doc.pages[0].mediabox[2:])
    return sizes, box


@pytest.mark.parametrize("paper", ["A4", "Letter"])
@pytest.mark.parametrize("name", ["shipped", "medium"])
@pytest.mark.parametrize("document", ["matrix", "assessment"])
def test_printed_text_is_at_least_8_pt(printed, name, paper, document):
    sizes, (w, h) = _char_sizes(printed[(name, paper, document)])
    assert sizes, "nothing printed"
    assert statistics.median(sizes) >= MIN_PRINTED_PT, (statistics.median(sizes), min(sizes))
    # on the paper asked for, landscape
    want = {"A4": (842, 595), "Letter": (792, 612)}[paper]
    assert (round(w), round(h)) == want


def test_the_printed_self_assessment_is_one_page_wide_with_room_to_write(printed):
    import pdfplumber

    with pdfplumber.open(str(printed[("shipped", "A4", "assessment")])) as doc:
        texts = [page.extract_text() or "" for page in doc.pages]
    # every column header of the form on the first page (no column pushed onto a page of its own)
    for header in ("Statement", "Self rating", "Manager rating", "Evidence", "Notes"):
        assert header in texts[0]
    assert not re.search(r"^\d+I ", texts[0], re.M)  # the number never runs into the statement


# --- the self-assessment on screen -------------------------------------------------------------


@pytest.fixture(scope="module")
def assessment(frameworks):
    from cfexport.packs.self_assessment import render_self_assessment

    _, current, target = _roles(frameworks["shipped"])
    return render_self_assessment(frameworks["shipped"], current, target, "Ada Lovelace", "Grace Hopper",
                                  _context(TEMPLATES))


def test_the_self_assessment_protects_what_is_not_filled_in(assessment):
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(assessment))
    ws = wb["Self-assessment"]
    assert ws.protection.sheet and not ws.protection.password
    header = next(r[0].row for r in ws.iter_rows() if r[0].value == "Area" and r[2].value == "Statement")
    assert [c.value for c in ws[header]] == ["Area", "No.", "Statement", "New at this level?", "Self rating",
                                             "Manager rating", "Evidence", "Notes"]
    rated = [r for r in ws.iter_rows(min_row=header + 1) if isinstance(r[1].value, int)]
    assert rated
    for r in rated:
        assert all(c.protection.locked for c in r[:4])  # area, number, statement, new?
        assert not any(c.protection.locked for c in r[4:8])  # ratings, evidence, notes
        assert ws.row_dimensions[r[0].row].height >= 20 * 72 / 25.4  # room to write by hand
    assert wb["Summary"].protection.sheet


def test_the_summary_formulas_carry_values_for_previews_that_do_not_calculate(assessment):
    with zipfile.ZipFile(io.BytesIO(assessment)) as z:
        names = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        summary = z.read(sorted(names)[-1]).decode("utf-8")
    formulas = re.findall(r"<c [^>]*><f>[^<]*</f>(<v>[^<]*</v>|<v\s*/>)?", summary)
    assert formulas and all(v.startswith("<v>") and v != "<v></v>" for v in formulas)
    # the total of statements is cached as the number of statements rated on the first sheet
    assert "<v>10</v>" in summary


# --- level cards -----------------------------------------------------------------------------------


def test_card_text_comes_out_card_by_card_in_reading_order(shipped):
    from pypdf import PdfReader

    craft = shipped.crafts[0]
    roles = list(craft.roles())
    data = render_cards(shipped, roles, _context(TEMPLATES), "cards")
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(data)).pages)
    at = 0
    for role in roles:  # one card per role in the shipped framework, in order
        at = text.index(role.title, at)
        for area in role.areas():
            for s in area.statements:
                at = text.index(" ".join(s.text.split())[:40], at)  # the next statement, after the last one


def test_card_pdfs_say_their_language_and_show_their_title(shipped):
    from pypdf import PdfReader

    craft = shipped.crafts[0]
    reader = PdfReader(io.BytesIO(render_cards(shipped, list(craft.roles()), _context(TEMPLATES), "Level cards")))
    assert reader.trailer["/Root"]["/Lang"] == "en-GB"
    assert reader.trailer["/Root"]["/ViewerPreferences"]["/DisplayDocTitle"]
    assert reader.metadata.title == "Level cards"


def _long_statement_framework(root: Path, before: int) -> tuple[Path, str]:
    """A level whose card holds `before` ordinary statements and then one of 300 characters."""
    long = ("I lead the review of our delivery practice across several teams, write down what we learn, "
            "agree with the teams which changes to try first, measure whether they help, and report the "
            "results to the leadership group each quarter so that the whole organisation can improve.")
    long = (long + " " + "And more. " * 10)[:300].rstrip()
    assert len(long) >= 290
    statements = [f"I do ordinary thing number {i} well, reliably and on time." for i in range(before)]
    areas = [(None, "Delivery", "Shipping work."), (None, "Practice", "How we work.")]
    level = LevelSpec(1, "One", {None: [("Delivery", statements), ("Practice", [long])]})
    return write_framework(root, [CraftSpec("Test Craft", "test", areas, [level])]), long


def test_a_300_character_statement_is_never_split_across_cards(tmp_path):
    from pypdf import PdfReader

    import yaml

    templates = tmp_path / "one"
    shutil.copytree(TEMPLATES, templates, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    theme = templates / "theme.yaml"
    # one card per page, at the theme's size only, so that the statement lands near a card's end
    data = yaml.safe_load(theme.read_text("utf-8"))
    data["pdf"].update(page_size="card", cards_per_sheet=[1, 1], cut_marks=False,
                       min_font_size=data["pdf"]["font_size"])
    theme.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    lands = set()
    for before in range(14, 34, 2):
        fw_path, long = _long_statement_framework(tmp_path / f"fw{before}", before)
        fw = read_framework(fw_path).framework
        craft = fw.crafts[0]
        data = render_cards(fw, list(craft.roles()), _context(templates), "cards")
        pages = [" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(data)).pages]
        whole = " ".join(long.split())
        holding = [i for i, t in enumerate(pages) if whole in t]
        assert len(holding) == 1, (before, pages)  # whole, on one card
        lands.add(holding[0])
    assert lands == {0, 1}  # the cases cover a statement that fits and one that moves to the next card


def test_cards_of_one_pdf_share_one_type_size(shipped):
    import pdfplumber

    craft = shipped.crafts[0]
    data = render_cards(shipped, list(craft.roles()), _context(TEMPLATES), "cards")
    modes = []
    with pdfplumber.open(io.BytesIO(data)) as doc:
        for page in doc.pages:
            for x0, x1 in ((0, page.width / 2), (page.width / 2, page.width)):
                for top, bottom in ((0, page.height / 2), (page.height / 2, page.height)):
                    sizes = [round(c["size"], 2) for c in page.chars if x0 <= c["x0"] < x1 and top <= c["top"] < bottom]
                    if sizes:
                        modes.append(statistics.mode(sizes))
    assert len(modes) == len(list(craft.roles())) and len(set(modes)) == 1, modes


def test_not_yet_defined_shading_stays_inside_the_card_text_width(shipped):
    import pdfplumber

    from cfexport.exporters.card_settings import _setup
    from cfexport.exporters.level_cards import _slots

    s = _setup(TEMPLATES).settings
    craft = shipped.crafts[0]
    data = render_cards(shipped, list(craft.roles()), _context(TEMPLATES), "cards")
    with pdfplumber.open(io.BytesIO(data)) as doc:
        for page in doc.pages:
            yellow = [r for r in page.rects if r.get("non_stroking_color") and
                      tuple(round(v, 2) for v in r["non_stroking_color"]) == (1.0, 0.95, 0.8)]
            assert yellow or page.page_number > 1
            for r in yellow:
                assert any(x + s.margin - 0.01 <= r["x0"] and r["x1"] <= x + s.card[0] - s.margin + 0.01
                           for x, _ in _slots(s)), r


def test_a_pack_prints_both_levels_on_one_sheet_and_marks_what_is_new(shipped):
    from pypdf import PdfReader

    _, current, target = _roles(shipped)
    reader = PdfReader(io.BytesIO(render_pack_cards(shipped, current, target, _context(TEMPLATES))))
    assert len(reader.pages) == 1
    w, h = (float(v) for v in reader.pages[0].mediabox[2:])
    assert (round(w), round(h)) == (842, 595)  # A4 landscape: two A5 cards
    text = " ".join(reader.pages[0].extract_text().split())
    assert "New: I design components of ML systems with guidance" in text
    first, second = text.index(current.title), text.index(target.title)
    assert first < second and text.count("New:") >= 3 and "New:" not in text[:second]


# --- one paper setting for every format -------------------------------------------------------------


def test_paper_letter_gives_letter_pages_in_every_format(tmp_path, shipped):
    import docx
    import openpyxl
    from pypdf import PdfReader

    from cfexport.exporters.role_descriptions import render_role_description
    from cfexport.packs.promotion_case import render_promotion_case
    from cfexport.exporters.matrix import XlsxExporter

    templates = _templates(tmp_path, "Letter")
    ctx = _context(templates)
    craft, current, target = _roles(shipped)
    for data in (render_role_description(shipped, current, ctx),
                 render_promotion_case(shipped, current, target, "Ada", "Grace", ctx)):
        section = docx.Document(io.BytesIO(data)).sections[0]
        assert (section.page_width.inches, section.page_height.inches) == (8.5, 11)
        assert section.left_margin.inches >= 0.5
    [doc] = XlsxExporter().plan(shipped)
    wb = openpyxl.load_workbook(io.BytesIO(XlsxExporter().render(shipped, doc, ctx)))
    assert {int(ws.page_setup.paperSize) for ws in wb} == {1}  # Letter
    cards = PdfReader(io.BytesIO(render_cards(shipped, list(craft.roles()), ctx, "cards")))
    assert all((round(float(p.mediabox[2])), round(float(p.mediabox[3]))) == (612, 792) for p in cards.pages)
    from cfexport.exporters.card_settings import _setup

    s = _setup(templates).settings
    assert (round(s.card[0] / MM, 1), round(s.card[1] / MM, 1)) == (108.0, 139.7)  # a quarter of the sheet
    pack = PdfReader(io.BytesIO(render_pack_cards(shipped, current, target, ctx)))
    assert (round(float(pack.pages[0].mediabox[2])), round(float(pack.pages[0].mediabox[3]))) == (792, 612)


def test_a4_is_the_default_and_a_section_can_override_the_paper(tmp_path, shipped):
    import docx

    from cfexport.exporters.role_descriptions import render_role_description

    _, current, _ = _roles(shipped)
    section = docx.Document(io.BytesIO(render_role_description(shipped, current, _context(TEMPLATES)))).sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    templates = _templates(tmp_path, "Letter")
    theme = templates / "theme.yaml"
    theme.write_text(theme.read_text("utf-8").replace("docx:\n", "docx:\n  page: A4\n", 1), "utf-8")
    section = docx.Document(io.BytesIO(render_role_description(shipped, current, _context(templates)))).sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)


def test_an_unknown_paper_is_an_error_naming_the_key(tmp_path, shipped):
    from cfexport.exporters.base import ExportError
    from cfexport.exporters.role_descriptions import render_role_description

    templates = _templates(tmp_path, "Legal")
    _, current, _ = _roles(shipped)
    with pytest.raises(ExportError, match="paper must be A4 or Letter, not 'Legal'"):
        render_role_description(shipped, current, _context(templates))
