"""The company's look, kept in files HR can edit: `templates/theme.yaml` (colours, fonts,
page and card sizes, one section per exporter) and jinja2 text templates (`*.j2`).

Framework text only ever reaches jinja2 as a variable, never as template source, and
the environment is sandboxed with StrictUndefined: a typo in a template fails loudly.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from cfexport.exporters.base import ExportError

THEME_FILE = "theme.yaml"
MAX_THEME_BYTES = 256 * 1024


def default_templates() -> Path:
    """`./templates` when the current folder has one, else the copy shipped in the package."""
    here = Path("templates")
    if here.is_dir():
        return here
    from importlib.resources import files

    return Path(str(files("cfexport._templates")))


@lru_cache(maxsize=8)
def load_theme(templates: Path) -> dict:
    """The theme as a dict (empty when there is no theme file)."""
    path = Path(templates) / THEME_FILE
    if not path.is_file():
        return {}
    data = path.read_bytes()
    if len(data) > MAX_THEME_BYTES:
        raise ExportError(f"{path}: theme file is larger than {MAX_THEME_BYTES // 1024} KiB")
    try:
        theme = yaml.safe_load(data.decode("utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ExportError(f"{path}: not a valid theme file: {exc}") from None
    if theme is None:
        return {}
    if not isinstance(theme, dict):
        raise ExportError(f"{path}: a theme file is a set of 'key: value' lines")
    return theme


_HEX = re.compile(r"#?([0-9A-Fa-f]{6})")


def hex_colour(value: object) -> str | None:
    """A theme colour as six upper-case hex digits ("1F3A5F" or "#1f3a5f"); None if it is not one."""
    m = _HEX.fullmatch(value.strip()) if isinstance(value, str) else None
    return m.group(1).upper() if m else None


def section(templates: Path, name: str) -> dict:
    """One exporter's section of the theme, merged over the shared `colours` and `fonts`."""
    theme = load_theme(Path(templates))
    own = theme.get(name) or {}
    if not isinstance(own, dict):
        raise ExportError(f"{Path(templates) / THEME_FILE}: section '{name}' must be a set of 'key: value' lines")
    return {"colours": theme.get("colours") or {}, "fonts": theme.get("fonts") or {}, **own}


@lru_cache(maxsize=8)
def _environment(templates: Path):
    from jinja2 import FileSystemLoader, StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(
        loader=FileSystemLoader(str(templates)),
        undefined=StrictUndefined,
        autoescape=False,  # the output is Word/Excel/PDF text, escaped by each writer itself
        keep_trailing_newline=False,
    )


def render_text(templates: Path, name: str, **variables) -> str:
    """Render the text template `name` (e.g. "role-introduction.txt.j2") with plain values."""
    from jinja2 import TemplateError

    path = Path(templates) / name
    try:
        return _environment(Path(templates)).get_template(name).render(**variables).strip()
    except TemplateError as exc:
        line = getattr(exc, "lineno", None) or _template_line(exc, path)
        where = f"{path}:{line}" if line else str(path)
        raise ExportError(f"{where}: template error: {exc}") from None


def _template_line(exc: BaseException, path: Path) -> int | None:
    """The line of `path` a runtime template error happened on (jinja2 maps template
    frames back to the template file in the traceback)."""
    line, tb = None, exc.__traceback__
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename).resolve() == path.resolve():
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
