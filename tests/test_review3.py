"""Review 3: defects found by using cfexport on inputs nobody on the project wrote, each as a test.

Fixtures have the shape real inputs have (a workbook filled in and saved again by LibreOffice, pages
as authors write them); golden values come from the text written here, never from cfexport."""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FRAMEWORK, ROOT, need_tool

from cfexport.cli import main

EPOCH = {"SOURCE_DATE_EPOCH": "1700000000"}


def cli(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, list(args), env=env)


def _libreoffice(files: list[Path], fmt: str, outdir: Path, profile: Path) -> None:
    soffice = need_tool("soffice")
    proc = subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{profile}", "--convert-to", fmt,
                           "--outdir", str(outdir), *map(str, files)], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr


# --- collect: a returned workbook with a damaged picture -------------------------------------------------------------

def _damage_member(data: bytes, name: str) -> bytes:
    """The zip with the local header of `name` garbled, as a broken download or mail gateway leaves it
    (the central directory, read first, is intact)."""
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        offset = zf.getinfo(name).header_offset
    out[offset:offset + 4] = b"\0\0\0\0"
    return bytes(out)


def test_collect_lists_a_returned_workbook_with_a_damaged_picture_as_damaged_and_reads_the_rest(tmp_path):
    """A self-assessment with a screenshot pasted as evidence, saved again by LibreOffice, whose picture
    part came back damaged: collect stopped the whole round with 'internal error (Error -3 while
    decompressing data)' or 'Bad magic number for file header' (exit 4), reading none of the other
    returns. The part was opened, to see whether it held XML, outside the guard's error handling."""
    import openpyxl
    from openpyxl.drawing.image import Image
    from PIL import Image as PILImage

    out = tmp_path / "out"
    result = cli("packs", "--people", str(ROOT / "examples" / "people.csv"), "--framework", str(FRAMEWORK),
                 "--out", str(out), "--jobs", "1", env=EPOCH)
    assert result.exit_code == 0, result.output
    packs = out / "packs"
    ada = packs / "ada-lovelace-mlengineer-ml-engineer-level-5-to-6" / "self-assessment.xlsx"
    alan = packs / "alan-turing-mlengineer-edge-ml-engineer-level-6-to-7" / "self-assessment.xlsx"

    work, returns = tmp_path / "work", tmp_path / "returns"
    work.mkdir()
    returns.mkdir()
    shot = work / "screenshot.png"
    PILImage.new("RGB", (120, 80), (200, 30, 30)).save(shot)
    wb = openpyxl.load_workbook(ada)
    ws = wb["Self-assessment"]
    ws.add_image(Image(str(shot)), "G10")
    wb.save(work / "Ada self-assessment.xlsx")
    _libreoffice([work / "Ada self-assessment.xlsx"], "xlsx", work / "lo", tmp_path / "profile")
    resaved = (work / "lo" / "Ada self-assessment.xlsx").read_bytes()
    with zipfile.ZipFile(io.BytesIO(resaved)) as zf:
        pictures = [n for n in zf.namelist() if n.startswith("xl/media/")]
    assert pictures, "LibreOffice kept the picture"
    (returns / "Ada self-assessment.xlsx").write_bytes(_damage_member(resaved, pictures[0]))

    wb = openpyxl.load_workbook(alan)  # a good return beside it
    ws = wb["Self-assessment"]
    for row in ws.iter_rows(min_row=1):
        if isinstance(row[1].value, int):
            row[4].value, row[5].value = "Sometimes", "Consistently"
    wb.save(returns / "Alan.xlsx")

    summary = tmp_path / "summary.xlsx"
    result = cli("collect", str(returns), "--round", str(packs), "--out", str(summary), env=EPOCH)
    assert "internal error" not in result.output, result.output
    assert result.exit_code == 0, result.output
    data = json.loads(summary.with_suffix(".json").read_text("utf-8"))
    problems = [p for p in data["problems"] if p["file"].endswith("Ada self-assessment.xlsx")]
    assert problems and "damaged" in json.dumps(problems), data["problems"]
    alan_pack = next(p for p in data["packs"] if p["person"] == "Alan Turing")
    assert alan_pack["ratings"]["manager"]["Consistently"] == alan_pack["statements"] > 0
