"""Regenerate `templates/role-description.docx`, the Word styling template of the role
descriptions and promotion cases.

    .venv/bin/python tools/make_role_template.py [--templates DIR] [--out FILE]

HR normally restyles the template in Word (Home > Styles > Modify; Insert > Header to swap
the logo) and never needs this script. It exists so the shipped template can be rebuilt
from `theme.yaml` (colours: `colours.*`; Word font: `docx.font`; page size: `paper:` or `docx.page`)
and reviewed as code. The output is byte-identical for the same theme.

Every style cfexport uses is defined here with the name the exporter looks up
(`cfexport.exporters.word_template.STYLES`). Header and footer hold placeholders in braces
(`{title}`, `{framework}`, `{craft}`, `{version}`, ...) that each document fills in, and
real PAGE / NUMPAGES fields for "Page X of Y".
"""

from __future__ import annotations

import argparse
import io
import sys
from datetime import datetime, timezone
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from docx import Document  # noqa: E402
from docx.opc.constants import RELATIONSHIP_TYPE as RT  # noqa: E402
from docx.oxml import parse_xml  # noqa: E402
from docx.oxml.ns import nsdecls, qn  # noqa: E402
from docx.shared import Cm  # noqa: E402

from cfexport.repro import normalise_zip  # noqa: E402
from cfexport.theme import paper, section  # noqa: E402

FIXED_DATE = datetime(2024, 1, 1, tzinfo=timezone.utc)  # the template's own (irrelevant) dates
PAGES = {"A4": (11906, 16838), "Letter": (12240, 15840)}  # twips
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM, HDR = 1134, 1417, 1247, 567


def colour(value, default: str) -> str:
    text = str(value or default).lstrip("#").upper()
    if len(text) != 6 or any(c not in "0123456789ABCDEF" for c in text):
        raise SystemExit(f"theme.yaml: colour {value!r} is not a hex RGB value like 1F3A5F")
    return text


def fonts(name: str) -> str:
    return f'<w:rFonts w:ascii={quoteattr(name)} w:hAnsi={quoteattr(name)} w:cs={quoteattr(name)}/>'


DEFAULT = ' w:default="1"'
LIST_PSTYLE = '<w:pStyle w:val="ListBullet"/>'


def pstyle(sid, name, *, based="Normal", nxt=None, ppr="", rpr="", prio=None, qformat=True, default=False):
    return (
        f'<w:style w:type="paragraph" w:styleId="{sid}"{DEFAULT if default else ""}>'
        f'<w:name w:val={quoteattr(name)}/>'
        + (f'<w:basedOn w:val="{based}"/>' if based else "")
        + (f'<w:next w:val="{nxt}"/>' if nxt else "")
        + (f'<w:uiPriority w:val="{prio}"/>' if prio is not None else "")
        + ("<w:qFormat/>" if qformat else "")
        + (f"<w:pPr>{ppr}</w:pPr>" if ppr else "")
        + (f"<w:rPr>{rpr}</w:rPr>" if rpr else "")
        + "</w:style>"
    )


