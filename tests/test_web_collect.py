"""`/collect` of `cfexport serve`: a round made with `cfexport packs` into the server's --out,
one self-assessment filled in with openpyxl (ratings from the theme's scale), uploaded with a
zip bomb, a macro-enabled copy and a workbook that is no pack. The counts on the page and in
the workbook are checked against what the test filled in (read with openpyxl, never our
code); the hostile files are problems named as uploaded; the limits are refused by name;
nothing is written outside --out and the temporary folder, which is empty afterwards."""

from __future__ import annotations

import hashlib
import html
import io
import re
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FRAMEWORK, TEMPLATES
from webfixtures import csrf

from cfexport.cli import main

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

import cfexport.collect  # noqa: E402
from cfexport.web.app import create_app  # noqa: E402

PEOPLE = ("person,role,current_level,target_level,manager\n"
          "Ada Lovelace,mlengineer/ml-engineer,5,6,Grace Hopper\n"
          "Katherine Johnson,mlengineer/ml-engineer,7,8,\n")
ADA = "ada-lovelace-mlengineer-ml-engineer-level-5-to-6"
UPLOADED = "Ada <final> & signed.xlsx"  # the browser's name: shown escaped, never a path
MiB = 2 ** 20


def theme_ratings() -> list[str]:
    import yaml

    return list(yaml.safe_load((TEMPLATES / "theme.yaml").read_text("utf-8"))["xlsx"]["ratings"])


def fill(src: Path, ratings: list[str]) -> tuple[bytes, dict]:
    """Every statement rated (self and manager, varied), as a person would in Excel; the counts filled in."""
    import openpyxl

    wb = openpyxl.load_workbook(src)
    ws = wb["Self-assessment"]
    head = cols = None
    for row in ws.iter_rows(max_row=60):
        texts = [c.value for c in row]
        if "Statement" in texts and "Self rating" in texts:
            head, cols = row[0].row, {t: i + 1 for i, t in enumerate(texts) if isinstance(t, str)}
            break
    counts = {"self": Counter(), "manager": Counter()}
    for r in range(head + 1, ws.max_row + 1):
        no = ws.cell(r, cols["No."]).value
        if not isinstance(no, int):
            continue
        self_r, mgr_r = ratings[no % len(ratings)], ratings[(no * 2 + 1) % len(ratings)]
        ws.cell(r, cols["Self rating"]).value = self_r
        ws.cell(r, cols["Manager rating"]).value = mgr_r
        counts["self"][self_r] += 1
        counts["manager"][mgr_r] += 1
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue(), counts


def bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("packs/self-assessment.xlsx", b"\0" * (40 * MiB))
    return out.getvalue()


def budget() -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active["A1"] = "Statement"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(root.rglob("*"))}


