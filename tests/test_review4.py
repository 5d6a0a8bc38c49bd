"""Review 4: defects found by using cfexport on inputs nobody on the project wrote, each as a test.

Fixtures have the shape real inputs have (pages as authors write them, a CSV as a spreadsheet saves it);
golden values come from the text written here, never from cfexport."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner
from conftest import FRAMEWORK
from readback import docx_text

from cfexport.cli import main

EPOCH = {"SOURCE_DATE_EPOCH": "1700000000"}

DESIGN = "I design components of ML systems with guidance, and explain the trade-offs I made."


def cli(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, list(args), env=env)


def _framework(tmp_path: Path) -> tuple[Path, Path]:
    fw = tmp_path / "framework"
    shutil.copytree(FRAMEWORK, fw)
    return fw, fw / "mlengineer" / "level6.md"


def _level6(out: Path) -> dict[str, list[str]]:
    data = json.loads((out / "framework.json").read_text("utf-8"))
    level6 = next(lv for lv in data["crafts"][0]["levels"] if lv["number"] == 6)
    return {e["area_id"]: [s["text"] for s in e["statements"]] for e in level6["expectations"]}


# --- rows commented out: two comments, or a comment after a blank line ----------------------------------------------

def _hide_rows(page: Path, hide: str) -> int:
    """Comment out the 'AI Governance' and 'AI Strategy' rows of the page as `hide` says; the line of
    the 'Architecture Design' row that follows them."""
    lines = page.read_text("utf-8").split("\n")
    gov = next(n for n, t in enumerate(lines) if t.startswith("| [AI Governance]"))
    assert lines[gov + 1].startswith("| [AI Strategy]")
    rows = lines[gov:gov + 2]
    if hide == "two comments":
        new = ["<!--", rows[0], "-->", f"<!-- {rows[1]} -->"]
    else:  # "blank line, then a comment": the author left a gap where the rows were
        new = ["", "<!--", rows[0], rows[1], "-->"]
    lines[gov:gov + 2] = new
    page.write_text("\n".join(lines), "utf-8")
    return next(n for n, t in enumerate(lines, 1) if t.startswith("| [Architecture Design]"))


def _check_rows_after_comments(tmp_path: Path, hide: str) -> None:
    fw, page = _framework(tmp_path)
    design_line = _hide_rows(page, hide)
    out = tmp_path / "out"
    result = cli("build", "--framework", str(fw), "--out", str(out), "--format", "json", "--format", "docx",
                 "--jobs", "1", env=EPOCH)
    assert result.exit_code == 0, result.output
    assert "leaves out the area 'AI Strategy'" in result.output  # hidden by the author
    assert "leaves out the area 'Architecture Design'" not in result.output, result.output
    got = _level6(out)
    assert got.get("architecture-design") == [DESIGN], got
    assert "ai-governance" not in got and "ai-strategy" not in got
    data = json.loads((out / "framework.json").read_text("utf-8"))
    assert data["sources"]["expectations"]["mlengineer/6/architecture-design"]["line"] == design_line
    role = docx_text(out / "role-descriptions" / "ml-and-edge-ml-engineer-craft" / "ml-engineer-level-6.docx")
    assert DESIGN in role
    assert "I check my own models for bias and drift before they are released" not in role


def test_rows_after_two_commented_out_rows_are_read(tmp_path):
    """Two rows hidden one after the other, each with its own comment (`<!--`...`-->` over three lines,
    then `<!-- | row | -->` on one): the rows after the second comment were dropped ('Architecture
    Design' and 'Technical Strategy' left out of every document, with only 'leaves out the area'
    warnings). On the site the comments are invisible and the rows after them are shown."""
    _check_rows_after_comments(tmp_path, "two comments")


def test_rows_after_a_blank_line_and_a_commented_out_row_are_read(tmp_path):
    """A blank line inside the table, then a comment hiding rows: the rows after the comment were dropped."""
    _check_rows_after_comments(tmp_path, "blank line, then a comment")


# --- a footnote marker inside code --------------------------------------------------------------------------------------

def test_a_footnote_marker_inside_code_is_code_not_a_footnote(tmp_path):
    """A statement quoting a regular expression in code (`` `[^1]` ``) on a page that also has a footnote 1:
    kramdown never reads a footnote marker inside a code span, so the site shows the code as written. The
    reader dropped it from the code ('I match IDs with the pattern `` on ...'), with a footnote warning."""
    fw, page = _framework(tmp_path)
    text = page.read_text("utf-8")
    old = "I design components of ML systems with guidance, and explain the trade-offs I made. |"
    assert old in text
    page.write_text(text.replace(old, "I design components of ML systems with guidance[^1]. <br><br> I match "
                                      "IDs with the pattern `v[^1]` and `[^a-z]`. |")
                    + "\n[^1]: With a senior engineer.\n\n[^a-z]: Not a real note.\n", "utf-8")
    out = tmp_path / "out"
    result = cli("build", "--framework", str(fw), "--out", str(out), "--format", "json", "--format", "docx",
                 "--jobs", "1", env=EPOCH)
    assert result.exit_code == 0, result.output
    assert result.output.count("warning: footnote [^1] left out") == 1, result.output
    assert "footnote [^a-z]" not in result.output, result.output
    got = _level6(out)
    assert got["architecture-design"] == ["I design components of ML systems with guidance.",
                                          "I match IDs with the pattern v[^1] and [^a-z]."], got


# --- a framework titled "The ...": the documents' properties ------------------------------------------------------------

def test_a_framework_titled_the_is_never_the_the_in_the_documents_properties(tmp_path):
    """The introductions say 'of The Acme Framework' since review 3, but the role descriptions' Comments
    ('Made by cfexport from the The Acme Framework ...', shown in Word's File > Info) and the level
    cards' Subject ('Level cards of the The Acme Framework: ...') still put 'the' before the title."""
    import subprocess

    import docx
    from conftest import need_tool

    fw, _ = _framework(tmp_path)
    for page in [fw / "index.md", *(fw / "mlengineer").glob("*.md")]:
        text = page.read_text("utf-8")
        page.write_text(text.replace("Vaarst Career Framework", "The Acme Framework"), "utf-8")
    out = tmp_path / "out"
    result = cli("build", "--framework", str(fw), "--out", str(out), "--format", "docx", "--format", "pdf",
                 "--jobs", "1", env=EPOCH)
    assert result.exit_code == 0, result.output
    role = docx.Document(str(out / "role-descriptions" / "ml-and-edge-ml-engineer-craft" / "ml-engineer-level-6.docx"))
    assert role.core_properties.comments.startswith("Made by cfexport from The Acme Framework ("), \
        role.core_properties.comments
    info = subprocess.run([need_tool("pdfinfo"), str(out / "level-cards" / "ml-and-edge-ml-engineer-craft.pdf")],
                          capture_output=True, text=True, check=True).stdout
    assert "Level cards of The Acme Framework: ML and Edge ML Engineer Craft" in info, info
    assert "the The" not in info


# --- build --watch: a theme value the exporters refuse ----------------------------------------------------------------

def test_watch_reports_a_bad_theme_colour_at_its_line_as_build_does(tmp_path):
    """HR sets the theme's shared colour `colours: primary` to a value that is not a colour while
    `build --watch` runs. `cfexport build` says 'theme.yaml:11: error: ... (or colours.primary) ...'; watch
    only checked the theme's keys and types, so the error came from whichever exporter ran first, without a
    line and naming a key the user never wrote ('theme.yaml: pdf: colours: band: ...' with the PDF level
    cards). It is reported as build reports it, the previous output is kept, and the fix is rebuilt."""
    import os
    import queue
    import signal
    import subprocess
    import sys
    import threading
    import time

    from conftest import ROOT

    fw, _ = _framework(tmp_path)
    templates, out = tmp_path / "templates", tmp_path / "out"
    shutil.copytree(ROOT / "templates", templates)
    theme = templates / "theme.yaml"
    good_theme = theme.read_text("utf-8")
    assert good_theme.count('primary: "1F3A5F"') == 1
    line = next(n for n, t in enumerate(good_theme.split("\n"), 1) if t.strip().startswith('primary: "1F3A5F"'))

    proc = subprocess.Popen([sys.executable, "-m", "cfexport", "build", "--watch", "--framework", str(fw), "--out",
                             str(out), "--templates", str(templates), "--format", "json", "--format", "pdf",
                             "--jobs", "1"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000", "PYTHONUNBUFFERED": "1"},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout] + [lines.put(None)], daemon=True).start()
    seen: list[str] = []

    def wait_for(text: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                got = lines.get(timeout=1)
            except queue.Empty:
                continue
            if got is None:
                break
            seen.append(got)
            if text in got:
                return
        raise AssertionError(f"no line with {text!r} in:\n{''.join(seen)}")

    try:
        wait_for("watching")
        cards = (out / "level-cards" / "ml-and-edge-ml-engineer-craft.pdf").read_bytes()
        theme.write_text(good_theme.replace('primary: "1F3A5F"', 'primary: "1F3A5"'), "utf-8")
        wait_for("the previous output is kept")
        assert (out / "level-cards" / "ml-and-edge-ml-engineer-craft.pdf").read_bytes() == cards
        reported = [x for x in seen if f"theme.yaml:{line}: error:" in x]
        assert reported and "colours.primary" in reported[0] and "'1F3A5'" in reported[0], "".join(seen)
        assert "band" not in "".join(seen)
        theme.write_text(good_theme.replace('primary: "1F3A5F"', 'primary: "AA3A5F"'), "utf-8")
        wait_for("rebuilt 1 file(s)")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in "".join(seen)


# --- serve: a theme value the exporters refuse ---------------------------------------------------------------------------

def test_serve_lists_a_bad_theme_colour_on_the_problems_page_it_points_to(tmp_path):
    """With `colours: primary: "ZZZ"` in the theme, a level card's download is refused with 'fix it and reload
    this page; the problems page lists what validate reports', but the problems page listed nothing: it
    checked only the theme's keys and types, where `cfexport validate` also reports the values the exporters
    refuse, at their line."""
    import re

    import pytest

    pytest.importorskip("starlette")
    from conftest import ROOT
    from starlette.testclient import TestClient

    from cfexport.web.app import create_app

    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    theme = templates / "theme.yaml"
    text = theme.read_text("utf-8")
    assert text.count('primary: "1F3A5F"') == 1
    line = next(n for n, t in enumerate(text.split("\n"), 1) if t.strip().startswith('primary: "1F3A5F"'))
    theme.write_text(text.replace('primary: "1F3A5F"', 'primary: "ZZZ"'), "utf-8")

    # raise_server_exceptions (the default): the refusal is an answer, not an exception the server logs as a crash
    with TestClient(create_app(FRAMEWORK, templates, tmp_path / "out")) as c:
        card = c.get("/roles/mlengineer/ml-engineer/5/level-card.pdf")
        assert "the problems page lists" in card.text
        assert card.status_code == 503 and "Traceback" not in card.text
        problems = c.get("/problems")
    assert problems.status_code == 200
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", problems.text))
    assert "theme.yaml" in page and f"{line}" in page and "colours.primary" in page and "ZZZ" in page, page


def test_site_data_files_reach_the_pages_as_on_the_site(tmp_path):
    """Jekyll loads `_data/*.yml|json|csv` into `site.data`; a cell reading `{{ site.data.terms.sla }}` shows
    that text on the site. `_data` was not loaded: the cell lost the text ("within ."), without a warning."""
    from sitefixture import make_site

    site = make_site(tmp_path)
    (site / "_data" / "teams").mkdir(parents=True)
    (site / "_data" / "terms.yml").write_text("sla: \"the team's service levels\"\nlevels: [junior, senior]\n", "utf-8")
    (site / "_data" / "teams" / "data.json").write_text('{"lead": "the data lead"}', "utf-8")
    (site / "_data" / "owners.csv").write_text("area,owner\r\npipelines,the platform team\r\n", "utf-8")
    (site / "_data" / "broken.yml").write_text("a: 1\na: 2\n", "utf-8")  # a duplicate key: a warning, left out
    level6 = site / "careers" / "engineering" / "level6.markdown"
    text = level6.read_text("utf-8")
    old = "At level 6 I design streaming and batch pipelines and own them in production. |"
    assert old in text
    level6.write_text(text.replace(old, "At level 6 I design pipelines within {{ site.data.terms.sla }}, agreed with "
                                        "{{ site.data.teams.data.lead }} and {{ site.data.owners[0].owner }}. |"),
                      "utf-8")
    out = tmp_path / "out"
    result = cli("build", "--framework", str(site), "--out", str(out), "--format", "json", "--jobs", "1", env=EPOCH)
    assert result.exit_code == 0, result.output
    statements = [s["text"] for c in json.loads((out / "framework.json").read_text("utf-8"))["crafts"]
                  for lv in c["levels"] for e in lv["expectations"] for s in e["statements"]]
    assert ("At level 6 I design pipelines within the team’s service levels, agreed with the data lead and the "
            "platform team.") in statements, statements
    assert "_data/broken.yml:2: warning:" in result.output and "site.data leaves this file out" in result.output
