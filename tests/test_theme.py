"""Text templates: a typo fails loudly naming the file, and a template cannot reach Python."""

from __future__ import annotations

import pytest

from cfexport.exporters.base import ExportError
from cfexport.theme import render_text


def test_an_undefined_variable_is_an_error_naming_the_template(tmp_path):
    (tmp_path / "intro.txt.j2").write_text("Hello {{ persn }}\n", "utf-8")
    with pytest.raises(ExportError) as err:
        render_text(tmp_path, "intro.txt.j2", person="Ada")
    assert "intro.txt.j2:1" in str(err.value) and "persn" in str(err.value)


def test_a_template_cannot_reach_python_internals(tmp_path):
    (tmp_path / "evil.txt.j2").write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}", "utf-8")
    with pytest.raises(ExportError, match="evil.txt.j2"):
        render_text(tmp_path, "evil.txt.j2")


def test_values_are_never_template_source(tmp_path):
    (tmp_path / "t.txt.j2").write_text("Role: {{ role }}", "utf-8")
    assert render_text(tmp_path, "t.txt.j2", role="{{ 7*7 }} {% raw %}") == "Role: {{ 7*7 }} {% raw %}"


# --- the theme file: read as strictly as front matter ----------------------------------------

import re  # noqa: E402
from pathlib import Path  # noqa: E402

from click.testing import CliRunner  # noqa: E402
from conftest import FRAMEWORK, ROOT, TEMPLATES  # noqa: E402

from cfexport.cli import main  # noqa: E402


def _theme_dir(tmp_path: Path, text: str, name: str = "theme.yaml") -> Path:
    """A copy of the shipped templates whose theme file is `text`."""
    import shutil

    folder = tmp_path / "tpl"
    shutil.copytree(TEMPLATES, folder, ignore=shutil.ignore_patterns("__pycache__", "*.py", "theme.yaml"))
    (folder / name).write_text(text, "utf-8")
    return folder


