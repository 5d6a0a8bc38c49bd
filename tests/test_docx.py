"""Word role descriptions and promotion cases, built for real and read back with python-docx
(and once through LibreOffice)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from conftest import FRAMEWORK, ROOT, TEMPLATES, need_tool
from docx.oxml.ns import qn
from docx.shared import RGBColor
from factory import TODO, CraftSpec, LevelSpec, small_craft, write_framework
from readback import docx_text, squash

from cfexport import build as builder
from cfexport.cli import main
from cfexport.compare import compare, next_role
from cfexport.exporters.base import Context, ExportError
from cfexport.exporters.role_descriptions import DocxExporter, find_role
from cfexport.exporters.word_template import STYLES
from cfexport.packs.promotion_case import render_promotion_case
from cfexport.readers import read_framework

WHEN = datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)  # SOURCE_DATE_EPOCH=1700000000
NEXT_HEADING = "What changes at the next level"
EXPECTS_HEADING = "What this role expects"


# -- helpers ----------------------------------------------------------------------------------
def context(templates: Path = TEMPLATES) -> Context:
    return Context(templates=Path(templates), build_time=WHEN, version="2023-11-14")


def read(fw_dir: Path):
    result = read_framework(fw_dir)
    assert not result.errors, result.errors
    return result.framework


def render_all(fw, out: Path, templates: Path = TEMPLATES) -> dict[str, Path]:
    """Every role description of `fw`, as the build names them, keyed by role id."""
    exporter = DocxExporter()
    items, _ = builder.plan(fw, [exporter])
    files = {}
    for item in items:
        role = find_role(fw, *item.document.key)
        path = out / item.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(exporter.render(fw, item.document, context(templates)))
        files[role.id] = path
    return files


def blocks(path: Path):
    """The body in order: ("p", style name, text, paragraph) or ("table", None, None, table)."""
    doc = docx.Document(str(path))
    out = []
    for item in doc.iter_inner_content():
        if isinstance(item, docx.table.Table):
            out.append(("table", None, None, item))
        else:
            out.append(("p", item.style.name, item.text, item))
    return doc, out


def section(items, heading: str, level: str = "Heading 1"):
    """The items after the heading `heading` up to the next heading of that level."""
    start = next(i for i, b in enumerate(items) if b[1] == level and b[2] == heading)
    end = next((i for i in range(start + 1, len(items)) if items[i][1] == level), len(items))
    return items[start + 1 : end]


def by_heading(items, level: str = "Heading 2") -> dict[str, list]:
    """Items grouped under each heading of `level` (in order; a repeated title is an error)."""
    groups: dict[str, list] = {}
    current = None
    for b in items:
        if b[1] == level:
            assert b[2] not in groups, f"area {b[2]!r} twice"
            current = groups.setdefault(b[2], [])
        elif current is not None:
            current.append(b)
    return groups


def texts(items, *styles: str) -> list[str]:
    return [b[2] for b in items if b[1] in styles]


def label_and_text(p) -> tuple[str, str]:
    """A marked paragraph: its label run (character style "Change Label") and the rest."""
    runs = p.runs
    assert runs[0].style.name == "Change Label", p.text
    return runs[0].text, "".join(r.text for r in runs[1:])


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """The factory's two-specialism craft, plus a third level that rewords and adds."""
    craft = small_craft()
    craft.levels.append(LevelSpec(3, "Lead", {
        None: [("Delivery", ["I deliver at level 3, across teams.", "I plan the delivery of others."]),
               ("Mentoring", TODO)],
        "Data": [("Analysis", ["I analyse at level 3."])],
        "Platform": [("Infrastructure", ["I run systems at level 3."])],
    }))
    root = tmp_path_factory.mktemp("small")
    fw = read(write_framework(root / "fw", [craft]))
    return fw, render_all(fw, root / "out")


@pytest.fixture(scope="module")
def shipped_docs(shipped, tmp_path_factory):
    return render_all(shipped, tmp_path_factory.mktemp("shipped"))


