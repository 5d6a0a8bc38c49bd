"""Shared Word machinery for the role descriptions and the promotion cases.

The look comes from a styling template (`templates/role-description.docx` by default, set
by `docx.template` in theme.yaml) that HR restyles in Word: every paragraph we write
names one of its styles (`STYLES`), its header and footer are kept with their
`{placeholders}` filled in, and its body is replaced by ours.

Speed: the template is read, checked and its style ids resolved once per process; each
document is `Document(BytesIO(cached bytes))` and its body is written as plain lxml
elements with the style ids already known (python-docx's look-up of a style by name
costs about a millisecond a paragraph).

Framework text only ever becomes the text of a run (`w:t`): never markup, never a
template, never a placeholder (values are substituted in one pass).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from cfexport.exporters.base import Context, ExportError
from cfexport.repro import normalise_zip
from cfexport.theme import THEME_FILE, render_text, section
from cfexport.text import ILLEGAL

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_W = "{%s}" % W_NS
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
W_P, W_PPR, W_PSTYLE, W_R, W_RPR, W_RSTYLE, W_T, W_TAB, W_BR = (
    _W + t for t in ("p", "pPr", "pStyle", "r", "rPr", "rStyle", "t", "tab", "br")
)
W_VAL = _W + "val"
_WP = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"

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
    "next_level_intro": "At {next_level}, a {next_role} is also expected to do the following.",
    "next_not_defined": "Not yet defined at {next_level}.",
    "next_no_expectations": "{next_level} sets no expectations in this area.",
    "next_unchanged": "No new expectations at {next_level} in: {areas}.",
    "new": "New",
    "changed": "Reworded",
    "previous": "Previously: ",
    "new_area": "New area at {level}",
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
    """The `docx:` section of theme.yaml, checked (once per process and templates folder)."""
    templates = Path(templates)
    hit = _settings_cache.get(templates)
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
            raise ExportError(f"{theme_file}: docx.labels has no label '{key}'; "
                              f"the labels are: {', '.join(LABELS)}")
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
    _settings_cache[templates] = result
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


# -- writing a document -------------------------------------------------------------------------
class Writer:
    """One Word document on the styling template: paragraphs and tables by style key."""

    def __init__(self, context: Context):
        from docx import Document
        from docx.oxml.parser import oxml_parser

        self.context = context
        self.settings = settings(context.templates)
        self.labels = self.settings.labels
        self.tpl = template(context)
        self.ids = self.tpl.ids
        self.doc = Document(io.BytesIO(self.tpl.data))
        self._make = oxml_parser.makeelement
        body = self.doc.element.body
        self._sect = None
        for child in list(body):
            if child.tag == _W + "sectPr":
                self._sect = child
            else:
                body.remove(child)
        self._body = body
        self.text_width = self.tpl.text_width
        self.text_height = None
        self._set_paper(self.settings.paper)

    def _set_paper(self, paper: str | None) -> None:
        """Put the page on `paper` (the template's own page when None or already that size).
        The template's top and bottom margins stay; the side margins keep its line length when
        the paper is wide enough, so tables and the header are laid out as the template was."""
        sect = self.doc.sections[-1] if len(self.doc.sections) else None
        if sect is None:
            return
        emu = 635  # EMU per twip
        w, h = int((sect.page_width or 0) / emu), int((sect.page_height or 0) / emu)
        top, bottom = int((sect.top_margin or 0) / emu), int((sect.bottom_margin or 0) / emu)
        if paper is not None and (w, h) != PAGES[paper] and (h, w) != PAGES[paper]:
            new_w, new_h = PAGES[paper]
            if w > h:  # a landscape template stays landscape
                new_w, new_h = new_h, new_w
            left = int((sect.left_margin or 0) / emu)
            right = int((sect.right_margin or 0) / emu)
            width = w - left - right
            side = (new_w - width) // 2
            if side < MIN_SIDE_MARGIN or width <= 1000:  # keep the template's margins instead
                width = new_w - left - right
            else:
                left = right = side
            sect.page_width, sect.page_height = new_w * emu, new_h * emu
            sect.left_margin, sect.right_margin = left * emu, right * emu
            self.text_width = width if width > 1000 else DEFAULT_TEXT_WIDTH
            w, h = new_w, new_h
        self.text_height = h - top - bottom if h > top + bottom + 2000 else None

    # labels --------------------------------------------------------------------------------
    def label(self, key: str, **values: str) -> str:
        where = f"{Path(self.context.templates) / THEME_FILE}: docx.labels.{key}"
        return fill(self.labels[key], values, where)

    # paragraphs ----------------------------------------------------------------------------
    def _append(self, el) -> None:
        if self._sect is not None:
            self._sect.addprevious(el)
        else:
            self._body.append(el)

    def _p(self, style: str):
        make = self._make
        p = make(W_P)
        ppr = make(W_PPR)
        ps = make(W_PSTYLE)
        ps.set(W_VAL, self.ids[style])
        ppr.append(ps)
        p.append(ppr)
        return p

    def _run(self, p, text: str, char_style: str | None = None) -> None:
        make = self._make
        r = make(W_R)
        if char_style:
            rpr = make(W_RPR)
            rs = make(W_RSTYLE)
            rs.set(W_VAL, self.ids[char_style])
            rpr.append(rs)
            r.append(rpr)
        if "\t" in text or "\n" in text:
            for i, line in enumerate(text.split("\n")):
                if i:
                    r.append(make(W_BR))
                for j, piece in enumerate(line.split("\t")):
                    if j:
                        r.append(make(W_TAB))
                    if piece:
                        r.append(self._t(piece))
        else:
            r.append(self._t(text))
        p.append(r)

    def _t(self, text: str):
        t = self._make(W_T)
        t.text = text
        if text[:1].isspace() or text[-1:].isspace() or "  " in text:
            t.set(XML_SPACE, "preserve")
        return t

    def para(self, style: str, text: str = "", char_style: str | None = None, *, page_break: bool = False,
             keep_next: bool = False, body_level: bool = False):
        """A paragraph of one style holding `text` literally. `body_level`: a heading style's
        look without its place in the outline (navigation pane, bookmarks, table of contents)."""
        p = self._p(style)
        if keep_next:
            p[0].append(self._make(_W + "keepNext"))
        if page_break:
            p[0].append(self._make(_W + "pageBreakBefore"))
        if body_level:
            level = self._make(_W + "outlineLvl")
            level.set(W_VAL, "9")  # body text
            p[0].append(level)
        if text:
            self._run(p, text, char_style)
        self._append(p)
        return p

    def rich(self, style: str, runs: list[tuple[str, str | None]], *, keep_next: bool = False):
        """A paragraph of several runs, each (text, character style key or None)."""
        p = self._p(style)
        if keep_next:
            p[0].append(self._make(_W + "keepNext"))
        for text, char_style in runs:
            if text:
                self._run(p, text, char_style)
        self._append(p)
        return p

    # tables ---------------------------------------------------------------------------------
    def table(self, header: list[str] | None, rows: list[list[str]], fractions: list[float], *,
              first_column: bool = False, min_height: int = 0, heights: list[int] | None = None):
        """A table in the template's table style, widths set on the grid and every cell (so
        LibreOffice honours them), its left border on the text margin, a header row that
        repeats on each page, and a paragraph in every cell. `heights`: each row's least
        height in twips (else `min_height`); such a row is never split across pages."""
        make = self._make
        width = self.text_width
        widths = [int(width * f) for f in fractions]
        tbl = make(_W + "tbl")
        tblpr = make(_W + "tblPr")
        for tag, attrs in (("tblStyle", {W_VAL: self.ids["table"]}),
                           ("tblW", {_W + "w": str(sum(widths)), _W + "type": "dxa"}),
                           ("tblInd", {_W + "w": str(self.tpl.table_indent), _W + "type": "dxa"}),
                           ("tblLayout", {_W + "type": "fixed"}),
                           ("tblLook", {W_VAL: "%04X" % (0x0600 | (0x0020 if header else 0)
                                                         | (0x0080 if first_column else 0)),
                                        _W + "firstRow": "1" if header else "0", _W + "lastRow": "0",
                                        _W + "firstColumn": "1" if first_column else "0",
                                        _W + "lastColumn": "0", _W + "noHBand": "1", _W + "noVBand": "1"})):
            el = make(_W + tag)
            for k, v in attrs.items():
                el.set(k, v)
            tblpr.append(el)
        tbl.append(tblpr)
        grid = make(_W + "tblGrid")
        for w in widths:
            col = make(_W + "gridCol")
            col.set(_W + "w", str(w))
            grid.append(col)
        tbl.append(grid)
        if header:
            tbl.append(self._row(header, widths, "cell_head", is_header=True, keep=bool(rows)))
        for i, row in enumerate(rows):
            height = heights[i] if heights else min_height
            tbl.append(self._row(row, widths, "cell", min_height=height, keep=i < len(rows) - 1,
                                 whole=bool(heights)))
        self._append(tbl)
        # A paragraph after each table, as Word writes it: LibreOffice ignores "keep with
        # next" on a heading that directly follows a table, leaving it alone at a page foot.
        self.para("body")
        return tbl

    def _row(self, cells: list[str], widths: list[int], style: str, is_header: bool = False, min_height: int = 0,
             keep: bool = False, whole: bool = False):
        """One row; `keep` keeps it on the page of the next row (how Word keeps a short
        table together), without forbidding a long row to break across pages (`whole` does)."""
        make = self._make
        tr = make(_W + "tr")
        trpr = make(_W + "trPr")
        if is_header or whole:
            trpr.append(make(_W + "cantSplit"))
        if is_header:
            trpr.append(make(_W + "tblHeader"))
        if min_height:
            h = make(_W + "trHeight")
            h.set(W_VAL, str(min_height))
            h.set(_W + "hRule", "atLeast")
            trpr.append(h)
        if len(trpr):
            tr.append(trpr)
        for text, w in zip(cells, widths):
            tc = make(_W + "tc")
            tcpr = make(_W + "tcPr")
            tcw = make(_W + "tcW")
            tcw.set(_W + "w", str(w))
            tcw.set(_W + "type", "dxa")
            tcpr.append(tcw)
            tc.append(tcpr)
            p = self._p(style)
            if keep:
                p[0].append(make(_W + "keepNext"))
            if text:
                self._run(p, text)
            tc.append(p)
            tr.append(tc)
        return tr

    # header, footer, properties, bytes --------------------------------------------------
    def fill_header_footer(self, values: dict[str, str]) -> None:
        """Fill the template's `{placeholders}` in every header and footer, and give its
        pictures (the logo) the theme's alternative text (`docx.logo_alt`)."""
        from docx.opc.constants import RELATIONSHIP_TYPE as RT

        where = f"{self.tpl.path}: header/footer"
        alt = fill(self.settings.logo_alt, values, f"{Path(self.context.templates) / THEME_FILE}: docx.logo_alt")
        for rel in self.doc.part.rels.values():
            if rel.reltype in (RT.HEADER, RT.FOOTER) and not rel.is_external:
                for p in rel.target_part.element.iter(W_P):
                    _fill_paragraph(p, values, where)
                for docpr in rel.target_part.element.iter(_WP + "docPr"):
                    docpr.set("descr", alt)
                    docpr.set("title", alt)

    def properties(self, source, *, title: str, subject: str, author: str, keywords: list[str], category: str,
                   identifier: str, comments: str) -> None:
        """Core properties (File > Info in Word); dates are the build time."""
        props = self.doc.core_properties
        values = {"title": title, "subject": subject, "author": author,
                  "keywords": "; ".join(k for k in keywords if k), "category": category,
                  "identifier": identifier, "comments": comments, "last_modified_by": "cfexport"}
        for name, value in values.items():
            if len(value) > MAX_PROPERTY:  # Word's limit for a document property
                self.context.warn(source, f"the document property '{name}' is cut to {MAX_PROPERTY} characters "
                                          "(Word's limit); the document itself holds the full text")
                value = value[: MAX_PROPERTY - 1] + "…"
            setattr(props, name, value)
        props.revision = 1
        props.created = props.modified = self.context.build_time.replace(tzinfo=None)

    def finish(self) -> bytes:
        out = io.BytesIO()
        self.doc.save(out)
        return normalise_zip(out.getvalue(), self.context.build_time)


def _fill_paragraph(p, values: dict[str, str], where: str) -> None:
    """Fill placeholders in the plain-text runs of one paragraph. Word splits typed text
    into several runs (spelling, edits), so each stretch of plain runs is read as one text;
    the result goes into its first run (keeping that run's formatting). Runs holding a
    field, a tab, a picture or anything else are left alone."""
    group: list = []

    def flush() -> None:
        if not group:
            return
        texts = [t for r in group for t in r.iter(W_T)]
        joined = "".join(t.text or "" for t in texts)
        if "{" in joined:
            new = fill(joined, values, where)
            if new != joined:
                first = texts[0]
                first.text = new
                first.set(XML_SPACE, "preserve")
                for t in texts[1:]:
                    t.getparent().remove(t)
        group.clear()

    for r in p.iter(W_R):
        plain = all(c.tag in (W_RPR, W_T) for c in r)
        if plain and (not group or group[-1].getparent() is r.getparent()):
            group.append(r)
        else:
            flush()
            if plain:
                group.append(r)
    flush()
