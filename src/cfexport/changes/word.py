"""changes.docx: the release note as a Word document on the role-description template,
with one section per role that changed ("What changed for Senior ML Engineers").

Written with the Word exporters' `Writer`, so it takes the template's styles, header and
footer, and framework text only ever becomes the text of a run."""

from __future__ import annotations

from cfexport.changes.report import CraftSection, Item, plural
from cfexport.exporters.base import Context
from cfexport.exporters.wordprocessing import Writer
from cfexport.model import Framework, with_the


def _item(w: Writer, it: Item) -> None:
    runs = [(f"{it.label}" + (": " if it.text else ""), "label")]
    if it.text:
        runs.append((it.text, None))
    w.rich("new" if it.label in ("New", "Reworded") or it.lines else "body", runs, keep_next=bool(it.lines))
    for line in it.lines:
        w.para("bullet", line)
    if it.previous:
        w.rich("previous", [("Previously: ", None), (it.previous, None)])


def render(framework: Framework, summary: str, old_label: str, new_label: str, sections: list[CraftSection],
           context: Context) -> bytes:
    w = Writer(context)
    w.para("title", f"What changed in {with_the(framework.title)}")
    w.para("subtitle", f"{old_label} → {new_label}")
    w.para("body", summary)
    for n, sec in enumerate(sections):
        w.para("h1", sec.title, page_break=n > 0)
        if sec.items:
            w.para("h2", "Across the craft", keep_next=True)
            for it in sec.items:
                _item(w, it)
        for role in sec.roles:
            w.para("h1", f"What changed for {plural(role.title)}", keep_next=True)
            w.para("cover", f"{role.level} · {sec.title}", keep_next=True)
            for area, items in role.areas.items():
                if area:
                    w.para("h2", area, keep_next=True)
                for it in items:
                    _item(w, it)
    version = f"{old_label} → {new_label}"
    w.fill_header_footer({"framework": framework.title, "craft": "What changed", "role": "", "specialism": "", "level": "",
                          "title": "What changed", "version": version,
                          "date": context.build_time.date().isoformat(), "person": ""})
    w.properties(framework.source, title=f"What changed in {with_the(framework.title)}", subject=summary,
                 author=framework.title, keywords=[framework.title, old_label, new_label, "changes"],
                 category="Changes", identifier=f"changes/{old_label}..{new_label}",
                 comments=f"Made by cfexport from {with_the(framework.title)}: {version}.")
    return w.finish()
