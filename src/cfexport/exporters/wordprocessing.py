"""Shared Word machinery for the role descriptions and the promotion cases: `Writer`, one
Word document on the styling template (its settings and the template itself are read by
`word_template`).

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
from pathlib import Path

from cfexport.exporters.base import Context
from cfexport.exporters.word_template import (DEFAULT_TEXT_WIDTH, MAX_PROPERTY, MIN_SIDE_MARGIN, PAGES, fill, settings,
                                            template)
from cfexport.repro import normalise_zip
from cfexport.theme import THEME_FILE

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_W = "{%s}" % W_NS
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
W_P, W_PPR, W_PSTYLE, W_R, W_RPR, W_RSTYLE, W_T, W_TAB, W_BR = (
    _W + t for t in ("p", "pPr", "pStyle", "r", "rPr", "rStyle", "t", "tab", "br")
)
W_VAL = _W + "val"
_WP = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"


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

    def finish(self, normalise: bool = True) -> bytes:
        """The document's bytes; without `normalise`, as python-docx saved them (dates of now),
        for a caller that writes the package again anyway (a pack's `provenance.stamp`)."""
        out = io.BytesIO()
        self.doc.save(out)
        return normalise_zip(out.getvalue(), self.context.build_time) if normalise else out.getvalue()


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
