"""`cfexport build`: manifest, the model as JSON, safe paths, atomic and reproducible output."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FRAMEWORK, TEMPLATES
from factory import CraftSpec, LevelSpec, small_craft, write_framework

from cfexport import build as builder
from cfexport.cli import main
from cfexport.exporters.base import Document, ExportError
from cfexport.exporters.framework_json import JsonExporter
from cfexport.output import OutputError, StagedOutput
from cfexport.readers import read_framework
from cfexport.repro import build_time


def cli(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result


def test_json_build_writes_manifest_and_model_matching_the_schema(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    out = tmp_path / "out"
    result = cli("build", "--framework", str(FRAMEWORK), "--out", str(out), "--format", "json", "--jobs", "1")
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["framework"] == "Vaarst Career Framework"
    [entry] = manifest["files"]
    data = (out / entry["path"]).read_bytes()
    import hashlib
    assert entry == {"path": "framework.json", "exporter": "json", "sha256": hashlib.sha256(data).hexdigest(),
                     "bytes": len(data), "craft": None, "specialism": None, "level": None,
                     "built": entry["built"], "key": entry["key"]}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry["built"])
    assert re.fullmatch(r"[0-9a-f]{64}", entry["key"])  # what it was made from (incremental builds)
    model = json.loads(data)
    schema = json.loads((Path(builder.__file__).parent / "schema" / "framework.schema.json").read_text("utf-8"))
    jsonschema.validate(model, schema)
    # every statement of the pages is in the JSON
    texts = [s["text"] for c in model["crafts"] for lv in c["levels"] for e in lv["expectations"]
             for s in e["statements"]]
    from test_reader import SEED_CRAFT, SEED_EDGE, SEED_ML
    golden = [s for *_, stmts in SEED_CRAFT + [SEED_ML, SEED_EDGE] if stmts != "TODO" for s in stmts]
    assert len(golden) == 12 and all(s in texts for s in golden)


@pytest.mark.parametrize("crafts", [0, 1, 3])
def test_framework_json_written_a_craft_at_a_time_is_plain_indented_json(tmp_path, crafts):
    """framework.json is streamed a craft at a time; its bytes are still those of one
    `json.dumps(indent=2)` of the whole, with empty lists and odd text in their place."""
    odd = 'Quote " é 中文 😀 </script>'
    specs = [dataclasses.replace(small_craft({"Delivery1": [f"I deliver {odd}."]}), title=f"Craft {i} {odd}",
                                 slug=f"c{i}") for i in range(crafts)]
    fw_dir = write_framework(tmp_path / "fw", specs, title=f"Framework {odd}")
    out = tmp_path / "out"
    result = cli("build", "--framework", str(fw_dir), "--out", str(out), "--format", "json", "--jobs", "1")
    assert result.exit_code == 0, result.output
    data = (out / "framework.json").read_text("utf-8")
    model = json.loads(data)
    assert data == json.dumps(model, indent=2, ensure_ascii=False) + "\n"
    assert model["title"] == f"Framework {odd}"
    assert [c["title"] for c in model["crafts"]] == [f"Craft {i} {odd}" for i in range(crafts)]
    assert list(model["sources"]) == ["framework", "crafts", "areas", "levels", "expectations", "statements"]
    statements = [s["id"] for c in model["crafts"] for lv in c["levels"] for e in lv["expectations"]
                  for s in e["statements"]]
    assert list(model["sources"]["statements"]) == statements
    texts = {s["text"] for c in model["crafts"] for lv in c["levels"] for e in lv["expectations"]
             for s in e["statements"]}
    assert (f"I deliver {odd}." in texts) == (crafts > 0)


def test_validation_errors_stop_the_build_before_anything_is_written(tmp_path):
    fw = write_framework(tmp_path / "fw", [small_craft()])
    page = fw / "test" / "level1.md"
    page.write_text(page.read_text("utf-8").replace("title: Level 1 (Junior)", "title: Junior"), "utf-8")
    out = tmp_path / "out"
    result = cli("build", "--framework", str(fw), "--out", str(out), "--format", "json")
    assert result.exit_code == 1
    assert f"{page}:3: error:" in result.output
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [fw]


def test_unknown_format_names_the_installed_ones(tmp_path):
    result = cli("build", "--framework", str(FRAMEWORK), "--out", str(tmp_path / "o"), "--format", "odt")
    assert result.exit_code != 0
    assert "unknown format 'odt'" in result.output and "json" in result.output


class _Titled:
    """An exporter that names files after framework titles, to test the core's naming."""
    name = "titled"
    description = "test"

    def plan(self, framework):
        return [Document(("roles", r.craft.title, r.title), ".txt", r.craft.title, r.specialism, r.level.number)
                for r in framework.roles()]

    def render(self, framework, document, context):
        return "\n".join(document.path).encode()