@pytest.fixture(scope="module")
def ml_case(shipped, tmp_path_factory):
    craft = shipped.crafts[0]
    current, target = find_role(shipped, craft.id, "ML Engineer", 5), find_role(shipped, craft.id, "ML Engineer", 6)
    path = tmp_path_factory.mktemp("case") / "promotion-case.docx"
    path.write_bytes(render_promotion_case(shipped, current, target, "Ada Lovelace", "Grace Hopper", context()))
    return current, target, path


# -- plan ------------------------------------------------------------------------------------------
def test_one_document_per_role_named_and_described_for_the_manifest(shipped):
    items, problems = builder.plan(shipped, [DocxExporter()])
    assert not problems
    craft = shipped.crafts[0]
    assert [i.path for i in items] == [
        f"role-descriptions/ml-and-edge-ml-engineer-craft/{s}-level-{n}.docx"
        for s in ("ml-engineer", "edge-ml-engineer") for n in (5, 6, 7, 8)]
    assert [(i.document.craft, i.document.specialism, i.document.level) for i in items] == [
        (craft.title, s, n) for s in ("ML Engineer", "Edge ML Engineer") for n in (5, 6, 7, 8)]


def test_a_craft_without_specialisms_has_one_document_per_level(tmp_path):
    craft = CraftSpec("Plain Craft", "plain", [(None, "Work", "Doing it.")],
                      [LevelSpec(1, "One", {None: [("Work", ["I work."])]}),
                       LevelSpec(2, "Two", {None: [("Work", ["I work more."])]})])
    fw = read(write_framework(tmp_path / "fw", [craft]))
    items, _ = builder.plan(fw, [DocxExporter()])
    assert [i.path for i in items] == ["role-descriptions/plain-craft/level-1.docx",
                                       "role-descriptions/plain-craft/level-2.docx"]
    assert items[0].document.specialism is None and items[0].document.level == 1
    files = render_all(fw, tmp_path / "out")
    _, items = blocks(files["plain/1"])
    assert items[0][1:3] == ("Title", "One Plain")
    assert texts(by_heading(section(items, EXPECTS_HEADING))["Work"], "List Bullet") == ["I work."]


# -- content ---------------------------------------------------------------------------------------
def _check_expectations(fw, files):
    for role in fw.roles():
        doc, items = blocks(files[role.id])
        assert items[0][1:3] == ("Title", role.title)
        assert role.level.label in items[1][2] and role.craft.title in items[1][2]
        areas = by_heading(section(items, EXPECTS_HEADING))
        assert list(areas) == [a.area_title for a in role.areas()]  # craft page order, this role's only
        for area in role.areas():
            got = areas[area.area_title]
            assert texts(got, "List Bullet") == [s.text for s in area.statements]  # every one, in order
            if area.area is not None and area.area.definition:
                assert texts(got, "Area Definition") == area.area.definition.split("\n\n")
            if area.todo:
                assert texts(got, "Not Yet Defined") == [
                    "Not yet defined: the framework does not describe this area at this level yet."]
        # none of another specialism's areas or statements anywhere (header and footer included)
        everything = "\n".join(b[2] for b in items if b[0] == "p")
        for other in (s for s in role.craft.specialisms if s != role.specialism):
            for e in role.level.expectations:
                if e.specialism == other:
                    assert e.area_title not in everything
                    for s in e.statements:
                        assert s.text not in everything


def test_every_statement_of_each_role_in_order_under_its_area(small):
    fw, files = small
    _check_expectations(fw, files)
    # golden values: the factory's inputs
    _, items = blocks(files["test/data/1"])
    areas = by_heading(section(items, EXPECTS_HEADING))
    assert list(areas) == ["Delivery", "Mentoring", "Analysis"]
    assert texts(areas["Delivery"], "List Bullet") == ["I deliver at level 1."]
    assert texts(areas["Analysis"], "List Bullet") == ["I analyse at level 1."]
    assert texts(areas["Delivery"], "Area Definition") == ["Shipping work."]
    assert "I run systems at level 1." not in "\n".join(b[2] or "" for b in items)


def test_every_statement_of_the_shipped_framework(shipped, shipped_docs):
    _check_expectations(shipped, shipped_docs)


