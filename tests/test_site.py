"""A real just-the-docs site (tests/fixtures/jtd-site, checked against what Jekyll 4.3 builds from
it) read as Jekyll publishes it: the golden values are the hand-written
tests/fixtures/jtd-site.expected.json, never the reader's own output."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from readback import docx_text, pdf_text, squash, xlsx_cells
from sitefixture import OUTSIDE_LINK, load_expected, make_site

from cfexport.cli import main
from cfexport.readers import read_framework
from cfexport.readers.jekyll.kramdown import HeadingIds

EXPECTED = load_expected()
CRAFT = EXPECTED["crafts"][0]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return make_site(tmp_path_factory.mktemp("jtd"))


@pytest.fixture(scope="module")
def result(site):
    return read_framework(site)


def _rows(level) -> list[dict]:
    return [{"section": e.specialism, "area_id": e.area_id, "todo": e.todo,
             "statements": [s.text for s in e.statements]} for e in level.expectations]


def test_the_whole_site_reads_as_the_published_framework(result):
    assert not result.errors, result.errors
    fw = result.framework
    assert fw.title == EXPECTED["framework"]
    for words in EXPECTED["framework_description_contains"]:
        assert words in fw.description
    [craft] = fw.crafts
    assert craft.title == CRAFT["title"]
    assert [(a.id, a.title, a.specialism) for a in craft.areas] == \
        [(a["id"], a["title"], a["specialism"]) for a in CRAFT["areas"]]
    for area, expected in zip(craft.areas, CRAFT["areas"]):
        if "definition" in expected:
            assert area.definition == expected["definition"], area.id
    assert list(craft.specialisms) == CRAFT["specialisms"]
    assert [(lv.number, lv.name) for lv in craft.levels] == [(lv["number"], lv["name"]) for lv in CRAFT["levels"]]
    for level, expected in zip(craft.levels, CRAFT["levels"]):
        assert level.source.file == expected["source"]
        assert _rows(level) == expected["rows"], level.title


def test_line_numbers_are_those_of_the_source_file_after_liquid(result, site):
    """Liquid comments, includes and IALs change the rendered text; messages still name the file's lines."""
    for statement in result.framework.statements():
        line = (site / statement.source.file).read_text("utf-8").split("\n")[statement.source.line - 1]
        words = set(re.findall(r"\w+", statement.text.replace("’", "'"))) - {"Acme"}  # {{ site.company }}
        assert words <= set(re.findall(r"\w+", line.replace("’", "'"))), (statement.source, statement.text)


def test_what_the_site_does_not_publish_is_left_out_and_said(result, site):
    problems = {(p.source.file, p.severity): p.message for p in result.problems}
    assert ("careers/engineering/level5-draft.md", "info") in problems  # validate --verbose shows it
    assert "outside the site" in problems[(OUTSIDE_LINK.as_posix(), "warning")]
    files = {s.source.file for s in result.framework.statements()}
    assert files == {lv["source"] for lv in CRAFT["levels"]}
    # a struck statement and block HTML in a cell are each reported with their line
    assert any("struck-through" in p.message and p.source.file.endswith("level5.md") for p in result.warnings)
    assert any("<br>" in p.message for p in result.warnings)


def test_a_folder_inside_the_site_reads_the_same_framework(result, site):
    inner = read_framework(site / "careers")
    assert not inner.errors, inner.errors
    assert inner.framework == result.framework


def _as_collection(site: Path, output: bool = True) -> None:
    """The same site with its framework kept in a Jekyll collection, as just-the-docs documents
    (`collections: careers: output: true` and pages in `_careers/`): `{% link %}` names a document by
    its path with the `_careers/` folder, and the craft page gets a `permalink` (a collection's
    `/:collection/:path/` gives an index `/careers/engineering/index/`). Checked against Jekyll 4.3.1:
    the built site has the same URLs, the draft unbuilt and NOTES.md copied as a file."""
    (site / "careers").rename(site / "_careers")
    config = (site / "_config.yml").read_text("utf-8")
    scope = '      path: "careers"\n      type: "pages"'
    assert scope in config
    config = config.replace(scope, '      path: "_careers"\n      type: "careers"')
    config += ("\ncollections:\n  careers:\n" + ("    output: true\n" if output else "")
               + "    permalink: /:collection/:path/\n")
    (site / "_config.yml").write_text(config, "utf-8")
    craft = site / "_careers" / "engineering" / "index.md"
    craft.write_text(craft.read_text("utf-8").replace("---\n", "---\npermalink: /careers/engineering/\n", 1), "utf-8")
    for page in (site / "_careers" / "engineering").glob("level*"):
        text = page.read_text("utf-8")
        page.write_text(text.replace("{% link careers/engineering/index.md %}", "{% link _careers/engineering/index.md %}"),
                        "utf-8")


