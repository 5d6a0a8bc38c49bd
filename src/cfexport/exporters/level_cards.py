"""The `pdf` exporter: printable level cards, one PDF per craft, a card per role.

A card shows the role (title, level, craft) in a coloured band, then each area of the
role in the craft page's order with its statements as bullets. Cards are laid out
`cards_per_sheet` to a page (A6 cards four to an A4 sheet with cut marks by default; see
the `pdf:` section of `templates/theme.yaml`).

How a card is laid out: the body of a role is a list of reportlab flowables (paragraphs).
`paginate` measures and splits them into card-sized frames *before* anything is drawn, so
the number of cards of a role is known and each card can say "2 of 3". Each card's frame
is then drawn in its slot of the sheet. A statement longer than a whole card is split
across cards; nothing is truncated and a reportlab `LayoutError` cannot happen, because
nothing goes through a doc template's frame that could refuse it.

Framework text is escaped (`xml.sax.saxutils.escape`) before it reaches a `Paragraph`:
reportlab parses paragraph text as markup, so `<`, `&`, `</para>` and entities would
otherwise be interpreted, dropped, or fail the whole document. Only our own markup is
put around the escaped text.

`render_cards(framework, roles, context, title)` is the library entry point: the exporter
uses it for a craft, promotion packs use it for the current and the target level.

The `pdf:` settings of the theme, the fonts and the paragraph styles are in
`card_settings`; the layout of a card's body (`paginate`) is in `card_layout`. A promotion
pack's cards (`render_pack_cards`) are drawn here too, for `cfexport.packs`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ClassVar
from urllib.parse import quote

from cfexport import repro
from cfexport.exporters.base import Context, Document, ExportError
from cfexport.exporters.card_layout import (  # noqa: F401 - Item, Placed, markup: part of this module's API
    NO_EXPECTATIONS,
    NOT_DEFINED,
    Item,
    Placed,
    continued,
    markup,
    paginate,
    role_items,
)
from cfexport.exporters.card_settings import MM, Settings, _Checker, _Setup, _setup, _theme_error
from cfexport.model import Craft, Framework, Role, with_the

DOCUMENT_LANGUAGE = "en-GB"  # the cards' fixed words are British English, as the Word template

# --- drawing --------------------------------------------------------------------------


@dataclass
class _Chrome:
    """What every card of a role shows around its body: the band and the footer."""

    band: list  # (flowable, height), top to bottom, wrapped
    band_height: float
    footer: object  # paragraph, wrapped
    footer_text_height: float
    footer_height: float
    url: str | None
    body_height: float


@dataclass
class _Card:
    role: Role
    index: int  # of the role in the list printed
    chrome: _Chrome
    body: list[Placed]
    number: int  # "number of total"
    total: int


@dataclass
class _Doc:
    setup: _Setup
    framework: Framework
    context: Context
    checker: _Checker
    forms: dict = field(default_factory=dict)
    marks: dict = field(default_factory=dict)  # role id -> {(area id, statement text): label}
    laid_out: dict = field(default_factory=dict)  # (role, width, height, scale) -> its cards' bodies


def _fit(make: Callable[[float], list], width: float, max_height: float) -> tuple[list, float]:
    """Flowables made by `make(scale)`, wrapped to `width`, as (flowable, height) pairs;
    scaled down until they fit `max_height` (a hostile title must not eat the card)."""
    scale = 1.0
    while True:
        placed = [(p, p.wrap(width, 1e9)[1]) for p in make(scale)]
        h = sum(ph for _, ph in placed)
        if h <= max_height or scale < 0.3:
            break
        scale *= 0.85
    if h > max_height:
        from reportlab.platypus.flowables import KeepInFrame

        box = KeepInFrame(width, max_height, [p for p, _ in placed], mode="shrink")
        h = min(box.wrapOn(None, width, max_height)[1], max_height)  # no canvas needed to measure
        placed = [(box, h)]
    return placed, h


def _chrome(doc: _Doc, role: Role) -> _Chrome:
    from reportlab.platypus import Paragraph

    s, st = doc.setup.settings, doc.setup.styles
    fs = st["_fs"]
    inner_w = s.card[0] - 2 * s.margin
    inner_h = s.card[1] - 2 * s.margin
    pad = fs * 0.9
    url = None
    if s.base_url and role.level.permalink:
        url = s.base_url + quote(role.level.permalink if role.level.permalink.startswith("/")
                                 else "/" + role.level.permalink, safe="/:@!$&'()*+,;=-._~%#?")
    elif s.base_url:
        doc.checker.once(role.level.source, "the level page has no permalink in its front matter, so its level "
                                            "cards have no QR code; add 'permalink: /...' to the front matter")
    qr = _qr_size(s) if url else 0.0
    text_w = inner_w - 2 * pad - (qr + pad if qr else 0)

    checker = doc.checker
    checker.check(role.craft.title, role.craft.source, "regular")
    checker.check(role.title, role.level.source, "bold")
    checker.check(role.level.label, role.level.source, "regular")

    def band(scale: float) -> list:
        styles = doc.setup.scaled(round(scale, 3))
        return [Paragraph(markup(role.craft.title), styles["craft"]),
                Paragraph(markup(role.title), styles["role"]),
                Paragraph(markup(role.level.label), styles["level"])]

    paras, h = _fit(band, text_w, inner_h * 0.4)
    band_h = max(h + 2 * pad, qr + 2 * pad * 0.6 if qr else 0)

    checker.check(doc.framework.title, doc.framework.source, "regular")
    bits = [doc.framework.title, doc.context.version]
    if role.level.illustrative:
        bits.append("illustrative text")
    footer_text = " · ".join(markup(b) for b in bits if b)
    logo_w = _logo_size(s)[0]
    foot_w = inner_w - fs * 5 - (logo_w + fs if logo_w else 0)

    def foot(scale: float) -> list:
        styles = doc.setup.scaled(round(scale, 3))
        return [Paragraph(footer_text, styles["footer"])]

    (footer,), foot_h = _fit(foot, foot_w, inner_h * 0.15)
    footer = footer[0]
    text_h = foot_h
    foot_h = max(foot_h, _logo_size(s)[1])
    body_h = inner_h - band_h - fs * 0.9 - foot_h - fs * 1.2
    return _Chrome(paras, band_h, footer, text_h, foot_h, url, body_h)


def _qr_size(s: Settings) -> float:
    return max(14 * MM, min(s.card) * 0.16)


def _logo_size(s: Settings) -> tuple[float, float]:
    if not s.logo:
        return (0.0, 0.0)
    iw, ih = _image(s.logo).getSize()
    h = s.font_size * 2.2
    return (h * iw / ih, h)


_IMAGES: dict[Path, object] = {}


def _image(path: Path):
    if path not in _IMAGES:
        from reportlab.lib.utils import ImageReader

        try:
            _IMAGES[path] = ImageReader(str(path))
            _IMAGES[path].getSize()
        except Exception as exc:
            raise ExportError(f"{path}: the logo is not an image reportlab can read ({exc}); "
                              "use a PNG or JPEG") from None
    return _IMAGES[path]


def _draw_card(canv, doc: _Doc, card: _Card, x: float, y: float) -> None:
    s, st = doc.setup.settings, doc.setup.styles
    c = st["_colours"]
    fs = st["_fs"]
    w, h = s.card
    m = s.margin
    ix, iy, iw, ih = x + m, y + m, w - 2 * m, h - 2 * m
    ch = card.chrome
    pad = fs * 0.9

    if s.colours["border"]:
        canv.setStrokeColor(c["border"])
        canv.setLineWidth(0.4)
        canv.rect(x, y, w, h, stroke=1, fill=0)

    # the band: craft, role title, level; the QR code at its right
    top = iy + ih
    canv.setFillColor(c["band"])
    canv.roundRect(ix, top - ch.band_height, iw, ch.band_height, fs * 0.5, stroke=0, fill=1)
    ty = top - pad
    for p, ph in ch.band:
        ty -= ph
        p.drawOn(canv, ix + pad, ty)
    if ch.url:
        q = _qr_size(s)
        qx, qy = ix + iw - q - pad * 0.6, top - pad * 0.6 - q
        canv.setFillColor(c["band_text"])
        canv.roundRect(qx, qy, q, q, fs * 0.3, stroke=0, fill=1)
        form = _qr_form(canv, doc, ch.url, q)
        canv.saveState()
        canv.translate(qx, qy)
        canv.doForm(form)
        canv.restoreState()
        canv.linkURL(ch.url, (qx, qy, qx + q, qy + q), relative=0, thickness=0)
    # the body
    body_top = top - ch.band_height - fs * 0.9
    for placed in card.body:
        placed.flowable.drawOn(canv, ix, body_top - placed.top - placed.height)
    # the footer: framework, version; "2 of 3" at the right
    canv.setStrokeColor(c["muted"])
    canv.setLineWidth(0.3)
    rule = iy + ch.footer_height + fs * 0.6
    canv.line(ix, rule, ix + iw, rule)
    fx = ix
    if s.logo:
        lw, lh = _logo_size(s)
        canv.drawImage(_image(s.logo), ix, iy, lw, lh, mask="auto", preserveAspectRatio=True)
        fx += lw + fs
    ch.footer.drawOn(canv, fx, iy + (ch.footer_height - ch.footer_text_height) / 2)
    if card.total > 1:
        canv.setFont(doc.setup.bold.name, fs * 0.9)
        canv.setFillColor(c["heading"])
        canv.drawRightString(ix + iw, iy + ch.footer_height / 2 - fs * 0.3, f"{card.number} of {card.total}")


def _qr_form(canv, doc: _Doc, url: str, size: float) -> str:
    """The QR code of `url` as a form drawn once per document and placed on every card."""
    name = doc.forms.get(url)
    if name:
        return name
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing

    widget = QrCodeWidget(url, barLevel="M", barBorder=3)
    _, _, bw, bh = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / bw, 0, 0, size / bh, 0, 0])
    drawing.add(widget)
    name = f"cfqr{len(doc.forms) + 1}"
    canv.beginForm(name)
    renderPDF.draw(drawing, canv, 0, 0)
    canv.endForm()
    doc.forms[url] = name
    return name


def _cut_marks(canv, s: Settings, colour) -> None:
    """Marks where to cut: outside the card grid when the page has room, else on the cut
    lines themselves from the sheet's edge (cards that touch are cut once between them)."""
    pw, ph = s.page
    (cw, chh), g = s.card, s.gutter
    gw = s.columns * cw + (s.columns - 1) * g
    gh = s.rows * chh + (s.rows - 1) * g
    x0, y0 = (pw - gw) / 2, (ph - gh) / 2
    xs = sorted({round(x0 + i * (cw + g) + d, 3) for i in range(s.columns) for d in (0, cw)})
    ys = sorted({round(y0 + j * (chh + g) + d, 3) for j in range(s.rows) for d in (0, chh)})
    room, gap, length = 3 * MM, 1.5 * MM, 6 * MM
    canv.saveState()
    canv.setStrokeColor(colour)
    canv.setLineWidth(0.3)
    for x in xs:
        if 0.5 * MM < x < pw - 0.5 * MM:
            if y0 >= room:  # marks in the margins above and below the grid
                canv.line(x, y0 - gap, x, max(0, y0 - gap - length))
                canv.line(x, y0 + gh + gap, x, min(ph, y0 + gh + gap + length))
            else:  # on the cut line, from the sheet's edge inwards
                canv.line(x, 0, x, 9 * MM)
                canv.line(x, ph, x, ph - 9 * MM)
    for y in ys:
        if 0.5 * MM < y < ph - 0.5 * MM:
            if x0 >= room:
                canv.line(x0 - gap, y, max(0, x0 - gap - length), y)
                canv.line(x0 + gw + gap, y, min(pw, x0 + gw + gap + length), y)
            else:
                canv.line(0, y, 9 * MM, y)
                canv.line(pw, y, pw - 9 * MM, y)
    if g == 0:  # small crosses where four cards meet
        arm = 2.5 * MM
        for x in xs:
            for y in ys:
                if x0 + 1 < x < x0 + gw - 1 and y0 + 1 < y < y0 + gh - 1:
                    canv.line(x - arm, y, x + arm, y)
                    canv.line(x, y - arm, x, y + arm)
    canv.restoreState()