def test_todo_is_visibly_not_yet_defined(small):
    fw, files = small
    doc, items = blocks(files["test/platform/1"])
    mentoring = by_heading(section(items, EXPECTS_HEADING))["Mentoring"]
    [p] = [b[3] for b in mentoring if b[1] == "Not Yet Defined"]
    assert p.text.startswith("Not yet defined")
    assert not texts(mentoring, "List Bullet")
    # the style makes it stand out (shaded) in the shipped template
    shd = doc.styles["Not Yet Defined"].element.find(qn("w:pPr")).find(qn("w:shd"))
    assert shd is not None and shd.get(qn("w:fill")) not in (None, "auto", "FFFFFF")


def test_an_area_the_level_leaves_out_says_so(tmp_path):
    craft = CraftSpec("Gap Craft", "gap", [(None, "Work", "Doing it."), (None, "Care", "Caring.")],
                      [LevelSpec(1, "One", {None: [("Work", ["I work."])]})])
    fw = read(write_framework(tmp_path / "fw", [craft]))
    files = render_all(fw, tmp_path / "out")
    _, items = blocks(files["gap/1"])
    care = by_heading(section(items, EXPECTS_HEADING))["Care"]
    assert texts(care, "Body Text") == ["This level sets no expectations in this area."]


def _check_next_level(fw, files):
    for role in fw.roles():
        nxt = next_role(role)
        _, items = blocks(files[role.id])
        headings = texts(items, "Heading 1")
        if nxt is None:
            assert NEXT_HEADING not in headings  # absent at the top level
            continue
        shown = by_heading(section(items, NEXT_HEADING))
        changes = {c.area_id: c for c in compare(role, nxt)}
        # what the next level's own role description says, area by area
        _, next_items = blocks(files[nxt.id])
        next_page = {k: texts(v, "List Bullet") for k, v in by_heading(section(next_items, EXPECTS_HEADING)).items()}
        current = {s.text for s in (st for a in role.areas() for st in a.statements)}
        for area in nxt.areas():
            new_here = [s.text for s in area.statements if s.text not in current]
            ch = changes[area.area_id]
            if not new_here and not ch.target_todo:
                continue
            got = shown[area.area_title]
            marked = [label_and_text(b[3]) for b in got if b[1] == "New Statement"]
            assert [t for _, t in marked] == [c.statement.text for c in ch.added]
            assert [lab for lab, _ in marked] == [("New: " if c.kind == "new" else "Reworded: ") for c in ch.added]
            assert set(new_here) <= {t for _, t in marked}  # nothing the next level adds is missing
            assert all(t in next_page[area.area_title] for _, t in marked)  # and all of it is on that page
            previous = [b[2] for b in got if b[1] == "Previous Wording"]
            assert previous == ["Previously: " + c.previous.text for c in ch.added if c.kind == "changed"]
            if ch.new_area:
                assert any("New area at" in (b[2] or "") for b in got)
            if ch.target_todo:
                assert texts(got, "Not Yet Defined")
        assert not set(shown) - {a.area_title for a in nxt.areas()} - {a.area_title for a in role.areas()}


def test_next_level_section_matches_the_next_levels_page(small):
    fw, files = small
    _check_next_level(fw, files)
    _, items = blocks(files["test/data/1"])
    shown = by_heading(section(items, NEXT_HEADING))
    assert [label_and_text(b[3]) for b in shown["Delivery"] if b[1] == "New Statement"] == [
        ("Reworded: ", "I deliver at level 2.")]
    assert texts(shown["Delivery"], "Previous Wording") == ["Previously: I deliver at level 1."]
    assert any((b[2] or "").startswith("Now defined at Level 2") for b in shown["Mentoring"])  # TODO at level 1: not a new area
    assert [label_and_text(b[3]) for b in shown["Mentoring"] if b[1] == "New Statement"] == [
        ("New: ", "I mentor at level 2.")]


def test_next_level_section_of_the_shipped_framework(shipped, shipped_docs):
    _check_next_level(shipped, shipped_docs)


def test_every_paragraph_names_a_style_of_the_template(shipped_docs, ml_case):
    allowed = {name.casefold() for name, kind in STYLES.values() if kind == "paragraph"}
    for path in [*shipped_docs.values(), ml_case[2]]:
        doc = docx.Document(str(path))
        ids = {s.style_id: s.name for s in doc.styles}
        paragraphs = list(doc.element.body.iter(qn("w:p")))
        assert paragraphs
        for p in paragraphs:
            ps = p.find(qn("w:pPr") + "/" + qn("w:pStyle"))
            assert ps is not None, docx.text.paragraph.Paragraph(p, None).text
            assert ids[ps.get(qn("w:val"))].casefold() in allowed


