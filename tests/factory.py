"""Write small frameworks as real Jekyll pages, for tests and the benchmark.

Text given here is what the model must hold after reading: every ASCII punctuation
character is backslash-escaped, so markdown and HTML in it stay literal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

TODO = "TODO"
_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")


def md_escape(text: str) -> str:
    """Literal text for a markdown table cell (CommonMark lets any ASCII punctuation be escaped)."""
    return _PUNCT.sub(r"\\\1", text)


def anchor(title: str) -> str:
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


@dataclass
class LevelSpec:
    number: int
    name: str
    # section -> rows; section None is the shared "Craft" section, else a specialism's name.
    # A row is (area title, [statements]) or (area title, TODO).
    sections: dict[str | None, list[tuple[str, list[str] | str]]] = field(default_factory=dict)


@dataclass
class CraftSpec:
    title: str
    slug: str
    # (specialism or None, area title, definition), in craft-page order
    areas: list[tuple[str | None, str, str]]
    levels: list[LevelSpec]


def write_framework(root: Path, crafts: list[CraftSpec], title: str = "Test Framework") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "index.md").write_text(
        f"---\nlayout: page\ntitle: {_yaml(title)}\npermalink: /framework\nnav_order: 1\nhas_children: true\n---\n\n"
        f"# {md_escape(title)}\n\nA framework made for tests.\n",
        encoding="utf-8",
    )
    for order, craft in enumerate(crafts, 1):
        folder = root / craft.slug
        folder.mkdir(parents=True, exist_ok=True)
        lines = [
            "---", "layout: page", f"title: {_yaml(craft.title)}", f"permalink: /framework/{craft.slug}",
            f"nav_order: {order}", f"parent: {_yaml(title)}", "has_children: true", "---", "",
            f"# {md_escape(craft.title)}", "", "The craft's description.", "",
        ]
        groups: list[str | None] = []
        for spec, _, _ in craft.areas:
            if spec not in groups:
                groups.append(spec)
        for group in groups:
            lines += [f"## Craft - {md_escape(group)}" if group else "## Craft", ""]
            for spec, area, definition in craft.areas:
                if spec == group:
                    lines += [f"### {md_escape(area)}", "", md_escape(definition), ""]
        (folder / "index.md").write_text("\n".join(lines), encoding="utf-8")
        for lv in craft.levels:
            page = [
                "---", "layout: page", f"title: Level {lv.number} ({_yaml_inner(lv.name)})",
                f"permalink: /framework/{craft.slug}/level{lv.number}", f"nav_order: {lv.number}",
                f"parent: {_yaml(craft.title)}", f"grand_parent: {_yaml(title)}", "---", "",
                f"# {md_escape(lv.name)} - Level {lv.number}", "",
            ]
            for section, rows in lv.sections.items():
                page += [f"## Craft - {md_escape(section)}" if section else "## Craft", "",
                         "|Area          | Description       |", "|:-------------|:------------------|"]
                for area, statements in rows:
                    cell = TODO if statements == TODO else " <br><br> ".join(md_escape(s) for s in statements)
                    page.append(f"| [{md_escape(area)}](/framework/{craft.slug}#{anchor(area)}) | {cell} |")
                page.append("")
            (folder / f"level{lv.number}.md").write_text("\n".join(page), encoding="utf-8")
    return root


def _yaml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _yaml_inner(text: str) -> str:
    return text.replace('"', "'")


def small_craft(statements: dict[str, list[str]] | None = None) -> CraftSpec:
    """One craft, two specialisms, two levels: a shape every exporter must handle."""
    statements = statements or {}
    areas = [(None, "Delivery", "Shipping work."), (None, "Mentoring", "Growing others."),
             ("Data", "Analysis", "Working with data."), ("Platform", "Infrastructure", "Running systems.")]
    levels = []
    for n, name in ((1, "Junior"), (2, "Senior")):
        levels.append(LevelSpec(n, name, {
            None: [("Delivery", statements.get(f"Delivery{n}", [f"I deliver at level {n}."])),
                   ("Mentoring", TODO if n == 1 else [f"I mentor at level {n}."])],
            "Data": [("Analysis", statements.get(f"Analysis{n}", [f"I analyse at level {n}."]))],
            "Platform": [("Infrastructure", [f"I run systems at level {n}."])],
        }))
    return CraftSpec("Test Craft", "test", areas, levels)
