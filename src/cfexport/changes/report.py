"""The changes as people read them: grouped by craft, then by role, each change as a label,
its text and the text it replaces. The markdown and Word writers both lay this out, so
they say the same; the workbook and JSON list the changes one by one instead."""

from __future__ import annotations

from dataclasses import dataclass, field

from cfexport.changes import diff as d
from cfexport.changes.diff import Change, Place
from cfexport.model import Craft, Framework

# kind -> (one, several): how the summary line counts it
NOUNS = {
    d.CRAFT_ADDED: ("craft added", "crafts added"), d.CRAFT_REMOVED: ("craft removed", "crafts removed"),
    d.CRAFT_RENAMED: ("craft renamed", "crafts renamed"),
    d.SPECIALISM_ADDED: ("specialism added", "specialisms added"),
    d.SPECIALISM_REMOVED: ("specialism removed", "specialisms removed"),
    d.SPECIALISM_RENAMED: ("specialism renamed", "specialisms renamed"),
    d.LEVEL_ADDED: ("level added", "levels added"), d.LEVEL_REMOVED: ("level removed", "levels removed"),
    d.LEVEL_RENAMED: ("level renamed", "levels renamed"),
    d.AREA_ADDED: ("area added", "areas added"), d.AREA_REMOVED: ("area removed", "areas removed"),
    d.AREA_RENAMED: ("area renamed", "areas renamed"),
    d.AREA_DEFINITION: ("area definition changed", "area definitions changed"),
    d.ADDED: ("statement added", "statements added"), d.REMOVED: ("statement removed", "statements removed"),
    d.REWORDED: ("statement reworded", "statements reworded"), d.MOVED: ("statement moved", "statements moved"),
    d.TODO_FILLED: ("TODO filled in", "TODOs filled in"), d.TODO_INTRODUCED: ("TODO introduced", "TODOs introduced"),
}


@dataclass(frozen=True)
class Item:
    """One change as a line: a label ("Reworded"), the text, and the text before (or "")."""

    label: str
    text: str
    previous: str = ""
    lines: tuple[str, ...] = ()  # several statements (a TODO filled in): one bullet each


@dataclass
class RoleSection:
    title: str  # "Senior ML Engineer"
    level: str  # "Level 7 · Senior"
    specialism: str | None
    areas: dict[str, list[Item]] = field(default_factory=dict)  # area title ("" for the level itself) -> items


@dataclass
class CraftSection:
    title: str
    items: list[Item]  # the craft's own changes: areas, levels, specialisms, the craft itself
    roles: list[RoleSection]


def summary(changes: list[Change], old_label: str, new_label: str) -> str:
    if not changes:
        return f"No changes from {old_label} to {new_label}."
    parts = [f"{n} {NOUNS[k][n != 1]}" for k, n in d.counts(changes).items()]
    return f"{len(changes)} change{'s' if len(changes) != 1 else ''} from {old_label} to {new_label}: " \
           + ", ".join(parts) + "."


def _where(p: Place) -> str:
    bits = [f"Level {p.level}" + (f" · {p.level_name}" if p.level_name else "") if p.level is not None else "",
            p.specialism or "", p.area_title or ""]
    return ", ".join(b for b in bits if b)


def item(ch: Change) -> Item:
    """A change as one line of the release note."""
    k, p = ch.kind, ch.place
    old, new = ch.old or "", ch.new or ""
    if k == d.ADDED:
        return Item("New", new)
    if k == d.REMOVED:
        return Item("Removed", old)
    if k == d.REWORDED:
        return Item("Reworded", new, old)
    if k == d.MOVED:
        return Item(f"Moved here from {_where(ch.old_place)}" if ch.old_place else "Moved", new,
                    old if old != new else "")
    if k == d.TODO_FILLED:
        return Item("Now defined (was TODO)", "", "", tuple(new.split("\n")))
    if k == d.TODO_INTRODUCED:
        return Item("Now TODO: not yet defined", "", old.replace("\n", " "))
    if k == d.LEVEL_RENAMED:
        return Item("Level renamed", f"{old} → {new}")
    if k in (d.AREA_RENAMED, d.CRAFT_RENAMED, d.SPECIALISM_RENAMED):
        return Item(NOUNS[k][0].capitalize(), f"{old} → {new}")
    if k == d.AREA_DEFINITION:
        return Item(f"Definition of {p.area_title} changed", new, old)
    if k in (d.AREA_ADDED, d.AREA_REMOVED):
        scope = f" ({p.specialism})" if p.specialism else ""
        return Item(NOUNS[k][0].capitalize(), f"{new or old}{scope}")
    if k in (d.LEVEL_ADDED, d.LEVEL_REMOVED):
        return Item(NOUNS[k][0].capitalize(), new or old)
    return Item(NOUNS[k][0].capitalize(), new or old)


def _role_title(craft: Craft | None, p: Place, specialism: str | None) -> str:
    who = specialism or (craft.people_name if craft else p.craft_title)
    return f"{p.level_name or ''} {who}".strip()


def _tracks(craft: Craft | None, specialism: str | None) -> list[str | None]:
    if specialism is not None:
        return [specialism]
    return list(craft.tracks()) if craft else [None]


def sections(changes: list[Change], old: Framework, new: Framework) -> list[CraftSection]:
    """The changes per craft: the craft's own, then one section per role that changed (roles in
    the craft's order: specialism by specialism, level by level)."""
    out: list[CraftSection] = []
    by_craft: dict[str, CraftSection] = {}
    roles: dict[str, dict[tuple, RoleSection]] = {}
    for ch in changes:
        p = ch.place
        craft = next((c for c in new.crafts if c.id == p.craft), None) or \
            next((c for c in old.crafts if c.id == p.craft), None)
        sec = by_craft.get(p.craft)
        if sec is None:
            sec = by_craft[p.craft] = CraftSection(p.craft_title, [], [])
            roles[p.craft] = {}
            out.append(sec)
        per_role = ch.kind in d.STATEMENT_KINDS or ch.kind == d.LEVEL_RENAMED
        if not per_role:
            sec.items.append(item(ch))
            continue
        places = [(p, item(ch))]
        if ch.kind == d.MOVED and ch.old_place is not None and \
                (ch.old_place.level, ch.old_place.specialism) != (p.level, p.specialism):
            places.append((ch.old_place, Item(f"Moved to {_where(p)}", ch.new or "")))
        for place, it in places:
            for spec in _tracks(craft, place.specialism):
                key = (place.level, spec)
                role = roles[p.craft].get(key)
                if role is None:
                    role = roles[p.craft][key] = RoleSection(
                        _role_title(craft, place, spec),
                        f"Level {place.level}" + (f" · {place.level_name}" if place.level_name else ""), spec)
                role.areas.setdefault(place.area_title or "", []).append(it)
    for craft_id, sec in by_craft.items():
        craft = next((c for c in new.crafts if c.id == craft_id), None)
        order = [None] + list(craft.specialisms) if craft else [None]
        sec.roles = [r for _, r in sorted(roles[craft_id].items(), key=lambda kv: (
            order.index(kv[0][1]) if kv[0][1] in order else len(order), kv[0][0] or 0))]
    return out


def plural(title: str) -> str:
    """"Senior ML Engineer" -> "Senior ML Engineers"; a title that does not end in a person
    ("Head of Data") is left as it is."""
    last = title.rsplit(" ", 1)[-1]
    if last.lower().endswith(("er", "or", "ist", "ant", "ent", "ian", "ect", "ead", "ate", "ee")):
        return title + "s"
    return title