def test_header_footer_and_document_properties(shipped, shipped_docs):
    role = find_role(shipped, "mlengineer", "ML Engineer", 5)
    path = shipped_docs[role.id]
    doc = docx.Document(str(path))
    sect = doc.sections[0]
    header = "\n".join(p.text for t in sect.header.tables for c in t._cells for p in c.paragraphs)
    assert "Junior ML Engineer · Level 5" in header and "Vaarst Career Framework" in header
    footer_xml = sect.footer._element.xml
    footer = "".join(p.text for p in sect.footer.paragraphs)
    assert "ML and Edge ML Engineer Craft · 2023-11-14" in footer and "Page " in footer and " of " in footer
    assert "PAGE" in footer_xml and "NUMPAGES" in footer_xml
    assert "{" not in header + footer  # every placeholder filled
    assert sect.header.tables[0].cell(0, 0)._element.xpath(".//pic:pic")  # the logo
    props = doc.core_properties
    assert props.title == "Junior ML Engineer – role description"
    assert props.author == "Vaarst Career Framework"
    assert "Level 5" in props.subject and "ML and Edge ML Engineer Craft" in props.subject
    assert "ML Engineer" in props.keywords and "Level 5" in props.keywords
    assert props.created == props.modified == WHEN
    assert props.identifier == role.id and props.last_modified_by == "cfexport"
    with zipfile.ZipFile(path) as z:
        assert {i.date_time for i in z.infolist()} == {WHEN.timetuple()[:6]}


# -- the styling template ----------------------------------------------------------------------------
def _templates_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "templates"
    shutil.copytree(TEMPLATES, dest, ignore=shutil.ignore_patterns("fonts"))
    return dest


def test_a_restyled_template_changes_the_look_not_the_text(small, tmp_path):
    fw, _ = small
    templates = _templates_copy(tmp_path)
    tpl = docx.Document(str(templates / "role-description.docx"))
    tpl.styles["Normal"].font.name = "Courier New"
    tpl.styles["Heading 2"].font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    tpl.styles["List Bullet"].font.italic = True
    # Word splits typed text into runs (spelling, edits): a placeholder over two runs still works
    [p] = [p for t in tpl.sections[0].header.tables for c in t._cells for p in c.paragraphs if p.text == "{framework}"]
    p.runs[0].text = "{frame"
    p.add_run("work} (restyled)")
    tpl.save(str(templates / "role-description.docx"))
    plain = render_all(fw, tmp_path / "plain")
    styled = render_all(fw, tmp_path / "styled", templates)
    for role_id in plain:
        a, b = blocks(plain[role_id])[1], blocks(styled[role_id])[1]
        assert [x[1:3] for x in a] == [x[1:3] for x in b]
        assert plain[role_id].read_bytes() != styled[role_id].read_bytes()
        out = docx.Document(str(styled[role_id]))
        assert out.styles["Normal"].font.name == "Courier New"
        assert out.styles["Heading 2"].font.color.rgb == RGBColor(0xC0, 0x00, 0x00)
        assert out.styles["List Bullet"].font.italic is True
        header = [p.text for t in out.sections[0].header.tables for c in t._cells for p in c.paragraphs]
        assert "Test Framework (restyled)" in header


def test_a_template_saved_as_dotx_works(small, tmp_path):
    fw, _ = small
    templates = _templates_copy(tmp_path)
    path = templates / "role-description.docx"
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"wordprocessingml.document.main+xml", b"wordprocessingml.template.main+xml")
    with zipfile.ZipFile(path, "w") as z:
        for name, body in parts.items():
            z.writestr(name, body)
    files = render_all(fw, tmp_path / "out", templates)
    assert blocks(files["test/data/1"])[1][0][1:3] == ("Title", "Junior Data")