def _hostile_framework(tmp_path: Path) -> Path:
    titles = ["../../etc/passwd", "CON", "a/b\\c", "Ωμέγα", ".hidden", "x" * 300]
    crafts = []
    for i, title in enumerate(titles):
        crafts.append(CraftSpec(title, f"c{i}", [(None, "Area", "def")],
                                [LevelSpec(1, "../..", {None: [("Area", ["s"])]})]))
    return write_framework(tmp_path / "fw", crafts, title="../Root")


def test_hostile_titles_become_safe_contained_unique_names(tmp_path):
    fw = read_framework(_hostile_framework(tmp_path))
    assert not fw.errors, fw.errors
    out = tmp_path / "out"
    entries, _ = builder.build(fw.framework, out, [_Titled()], TEMPLATES, build_time(), jobs=1)
    paths = [e["path"] for e in entries]
    assert len(paths) == len({p.casefold() for p in paths}) == 6
    for p in paths:
        assert ".." not in p.split("/") and not p.startswith("/") and "\\" not in p
        assert all(len(seg) <= 84 and not seg.startswith(".") for seg in p.split("/"))
        assert p.split("/")[1].split(".")[0].lower() not in {"con", "prn", "aux", "nul"}
        assert (out / p).resolve().is_relative_to(out.resolve())
    assert "roles/ωμέγα/" in "\n".join(paths)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["fw", "out"]


class _Failing(_Titled):
    name = "failing"

    def render(self, framework, document, context):
        if document.level == 2:
            raise ExportError("cannot render this", framework.crafts[0].levels[1].source)
        return b"ok"


def test_an_error_mid_build_leaves_the_previous_output_intact_and_no_temp_files(tmp_path):
    fw = read_framework(write_framework(tmp_path / "fw", [small_craft()])).framework
    out = tmp_path / "out"
    builder.build(fw, out, [JsonExporter()], TEMPLATES, build_time(), jobs=1)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(ExportError):
        builder.build(fw, out, [JsonExporter(), _Failing()], TEMPLATES, build_time(), jobs=1)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["fw", "out"]


def test_files_that_cfexport_did_not_write_are_kept(tmp_path):
    fw = read_framework(FRAMEWORK).framework
    out = tmp_path / "out"
    out.mkdir()
    (out / ".gitkeep").write_text("")
    (out / "packs").mkdir()
    (out / "packs" / "mine.txt").write_text("keep me")
    builder.build(fw, out, [JsonExporter()], TEMPLATES, build_time(), jobs=1)
    builder.build(fw, out, [JsonExporter()], TEMPLATES, build_time(), jobs=1)
    assert (out / ".gitkeep").exists() and (out / "packs" / "mine.txt").read_text() == "keep me"
    assert (out / "framework.json").exists()


