"""The promotion case of a promotion pack (Word): cover, how to use it, per area the
current and target expectations with what is new at the target highlighted and an evidence
table, and a closing section for the manager's summary. Written on the styling template HR
restyles in Word (`exporters.wordprocessing`), with the role descriptions' area headings
and change lists (`exporters.role_descriptions`).
"""

from __future__ import annotations

from cfexport.compare import compare, promotion_problem
from cfexport.exporters.base import Context, ExportError
from cfexport.exporters.role_descriptions import _area_heading, _changes, _comments, _statements, _values
from cfexport.exporters.word_template import ILLEGAL_XML, intro
from cfexport.exporters.wordprocessing import Writer
from cfexport.model import Framework, Role

PROMOTION_INTRODUCTION = "promotion-introduction.txt.j2"


def render_promotion_case(framework: Framework, current: Role, target: Role, person: str, manager: str | None,
                          context: Context, changes: tuple | None = None, normalise: bool = True) -> bytes:
    """The promotion case of a pack: cover, how to use it, per area the current and target
    expectations with what is new at the target highlighted and an evidence table, and a
    closing section for the manager's summary. `changes`: `compare(current, target)`, when
    the caller has it already; `normalise` as `Writer.finish` takes."""
    problem = promotion_problem(current, target)
    if problem:
        raise ExportError(problem, target.level.source)
    person = _person_text(person, "person")
    manager = _person_text(manager, "manager") if manager else ""

    w = Writer(context)
    craft = current.craft
    cur_label, tgt_label = current.level.label, target.level.label
    who = current.specialism or craft.people_name
    changes = compare(current, target) if changes is None else changes
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

    # How to use: on the cover page, which it fills
    w.para("h1", w.label("how_to_use"))
    new_count = sum(1 for ch in changes for c in ch.changes if c.kind == "new")
    reworded = sum(1 for ch in changes for c in ch.changes if c.kind == "changed")
    for text in intro(context, PROMOTION_INTRODUCTION, person=person, manager=manager, framework=framework.title,
                      craft=craft.title, the_craft=craft.the_craft, specialism=current.specialism or "",
                      current_role=current.title,
                      target_role=target.title, current_level=cur_label, target_level=tgt_label, date=date,
                      new_statements=new_count, reworded_statements=reworded,
                      new_areas=sum(1 for ch in changes if ch.new_area),
                      illustrative=current.level.illustrative or target.level.illustrative):
        w.para("body", text)

    # Per area: current, target (new highlighted), evidence. Only the areas are headings (the
    # navigation pane lists them); the parts of an area look like Heading 3 but are body text.
    columns = w.labels["evidence_columns"]
    fractions = _fractions(len(columns))
    areas = {a.area_id: a for a in target.areas()} | {a.area_id: a for a in current.areas()}
    w.para("h1", w.label("areas"), page_break=True)
    for ch in changes:
        _area_heading(w, ch.area_title, areas.get(ch.area_id))
        if ch.new_area:
            w.rich("body", [(w.label("new_area", level=tgt_label), "label")], keep_next=True)
        elif ch.now_defined:
            w.rich("body", [(w.label("now_defined", level=tgt_label), "label")], keep_next=True)
        w.para("h3", w.label("current_expects", level=cur_label), body_level=True)
        _statements(w, ch.current, ch.current_todo)
        w.para("h3", w.label("target_expects", level=tgt_label), body_level=True)
        if ch.target:
            _changes(w, ch, only_added=False)
        else:
            _statements(w, (), ch.target_todo)
        if ch.target:
            w.para("h3", w.label("evidence"), body_level=True)
            w.table(columns, [[""] * len(columns) for _ in range(w.settings.evidence_rows)], fractions,
                    min_height=680)
        else:  # nothing at the target level to show evidence for
            w.para("body", w.label("no_evidence", level=tgt_label))

    # Manager's summary: boxes to write in that fill the page; the manager's name filled in
    w.para("h1", w.label("summary"), page_break=True)
    rows = w.labels["summary_rows"]
    short = {w.label("manager"), w.label("date")}
    filled = {w.label("manager"): manager}
    w.table(None, [[row, filled.get(row, "")] for row in rows], [0.3, 0.7], first_column=True,
            heights=_summary_heights(w, [row in short for row in rows]))

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
    return w.finish(normalise)


def _summary_heights(w: Writer, short: list[bool]) -> list[int]:
    """Row heights (twips) of the manager's summary: a line for the name and the date, the rest
    of the page shared by the boxes to write in (between 25 and 50 mm each)."""
    line = 567  # 1 cm
    page = w.text_height or 14000
    spare = page - 2200 - line * sum(short)  # the heading, the table's padding, a margin
    tall = max(1417, min(2835, spare // max(1, short.count(False))))
    return [line if s else tall for s in short]


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