def test_a_missing_style_names_the_style_and_the_template(small, tmp_path):
    fw, _ = small
    templates = _templates_copy(tmp_path)
    path = templates / "role-description.docx"
    tpl = docx.Document(str(path))
    for name in ("Not Yet Defined", "Evidence Table"):
        el = tpl.styles[name].element
        el.getparent().remove(el)
    tpl.save(str(path))
    with pytest.raises(ExportError) as err:
        render_all(fw, tmp_path / "out", templates)
    message = str(err.value)
    assert str(path) in message
    assert "'Not Yet Defined' (paragraph style)" in message and "'Evidence Table' (table style)" in message
    # and through the CLI: a message, exit 1 (a template problem is input to fix), no traceback, nothing written
    out = tmp_path / "cli-out"
    result = CliRunner().invoke(main, ["build", "--framework", str(FRAMEWORK), "--out", str(out),
                                       "--format", "docx", "--templates", str(templates)])
    assert result.exit_code == 1, result.output
    assert "'Not Yet Defined'" in result.output and "Traceback" not in result.output
    assert not out.exists() or not any(out.rglob("*.docx"))


def test_unknown_placeholders_and_labels_fail_loudly(small, tmp_path):
    fw, _ = small
    templates = _templates_copy(tmp_path)
    path = templates / "role-description.docx"
    tpl = docx.Document(str(path))
    tpl.sections[0].footer.paragraphs[0].add_run(" {verison}")
    tpl.save(str(path))
    with pytest.raises(ExportError, match=r"unknown placeholder \{verison\}"):
        render_all(fw, tmp_path / "a", templates)

    templates = _templates_copy(tmp_path / "b")
    theme = templates / "theme.yaml"
    theme.write_text(theme.read_text(encoding="utf-8").replace("    new: \"New\"", "    nwe: \"New\""),
                     encoding="utf-8")
    # a misspelt label is the theme check's warning (naming the closest label), as every unknown key is;
    # the documents keep the label's own wording
    from cfexport.theme import check_theme

    assert any("unknown key 'docx.labels.nwe'" in p.message and "docx.labels.new" in p.message
               for p in check_theme(templates) if p.severity == "warning")
    render_all(fw, tmp_path / "b-out", templates)

    templates = _templates_copy(tmp_path / "c")
    theme = templates / "theme.yaml"
    theme.write_text(theme.read_text(encoding="utf-8").replace('    new: "New"', '    new: "Ne\\aw"'),
                     encoding="utf-8")
    with pytest.raises(ExportError, match=r"theme.yaml: docx.labels.new: holds the character U\+0007"):
        render_all(fw, tmp_path / "c-out", templates)


def test_labels_and_introduction_come_from_the_templates_folder(small, tmp_path):
    fw, _ = small
    templates = _templates_copy(tmp_path)
    theme = templates / "theme.yaml"
    theme.write_text(theme.read_text(encoding="utf-8").replace(
        'expectations: "What this role expects"', 'expectations: "Erwartungen"'), encoding="utf-8")
    (templates / "role-introduction.txt.j2").write_text(
        "Intro for {{ role }} at {{ level }}.\nSame paragraph.\n\nSecond {{ framework }}.\n", encoding="utf-8")
    files = render_all(fw, tmp_path / "out", templates)
    _, items = blocks(files["test/data/1"])
    assert texts(items[:5], "Body Text") == ["Intro for Junior Data at Level 1 · Junior. Same paragraph.",
                                            "Second Test Framework."]
    assert "Erwartungen" in texts(items, "Heading 1")


