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
