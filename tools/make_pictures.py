"""Regenerate the README's pictures (docs/images/) from what cfexport makes now.

    make pictures

Builds the shipped framework and one promotion pack, opens the Word and Excel files with
LibreOffice (as a person's office suite would) and renders pages with pdftoppm: each
picture is a whole printed A4 page. Needs soffice and pdftoppm (see the README's set-up);
with Carlito installed (fonts-crosextra-carlito) the sheets measure as in Excel with Calibri.
The web page's pictures (`--web` makes only those) are screenshots of `cfexport serve` in
headless Chromium (the system's `chromium`, driven by Playwright from the test extras).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageChops

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
CFEXPORT = Path(sys.executable).parent / "cfexport"


def run(*cmd: str | Path, cwd: Path = ROOT) -> None:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    subprocess.run([str(c) for c in cmd], check=True, cwd=cwd, env=env, capture_output=True)


def page(pdf: Path, number: int, dpi: int, out: Path) -> Image.Image:
    run("pdftoppm", "-png", "-r", str(dpi), "-f", str(number), "-l", str(number), "-singlefile", pdf, out)
    return Image.open(f"{out}.png").convert("RGB")


def trim(image: Image.Image, margin: int = 12) -> Image.Image:
    """Crop to the sheet's content, leaving out the printed header and footer lines and the
    white space around (a spreadsheet page is mostly margin)."""
    band = int(image.height * 0.06)
    body = image.crop((0, band, image.width, image.height - band))
    box = ImageChops.difference(body, Image.new("RGB", body.size, "white")).getbbox()
    if not box:
        return image
    left, top, right, bottom = box
    return body.crop((max(0, left - margin), max(0, top - margin),
                      min(body.width, right + margin), min(body.height, bottom + margin)))


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


def web_pictures() -> None:
    """The role page and the pack form of `cfexport serve`, as a browser shows them."""
    import io

    from playwright.sync_api import sync_playwright

    from cfexport.web.app import create_app
    from cfexport.web.server import Background

    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium is needed to render the web page's pictures (apt-get install chromium)")
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"]
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, Background(create_app(ROOT / "framework", ROOT / "templates",
                                                                     Path(tmp))) as url:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=args)
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(url + "roles/mlengineer/ml-engineer/5")
            shot = page.screenshot(clip={"x": 0, "y": 0, "width": 1100, "height": 1250}, full_page=True)
            save(Image.open(io.BytesIO(shot)).convert("RGB"), "web-role.png")
            page.goto(url + "packs/new")
            page.get_by_label("Person", exact=False).and_(page.locator("input")).fill("Alex Example")
            page.get_by_label("Role").select_option("mlengineer/ml-engineer")
            page.get_by_label("Current level").select_option("5")
            page.get_by_label("Target level").select_option("6")
            page.get_by_label("Manager", exact=False).and_(page.locator("input")).fill("Sam Manager")
            shot = page.screenshot(clip={"x": 0, "y": 0, "width": 1100, "height": 900}, full_page=True)
            save(Image.open(io.BytesIO(shot)).convert("RGB"), "web-pack-form.png")
            browser.close()


def fill_round(packs: Path, returns: Path) -> None:
    """Fill in two of the example round's packs as people would (openpyxl, python-docx); the third is not returned."""
    import docx
    import openpyxl

    ratings = ["Not yet", "Sometimes", "Consistently"]
    returns.mkdir(parents=True, exist_ok=True)
    for n, folder in enumerate(sorted(p for p in packs.iterdir() if p.is_dir())[:2]):
        wb = openpyxl.load_workbook(folder / "self-assessment.xlsx")
        ws = wb["Self-assessment"]
        head = next(r[0].row for r in ws.iter_rows(max_row=40) if any(c.value == "Self rating" for c in r))
        cols = {c.value: c.column for c in ws[head] if c.value}
        for r in range(head + 1, ws.max_row + 1):
            no = ws.cell(r, cols["No."]).value
            if isinstance(no, int):
                ws.cell(r, cols["Self rating"]).value = ratings[min(2, (no + n) % 4)]
                ws.cell(r, cols["Manager rating"]).value = ratings[min(2, (no * 3 + n) % 4)]
                ws.cell(r, cols["Evidence"]).value = f"Example {no}"
        wb.save(returns / f"returned-{n + 1}.xlsx")
        doc = docx.Document(str(folder / "promotion-case.docx"))
        for i, table in enumerate(doc.tables):
            if [c.text for c in table.rows[0].cells][:1] == ["Example"] and i % 2 == n:
                table.rows[1].cells[0].text = "Led the model rollout"
            elif table.rows[0].cells[0].text == "Summary of the evidence":
                table.rows[0].cells[1].text = "Strong evidence; ready." if n == 0 else "Nearly there."
        doc.save(str(returns / f"case-{n + 1}.docx"))