def styles_xml(theme: dict, text_width: int) -> str:
    c = theme.get("colours") or {}
    primary, accent = colour(c.get("primary"), "1F3A5F"), colour(c.get("accent"), "2E86AB")
    todo, new, ink = colour(c.get("todo"), "FFF2CC"), colour(c.get("new"), "E2F0D9"), colour(c.get("text"), "222222")
    font = str(theme.get("font") or "Calibri")
    muted = "5F6B76"
    half = text_width // 2
    heading = lambda lvl, size, col, before, after, extra="": pstyle(  # noqa: E731
        f"Heading{lvl}", f"heading {lvl}", nxt="BodyText", prio=9,
        ppr=f'<w:keepNext/><w:keepLines/>{extra}<w:spacing w:before="{before}" w:after="{after}"/>'
            f'<w:outlineLvl w:val="{lvl - 1}"/>',
        rpr=f'<w:b/><w:bCs/><w:color w:val="{col}"/><w:sz w:val="{size}"/><w:szCs w:val="{size}"/>')
    styles = [
        pstyle("Normal", "Normal", based=None, default=True, prio=0),
        pstyle("Title", "Title", nxt="Subtitle", prio=10,
               ppr='<w:keepNext/><w:spacing w:before="0" w:after="80" w:line="240" w:lineRule="auto"/>',
               rpr=f'<w:b/><w:bCs/><w:color w:val="{primary}"/><w:kern w:val="28"/>'
                   '<w:sz w:val="52"/><w:szCs w:val="52"/>'),
        pstyle("Subtitle", "Subtitle", nxt="BodyText", prio=11,
               ppr=f'<w:pBdr><w:bottom w:val="single" w:sz="12" w:space="8" w:color="{accent}"/></w:pBdr>'
                   '<w:spacing w:before="0" w:after="320"/>',
               rpr=f'<w:color w:val="{accent}"/><w:sz w:val="26"/><w:szCs w:val="26"/>'),
        heading(1, 32, primary, 400, 120,
                f'<w:pBdr><w:bottom w:val="single" w:sz="4" w:space="2" w:color="{accent}"/></w:pBdr>'),
        heading(2, 26, primary, 280, 60),
        heading(3, 22, accent, 180, 40),
        pstyle("BodyText", "Body Text", prio=99, ppr='<w:spacing w:after="120"/>'),
        pstyle("ListBullet", "List Bullet", prio=99,
               ppr='<w:numPr><w:numId w:val="1"/></w:numPr><w:spacing w:after="60"/>'
                   '<w:ind w:left="357" w:hanging="357"/>'),
        pstyle("AreaDefinition", "Area Definition", nxt="ListBullet", prio=20,
               ppr='<w:keepNext/><w:spacing w:after="100"/>',
               rpr=f'<w:i/><w:iCs/><w:color w:val="{muted}"/><w:sz w:val="20"/><w:szCs w:val="20"/>'),
        pstyle("NotYetDefined", "Not Yet Defined", nxt="BodyText", prio=20,
               ppr=f'<w:pBdr><w:left w:val="single" w:sz="24" w:space="6" w:color="BF9000"/></w:pBdr>'
                   f'<w:shd w:val="clear" w:color="auto" w:fill="{todo}"/>'
                   '<w:spacing w:before="40" w:after="120"/><w:ind w:left="170"/>',
               rpr='<w:i/><w:iCs/><w:color w:val="7F6000"/>'),
        pstyle("NewStatement", "New Statement", based="ListBullet", prio=20,
               ppr=f'<w:shd w:val="clear" w:color="auto" w:fill="{new}"/>'),
        pstyle("PreviousWording", "Previous Wording", prio=20,
               ppr='<w:spacing w:after="80"/><w:ind w:left="357"/>',
               rpr=f'<w:i/><w:iCs/><w:color w:val="{muted}"/><w:sz w:val="19"/><w:szCs w:val="19"/>'),
        pstyle("CoverDetail", "Cover Detail", prio=20,
               ppr='<w:spacing w:after="100"/>', rpr='<w:sz w:val="24"/><w:szCs w:val="24"/>'),
        pstyle("TableText", "Table Text", prio=20,
               ppr='<w:spacing w:before="40" w:after="40" w:line="240" w:lineRule="auto"/>',
               rpr='<w:sz w:val="20"/><w:szCs w:val="20"/>'),
        pstyle("TableHeading", "Table Heading", based="TableText", prio=20,
               ppr='<w:keepNext/>', rpr='<w:b/><w:bCs/><w:color w:val="FFFFFF"/>'),
        pstyle("Header", "header", prio=99, qformat=False,
               ppr=f'<w:tabs><w:tab w:val="center" w:pos="{half}"/><w:tab w:val="right" w:pos="{text_width}"/>'
                   '</w:tabs><w:spacing w:after="0" w:line="240" w:lineRule="auto"/>',
               rpr=f'<w:color w:val="{muted}"/><w:sz w:val="17"/><w:szCs w:val="17"/>'),
        pstyle("Footer", "footer", prio=99, qformat=False,
               ppr=f'<w:pBdr><w:top w:val="single" w:sz="4" w:space="4" w:color="{accent}"/></w:pBdr>'
                   f'<w:tabs><w:tab w:val="center" w:pos="{half}"/><w:tab w:val="right" w:pos="{text_width}"/>'
                   '</w:tabs><w:spacing w:after="0" w:line="240" w:lineRule="auto"/>',
               rpr=f'<w:color w:val="{muted}"/><w:sz w:val="17"/><w:szCs w:val="17"/>'),
        '<w:style w:type="character" w:default="1" w:styleId="DefaultParagraphFont">'
        '<w:name w:val="Default Paragraph Font"/><w:uiPriority w:val="1"/><w:semiHidden/><w:unhideWhenUsed/>'
        "</w:style>",
        '<w:style w:type="character" w:styleId="ChangeLabel"><w:name w:val="Change Label"/>'
        '<w:basedOn w:val="DefaultParagraphFont"/><w:uiPriority w:val="20"/><w:qFormat/>'
        f'<w:rPr><w:b/><w:bCs/><w:smallCaps/><w:color w:val="{accent}"/></w:rPr></w:style>',
        '<w:style w:type="character" w:styleId="Strong"><w:name w:val="Strong"/>'
        '<w:basedOn w:val="DefaultParagraphFont"/><w:uiPriority w:val="22"/><w:qFormat/>'
        "<w:rPr><w:b/><w:bCs/></w:rPr></w:style>",
        '<w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/>'
        '<w:uiPriority w:val="99"/><w:semiHidden/><w:unhideWhenUsed/><w:tblPr><w:tblInd w:w="0" w:type="dxa"/>'
        '<w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="108" w:type="dxa"/>'
        '<w:bottom w:w="0" w:type="dxa"/><w:right w:w="108" w:type="dxa"/></w:tblCellMar></w:tblPr></w:style>',
        '<w:style w:type="table" w:styleId="EvidenceTable"><w:name w:val="Evidence Table"/>'
        '<w:basedOn w:val="TableNormal"/><w:uiPriority w:val="20"/><w:qFormat/>'
        '<w:pPr><w:spacing w:after="0"/></w:pPr>'
        '<w:tblPr><w:tblBorders>'
        + "".join(f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="A6B4C2"/>'
                  for side in ("top", "left", "bottom", "right", "insideH", "insideV"))
        + '</w:tblBorders><w:tblCellMar><w:top w:w="57" w:type="dxa"/><w:left w:w="108" w:type="dxa"/>'
        '<w:bottom w:w="57" w:type="dxa"/><w:right w:w="108" w:type="dxa"/></w:tblCellMar></w:tblPr>'
        f'<w:tblStylePr w:type="firstRow"><w:rPr><w:b/><w:bCs/><w:color w:val="FFFFFF"/></w:rPr>'
        f'<w:tcPr><w:shd w:val="clear" w:color="auto" w:fill="{primary}"/></w:tcPr></w:tblStylePr>'
        f'<w:tblStylePr w:type="firstCol"><w:rPr><w:b/><w:bCs/><w:color w:val="{primary}"/></w:rPr>'
        '<w:tcPr><w:shd w:val="clear" w:color="auto" w:fill="EEF2F6"/></w:tcPr></w:tblStylePr>'
        "</w:style>",
        '<w:style w:type="numbering" w:default="1" w:styleId="NoList"><w:name w:val="No List"/>'
        '<w:uiPriority w:val="99"/><w:semiHidden/><w:unhideWhenUsed/></w:style>',
    ]
    defaults = (
        f"<w:docDefaults><w:rPrDefault><w:rPr>{fonts(font)}"
        f'<w:color w:val="{ink}"/><w:sz w:val="21"/><w:szCs w:val="21"/>'
        '<w:lang w:val="en-GB" w:eastAsia="en-US" w:bidi="ar-SA"/></w:rPr></w:rPrDefault>'
        '<w:pPrDefault><w:pPr><w:spacing w:after="120" w:line="264" w:lineRule="auto"/></w:pPr></w:pPrDefault>'
        "</w:docDefaults>"
    )
    return f"<w:styles {nsdecls('w')}>{defaults}{''.join(styles)}</w:styles>"