def test_a_framework_kept_in_a_collection_reads_as_the_published_framework(tmp_path, result):
    """Pages in `_careers/` were skipped as a folder starting with `_`: the reader found no framework
    in the collection and took another page for the framework, warning only that it had no crafts."""
    site = make_site(tmp_path, symlinks=False)
    _as_collection(site)
    collected = read_framework(site)
    assert not collected.errors, collected.errors
    fw = collected.framework
    assert fw.title == EXPECTED["framework"]
    [craft] = fw.crafts
    assert [(a.id, a.title, a.specialism) for a in craft.areas] == \
        [(a["id"], a["title"], a["specialism"]) for a in CRAFT["areas"]]
    for level, expected in zip(craft.levels, CRAFT["levels"], strict=True):
        assert level.source.file == "_" + expected["source"]
        assert _rows(level) == expected["rows"], level.title
    problems = {(p.source.file, p.severity) for p in collected.problems}
    assert ("_careers/engineering/level5-draft.md", "info") in problems  # published: false still holds


def test_a_collection_without_output_has_no_pages_and_is_not_read(tmp_path):
    site = make_site(tmp_path, symlinks=False)
    _as_collection(site, output=False)
    res = read_framework(site)
    assert not any(s.source.file.startswith("_careers/") for s in (res.framework.statements() if res.framework else []))
    assert any("the collection 'careers' (_careers/) has no pages on the site" in p.message for p in res.problems)


def test_other_sections_are_not_a_framework(site):
    docs = read_framework(site / "docs")
    assert docs.framework is None
    assert any("no career framework found" in p.message for p in docs.errors)


