"""Property-based: generated frameworks with arbitrary text go through every exporter,
and every statement is read back out of the docx, the xlsx and the PDF."""

from __future__ import annotations

import tempfile
import unicodedata
from pathlib import Path

from conftest import TEMPLATES
from factory import CraftSpec, LevelSpec, write_framework
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from readback import docx_text, pdf_text, squash, xlsx_cells

from cfexport import build as builder
from cfexport import registry
from cfexport.readers import read_framework
from cfexport.repro import build_time


_RTL_BLOCKS = ((0x0590, 0x08FF), (0xFB1D, 0xFDFF), (0xFE70, 0xFEFF))  # Hebrew, Arabic, Syriac, ... forms


def _font_alphabet() -> list[str]:
    """Every character the shipped font draws, read from its cmap: letters, digits, punctuation
    and symbols of every block it covers. Left out: combining marks and format characters (not
    text on their own), the right-to-left scripts' characters (reportlab does not shape them,
    the PDF exporter warns, and text extraction reorders them), and characters that NFC would
    change (ingestion normalises them)."""
    from reportlab.pdfbase.ttfonts import TTFont

    font = TTFont("property-font", str(TEMPLATES / "fonts" / "DejaVuSans.ttf"))
    chars = []
    for cp in sorted(font.face.charToGlyph):
        ch = chr(cp)
        if (unicodedata.category(ch)[0] in "LNPS" and unicodedata.category(ch) != "Co"
                and unicodedata.bidirectional(ch) not in ("R", "AL", "AN")
                and not any(lo <= cp <= hi for lo, hi in _RTL_BLOCKS)
                and unicodedata.normalize("NFC", ch) == ch):
            chars.append(ch)
    return chars


FONT_CHARS = _font_alphabet()
ALPHABET = st.one_of(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),  # markup and formula characters
    st.sampled_from(FONT_CHARS),
)
PREFIX = st.sampled_from(["", "=", "+", "-", "@", "<", "&", "</para>", "{{ ", "TODO "])


def _clean(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


# At least a few characters: a one-letter statement would be "found" anywhere.
statement = st.builds(lambda p, t: _clean(p + t), PREFIX, st.text(ALPHABET, min_size=4, max_size=300)).filter(
    lambda s: len(s) >= 4 and s.upper() != "TODO")
area_names = st.lists(st.text(st.characters(min_codepoint=0x41, max_codepoint=0x5A), min_size=3, max_size=12),
                      min_size=1, max_size=6, unique=True)


@st.composite
def frameworks(draw):
    areas = draw(area_names)
    n_levels = draw(st.integers(1, 3))
    levels = []
    for n in range(1, n_levels + 1):
        rows = [(a, draw(st.lists(statement, min_size=1, max_size=4))) for a in areas]
        levels.append(LevelSpec(n, f"L{n}", {None: rows}))
    long = draw(st.booleans())
    if long:  # a very long statement that must continue over cards, never be cut
        levels[0].sections[None][0][1].append("long " * 600 + "end")
    return CraftSpec("Generated Craft", "gen", [(None, a, f"About {a}.") for a in areas], levels)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frameworks())
def test_every_statement_is_read_back_from_every_format(craft):
    with tempfile.TemporaryDirectory() as tmp:
        root = write_framework(Path(tmp) / "fw", [craft])
        result = read_framework(root)
        assert not result.errors, result.errors
        fw = result.framework
        expected = [s for lv in craft.levels for _, stmts in lv.sections[None] for s in stmts]
        assert sorted(s.text for s in fw.statements()) == sorted(expected)
        out = Path(tmp) / "out"
        entries, _ = builder.build(fw, out, registry.load(["docx", "xlsx", "pdf"]), TEMPLATES, build_time(), jobs=1)
        # Word: each statement is a whole paragraph (a bullet) of its level's role description
        docx_paragraphs = {line for e in entries if e["path"].endswith(".docx")
                           for line in docx_text(out / e["path"]).split("\n")}
        # Excel: each statement is a whole string cell of the Statements table
        [xlsx] = [out / e["path"] for e in entries if e["path"].endswith(".xlsx")]
        cells = xlsx_cells(xlsx)
        xlsx_strings = {c.value for c in cells if c.data_type == "s"}
        pdf_all = squash("\n".join(pdf_text(out / e["path"]) for e in entries if e["path"].endswith(".pdf")))
        for s in expected:
            assert s in docx_paragraphs, s
            assert s in xlsx_strings, s
            if len(s) > 1000:  # continues over several cards, with each card's heading in between
                assert pdf_all.count("long") >= s.count("long") and "end" in pdf_all
            else:
                assert squash(s) in pdf_all, s
        assert not [c for c in cells if c.data_type == "f"]
