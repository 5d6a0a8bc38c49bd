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
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ClassVar, Iterable
from urllib.parse import quote
from xml.sax.saxutils import escape

from cfexport import repro
from cfexport.exporters.base import Context, Document, ExportError
from cfexport.model import Craft, Framework, Role, Source
from cfexport.theme import THEME_FILE, hex_colour, load_theme

MM = 72 / 25.4  # points per millimetre
_FUZZ = 1e-6

# Paper sizes in millimetres, portrait. A name may end in " landscape".
_SIZES = {
    "A3": (297, 420), "A4": (210, 297), "A5": (148, 210), "A6": (105, 148), "A7": (74, 105),
    "B5": (176, 250), "B6": (125, 176), "LETTER": (215.9, 279.4), "LEGAL": (215.9, 355.6),
    "INDEX-3X5": (76.2, 127), "INDEX-4X6": (101.6, 152.4), "INDEX-5X8": (127, 203.2),
}

_DEFAULTS = {
    "page_size": "A4",
    "card_size": "A6",
    "cards_per_sheet": [2, 2],
    "gutter": 0,
    "card_margin": 6,
    "cut_marks": True,
    "font_size": 7.5,
    "min_font_size": 6.5,
    "fonts": {"regular": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf"},
    "colours": {},
    "logo": "",
    "base_url": "",
}
_COLOUR_DEFAULTS = {
    # pdf-only colours; anything else falls back on the shared `colours:` of the theme
    "band": None,  # None: the shared primary colour
    "band_text": "FFFFFF",
    "heading": None,  # None: primary
    "bullet": None,  # None: accent
    "muted": "6B6B6B",
    "cut_marks": "555555",
    "border": "",  # empty: no line around each card
}

NOT_DEFINED = "Not yet defined"
NO_EXPECTATIONS = "No expectations at this level"


# --- the theme --------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """The `pdf:` section of the theme, checked and in points."""

    page: tuple[float, float]
    card: tuple[float, float]
    columns: int
    rows: int
    gutter: float
    margin: float
    cut_marks: bool
    font_size: float
    min_font_size: float
    regular: Path
    bold: Path
    colours: dict[str, str]
    logo: Path | None
    base_url: str


def _theme_error(templates: Path, message: str) -> ExportError:
    return ExportError(f"{Path(templates) / THEME_FILE}: pdf: {message}")


def _size(templates: Path, key: str, value) -> tuple[float, float] | None:
    """A size in points from a paper name ("A6", "A4 landscape") or [width, height] in mm."""
    if isinstance(value, str):
        words = value.strip().upper().split()
        landscape = len(words) == 2 and words[1] == "LANDSCAPE"
        if words and (len(words) == 1 or landscape) and words[0] in _SIZES:
            w, h = _SIZES[words[0]]
            return (h * MM, w * MM) if landscape else (w * MM, h * MM)
        if key == "page_size" and value.strip().lower() == "card":
            return None
    elif (isinstance(value, (list, tuple)) and len(value) == 2
          and all(isinstance(v, (int, float)) and not isinstance(v, bool) and 10 <= v <= 2000 for v in value)):
        return (float(value[0]) * MM, float(value[1]) * MM)
    names = ", ".join(_SIZES)
    extra = ', or "card" (the page is the card grid)' if key == "page_size" else ""
    raise _theme_error(templates, f"{key}: {value!r} is not a size: use a name ({names}), optionally followed "
                                  f'by " landscape", or [width, height] in millimetres{extra}')


def _number(templates: Path, key: str, value, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise _theme_error(templates, f"{key}: {value!r} must be a number from {low:g} to {high:g}")
    return float(value)


def _colour(templates: Path, key: str, value) -> str:
    hex_value = hex_colour(str(value)) if isinstance(value, (str, int)) else None
    if hex_value is None:
        raise _theme_error(templates, f"colours: {key}: {value!r} is not a colour: "
                                      'write six hex digits, e.g. "1F3A5F"')
    return "#" + hex_value


def _template_file(templates: Path, key: str, name, folder: str = "") -> Path:
    """A file the theme names, which must stay inside the templates folder."""
    if not isinstance(name, str) or not name.strip():
        raise _theme_error(templates, f"{key}: give a file name")
    base = (Path(templates) / folder).resolve()
    path = (base / name.strip()).resolve()
    if not path.is_relative_to(Path(templates).resolve()):
        raise _theme_error(templates, f"{key}: {name!r} must be a file inside {Path(templates) / folder}")
    if not path.is_file():
        raise _theme_error(templates, f"{key}: {path} does not exist")
    return path


def load_settings(templates: Path) -> Settings:
    templates = Path(templates)
    raw = load_theme(templates).get("pdf") or {}
    if not isinstance(raw, dict):
        raise _theme_error(templates, "must be a set of 'key: value' lines")
    unknown = sorted(set(raw) - set(_DEFAULTS))
    if unknown:
        raise _theme_error(templates, f"unknown setting {', '.join(map(repr, unknown))}; "
                                      f"the settings are: {', '.join(_DEFAULTS)}")
    conf = {**_DEFAULTS, **{k: v for k, v in raw.items() if v is not None}}

    card = _size(templates, "card_size", conf["card_size"])
    cps = conf["cards_per_sheet"]
    if isinstance(cps, str) and re.fullmatch(r"\s*\d+\s*[xX×]\s*\d+\s*", cps):
        cps = [int(n) for n in re.split(r"[xX×]", cps)]
    if (not isinstance(cps, (list, tuple)) or len(cps) != 2
            or not all(isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 20 for n in cps)):
        raise _theme_error(templates, f"cards_per_sheet: {cps!r} must be [columns, rows], e.g. [2, 2]")
    columns, rows = cps
    gutter = _number(templates, "gutter", conf["gutter"], 0, 100) * MM
    grid = (columns * card[0] + (columns - 1) * gutter, rows * card[1] + (rows - 1) * gutter)
    page = _size(templates, "page_size", conf["page_size"]) or grid
    if grid[0] > page[0] + 0.01 or grid[1] > page[1] + 0.01:
        raise _theme_error(templates, f"{columns} x {rows} cards of {card[0] / MM:.0f} x {card[1] / MM:.0f} mm need "
                                      f"{grid[0] / MM:.0f} x {grid[1] / MM:.0f} mm, larger than the "
                                      f"{page[0] / MM:.0f} x {page[1] / MM:.0f} mm page: choose a larger page_size, "
                                      "a smaller card_size or fewer cards_per_sheet")
    margin = _number(templates, "card_margin", conf["card_margin"], 0, 50) * MM
    font_size = _number(templates, "font_size", conf["font_size"], 4, 40)
    min_font_size = _number(templates, "min_font_size", conf["min_font_size"], 4, 40)
    if not isinstance(conf["cut_marks"], bool):
        raise _theme_error(templates, f"cut_marks: {conf['cut_marks']!r} must be true or false")

    fonts = conf["fonts"]
    if not isinstance(fonts, dict) or set(fonts) - {"regular", "bold"}:
        raise _theme_error(templates, "fonts: give 'regular' and 'bold', each a TrueType file in templates/fonts/")
    fonts = {**_DEFAULTS["fonts"], **fonts}
    regular = _template_file(templates, "fonts: regular", fonts["regular"], "fonts")
    bold = _template_file(templates, "fonts: bold", fonts["bold"], "fonts")

    own = conf["colours"]
    if not isinstance(own, dict):
        raise _theme_error(templates, "colours: must be a set of 'name: RRGGBB' lines")
    shared = load_theme(templates).get("colours") or {}
    if not isinstance(shared, dict):
        raise ExportError(f"{templates / THEME_FILE}: colours: must be a set of 'name: RRGGBB' lines")
    merged = {"primary": "1F3A5F", "accent": "2E86AB", "todo": "FFF2CC", "text": "222222",
              **{k: v for k, v in shared.items() if v}}
    fallbacks = {"band": "primary", "heading": "primary", "bullet": "accent"}
    colours = {}
    for key, default in _COLOUR_DEFAULTS.items():
        value = own.get(key, default)
        if value is None:
            value = merged[fallbacks[key]]
        colours[key] = _colour(templates, key, value) if value != "" else ""
    for key in ("primary", "accent", "todo", "text"):
        colours[key] = _colour(templates, key, own.get(key, merged[key]))
    unknown = sorted(set(own) - set(colours))
    if unknown:
        raise _theme_error(templates, f"colours: unknown colour {', '.join(map(repr, unknown))}; "
                                      f"the colours are: {', '.join(colours)}")

    logo = None
    if conf["logo"]:
        logo = _template_file(templates, "logo", conf["logo"])
    base_url = conf["base_url"]
    if not isinstance(base_url, str):
        raise _theme_error(templates, f"base_url: {base_url!r} must be a web address")
    base_url = base_url.strip()
    if base_url and not re.match(r"^https?://[^\s/?#]+[^\s]*$", base_url):
        raise _theme_error(templates, f"base_url: {base_url!r} must be a web address starting with https:// "
                                      "(the site's address, e.g. https://careers.example.com)")
    return Settings(page, card, columns, rows, gutter, margin, conf["cut_marks"], font_size, min_font_size,
                    regular, bold, colours, logo, base_url.rstrip("/"))


# --- fonts and styles, once per process ---------------------------------------------------


@dataclass
class _Font:
    name: str  # the name registered with reportlab
    family: str  # as people know it, "DejaVu Sans"
    cmap: dict


_FONTS: dict[Path, _Font] = {}


def _fix_to_unicode() -> None:
    """reportlab 5.1 writes the ToUnicode entry of a character beyond U+FFFF (an emoji) as
    an odd number of hex digits, so text extraction, search and copy lose it. Write it as
    the UTF-16 surrogate pair the PDF specification asks for (same output otherwise)."""
    from reportlab.pdfbase import ttfonts

    original = ttfonts.makeToUnicodeCMap
    if getattr(original, "_cfexport", False):
        return

    def to_unicode_cmap(fontname, subset):
        wide = {i: v for i, v in enumerate(subset) if v > 0xFFFF}
        text = original(fontname, [0xFFFD if i in wide else v for i, v in enumerate(subset)])
        for i, v in wide.items():
            hi, lo = divmod(v - 0x10000, 0x400)
            text = text.replace("<%02X> <FFFD>" % i, "<%02X> <%04X%04X>" % (i, 0xD800 + hi, 0xDC00 + lo), 1)
        return text

    to_unicode_cmap._cfexport = True
    ttfonts.makeToUnicodeCMap = to_unicode_cmap


def _font(path: Path) -> _Font:
    """Register a TrueType file with reportlab once per process (reportlab embeds a subset)."""
    if path not in _FONTS:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        _fix_to_unicode()
        data = path.read_bytes()
        name = f"cfx-{path.stem}-{hashlib.sha256(data).hexdigest()[:8]}"
        try:
            font = TTFont(name, io.BytesIO(data))
        except Exception as exc:  # TTFError, struct.error, ...: reportlab raises several kinds for a bad file
            raise ExportError(f"{path}: not a TrueType font reportlab can embed ({exc}); "
                              "use a .ttf file (OpenType/CFF .otf fonts are not supported)") from None
        pdfmetrics.registerFont(font)
        family = font.face.familyName
        family = family.decode("utf-8", "replace") if isinstance(family, bytes) else str(family)
        _FONTS[path] = _Font(name, family or path.stem, font.face.charToGlyph)
    return _FONTS[path]


@dataclass
class _Setup:
    settings: Settings
    regular: _Font
    bold: _Font
    styles: dict
    _scaled: dict = field(default_factory=dict)

    def scaled(self, scale: float) -> dict:
        """The styles with every size times `scale` (made once per scale and process)."""
        if scale == 1.0:
            return self.styles
        if scale not in self._scaled:
            self._scaled[scale] = _styles(self.settings, self.regular.name, self.bold.name, scale)
        return self._scaled[scale]


_SETUPS: dict[Path, _Setup] = {}


def _setup(templates: Path) -> _Setup:
    templates = Path(templates).absolute()
    if templates not in _SETUPS:
        settings = load_settings(templates)
        regular, bold = _font(settings.regular), _font(settings.bold)
        from reportlab.pdfbase.pdfmetrics import registerFontFamily

        registerFontFamily(regular.name, normal=regular.name, bold=bold.name, italic=regular.name,
                           boldItalic=bold.name)
        _SETUPS[templates] = _Setup(settings, regular, bold, _styles(settings, regular.name, bold.name))
    return _SETUPS[templates]


def _styles(s: Settings, regular: str, bold: str, scale: float = 1.0) -> dict:
    from reportlab.lib.colors import HexColor
    from reportlab.lib.styles import ParagraphStyle

    c = {k: HexColor(v) for k, v in s.colours.items() if v}
    fs = s.font_size * scale

    def style(name, font, size, leading, colour, **kw):
        return ParagraphStyle(name, fontName=font, fontSize=size, leading=leading, textColor=colour,
                              hyphenationLang="", embeddedHyphenation=0, uriWasteReduce=0,
                              splitLongWords=1, allowOrphans=0, allowWidows=1, **kw)

    return {
        "body": style("cf-body", regular, fs, fs * 1.32, c["text"], leftIndent=fs * 1.4, bulletIndent=fs * 0.1,
                      bulletFontName=regular, bulletFontSize=fs, bulletColor=c["bullet"]),
        "area": style("cf-area", bold, fs * 1.1, fs * 1.4, c["heading"]),
        "todo": style("cf-todo", regular, fs * 0.95, fs * 1.3, c["text"], backColor=c["todo"],
                      borderPadding=(fs * 0.15, fs * 0.3, fs * 0.2, fs * 0.3), leftIndent=fs * 0.3),
        "absent": style("cf-absent", regular, fs * 0.95, fs * 1.3, c["muted"]),
        "craft": style("cf-craft", regular, fs * 0.85, fs * 1.1, c["band_text"]),
        "role": style("cf-role", bold, fs * 1.75, fs * 2.05, c["band_text"]),
        "level": style("cf-level", regular, fs * 1.05, fs * 1.35, c["band_text"]),
        "footer": style("cf-footer", regular, fs * 0.8, fs * 1.05, c["muted"]),
        "_colours": c,
        "_fs": fs,
    }


# --- text -----------------------------------------------------------------------------


def markup(text: str) -> str:
    """Framework text as literal paragraph text: escaped, line breaks kept, tabs as spaces.

    Two invisible characters often pasted from Word are dropped: soft hyphens (U+00AD), at
    which reportlab would hyphenate (cards are never hyphenated: what prints is what the
    page says), and zero-width spaces (U+200B), which reportlab would print as spaces."""
    return escape(text.translate(_INVISIBLE)).replace("\t", " ").replace("\n", "<br/>")


_INVISIBLE = {0x00AD: None, 0x200B: None}


_RTL = {"R", "AL"}


class _Checker:
    """Reports, once per piece of text and place, characters the card font cannot draw
    and right-to-left text that reportlab prints unshaped."""

    def __init__(self, context: Context, fonts: dict[str, _Font]):
        self.context = context
        self.fonts = fonts
        self.seen: set = set()

    def once(self, source: Source, message: str) -> None:
        if (source, message) not in self.seen:
            self.seen.add((source, message))
            self.context.warn(source, message)

    def check(self, text: str, source: Source, font: str = "regular") -> None:
        key = (text, source, font)
        if key in self.seen:
            return
        self.seen.add(key)
        f = self.fonts[font]
        cmap = f.cmap
        missing = sorted({ch for ch in text if ord(ch) not in cmap and ch not in "\n\t "})
        if missing:
            shown = ", ".join(f"U+{ord(ch):04X} {ch!r}" for ch in missing[:8])
            more = f" and {len(missing) - 8} more" if len(missing) > 8 else ""
            self.context.warn(source, f"{len(missing)} character(s) cannot be printed with {f.family} and would "
                                      f"show as empty boxes on the level cards: {shown}{more}; change the text or "
                                      "set a font that has them (templates/theme.yaml, pdf: fonts)")
        if any(unicodedata.bidirectional(ch) in _RTL for ch in text):
            self.context.warn(source, "right-to-left text (Arabic, Hebrew) is printed on the level cards without "
                                      "reordering or joining its letters (reportlab cannot shape it); check the "
                                      "printed card")


# --- laying out a card ------------------------------------------------------------------


@dataclass
class Item:
    """A flowable of a card's body with how it sits among the others."""

    flowable: object
    space_before: float = 0.0
    space_after: float = 0.0
    keep_with_next: bool = False
    area: str | None = None  # the area it belongs to: a card starting inside it repeats its title
    heading: bool = False


@dataclass
class Placed:
    flowable: object
    top: float  # distance from the top of the frame
    height: float


def _min_height(item: Item, width: float, wrapped: dict) -> float:
    """The least of `item` that may end a card: two lines of a paragraph, else all of it."""
    h = _wrap(item.flowable, width, 1e9, wrapped)
    leading = getattr(getattr(item.flowable, "style", None), "leading", None)
    return min(h, 2 * leading) if leading else h


def _wrap(flowable, width: float, height: float, wrapped: dict) -> float:
    key = id(flowable)
    if key not in wrapped:
        wrapped[key] = (flowable, flowable.wrap(width, height)[1])
    return wrapped[key][1]


def paginate(items: Iterable[Item], width: float, height: float,
             continued: Callable[[str], Item] | None = None,
             on_shrink: Callable[[object], None] | None = None) -> list[list[Placed]]:
    """Split `items` into frames of `width` x `height` points, measuring each flowable once.

    A flowable that does not fit is split (a paragraph splits between lines); what is left
    goes on the next frame. A heading (keep_with_next) never ends a frame without at least
    the start of what follows. A frame that starts inside an area begins with `continued(area)`.
    When something cannot fit an empty frame and cannot split (a single line taller than
    the frame), a paragraph is split line by line, and as a last resort the flowable is
    scaled down to fit (`on_shrink` is told). Nothing is ever dropped.
    """
    from reportlab.platypus import Paragraph
    from reportlab.platypus.flowables import KeepInFrame

    frames: list[list[Placed]] = []
    card: list[Placed] = []
    used = 0.0
    wrapped: dict = {}
    queue = deque(items)

    def close():
        nonlocal card, used
        frames.append(card)
        card, used = [], 0.0

    while queue:
        item = queue.popleft()
        at_top = not card
        if at_top and frames and continued and item.area is not None and not item.heading:
            queue.appendleft(item)
            queue.appendleft(continued(item.area))
            continue
        before = 0.0 if at_top else item.space_before
        avail = height - used - before
        h = _wrap(item.flowable, width, avail, wrapped)
        if h <= avail + _FUZZ:
            if item.keep_with_next and queue and not at_top:
                nxt = queue[0]
                need = nxt.space_before + _min_height(nxt, width, wrapped)
                if used + before + h + need > height + _FUZZ:
                    queue.appendleft(item)
                    close()
                    continue
            card.append(Placed(item.flowable, used + before, h))
            used += before + h + item.space_after
            continue
        wrapped.pop(id(item.flowable), None)  # split may drop or change the layout: measure again
        parts = item.flowable.split(width, avail) if avail > _FUZZ else []
        if not parts and at_top and isinstance(item.flowable, Paragraph):
            # an empty frame shorter than two lines: let a paragraph split after one line
            item.flowable.allowOrphans = 1
            parts = item.flowable.split(width, avail)
        if len(parts) > 1:
            first, rest = parts[0], parts[1:]
            fh = first.wrap(width, avail)[1]
            if fh <= avail + _FUZZ:
                card.append(Placed(first, used + before, fh))
                for part in reversed(rest):
                    # the rest of a heading stays a heading: no "(continued)" title in front of it
                    queue.appendleft(Item(part, 0.0, item.space_after, item.keep_with_next, item.area,
                                          item.heading))
                close()
                continue
            queue.extendleft(reversed([Item(p, item.space_before, item.space_after, item.keep_with_next,
                                            item.area, item.heading) for p in parts]))
            if not at_top:
                close()
                continue
            item = queue.popleft()
        if not at_top:
            queue.appendleft(item)
            close()
            continue
        # an empty frame, and it neither fits nor splits: print it smaller rather than lose it
        if on_shrink:
            on_shrink(item.flowable)
        shrunk = KeepInFrame(width, height, [item.flowable], mode="shrink")
        sh = min(shrunk.wrapOn(None, width, height)[1], height)  # no canvas needed to measure
        card.append(Placed(shrunk, 0.0, sh))
        used = height
    if card or not frames:
        frames.append(card)
    return frames


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


def role_items(role: Role, styles: dict, checker: _Checker) -> list[Item]:
    """The body of a role's card: each area with its statements, in the craft page's order."""
    from reportlab.platypus import Paragraph

    fs = styles["_fs"]
    items: list[Item] = []
    for area in role.areas():
        src = area.area.source if area.area else (area.expectations[0].source if area.expectations else
                                                  role.level.source)
        checker.check(area.area_title, src, "bold")
        items.append(Item(Paragraph(markup(area.area_title), styles["area"]), space_before=fs * 0.9,
                          space_after=fs * 0.25, keep_with_next=True, area=area.area_id, heading=True))
        shown = False
        for exp in area.expectations:
            if exp.todo:
                items.append(Item(Paragraph(NOT_DEFINED, styles["todo"]), fs * 0.3, fs * 0.2, area=area.area_id))
                shown = True
            for st in exp.statements:
                checker.check(st.text, st.source)
                items.append(Item(Paragraph(markup(st.text), styles["body"], bulletText="•"), fs * 0.3,
                                  area=area.area_id))
                shown = True
        if not shown:
            items.append(Item(Paragraph(NO_EXPECTATIONS, styles["absent"]), fs * 0.2, area=area.area_id))
    return items


def _continued(styles: dict, titles: dict[str, str]) -> Callable[[str], Item]:
    from reportlab.platypus import Paragraph

    muted = styles["_colours"]["muted"].hexval()[2:]

    def make(area_id: str) -> Item:
        text = f'{markup(titles[area_id])} <font color="#{muted}">(continued)</font>'
        return Item(Paragraph(text, styles["area"]), 0.0, styles["_fs"] * 0.25, keep_with_next=True,
                    area=area_id, heading=True)

    return make


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


def _layout(doc: _Doc, role: Role, width: float, height: float) -> list[list[Placed]]:
    """The body of a role's cards. When it runs a little over one card, the body text is
    set smaller (down to the theme's min_font_size) so the role fits one card; when it
    does not fit even then, it continues on as many cards as it needs at the theme's size."""
    setup, context = doc.setup, doc.context
    s = setup.settings
    titles = {a.area_id: a.area_title for a in role.areas()}

    def shrunk(_flowable):
        context.warn(role.level.source, f"part of the card of '{role.title}' is printed smaller than the "
                                        "theme's font size to fit a card; use a larger card_size")

    def run(styles: dict) -> list[list[Placed]]:
        return paginate(role_items(role, styles, doc.checker), width, height, _continued(styles, titles), shrunk)

    frames = run(setup.styles)
    if len(frames) == 1 or s.min_font_size >= s.font_size:
        return frames
    used = sum(f[-1].top + f[-1].height for f in frames if f)
    lowest = s.min_font_size / s.font_size
    # measured: the body's height goes with about the 1.25th power of the font size
    if used / height > 1.1 * (1 / lowest) ** 1.25:
        return frames  # far more than one card even at the smallest size: do not try
    scale = max(lowest, min(0.98, 0.985 * (height / used) ** 0.8))
    for attempt in [scale] + ([lowest] if scale > lowest else []):
        fitted = run(setup.scaled(round(attempt, 3)))
        if len(fitted) == 1:
            return fitted
    return frames


def render_cards(framework: Framework, roles: list[Role], context: Context, title: str) -> bytes:
    """The level cards of `roles`, in the order given, as one PDF (a card per role, more
    when a role does not fit one card). Warnings go to `context`."""
    from reportlab.pdfgen.canvas import Canvas

    roles = list(roles)
    if not roles:
        raise ExportError("no roles to print on level cards")
    setup = _setup(context.templates)
    s, st = setup.settings, setup.styles
    doc = _Doc(setup, framework, context, _Checker(context, {"regular": setup.regular, "bold": setup.bold}))
    inner_w = s.card[0] - 2 * s.margin
    min_body = 4 * st["body"].leading

    cards: list[_Card] = []
    for ri, role in enumerate(roles):
        chrome = _chrome(doc, role)
        if chrome.body_height < min_body:
            raise _theme_error(context.templates, f"cards of {s.card[0] / MM:.0f} x {s.card[1] / MM:.0f} mm leave "
                                                  f"{max(chrome.body_height, 0) / MM:.0f} mm for the text of "
                                                  f"'{role.title}' at font_size {s.font_size:g}: use a larger "
                                                  "card_size, a smaller font_size or a smaller card_margin")
        frames = _layout(doc, role, inner_w, chrome.body_height)
        for n, body in enumerate(frames, 1):
            cards.append(_Card(role, ri, chrome, body, n, len(frames)))

    buf = io.BytesIO()
    canv = Canvas(buf, pagesize=s.page, invariant=1 if repro.reproducible() else 0, pageCompression=1,
                  initialFontName=setup.regular.name)
    _fix_dates(canv, context)
    canv.setTitle(title)
    canv.setAuthor(framework.title)
    crafts = list(dict.fromkeys(r.craft.title for r in roles))
    canv.setSubject(f"Level cards of the {framework.title}: {', '.join(crafts)} ({context.version})")
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
