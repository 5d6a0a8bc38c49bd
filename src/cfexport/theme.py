"""The company's look, kept in files HR can edit: `templates/theme.yaml` (colours, fonts,
page and card sizes, one section per exporter) and jinja2 text templates (`*.j2`).

Framework text only ever reaches jinja2 as a variable, never as template source, and
the environment is sandboxed with StrictUndefined: a typo in a template fails loudly.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cfexport import frontmatter
from cfexport.exporters.base import ExportError
from cfexport.model import Problem, Source

THEME_FILE = "theme.yaml"


class ThemeError(ExportError):
    """The theme or a template cannot be used: FILE[:LINE]: error: message (no line for a whole file)."""

    def __str__(self) -> str:
        if self.source is None:
            return f"error: {self.message}"
        where = f"{self.source.file}:{self.source.line}" if self.source.line else self.source.file
        return f"{where}: error: {self.message}"


def shipped_templates() -> Path:
    """The templates shipped in the package (`templates/` of this repository)."""
    from importlib.resources import files

    return Path(str(files("cfexport._templates")))


def default_templates() -> Path:
    """`./templates` when it holds a theme (it is ours, not some other tool's folder of
    templates), else the copy shipped in the package."""
    here = Path("templates")
    if here.is_dir() and (here / THEME_FILE).is_file() or _misnamed(here):
        return here
    return shipped_templates()


# --- what a theme may hold ------------------------------------------------------------------
# The keys come from the shipped templates/theme.yaml (with its commented-out examples) and
# from what the exporters read (docx: exporters/word_template.py settings(); xlsx: exporters/spreadsheet.py
# _load_settings(); pdf: exporters/card_settings.py load_settings()); tests/test_theme.py checks both.
# Every value is read as the text written; the values the exporters need as numbers or
# yes/no are converted here, and one that is not is an error naming file, line and key.


@dataclass(frozen=True)
class _Spec:
    scalar: str | None = "text"  # "text", "int", "number" or "bool"; None: a single value is wrong here
    items: str | None = None  # a list of these ("text", "int", "number"); None: a list is wrong here
    keys: dict | None = None  # a set of 'key: value' lines with these keys


TEXT, INT, NUMBER, BOOL = _Spec(), _Spec("int"), _Spec("number"), _Spec("bool")
TEXTS = _Spec(None, "text")


def _keys(**keys: _Spec) -> _Spec:
    return _Spec(None, None, keys)


_COLOURS = _keys(primary=TEXT, accent=TEXT, todo=TEXT, new=TEXT, text=TEXT)
_LABELS = ("subtitle expectations not_defined no_expectations next_level next_level_intro next_not_defined "
           "next_no_expectations next_unchanged new changed previous new_area now_defined promotion_title person role "
           "current_level target_level manager no_manager date how_to_use areas current_expects target_expects "
           "evidence no_evidence summary").split()
SCHEMA = _keys(
    paper=TEXT,
    colours=_COLOURS,
    fonts=_keys(body=TEXT),
    docx=_keys(template=TEXT, evidence_rows=INT, font=TEXT, page=TEXT, logo_alt=TEXT,
               labels=_keys(**dict.fromkeys(_LABELS, TEXT), evidence_columns=TEXTS, summary_rows=TEXTS)),
    xlsx=_keys(font=TEXT, font_size=NUMBER, paper=TEXT, bullet=TEXT, header_fill=TEXT, header_font=TEXT,
               title_font=TEXT, todo_fill=TEXT, new_fill=TEXT, absent_fill=TEXT, absent_font=TEXT,
               widths=_keys(**dict.fromkeys("area scope definition level statement assessment_statement evidence "
                                            "notes".split(), NUMBER)),
               ratings=TEXTS, rating_fills=TEXTS, assessment_help=TEXT),
    pdf=_keys(page_size=_Spec("text", "number"), card_size=_Spec("text", "number"),
              cards_per_sheet=_Spec("text", "int"), gutter=NUMBER, card_margin=NUMBER, cut_marks=BOOL,
              font_size=NUMBER, min_font_size=NUMBER, fonts=_keys(regular=TEXT, bold=TEXT),
              colours=_keys(**{k: TEXT for k in ("band", "band_text", "heading", "bullet", "muted", "cut_marks",
                                                  "border", "primary", "accent", "todo", "text", "new")}),
              logo=TEXT, base_url=TEXT),
)

_KIND = {"text": "a text", "int": "a whole number", "number": "a number", "bool": "true or false"}
_NULL = {"", "~", "null"}
_TRUE, _FALSE = {"true", "yes", "on"}, {"false", "no", "off"}
_INT = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


class _Reader:
    """Walks the theme's node tree along SCHEMA: plain values out, problems noted with their line."""

    def __init__(self, path: Path):
        self.path = path
        self.problems: list[Problem] = []

    def note(self, severity: str, node, message: str) -> None:
        self.problems.append(Problem(severity, Source(str(self.path), node.start_mark.line + 1), message))

    def value(self, node, spec: _Spec | None, key: str):
        from yaml.nodes import MappingNode, ScalarNode, SequenceNode

        if spec is None:  # an unknown key: kept as written, for whoever reads it
            return self.plain(node)
        null = isinstance(node, ScalarNode) and node.style is None and node.value.strip().lower() in _NULL
        if isinstance(node, MappingNode) and spec.keys is not None:
            return self.mapping(node, spec.keys, key)
        if isinstance(node, SequenceNode) and spec.items is not None:
            return [self.scalar(item, spec.items, key) for item in node.value]
        if isinstance(node, ScalarNode) and spec.scalar is not None:
            return self.scalar(node, spec.scalar, key)
        if null:
            return None  # left empty: the exporter's default
        if spec.keys is not None:
            want = "a set of 'key: value' lines"
        elif spec.items is not None and spec.scalar is None:
            want = f"a list like [{'a, b' if spec.items == 'text' else '1, 2'}]"
        else:
            want = _KIND[spec.scalar or "text"]
        self.note("error", node, f"{key} must be {want}")
        return None

    def scalar(self, node, kind: str, key: str):
        from yaml.nodes import ScalarNode

        if not isinstance(node, ScalarNode):
            self.note("error", node, f"{key} must be {_KIND[kind]}, not a list or a set of lines")
            return None
        text = node.value
        if kind == "text":
            return text
        word = text.strip()
        if node.style is None and word.lower() in _NULL:
            return None
        if kind == "bool" and word.lower() in _TRUE | _FALSE:
            return word.lower() in _TRUE
        if kind == "int" and _INT.fullmatch(word):
            return int(word)
        if kind == "number" and _NUMBER.fullmatch(word):
            return int(word) if _INT.fullmatch(word) else float(word)
        self.note("error", node, f"{key} must be {_KIND[kind]}, not {text!r}")
        return None

    def mapping(self, node, keys: dict, prefix: str) -> dict:
        out = {}
        for key_node, value_node in node.value:
            name = str(key_node.value)
            path = f"{prefix}.{name}" if prefix else name
            spec = keys.get(name)
            if spec is None and not (prefix == "" and name in _plugin_sections()):
                known = [f"{prefix}.{k}" if prefix else k for k in keys]
                close = difflib.get_close_matches(path, known, n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"known keys here: {', '.join(known)}"
                self.note("warning", key_node, f"unknown key '{path}' ({hint})")
            out[name] = self.value(value_node, spec, path)
        return out

    def plain(self, node):
        from yaml.nodes import MappingNode, SequenceNode

        if isinstance(node, MappingNode):
            return {str(k.value): self.plain(v) for k, v in node.value}
        if isinstance(node, SequenceNode):
            return [self.plain(v) for v in node.value]
        return node.value


def _plugin_sections() -> set[str]:
    """A plugin exporter reads its own section of the theme, named after it: not unknown."""
    from cfexport.registry import available

    try:
        return set(available())
    except Exception:  # noqa: BLE001 - a broken plugin is reported by the commands that load it
        return set()


def _misnamed(templates: Path) -> Path | None:
    """A theme file under another name (`theme.yml`, `Theme.yaml`) when there is no theme.yaml."""
    try:
        if not templates.is_dir() or (templates / THEME_FILE).is_file():
            return None
        return next((p for p in sorted(templates.iterdir())
                     if p.name.lower() in ("theme.yaml", "theme.yml") and p.is_file()), None)
    except OSError:
        return None


def version(templates: Path) -> tuple:
    """Which theme a cache of what it styles belongs to: the templates folder and its theme
    file's modification time and size (`build --watch` keeps its processes while the theme is
    edited; what they loaded from the theme before must not outlive it)."""
    path = Path(templates).absolute() / THEME_FILE
    try:
        stat = path.stat()
        return path.parent, stat.st_mtime_ns, stat.st_size
    except OSError:
        return path.parent, None, None


def read_theme(templates: Path) -> tuple[dict, tuple[Problem, ...]]:
    """The theme as plain values, and its problems (errors and warnings) with file and line.
    No theme file: an empty theme (every exporter has its defaults). Read once per process
    and version of the file."""
    return _read_theme(Path(templates), version(templates)[1:])


@lru_cache(maxsize=8)
def _read_theme(templates: Path, version) -> tuple[dict, tuple[Problem, ...]]:
    path = templates / THEME_FILE
    other = _misnamed(Path(templates))
    if other is not None:
        return {}, (Problem("error", Source(str(other), 0),
                            f"cfexport reads only {THEME_FILE}, so this file would be ignored; "
                            f"rename it to {THEME_FILE}"),)
    if not path.is_file():
        return {}, ()
    try:
        data = path.read_bytes()
        if len(data) > frontmatter.MAX_YAML:  # before decoding a huge file
            raise frontmatter.YamlError(0, f"the theme is larger than {frontmatter.MAX_YAML // 1024} KiB; shorten it")
        node = frontmatter.compose(data.decode("utf-8-sig"), first_line=1, what="the theme")
    except UnicodeDecodeError as exc:
        return {}, (Problem("error", Source(str(path), 0), f"not UTF-8 ({exc.reason} at byte {exc.start}); "
                                                            "re-save the file as UTF-8"),)
    except OSError as exc:
        return {}, (Problem("error", Source(str(path), 0), f"cannot read the theme: {exc.strerror or exc}"),)
    except frontmatter.YamlError as exc:
        return {}, (Problem("error", Source(str(path), exc.line), exc.message),)
    if node is None:
        return {}, ()
    reader = _Reader(path)
    from yaml.nodes import MappingNode

    if not isinstance(node, MappingNode):
        reader.note("error", node, "a theme file is a set of 'key: value' lines")
        return {}, tuple(reader.problems)
    theme = reader.mapping(node, SCHEMA.keys, "")
    return theme, tuple(reader.problems)


def check_theme(templates: Path) -> list[Problem]:
    """Every problem of the theme in `templates` (errors, then warnings, in line order)."""
    return sorted(read_theme(Path(templates))[1], key=lambda p: (p.severity != "error", p.source.line))


def load_theme(templates: Path) -> dict:
    """The theme as a dict (empty when there is no theme file); its first error raises ThemeError."""
    theme, problems = read_theme(Path(templates))
    for problem in problems:
        if problem.severity == "error":
            raise ThemeError(problem.message, problem.source)
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


PAPERS = ("A4", "Letter")


def paper(templates: Path, override: object = None, key: str = "paper", allowed: tuple[str, ...] = PAPERS) -> str | None:
    """The paper a document prints on: the section's own `override` when given, else the theme's
    top-level `paper:` (A4 or Letter); None when the theme sets neither. Spelling is free
    ("letter", "a4"); anything else is an error naming the key."""
    theme = load_theme(Path(templates))
    value, where = (override, key) if override not in (None, "") else (theme.get("paper"), "paper")
    if value in (None, ""):
        return None
    for name in allowed:
        if str(value).strip().casefold() == name.casefold():
            return name
    raise ExportError(f"{Path(templates) / THEME_FILE}: {where} must be {' or '.join(allowed)}, not {value!r}")


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