def _cli(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def test_a_duplicate_key_in_the_theme_is_an_error_naming_both_lines(tmp_path):
    tpl = _theme_dir(tmp_path, 'colours:\n  primary: "1F3A5F"\n\nfonts:\n  body: X\ncolours:\n  accent: "2E86AB"\n')
    want = f"{tpl / 'theme.yaml'}:6: error: duplicate key 'colours' (first on line 1); keep one"
    result = _cli("validate", "--framework", str(FRAMEWORK), "--templates", str(tpl))
    assert result.exit_code == 1 and want in result.output.splitlines(), result.output
    result = _cli("build", "--framework", str(FRAMEWORK), "--templates", str(tpl), "--out", str(tmp_path / "o"),
                  "--format", "json", "--jobs", "1")
    assert result.exit_code == 1 and want in result.output.splitlines(), result.output
    assert not (tmp_path / "o").exists()


def test_a_duplicate_nested_key_is_an_error_too(tmp_path):
    tpl = _theme_dir(tmp_path, "pdf:\n  card_size: A6\n  gutter: 0\n  card_size: A5\n")
    result = _cli("validate", "--framework", str(FRAMEWORK), "--templates", str(tpl))
    assert f"{tpl / 'theme.yaml'}:4: error: duplicate key 'card_size' (first on line 2); keep one" \
        in result.output.splitlines(), result.output
    assert result.exit_code == 1


@pytest.mark.parametrize("text, line, key, suggestion", [
    ('# my theme\n\ncolors:\n  primary: "1F3A5F"\n', 3, "colors", "colours"),
    ("pdf:\n  card_size: A6\n  card_sise: A6\n", 3, "pdf.card_sise", "pdf.card_size"),
    ("xlsx:\n  widths:\n    aera: 30\n", 3, "xlsx.widths.aera", "xlsx.widths.area"),
    ("docx:\n  labels:\n    expectation: What you do\n", 3, "docx.labels.expectation", "docx.labels.expectations"),
])
def test_an_unknown_key_is_a_warning_naming_the_closest_known_key(tmp_path, text, line, key, suggestion):
    tpl = _theme_dir(tmp_path, text)
    want = f"{tpl / 'theme.yaml'}:{line}: warning: unknown key '{key}' (did you mean '{suggestion}'?)"
    result = _cli("validate", "--framework", str(FRAMEWORK), "--templates", str(tpl), "--allow", "todo")
    assert want in result.output.splitlines(), result.output
    assert result.exit_code == 0, result.output
    strict = _cli("validate", "--framework", str(FRAMEWORK), "--templates", str(tpl), "--allow", "todo", "--strict")
    assert strict.exit_code == 1 and want in strict.output.splitlines()


def test_theme_warnings_surface_in_build_output_and_fail_a_strict_build(tmp_path):
    tpl = _theme_dir(tmp_path, 'colors:\n  primary: "1F3A5F"\n')
    want = f"{tpl / 'theme.yaml'}:1: warning: unknown key 'colors' (did you mean 'colours'?)"
    from factory import small_craft, write_framework

    fw = write_framework(tmp_path / "fw", [small_craft()])
    page = fw / "test" / "level1.md"
    page.write_text(page.read_text("utf-8").replace("| TODO |", "| I mentor. |"), "utf-8")  # no warnings left
    out = tmp_path / "o"
    args = ["build", "--framework", str(fw), "--templates", str(tpl), "--out", str(out), "--format", "json",
            "--jobs", "1"]
    result = _cli(*args)
    assert result.exit_code == 0 and want in result.output.splitlines(), result.output
    assert _cli("validate", "--framework", str(fw), "--strict").exit_code == 0
    result = _cli(*args, "--strict")
    assert result.exit_code == 1 and want in result.output.splitlines(), result.output


@pytest.mark.parametrize("name", ["theme.yml", "Theme.yaml"])
def test_a_misnamed_theme_file_is_an_error_saying_to_rename_it(tmp_path, name):
    tpl = _theme_dir(tmp_path, 'colours:\n  primary: "1F3A5F"\n', name)
    result = _cli("validate", "--framework", str(FRAMEWORK), "--templates", str(tpl))
    assert result.exit_code == 1, result.output
    [line] = [ln for ln in result.output.splitlines() if ": error: " in ln]
    assert line.startswith(f"{tpl / name}: error: ") and "rename it to theme.yaml" in line, line


@pytest.mark.parametrize("text, line, key, words", [
    ("xlsx:\n  font_size: ten\n", 2, "xlsx.font_size", "must be a number, not 'ten'"),
    ("docx:\n  evidence_rows: 2.5\n", 2, "docx.evidence_rows", "must be a whole number, not '2.5'"),
    ("pdf:\n  cut_marks: maybe\n", 2, "pdf.cut_marks", "must be true or false, not 'maybe'"),
    ("pdf:\n  cards_per_sheet: [2, two]\n", 2, "pdf.cards_per_sheet", "must be a whole number, not 'two'"),
    ("colours: blue\n", 1, "colours", "must be a set of 'key: value' lines"),
])
def test_a_bad_value_is_an_error_naming_file_line_and_key(tmp_path, text, line, key, words):
    tpl = _theme_dir(tmp_path, text)
    result = _cli("validate", "--framework", str(FRAMEWORK), "--templates", str(tpl))
    assert result.exit_code == 1, result.output
    want = f"{tpl / 'theme.yaml'}:{line}: error: {key} {words}"
    assert want in result.output.splitlines(), result.output


def test_theme_values_are_the_text_written_and_typed_only_where_the_exporters_need_numbers(tmp_path):
    from cfexport.theme import load_theme

    # YAML 1.1 would read 000777 as the octal number 511 and `no` as false
    tpl = _theme_dir(tmp_path, "colours:\n  primary: 000777\nfonts:\n  body: no\n"
                               "xlsx:\n  font_size: 12\n  widths:\n    area: 30.5\n  ratings: [No, Yes]\n"
                               "pdf:\n  cut_marks: false\n  cards_per_sheet: [1, 1]\n  card_size: [90, 50]\n"
                               "  page_size: card\n  gutter:\n")
    theme = load_theme(tpl)
    assert theme["colours"]["primary"] == "000777" and theme["fonts"]["body"] == "no"
    assert theme["xlsx"]["font_size"] == 12 and theme["xlsx"]["widths"]["area"] == 30.5
    assert theme["xlsx"]["ratings"] == ["No", "Yes"]
    assert theme["pdf"]["cut_marks"] is False and theme["pdf"]["cards_per_sheet"] == [1, 1]
    assert theme["pdf"]["card_size"] == [90, 50] and theme["pdf"]["page_size"] == "card"
    assert theme["pdf"]["gutter"] is None  # empty: the exporter's default


def test_anchors_and_oversized_themes_are_refused_like_front_matter(tmp_path):
    tpl = _theme_dir(tmp_path, "colours: &c\n  primary: 1F3A5F\nfonts: *c\n")
    result = _cli("validate", "--framework", str(FRAMEWORK), "--templates", str(tpl))
    assert result.exit_code == 1
    assert any(ln.startswith(f"{tpl / 'theme.yaml'}:3: error: ") and "anchors and aliases" in ln
               for ln in result.output.splitlines()), result.output
    (tpl / "theme.yaml").write_text("# padding\n" * 8000, "utf-8")
    result = _cli("validate", "--framework", str(FRAMEWORK), "--templates", str(tpl))
    assert result.exit_code == 1 and f"{tpl / 'theme.yaml'}: error: " in result.output
    assert "larger than 64 KiB" in result.output


def test_the_shipped_theme_has_no_problems():
    from cfexport.theme import check_theme

    assert check_theme(TEMPLATES) == []


def _exporter_keys() -> dict[str, set[str]]:
    """The theme keys the exporters read, found in their source (not in theme.py)."""
    from cfexport.exporters import card_settings, spreadsheet, word_template

    src = (ROOT / "src/cfexport/exporters/spreadsheet.py").read_text("utf-8")
    xlsx = set(re.findall(r'raw\.get\("(\w+)"', src)) | set(re.findall(r'colour\("(\w+)"', src))
    xlsx -= {"colours", "fonts"}  # the shared sections, merged in by theme.section()
    return {
        "docx": {"template", "evidence_rows", "labels"} | {f"labels.{k}" for k in word_template.LABELS},
        "xlsx": xlsx | {f"widths.{k}" for k in spreadsheet._DEFAULT_WIDTHS},
        "pdf": set(card_settings._DEFAULTS) | {f"fonts.{k}" for k in card_settings._DEFAULTS["fonts"]}
        | {f"colours.{k}" for k in list(card_settings._COLOUR_DEFAULTS) + ["primary", "accent", "todo", "text"]},
    }


def _shipped_keys() -> set[str]:
    """Every key of the shipped theme.yaml, with the commented-out examples (`# key: value`)."""
    keys, stack = set(), []
    for raw in (TEMPLATES / "theme.yaml").read_text("utf-8").splitlines():
        line = re.sub(r"^(\s*)# (\w+:)", r"\1\2", raw)  # uncomment `  # header_fill: ...`
        m = re.match(r"^(\s*)([a-z_]+):", line)
        if not m:
            continue
        depth = len(m.group(1)) // 2
        stack = stack[:depth] + [m.group(2)]
        keys.add(".".join(stack))
    return keys


def test_every_key_the_exporters_read_or_the_shipped_theme_shows_is_known_to_the_theme_check(tmp_path):
    from cfexport.theme import check_theme

    wanted = {f"{section}.{k}" for section, keys in _exporter_keys().items() for k in keys} | _shipped_keys()
    assert "xlsx.header_fill" in wanted and "pdf.colours.band" in wanted and "docx.labels.summary_rows" in wanted
    # a theme that sets every one of them: no warning about any
    leaves = sorted(k for k in wanted if not any(o.startswith(k + ".") for o in wanted))
    lines, stack = [], []
    for key in leaves:
        parts = key.split(".")
        common = 0
        while common < min(len(stack), len(parts) - 1) and stack[common] == parts[common]:
            common += 1
        for depth in range(common, len(parts) - 1):
            lines.append("  " * depth + parts[depth] + ":")
        lines.append("  " * (len(parts) - 1) + parts[-1] + ": x")
        stack = parts[:-1]
    tpl = _theme_dir(tmp_path, "\n".join(lines) + "\n")
    problems = check_theme(tpl)
    assert [p.message for p in problems if "unknown key" in p.message] == []
    # the theme was read to the end: its only errors are the values "x" where a number is due
    assert problems and all(p.severity == "warning" or " must be " in p.message for p in problems), problems


@pytest.mark.parametrize("old, new, words", [
    ("paper: A4", "paper: A5", "paper must be A4 or Letter, not 'A5'"),
    ("card_margin: 6 ", "card_margin: 90 ", "card_margin: 90 must be a number from 0 to 50"),
    ('primary: "1F3A5F"', 'primary: "1F3A5"', "must be a hex colour"),
])
def test_validate_refuses_theme_values_the_exporters_refuse_at_the_line_written(tmp_path, old, new, words):
    """validate said "ok" and the build failed later without a line: now both say it, with the line."""
    from click.testing import CliRunner

    from cfexport.cli import main

    templates = tmp_path / "branding"
    assert CliRunner().invoke(main, ["init-templates", str(templates)]).exit_code == 0
    theme = templates / "theme.yaml"
    text = theme.read_text("utf-8")
    assert old in text
    theme.write_text(text.replace(old, new, 1), "utf-8")
    line = next(i for i, ln in enumerate(theme.read_text("utf-8").split("\n"), 1) if new.strip() in ln)
    for command in (["validate"], ["build", "--out", str(tmp_path / "out"), "--jobs", "1"]):
        result = CliRunner().invoke(main, [*command, "--framework", str(FRAMEWORK), "--templates", str(templates)])
        assert result.exit_code == 1, result.output
        assert f"{theme}:{line}: error: " in result.output and words in result.output, result.output
    assert not (tmp_path / "out").exists()