def test_the_shipped_template_is_what_the_script_makes():
    spec = importlib.util.spec_from_file_location("make_role_template", ROOT / "tools" / "make_role_template.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    made = module.build(TEMPLATES)
    with zipfile.ZipFile(TEMPLATES / "role-description.docx") as a, zipfile.ZipFile(
            __import__("io").BytesIO(made)) as b:
        assert sorted(a.namelist()) == sorted(b.namelist())
        for name in a.namelist():
            if not name.startswith("word/media/"):  # PNG bytes may vary with the Pillow/zlib version
                assert a.read(name) == b.read(name), name
    doc = docx.Document(str(TEMPLATES / "role-description.docx"))
    names = {(s.name.casefold(), s.type) for s in doc.styles}
    kinds = {"paragraph": 1, "character": 2, "table": 3}
    for name, kind in STYLES.values():
        assert (name.casefold(), kinds[kind]) in names, name


# -- hostile text ------------------------------------------------------------------------------------
HOSTILE = [
    "<b>bold</b> & </para> &amp; <w:t>x</w:t> ]]> <!-- c -->",
    "=SUM(A1:A9)", "+44 20 7946 0000", "-1 minus", "@mention",
    "{{ 7*7 }} {% if x %}y{% endif %} {framework} {title} {person}",
    "Ελληνικά Кириллица 中文 日本語 한국어 😀 👩‍💻 العربية עברית",
    "  spaced   inside  ",
    " ".join(f"word{i}" for i in range(4000)),  # about 35,000 characters
]


def test_hostile_text_is_written_literally(tmp_path):
    areas = [(None, "R&D <Ops> {role}", "Defined <here> & {now}."), (None, "Plain", "Plain area.")]
    craft = CraftSpec("Craft & <Co> {craft}", "hostile", areas, [
        LevelSpec(1, "One", {None: [("R&D <Ops> {role}", HOSTILE), ("Plain", ["plain"])]}),
        LevelSpec(2, "Two", {None: [("R&D <Ops> {role}", HOSTILE + ["=next & <new>"]), ("Plain", ["plain"])]}),
    ])
    fw = read(write_framework(tmp_path / "fw", [craft], title="Framework {version} & <x>"))
    expected = [" ".join(s.split()) for s in HOSTILE]  # the reader folds runs of white space
    assert [s.text for s in fw.crafts[0].level(1).expectations[0].statements] == expected
    files = render_all(fw, tmp_path / "out")
    doc, items = blocks(files["hostile/1"])
    areas = by_heading(section(items, EXPECTS_HEADING))
    assert texts(areas["R&D <Ops> {role}"], "List Bullet") == expected
    assert texts(areas["R&D <Ops> {role}"], "Area Definition") == ["Defined <here> & {now}."]
    shown = by_heading(section(items, NEXT_HEADING))["R&D <Ops> {role}"]
    assert [label_and_text(b[3]) for b in shown if b[1] == "New Statement"] == [("New: ", "=next & <new>")]
    header = "\n".join(p.text for t in doc.sections[0].header.tables for c in t._cells for p in c.paragraphs)
    assert "Framework {version} & <x>" in header  # a value is never read for placeholders
    footer = "".join(p.text for p in doc.sections[0].footer.paragraphs)
    assert footer.startswith("Craft & <Co> {craft} · 2023-11-14")
    assert doc.core_properties.author == "Framework {version} & <x>"


def test_a_person_name_is_written_literally_and_checked(shipped, tmp_path):
    current, target = find_role(shipped, "mlengineer", "ML Engineer", 5), find_role(shipped, "mlengineer",
                                                                                    "ML Engineer", 6)
    name = "Zoë <O'Brien> & {person} 王小明"
    path = tmp_path / "case.docx"
    path.write_bytes(render_promotion_case(shipped, current, target, name, None, context()))
    doc, items = blocks(path)
    assert items[1][1:3] == ("Subtitle", name)
    assert f"Person: {name}" in texts(items, "Cover Detail")
    assert "Manager: not given" in texts(items, "Cover Detail")
    with pytest.raises(ExportError, match="U\\+0007"):
        render_promotion_case(shipped, current, target, "Bell\x07", None, context())
    with pytest.raises(ExportError, match="must be above"):
        render_promotion_case(shipped, target, current, "Ada", None, context())


# -- reproducibility -----------------------------------------------------------------------------------
def test_two_builds_are_byte_identical(tmp_path, monkeypatch):
    from cfexport.repro import build_time

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    fw = read(FRAMEWORK)
    runs = []
    for n, jobs in ((1, 1), (2, 2)):
        out = tmp_path / f"out{n}"
        entries, problems = builder.build(fw, out, [DocxExporter()], TEMPLATES, build_time(), jobs=jobs)
        assert not problems
        runs.append({e["path"]: (out / e["path"]).read_bytes() for e in entries})
    assert runs[0] == runs[1] and len(runs[0]) == 8
    doc = docx.Document(str(tmp_path / "out1" / next(iter(runs[0]))))
    assert doc.core_properties.created == WHEN


# -- promotion case ---------------------------------------------------------------------------------
def test_promotion_case_ml_engineer_5_to_6(ml_case, shipped):
    current, target, path = ml_case
    doc, items = blocks(path)
    assert items[0][1:3] == ("Title", "Promotion case")
    cover = texts(items, "Cover Detail")
    assert cover == ["Person: Ada Lovelace", "Role: ML Engineer · ML and Edge ML Engineer Craft",
                     "Current level: Level 5 · Junior (Junior ML Engineer)",
                     "Target level: Level 6 · Mid-Level (Mid-Level ML Engineer)",
                     "Manager: Grace Hopper", "Date: 2023-11-14"]
    assert texts(section(items, "How to use this pack"), "Body Text")  # from promotion-introduction.txt.j2
    areas = by_heading(section(items, "Expectations and evidence"))
    changes = compare(current, target)
    assert list(areas) == [c.area_title for c in changes]
    for ch in changes:
        parts = by_heading(areas[ch.area_title], "Heading 3")
        # an area's parts look like headings but are body text: the navigation pane lists areas only
        for b in areas[ch.area_title]:
            if b[1] == "Heading 3":
                assert b[3]._p.pPr.find(qn("w:outlineLvl")).get(qn("w:val")) == "9"
        if not ch.target:  # nothing at the target level to gather evidence for: no table
            assert list(parts) == ["What Level 5 · Junior expects", "What Level 6 · Mid-Level expects"]
            assert texts(parts["What Level 6 · Mid-Level expects"], "Body Text") == [
                "No evidence to gather here: Level 6 · Mid-Level does not describe this area yet."]
            continue
        assert list(parts) == ["What Level 5 · Junior expects", "What Level 6 · Mid-Level expects", "Evidence"]
        assert texts(parts["What Level 5 · Junior expects"], "List Bullet") == [s.text for s in ch.current]
        tgt = parts["What Level 6 · Mid-Level expects"]
        got = []
        for b in tgt:
            if b[1] == "List Bullet":
                got.append(("same", b[2]))
            elif b[1] == "New Statement":
                label, text = label_and_text(b[3])
                got.append(({"New: ": "new", "Reworded: ": "changed"}[label], text))
        assert got == [(c.kind, c.statement.text) for c in ch.changes]  # every target statement, new ones marked
        if ch.target_todo:
            assert texts(tgt, "Not Yet Defined")
        [table] = [b[3] for b in parts["Evidence"] if b[0] == "table"]
        assert [c.text for c in table.rows[0].cells] == ["Example", "Impact", "Link"]
        assert len(table.rows) == 1 + 3 and all(c.text == "" for r in table.rows[1:] for c in r.cells)
        assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None  # repeats on each page
        for row in table.rows:
            assert all(tc.findall(qn("w:p")) for tc in row._tr.findall(qn("w:tc")))
    new = [c.statement.text for ch in changes for c in ch.added]
    assert "I design components of ML systems with guidance, and explain the trade-offs I made." in new
    summary = section(items, "Manager's summary")
    [table] = [b[3] for b in summary if b[0] == "table"]
    assert [r.cells[0].text for r in table.rows][:2] == ["Summary of the evidence", "Strengths"]
    # the manager is known: their row says who; the boxes to write in are at least 25 mm tall
    assert [r.cells[1].text for r in table.rows if r.cells[0].text == "Manager"] == ["Grace Hopper"]
    heights = [int(r._tr.trPr.find(qn("w:trHeight")).get(qn("w:val"))) for r in table.rows]
    assert min(heights[:4]) >= 1417
    # evidence tables sit on the text margin (the template is in Word 2010 mode: indent by the cell padding)
    for t in doc.tables:
        assert t._tbl.tblPr.find(qn("w:tblInd")).get(qn("w:w")) == "108"
    # the logo's alternative text comes from the theme
    alts = [d.get("descr") for d in doc.sections[0].header._element.iter(
        "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr")]
    assert alts == ["Company logo"]
    header = "\n".join(p.text for t in doc.sections[0].header.tables for c in t._cells for p in c.paragraphs)
    assert "Promotion case: Ada Lovelace · ML Engineer, Level 5 → 6" in header
    assert doc.core_properties.category == "Promotion case"
    # no other specialism
    body = "\n".join(b[2] for b in items if b[0] == "p")
    for e in shipped.crafts[0].level(6).expectations:
        if e.specialism == "Edge ML Engineer":
            assert all(s.text not in body for s in e.statements)


# -- a real office suite -----------------------------------------------------------------------------
def test_libreoffice_converts_every_role_description_and_the_case(shipped, shipped_docs, ml_case, tmp_path):
    soffice = need_tool("soffice")
    pdftotext = need_tool("pdftotext")
    files = [*shipped_docs.values(), ml_case[2]]
    out = tmp_path / "pdf"
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo-profile",
                    "--convert-to", "pdf", "--outdir", str(out), *map(str, files)],
                   check=True, capture_output=True, timeout=240)
    for role in shipped.roles():
        pdf = out / (shipped_docs[role.id].stem + ".pdf")
        text = squash(subprocess.run([pdftotext, str(pdf), "-"], check=True, capture_output=True,
                                     text=True).stdout)
        assert squash(role.title) in text
        for area in role.areas():
            assert squash(area.area_title) in text
            for s in area.statements:
                assert squash(s.text) in text, (role.id, s.text)
        assert squash("Page 1 of") in text
    text = squash(subprocess.run([pdftotext, str(out / "promotion-case.pdf"), "-"], check=True,
                                 capture_output=True, text=True).stdout)
    current, target, _ = ml_case
    for role in (current, target):
        for s in (s for a in role.areas() for s in a.statements):
            assert squash(s.text) in text, s.text
    assert squash("Ada Lovelace") in text and squash("Example") in text


