"""Shared fixtures: the shipped framework, and frameworks written on the fly."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# CI explores the same examples every run (a random new example must not block a landing);
# a developer's runs keep exploring new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI", "").lower() == "true":
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))

from cfexport.readers import read_framework  # noqa: E402

FRAMEWORK = ROOT / "tests" / "fixtures" / "vaarst-framework"  # a copy: make test passes whatever the company does to framework/
TEMPLATES = ROOT / "templates"
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def shipped():
    """The shipped framework's model (read once)."""
    result = read_framework(FRAMEWORK)
    assert not result.errors, result.errors
    return result.framework


def need_tool(name: str) -> str:
    """The path of an external tool; skips with a reason locally, fails under CI=true."""
    path = shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"{name} is required under CI=true; .ci/run installs it")
        pytest.skip(f"{name} not installed (install it to run this test; CI always does)")
    return path
