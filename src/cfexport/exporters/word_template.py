"""The Word side of the theme and the styling template, shared by every Word document
cfexport writes (role descriptions, promotion cases, the changes report).

- `settings`: the `docx:` section of theme.yaml, checked: the template file, the number of
  evidence rows, the fixed wording (`LABELS`, which `docx.labels` may override), the logo;
- `template`: the styling template HR restyles in Word, read and checked once per process:
  the styles every paragraph we write names (`STYLES`), its page and text width;
- `intro`, `fill`, `paragraphs`: the text templates (`*.txt.j2`) and `{placeholders}`.

`wordprocessing.Writer` writes a document with them.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from cfexport.exporters.base import Context, ExportError
from cfexport import theme
from cfexport.theme import THEME_FILE, render_text, section
from cfexport.text import ILLEGAL

PARAGRAPH, CHARACTER, TABLE = "paragraph", "character", "table"

# What we write -> (style name in the template, style type). Names are matched as Word
# does: case-insensitively, and any of the comma-separated aliases a style may carry.
STYLES: dict[str, tuple[str, str]] = {
    "title": ("Title", PARAGRAPH),
    "subtitle": ("Subtitle", PARAGRAPH),
    "h1": ("Heading 1", PARAGRAPH),
    "h2": ("Heading 2", PARAGRAPH),
    "h3": ("Heading 3", PARAGRAPH),
    "body": ("Body Text", PARAGRAPH),
    "bullet": ("List Bullet", PARAGRAPH),
    "definition": ("Area Definition", PARAGRAPH),
    "todo": ("Not Yet Defined", PARAGRAPH),
    "new": ("New Statement", PARAGRAPH),
    "previous": ("Previous Wording", PARAGRAPH),
    "cover": ("Cover Detail", PARAGRAPH),
    "cell": ("Table Text", PARAGRAPH),
    "cell_head": ("Table Heading", PARAGRAPH),
    "label": ("Change Label", CHARACTER),
    "strong": ("Strong", CHARACTER),
    "table": ("Evidence Table", TABLE),
}

DEFAULT_TEMPLATE = "role-description.docx"
DEFAULT_TEXT_WIDTH = 9638  # twips: A4 with 2 cm margins
MAX_PROPERTY = 255  # characters in a core property (python-docx refuses more)

# The fixed wording of the documents; theme.yaml `docx.labels` may override any of them.
LABELS: dict[str, str | list[str]] = {
    "subtitle": "{level} · {craft}",
    "expectations": "What this role expects",
    "not_defined": "Not yet defined: the framework does not describe this area at this level yet.",
    "no_expectations": "This level sets no expectations in this area.",
    "next_level": "What changes at the next level",
    "next_level_intro": "At {next_level}, {a_next_role} is also expected to do the following.",
    "next_not_defined": "Not yet defined at {next_level}.",
    "next_no_expectations": "{next_level} sets no expectations in this area.",
    "next_unchanged": "No new expectations at {next_level} in: {areas}.",
    "new": "New",
    "changed": "Reworded",
    "previous": "Previously: ",
    "new_area": "New area at {level}",
    "now_defined": "Now defined at {level} (not yet defined before)",
    "promotion_title": "Promotion case",
    "person": "Person",
    "role": "Role",
    "current_level": "Current level",
    "target_level": "Target level",
    "manager": "Manager",
    "no_manager": "not given",
    "date": "Date",
    "how_to_use": "How to use this pack",
    "areas": "Expectations and evidence",
    "current_expects": "What {level} expects",
    "target_expects": "What {level} expects",
    "evidence": "Evidence",
    "evidence_columns": ["Example", "Impact", "Link"],
    "summary": "Manager's summary",
    "summary_rows": ["Summary of the evidence", "Strengths", "Areas to develop", "Recommendation", "Manager",
                     "Date"],
    "no_evidence": "No evidence to gather here: {level} does not describe this area yet.",
}
DEFAULT_LOGO_ALT = "Company logo"

# Page sizes in twips. Switching the template's page to another paper keeps its top and bottom
# margins and, where the paper allows, its line length (so tables and the header still fit).
PAGES = {"A4": (11906, 16838), "Letter": (12240, 15840)}
MIN_SIDE_MARGIN = 720  # half an inch
_LIST_LABELS = {k for k, v in LABELS.items() if isinstance(v, list)}

# Characters XML 1.0 (so Word) cannot hold; framework text is already free of them.
ILLEGAL_XML = ILLEGAL
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_DOTX = b"application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml"
_DOCX = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


# -- settings -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    template: Path
    evidence_rows: int
    labels: dict
    paper: str | None = None  # "A4" or "Letter"; None: the template's own page
    logo_alt: str = DEFAULT_LOGO_ALT


_settings_cache: dict = {}


def settings(templates: Path) -> Settings:
    """The `docx:` section of theme.yaml, checked (once per process and version of the theme)."""
    templates = Path(templates)
    hit = _settings_cache.get(theme.version(templates))
    if hit is not None:
        return hit
    theme_file = templates / THEME_FILE
    conf = section(templates, "docx")
    name = conf.get("template") or DEFAULT_TEMPLATE
    if not isinstance(name, str) or Path(name).name != name:
        raise ExportError(f"{theme_file}: docx.template must be a file name in {templates}, not {name!r}")
    rows = conf.get("evidence_rows", 3)
    if not isinstance(rows, int) or isinstance(rows, bool) or not 0 <= rows <= 50:
        raise ExportError(f"{theme_file}: docx.evidence_rows must be a whole number from 0 to 50, not {rows!r}")
    given = conf.get("labels") or {}
    if not isinstance(given, dict):
        raise ExportError(f"{theme_file}: docx.labels must be a set of 'name: text' lines")
    labels = dict(LABELS)
    for key, value in given.items():
        if key not in LABELS:
            continue  # the theme check reports it (a warning naming the closest label)
        if key in _LIST_LABELS:
            if (not isinstance(value, list) or not value
                    or not all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value)):
                raise ExportError(f"{theme_file}: docx.labels.{key} must be a list of texts, like "
                                  f"{LABELS[key]!r}")
            labels[key] = [str(v) for v in value]
        else:
            if value is None or isinstance(value, (bool, list, dict)):
                raise ExportError(f"{theme_file}: docx.labels.{key} must be a text, like {LABELS[key]!r}")
            labels[key] = str(value)
        for text in labels[key] if key in _LIST_LABELS else [labels[key]]:
            _check_text(text, f"{theme_file}: docx.labels.{key}")
    from cfexport.theme import paper

    logo_alt = conf.get("logo_alt") or DEFAULT_LOGO_ALT
    if not isinstance(logo_alt, str):
        raise ExportError(f"{theme_file}: docx.logo_alt must be a text, like {DEFAULT_LOGO_ALT!r}")
    _check_text(logo_alt, f"{theme_file}: docx.logo_alt")
    result = Settings(templates / name, rows, labels, paper(templates, conf.get("page"), "docx.page"),
                      " ".join(logo_alt.split()))
    _settings_cache[theme.version(templates)] = result
    return result


def fill(text: str, values: dict[str, str], where: str) -> str:
    """Replace `{name}` with its value in one pass (a value is never read for placeholders)."""

    def sub(match: re.Match) -> str:
        key = match.group(1)
        if key not in values:
            known = ", ".join("{%s}" % k for k in values)
            raise ExportError(f"{where}: unknown placeholder {{{key}}}; "
                              + (f"the placeholders are {known}" if known else "this text takes no placeholders"))
        return values[key]

    return _PLACEHOLDER.sub(sub, text)


def paragraphs(text: str) -> list[str]:
    """Text from a text template as paragraphs: blank lines separate them, and the lines of
    one paragraph are joined with spaces (so templates can be wrapped freely)."""
    return [" ".join(block.split()) for block in re.split(r"\n\s*\n", text) if block.strip()]


_AN = re.compile(r"^(?!(?:uni|use|usu|eu|one|once)\w*)[aeiou]|^(?:hour|honest|honou?r|heir)", re.IGNORECASE)


def with_article(title: str) -> str:
    """"a Junior ML Engineer", "an Associate Engineer": the indefinite article a reader expects
    (by the first letter, with the common English exceptions: a Unix, an Hour)."""
    return f"{'an' if _AN.match(title.strip()) else 'a'} {title}" if title else ""


def intro(context: Context, name: str, **variables) -> list[str]:
    text = render_text(context.templates, name, **variables)
    _check_text(text, str(Path(context.templates) / name))
    return paragraphs(text)


def _check_text(text: str, where: str) -> None:
    """Text of ours (labels, templates) must be storable in Word, or the error names its file."""
    bad = ILLEGAL_XML.search(text)
    if bad:
        raise ExportError(f"{where}: holds the character U+{ord(bad.group()):04X}, which a Word document "
                          "cannot hold; remove it")


# -- the styling template -------------------------------------------------------------------
@dataclass(frozen=True)
class Template:
    path: Path
    data: bytes  # a .docx package (a .dotx has its content type switched)
    ids: dict[str, str]  # STYLES key -> style id
    text_width: int  # twips between the margins of the last section
    table_indent: int = 0  # twips that put a table's left border on the text margin


_template_cache: dict = {}


def template(context: Context) -> Template:
    """The styling template, read and checked once per process (and again if the file changes)."""
    path = settings(context.templates).template
    try:
        stat = path.stat()
    except OSError:
        raise ExportError(f"{path}: the Word styling template is missing; set docx.template in "
                          f"{Path(context.templates) / THEME_FILE} or restore {DEFAULT_TEMPLATE}") from None
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    hit = _template_cache.get(key)
    if hit is None:
        hit = _load_template(path)
        _template_cache.clear()  # one template per process is the normal case
        _template_cache[key] = hit
    return hit


def _load_template(path: Path) -> Template:
    from docx import Document
    from docx.oxml.ns import qn

    data = path.read_bytes()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            types = z.read("[Content_Types].xml")
        if _DOTX in types:  # saved from Word as a template (.dotx): same content otherwise
            data = _replace_in_zip(data, "[Content_Types].xml", types.replace(_DOTX, _DOCX))
        doc = Document(io.BytesIO(data))
    except Exception as exc:  # not a zip, not Word, broken XML: say which file
        raise ExportError(f"{path}: not a Word document that cfexport can use as its styling template "
                          f"({type(exc).__name__}: {exc}); save it from Word as .docx") from None

    by_name: dict[tuple[str, str], str] = {}
    for el in doc.styles.element.findall(qn("w:style")):
        name_el = el.find(qn("w:name"))
        style_id = el.get(qn("w:styleId"))
        if name_el is None or not style_id:
            continue
        kind = el.get(qn("w:type")) or PARAGRAPH
        for alias in (name_el.get(qn("w:val")) or "").split(","):
            by_name.setdefault((alias.strip().casefold(), kind), style_id)
    ids, missing = {}, []
    for key, (name, kind) in STYLES.items():
        style_id = by_name.get((name.casefold(), kind))
        if style_id is None:
            other = [k for (n, k) in by_name if n == name.casefold()]
            missing.append(f"'{name}' ({kind} style" + (f"; the template has it as a {other[0]} style)" if other
                                                        else ")"))
        else:
            ids[key] = style_id
    if missing:
        raise ExportError(
            f"{path}: the styling template lacks the style{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}. Add {'them' if len(missing) > 1 else 'it'} in Word (Home > Styles > "
            f"Create a Style, with exactly that name), or start again from the shipped {DEFAULT_TEMPLATE}")

    width = DEFAULT_TEXT_WIDTH
    sect = doc.sections[-1] if len(doc.sections) else None
    if sect is not None and sect.page_width:
        width = int((sect.page_width - (sect.left_margin or 0) - (sect.right_margin or 0)) / 635)
        width = width if width > 1000 else DEFAULT_TEXT_WIDTH
    return Template(path, data, ids, width, _table_indent(doc, ids["table"]))


def _table_indent(doc, table_style_id: str) -> int:
    """The indent that puts a table's left border on the text margin. Word before 2013
    (compatibility mode 14 and lower, and LibreOffice reading such a file) aligns the cell
    text with the margin, so the border sticks out by the cell's left padding."""
    from docx.oxml.ns import qn

    mode = 0
    for el in doc.settings.element.iter(qn("w:compatSetting")):
        if el.get(qn("w:name")) == "compatibilityMode":
            try:
                mode = int(el.get(qn("w:val")) or 0)
            except ValueError:
                mode = 0
    if mode >= 15:
        return 0
    padding = None
    styles = {el.get(qn("w:styleId")): el for el in doc.styles.element.findall(qn("w:style"))}
    style_id = table_style_id
    while style_id and padding is None:  # the table style, then what it is based on
        style = styles.get(style_id)
        if style is None:
            break
        left = style.find(f"{qn('w:tblPr')}/{qn('w:tblCellMar')}/{qn('w:left')}")
        if left is None:
            left = style.find(f"{qn('w:tblPr')}/{qn('w:tblCellMar')}/{qn('w:start')}")
        if left is not None and (left.get(qn("w:w")) or "").isdigit():
            padding = int(left.get(qn("w:w")))
        based = style.find(qn("w:basedOn"))
        style_id = based.get(qn("w:val")) if based is not None else None
    return 108 if padding is None else padding  # Word's default cell padding


def _replace_in_zip(data: bytes, name: str, body: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, body if item.filename == name else src.read(item.filename))
    return out.getvalue()
