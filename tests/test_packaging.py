"""The package as pip builds it, and the set-up the Makefile does."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile

from conftest import ROOT


def test_the_wheel_holds_every_module_the_schema_the_templates_and_fonts_without_setuptools_warnings(tmp_path):
    src = tmp_path / "src-copy"  # build a copy: a build leaves build/ and *.egg-info behind
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "src", src / "src", ignore=ignore)
    shutil.copytree(ROOT / "templates", src / "templates", ignore=ignore)
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-cache-dir",
                           "-w", str(tmp_path / "dist"), str(src)], capture_output=True, text=True)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    assert "absent from the `packages` configuration" not in log, log
    assert not re.search(r"\w+Warning:", log), log
    [wheel] = (tmp_path / "dist").glob("cfexport-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {f"cfexport/{p.relative_to(ROOT / 'src' / 'cfexport').as_posix()}"
               for p in (ROOT / "src" / "cfexport").rglob("*.py")}
    data = {"cfexport/schema/framework.schema.json", "cfexport/schema/round-summary.schema.json"} | {
        f"cfexport/_templates/{p.relative_to(ROOT / 'templates').as_posix()}"
        for p in (ROOT / "templates").rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert "cfexport/_templates/fonts/LICENSE-DejaVu.txt" in data and "cfexport/_templates/theme.yaml" in data
    web = ROOT / "src" / "cfexport" / "web"  # the web page's templates, CSS and search script
    data |= {f"cfexport/web/{p.relative_to(web).as_posix()}" for folder in ("templates", "static")
             for p in (web / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert {"cfexport/web/templates/base.html", "cfexport/web/static/search.js"} <= data
    assert modules | data <= names, sorted((modules | data) - names)


def _make_dry_run(target: str, tmp_path) -> str:
    """The commands `make TARGET` would run on a machine without .venv (nothing is run)."""
    proc = subprocess.run(["make", "-n", target, f"VENV={tmp_path / 'fresh-venv'}"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_make_export_installs_no_test_extras_and_make_test_does(tmp_path):
    export = _make_dry_run("export", tmp_path)
    assert "pip install" in export and "[test]" not in export, export
    assert "cfexport build" in export
    test = _make_dry_run("test", tmp_path)
    assert "[test]" in test and "pytest" in test, test