def _slots(s: Settings) -> list[tuple[float, float]]:
    """Bottom-left corners of the card slots of a sheet, left to right, top to bottom."""
    pw, ph = s.page
    (cw, ch), g = s.card, s.gutter
    gw = s.columns * cw + (s.columns - 1) * g
    gh = s.rows * ch + (s.rows - 1) * g
    x0, y0 = (pw - gw) / 2, (ph - gh) / 2
    return [(x0 + i * (cw + g), y0 + gh - (j + 1) * ch - j * g) for j in range(s.rows) for i in range(s.columns)]


def _fitting_scale(doc: _Doc, role: Role, width: float, height: float) -> float:
    """The body text scale at which `role` fits one card: 1.0 when it does at the theme's size,
    down to the theme's min_font_size when it runs a little over; 1.0 when it does not fit
    even then (it continues on more cards at the theme's size)."""
    s = doc.setup.settings
    frames = _frames(doc, role, width, height, 1.0)
    if len(frames) == 1 or s.min_font_size >= s.font_size:
        return 1.0
    used = sum(f[-1].top + f[-1].height for f in frames if f)
    lowest = s.min_font_size / s.font_size
    # measured: the body's height goes with about the 1.25th power of the font size
    if used / height > 1.1 * (1 / lowest) ** 1.25:
        return 1.0  # far more than one card even at the smallest size: do not try
    guess = max(lowest, min(0.98, 0.985 * (height / used) ** 0.8))
    fits = [a for a in ([guess] + ([lowest] if guess > lowest else []))
            if len(_frames(doc, role, width, height, a)) == 1][:1]
    if not fits:
        return 1.0
    # the largest scale that still fits, to within 1 %: the whole set of cards is set at it
    low, high = fits[0], 1.0
    while high - low > 0.01:
        mid = round((low + high) / 2, 3)
        if len(_frames(doc, role, width, height, mid)) == 1:
            low = mid
        else:
            high = mid
    return low