@pytest.mark.parametrize("flock", [True, False], ids=["flock", "lock-file"])
def test_a_second_build_into_the_same_folder_is_refused_while_one_runs(tmp_path, monkeypatch, flock):
    from cfexport import output

    if not flock:  # where there is no flock (Windows), an exclusively created lock file
        monkeypatch.setattr(output, "fcntl", None)
    out = tmp_path / "out"
    with StagedOutput(out) as stage:
        stage.write("a.txt", b"first")
        with pytest.raises(OutputError, match="another cfexport is writing"):
            with StagedOutput(out):
                pass
    assert (out / "a.txt").read_bytes() == b"first"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["out"]
    assert sorted(x.name for x in out.iterdir()) == ["a.txt"]  # lock and staging removed


def test_paths_that_climb_out_are_refused(tmp_path):
    with pytest.raises(OutputError):
        with StagedOutput(tmp_path / "out") as stage:
            stage.write("../evil.txt", b"x")
    assert not (tmp_path / "evil.txt").exists()


SLOW_BUILD = """
import sys, time
sys.path.insert(0, {tests!r})
from cfexport import build as builder
from cfexport.readers import read_framework
from cfexport.repro import build_time
from test_build import _Titled

class Slow(_Titled):
    name = "slow"
    def render(self, framework, document, context):
        print("rendering", flush=True)
        time.sleep(0.5)
        return b"new"

fw = read_framework({fw!r}).framework
builder.build(fw, {out!r}, [Slow()], {templates!r}, build_time(), jobs=1)
"""


def test_a_killed_build_leaves_the_previous_output_and_the_next_build_cleans_up(tmp_path):
    fw_dir = write_framework(tmp_path / "fw", [small_craft()])
    out = tmp_path / "out"
    fw = read_framework(fw_dir).framework
    builder.build(fw, out, [JsonExporter()], TEMPLATES, build_time(), jobs=1)
    before = sorted(p.name for p in out.iterdir())
    code = SLOW_BUILD.format(tests=str(Path(__file__).parent), fw=str(fw_dir), out=str(out),
                             templates=str(TEMPLATES))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "rendering"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # the previous outputs are untouched; the killed build's lock and staging are hidden inside `out`
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".cfexport")) == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["fw", "out"]
    builder.build(fw, out, [JsonExporter()], TEMPLATES, build_time(), jobs=1)
    assert sorted(p.name for p in out.iterdir()) == before  # the next build removed them
    assert sorted(x.name for x in tmp_path.iterdir()) == ["fw", "out"]


