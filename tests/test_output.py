"""The output folder against the real world: mount points, read-only folders, symlinked
spellings, leftovers of an earlier build and `make clean`."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FRAMEWORK, ROOT, TEMPLATES

from cfexport import build as builder
from cfexport.cli import main
from cfexport.exporters.framework_json import JsonExporter
from cfexport.output import OutputError, StagedOutput
from cfexport.readers import read_framework
from cfexport.repro import build_time


def cli(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result


def build_cli(out: Path, *args: str):
    return cli("build", "--framework", str(FRAMEWORK), "--templates", str(TEMPLATES), "--out", str(out),
               "--jobs", "1", *args)


def listing(folder: Path) -> list[str]:
    """Every file and folder under `folder`, hidden ones included, relative to it."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def mounts():
    """`mounts(path)` mounts a fresh tmpfs at `path`; `mounts.read_only(path)` remounts it read-only.
    Everything is unmounted after the test. Skips (with the reason) where mounting is not possible."""
    made: list[Path] = []

    class Mounts:
        def __call__(self, path: Path) -> Path:
            if os.geteuid() != 0:
                pytest.skip("mounting a tmpfs needs root (the test builds onto a real mount point)")
            path.mkdir(parents=True, exist_ok=True)
            result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m,mode=0755", "tmpfs", str(path)],
                                    capture_output=True, text=True)
            if result.returncode != 0:
                pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip() or result.returncode}")
            made.append(path)
            return path

        def read_only(self, path: Path) -> None:
            subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True, capture_output=True)

    yield Mounts()
    for path in reversed(made):
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def read_only_folder(path: Path, mounts) -> None:
    """Make the folder `path` (a fresh tmpfs when root, as root ignores permissions) read-only for real."""
    if os.geteuid() == 0:
        mounts.read_only(path)
    else:
        for p in [path, *path.rglob("*")]:
            if p.is_dir():
                p.chmod(0o555)
    with pytest.raises(OSError):
        (path / "probe").write_bytes(b"")


def writable_folder(path: Path, mounts) -> None:
    """A folder that can be made read-only later: a tmpfs when root, a plain folder otherwise."""
    if os.geteuid() == 0:
        mounts(path)
    else:
        path.mkdir(parents=True)


