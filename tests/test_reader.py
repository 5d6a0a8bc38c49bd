"""The reader on the real seed page and on what people really write."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import FRAMEWORK
from factory import small_craft, write_framework

from cfexport.model import Role
from cfexport.readers import read_framework

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "level5.md"

# Golden values copied by hand from ../shared/seed/level5.md (not from our code).
SEED_CRAFT = [
    ("ML Ops", "ml-ops", 16, [
        "I work effectively with the ML tools and software packages used by my team.",
        "I have an awareness of the cloud technologies and how they may be used to scale, host and "
        "productionise ML systems.",
    ]),
    ("AI Governance", "ai-governance", 17, ["I understand risks from ML such as model bias and model drift."]),
    ("AI Strategy", "ai-strategy", 18, [
        "I understand the reasoning behind my team’s strategic decisions, and am able to verify and debug "
        "implementations of the design.",
        "I understand how my work fits into Vaarst’s AI Strategy.",
    ]),
    ("Architecture Design", "architecture-design", 19, "TODO"),
    ("Technical Strategy", "technical-strategy", 20, "TODO"),
]
SEED_ML = ("Machine Learning and Deep Learning", "machine-learning-and-deep-learning", 27, [
    "I have a theoretical understanding of a range of ML techniques (e.g., deep learning, optimization, "
    "regression, ensembles, tree based methods, dimensionality reduction, clustering, Bayesian modelling, etc.), "
    "mathematics/statistics (matrices, vectors, tensors, linear algebra, etc.), and tools (sklearn, pytorch, "
    "TensorFlow, etc.).",
    "I work on ML models by adapting existing tutorials/guides for new purposes.",
    "I can analyse and present datasets or results of experiments, with simple methods.",
])
SEED_EDGE = ("Edge Computing", "edge-computing", 33, [
    "I am familiar with fundamental languages and environments (e.g. C++, Python, Linux) when working on "
    "embedded compute devices (e.g. Nvidia Jetsons).",
    "I have a theoretical understanding of parallelisation and hardware acceleration, and how it can speed up "
    "applications and models.",
    "I can understand and work with existing parallel computing solutions used at Vaarst.",
    "I have an awareness of relevant frameworks (e.g. CUDA, TensorRT, ROS).",
])


def test_shipped_seed_is_the_real_page_unchanged():
    if SEED.exists():
        assert (FRAMEWORK / "mlengineer" / "level5.md").read_bytes() == SEED.read_bytes()


def test_seed_level_every_area_statement_section_and_line(shipped):
    craft = shipped.crafts[0]
    assert craft.title == "ML and Edge ML Engineer Craft"
    assert shipped.title == "Vaarst Career Framework"
    level = craft.level(5)
    assert (level.number, level.name, level.title) == (5, "Junior", "Level 5 (Junior)")
    assert level.heading == "Junior ML and Edge ML Engineer - Level 5"
    assert level.permalink == "/careerframework/mlengineer/level5"
    assert not level.illustrative
    expected = [(None, *row) for row in SEED_CRAFT] + [("ML Engineer", *SEED_ML), ("Edge ML Engineer", *SEED_EDGE)]
    got = level.expectations
    assert len(got) == len(expected)
    for exp, (specialism, title, area_id, line, statements) in zip(got, expected):
        assert (exp.specialism, exp.area_title, exp.area_id) == (specialism, title, area_id)
        assert exp.source.file == "mlengineer/level5.md" and exp.source.line == line
        if statements == "TODO":
            assert exp.todo and exp.statements == ()
        else:
            assert not exp.todo
            assert [s.text for s in exp.statements] == statements
            assert all(s.source == exp.source for s in exp.statements)


def test_craft_page_defines_every_area_the_seed_links_to(shipped):
    craft = shipped.crafts[0]
    ids = [a.id for a in craft.areas]
    assert ids == ["ml-ops", "ai-governance", "ai-strategy", "architecture-design", "technical-strategy",
                   "machine-learning-and-deep-learning", "edge-computing"]
    assert all(a.definition for a in craft.areas)
    assert craft.area("edge-computing").specialism == "Edge ML Engineer"
    assert craft.area("ml-ops").specialism is None
    assert craft.specialisms == ("ML Engineer", "Edge ML Engineer")
    assert [lv.number for lv in craft.levels] == [5, 6, 7, 8]
    assert [lv.illustrative for lv in craft.levels] == [False, True, True, True]


def test_role_is_shared_plus_own_specialism_never_another(shipped):
    craft = shipped.crafts[0]
    role = Role(craft, "ML Engineer", craft.level(5))
    assert role.title == "Junior ML Engineer"
    assert role.id == "mlengineer/ml-engineer/5"
    titles = [a.area_title for a in role.areas()]
    assert titles == [t for t, *_ in SEED_CRAFT] + [SEED_ML[0]]
    assert "Edge Computing" not in titles
    todo = {a.area_title for a in role.areas() if a.todo}
    assert todo == {"Architecture Design", "Technical Strategy"}


def _page(root: Path, body_rows: str, extra: str = "") -> Path:
    write_framework(root, [small_craft()])
    (root / "test" / "level1.md").write_text(
        "---\ntitle: Level 1 (Junior)\nparent: \"Test Craft\"\ngrand_parent: \"Test Framework\"\n---\n"
        "# x\n\n## Craft\n\n| Area | Description |\n|---|---|\n" + body_rows + extra, encoding="utf-8")
    return root


def _statements(root: Path) -> list[list[str]]:
    result = read_framework(root)
    assert not result.errors, result.errors
    return [[s.text for s in e.statements] for e in result.framework.crafts[0].level(1).expectations]


@pytest.mark.parametrize("br", ["<br>", "<br/>", "<br />", "<BR>", "<Br/>", "</br>"])
def test_statements_split_on_every_br_spelling(tmp_path, br):
    _page(tmp_path, f"| Delivery | one {br} two{br}{br}three |\n")
    assert _statements(tmp_path) == [["one", "two", "three"]]


def test_escaped_pipes_entities_and_inline_markdown_become_text(tmp_path):
    _page(tmp_path, "| [Delivery](/framework/test#delivery) | a \\| b &amp; R&amp;D &lt;tag&gt; &#124; **bold** "
                    "_it_ `co\\|de` [link](http://x) |\n")
    assert _statements(tmp_path) == [["a | b & R&D <tag> | bold it co|de link"]]


def test_crlf_bom_ragged_rows_extra_spaces_and_empty_cells(tmp_path):
    _page(tmp_path, "|   Delivery   |    spaced    out   |\n| Mentoring |\n| Analysis | |\n")
    path = tmp_path / "test" / "level1.md"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    result = read_framework(tmp_path)
    assert not result.errors
    exps = result.framework.crafts[0].level(1).expectations
    assert [(e.area_title, [s.text for s in e.statements]) for e in exps] == [
        ("Delivery", ["spaced out"]), ("Mentoring", []), ("Analysis", [])]
    assert exps[0].source.line == 12
    empty = [p for p in result.warnings if "empty description" in p.message]
    assert [p.source.line for p in empty] == [13, 14]


def test_hierarchy_comes_from_front_matter_not_folders(tmp_path):
    write_framework(tmp_path / "src", [small_craft()])
    flat = tmp_path / "flat"
    flat.mkdir()
    for i, page in enumerate(sorted((tmp_path / "src").rglob("*.md"))):
        shutil.copy(page, flat / f"page{i}.md")
    a = read_framework(tmp_path / "src").framework
    b = read_framework(flat).framework
    strip = lambda fw: [(r.id, [(x.area_id, [s.text for s in x.statements]) for x in r.areas()]) for r in fw.roles()]
    assert strip(a) == strip(b)


def test_control_characters_are_removed_with_a_warning_naming_the_line(tmp_path):
    _page(tmp_path, "| Delivery | bell\x07 and\x0b vt and \ufffe nonchar |\n")
    result = read_framework(tmp_path)
    assert _statements(tmp_path) == [["bell and vt and nonchar"]]
    warns = [p for p in result.warnings if "removed character" in p.message]
    assert len(warns) == 1 and warns[0].source.line == 12
    assert "U+0007" in warns[0].message and "U+FFFE" in warns[0].message


def test_unicode_is_kept_in_nfc(tmp_path):
    text = "Cafe\u0301 Ελληνικά Кириллица 中文 😀 עברית العربية"
    _page(tmp_path, f"| Delivery | {text} |\n")
    import unicodedata
    assert _statements(tmp_path) == [[unicodedata.normalize("NFC", text)]]


def test_an_unescaped_pipe_that_would_lose_text_is_an_error_with_its_line(tmp_path):
    _page(tmp_path, "| Delivery | keep `a|b` all of it |\n")
    result = read_framework(tmp_path)
    [err] = result.errors
    assert err.source.file == "test/level1.md" and err.source.line == 12
    assert "3 cells" in err.message and "\\|" in err.message


def test_invisible_spaces_pasted_from_word_do_not_hide_headings_or_rows(tmp_path):
    write_framework(tmp_path, [small_craft()])
    page = tmp_path / "test" / "level1.md"
    text = page.read_text("utf-8").replace("## Craft - Data", "##\u00a0Craft - Data")
    text = text.replace("| [Analysis]", "\u200b| [Analysis]")
    page.write_text(text, "utf-8")
    result = read_framework(tmp_path)
    level = result.framework.crafts[0].level(1)
    analysis = [e for e in level.expectations if e.area_title == "Analysis"]
    assert len(analysis) == 1 and analysis[0].specialism == "Data"
    assert analysis[0].statements[0].text == "I analyse at level 1."
    assert len([p for p in result.warnings if "invisible space" in p.message]) == 2


def test_nbsp_inside_a_statement_is_kept(tmp_path):
    _page(tmp_path, "| Delivery | 10\u00a0km and 5\u202f% |\n")
    assert _statements(tmp_path) == [["10\u00a0km and 5\u202f%"]]


def _two_crafts(root: Path, first: str, second: str):
    from factory import CraftSpec, LevelSpec
    crafts = []
    for title, slug in ((first, "a"), (second, "b")):
        crafts.append(CraftSpec(title, slug, [(None, "Build", "Building.")],
                                [LevelSpec(3, "Three", {None: [("Build", [f"I ship {title}."])]})]))
    write_framework(root, crafts)
    for slug in ("a", "b"):  # same last permalink segment: both would be 'backend'
        for page in (root / slug).glob("*.md"):
            page.write_text(page.read_text("utf-8").replace(f"/framework/{slug}", "/x/backend"), "utf-8")
    return read_framework(root)


def test_crafts_whose_ids_would_collide_get_distinct_ids_with_a_warning(tmp_path):
    result = _two_crafts(tmp_path, "C Craft", "C++ Craft")
    crafts = result.framework.crafts
    assert [c.id for c in crafts] == ["backend", "backend-2"]
    assert [r.id for r in result.framework.roles()] == ["backend/3", "backend-2/3"]
    assert any("two crafts would have the id 'backend'" in p.message for p in result.warnings)


def test_specialisms_whose_ids_would_collide_get_distinct_ids(tmp_path):
    from factory import CraftSpec, LevelSpec
    craft = CraftSpec("Eng", "eng", [("C Engineer", "Low", "Low level."), ("C++ Engineer", "Templates", "Generic.")],
                      [LevelSpec(1, "One", {"C Engineer": [("Low", ["I write C."])],
                                             "C++ Engineer": [("Templates", ["I write C++."])]})])
    write_framework(tmp_path, [craft])
    fw = read_framework(tmp_path).framework
    c = fw.crafts[0]
    assert [c.track_id(s) for s in c.specialisms] == ["eng/c-engineer", "eng/c-engineer-2"]
    cpp = [r for r in fw.roles() if r.specialism == "C++ Engineer"][0]
    assert [s.text for a in cpp.areas() for s in a.statements] == ["I write C++."]


def test_a_section_spelled_in_another_case_is_the_craft_pages_specialism(tmp_path):
    write_framework(tmp_path, [small_craft()])
    page = tmp_path / "test" / "level1.md"
    page.write_text(page.read_text("utf-8").replace("## Craft - Data", "## Craft - data"), "utf-8")
    result = read_framework(tmp_path)
    craft = result.framework.crafts[0]
    assert craft.specialisms == ("Data", "Platform")
    [analysis] = [e for e in craft.level(1).expectations if e.area_title == "Analysis"]
    assert analysis.specialism == "Data"


def test_an_unknown_specialism_section_and_a_specialism_area_in_a_shared_section_are_warnings(tmp_path):
    write_framework(tmp_path, [small_craft()])
    page = tmp_path / "test" / "level1.md"
    text = page.read_text("utf-8").replace("## Craft - Data", "## Data").replace("## Craft - Platform",
                                                                                 "## Craft - Platfrom")
    page.write_text(text, "utf-8")
    result = read_framework(tmp_path)
    messages = [str(p) for p in result.warnings]
    assert any("section 'Craft - Platfrom' names a specialism the craft page does not define" in m
               for m in messages)
    assert any("'Analysis' is an area of Data on the craft page, but this row is in the shared section 'Data'" in m
               for m in messages)


def test_an_area_defined_under_two_specialisms_resolves_to_its_sections_own(tmp_path):
    from factory import CraftSpec, LevelSpec
    craft = CraftSpec("Eng", "eng", [("Backend", "Testing", "Backend testing."),
                                     ("Frontend", "Testing", "Frontend testing.")],
                      [LevelSpec(1, "One", {"Backend": [("Testing", ["I test APIs."])],
                                             "Frontend": [("Testing", ["I test UIs."])]})])
    write_framework(tmp_path, [craft])
    for page in (tmp_path / "eng").glob("level*.md"):  # plain-text area cells, no links
        page.write_text(page.read_text("utf-8").replace("[Testing](/framework/eng#testing)", "Testing"), "utf-8")
    result = read_framework(tmp_path)
    assert not [p for p in result.warnings if "leaves out" in p.message], result.warnings
    for role in result.framework.roles():
        [area] = role.areas()
        assert area.area.definition == f"{role.specialism} testing."
        assert [s.text for s in area.statements] == [f"I test {'APIs' if role.specialism == 'Backend' else 'UIs'}."]


def test_the_framework_description_is_the_index_pages_prose(shipped):
    assert shipped.description.startswith("The Vaarst Career Framework describes what we expect")


def test_no_crafts_or_a_craft_without_levels_is_a_warning(tmp_path):
    write_framework(tmp_path, [small_craft()])
    for page in (tmp_path / "test").glob("level*.md"):
        page.unlink()
    result = read_framework(tmp_path)
    assert any("has no level pages" in p.message for p in result.warnings)
    (tmp_path / "test" / "index.md").unlink()
    result = read_framework(tmp_path)
    assert any("has no crafts" in p.message for p in result.warnings)


def test_an_unreadable_page_is_an_error_naming_it(tmp_path):
    write_framework(tmp_path, [small_craft()])
    (tmp_path / "test" / "broken.md").symlink_to(tmp_path / "nowhere.md")
    result = read_framework(tmp_path)
    assert [(p.source.file, p.source.line) for p in result.errors] == [("test/broken.md", 1)]
    assert "cannot read the page" in result.errors[0].message


def test_a_table_inside_a_blockquote_is_read_without_a_false_error(tmp_path):
    _page(tmp_path, "", extra="\n> | Area | Description |\n> |---|---|\n> | Delivery | quoted |\n")
    result = read_framework(tmp_path)
    assert not result.errors, result.errors
    assert [s.text for e in result.framework.crafts[0].level(1).expectations for s in e.statements] == ["quoted"]
