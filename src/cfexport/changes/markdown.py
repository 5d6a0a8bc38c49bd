"""changes.md: the release note, for a pull request or a mail.

A summary line with the counts, then per craft its own changes and per role what changed,
new wording shown against the old. Framework text is escaped, so it is shown as written:
never a link, an image, a heading, HTML, a table cell, a mention or maths.
"""

from __future__ import annotations

import re

from cfexport.changes.report import CraftSection, Item, plural
from cfexport.model import with_the

_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#!{}$&@])")


def escape(text: str) -> str:
    """Framework text as literal markdown (CommonMark and GitHub's additions)."""
    text = " ".join(text.split())
    text = _SPECIAL.sub(r"\\\1", text)
    return text.replace("://", "\\://").replace("www.", "www\\.")


def _item(it: Item) -> list[str]:
    head = f"- **{escape(it.label)}**"
    lines = [head + (f": {escape(it.text)}" if it.text else "")]
    lines += [f"  - {escape(t)}" for t in it.lines]
    if it.previous:
        lines.append(f"  - *Previously:* ~~{escape(it.previous)}~~")
    return lines


def render(title: str, summary: str, old_label: str, new_label: str, sections: list[CraftSection]) -> bytes:
    out = [f"# What changed in {escape(with_the(title))}", "", f"**{escape(old_label)} → {escape(new_label)}**", "",
           escape(summary), ""]
    for sec in sections:
        out += [f"## {escape(sec.title)}", ""]
        if sec.items:
            out += ["### Across the craft", ""]
            for it in sec.items:
                out += _item(it)
            out.append("")
        for role in sec.roles:
            out += [f"### What changed for {escape(plural(role.title))} ({escape(role.level)})", ""]
            for area, items in role.areas.items():
                if area:
                    out += [f"#### {escape(area)}", ""]
                for it in items:
                    out += _item(it)
                out.append("")
    return ("\n".join(out).rstrip("\n") + "\n").encode("utf-8")