def form(client) -> dict:
    return {"csrf_token": csrf(client.get("/collect").text)}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("web-collect")
    out, work, temp = root / "out", root / "work", root / "temp"
    work.mkdir()
    temp.mkdir()
    (work / "people.csv").write_text(PEOPLE, "utf-8")
    result = CliRunner().invoke(main, ["packs", "--people", str(work / "people.csv"), "--framework", str(FRAMEWORK),
                                       "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    ratings = theme_ratings()
    filled, counts = fill(out / "packs" / ADA / "self-assessment.xlsx", ratings)
    uploads = [("returns", (UPLOADED, filled, "application/octet-stream")),
               ("returns", ("bomb.zip", bomb(), "application/zip")),
               ("returns", ("ada-macro.xlsm", filled, "application/octet-stream")),
               ("returns", ("C:\\Users\\hr\\budget.xlsx", budget(), "application/octet-stream"))]

    seen: list[tuple[Path, bool]] = []
    real = cfexport.collect.collect

    def spy(paths, *args, **kwargs):  # where the uploads were saved, and that they were there
        seen.extend((Path(p), Path(p).is_file()) for p in paths)
        return real(paths, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tempfile, "tempdir", str(temp))  # the server's temporary files, where the test can see them
        mp.setattr(cfexport.collect, "collect", spy)
        with TestClient(create_app(FRAMEWORK, TEMPLATES, out), raise_server_exceptions=False) as client:
            page = client.get("/collect")
            before = tree(root)
            r = client.post("/collect", data={"csrf_token": csrf(page.text), "round": "packs"}, files=uploads)
            after = tree(root)
            assert r.status_code == 200, r.text
            link = re.search(r'href="(/collect/summary/[^"]+)"', r.text).group(1)
            workbook = client.get(link)
            yield {"client": client, "out": out, "root": root, "temp": temp, "page": page.text, "html": r.text,
                   "workbook": workbook, "link": link, "counts": counts, "ratings": ratings, "seen": seen,
                   "before": before, "after": after}


def _sheet(data: bytes, name: str) -> list[dict]:
    import openpyxl

    rows = list(openpyxl.load_workbook(io.BytesIO(data))[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_the_form_labels_its_fields_and_offers_the_rounds_in_out_packs(served):
    page = served["page"]
    for name in ("returns", "round"):
        assert f'<label for="{name}">' in page and f'id="{name}"' in page
    assert 'name="csrf_token"' in page and 'enctype="multipart/form-data"' in page
    assert re.search(r'<option value="packs" selected>packs/ \(2 people, made ', page)
    assert "at most 200 files and 50 MiB in all" in text_of(page)


def test_the_summary_counts_equal_what_was_filled_in(served):
    ratings, counts = served["ratings"], served["counts"]
    wb = served["workbook"]
    assert wb.status_code == 200
    assert wb.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert re.search(r'filename="round-summary-\d{4}-\d\d-\d\d\.xlsx"', wb.headers["content-disposition"])
    people = {r["Person"]: r for r in _sheet(wb.content, "People")}
    assert sorted(people) == ["Ada Lovelace", "Katherine Johnson"]
    ada = people["Ada Lovelace"]
    assert ada["Status"] == "partial"  # the promotion case did not come back
    assert people["Katherine Johnson"]["Status"] == "missing"  # in the round, not returned
    for who, label in (("self", "Self"), ("manager", "Manager")):
        assert {r: ada[f"{label}: {r}"] for r in ratings} == {r: counts[who].get(r, 0) for r in ratings}
    assert ada["Files"] == UPLOADED

    # the page shows the same, escaped
    page = served["html"]
    assert "Ada &lt;final&gt; &amp; signed.xlsx" in page and UPLOADED not in page
    row = re.search(r"<tr class=\"status-partial\">(.*?)</tr>", page, re.S).group(1)
    cells = [text_of(c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
    assert cells[0] == "Ada Lovelace" and cells[4] == "partial"
    shown = [int(c) for c in cells[5:5 + 2 * len(ratings)]]
    assert shown == [counts["self"].get(r, 0) for r in ratings] + [counts["manager"].get(r, 0) for r in ratings]
    assert "1 returned" not in text_of(page) and "1 partial" in text_of(page) and "1 missing" in text_of(page)


def test_hostile_uploads_are_problems_named_as_uploaded(served):
    problems = _sheet(served["workbook"].content, "Problems")
    found = {(p["Kind"], p["File"] or "") for p in problems}
    assert ("zip bomb", "bomb.zip") in found
    assert ("macros", "ada-macro.xlsm") in found
    assert ("not a pack", "budget.xlsx") in found  # only the last part of the browser's name
    assert ("not returned", "") in found
    page = text_of(served["html"])
    for kind, file in (("zip bomb", "bomb.zip"), ("macros", "ada-macro.xlsm"), ("not a pack", "budget.xlsx")):
        assert f"{kind} {file}" in page
    temp = str(served["temp"])
    assert temp not in served["html"] and "upload-0" not in served["html"] and "C:" not in served["html"]
    with zipfile.ZipFile(io.BytesIO(served["workbook"].content)) as zf:
        assert not [n for n in zf.namelist() if temp.encode() in zf.read(n) or b"upload-0" in zf.read(n)]


def test_uploads_are_saved_under_server_names_in_a_temporary_folder_and_nothing_else_is_written(served):
    temp = served["temp"]
    assert [p.name for p, _ in served["seen"]] == ["upload-0001.xlsx", "upload-0002.zip", "upload-0003.xlsm",
                                                   "upload-0004.xlsx"]
    assert all(there and p.parent.parent == temp and p.parent.name.startswith("cfexport-collect-")
               for p, there in served["seen"])
    assert list(temp.iterdir()) == []  # removed when the request ended
    assert served["after"] == served["before"]  # nothing new in --out or anywhere in the test's tree


def test_the_workbook_is_only_for_the_browser_that_uploaded(served):
    other = TestClient(served["client"].app, raise_server_exceptions=False)
    assert other.get(served["link"]).status_code == 404
    r = served["client"].get("/collect/summary/not-a-token")
    assert r.status_code == 404 and "Upload the files again" in r.text


def test_a_missing_or_forged_csrf_token_is_refused(served):
    client = served["client"]
    files = [("returns", ("a.xlsx", b"PK", "application/octet-stream"))]
    for data in ({}, {"csrf_token": "forged"}):
        r = client.post("/collect", data=data, files=files)
        assert r.status_code == 400 and "open the page again" in r.text


@pytest.mark.parametrize("data, fix", [
    ({"round": "../../etc"}, "Round: choose one from the list"),
    ({"round": "packs/" + ADA}, "Round: choose one from the list"),  # a folder without round.csv
    ({}, "Returned files: choose one or more files"),
])
def test_a_bad_form_value_is_a_400_page_saying_what_to_fix(served, data, fix):
    client = served["client"]
    files = [("returns", ("", b"", "application/octet-stream"))] if "round" not in data else \
        [("returns", ("a.xlsx", b"PK", "application/octet-stream"))]
    r = client.post("/collect", data={**form(client), **data}, files=files)
    assert r.status_code == 400 and fix in r.text, r.text
    assert 'role="alert"' in r.text and 'name="csrf_token"' in r.text


def test_too_many_files_or_too_much_is_refused_naming_the_limit(served):
    client = served["client"]
    many = [("returns", (f"{i}.xlsx", b"x", "application/octet-stream")) for i in range(201)]
    r = client.post("/collect", data=form(client), files=many)
    assert r.status_code == 400 and "too many files: at most 200 files and 50 MiB in all" in r.text
    big = [("returns", ("big.zip", b"\0" * (50 * MiB + 300 * 1024), "application/zip"))]
    r = client.post("/collect", data=form(client), files=big)
    assert r.status_code == 413 and "at most 200 files and 50 MiB in all" in r.text
    # within the body's allowance for the form's own bytes, but more than 50 MiB of files
    two = [("returns", (f"{i}.zip", b"\0" * (25 * MiB + 50 * 1024), "application/zip")) for i in range(2)]
    r = client.post("/collect", data=form(client), files=two)
    assert r.status_code == 413 and "at most 200 files and 50 MiB in all" in r.text
    assert list(served["temp"].iterdir()) == []