def test_theme_lists_every_label_with_its_default():
    import yaml

    from cfexport.exporters.word_template import LABELS

    theme = yaml.safe_load((TEMPLATES / "theme.yaml").read_text(encoding="utf-8"))
    assert theme["docx"]["labels"] == LABELS  # theme.yaml shows HR every label it can reword


def test_a_role_name_that_starts_with_a_vowel_gets_an(tmp_path):
    """'an Associate Data engineer', never 'a Associate' (a reader of the document notices)."""
    craft = small_craft()
    craft.levels[0].name, craft.levels[1].name = "Associate", "Engineer"
    fw = write_framework(tmp_path / "fw", [craft])
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", "--framework", str(fw), "--out", str(out), "--format", "docx",
                                       "--jobs", "1"])
    assert result.exit_code == 0, result.output
    text = docx_text(next(out.rglob("data-level-1.docx")))
    assert "role description of an Associate Data (Level 1" in text
    assert "At Level 2 · Engineer, an Engineer Data is also expected" in text
    assert " a Associate" not in text and " a Engineer" not in text


@pytest.mark.parametrize("title, framework, the_craft, the_framework", [
    ("Data Engineering", "Test Framework", "the Data Engineering craft", "the Test Framework"),
    ("Data Craft", "Test Framework", "the Data Craft", "the Test Framework"),
    ("The Platform Craft", "The Acme Career Framework", "The Platform Craft", "The Acme Career Framework")])
def test_the_introductions_name_the_craft_in_english_whatever_its_title(tmp_path, title, framework, the_craft,
                                                                         the_framework):
    """A craft page titled "Data Engineering" read "in the Data Engineering of the ..." (the wording
    assumed titles end in "Craft"); one titled "... Craft" must not become "Craft craft", nor one
    titled "The ..." "the The ..."."""
    from dataclasses import replace

    fw = write_framework(tmp_path / "fw", [replace(small_craft(), title=title)], title=framework)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", "--framework", str(fw), "--out", str(out), "--format", "docx",
                                       "--jobs", "1"])
    assert result.exit_code == 0, result.output
    role = squash(docx_text(next(out.rglob("*level-1.docx"))))
    assert squash(f"(Level 1 · Junior) in {the_craft} of {the_framework}.") in role
    assert "Craftcraft" not in role and "theThe" not in role
    result = CliRunner().invoke(main, ["pack", "--role", "test/data", "--from", "1", "--to", "2", "--person", "Ada",
                                       "--framework", str(fw), "--out", str(out / "p")])
    assert result.exit_code == 0, result.output
    case = squash(docx_text(next((out / "p").rglob("promotion-case.docx"))))
    assert squash(f"(Senior Data) in {the_craft}.") in case
