"""The web page in a real headless browser: Debian's Chromium driven by Playwright (never
`playwright install`: the system's browser). Skips locally without chromium; CI installs it.

One server and one browser for the shipped framework, one for a hostile framework."""

from __future__ import annotations

import zipfile

import pytest
from click.testing import CliRunner
from conftest import FRAMEWORK, TEMPLATES, need_tool
from readback import docx_text, pdf_text, xlsx_cells
from webfixtures import HOSTILE, hostile_framework

from cfexport.cli import main

pytest.importorskip("starlette")
sync_api = pytest.importorskip("playwright.sync_api")

from cfexport.web.app import create_app  # noqa: E402
from cfexport.web.server import Background  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SEED = "I check my own models for bias and drift before they are released, and record what I found."


@pytest.fixture(scope="module")
def browser():
    chromium = need_tool("chromium")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _page(browser):
    page = browser.new_page(accept_downloads=True)
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda d: (errors.append(f"dialog: {d.message}"), d.dismiss()))
    return page, errors


def test_search_open_a_role_compare_and_download_a_pack_like_the_cli(browser, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    app = create_app(FRAMEWORK, TEMPLATES, tmp_path / "out")
    with Background(app) as url:
        page, errors = _page(browser)
        page.goto(url)
        assert page.locator("h1").inner_text() == "Vaarst Career Framework"
        page.get_by_label("Words to find").fill("bias and drift before")  # live search, no submit
        result = page.locator("#search-results li a", has_text=SEED)
        result.wait_for()
        result.first.click()
        page.wait_for_url("**/roles/mlengineer/**/6")
        assert SEED in page.locator("main").inner_text()

        page.goto(url + "roles/mlengineer/ml-engineer/5")
        assert page.locator("h1").inner_text() == "Junior ML Engineer"
        page.get_by_role("link", name="Compare with Level 6 · Mid-Level").click()
        page.wait_for_url("**/compare/mlengineer/ml-engineer?from=5&to=6")
        new = page.locator("table.compare li.new")
        assert new.count() > 0 and new.first.locator(".mark").text_content() == "New"

        page.goto(url + "packs/new")
        page.get_by_label("Person", exact=False).and_(page.locator("input")).fill("Ada Lovelace")
        page.get_by_label("Role").select_option("mlengineer/ml-engineer")
        page.get_by_label("Current level").select_option("5")
        page.get_by_label("Target level").select_option("6")
        page.get_by_label("Manager", exact=False).and_(page.locator("input")).fill("Grace Hopper")
        with page.expect_download() as info:
            page.get_by_role("button", name="Download the pack (.zip)").click()
        download = info.value
        folder = "ada-lovelace-mlengineer-ml-engineer-level-5-to-6"
        assert download.suggested_filename == f"{folder}.zip"
        data = (tmp_path / "web.zip")
        download.save_as(data)

        # the pack comes back (as its zip, nothing filled in): /collect reads it into the round summary
        page.goto(url + "collect")
        page.get_by_label("Files to read").set_input_files(str(data))
        page.get_by_role("button", name="Read the files").click()
        row = page.locator("table.collect-people tbody tr")
        assert row.count() == 1 and "Ada Lovelace" in row.inner_text() and "partial" in row.inner_text().lower()
        with page.expect_download() as info:
            page.get_by_role("link", name="Download the summary workbook", exact=False).click()
        summary = tmp_path / "summary.xlsx"
        info.value.save_as(summary)
        assert any(c.value == "Ada Lovelace" for c in xlsx_cells(summary))
        assert not errors, errors

    result = CliRunner().invoke(main, ["pack", "--role", "mlengineer/ml-engineer", "--from", "5", "--to", "6",
                                       "--person", "Ada Lovelace", "--manager", "Grace Hopper", "--framework",
                                       str(FRAMEWORK), "--out", str(tmp_path / "cli"), "--zip"])
    assert result.exit_code == 0, result.output
    zipfile.ZipFile(data).extractall(tmp_path / "w")
    zipfile.ZipFile(tmp_path / "cli" / "packs" / f"{folder}.zip").extractall(tmp_path / "c")
    web, cli = tmp_path / "w" / folder, tmp_path / "c" / folder
    assert docx_text(web / "promotion-case.docx") == docx_text(cli / "promotion-case.docx")
    assert pdf_text(web / "level-cards.pdf") == pdf_text(cli / "level-cards.pdf")
    assert [c.value for c in xlsx_cells(web / "self-assessment.xlsx")] == \
        [c.value for c in xlsx_cells(cli / "self-assessment.xlsx")]


def test_a_hostile_framework_shows_its_text_literally_and_runs_no_script(browser, tmp_path):
    fw = hostile_framework(tmp_path / "fw")
    with Background(create_app(fw, TEMPLATES, tmp_path / "out")) as url:
        page, errors = _page(browser)
        for path in ("", "roles/hostile/1", "compare/hostile?from=1&to=2", "matrix", "?q=scripted"):
            page.goto(url + path)
            assert page.evaluate("window.__pwned") is None, path
            assert page.locator("script:not([src]):not([type='application/json'])").count() == 0
        page.goto(url + "roles/hostile/1")
        text = page.locator("main").inner_text()
        for s in HOSTILE:
            assert s in text
        assert "Area <b>one</b>" in text and page.locator("main b", has_text="one").count() == 0
        page.goto(url)
        page.get_by_label("Words to find").fill("pwned")  # the live search renders the statements itself
        page.locator("#search-results li").first.wait_for()
        shown = page.locator("#search-results").inner_text()
        assert HOSTILE[0] in shown and page.locator("#search-results img, #search-results svg").count() == 0
        page.wait_for_timeout(200)
        assert page.evaluate("window.__pwned") is None
        assert not errors, errors
