"""The model as just-the-docs pages, in the layout of the shipped `framework/` folder, so that a
framework kept in any format the readers understand moves to a Jekyll site in one command.

- `index.md`: the framework's title and description;
- `<craft id>/index.md`: the craft, `## Craft` with an `### Area {#id}` heading and its
  definition per shared area, then `## Craft - <Specialism>` for each specialism (with its
  own areas, if any);
- `<craft id>/level<N>.md`: `Level N (Name)`, a `| Area | Description |` table per section
  (shared, then each specialism), statements separated by `<br><br>`, `TODO` for a TODO.

Every text is escaped (ASCII punctuation backslash-escaped, as CommonMark allows) so that the
Jekyll reader reads back exactly the text of the model. A `manifest.json` lists the files, so
that converting again into the same folder replaces them (through `StagedOutput`).
"""

from __future__ import annotations

import hashlib
import json
import re

from cfexport.model import Craft, Expectation, Framework, Level
from cfexport.output import MANIFEST, StagedOutput

_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")
_ID = re.compile(r"^[^\s{}#]+$")
TODO = "TODO"


def escape(text: str) -> str:
    """Literal text in markdown: every ASCII punctuation character backslash-escaped."""
    return _PUNCT.sub(r"\\\1", text)


def _prose(text: str) -> str:
    return "\n\n".join(escape(p) for p in text.split("\n\n") if p.strip())


def _yaml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _front(**fields) -> list[str]:
    lines = ["---", "layout: page"]
    for key, value in fields.items():
        if value is None:
            continue
        lines.append(f"{key}: {value}")
    return lines + ["---", ""]


def pages(framework: Framework) -> dict[str, str]:
    """Relative path -> page text, for the whole framework."""
    base = (framework.permalink or "/framework").rstrip("/") or "/framework"
    out = {"index.md": "\n".join(_front(title=_yaml(framework.title), permalink=base, nav_order=1,
                                        has_children="true", version=_yaml(framework.version)
                                        if framework.version else None)
                                 + [f"# {escape(framework.title)}", "", _prose(framework.description), ""])}
    for order, craft in enumerate(framework.crafts, 1):
        url = f"{base}/{craft.id}"
        out[f"{craft.id}/index.md"] = _craft_page(framework, craft, url, order)
        for level in craft.levels:
            out[f"{craft.id}/level{level.number}.md"] = _level_page(framework, craft, level, url)
    return out


def _heading(title: str, area_id: str) -> str:
    return f"### {escape(title)}" + (f" {{#{area_id}}}" if _ID.match(area_id) else "")


def _craft_page(framework: Framework, craft: Craft, url: str, order: int) -> str:
    lines = _front(title=_yaml(craft.title), permalink=url, nav_order=order, parent=_yaml(framework.title),
                   has_children="true")
    lines += [f"# {escape(craft.title)}", ""]
    if craft.description:
        lines += [_prose(craft.description), ""]
    for group in (None, *craft.specialisms):
        lines += [f"## Craft - {escape(group)}" if group else "## Craft", ""]
        for area in craft.areas:
            if area.specialism == group:
                lines += [_heading(area.title, area.id), ""]
                if area.definition:
                    lines += [_prose(area.definition), ""]
    return "\n".join(lines)


def _cell(exp: Expectation) -> str:
    if exp.todo and not exp.statements:
        return TODO
    return " <br><br> ".join(escape(s.text) for s in exp.statements)


def _level_page(framework: Framework, craft: Craft, level: Level, url: str) -> str:
    title = f"Level {level.number} ({level.name})" if level.name else f"Level {level.number}"
    lines = _front(title=_yaml(title), permalink=f"{url}/level{level.number}", nav_order=level.number,
                   parent=_yaml(craft.title), grand_parent=_yaml(framework.title),
                   illustrative="true" if level.illustrative else None)
    lines += [f"# {escape(level.heading or title)}", ""]
    for group in (None, *craft.specialisms):
        rows = [e for e in level.expectations if e.specialism == group]
        if not rows:
            continue
        lines += [f"## Craft - {escape(group)}" if group else "## Craft", "",
                  "| Area | Description |", "|:-----|:------------|"]
        for exp in rows:
            lines.append(f"| [{escape(exp.area_title)}]({url}#{exp.area_id}) | {_cell(exp)} |")
        lines.append("")
    return "\n".join(lines)


def write(framework: Framework, out, force: bool = False) -> list[str]:
    """Write the pages into `out` atomically, with a manifest; returns the paths written."""
    written = pages(framework)
    files = []
    with StagedOutput(out, replace_unlisted=force) as stage:
        for rel, text in written.items():
            data = text.encode("utf-8")
            stage.write(rel, data)
            files.append({"path": rel, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)})
        stage.write(MANIFEST, (json.dumps({"generator": "cfexport convert --to jekyll", "framework": framework.title,
                                           "files": files}, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return list(written)