# 1. a mount point as --out -----------------------------------------------------------------
def test_a_mount_point_as_out_is_built_into_and_rebuilt(tmp_path, mounts):
    out = mounts(tmp_path / "out")
    first = build_cli(out, "--format", "json", "--format", "xlsx")
    assert first.exit_code == 0, first.output
    second = build_cli(out, "--format", "json")  # replaces framework.json, carries the workbook over
    assert second.exit_code == 0, second.output
    assert listing(out) == ["competency-matrix.xlsx", "framework.json", "manifest.json"]
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert sorted(f["path"] for f in manifest["files"]) == ["competency-matrix.xlsx", "framework.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # nothing beside the mount point


def test_no_rename_crosses_the_output_folder(tmp_path, monkeypatch):
    """Whatever `out` is mounted on, a rename from or to outside it would fail (EXDEV); a build
    never makes one."""
    fw = read_framework(FRAMEWORK).framework
    out = tmp_path / "out"
    out.mkdir()
    inside = out.resolve()
    real_rename = os.rename

    def rename(src, dst):
        if not all(Path(p).resolve().is_relative_to(inside) for p in (src, dst)):
            raise OSError(errno.EXDEV, "Invalid cross-device link", str(src))
        return real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    builder.build(fw, out, [JsonExporter()], TEMPLATES, build_time(), jobs=1)
    builder.build(fw, out, [JsonExporter()], TEMPLATES, build_time(), jobs=1)
    assert listing(out) == ["framework.json", "manifest.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


# 2. only the output folder itself needs to be writable ---------------------------------------
def test_a_writable_out_in_a_read_only_parent_is_built_into(tmp_path, mounts):
    parent = tmp_path / "parent"
    writable_folder(parent, mounts)
    out = parent / "out"
    if os.geteuid() == 0:
        mounts(out)
    else:
        out.mkdir()
    read_only_folder(parent, mounts)
    result = build_cli(out, "--format", "json")
    assert result.exit_code == 0, result.output
    assert build_cli(out, "--format", "json").exit_code == 0
    assert listing(out) == ["framework.json", "manifest.json"]
    assert listing(parent) == ["out", "out/framework.json", "out/manifest.json"]


def test_a_read_only_out_is_a_clear_error_that_leaves_everything_as_it_was(tmp_path, mounts):
    out = tmp_path / "out"
    writable_folder(out, mounts)
    assert build_cli(out, "--format", "json").exit_code == 0
    before = files(out)
    read_only_folder(out, mounts)
    result = build_cli(out, "--format", "json")
    assert result.exit_code == 3
    [error] = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert error.startswith(f"error: cannot write to {out}: ") and error.endswith("; choose another --out")
    assert files(out) == before and listing(out) == ["framework.json", "manifest.json"]
    # a missing out inside a read-only folder: the same message, nothing made
    result = build_cli(out / "sub", "--format", "json")
    assert result.exit_code == 3 and f"error: cannot write to {out / 'sub'}: " in result.output
    assert listing(out) == ["framework.json", "manifest.json"]


# 3. one lock per folder, however it is spelled -----------------------------------------------
@pytest.mark.parametrize("flock", [True, False], ids=["flock", "lock-file"])
def test_the_lock_holds_for_every_spelling_of_the_folder(tmp_path, monkeypatch, flock):
    from cfexport import output

    if not flock:
        monkeypatch.setattr(output, "fcntl", None)
    real = tmp_path / "a"
    real.mkdir()
    link = tmp_path / "link-to-a"
    link.symlink_to(real, target_is_directory=True)
    with StagedOutput(real) as stage:
        stage.write("one.txt", b"1")
        for spelling in (link, tmp_path / "link-to-a" / ".." / "a"):
            with pytest.raises(OutputError, match="another cfexport is writing"):
                with StagedOutput(spelling):
                    pass
    with StagedOutput(link) as stage:  # and the other way round
        stage.write("two.txt", b"2")
        with pytest.raises(OutputError, match="another cfexport is writing"):
            with StagedOutput(real):
                pass
    assert link.is_symlink() and listing(real) == ["one.txt", "two.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "link-to-a"]


# 4. cfexport's own files without a manifest; foreign ones and --force -------------------------
@pytest.mark.parametrize("epochs", [("1700000000", "1700000000"), ("1700000000", "1800000000")],
                         ids=["same-bytes", "another-build-time"])
def test_a_build_after_the_manifest_is_deleted_replaces_cfexports_own_files(tmp_path, monkeypatch, epochs):
    out = tmp_path / "out"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epochs[0])
    assert build_cli(out).exit_code == 0
    kept = files(out)
    (out / "manifest.json").unlink()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epochs[1])
    result = build_cli(out)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert sorted(f["path"] for f in manifest["files"]) == sorted(p for p in kept if p != "manifest.json")
    assert not any(p.startswith(".") for p in listing(out))
    if epochs[0] != epochs[1]:
        assert files(out)["competency-matrix.xlsx"] != kept["competency-matrix.xlsx"]  # really replaced


def _foreign_workbook(path: Path) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active["A1"] = "my own matrix"
    wb.properties.title = "My own matrix"
    wb.properties.creator = "Ada"
    wb.save(path)
    return path.read_bytes()


def test_a_foreign_file_where_cfexport_writes_is_refused_and_force_replaces_it(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    mine = _foreign_workbook(out / "competency-matrix.xlsx")
    result = build_cli(out, "--format", "xlsx")
    assert result.exit_code == 3
    assert f"{out / 'competency-matrix.xlsx'} exists and was not written by cfexport" in result.output
    assert "move it away, or pass --force to replace it" in result.output
    assert files(out) == {"competency-matrix.xlsx": mine}
    result = build_cli(out, "--format", "xlsx", "--force")
    assert result.exit_code == 0, result.output
    import openpyxl

    wb = openpyxl.load_workbook(out / "competency-matrix.xlsx")
    assert wb.properties.title == "Vaarst Career Framework: competency matrix"
    assert listing(out) == ["competency-matrix.xlsx", "manifest.json"]


def test_a_folder_cfexport_writes_is_replaced_only_when_every_file_in_it_is_cfexports(tmp_path):
    out = tmp_path / "out"
    assert build_cli(out, "--format", "docx", "--format", "pdf").exit_code == 0
    (out / "manifest.json").unlink()
    craft = out / "role-descriptions" / "ml-and-edge-ml-engineer-craft"
    # a role description of a role the framework no longer has: still cfexport's own
    shutil.copy(craft / "ml-engineer-level-5.docx", craft / "retired-role-level-4.docx")
    (craft / "notes.txt").write_text("mine")
    result = build_cli(out, "--format", "docx", "--format", "pdf")
    assert result.exit_code == 3
    assert f"{craft / 'notes.txt'}" in result.output and "--force" in result.output
    assert (craft / "notes.txt").read_text() == "mine"
    (craft / "notes.txt").unlink()
    result = build_cli(out, "--format", "docx", "--format", "pdf")
    assert result.exit_code == 0, result.output
    assert not (craft / "retired-role-level-4.docx").exists()


def test_make_clean_removes_what_make_export_made_and_keeps_the_placeholder(tmp_path):
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    out = tmp_path / "output"
    out.mkdir()
    (out / ".gitkeep").write_text("")
    assert build_cli(out).exit_code == 0
    (out / "my-notes.txt").write_text("mine")
    (tmp_path / "fake-venv").mkdir()
    result = subprocess.run([make, "clean", "VENV=fake-venv"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert listing(out) == [".gitkeep", "my-notes.txt"]
    assert not (tmp_path / "fake-venv").exists()
    assert build_cli(out).exit_code == 0  # `make clean && make export`


# 5. the summary says what this build wrote and what it kept ------------------------------------
def test_the_summary_counts_what_this_build_wrote_and_what_it_kept(tmp_path):
    out = tmp_path / "out"
    result = build_cli(out)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        f"wrote 11 file(s) (8 docx, 1 json, 1 pdf, 1 xlsx) to {out}; manifest: {out}/manifest.json")
    result = build_cli(out, "--format", "docx", "--clean")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        f"wrote 8 file(s) (8 docx) to {out}; kept 3 from the previous build (1 json, 1 pdf, 1 xlsx); "
        f"manifest: {out}/manifest.json")
    result = build_cli(out, "--format", "docx")  # nothing changed: every document is reused
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        f"wrote 8 file(s) (8 docx) to {out}; rendered 0, reused 8 unchanged from the previous build (--clean "
        f"renders all); kept 3 from the previous build (1 json, 1 pdf, 1 xlsx); manifest: {out}/manifest.json")
