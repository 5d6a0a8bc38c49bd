"""The `pdf` exporter: printable level cards, read back with pypdf, pdftotext, pdffonts and qpdf."""

from __future__ import annotations

import io
import os
import pickle
import re
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml
from conftest import FRAMEWORK, TEMPLATES, need_tool
from factory import CraftSpec, LevelSpec, small_craft, write_framework
from pypdf import PdfReader

from cfexport import build as builder
from cfexport.exporters.base import Context, ExportError
from cfexport.exporters.level_cards import MM, NO_EXPECTATIONS, NOT_DEFINED, PdfExporter, paginate, render_cards
from cfexport.readers import read_framework

WHEN = datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)


# --- helpers ------------------------------------------------------------------------------


def norm(text: str) -> str:
    """White space as one space: PDF text extraction rewraps lines."""
    return " ".join(text.split())


def templates_with(tmp_path: Path, **pdf) -> Path:
    """A copy of the shipped templates whose theme has `pdf` settings changed."""
    folder = tmp_path / "templates"
    folder.mkdir()
    shutil.copytree(TEMPLATES / "fonts", folder / "fonts")
    theme = yaml.safe_load((TEMPLATES / "theme.yaml").read_text("utf-8"))
    theme["pdf"] = {**(theme.get("pdf") or {}), **pdf}
    (folder / "theme.yaml").write_text(yaml.safe_dump(theme, allow_unicode=True), "utf-8")
    return folder


ONE_PER_PAGE = {"page_size": "card", "cards_per_sheet": [1, 1], "cut_marks": False}


def context(templates: Path = TEMPLATES) -> Context:
    return Context(templates=Path(templates).absolute(), build_time=WHEN, version="2023-11-14")


def render(framework, templates: Path = TEMPLATES) -> tuple[list[bytes], Context]:
    """Every document the exporter plans, rendered."""
    ctx = context(templates)
    exporter = PdfExporter()
    return [exporter.render(framework, doc, ctx) for doc in exporter.plan(framework)], ctx


def read(path: Path):
    result = read_framework(path)
    assert not result.errors, result.errors
    return result.framework


def page_texts(data: bytes) -> list[str]:
    return [p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages]


def outline(data: bytes) -> list[tuple[int, str, int]]:
    """(depth, title, page index) of every bookmark, in order."""
    reader = PdfReader(io.BytesIO(data))
    out = []

    def walk(items, depth):
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                out.append((depth, item.title, reader.get_destination_page_number(item)))

    walk(reader.outline, 0)
    return out


def role_pages(data: bytes) -> dict[str, str]:
    """With one card per page: each role's title -> the text of all its cards."""
    texts = page_texts(data)
    starts = sorted((page, title) for depth, title, page in outline(data) if depth == 1)
    bounds = [p for p, _ in starts] + [len(texts)]
    return {title: "\n".join(texts[bounds[i]:bounds[i + 1]]) for i, (_, title) in enumerate(starts)}


# --- the plan and the shipped framework ---------------------------------------------------


def test_plan_is_one_pdf_per_craft_and_the_exporter_pickles(shipped):
    exporter = PdfExporter()
    docs = exporter.plan(shipped)
    assert [(d.path, d.suffix, d.craft, d.specialism, d.level) for d in docs] == [
        (("level-cards", c.title), ".pdf", c.title, None, None) for c in shipped.crafts]
    pickle.loads(pickle.dumps(exporter))
    pickle.loads(pickle.dumps(docs))


def test_every_statement_of_every_role_is_on_that_roles_cards(shipped, tmp_path):
    [data], ctx = render(shipped, templates_with(tmp_path, **ONE_PER_PAGE))
    cards = role_pages(data)
    roles = list(shipped.roles())
    assert sorted(cards) == sorted(r.title for r in roles)
    for role in roles:
        text = norm(cards[role.title])
        assert role.level.label in text and role.craft.title in text
        for area in role.areas():
            assert norm(area.area_title) in text, (role.title, area.area_title)
            for st in area.statements:
                assert norm(st.text) in text, (role.title, st.text)
        # another specialism's statements are not on this role's cards
        for other in roles:
            if other.level == role.level and other.specialism != role.specialism:
                for exp in other.expectations():
                    if exp.specialism == other.specialism:
                        for st in exp.statements:
                            assert norm(st.text) not in text, (role.title, st.text)
        assert text.count(NOT_DEFINED) == sum(1 for a in role.areas() if a.todo)
    # the shipped levels fit one card each (no "1 of 2")
    assert not re.search(r"\d+ of \d+", "".join(cards.values()))


