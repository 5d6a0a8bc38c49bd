"""Frameworks and helpers shared by the web page's tests."""

from __future__ import annotations

import re
from pathlib import Path

from factory import CraftSpec, LevelSpec, write_framework

# Statements a browser must show as text and never run.
HOSTILE = [
    "<script>window.__pwned = 1; alert('pwned')</script> scripted",
    "<img src=x onerror=\"window.__pwned = 2\"> imaged & {{ 7*7 }} </textarea>",
    "\"><svg onload=window.__pwned=3> quoted",
]


def hostile_framework(root: Path) -> Path:
    areas = [(None, "Area <b>one</b>", "First <i>area</i> & more."), (None, "Area two", "Second area.")]
    levels = [LevelSpec(1, "One", {None: [("Area <b>one</b>", HOSTILE), ("Area two", ["plain one"])]}),
              LevelSpec(2, "Two", {None: [("Area <b>one</b>", ["next " + s for s in HOSTILE]),
                                          ("Area two", ["plain two"])]})]
    return write_framework(root, [CraftSpec("Hostile <script>alert(1)</script> Craft", "hostile", areas, levels)],
                           title="Hostile <script>alert(2)</script> Framework")


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