def test_same_source_date_epoch_same_bytes_serial_and_parallel(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    fw = read_framework(FRAMEWORK).framework
    builder.build(fw, tmp_path / "a", [JsonExporter(), _Titled()], TEMPLATES, build_time(), jobs=1)
    time.sleep(1.1)
    builder.build(fw, tmp_path / "b", [JsonExporter(), _Titled()], TEMPLATES, build_time(), jobs=2)
    files = lambda d: {p.relative_to(d): p.read_bytes() for p in d.rglob("*") if p.is_file()}
    assert files(tmp_path / "a") == files(tmp_path / "b")


@pytest.mark.parametrize("out", [".", "..", "fw", "fw/.."])
def test_an_output_folder_holding_the_framework_or_the_working_folder_is_refused(tmp_path, monkeypatch, out):
    fw = write_framework(tmp_path / "fw", [small_craft()])
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = cli("build", "--framework", str(fw), "--out", out, "--format", "json", "--templates", str(TEMPLATES))
    assert result.exit_code == 3 and "refusing to write into" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_parallel_build_of_every_format_is_byte_identical_to_a_serial_one(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    from cfexport import registry

    fw = read_framework(FRAMEWORK).framework
    builder.build(fw, tmp_path / "a", registry.load(), TEMPLATES, build_time(), jobs=1)
    builder.build(fw, tmp_path / "b", registry.load(), TEMPLATES, build_time(), jobs=2)
    files = lambda d: {p.relative_to(d): p.read_bytes() for p in d.rglob("*") if p.is_file()}
    a, b = files(tmp_path / "a"), files(tmp_path / "b")
    assert len(a) == 12 and a == b


def test_building_one_format_keeps_the_other_formats_of_the_previous_build(tmp_path):
    from cfexport import registry

    fw = read_framework(FRAMEWORK).framework
    out = tmp_path / "out"
    builder.build(fw, out, registry.load(["json", "xlsx"]), TEMPLATES, build_time(), jobs=1)
    workbook = (out / "competency-matrix.xlsx").read_bytes()
    builder.build(fw, out, registry.load(["json"]), TEMPLATES, build_time(), jobs=1)
    assert (out / "competency-matrix.xlsx").read_bytes() == workbook
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert sorted((f["path"], f["exporter"]) for f in manifest["files"]) == [
        ("competency-matrix.xlsx", "xlsx"), ("framework.json", "json")]


def test_builds_into_sibling_folders_do_not_touch_each_others_staging(tmp_path):
    with StagedOutput(tmp_path / "a") as a:
        a.write("one.txt", b"1")
        with StagedOutput(tmp_path / "b") as b:
            b.write("x.txt", b"x")
        a.write("two.txt", b"2")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["one.txt", "two.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]


def test_a_commit_that_fails_never_loses_files_cfexport_did_not_write(tmp_path, monkeypatch):
    fw = read_framework(FRAMEWORK).framework
    out = tmp_path / "out"
    builder.build(fw, out, [JsonExporter()], TEMPLATES, build_time(), jobs=1)
    (out / "packs" / "ada").mkdir(parents=True)
    (out / "packs" / "ada" / "notes.txt").write_text("mine")
    real_rename = os.rename

    def failing_rename(src, dst):  # the new document cannot be put in place (once)
        if Path(dst) == out / "framework.json" and ".cfexport-staging-" in str(src):
            raise OSError(16, "Device or resource busy")
        return real_rename(src, dst)

    monkeypatch.setattr(os, "rename", failing_rename)
    with pytest.raises(OSError):
        builder.build(fw, out, [JsonExporter()], TEMPLATES, build_time(), jobs=1)
    monkeypatch.setattr(os, "rename", real_rename)
    assert not [p.name for p in out.iterdir() if p.name.startswith(".cfexport")]  # no staging, trash or lock
    assert (out / "packs" / "ada" / "notes.txt").read_text() == "mine"
    assert json.loads((out / "framework.json").read_text("utf-8"))["title"] == fw.title  # rolled back
    builder.build(fw, out, [JsonExporter()], TEMPLATES, build_time(), jobs=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_an_entry_of_the_same_name_that_cfexport_did_not_write_is_refused_not_replaced(tmp_path):
    out = tmp_path / "out"
    (out / "framework.json").parent.mkdir(parents=True)
    (out / "framework.json").write_text("my own notes")
    fw = read_framework(FRAMEWORK).framework
    with pytest.raises(OutputError, match="was not written by cfexport"):
        builder.build(fw, out, [JsonExporter()], TEMPLATES, build_time(), jobs=1)
    assert (out / "framework.json").read_text() == "my own notes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_strict_build_with_exporter_warnings_replaces_nothing(tmp_path):
    from factory import CraftSpec, LevelSpec
    craft = CraftSpec("Wide Craft", "wide", [(None, "Area", "Def.")],
                      [LevelSpec(1, "One", {None: [("Area", ["中文 statement"])]})])
    fw = write_framework(tmp_path / "fw", [craft])
    out = tmp_path / "out"
    assert cli("build", "--framework", str(fw), "--out", str(out), "--format", "json").exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    result = cli("build", "--framework", str(fw), "--out", str(out), "--strict", "--format", "pdf")
    assert result.exit_code == 1, result.output
    assert "wide/level1.md:" in result.output and "warning(s) while exporting (--strict); nothing was written" \
        in result.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before

