"""The level cards' settings, fonts and paragraph styles: the `pdf:` section of the theme
(paper and card sizes, margins, type sizes, fonts, colours, logo, base_url) checked and in
points, each TrueType font registered with reportlab once per process, the paragraph styles
made once per templates folder and scale, and the check that reports text the card font
cannot draw. `level_cards` draws the cards with them.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path

from cfexport.exporters.base import Context, ExportError
from cfexport.model import Source
from cfexport.theme import THEME_FILE, hex_colour, load_theme, paper as theme_paper

MM = 72 / 25.4  # points per millimetre

# Paper sizes in millimetres, portrait. A name may end in " landscape".
_SIZES = {
    "A3": (297, 420), "A4": (210, 297), "A5": (148, 210), "A6": (105, 148), "A7": (74, 105),
    "B5": (176, 250), "B6": (125, 176), "LETTER": (215.9, 279.4), "LEGAL": (215.9, 355.6),
    "INDEX-3X5": (76.2, 127), "INDEX-4X6": (101.6, 152.4), "INDEX-5X8": (127, 203.2),
    "QUARTER-LETTER": (107.95, 139.7), "HALF-LETTER": (139.7, 215.9),
}
# The card that makes four to a sheet of each paper.
_QUARTER = {"A4": "A6", "Letter": "QUARTER-LETTER"}

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
    # an unknown key is the theme check's to report (a warning naming the closest known key)
    conf = {**_DEFAULTS, **{k: v for k, v in raw.items() if v is not None and k in _DEFAULTS}}
    # the sheet is the theme's `paper:` unless pdf.page_size says otherwise; the card a quarter of it
    paper = theme_paper(templates) or "A4"
    if raw.get("page_size") is None:
        conf["page_size"] = paper.upper()
    if raw.get("card_size") is None:
        conf["card_size"] = _QUARTER[paper]

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
    merged.setdefault("new", "E2F0D9")
    for key in ("primary", "accent", "todo", "text", "new"):
        colours[key] = _colour(templates, key, own.get(key, merged[key]))

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


_SETUPS: dict[tuple, _Setup] = {}


def _setup(templates: Path, pair: bool = False) -> _Setup:
    """The cards' settings, fonts and styles, made once per process and version of the theme."""
    from cfexport.theme import version

    templates = Path(templates).absolute()
    key = (version(templates), pair)
    if key not in _SETUPS:
        settings = load_settings(templates)
        if pair:
            settings = pair_settings(settings)
        regular, bold = _font(settings.regular), _font(settings.bold)
        from reportlab.pdfbase.pdfmetrics import registerFontFamily

        registerFontFamily(regular.name, normal=regular.name, bold=bold.name, italic=regular.name,
                           boldItalic=bold.name)
        _SETUPS[key] = _Setup(settings, regular, bold, _styles(settings, regular.name, bold.name))
    return _SETUPS[key]


def pair_settings(s: Settings) -> Settings:
    """Two cards side by side on the sheet turned landscape, each half of it (A5 on A4,
    half-Letter on Letter), with type, margins and footer enlarged in proportion to the
    theme's card. Unchanged when that is no larger than the theme's card."""
    long, short = max(s.page), min(s.page)
    card = (long / 2, short)
    grow = min(card[0] / s.card[0], card[1] / s.card[1])
    if grow < 1.05:
        return s
    return replace(s, page=(long, short), card=card, columns=2, rows=1, gutter=0.0,
                   margin=min(s.margin * grow, 12 * MM), font_size=s.font_size * grow,
                   min_font_size=s.min_font_size * grow)


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
        # the shading reaches out by its padding: indented as much on both sides, it stays
        # within the card's text width (the width of the title band)
        "todo": style("cf-todo", regular, fs * 0.95, fs * 1.3, c["text"], backColor=c["todo"],
                      borderPadding=(fs * 0.15, fs * 0.3, fs * 0.2, fs * 0.3), leftIndent=fs * 0.3,
                      rightIndent=fs * 0.3),
        "new": style("cf-new", regular, fs, fs * 1.32, c["text"], leftIndent=fs * 1.4, bulletIndent=fs * 0.1,
                     bulletFontName=regular, bulletFontSize=fs, bulletColor=c["bullet"], backColor=c["new"],
                     borderPadding=(fs * 0.1, fs * 0.3, fs * 0.15, 0), rightIndent=fs * 0.3),
        "absent": style("cf-absent", regular, fs * 0.95, fs * 1.3, c["muted"]),
        "craft": style("cf-craft", regular, fs * 0.85, fs * 1.1, c["band_text"]),
        "role": style("cf-role", bold, fs * 1.75, fs * 2.05, c["band_text"]),
        "level": style("cf-level", regular, fs * 1.05, fs * 1.35, c["band_text"]),
        "footer": style("cf-footer", regular, fs * 0.8, fs * 1.05, c["muted"]),
        "_colours": c,
        "_fs": fs,
    }


# --- text -----------------------------------------------------------------------------


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