def _frames(doc: _Doc, role: Role, width: float, height: float, scale: float) -> list[list[Placed]]:
    """The body of a role's cards with the body text at `scale` of the theme's size (laid out
    once: finding the scale that fits and drawing the cards ask for the same layout)."""
    key = (role.craft.id, role.specialism, role.level.number, width, height, round(scale, 3))
    if key not in doc.laid_out:
        doc.laid_out[key] = _lay_out(doc, role, width, height, scale)
    return doc.laid_out[key]


def _lay_out(doc: _Doc, role: Role, width: float, height: float, scale: float) -> list[list[Placed]]:
    setup, context = doc.setup, doc.context
    styles = setup.scaled(round(scale, 3))
    titles = {a.area_id: a.area_title for a in role.areas()}

    def shrunk(_flowable):
        context.warn(role.level.source, f"part of the card of '{role.title}' is printed smaller than the "
                                        "theme's font size to fit a card; use a larger card_size")

    marks = doc.marks.get(role.id)
    return paginate(role_items(role, styles, doc.checker, marks), width, height, continued(styles, titles), shrunk)


def render_cards(framework: Framework, roles: list[Role], context: Context, title: str,
                 marks: dict[str, dict] | None = None, *, pair: bool = False) -> bytes:
    """The level cards of `roles`, in the order given, as one PDF (a card per role, more
    when a role does not fit one card). Warnings go to `context`.

    Every card of the PDF is set in one type size: when a role runs a little over one card,
    the whole set is made smaller to fit it (down to the theme's min_font_size), never that
    card alone. `marks`: per role id, (area id, statement text) -> label ("New") to show.
    `pair`: two cards side by side on the paper turned landscape, each half the sheet and
    its text larger in proportion (a promotion pack's current and target level)."""
    from reportlab.pdfgen.canvas import Canvas

    roles = list(roles)
    if not roles:
        raise ExportError("no roles to print on level cards")
    setup = _setup(context.templates, pair)
    s, st = setup.settings, setup.styles
    doc = _Doc(setup, framework, context, _Checker(context, {"regular": setup.regular, "bold": setup.bold}),
               marks=marks or {})
    inner_w = s.card[0] - 2 * s.margin
    min_body = 4 * st["body"].leading

    chromes = []
    for role in roles:
        chrome = _chrome(doc, role)
        if chrome.body_height < min_body:
            raise _theme_error(context.templates, f"cards of {s.card[0] / MM:.0f} x {s.card[1] / MM:.0f} mm leave "
                                                  f"{max(chrome.body_height, 0) / MM:.0f} mm for the text of "
                                                  f"'{role.title}' at font_size {s.font_size:g}: use a larger "
                                                  "card_size, a smaller font_size or a smaller card_margin")
        chromes.append(chrome)
    scale = min((_fitting_scale(doc, role, inner_w, chrome.body_height) for role, chrome in zip(roles, chromes)),
                default=1.0)
    cards: list[_Card] = []
    for ri, (role, chrome) in enumerate(zip(roles, chromes)):
        frames = _frames(doc, role, inner_w, chrome.body_height, scale)
        for n, body in enumerate(frames, 1):
            cards.append(_Card(role, ri, chrome, body, n, len(frames)))

    buf = io.BytesIO()
    canv = Canvas(buf, pagesize=s.page, invariant=1 if repro.reproducible() else 0, pageCompression=1,
                  initialFontName=setup.regular.name, lang=DOCUMENT_LANGUAGE)
    _fix_dates(canv, context)
    canv.setTitle(title)
    canv.setViewerPreference("DisplayDocTitle", "true")  # a viewer's title bar (and a screen reader) says the title
    canv.setAuthor(framework.title)
    crafts = list(dict.fromkeys(r.craft.title for r in roles))
    canv.setSubject(f"Level cards of {with_the(framework.title)}: {', '.join(crafts)} ({context.version})")
    canv.setCreator("cfexport")
    canv.setKeywords(["level cards", framework.title, *crafts])

    slots = _slots(s)
    per_sheet = len(slots)
    colour = st["_colours"]["cut_marks"]
    groups: dict[tuple, list[int]] = {}  # a level's roles, for the outline
    for ri, role in enumerate(roles):
        groups.setdefault((role.craft.id, role.level.number), []).append(ri)
    opens_level = {members[0]: g for g, members in enumerate(groups.values())}
    for i, card in enumerate(cards):
        slot = i % per_sheet
        if slot == 0 and i:
            canv.showPage()
        if slot == 0 and s.cut_marks:
            _cut_marks(canv, s, colour)
        x, y = slots[slot]
        if card.number == 1:
            box = dict(fit="FitR", left=x, bottom=y, right=x + s.card[0], top=y + s.card[1])
            canv.bookmarkPage(f"role{card.index}", **box)
            if card.index in opens_level:
                canv.bookmarkPage(f"level{opens_level[card.index]}", **box)
        _draw_card(canv, doc, card, x, y)
    canv.showPage()
    _outline(canv, roles, groups)
    canv.save()
    return buf.getvalue()


