"""Hostile and careless text, end to end through every exporter: nothing lost, nobody fooled.

One framework per failure class of ../shared/docs/reliability-catalogue.md that applies
to cfexport; each is built by the real CLI and every document is read back.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from factory import CraftSpec, LevelSpec, write_framework
from readback import docx_text, pdf_text, squash, xlsx_cells

from cfexport.cli import main

# (failure class, statements). Each statement must come out of every document exactly.
CLASSES = {
    "markup": ["<b>bold</b> & <script>alert(1)</script> </para> <br/> &amp; &nbsp; &bogus;",
               "a < b > c & d \\ e * f _ g ` h [i](j) # k"],
    "formulas": ["=HYPERLINK(\"http://evil\",\"click\")", "+1+1", "-2+3", "@SUM(A1:A2)", "=1+1",
                 "\t=tab first"],
    "templates": ["{{ 7 * 7 }} {% for x in range(3) %}x{% endfor %} {# c #}",
                  "{{ ''.__class__.__mro__ }}"],
    "scripts": ["Café naïve façade Ελληνικά Кириллица", "“quotes” ‘single’ – en — em … •"],
    "wide_scripts": ["中文 日本語 한국어", "عربية עברית 😀 👩‍💻"],
    "paths": ["../../etc/passwd", "C:\\Windows\\System32 CON NUL.txt"],
}
PDF_FONT_COVERS = {"markup", "formulas", "templates", "scripts", "paths"}


def _framework(root: Path, statements: list[str], title: str = "Hostile Craft") -> Path:
    areas = [(None, "Area one", "First area."), (None, "Area two", "Second area.")]
    levels = [LevelSpec(1, "One", {None: [("Area one", statements), ("Area two", ["plain"])]}),
              LevelSpec(2, "Two", {None: [("Area one", ["next " + s for s in statements]),
                                          ("Area two", ["plain"])]})]
    return write_framework(root, [CraftSpec(title, "hostile", areas, levels)], title="../Hostile {{x}}")


def _build(fw: Path, out: Path):
    result = CliRunner().invoke(main, ["build", "--framework", str(fw), "--out", str(out), "--jobs", "1"])
    assert "Traceback" not in result.output
    return result


@pytest.mark.parametrize("klass", sorted(CLASSES))
def test_every_statement_survives_every_exporter_literally(tmp_path, klass):
    statements = [s.strip() for s in CLASSES[klass]]
    fw = _framework(tmp_path / "fw", statements)
    out = tmp_path / "out"
    result = _build(fw, out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fw", "out"]  # nothing outside --out
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    for entry in manifest["files"]:
        assert (out / entry["path"]).resolve().is_relative_to(out.resolve())
    docs = [out / e["path"] for e in manifest["files"]]
    expected = statements + ["next " + s for s in statements]

    for path in [d for d in docs if d.suffix == ".docx"]:
        text = docx_text(path)
        level = 1 if path.stem.endswith("1") else 2
        for s in expected if level == 1 else expected[len(statements):]:
            assert s in text, (path.name, s)

    [xlsx] = [d for d in docs if d.suffix == ".xlsx"]
    cells = xlsx_cells(xlsx)
    assert not [c for c in cells if c.data_type == "f"], "a framework text became a formula"
    strings = "\n".join(str(c.value) for c in cells)
    for s in expected:
        assert s in strings, s

    [pdf] = [d for d in docs if d.suffix == ".pdf"]
    text = squash(pdf_text(pdf))
    if klass in PDF_FONT_COVERS:
        for s in expected:
            assert squash(s) in text, s
    else:  # the shipped font cannot draw these: each statement is reported, never silently boxed
        warned = [ln for ln in result.output.splitlines() if "hostile/level1.md:16: warning:" in ln]
        assert any("cannot be printed" in ln for ln in warned), result.output
        assert any("right-to-left" in ln for ln in warned), result.output


def test_control_characters_are_dropped_with_a_warning_and_the_rest_kept(tmp_path):
    fw = _framework(tmp_path / "fw", ["keep\x00 this\x1b text\x0b here\ufffe"])
    out = tmp_path / "out"
    result = _build(fw, out)
    assert result.exit_code == 0, result.output
    assert f"{fw / 'hostile' / 'level1.md'}:16: warning: removed character(s)" in result.output
    [docx] = list(out.rglob("*1.docx"))
    assert "keep this text here" in docx_text(docx)


def test_broken_html_entities_for_surrogates_do_not_corrupt_anything(tmp_path):
    fw = _framework(tmp_path / "fw", ["ok"])
    page = fw / "hostile" / "level1.md"
    page.write_text(page.read_text("utf-8").replace("| ok |", "| emoji &#55357;&#56832; half |"), "utf-8")
    result = _build(fw, tmp_path / "out")
    assert result.exit_code == 0, result.output
    [xlsx] = list((tmp_path / "out").rglob("*.xlsx"))
    assert any("half" in str(c.value) for c in xlsx_cells(xlsx))


def test_a_statement_too_long_for_an_excel_cell_is_an_error_naming_file_and_line(tmp_path):
    fw = _framework(tmp_path / "fw", ["word " * 7000])
    out = tmp_path / "out"
    result = _build(fw, out)
    assert result.exit_code != 0
    assert "hostile/level1.md:16" in result.output and "32" in result.output
    assert not out.exists()


def test_an_empty_cell_reads_the_same_in_every_format(tmp_path):
    """An empty Description cell sets no expectations; only a TODO cell is "not yet defined"."""
    fw = _framework(tmp_path / "fw", ["ok"])
    page = fw / "hostile" / "level1.md"
    page.write_text(page.read_text("utf-8").replace("| plain |", "|  |"), "utf-8")
    out = tmp_path / "out"
    assert _build(fw, out).exit_code == 0
    [docx] = list(out.rglob("*level-1.docx"))
    text = docx_text(docx)
    area_two = text.split("Area two", 1)[1].split("What changes", 1)[0]
    assert "sets no expectations" in area_two and "Not yet defined" not in area_two
    cells = [str(c.value) for c in xlsx_cells(out / "competency-matrix.xlsx")]
    legends = cells.count("Not yet defined (TODO)")  # the About sheet's legend only
    assert legends == 1 and cells.count("Not described at this level") == legends + 1  # + the empty cell
    cards = pdf_text(next(out.rglob("*.pdf")))
    assert "No expectations at this level" in cards and "Not yet defined" not in cards
