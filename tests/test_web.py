"""`cfexport serve`: every route through Starlette's test client, on the shipped framework
and on frameworks written on the fly (hostile text, edits while it runs)."""

from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FRAMEWORK, ROOT, TEMPLATES
from factory import CraftSpec, LevelSpec, write_framework
from readback import docx_text, pdf_text, squash, xlsx_cells
from webfixtures import HOSTILE, csrf, hostile_framework

from cfexport.cli import main
from cfexport.compare import compare, next_role
from cfexport.model import Role

starlette = pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

from cfexport.web.app import create_app  # noqa: E402

ROLE = "/roles/mlengineer/ml-engineer/5"
NEW_AT_6 = "I design components of ML systems with guidance, and explain the trade-offs I made."


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return tmp_path_factory.mktemp("web-out")


@pytest.fixture(scope="module")
def client(out):
    with TestClient(create_app(FRAMEWORK, TEMPLATES, out), raise_server_exceptions=False) as c:
        yield c


def text_of(html: str) -> str:
    """The page's visible text, roughly (tags out, entities in)."""
    import html as h

    return squash(h.unescape(re.sub(r"<script.*?</script>|<[^>]+>", " ", html, flags=re.S)))


def test_the_framework_page_lists_crafts_specialisms_levels_and_links_every_role(client, shipped):
    r = client.get("/")
    assert r.status_code == 200
    for craft in shipped.crafts:
        assert craft.title in r.text
        for role in craft.roles():
            assert f'href="/roles/{role.id}"' in r.text
        for lv in craft.levels:
            assert lv.label in r.text
    assert '<label for="q">' in r.text and 'role="search"' in r.text


def test_search_works_without_javascript_and_the_page_embeds_every_statement_for_it(client, shipped):
    r = client.get("/", params={"q": "bias drift"})
    results = r.text.split('id="search-results"')[1].split("</ol>")[0]
    hits = [s.text for s in shipped.statements() if "bias" in s.text.lower() and "drift" in s.text.lower()]
    assert hits and all(squash(h) in text_of(results) for h in hits)
    assert "statement(s) found" in r.text
    index = r.text.split('id="statement-index">')[1].split("</script>")[0]
    import json
    texts = {e["text"] for e in json.loads(index)}
    assert texts == {s.text for s in shipped.statements()}


def test_a_role_page_shows_its_areas_the_next_level_and_links_its_documents(client, shipped):
    r = client.get(ROLE)
    assert r.status_code == 200
    craft = shipped.crafts[0]
    role = Role(craft, "ML Engineer", craft.level(5))
    page = text_of(r.text)
    assert f"<h1>{role.title}</h1>" in r.text
    for area in role.areas():
        assert squash(area.area_title) in page
        for s in area.statements:
            assert squash(s.text) in page
    nxt = text_of(r.text.split('id="next-level"')[1])
    for ch in compare(role, next_role(role)):
        for c in ch.added:
            assert squash(c.statement.text) in nxt
    assert squash("New " + NEW_AT_6) in nxt
    assert f'href="{ROLE}/role-description.docx"' in r.text and f'href="{ROLE}/level-card.pdf"' in r.text


def test_the_role_documents_download_like_the_build_makes_them(client, shipped, tmp_path):
    craft = shipped.crafts[0]
    role = Role(craft, "ML Engineer", craft.level(5))
    r = client.get(f"{ROLE}/role-description.docx")
    assert r.status_code == 200 and "ml-engineer-level-5.docx" in r.headers["content-disposition"]
    (tmp_path / "r.docx").write_bytes(r.content)
    text = docx_text(tmp_path / "r.docx")
    for s in (s for a in role.areas() for s in a.statements):
        assert s.text in text
    r = client.get(f"{ROLE}/level-card.pdf")
    assert r.headers["content-type"] == "application/pdf"
    (tmp_path / "c.pdf").write_bytes(r.content)
    assert squash(role.title) in squash(pdf_text(tmp_path / "c.pdf"))
    r = client.get("/matrix/competency-matrix.xlsx")
    (tmp_path / "m.xlsx").write_bytes(r.content)
    strings = " ".join(str(c.value) for c in xlsx_cells(tmp_path / "m.xlsx") if c.data_type == "s")
    assert all(s.text in strings for s in shipped.statements())