def render_pack_cards(framework: Framework, current: Role, target: Role, context: Context,
                      changes: tuple | None = None) -> bytes:
    """A promotion pack's cards: the current and the target level side by side on one sheet,
    the target's new and reworded statements marked as in the promotion case. `changes`:
    `compare(current, target)`, when the caller has it already."""
    from cfexport.compare import compare
    from cfexport.exporters.word_template import settings as word_settings

    labels = word_settings(context.templates).labels
    marks = {(ch.area_id, c.statement.text): labels["new"] if c.kind == "new" else labels["changed"]
             for ch in (compare(current, target) if changes is None else changes)
             for c in ch.changes if c.kind != "same"}
    return render_cards(framework, [current, target], context, f"{current.title} and {target.title}",
                        {target.id: marks}, pair=True)


def _outline(canv, roles: list[Role], groups: dict[tuple, list[int]]) -> None:
    """Bookmarks: each level (opening on its first card) holding its roles."""
    several = len({r.craft.id for r in roles}) > 1
    for g, members in enumerate(groups.values()):
        first = roles[members[0]]
        label = f"{first.craft.title}: {first.level.label}" if several else first.level.label
        canv.addOutlineEntry(label, f"level{g}", level=0, closed=False)
        for ri in members:
            canv.addOutlineEntry(roles[ri].title, f"role{ri}", level=1)
    canv.showOutline()