def round_summary(tmp: Path) -> None:
    """docs/images/round-summary.png: the People sheet of `cfexport collect` on the example round."""
    out = tmp / "round"
    run(CFEXPORT, "packs", "--people", ROOT / "examples" / "people.csv", "--out", out, "--jobs", "1")
    fill_round(out / "packs", tmp / "returns")
    summary = tmp / "round-summary.xlsx"
    run(CFEXPORT, "collect", "returns", "--round", out / "packs", "--out", summary, cwd=tmp)
    run("soffice", "--headless", f"-env:UserInstallation=file://{tmp}/lo", "--convert-to", "pdf",
        "--outdir", tmp, summary)
    image = trim(page(tmp / "round-summary.pdf", 1, 220, tmp / "summary"))
    # the People sheet up to the manager's summary (the file paths and pack ids follow on the right)
    save(image.crop((0, 0, int(image.width * 0.738), image.height)), "round-summary.png")


def main() -> None:
    if "--web" in sys.argv[1:]:
        web_pictures()
        return
    for tool in ("soffice", "pdftoppm"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed to render the pictures")
    IMAGES.mkdir(parents=True, exist_ok=True)
    if sys.argv[1:] == ["round-summary"]:  # only the collect picture: python tools/make_pictures.py round-summary
        with tempfile.TemporaryDirectory() as tmp_s:
            round_summary(Path(tmp_s))
        return
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        round_summary(tmp)
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
        changes = changes_docx(tmp)
        run("soffice", "--headless", f"-env:UserInstallation=file://{tmp}/lo", "--convert-to", "pdf",
            "--outdir", tmp / "changes-pdf", changes)
        save(page(tmp / "changes-pdf" / "changes.pdf", 1, 75, tmp / "changes"), "changes.png")
    web_pictures()


def changes_docx(tmp: Path) -> Path:
    """`cfexport changes --from v1 --to v2` in a throwaway repository: the shipped framework
    committed as v1, then v2 with the edits the README's example describes."""
    repo = tmp / "repo"
    shutil.copytree(ROOT / "framework", repo / "framework")
    ml = repo / "framework" / "mlengineer"
    git = ("git", "-c", "user.name=cfexport", "-c", "user.email=cfexport@example.invalid", "-C", repo)
    run("git", "init", "-q", repo)
    run(*git, "add", "-A")
    run(*git, "commit", "-q", "-m", "v1")
    run(*git, "tag", "v1")
    for name, old, new in (
        ("level5.md", "such as model bias and model drift.", "such as model bias, data leakage and model drift."),
        ("level6.md", "| [Technical Strategy](/careerframework/mlengineer#technical-strategy) | TODO |",
         "| [Technical Strategy](/careerframework/mlengineer#technical-strategy) | I suggest improvements to "
         "the tools and platforms of my team. |"),
        ("level7.md", " <br><br> I advise the team on the responsible and compliant use of AI.", ""),
        ("level7.md", "and review the designs of others.", "and review the designs of others. <br><br> "
         "I write down the decisions I make and why."),
        ("level8.md", "title: Level 8 (Lead)", "title: Level 8 (Staff)"),
    ):
        path = ml / name
        path.write_text(path.read_text("utf-8").replace(old, new), "utf-8")
    run(*git, "commit", "-q", "-am", "v2")
    run(*git, "tag", "v2")
    run(CFEXPORT, "changes", "--from", "v1", "--to", "v2", "--out", tmp / "changes-out", cwd=repo)
    return tmp / "changes-out" / "changes" / "changes.docx"


if __name__ == "__main__":
    main()