def test_compare_shows_two_levels_side_by_side_with_new_and_reworded_marked(client):
    r = client.get("/compare/mlengineer/ml-engineer", params={"from": "5", "to": "6"})
    assert r.status_code == 200
    assert squash("Level 5 · Junior → Level 6 · Mid-Level") in text_of(r.text)
    assert re.search(r'<li class="new"><span class="mark new">New</span> ' + re.escape(NEW_AT_6), r.text)
    assert '<label for="from">' in r.text and '<label for="to">' in r.text
    assert client.get("/compare/mlengineer/ml-engineer").status_code == 200  # defaults: lowest and the next


@pytest.mark.parametrize("query, fix", [({"from": "6", "to": "5"}, "must be above"),
                                        ({"from": "9", "to": "6"}, "must be one of the levels 5, 6, 7, 8"),
                                        ({"from": "<b>x</b>"}, "not &#39;&lt;b&gt;x&lt;/b&gt;&#39;")])
def test_a_bad_comparison_is_a_400_saying_what_to_fix(client, query, fix):
    r = client.get("/compare/mlengineer/ml-engineer", params=query)
    assert r.status_code == 400 and fix in r.text


def test_unknown_pages_and_roles_are_404_pages(client):
    for url in ("/roles/mlengineer/ml-engineer/99", "/roles/nope", "/compare/nope", "/no/such/page"):
        r = client.get(url)
        assert r.status_code == 404 and "<h1>" in r.text, url


def test_the_matrix_page_is_a_table_of_every_statement_with_the_workbook_link(client, shipped):
    r = client.get("/matrix")
    page = text_of(r.text)
    assert all(squash(s.text) in page for s in shipped.statements())
    assert 'href="/matrix/competency-matrix.xlsx"' in r.text and '<th scope="row">' in r.text


def test_the_problems_page_lists_what_validate_reports(client):
    r = client.get("/problems")
    assert r.status_code == 200
    result = CliRunner().invoke(main, ["validate", "--framework", str(FRAMEWORK)])
    for line in result.output.splitlines():
        if ": warning: " in line or ": error: " in line:
            where, _, message = line.partition(": warning: ") if ": warning: " in line else line.partition(": error: ")
            assert message in r.text.replace("&#39;", "'").replace("&#34;", '"').replace("&amp;", "&")


def test_every_response_has_the_security_headers(client):
    for url in ("/", "/no/such/page", "/static/site.css"):
        headers = client.get(url).headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"


# -- packs ----------------------------------------------------------------------------------
def _form(client) -> dict:
    page = client.get("/packs/new")
    return {"csrf_token": csrf(page.text)}


def _fields(**kw) -> dict:
    return {"person": "Ada Lovelace", "role": "mlengineer/ml-engineer", "from": "5", "to": "6",
            "manager": "Grace Hopper", **kw}


def test_the_pack_form_labels_every_field(client):
    html = client.get("/packs/new").text
    for name in ("person", "role", "from", "to", "manager", "people"):
        assert f'<label for="{name}">' in html and f'id="{name}"' in html