def _fix_dates(canv, context: Context) -> None:
    """The PDF's creation and modification dates are the build time (SOURCE_DATE_EPOCH when set)."""
    ts = getattr(getattr(canv, "_doc", None), "_timeStamp", None)
    if ts is None:
        return
    when = context.build_time
    lt = when.utctimetuple()
    ts.t = when.timestamp()
    ts.lt = tuple(lt)
    ts.YMDhms = tuple(lt)[:6]
    ts.dhh = ts.dmm = 0
    ts.tzname = "UTC"


# --- the exporter ---------------------------------------------------------------------


class PdfExporter:
    name: ClassVar[str] = "pdf"
    description: ClassVar[str] = "printable level cards, one PDF per craft (level-cards/<craft>.pdf)"

    def plan(self, framework: Framework) -> list[Document]:
        return [Document(("level-cards", craft.title), ".pdf", craft=craft.title, key=(craft.id,))
                for craft in framework.crafts if craft.levels]

    def render(self, framework: Framework, document: Document, context: Context) -> bytes:
        craft = _craft(framework, document.key[0])
        return render_cards(framework, list(craft.roles()), context, f"Level cards: {craft.title}")

    # For incremental builds and worker start-up (cfexport.fingerprint, cfexport.workers).
    styled_by: ClassVar[tuple[str, ...]] = ("theme.yaml", "**/*.ttf", "**/*.otf", "**/*.png", "**/*.jpg",
                                            "**/*.jpeg", "**/*.gif", "**/*.bmp", "**/*.tif", "**/*.tiff")

    def fingerprint(self, framework: Framework, document: Document) -> bytes:
        """A craft's cards read the craft and the framework's titles."""
        from cfexport import fingerprint

        return fingerprint.craft_slice(framework, document.key[0])

    def warm(self, context: Context) -> None:
        import reportlab.pdfgen.canvas, reportlab.platypus  # noqa: E401,F401

        _setup(context.templates)


def _craft(framework: Framework, craft_id: str) -> Craft:
    for craft in framework.crafts:
        if craft.id == craft_id:
            return craft
    raise ExportError(f"no craft '{craft_id}' in the framework", framework.source)
