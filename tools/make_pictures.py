"""Regenerate the README's pictures (docs/images/) from what cfexport makes now.

    make pictures

Builds the shipped framework and one promotion pack, opens the Word and Excel files with
LibreOffice (as a person's office suite would) and renders pages with pdftoppm: each
picture is a whole printed A4 page. Needs soffice and pdftoppm (see the README's set-up);
with Carlito installed (fonts-crosextra-carlito) the sheets measure as in Excel with Calibri.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
CFEXPORT = Path(sys.executable).parent / "cfexport"


def run(*cmd: str | Path, cwd: Path = ROOT) -> None:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    subprocess.run([str(c) for c in cmd], check=True, cwd=cwd, env=env, capture_output=True)


def page(pdf: Path, number: int, dpi: int, out: Path) -> Image.Image:
    run("pdftoppm", "-png", "-r", str(dpi), "-f", str(number), "-l", str(number), "-singlefile", pdf, out)
    return Image.open(f"{out}.png").convert("RGB")


def side_by_side(images: list[Image.Image], gap: int = 20) -> Image.Image:
    out = Image.new("RGB", (sum(i.width for i in images) + gap * (len(images) - 1), max(i.height for i in images)),
                    (220, 220, 220))
    x = 0
    for image in images:
        out.paste(image, (x, 0))
        x += image.width + gap
    return out


def save(image: Image.Image, name: str) -> None:
    image.convert("P", palette=Image.Palette.ADAPTIVE, colors=128).save(IMAGES / name, optimize=True)
    print(f"wrote {IMAGES / name}")


def main() -> None:
    for tool in ("soffice", "pdftoppm"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed to render the pictures")
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        out = tmp / "out"
        run(CFEXPORT, "build", "--out", out, "--jobs", "1")
        run(CFEXPORT, "pack", "--role", "mlengineer/ml-engineer", "--from", "5", "--to", "6",
            "--person", "Alex Example", "--manager", "Sam Manager", "--out", out)
        pack = out / "packs" / "alex-example-mlengineer-ml-engineer-level-5-to-6"
        docs = [out / "role-descriptions" / "ml-and-edge-ml-engineer-craft" / "ml-engineer-level-5.docx",
                pack / "promotion-case.docx", out / "competency-matrix.xlsx", pack / "self-assessment.xlsx"]
        run("soffice", "--headless", f"-env:UserInstallation=file://{tmp}/lo", "--convert-to", "pdf",
            "--outdir", tmp, *docs)
        save(page(tmp / "ml-engineer-level-5.pdf", 1, 75, tmp / "docx"), "docx.png")
        save(side_by_side([page(tmp / "promotion-case.pdf", n, 75, tmp / f"case{n}") for n in (1, 2)]),
             "promotion-case.png")
        # the printed sheets as whole A4 pages, at a size where their text can be read
        save(page(tmp / "competency-matrix.pdf", 1, 100, tmp / "xlsx"), "xlsx.png")
        save(page(tmp / "self-assessment.pdf", 1, 100, tmp / "assessment"), "self-assessment.png")
        save(page(out / "level-cards" / "ml-and-edge-ml-engineer-craft.pdf", 1, 90, tmp / "cards"), "pdf.png")
        save(page(pack / "level-cards.pdf", 1, 90, tmp / "pack-cards"), "pack-cards.png")


if __name__ == "__main__":
    main()
