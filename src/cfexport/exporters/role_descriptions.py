"""The `docx` exporter: one Word role description per role, on the styling template HR
restyles in Word (`exporters.wordprocessing`). The promotion case of a promotion pack
(`cfexport.packs.promotion_case`) uses its area headings and lists of changes.

A role description holds the role's title, an introduction (`role-introduction.txt.j2`),
every area of the role in the craft page's order (its definition, then the level's
statements for this role as a bulleted list, or a visible "not yet defined"), and what
changes at the next level of the same role (absent at the top level).
"""

from __future__ import annotations

from typing import ClassVar

from cfexport.compare import AreaChange, compare, next_role
from cfexport.exporters.base import Context, Document, ExportError
from cfexport.model import AreaExpectations, Framework, Role, Statement, with_the
from cfexport.exporters.wordprocessing import Writer
from cfexport.exporters.word_template import intro, with_article

ROLE_INTRODUCTION = "role-introduction.txt.j2"


class DocxExporter:
    name: ClassVar[str] = "docx"
    description: ClassVar[str] = "Word role descriptions, one per role, styled by templates/role-description.docx"

    def plan(self, framework: Framework) -> list[Document]:
        docs = []
        for craft in framework.crafts:
            for role in craft.roles():
                n = role.level.number
                name = f"{role.specialism} level {n}" if role.specialism else f"level {n}"
                docs.append(Document(("role-descriptions", craft.title, name), ".docx", craft=craft.title,
                                     specialism=role.specialism, level=n, key=(craft.id, role.specialism, n)))
        return docs

    def render(self, framework: Framework, document: Document, context: Context) -> bytes:
        return render_role_description(framework, find_role(framework, *document.key), context)

    # For incremental builds and worker start-up (cfexport.fingerprint, cfexport.workers).
    styled_by: ClassVar[tuple[str, ...]] = ("theme.yaml", "**/*.docx", "**/*.dotx", "**/*.j2")

    def fingerprint(self, framework: Framework, document: Document) -> bytes:
        """A role description reads its role, the same role one level up, the craft and framework titles."""
        from cfexport import fingerprint

        return fingerprint.role_slice(framework, *document.key)

    def warm(self, context: Context) -> None:
        from cfexport.exporters.word_template import template

        template(context)


def find_role(framework: Framework, craft_id: str, specialism: str | None, level: int) -> Role:
    for craft in framework.crafts:
        if craft.id == craft_id and specialism in craft.tracks():
            lv = craft.level(level)
            if lv is not None:
                return Role(craft, specialism, lv)
    raise ExportError(f"no role {craft_id}/{specialism or '-'}/{level} in the framework", framework.source)


# -- role descriptions ---------------------------------------------------------------------
def render_role_description(framework: Framework, role: Role, context: Context) -> bytes:
    w = Writer(context)
    craft, level = role.craft, role.level
    nxt = next_role(role)
    values = _values(framework, role, context)
    values["title"] = f"{role.title} · Level {level.number}"

    w.para("title", role.title)
    w.para("subtitle", w.label("subtitle", level=level.label, craft=craft.title, framework=framework.title,
                               role=role.title, specialism=role.specialism or ""))
    for text in intro(context, ROLE_INTRODUCTION, framework=framework.title,
                      the_framework=with_the(framework.title), craft=craft.title, the_craft=craft.the_craft, role=role.title,
                      a_role=with_article(role.title), specialism=role.specialism or "", level=level.label,
                      level_number=level.number, level_name=level.name, version=context.version,
                      illustrative=level.illustrative, next_level=nxt.level.label if nxt else "",
                      next_role=nxt.title if nxt else "", a_next_role=with_article(nxt.title) if nxt else ""):
        w.para("body", text)

    w.para("h1", w.label("expectations"))
    for area in role.areas():
        _area_heading(w, area.area_title, area)
        if area.statements:
            for s in area.statements:
                w.para("bullet", s.text)
        elif area.todo:
            w.para("todo", w.label("not_defined"))
        else:
            w.para("body", w.label("no_expectations"))

    if nxt is not None:
        _next_level(w, role, nxt)

    w.fill_header_footer(values)
    w.properties(
        level.source,
        title=f"{role.title} – role description",
        subject=f"Role description: {role.title}, {level.label}, {craft.title}",
        author=framework.title,
        keywords=[framework.title, craft.title, role.specialism or "", f"Level {level.number}", level.name,
                  "role description"],
        category="Role description",
        identifier=role.id,
        comments=_comments(framework, context),
    )
    return w.finish()


def _next_level(w: Writer, role: Role, nxt: Role) -> None:
    label = nxt.level.label
    w.para("h1", w.label("next_level"))
    w.para("body", w.label("next_level_intro", next_level=label, next_role=nxt.title,
                               a_next_role=with_article(nxt.title), level=role.level.label))
    unchanged = []
    for ch in compare(role, nxt):
        if not (ch.added or ch.target_todo or (ch.current and not ch.target)):
            unchanged.append(ch.area_title)
            continue
        _area_heading(w, ch.area_title, None)
        if ch.new_area:
            w.rich("body", [(w.label("new_area", level=label), "label")], keep_next=True)
        elif ch.now_defined:
            w.rich("body", [(w.label("now_defined", level=label), "label")], keep_next=True)
        if ch.target_todo:
            w.para("todo", w.label("next_not_defined", next_level=label))
        elif not ch.target:
            w.para("body", w.label("next_no_expectations", next_level=label))
        _changes(w, ch, only_added=True)
    if unchanged:
        w.para("body", w.label("next_unchanged", next_level=label, areas=", ".join(unchanged)))


def _area_heading(w: Writer, title: str, area: AreaExpectations | None) -> None:
    """An area's heading, and its definition from the craft page when `area` is given."""
    w.para("h2", title)
    definition = area.area.definition if area is not None and area.area is not None else ""
    for text in definition.split("\n\n"):
        if text.strip():
            w.para("definition", text.strip())


def _changes(w: Writer, ch: AreaChange, only_added: bool) -> None:
    """The target level's statements of one area: new and reworded ones marked (and shaded
    by the "New Statement" style), a reworded one followed by its previous wording."""
    new, changed, previous = w.label("new"), w.label("changed"), w.label("previous")
    for c in ch.changes:
        if c.kind == "same":
            if not only_added:
                w.para("bullet", c.statement.text)
            continue
        w.rich("new", [(f"{new if c.kind == 'new' else changed}: ", "label"), (c.statement.text, None)])
        if c.kind == "changed" and c.previous is not None:
            w.rich("previous", [(previous, None), (c.previous.text, None)])


def _values(framework: Framework, role: Role, context: Context) -> dict[str, str]:
    """Header and footer placeholders."""
    return {
        "framework": framework.title,
        "craft": role.craft.title,
        "role": role.title,
        "specialism": role.specialism or "",
        "level": role.level.label,
        "title": role.title,
        "version": context.version,
        "date": context.build_time.date().isoformat(),
        "person": "",
    }


def _comments(framework: Framework, context: Context) -> str:
    return (f"Made by cfexport from {with_the(framework.title)} ({context.version}). "
            "To change the text, change the framework pages; to change the look, restyle the template.")


def _statements(w: Writer, statements: tuple[Statement, ...], todo: bool) -> None:
    if statements:
        for s in statements:
            w.para("bullet", s.text)
    elif todo:
        w.para("todo", w.label("not_defined"))
    else:
        w.para("body", w.label("no_expectations"))
