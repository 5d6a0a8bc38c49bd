"""The comparison itself (model against model) on small frameworks written as pages, the
stable statement ids of framework.json, and hostile text in changes.md and changes.xlsx."""

from __future__ import annotations

import io
import json

import openpyxl
from conftest import FRAMEWORK, TEMPLATES
from factory import TODO, small_craft, write_framework
from markdown_it import MarkdownIt

from cfexport.changes import diff as d
from cfexport.changes.diff import diff
from cfexport.changes.revisions import read_folder
from cfexport.changes.write import render
from cfexport.exporters.base import Context
from cfexport.exporters.framework_json import JsonExporter
from cfexport.readers import read_framework
from cfexport.repro import build_time


def _read(root):
    result = read_framework(root)
    assert not result.errors, result.errors
    return result.framework


def _changes(tmp_path, old_spec, new_spec):
    old = _read(write_framework(tmp_path / "old", [old_spec]))
    new = _read(write_framework(tmp_path / "new", [new_spec]))
    return {(c.kind, c.place.level, c.place.specialism, c.place.area, c.old, c.new,
             (c.old_place.level, c.old_place.area) if c.old_place else None) for c in diff(old, new)}


def test_a_statement_moved_to_another_level_or_area_is_one_move(tmp_path):
    moving = "I keep the delivery board up to date."
    old = small_craft({"Delivery1": ["I deliver at level 1.", moving]})
    new = small_craft({"Delivery2": ["I deliver at level 2.", moving]})
    assert _changes(tmp_path, old, new) == {
        (d.MOVED, 2, None, "delivery", moving, moving, (1, "delivery"))}
    reworded = "I keep the delivery board up to date every week."
    new = small_craft({"Delivery2": ["I deliver at level 2.", reworded]})  # moved and reworded
    assert _changes(tmp_path / "b", old, new) == {(d.MOVED, 2, None, "delivery", moving, reworded, (1, "delivery"))}


def test_todo_introduced_and_statements_in_a_specialism(tmp_path):
    old = small_craft()
    new = small_craft({"Analysis2": TODO, "Analysis1": ["I analyse at level 1.", "I check my sources."]})
    assert _changes(tmp_path, old, new) == {
        (d.TODO_INTRODUCED, 2, "Data", "analysis", "I analyse at level 2.", None, None),
        (d.ADDED, 1, "Data", "analysis", None, "I check my sources.", None),
    }


def test_a_renamed_area_with_a_new_definition_and_a_renamed_level(tmp_path):
    old = small_craft()
    new = small_craft()
    new.areas[0] = (None, "Shipping", "Shipping work.")
    new.areas[1] = (None, "Mentoring", "Growing other people.")
    for lv in new.levels:
        lv.sections[None][0] = ("Shipping", lv.sections[None][0][1])
    new.levels[1].name = "Lead"
    assert _changes(tmp_path, old, new) == {
        (d.AREA_RENAMED, None, None, "shipping", "Delivery", "Shipping", None),
        (d.AREA_DEFINITION, None, None, "mentoring", "Growing others.", "Growing other people.", None),
        (d.LEVEL_RENAMED, 2, None, None, "Senior", "Lead", None),
    }


def test_framework_json_has_stable_ids_and_sources_last(tmp_path):
    """A line inserted on a page changes only `sources`; a reworded statement changes only its id."""
    def build(root):
        fw = _read(root)
        ex = JsonExporter()
        [doc] = ex.plan(fw)
        return json.loads(ex.render(fw, doc, Context(TEMPLATES, build_time(), "x")))

    spec = small_craft({"Delivery1": ["I deliver at level 1.", "I write it down."]})
    first = build(write_framework(tmp_path / "a", [spec]))
    root = write_framework(tmp_path / "b", [spec])
    page = root / "test" / "level1.md"
    page.write_text(page.read_text("utf-8").replace("## Craft\n", "An introduction.\n\n\n## Craft\n", 1), "utf-8")
    second = build(root)
    assert list(second)[-1] == "sources"
    assert {k: v for k, v in first.items() if k != "sources"} == {k: v for k, v in second.items() if k != "sources"}
    assert first["sources"]["statements"].keys() == second["sources"]["statements"].keys()
    assert first["sources"] != second["sources"]  # the lines moved, and are kept

    spec.levels[0].sections[None][0] = ("Delivery", ["I deliver at level 1.", "I write it all down."])
    third = build(write_framework(tmp_path / "c", [spec]))
    ids = lambda m: [s["id"] for c in m["crafts"] for lv in c["levels"] for e in lv["expectations"]
                     for s in e["statements"]]
    changed = [(a, b) for a, b in zip(ids(first), ids(third)) if a != b]
    assert len(changed) == 1 and changed[0][0].startswith("test/1/delivery/")
    assert len(set(ids(first))) == len(ids(first))


HOSTILE = ["[click](http://evil.example) <b>bold</b> @everyone $x^2$ | cell", "=1+1", "# not a heading",
           "![img](x.png) *em* `code` ~~gone~~ {{ liquid }}"]


def test_hostile_text_is_written_literally_in_markdown_and_excel(tmp_path):
    old_v = read_folder(write_framework(tmp_path / "old", [small_craft()]), None)
    new_v = read_folder(write_framework(tmp_path / "new", [small_craft({"Delivery1": HOSTILE})]), None)
    changes = diff(old_v.framework, new_v.framework)
    files = render(old_v, new_v, changes, ("md", "xlsx"), Context(TEMPLATES, build_time(), "x"))
    html = MarkdownIt("commonmark").enable("table").enable("strikethrough").render(files["changes.md"].decode("utf-8"))
    assert "<a " not in html and "<img" not in html and "<b>" not in html and "<code>" not in html
    assert "<del>gone" not in html and "<h1>not" not in html and "<table" not in html
    assert "[click](http://evil.example) &lt;b&gt;bold&lt;/b&gt; @everyone $x^2$ | cell" in html
    ws = openpyxl.load_workbook(io.BytesIO(files["changes.xlsx"]))["Changes"]
    cells = [c for row in ws.iter_rows() for c in row if c.value in HOSTILE]
    assert {c.value for c in cells} >= set(HOSTILE[1:]) and all(c.data_type == "s" for c in cells)


def test_the_shipped_framework_against_itself_has_no_changes():
    fw = _read(FRAMEWORK)
    assert diff(fw, fw) == []