def test_default_sheet_holds_every_statement_and_checks_with_qpdf_and_pdffonts(shipped, tmp_path):
    [data], _ = render(shipped)
    reader = PdfReader(io.BytesIO(data))
    roles = list(shipped.roles())
    assert len(reader.pages) == -(-len(roles) // 4)  # four A6 cards to an A4 sheet
    w, h = (float(v) for v in reader.pages[0].mediabox[2:])
    assert (round(w / MM), round(h / MM)) == (210, 297)
    text = norm("\n".join(page_texts(data)))
    for st in shipped.statements():
        assert norm(st.text) in text, st.text

    path = tmp_path / "cards.pdf"
    path.write_bytes(data)
    qpdf = subprocess.run([need_tool("qpdf"), "--check", str(path)], capture_output=True, text=True)
    assert qpdf.returncode == 0, qpdf.stdout + qpdf.stderr
    fonts = subprocess.run([need_tool("pdffonts"), str(path)], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows, fonts
    for row in rows:  # name type encoding emb sub uni object ID
        assert row.split()[-5] == "yes", f"font not embedded: {row}"
    assert any("DejaVuSans" in r for r in rows) and any("DejaVuSans-Bold" in r for r in rows)


def test_pdftotext_reads_the_cards_too(shipped, tmp_path):
    """A second, independent extractor (poppler), one card per page."""
    [data], _ = render(shipped, templates_with(tmp_path, **ONE_PER_PAGE))
    path = tmp_path / "cards.pdf"
    path.write_bytes(data)
    text = subprocess.run([need_tool("pdftotext"), str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    text = norm(text)
    for st in shipped.statements():
        assert norm(st.text) in text, st.text


def test_metadata_and_outline_per_level_and_role(shipped):
    [data], _ = render(shipped)
    meta = PdfReader(io.BytesIO(data)).metadata
    craft = shipped.crafts[0]
    assert meta.title == f"Level cards: {craft.title}"
    assert meta.author == shipped.title
    assert shipped.title in meta.subject and craft.title in meta.subject
    assert meta.creator == "cfexport"
    assert meta["/CreationDate"].startswith("D:20231114221320")

    marks = outline(data)
    levels = [t for d, t, _ in marks if d == 0]
    assert levels == [lv.label for lv in craft.levels]
    for lv in craft.levels:
        i = next(i for i, (d, t, _) in enumerate(marks) if d == 0 and t == lv.label)
        children = []
        for d, t, _ in marks[i + 1:]:
            if d == 0:
                break
            children.append(t)
        assert children == [r.title for r in craft.roles() if r.level == lv]


def test_a_level_that_leaves_an_area_out_says_so(tmp_path):
    areas = [(None, "Delivery", "d"), (None, "Left out", "d")]
    levels = [LevelSpec(1, "One", {None: [("Delivery", ["I deliver."])]})]
    fw = read(write_framework(tmp_path / "fw", [CraftSpec("Plain Craft", "plain", areas, levels)]))
    [data], _ = render(fw)
    text = norm("\n".join(page_texts(data)))
    assert "Left out" in text and NO_EXPECTATIONS in text and "I deliver." in text


# --- hostile text ------------------------------------------------------------------------------


HOSTILE = [
    "AT&T and R&D <b>not bold</b> </para> <br> <br/> x < y > z",
    "&nbsp; &amp; &bogus; &#169; <font color=\"red\">plain</font>",
    "<img src=\"/etc/passwd\"/> <a href=\"javascript:alert(1)\">link</a> <unknown>tag</unknown>",
    "=1+2 +SUM(A1) -3 @cmd",
    "Ελληνικά κείμενο και Кириллица тоже",
    "“Typographic” ‘quotes’ – en — em … € Zoë façade",
    "Emoji 😀 beyond the BMP",
]


def test_markup_entities_and_scripts_print_literally(tmp_path):
    craft = small_craft({"Delivery1": HOSTILE})
    fw = read(write_framework(tmp_path / "fw", [craft]))
    [data], ctx = render(fw)
    text = norm("\n".join(page_texts(data)))
    for s in HOSTILE:
        assert norm(s) in text, s
    # nothing the text says was interpreted: no image embedded, no link made
    reader = PdfReader(io.BytesIO(data))
    for page in reader.pages:
        assert "/Annots" not in page
        xobjects = page["/Resources"].get("/XObject", {})
        assert not [x for x in xobjects.values() if x.get_object().get("/Subtype") == "/Image"]
    assert not [p for p in ctx.problems if "cannot be printed" in p.message]


def test_cards_are_never_hyphenated_and_invisible_characters_stay_invisible(tmp_path):
    soft = "\u00ad".join(["abcdefghij"] * 40)  # soft hyphens pasted from Word, in a word wider than a card
    craft = small_craft({"Delivery1": [soft, "zero\u200bwidth space", "no\u00a0break space"]})
    fw = read(write_framework(tmp_path / "fw", [craft]))
    [data], _ = render(fw)
    text = "\n".join(page_texts(data))
    assert "abcdefghij" * 40 in re.sub(r"\s+", "", text) and "-" not in text.replace("2023-11-14", "")
    assert "zerowidth space" in norm(text) and "no break space" in norm(text)


def test_a_character_the_font_cannot_draw_is_a_warning_naming_file_and_line(tmp_path):
    statement = "Writes 中文 documentation"
    craft = small_craft({"Delivery1": ["plain", statement]})
    fw = read(write_framework(tmp_path / "fw", [craft]))
    [source] = [s.source for s in fw.statements() if s.text == statement]
    [data], ctx = render(fw)
    warnings = [p for p in ctx.problems if "cannot be printed" in p.message]
    # the statement is shared by two specialisms' cards: one warning all the same
    assert len(warnings) == 1, warnings
    [w] = warnings
    assert w.source == source and str(w.source) == "test/level1.md:16"
    assert "U+4E2D" in w.message and "U+6587" in w.message and "DejaVu Sans" in w.message
    assert "Writes" in norm("\n".join(page_texts(data)))  # the rest of the statement is printed


def test_right_to_left_text_is_a_warning(tmp_path):
    craft = small_craft({"Delivery1": ["عربية text"]})
    fw = read(write_framework(tmp_path / "fw", [craft]))
    _, ctx = render(fw)
    assert [p for p in ctx.problems if "right-to-left" in p.message and p.source.file == "test/level1.md"]


# --- long levels: continuation cards, never truncated ------------------------------------------


def long_framework(tmp_path: Path):
    long_statements = [f"s{j:02d} " + " ".join(f"s{j:02d}w{i:03d}" for i in range(60)) for j in range(40)]
    huge = " ".join(f"h{i:04d}" for i in range(5000))
    craft = small_craft({"Delivery2": long_statements + [huge]})
    return read(write_framework(tmp_path / "fw", [craft])), long_statements + [huge]


def test_a_very_long_level_continues_over_numbered_cards_with_nothing_lost(tmp_path):
    fw, statements = long_framework(tmp_path)
    [data], ctx = render(fw)
    text = "\n".join(page_texts(data))
    first: dict[str, int] = {}
    for i, token in enumerate(text.split()):
        first.setdefault(token, i)
    words = [w for s in statements for w in s.split()]
    # every word of every statement, in order (other cards' text may sit in between);
    # the statements are shared by two roles' cards: follow the first role's occurrence
    assert all(w in first for w in words)
    found = [first[w] for w in words]
    assert found == sorted(found)
    # the roles at level 2 run over many cards, each marked "n of m"
    marks = re.findall(r"(\d+) of (\d+)", text)
    totals = {int(m) for _, m in marks}
    assert len(totals) == 1 and (total := totals.pop()) >= 10
    assert [int(n) for n, _ in marks] == list(range(1, total + 1)) * 2  # two specialisms at level 2
    assert "Delivery (continued)" in norm(text)
    assert not [p for p in ctx.problems if "smaller" in p.message]


def test_one_card_per_page_is_a_setting_and_pages_are_cards(tmp_path):
    fw, _ = long_framework(tmp_path)
    [data], _ = render(fw, templates_with(tmp_path, **ONE_PER_PAGE))
    reader = PdfReader(io.BytesIO(data))
    for page in reader.pages:
        w, h = (float(v) for v in page.mediabox[2:])
        assert (round(w / MM), round(h / MM)) == (105, 148)  # A6: the page is the card
    texts = page_texts(data)
    totals = [int(m.group(2)) for t in texts for m in [re.search(r"(\d+) of (\d+)", t)] if m]
    cards_of_level_1 = 2  # two specialisms, one card each
    assert len(reader.pages) == cards_of_level_1 + len(totals)
    assert totals and all(t == totals[0] for t in totals) and len(totals) == 2 * totals[0]


def test_a_paragraph_that_cannot_split_is_never_lost():
    from reportlab.platypus import Paragraph, Spacer

    from cfexport.exporters.card_settings import _setup
    from cfexport.exporters.level_cards import Item

    style = _setup(TEMPLATES).styles["body"]
    words = [f"w{i:03d}" for i in range(200)]
    para = Paragraph(" ".join(words), style)
    # a frame of 1.5 lines: a paragraph may not normally leave one line alone, here it must
    frames = paginate([Item(para)], 150, style.leading * 1.5)
    assert len(frames) > 10 and all(len(f) == 1 for f in frames)
    assert draw(frames, 150, style.leading * 1.5).split() == words

    # a frame lower than one line, and a flowable that cannot split: printed smaller, with a warning
    shrunk = []
    frames = paginate([Item(Paragraph("one two three", style)), Item(Spacer(10, 500))], 150, style.leading * 0.5,
                      on_shrink=shrunk.append)
    assert len(frames) == 2 and len(shrunk) == 2
    assert frames[0][0].flowable.__class__.__name__ == "KeepInFrame"
    assert draw(frames, 150, style.leading * 0.5).split() == ["one", "two", "three"]


def draw(frames, width: float, height: float) -> str:
    """Frames drawn one to a page, as the cards do; the text read back."""
    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    canv = Canvas(buf, pagesize=(width + 20, height + 20))
    for frame in frames:
        for placed in frame:
            placed.flowable.drawOn(canv, 10, 10 + height - placed.top - placed.height)
        canv.showPage()
    canv.save()
    return "\n".join(page_texts(buf.getvalue()))


# --- reproducible, QR codes, cut marks --------------------------------------------------------


def test_two_builds_with_the_same_source_date_epoch_are_identical(tmp_path):
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    outs = []
    for n in (1, 2):
        out = tmp_path / f"out{n}"
        subprocess.run([sys.executable, "-m", "cfexport", "build", "--format", "pdf", "--out", str(out),
                        "--framework", str(FRAMEWORK), "--templates", str(TEMPLATES)],
                       check=True, env=env, capture_output=True)
        outs.append(sorted(out.rglob("*.pdf")))
    assert [p.name for p in outs[0]] == ["ml-and-edge-ml-engineer-craft.pdf"]
    assert [p.read_bytes() for p in outs[0]] == [p.read_bytes() for p in outs[1]]
    meta = PdfReader(outs[0][0]).metadata
    assert meta["/CreationDate"].startswith("D:20231114221320")  # 1700000000


def test_qr_code_and_link_to_the_level_page_when_base_url_is_set(shipped, tmp_path):
    templates = templates_with(tmp_path, base_url="https://careers.example.com/")
    [data], ctx = render(shipped, templates)
    reader = PdfReader(io.BytesIO(data))
    links = []
    for page in reader.pages:
        forms = [k for k in page["/Resources"]["/XObject"] if k.startswith("/FormXob.cfqr")]
        assert forms, "no QR code drawn on the sheet"
        links += [a.get_object()["/A"]["/URI"] for a in page.get("/Annots", [])]
    assert links == [f"https://careers.example.com{r.level.permalink}" for r in shipped.roles()]
    assert not ctx.problems

    [plain], _ = render(shipped)
    assert all("/Annots" not in p for p in PdfReader(io.BytesIO(plain)).pages)


def test_a_level_without_permalink_gets_no_qr_code_and_a_warning(tmp_path):
    root = write_framework(tmp_path / "fw", [small_craft()])
    page = root / "test" / "level1.md"
    page.write_text(page.read_text("utf-8").replace("permalink: /framework/test/level1\n", ""), "utf-8")
    fw = read(root)
    [data], ctx = render(fw, templates_with(tmp_path, base_url="https://careers.example.com"))
    assert [p.source.file for p in ctx.problems if "permalink" in p.message] == ["test/level1.md"]
    uris = [a.get_object()["/A"]["/URI"] for p in PdfReader(io.BytesIO(data)).pages for a in p.get("/Annots", [])]
    assert uris and all(u.endswith("/framework/test/level2") for u in uris)


def test_cut_marks_are_printed_and_can_be_turned_off(shipped, tmp_path):
    need_tool("pdftoppm")
    from PIL import Image

    def centre_darkness(templates: Path) -> int:
        [data], _ = render(shipped, templates)
        pdf = tmp_path / f"{templates.parent.name}.pdf"
        pdf.write_bytes(data)
        subprocess.run(["pdftoppm", "-png", "-r", "72", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                        str(pdf.with_suffix(""))], check=True)
        img = Image.open(pdf.with_suffix(".png")).convert("L")
        w, h = img.size  # where four cards meet, and the middle of the top edge
        return min(img.getpixel((x, y)) for x in range(w // 2 - 3, w // 2 + 4)
                   for y in list(range(h // 2 - 3, h // 2 + 4)) + list(range(12, 20)))

    (tmp_path / "on").mkdir()
    (tmp_path / "off").mkdir()
    assert centre_darkness(templates_with(tmp_path / "on")) < 160
    assert centre_darkness(templates_with(tmp_path / "off", cut_marks=False)) > 250


def test_logo_and_card_border_from_the_theme(shipped, tmp_path):
    from PIL import Image

    folder = templates_with(tmp_path, logo="logo.png", colours={"border": "CCCCCC"})
    Image.new("RGB", (60, 20), (31, 58, 95)).save(folder / "logo.png")
    [data], _ = render(shipped, folder)
    xobjects = PdfReader(io.BytesIO(data)).pages[0]["/Resources"]["/XObject"]
    assert [x for x in xobjects.values() if x.get_object().get("/Subtype") == "/Image"]


@pytest.mark.parametrize("settings, message", [
    ({"card_size": "A9"}, "card_size: 'A9' is not a size"),
    ({"cards_per_sheet": [3, 3]}, "larger than the 210 x 297 mm page"),
    ({"page_size": "letter"}, "larger than the 216 x 279 mm page"),
    ({"colours": {"band": "navy"}}, "band: 'navy' is not a colour"),
    ({"fonts": {"regular": "../../theme.yaml"}}, "must be a file inside"),
    ({"fonts": {"regular": "Missing.ttf"}}, "does not exist"),
    ({"logo": "../../../etc/hostname"}, "must be a file inside"),
    ({"base_url": "javascript:alert(1)"}, "must be a web address"),
    ({"font_size": 30, "card_size": "A7"}, "for the text of"),
])
def test_theme_mistakes_are_errors_naming_the_theme_file(shipped, tmp_path, settings, message):
    templates = templates_with(tmp_path, **settings)
    with pytest.raises(ExportError) as err:
        render(shipped, templates)
    assert str(templates / "theme.yaml") in str(err.value) and message in str(err.value)


def test_a_font_file_that_is_not_truetype_is_an_error_naming_it(shipped, tmp_path):
    templates = templates_with(tmp_path, fonts={"regular": "Broken.ttf", "bold": "DejaVuSans-Bold.ttf"})
    (templates / "fonts" / "Broken.ttf").write_bytes(b"not a font")
    with pytest.raises(ExportError) as err:
        render(shipped, templates)
    assert "Broken.ttf" in str(err.value) and "TrueType" in str(err.value)


def test_render_cards_prints_the_roles_given_for_a_promotion_pack(shipped):
    craft = shipped.crafts[0]
    current, target = [r for r in craft.roles() if r.specialism == "ML Engineer" and r.level.number in (5, 6)]
    data = render_cards(shipped, [current, target], context(), "Promotion: level 5 to 6")
    text = norm("\n".join(page_texts(data)))
    for role in (current, target):
        assert role.title in text
        for st in role.level.expectations:
            if st.specialism in (None, "ML Engineer"):
                for s in st.statements:
                    assert norm(s.text) in text
    assert [t for d, t, _ in outline(data)] == [current.level.label, current.title, target.level.label, target.title]
    assert PdfReader(io.BytesIO(data)).metadata.title == "Promotion: level 5 to 6"
    with pytest.raises(ExportError):
        render_cards(shipped, [], context(), "nothing")


def test_the_build_writes_the_cards_into_the_manifest(shipped, tmp_path):
    out = tmp_path / "out"
    entries, problems = builder.build(shipped, out, [PdfExporter()], TEMPLATES, WHEN, jobs=1)
    assert [(e["path"], e["exporter"], e["craft"], e["specialism"], e["level"]) for e in entries] == [
        ("level-cards/ml-and-edge-ml-engineer-craft.pdf", "pdf", shipped.crafts[0].title, None, None)]
    assert PdfReader(out / entries[0]["path"]).pages
    assert not problems