def numbering_xml() -> str:
    bullets = ["\u2022", "\u2013", "\u25e6"]
    levels = "".join(
        f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="bullet"/>{LIST_PSTYLE if i == 0 else ""}'
        f'<w:lvlText w:val="{b}"/><w:lvlJc w:val="left"/>'
        f'<w:pPr><w:ind w:left="{357 * (i + 1)}" w:hanging="357"/></w:pPr></w:lvl>'
        for i, b in enumerate(bullets)
    )
    return (
        f"<w:numbering {nsdecls('w')}>"
        f'<w:abstractNum w:abstractNumId="0"><w:multiLevelType w:val="hybridMultilevel"/>{levels}</w:abstractNum>'
        '<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num></w:numbering>'
    )


def logo_png(primary: str) -> bytes:
    """A plain placeholder: HR replaces it with the company's logo (right click > Change Picture)."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", (600, 160), "#FFFFFF")
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((4, 4, 595, 155), radius=24, fill=f"#{primary}")
    try:
        font = ImageFont.load_default(size=56)
    except TypeError:  # Pillow < 10.1: a small bitmap font
        font = ImageFont.load_default()
    draw.text((300, 80), "YOUR LOGO", fill="#FFFFFF", font=font, anchor="mm")
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()


def field(instr: str, shown: str) -> str:
    return (
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        f'<w:r><w:instrText xml:space="preserve"> {instr} </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
        f"<w:r><w:t>{shown}</w:t></w:r>"
        '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
    )


def run(text: str, bold: bool = False) -> str:
    rpr = "<w:rPr><w:b/></w:rPr>" if bold else ""
    return f'<w:r>{rpr}<w:t xml:space="preserve">{text}</w:t></w:r>'


def para(style: str, *runs: tuple[str, str | None]) -> str:
    body = "".join(
        f'<w:r>{f"<w:rPr><w:rStyle w:val={quoteattr(rs)}/></w:rPr>" if rs else ""}'
        f'<w:t xml:space="preserve">{escape(text)}</w:t></w:r>' for text, rs in runs)
    return f'<w:p {nsdecls("w")}><w:pPr><w:pStyle w:val="{style}"/></w:pPr>{body}</w:p>'


def specimen(text_width: int) -> list[str]:
    widths = [int(text_width * f) for f in (0.42, 0.36, 0.22)]

    def row(style: str, cells: list[str], header: bool = False) -> str:
        trpr = "<w:trPr><w:tblHeader/></w:trPr>" if header else ""
        return f"<w:tr>{trpr}" + "".join(
            f'<w:tc><w:tcPr><w:tcW w:w="{w}" w:type="dxa"/></w:tcPr>'
            + para(style, (c, None)).replace(f' {nsdecls("w")}', "") + "</w:tc>"
            for c, w in zip(cells, widths)) + "</w:tr>"

    table = (
        f'<w:tbl {nsdecls("w")}><w:tblPr><w:tblStyle w:val="EvidenceTable"/>'
        f'<w:tblW w:w="{sum(widths)}" w:type="dxa"/><w:tblLayout w:type="fixed"/>'
        '<w:tblLook w:val="0620" w:firstRow="1" w:lastRow="0" w:firstColumn="0" w:lastColumn="0" '
        'w:noHBand="1" w:noVBand="1"/></w:tblPr><w:tblGrid>'
        + "".join(f'<w:gridCol w:w="{w}"/>' for w in widths) + "</w:tblGrid>"
        + row("TableHeading", ["Table Heading", "in an", "Evidence Table"], header=True)
        + row("TableText", ["Table Text: an example of work", "its impact", "a link"])
        + "</w:tbl>"
    )
    return [
        para("Title", ("Title: the role", None)),
        para("Subtitle", ("Subtitle: the level and the craft", None)),
        para("BodyText", ("This is the styling template of the role descriptions and promotion cases. "
                          "Change a style here (Home > Styles, right click > Modify) and every document "
                          "cfexport makes follows it. Each document replaces this page with its own text, "
                          "and keeps the header and footer, where the words in braces are filled in: "
                          "{title}, {framework}, {craft}, {role}, {specialism}, {level}, {version}, "
                          "{date} and {person}. Keep the style names: cfexport looks them up by name.", None)),
        para("Heading1", ("Heading 1: a section", None)),
        para("Heading2", ("Heading 2: a competency area", None)),
        para("AreaDefinition", ("Area Definition: what the area covers, from the craft page.", None)),
        para("ListBullet", ("List Bullet: one statement of the level.", None)),
        para("ListBullet", ("List Bullet: another statement.", None)),
        para("NotYetDefined", ("Not Yet Defined: an area the framework does not describe yet (a TODO).", None)),
        para("Heading3", ("Heading 3: a part of an area in a promotion case", None)),
        para("NewStatement", ("New: ", "ChangeLabel"),
             ("New Statement, with its label in the Change Label character style.", None)),
        para("PreviousWording", ("Previously: Previous Wording, what a reworded statement said before.", None)),
        para("CoverDetail", ("Cover Detail: ", "Strong"), ("a line of a promotion case's cover.", None)),
        table,
        para("BodyText"),
    ]


def build(templates: Path) -> bytes:
    theme = section(templates, "docx")
    page_w, page_h = PAGES[paper(templates, theme.get("page"), "docx.page") or "A4"]  # docx.page, else paper:
    text_width = page_w - 2 * MARGIN_X
    primary = colour((theme.get("colours") or {}).get("primary"), "1F3A5F")

    doc = Document()
    part = doc.part
    # The bundled python-docx template carries 160 styles (880 KB of XML), a stale thumbnail
    # and Word-for-Mac properties: replace them with the few styles we use.
    part.part_related_by(RT.STYLES)._element = parse_xml(styles_xml(theme, text_width))
    part.part_related_by(RT.NUMBERING)._element = parse_xml(numbering_xml())
    for rId, rel in list(part.rels.items()):
        if rel.reltype.endswith("/stylesWithEffects") or rel.reltype == RT.CUSTOM_XML:
            del part.rels[rId]
    settings = doc.settings.element
    for tag in ("w:savePreviewPicture", "w:proofState"):  # no thumbnail; spelling not checked yet
        for el in settings.findall(qn(tag)):
            settings.remove(el)
    pkg_rels = part.package.rels
    for rId, rel in list(pkg_rels.items()):
        if rel.reltype in (RT.THUMBNAIL, RT.EXTENDED_PROPERTIES):
            del pkg_rels[rId]

    sect = doc.sections[0]
    sect.page_width, sect.page_height = page_w * 635, page_h * 635  # twips -> EMU
    sect.left_margin = sect.right_margin = MARGIN_X * 635
    sect.top_margin, sect.bottom_margin = MARGIN_TOP * 635, MARGIN_BOTTOM * 635
    sect.header_distance = sect.footer_distance = HDR * 635

    # Header: logo on the left, the document's title and the framework on the right.
    header = sect.header
    header.is_linked_to_previous = False
    hdr = header._element
    for child in list(hdr):
        hdr.remove(child)
    logo_w = 2268  # 4 cm
    right_w = text_width - logo_w
    hdr.append(parse_xml(
        f"<w:tbl {nsdecls('w')}><w:tblPr><w:tblW w:w=\"{text_width}\" w:type=\"dxa\"/>"
        '<w:tblLayout w:type="fixed"/><w:tblCellMar><w:left w:w="0" w:type="dxa"/>'
        '<w:right w:w="0" w:type="dxa"/></w:tblCellMar>'
        '<w:tblLook w:val="0000" w:firstRow="0" w:lastRow="0" w:firstColumn="0" w:lastColumn="0" '
        'w:noHBand="1" w:noVBand="1"/></w:tblPr>'
        f'<w:tblGrid><w:gridCol w:w="{logo_w}"/><w:gridCol w:w="{right_w}"/></w:tblGrid><w:tr>'
        f'<w:tc><w:tcPr><w:tcW w:w="{logo_w}" w:type="dxa"/><w:vAlign w:val="center"/></w:tcPr>'
        '<w:p><w:pPr><w:pStyle w:val="Header"/></w:pPr></w:p></w:tc>'
        f'<w:tc><w:tcPr><w:tcW w:w="{right_w}" w:type="dxa"/><w:vAlign w:val="center"/></w:tcPr>'
        f'<w:p><w:pPr><w:pStyle w:val="Header"/><w:jc w:val="right"/></w:pPr>{run("{title}", bold=True)}</w:p>'
        f'<w:p><w:pPr><w:pStyle w:val="Header"/><w:jc w:val="right"/></w:pPr>{run("{framework}")}</w:p>'
        "</w:tc></w:tr></w:tbl>"
    ))
    hdr.append(parse_xml(f'<w:p {nsdecls("w")}><w:pPr><w:pStyle w:val="Header"/></w:pPr></w:p>'))
    logo_p = header.tables[0].cell(0, 0).paragraphs[0]
    logo_p.add_run().add_picture(io.BytesIO(logo_png(primary)), width=Cm(3.4))
    for docpr in hdr.iter(qn("wp:docPr")):
        docpr.set("name", "Logo")
        docpr.set("descr", "Company logo (placeholder: right click > Change Picture)")

    footer = sect.footer
    footer.is_linked_to_previous = False
    ftr = footer._element
    for child in list(ftr):
        ftr.remove(child)
    # One tab, to the right-hand stop only: with the style's centre stop and two tabs, a left
    # text longer than half the line (a long craft name) sent "Page X of Y" to a second line
    ftr.append(parse_xml(
        f'<w:p {nsdecls("w")}><w:pPr><w:pStyle w:val="Footer"/>'
        f'<w:tabs><w:tab w:val="clear" w:pos="{text_width // 2}"/></w:tabs></w:pPr>'
        f'{run("{craft} · {version}")}<w:r><w:tab/></w:r>'
        f'{run("Page ")}{field("PAGE", "1")}{run(" of ")}{field("NUMPAGES", "1")}</w:p>'
    ))

    # A specimen of every style, for whoever restyles the template in Word. Each document
    # cfexport makes replaces the whole body with its own text.
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    sect_pr = body.find(qn("w:sectPr"))
    for el in specimen(text_width):
        sect_pr.addprevious(parse_xml(el))

    props = doc.core_properties
    props.title = "Role description template"
    props.subject = "Styling template for cfexport role descriptions and promotion cases"
    props.author = ""
    props.comments = ("Restyle this document's styles, header and footer in Word; cfexport fills in "
                      "the {placeholders} and replaces the body.")
    props.keywords = "cfexport; template"
    props.last_modified_by = ""
    props.revision = 1
    props.created = props.modified = FIXED_DATE

    out = io.BytesIO()
    doc.save(out)
    return normalise_zip(out.getvalue(), FIXED_DATE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--templates", type=Path, default=ROOT / "templates", help="folder holding theme.yaml")
    parser.add_argument("--out", type=Path, default=None, help="default: TEMPLATES/role-description.docx")
    args = parser.parse_args()
    out = args.out or args.templates / "role-description.docx"
    data = build(args.templates)
    out.write_bytes(data)
    print(f"wrote {out} ({len(data):,} bytes)")


if __name__ == "__main__":
    main()
