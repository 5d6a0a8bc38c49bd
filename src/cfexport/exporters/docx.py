"""The `docx` exporter: one Word role description per role, and the promotion case of a
promotion pack (`render_promotion_case`), both on the styling template HR restyles in Word.

A role description holds the role's title, an introduction (`role-introduction.txt.j2`),
every area of the role in the craft page's order (its definition, then the level's
statements for this role as a bulleted list, or a visible "not yet defined"), and what
changes at the next level of the same role (absent at the top level).
"""

from __future__ import annotations

from typing import ClassVar

from cfexport.compare import AreaChange, compare, next_role, promotion_problem
from cfexport.exporters.base import Context, Document, ExportError
from cfexport.model import AreaExpectations, Framework, Role, Statement
from cfexport.exporters.word import ILLEGAL_XML, Writer, intro

ROLE_INTRODUCTION = "role-introduction.txt.j2"
PROMOTION_INTRODUCTION = "promotion-introduction.txt.j2"


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
        from cfexport.exporters.word import template

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
    for text in intro(context, ROLE_INTRODUCTION, framework=framework.title, craft=craft.title, role=role.title,
                      specialism=role.specialism or "", level=level.label, level_number=level.number,
                      level_name=level.name, version=context.version, illustrative=level.illustrative,
                      next_level=nxt.level.label if nxt else "", next_role=nxt.title if nxt else ""):
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
    w.para("body", w.label("next_level_intro", next_level=label, next_role=nxt.title, level=role.level.label))
    unchanged = []
    for ch in compare(role, nxt):
        if not (ch.added or ch.target_todo or (ch.current and not ch.target)):
            unchanged.append(ch.area_title)
            continue
        _area_heading(w, ch.area_title, None)
        if ch.new_area:
            w.rich("body", [(w.label("new_area", level=label), "label")], keep_next=True)
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
    return (f"Made by cfexport from the {framework.title} ({context.version}). "
            "To change the text, change the framework pages; to change the look, restyle the template.")


# -- promotion cases -------------------------------------------------------------------------
def render_promotion_case(framework: Framework, current: Role, target: Role, person: str, manager: str | None,
                          context: Context) -> bytes:
    """The promotion case of a pack: cover, how to use it, per area the current and target
    expectations with what is new at the target highlighted and an evidence table, and a
    closing section for the manager's summary."""
    problem = promotion_problem(current, target)
    if problem:
        raise ExportError(problem, target.level.source)
    person = _person_text(person, "person")
    manager = _person_text(manager, "manager") if manager else ""

    w = Writer(context)
    craft = current.craft
    cur_label, tgt_label = current.level.label, target.level.label
    who = current.specialism or craft.people_name
    changes = compare(current, target)
    date = context.build_time.date().isoformat()

    # Cover
    w.para("title", w.label("promotion_title"))
    w.para("subtitle", person)
    for key, value in (("person", person),
                       ("role", f"{who} · {craft.title}"),
                       ("current_level", f"{cur_label} ({current.title})"),
                       ("target_level", f"{tgt_label} ({target.title})"),
                       ("manager", manager or w.label("no_manager")),
                       ("date", date)):
        w.rich("cover", [(f"{w.label(key)}: ", "strong"), (value, None)])

    # How to use
    w.para("h1", w.label("how_to_use"), page_break=True)
    new_count = sum(1 for ch in changes for c in ch.changes if c.kind == "new")
    reworded = sum(1 for ch in changes for c in ch.changes if c.kind == "changed")
    for text in intro(context, PROMOTION_INTRODUCTION, person=person, manager=manager, framework=framework.title,
                      craft=craft.title, specialism=current.specialism or "", current_role=current.title,
                      target_role=target.title, current_level=cur_label, target_level=tgt_label, date=date,
                      new_statements=new_count, reworded_statements=reworded,
                      new_areas=sum(1 for ch in changes if ch.new_area),
                      illustrative=current.level.illustrative or target.level.illustrative):
        w.para("body", text)

    # Per area: current, target (new highlighted), evidence
    columns = w.labels["evidence_columns"]
    fractions = _fractions(len(columns))
    areas = {a.area_id: a for a in target.areas()} | {a.area_id: a for a in current.areas()}
    w.para("h1", w.label("areas"))
    for ch in changes:
        _area_heading(w, ch.area_title, areas.get(ch.area_id))
        if ch.new_area:
            w.rich("body", [(w.label("new_area", level=tgt_label), "label")], keep_next=True)
        w.para("h3", w.label("current_expects", level=cur_label))
        _statements(w, ch.current, ch.current_todo)
        w.para("h3", w.label("target_expects", level=tgt_label))
        if ch.target:
            _changes(w, ch, only_added=False)
        else:
            _statements(w, (), ch.target_todo)
        w.para("h3", w.label("evidence"))
        w.table(columns, [[""] * len(columns) for _ in range(w.settings.evidence_rows)], fractions,
                min_height=680)

    # Manager's summary
    w.para("h1", w.label("summary"), page_break=True)
    w.table(None, [[row, ""] for row in w.labels["summary_rows"]], [0.3, 0.7], first_column=True, min_height=900)

    values = _values(framework, target, context)
    values.update(role=f"{current.title} → {target.title}", level=f"{cur_label} → {tgt_label}", person=person,
                  title=f"{w.label('promotion_title')}: {person} · {who}, "
                        f"Level {current.level.number} → {target.level.number}")
    w.fill_header_footer(values)
    w.properties(
        target.level.source,
        title=values["title"],
        subject=f"Promotion case for {person}: {current.title} ({cur_label}) to {target.title} ({tgt_label})",
        author=framework.title,
        keywords=[framework.title, craft.title, current.specialism or "", f"Level {current.level.number}",
                  f"Level {target.level.number}", "promotion case", person],
        category="Promotion case",
        identifier=f"{current.id}->{target.level.number}",
        comments=_comments(framework, context),
    )
    return w.finish()


def _statements(w: Writer, statements: tuple[Statement, ...], todo: bool) -> None:
    if statements:
        for s in statements:
            w.para("bullet", s.text)
    elif todo:
        w.para("todo", w.label("not_defined"))
    else:
        w.para("body", w.label("no_expectations"))


def _fractions(n: int) -> list[float]:
    """Column widths of an evidence table: the first column widest, the last narrowest."""
    if n == 3:
        return [0.42, 0.36, 0.22]
    return [1 / n] * n


def _person_text(value: str, what: str) -> str:
    """A person's name as given (CSV or command line): any script, but no character Word cannot hold."""
    value = " ".join(str(value).split())
    if not value:
        raise ExportError(f"the {what}'s name is empty")
    bad = ILLEGAL_XML.search(value)
    if bad:
        raise ExportError(f"the {what}'s name {value!r} holds the character U+{ord(bad.group()):04X}, "
                          "which a Word document cannot hold; remove it")
    return value