def test_the_pack_form_returns_the_zip_the_cli_makes(client, out, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    r = client.post("/packs/new", data={**_form(client), **_fields()})
    assert r.status_code == 200, r.text
    folder = "ada-lovelace-mlengineer-ml-engineer-level-5-to-6"
    assert f'filename="{folder}.zip"' in r.headers["content-disposition"]
    cli_out = tmp_path / "cli"
    result = CliRunner().invoke(main, ["pack", "--role", "mlengineer/ml-engineer", "--from", "5", "--to", "6",
                                       "--person", "Ada Lovelace", "--manager", "Grace Hopper",
                                       "--framework", str(FRAMEWORK), "--out", str(cli_out), "--zip"])
    assert result.exit_code == 0, result.output
    ours, theirs = zipfile.ZipFile(io.BytesIO(r.content)), zipfile.ZipFile(cli_out / "packs" / f"{folder}.zip")
    assert sorted(ours.namelist()) == sorted(theirs.namelist())
    ours.extractall(tmp_path / "web")
    theirs.extractall(tmp_path / "cli-x")
    web, cli = tmp_path / "web" / folder, tmp_path / "cli-x" / folder
    assert docx_text(web / "promotion-case.docx") == docx_text(cli / "promotion-case.docx")
    assert "Ada Lovelace" in docx_text(web / "promotion-case.docx")
    assert pdf_text(web / "level-cards.pdf") == pdf_text(cli / "level-cards.pdf")
    assert [c.value for c in xlsx_cells(web / "self-assessment.xlsx")] == \
        [c.value for c in xlsx_cells(cli / "self-assessment.xlsx")]
    assert (out / "packs" / f"{folder}.zip").read_bytes() == r.content  # the copy kept in --out


@pytest.mark.parametrize("fields, fix", [
    (_fields(person="  "), "Person: fill it in"),
    (_fields(role="mlengineer/nope"), "unknown role &#39;mlengineer/nope&#39;; roles are: mlengineer/ml-engineer"),
    (_fields(**{"from": "6", "to": "6"}), "target level 6 is not above the current level 6"),
    (_fields(to="x"), "Target level: a level number, not &#39;x&#39;"),
    (_fields(to="9"), "target level 9 does not exist"),
    (_fields(person="A" * 201), "Person: at most 200 characters"),
])
def test_a_bad_form_value_is_a_400_page_saying_what_to_fix_and_keeping_the_values(client, fields, fix):
    r = client.post("/packs/new", data={**_form(client), **fields})
    assert r.status_code == 400 and fix in r.text, r.text
    assert 'role="alert"' in r.text and 'name="csrf_token"' in r.text


def test_a_form_without_a_valid_csrf_token_is_refused(client, out):
    before = sorted((out / "packs").glob("*")) if (out / "packs").exists() else []
    for data in (_fields(), {**_fields(), "csrf_token": "forged"}):
        r = client.post("/packs/new", data=data)
        assert r.status_code == 400 and "open the page again" in r.text
    token = _form(client)["csrf_token"]
    fresh = TestClient(client.app)  # another browser: its cookie is not the one the token was made for
    r = fresh.post("/packs/new", data={**_fields(), "csrf_token": token})
    assert r.status_code == 400
    assert (sorted((out / "packs").glob("*")) if (out / "packs").exists() else []) == before


def test_the_csrf_cookie_is_http_only_and_same_site_strict(client):
    cookie = TestClient(client.app).get("/packs/new").headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()


def _upload(client, data: bytes, name: str = "round.csv"):
    return client.post("/packs/round", data=_form(client), files={"people": (name, data, "text/csv")})


def test_a_round_csv_returns_one_zip_of_every_pack_and_the_round_index(client):
    r = _upload(client, (ROOT / "examples" / "people.csv").read_bytes())
    assert r.status_code == 200, r.text
    zf = zipfile.ZipFile(io.BytesIO(r.content))
    folders = sorted({n.split("/")[0] for n in zf.namelist() if "/" in n})
    assert folders == ["ada-lovelace-mlengineer-ml-engineer-level-5-to-6",
                       "alan-turing-mlengineer-edge-ml-engineer-level-6-to-7",
                       "katherine-johnson-mlengineer-ml-engineer-level-7-to-8"]
    assert all(sorted(n.split("/")[1] for n in zf.namelist() if n.startswith(f + "/")) ==
               ["level-cards.pdf", "pack.json", "promotion-case.docx", "self-assessment.xlsx"] for f in folders)
    # the round's index as `cfexport packs` writes it, for the same people as the CSV uploaded
    index = list(csv.reader(io.StringIO(zf.read("round.csv").decode("utf-8-sig"))))
    people = list(csv.reader(io.StringIO((ROOT / "examples" / "people.csv").read_text("utf-8"))))[1:]
    assert [row[:2] for row in index[1:]] == [[p[0], p[4]] for p in people]
    assert "round.xlsx" in zf.namelist()


def test_warnings_about_a_round_csv_come_in_the_zip(client):
    """The page answers a round with its download alone, so the warnings `cfexport packs` prints (a
    name over several lines, a character no document can hold, one person with two managers) were lost."""
    csv_ = ('person,role,current_level,target_level,manager\r\n"Ada\r\nLovelace",mlengineer/ml-engineer,5,6,Grace\r\n'
            "Bo\x07 Chen,mlengineer/ml-engineer,5,6,\r\nAda Lovelace,mlengineer/ml-engineer,5,6,Grace Hoppers\r\n")
    r = _upload(client, csv_.encode("utf-8"), "spring.csv")
    assert r.status_code == 200, r.text
    zf = zipfile.ZipFile(io.BytesIO(r.content))
    notes = zf.read("warnings.txt").decode("utf-8-sig").splitlines()
    assert [n.split(":")[0] for n in notes] == ["spring.csv, line 3", "spring.csv, line 4", "spring.csv, line 5"]
    assert "written over several lines" in notes[0] and "removed character" in notes[1]
    assert "another manager ('Grace Hoppers', not 'Grace')" in notes[2]
    clean = _upload(client, (ROOT / "examples" / "people.csv").read_bytes())
    assert "warnings.txt" not in zipfile.ZipFile(io.BytesIO(clean.content)).namelist()


def test_bad_rows_of_a_round_are_named_by_line_and_nothing_is_made(client):
    csv = b"person,role,current_level,target_level,manager\nAnn,mlengineer/ml-engineer,5,6,\nCy,mlengineer/nope,5,6,\n"
    r = _upload(client, csv, "../../etc/round.csv")
    assert r.status_code == 400
    assert "round.csv, line 3: unknown role" in r.text and "etc" not in r.text.split("round.csv, line 3")[0][-20:]


@pytest.mark.parametrize("data, fix", [
    (b"person,role\nx,y\n", "the header must be: person,role,current_level,target_level,manager"),
    ("person,role,current_level,target_level,manager\nZoë,mlengineer/ml-engineer,5,6,\n".encode("latin-1"),
     "UTF-8"),
    (b"person,role,current_level,target_level,manager\n" + b"P,mlengineer/ml-engineer,5,6,\n" * 501, "at most 500"),
    (b"person,role,current_level,target_level,manager\n", "no people in the file"),
])
def test_a_hostile_or_careless_csv_is_a_400_saying_what_to_fix(client, data, fix):
    r = _upload(client, data)
    assert r.status_code == 400 and fix in r.text, r.text


def test_an_upload_over_the_size_limit_is_refused_before_it_is_read(client):
    r = _upload(client, b"x" * (1024 * 1024 + 20 * 1024))
    assert r.status_code == 413 and "larger than" in r.text
    form = _form(client)
    files = [("people", (f"{i}.csv", b"a", "text/csv")) for i in range(3)]
    r = client.post("/packs/round", data=form, files=files)
    assert r.status_code == 400


# -- hostile text, edits, errors ------------------------------------------------------------
def test_framework_text_is_escaped_on_every_page(tmp_path):
    fw = hostile_framework(tmp_path / "fw")
    with TestClient(create_app(fw, TEMPLATES, tmp_path / "out"), raise_server_exceptions=False) as c:
        pages = ["/", "/?q=scripted", "/roles/hostile/1", "/roles/hostile/2", "/compare/hostile?from=1&to=2",
                 "/matrix", "/packs/new"]
        for url in pages:
            html = c.get(url).text
            assert "<script>window" not in html and "<script>alert" not in html and "<img src=x" not in html, url
            assert "<svg" not in html and "<b>one</b>" not in html, url
        page = text_of(c.get("/roles/hostile/1").text)
        for s in HOSTILE:
            assert squash(s) in page
        assert squash("Hostile <script>alert(2)</script> Framework") in text_of(c.get("/").text)


def _small(root: Path, statement: str, extra_row: str = "") -> Path:
    areas = [(None, "Delivery", "Getting things done.")]
    levels = [LevelSpec(n, f"L{n}", {None: [("Delivery", [f"{statement} at {n}."])]}) for n in (1, 2)]
    fw = write_framework(root, [CraftSpec("Small Craft", "small", areas, levels)])
    if extra_row:
        page = root / "small" / "level1.md"
        page.write_text(page.read_text("utf-8") + extra_row, "utf-8")
    return fw


def _level_page(fw: Path) -> Path:
    return next(p for p in (fw / "small").glob("*.md") if "Level 1" in p.read_text("utf-8"))


def test_an_edit_is_shown_on_the_next_request_and_a_bad_edit_keeps_the_last_good_framework(tmp_path):
    fw = _small(tmp_path / "fw", "I ship small changes")
    with TestClient(create_app(fw, TEMPLATES, tmp_path / "out", check_every=0)) as c:
        assert "I ship small changes at 1." in c.get("/roles/small/1").text
        page = _level_page(fw)
        page.write_text(page.read_text("utf-8").replace("I ship small changes", "I ship tested changes"), "utf-8")
        assert "I ship tested changes at 1." in c.get("/roles/small/1").text
        good = page.read_text("utf-8")
        page.write_bytes(good.encode("utf-8") + b"\n| Delivery | caf\xe9 in Latin-1 |\n")
        r = c.get("/roles/small/1")
        assert r.status_code == 200 and "I ship tested changes at 1." in r.text
        assert 'class="banner"' in r.text and 'href="/problems"' in r.text
        problems = c.get("/problems").text
        assert "small/" in problems and "error" in problems and "UTF-8" in problems
        page.write_text(good, "utf-8")
        assert 'class="banner"' not in c.get("/roles/small/1").text


def test_a_server_error_is_logged_and_shown_without_a_traceback(tmp_path, monkeypatch, caplog):
    from cfexport.web.pages import roles

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals /etc/shadow")

    monkeypatch.setattr(roles, "next_role", boom)
    with TestClient(create_app(FRAMEWORK, TEMPLATES, tmp_path / "out"), raise_server_exceptions=False) as c:
        with caplog.at_level(logging.ERROR, logger="cfexport.web"):
            r = c.get(ROLE)
    assert r.status_code == 500
    assert "Traceback" not in r.text and "secret internals" not in r.text and "RuntimeError" not in r.text
    assert "logged" in r.text
    assert any("secret internals" in (rec.exc_text or str(rec.exc_info)) for rec in caplog.records)


# -- the command ----------------------------------------------------------------------------
class _NoServer:
    started = True

    def __init__(self, *a, **kw):
        pass

    def run(self, sockets):
        pass


def test_serve_binds_loopback_by_default_and_warns_of_no_login_on_another_host(monkeypatch):
    from cfexport.web import server

    monkeypatch.setattr(server, "make_server", lambda app, *a, **kw: _NoServer())
    runner = CliRunner()
    r = runner.invoke(main, ["serve", "--framework", str(FRAMEWORK), "--port", "0"])
    assert r.exit_code == 0, r.output
    assert re.search(r"serving .* at http://127\.0\.0\.1:\d+/", r.output) and "NO LOGIN" not in r.output
    r = runner.invoke(main, ["serve", "--framework", str(FRAMEWORK), "--port", "0", "--host", "0.0.0.0"])
    assert r.exit_code == 0 and "NO LOGIN" in r.output


def test_serve_says_when_the_port_is_taken_or_the_framework_is_missing(tmp_path):
    from cfexport.web.server import bind

    sock = bind("127.0.0.1", 0)
    try:
        port = sock.getsockname()[1]
        r = CliRunner().invoke(main, ["serve", "--framework", str(FRAMEWORK), "--port", str(port)])
        assert r.exit_code == 2 and f"cannot listen on 127.0.0.1:{port}" in r.output
    finally:
        sock.close()
    r = CliRunner().invoke(main, ["serve", "--framework", str(tmp_path / "nope")])
    assert r.exit_code == 2 and "not found" in r.output


@pytest.mark.parametrize("path", ["/roles/mlengineer/ml-engineer/%C2%B2", "/roles/mlengineer/ml-engineer/%D9%A5",
                                  "/roles/mlengineer/ml-engineer/%C2%B2/level-card.pdf",
                                  "/compare/mlengineer/ml-engineer?from=%C2%B2&to=6"])
def test_levels_written_in_other_digits_are_not_found_and_never_a_server_error(client, path):
    r = client.get(path)
    assert r.status_code in (400, 404), (path, r.status_code)


def test_a_pack_form_level_in_other_digits_is_a_400(client):
    r = client.post("/packs/new", data={**_form(client), **_fields(**{"from": "²"})})
    assert r.status_code == 400 and "Current level" in r.text


def test_a_round_uploaded_on_the_page_never_replaces_the_index_of_a_round_run_with_packs(client, out):
    run = CliRunner().invoke(main, ["packs", "--people", str(ROOT / "examples" / "people.csv"), "--framework",
                                    str(FRAMEWORK), "--out", str(out), "--zip", "--jobs", "1"])
    assert run.exit_code == 0, run.output
    before = {n: (out / "packs" / n).read_bytes() for n in ("round.csv", "round.xlsx")}
    one = b"person,role,current_level,target_level,manager\nZed Example,mlengineer/ml-engineer,5,6,\n"
    r = _upload(client, one)
    assert r.status_code == 200, r.text
    assert {n: (out / "packs" / n).read_bytes() for n in before} == before
    index = zipfile.ZipFile(io.BytesIO(r.content)).read("round.csv").decode("utf-8-sig")
    assert "Zed Example" in index and "Ada Lovelace" not in index