@pytest.fixture(scope="module")
def built(site, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "out"
    res = CliRunner().invoke(main, ["build", "--framework", str(site), "--out", str(out), "--jobs", "1"])
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    return out


def _documents(out: Path) -> dict[str, str]:
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    texts = {}
    for entry in manifest["files"]:
        path = out / entry["path"]
        if path.suffix == ".docx":
            texts[entry["path"]] = docx_text(path)
        elif path.suffix == ".xlsx":
            texts[entry["path"]] = "\n".join(str(c.value) for c in xlsx_cells(path))
        elif path.suffix == ".pdf":
            texts[entry["path"]] = pdf_text(path)
        else:
            texts[entry["path"]] = json.dumps(json.loads(path.read_text("utf-8")), ensure_ascii=False)
    return texts


def test_every_document_holds_every_statement_and_no_markup_drafts_or_other_pages(built):
    texts = _documents(built)
    assert {p.rsplit(".", 1)[1] for p in texts} == {"docx", "xlsx", "pdf", "json"}
    shared = {lv["number"]: [s for r in lv["rows"] if r["section"] is None for s in r["statements"]]
              for lv in CRAFT["levels"]}
    own = {(lv["number"], sp): [s for r in lv["rows"] if r["section"] == sp for s in r["statements"]]
           for lv in CRAFT["levels"] for sp in CRAFT["specialisms"]}
    all_statements = [s for lv in CRAFT["levels"] for r in lv["rows"] for s in r["statements"]]
    for path, text in texts.items():
        for absent in EXPECTED["absent"]:
            assert absent not in text, (path, absent)
        if path.endswith((".xlsx", ".json")) or path.startswith("level-cards/"):
            flat = squash(text) if path.endswith(".pdf") else text
            for s in all_statements:
                assert (squash(s) if path.endswith(".pdf") else s) in flat, (path, s)
    role_docs = [p for p in texts if p.startswith("role-descriptions/")]
    assert len(role_docs) == len(CRAFT["levels"]) * len(CRAFT["specialisms"])
    for (number, specialism), statements in own.items():
        slug = specialism.lower().replace(" ", "-")
        [path] = [p for p in role_docs if p.endswith(f"/{slug}-level-{number}.docx")]
        # its own statements and the shared ones, in the role's own document
        for s in shared[number] + statements:
            assert s in texts[path], (path, s)
        others = [s for sp in CRAFT["specialisms"] if sp != specialism for s in own[(number, sp)]]
        for s in others:
            assert s not in texts[path].split("What changes at the next level")[0], (path, s)


def test_two_frameworks_in_one_site_are_listed_and_root_picks_each(site, tmp_path):
    two = tmp_path / "two"
    shutil.copytree(site, two, symlinks=False, ignore=shutil.ignore_patterns("outside"))
    design = two / "design"
    shutil.copytree(two / "careers", design)
    for page in [p for p in design.rglob("*") if p.suffix in (".md", ".markdown")]:
        text = page.read_text("utf-8")
        page.write_text(text.replace("Engineering Career Framework", "Design Career Framework")
                        .replace("ML and Data Engineering Craft", "Design Craft")
                        .replace("careers/", "design/"), "utf-8")
    result = read_framework(two)
    [error] = result.errors
    assert "2 career frameworks found" in error.message
    assert "'Engineering Career Framework' (careers/index.md)" in error.message
    assert "'Design Career Framework' (design/index.md)" in error.message
    assert "--root" in error.message
    for title in ("Engineering Career Framework", "Design Career Framework"):
        picked = read_framework(two, root=title)
        assert not picked.errors, picked.errors
        assert picked.framework.title == title
    run = CliRunner().invoke(main, ["validate", "--framework", str(two), "--root", "Design Career Framework"])
    assert run.exit_code == 0, run.output
    run = CliRunner().invoke(main, ["list", "--framework", str(two), "--root", "Nope"])
    assert run.exit_code == 2 and "no career framework titled 'Nope'" in run.output  # a bad option: usage


# Ids as kramdown-parser-gfm 1.1 gives them (checked against Jekyll 4.3 output): lower case, letters,
# marks, digits and `_` kept with hyphens and spaces, everything else dropped, repeats -1, -2.
ANCHORS = [
    ("Qualité des données", "qualité-des-données"),
    ("Problem Solving & Decision Making", "problem-solving--decision-making"),
    ("データ品質", "データ品質"),
    ("数据 质量", "数据-质量"),
    ("C++ / Rust", "c--rust"),
    ("What's next?", "whats-next"),
    ("snake_case name", "snake_case-name"),
    ("Ünïcödé UPPER", "ünïcödé-upper"),
    ("हिन्दी लेख", "हिन्दी-लेख"),  # combining vowel signs are marks: kept
    ("Tooling", "tooling"),
    ("Tooling", "tooling-1"),
    ("Tooling", "tooling-2"),
    ("  Spaces\taround ", "--spaces-around-"),
]


def test_heading_ids_follow_kramdown_gfm_rules():
    ids = HeadingIds()
    assert [ids.next(title) for title, _ in ANCHORS] == [want for _, want in ANCHORS]


def _level_page(site: Path, title: str, rows: str, name: str = "level9.md") -> Path:
    page = site / "careers" / "engineering" / name
    page.write_text("---\ntitle: " + title + "\nparent: ML and Data Engineering Craft\n"
                    "grand_parent: Engineering Career Framework\n---\n\n## Craft\n\n| Area | Description |\n"
                    "|---|---|\n" + rows, "utf-8")
    return page


@pytest.mark.parametrize("title", ["Level 5.5 (Senior-ish)", "Level 5a (Junior)", "Level five (Junior)"])
def test_a_level_title_that_is_not_a_whole_number_is_an_error_naming_the_line(tmp_path, title):
    site = make_site(tmp_path, symlinks=False)
    _level_page(site, title, "| Collaboration | I help. |\n")
    result = read_framework(site)
    [error] = result.errors
    assert (error.source.file, error.source.line) == ("careers/engineering/level9.md", 2)
    assert "Level 5 (Junior)" in error.message


def test_two_rows_for_one_area_are_one_area_with_both_statements_and_a_warning(tmp_path):
    site = make_site(tmp_path, symlinks=False)
    _level_page(site, "Level 9 (Principal)",
                "| Collaboration | First row. |\n| [ML Ops](/careers/engineering/#ml-ops) | Ops. |\n"
                "| Collaboration | Second row. |\n")
    result = read_framework(site)
    level = result.framework.crafts[0].level(9)
    rows = {e.area_id: [s.text for s in e.statements] for e in level.expectations}
    assert rows == {"collaboration": ["First row.", "Second row."], "ml-ops": ["Ops."]}
    assert any(p.source.line == 13 and "second row for 'Collaboration'" in p.message for p in result.warnings)


def test_liquid_cfexport_cannot_evaluate_is_a_warning_and_never_text(tmp_path):
    site = make_site(tmp_path, symlinks=False)
    _level_page(site, "Level 9 (Principal)",
                "| Collaboration | I help {% seo %}others. <br> I use {{ 'x' | no_such_filter }}tools. |\n")
    result = read_framework(site)
    level = result.framework.crafts[0].level(9)
    texts = [s.text for e in level.expectations for s in e.statements]
    assert not [t for t in texts if "{" in t or "}" in t], texts
    assert {p.source.line for p in result.warnings if p.source.file.endswith("level9.md")} >= {11}


def test_a_symlinked_craft_folder_inside_the_site_is_followed(tmp_path):
    site = make_site(tmp_path, symlinks=False)
    real = site / "_craft-source"  # a folder Jekyll itself never publishes
    (site / "careers" / "engineering").rename(real)
    (site / "careers" / "engineering").symlink_to(real, target_is_directory=True)
    result = read_framework(site)
    assert not result.errors, result.errors
    assert [lv.number for lv in result.framework.crafts[0].levels] == [lv["number"] for lv in CRAFT["levels"]]


def test_pages_outside_the_framework_with_bad_front_matter_do_not_stop_it(tmp_path):
    site = make_site(tmp_path, symlinks=False)
    (site / "faq.md").write_text("---\ntitle: [broken\n---\n", "utf-8")
    result = read_framework(site)
    assert not result.errors, result.errors
    assert any(p.source.file == "faq.md" and p.severity == "info" for p in result.problems)


def test_a_broken_level_page_is_an_error_not_a_silently_smaller_framework(tmp_path):
    site = make_site(tmp_path, symlinks=False)
    page = site / "careers" / "engineering" / "level5.md"
    page.write_text(page.read_text("utf-8").replace("title: Level 5 (Junior)", "title: [Level 5"), "utf-8")
    result = read_framework(site)
    assert [p.source.file for p in result.errors] == ["careers/engineering/level5.md"]


def test_markdown_extension_pages_and_config_markdown_ext(tmp_path):
    site = make_site(tmp_path, symlinks=False)
    assert read_framework(site).framework.crafts[0].level(6).source.file.endswith(".markdown")
    config = site / "_config.yml"
    config.write_text(config.read_text("utf-8") + "\nmarkdown_ext: md\n", "utf-8")
    assert read_framework(site).framework.crafts[0].level(6) is None  # `.markdown` no longer a page


def test_validate_verbose_names_the_pages_not_read_and_why(site):
    quiet = CliRunner().invoke(main, ["validate", "--framework", str(site)])
    assert quiet.exit_code == 0, quiet.output
    assert "level5-draft.md" not in quiet.output  # information only, not a warning
    loud = CliRunner().invoke(main, ["validate", "--framework", str(site), "--verbose"])
    assert loud.exit_code == 0, loud.output
    assert f"{site / 'careers/engineering/level5-draft.md'}:6: info: published: false" in loud.output
    assert f"{site / 'careers/engineering/NOTES.md'}:1: info: no front matter" in loud.output


def test_a_craft_that_stops_being_readable_is_never_dropped_silently(tmp_path):
    site = make_site(tmp_path, symlinks=False)
    design = site / "careers" / "design"  # a second craft, so that the framework stands without the first
    shutil.copytree(site / "careers" / "engineering", design)
    for page in [p for p in design.iterdir() if p.suffix in (".md", ".markdown")]:
        page.write_text(page.read_text("utf-8").replace("ML and Data Engineering Craft", "Design Craft")
                        .replace("careers/engineering", "careers/design"), "utf-8")
    out = tmp_path / "out"
    first = CliRunner().invoke(main, ["build", "--framework", str(site), "--out", str(out), "--jobs", "1"])
    assert first.exit_code == 0, first.output
    # the craft folder moves out of the site and comes back as a symlink Jekyll would not follow
    design.rename(tmp_path / "design")
    design.symlink_to(tmp_path / "design", target_is_directory=True)
    second = CliRunner().invoke(main, ["build", "--framework", str(site), "--out", str(out), "--jobs", "1"])
    assert "careers/design: warning: a symlink to" in second.output
    assert "the craft 'Design Craft', which is not in the framework now" in second.output
    strict = CliRunner().invoke(main, ["build", "--framework", str(site), "--out", str(out), "--strict"])
    assert strict.exit_code == 1
    assert (out / "role-descriptions").is_dir()  # --strict replaced nothing


@pytest.mark.parametrize("config, line, words", [
    ("title: a\ntitle: b\n", 2, "duplicate key 'title' (first on line 1)"),
    ("base: &b {x: 1}\nother: *b\n", 2, "anchors and aliases"),
    ("baseurl: [unclosed\n", 2, "_config.yml is not valid YAML"),
])
def test_a_bad_config_is_an_error_naming_its_line(tmp_path, config, line, words):
    site = make_site(tmp_path, symlinks=False)
    (site / "_config.yml").write_text(config, "utf-8")
    errors = [p for p in read_framework(site).errors if p.source.file == "_config.yml"]
    assert [(e.source.line, words in e.message) for e in errors] == [(line, True)], errors


def _append_to_level5(site: Path, text: str) -> None:
    page = site / "careers" / "engineering" / "level5.md"
    page.write_text(page.read_text("utf-8") + "\n" + text, "utf-8")


def _level9(site: Path) -> dict[str, list[str]]:
    result = read_framework(site)
    assert not result.errors, result.errors
    return {e.area_id: [s.text for s in e.statements] for e in result.framework.crafts[0].level(9).expectations}


def test_kramdown_comment_and_nomarkdown_blocks_are_never_statements(tmp_path):
    site = make_site(tmp_path, symlinks=False)
    _level_page(site, "Level 9 (Principal)", "| Collaboration | Kept. |\n\n{::comment}\n| Area | Description |\n"
                "|---|---|\n| Collaboration | COMMENTED statement. |\n{:/comment}\n\n{::nomarkdown}\n<p>RAW html</p>\n"
                "{:/}\n\nA {::comment}SPAN comment{:/comment} paragraph.\n")
    assert _level9(site) == {"collaboration": ["Kept."]}


def test_a_table_in_a_details_block_right_after_its_summary_is_read(tmp_path):
    site = make_site(tmp_path, symlinks=False)
    page = site / "careers" / "engineering" / "level9.md"
    _level_page(site, "Level 9 (Principal)", "")
    page.write_text(page.read_text("utf-8").replace("## Craft\n\n| Area", "## Craft\n\n<details markdown=\"1\">\n"
                                                    "<summary>Show the table</summary>\n| Area")
                    + "| Collaboration | Inside details. |\n</details>\n", "utf-8")
    assert _level9(site) == {"collaboration": ["Inside details."]}


def test_a_break_inside_struck_text_does_not_split_the_statement(tmp_path):
    site = make_site(tmp_path, symlinks=False)
    _level_page(site, "Level 9 (Principal)",
                "| Collaboration | I choose metrics ~~old<br/>older~~ that suit <del>x<br>y</del> the problem. |\n")
    assert _level9(site) == {"collaboration": ["I choose metrics that suit the problem."]}


def test_a_label_before_its_paragraph_is_not_part_of_the_definition(tmp_path):
    site = make_site(tmp_path, symlinks=False)
    craft = site / "careers" / "engineering" / "index.md"
    craft.write_text(craft.read_text("utf-8").replace(
        "### Collaboration\n\n", "### Collaboration\n\n{: .label }\nBETA-BADGE\n\n"), "utf-8")
    area = next(a for a in read_framework(site).framework.crafts[0].areas if a.id == "collaboration")
    assert "BETA-BADGE" not in area.definition and area.definition.startswith("Working with engineers")


def test_a_framework_on_the_home_page_does_not_take_in_the_rest_of_the_site(tmp_path):
    site = make_site(tmp_path, symlinks=False)
    (site / "index.md").unlink()
    index = (site / "careers" / "index.md").read_text("utf-8")
    (site / "careers" / "index.md").unlink()
    (site / "index.md").write_text(index, "utf-8")
    labels = site / "docs" / "ui-components" / "labels.md"
    labels.write_text(labels.read_text("utf-8").replace("---\n", "---\nparent: No Such Parent\n", 1), "utf-8")
    result = read_framework(site)
    assert not result.errors, result.errors
    assert result.framework.title == EXPECTED["framework"]


@pytest.mark.parametrize("style, url", [("pretty", "/a/b/"), ("date", "/a/b.html"), ("none", "/a/b.html"),
                                        ("/:path/:basename/", "/a/b/"), ("/:path/:basename:output_ext", "/a/b.html"),
                                        ("/:path/:basename", "/a/b")])
def test_page_urls_follow_the_permalink_style_as_jekyll_does(style, url):
    from cfexport.readers.jekyll.site import SiteConfig, _url

    assert _url("a/b.md", {}, SiteConfig({"permalink": style})) == url


def test_a_table_of_contents_heading_does_not_end_the_framework_description(tmp_path):
    site = make_site(tmp_path, symlinks=False)
    index = site / "careers" / "index.md"
    text = index.read_text("utf-8")
    body_at = text.index("\n---\n", 4) + 5
    index.write_text(text[:body_at] + "\n# The framework\n{: .no_toc }\n\n## Table of contents {: .no_toc .text-delta }\n\n"
                     "1. TOC\n{:toc}\n\nINTRO-AFTER-TOC paragraph.\n\n" + text[body_at:], "utf-8")
    assert "INTRO-AFTER-TOC paragraph." in read_framework(site).framework.description


@pytest.mark.parametrize("permalink, urls", [
    # Jekyll's :name is the file's name slugified (lower case, every run of other characters one hyphen)
    ("/:collection/:name/", {"Level 5.md": "/careers/level-5/", "Senior_Staff.md": "/careers/senior-staff/"}),
    # :title is its `slug` (else its name) slugified the 'pretty' way, case kept ('_' and '.' kept too)
    ("/:collection/:title:output_ext", {"Level 5.md": "/careers/My-Slug.html", "Senior_Staff.md": "/careers/Senior_Staff.html"}),
])
def test_a_collection_permalink_with_name_or_title_gives_the_url_jekyll_gives(tmp_path, permalink, urls):
    """A collection whose permalink uses `:name` or `:title` (`_careers/Level 5.md`): Jekyll publishes
    the document at `/careers/level-5/` (a slug of its name), cfexport gave it `/careers/Level 5/`, so a
    link written to the published URL did not reach it. Checked against Jekyll 4.3.1."""
    from cfexport.readers.jekyll.site import load_site

    site = tmp_path / "site"
    (site / "_careers").mkdir(parents=True)
    (site / "_config.yml").write_text(f"title: T\ncollections:\n  careers:\n    output: true\n    permalink: {permalink}\n",
                                      "utf-8")
    (site / "_careers" / "Level 5.md").write_text("---\ntitle: Level 5\nslug: My Slug\n---\nText\n", "utf-8")
    (site / "_careers" / "Senior_Staff.md").write_text("---\ntitle: Senior staff\n---\nText\n", "utf-8")
    loaded = load_site(site)
    assert {p.file.split("/")[-1]: p.url for p in loaded.pages if p.collection} == urls
