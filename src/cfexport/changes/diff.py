"""What changed from one framework model to another, as a list of `Change`: pure, no I/O.

Both sides are models read by the same reader, so moved lines, re-wrapped cells, link
spelling and white space never show. Things are paired before they are compared:
crafts by id (else by title, else by shared areas), specialisms by name (else by their
areas), areas by id (a renamed heading changes its id: else by definition, else by the
statements under them), levels by number. Statements are paired within one level's row
of an area with `compare`'s matching (repeats first, then rewordings, most alike first),
and what is left over in a craft is paired across rows: the same words elsewhere are a
move; like words are a move in the same level or the same area only.

Added or removed crafts, specialisms and levels are one change each (their statements are
not listed); statements of an added or removed area are, since they change existing roles.
"""

from __future__ import annotations

from dataclasses import dataclass

from cfexport import ids
from cfexport.compare import SIMILAR, comparable, match_statements, similarity
from cfexport.model import Craft, Expectation, Framework, Level, Source

CRAFT_ADDED, CRAFT_REMOVED, CRAFT_RENAMED = "craft-added", "craft-removed", "craft-renamed"
SPECIALISM_ADDED, SPECIALISM_REMOVED, SPECIALISM_RENAMED = "specialism-added", "specialism-removed", "specialism-renamed"
LEVEL_ADDED, LEVEL_REMOVED, LEVEL_RENAMED = "level-added", "level-removed", "level-renamed"
AREA_ADDED, AREA_REMOVED, AREA_RENAMED = "area-added", "area-removed", "area-renamed"
AREA_DEFINITION = "area-definition-changed"
ADDED, REMOVED, REWORDED, MOVED = "statement-added", "statement-removed", "statement-reworded", "statement-moved"
TODO_FILLED, TODO_INTRODUCED = "todo-filled", "todo-introduced"

KINDS = (CRAFT_ADDED, CRAFT_REMOVED, CRAFT_RENAMED, SPECIALISM_ADDED, SPECIALISM_REMOVED, SPECIALISM_RENAMED,
         LEVEL_ADDED, LEVEL_REMOVED, LEVEL_RENAMED, AREA_ADDED, AREA_REMOVED, AREA_RENAMED, AREA_DEFINITION,
         ADDED, REMOVED, REWORDED, MOVED, TODO_FILLED, TODO_INTRODUCED)
STATEMENT_KINDS = (ADDED, REMOVED, REWORDED, MOVED, TODO_FILLED, TODO_INTRODUCED)


@dataclass(frozen=True, slots=True)
class Place:
    """Where a change is: a craft, and as far down as the change goes."""

    craft: str  # craft id
    craft_title: str
    specialism: str | None = None  # None: shared by the craft (or the whole craft)
    level: int | None = None
    level_name: str | None = None
    area: str | None = None  # area id
    area_title: str | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """One change. `place` is where it is in the new version (the old one for a removal);
    `old_place` is where it was, for a move. Texts are None where a side has none."""

    kind: str
    place: Place
    old: str | None = None
    new: str | None = None
    old_source: Source | None = None
    new_source: Source | None = None
    old_id: str | None = None
    new_id: str | None = None
    old_place: Place | None = None


def _alike(a: str, b: str) -> float:
    return similarity(comparable(a).split(), comparable(b).split()) if a.strip() and b.strip() else 0.0


def _pair(old: list, new: list, *tests) -> tuple[dict[int, int], list[int], list[int]]:
    """Pair items of `old` and `new` (indexes): each test is f(o, n) -> score or None, tried in turn
    on what is still unpaired, best score first."""
    pairs: dict[int, int] = {}
    for test in tests:
        scored = sorted((-s, i, j) for i, o in enumerate(old) if i not in pairs
                        for j, n in enumerate(new) if j not in pairs.values() and (s := test(o, n)) is not None)
        for _, i, j in scored:
            if i not in pairs and j not in pairs.values():
                pairs[i] = j
    return (pairs, [i for i in range(len(old)) if i not in pairs],
            [j for j in range(len(new)) if j not in pairs.values()])


def _overlap(a: set, b: set) -> float | None:
    if not a or not b:
        return None
    score = len(a & b) / min(len(a), len(b))
    return score if score >= 0.5 else None


def _craft_statements(craft: Craft) -> set[str]:
    return {comparable(s.text) for lv in craft.levels for e in lv.expectations for s in e.statements}


def _area_statements(craft: Craft, area_id: str) -> set[str]:
    return {comparable(s.text) for lv in craft.levels for e in lv.expectations if e.area_id == area_id
            for s in e.statements}


class _Differ:
    def __init__(self, old: Framework, new: Framework):
        self.old, self.new = old, new
        self.out: list[Change] = []

    def run(self) -> list[Change]:
        olds, news = list(self.old.crafts), list(self.new.crafts)
        pairs, gone, came = _pair(
            olds, news,
            lambda o, n: 1.0 if o.id == n.id else None,
            lambda o, n: 1.0 if ids.words(o.title) == ids.words(n.title) else None,
            lambda o, n: _overlap({a.id for a in o.areas}, {a.id for a in n.areas}),
            lambda o, n: _overlap(_craft_statements(o), _craft_statements(n)),
        )
        for j, n in enumerate(news):
            i = next((i for i, jj in pairs.items() if jj == j), None)
            if i is None:
                self.out.append(Change(CRAFT_ADDED, Place(n.id, n.title), new=n.title, new_source=n.source))
            else:
                self.craft(olds[i], n)
        for i in gone:
            o = olds[i]
            self.out.append(Change(CRAFT_REMOVED, Place(o.id, o.title), old=o.title, old_source=o.source))
        return self.out

    # -- one craft -------------------------------------------------------------------------
    def craft(self, oc: Craft, nc: Craft) -> None:
        if ids.words(oc.title) != ids.words(nc.title):
            self.out.append(Change(CRAFT_RENAMED, Place(nc.id, nc.title), old=oc.title, new=nc.title,
                                   old_source=oc.source, new_source=nc.source))
        spec_map = self.specialisms(oc, nc)
        area_map = self.areas(oc, nc, spec_map)
        place = lambda **kw: Place(nc.id, nc.title, **kw)
        removed: list[tuple] = []  # (Place, Statement, id)
        added: list[tuple] = []
        for number in sorted({lv.number for lv in oc.levels} | {lv.number for lv in nc.levels}):
            ol, nl = oc.level(number), nc.level(number)
            if ol is None:
                self.out.append(Change(LEVEL_ADDED, place(level=number, level_name=nl.name), new=nl.title,
                                       new_source=nl.source))
            elif nl is None:
                self.out.append(Change(LEVEL_REMOVED, place(level=number, level_name=ol.name), old=ol.title,
                                       old_source=ol.source))
            else:
                if ids.words(ol.name) != ids.words(nl.name):
                    self.out.append(Change(LEVEL_RENAMED, place(level=number, level_name=nl.name), old=ol.name,
                                           new=nl.name, old_source=ol.source, new_source=nl.source))
                self.level(oc, nc, ol, nl, spec_map, area_map, removed, added)
        self.moves(nc, removed, added)

    def specialisms(self, oc: Craft, nc: Craft) -> dict[str, str | None]:
        """Old specialism name -> new name (None: removed)."""
        def areas_of(craft: Craft, spec: str) -> set[str]:
            return {a.id for a in craft.areas if a.specialism == spec}

        olds, news = list(oc.specialisms), list(nc.specialisms)
        pairs, gone, came = _pair(olds, news,
                                  lambda o, n: 1.0 if o == n else None,
                                  lambda o, n: _overlap(areas_of(oc, o), areas_of(nc, n)))
        if len(gone) == 1 and len(came) == 1:  # one name changed, nothing else: the same specialism
            pairs[gone[0]] = came[0]
            gone, came = [], []
        spec_map: dict[str, str | None] = {}
        for i, j in pairs.items():
            spec_map[olds[i]] = news[j]
            if olds[i] != news[j]:
                self.out.append(Change(SPECIALISM_RENAMED, Place(nc.id, nc.title, specialism=news[j]),
                                       old=olds[i], new=news[j], old_source=oc.source, new_source=nc.source))
        for j in came:
            self.out.append(Change(SPECIALISM_ADDED, Place(nc.id, nc.title, specialism=news[j]), new=news[j],
                                   new_source=nc.source))
        for i in gone:
            spec_map[olds[i]] = None
            self.out.append(Change(SPECIALISM_REMOVED, Place(nc.id, nc.title, specialism=olds[i]), old=olds[i],
                                   old_source=oc.source))
        return spec_map

    def areas(self, oc: Craft, nc: Craft, spec_map: dict) -> dict[str, str | None]:
        """Old area id -> new area id (None: removed)."""
        olds, news = list(oc.areas), list(nc.areas)
        pairs, gone, came = _pair(
            olds, news,
            lambda o, n: 1.0 if o.id == n.id else None,
            lambda o, n: s if (s := _alike(o.definition, n.definition)) >= SIMILAR else None,
            lambda o, n: _overlap(_area_statements(oc, o.id), _area_statements(nc, n.id)),
        )
        area_map: dict[str, str | None] = {}
        for i, j in sorted(pairs.items(), key=lambda p: p[1]):
            o, n = olds[i], news[j]
            area_map[o.id] = n.id
            at = Place(nc.id, nc.title, specialism=n.specialism, area=n.id, area_title=n.title)
            if ids.words(o.title) != ids.words(n.title):
                self.out.append(Change(AREA_RENAMED, at, old=o.title, new=n.title, old_source=o.source,
                                       new_source=n.source))
            if ids.words(o.definition) != ids.words(n.definition):
                self.out.append(Change(AREA_DEFINITION, at, old=o.definition, new=n.definition,
                                       old_source=o.source, new_source=n.source))
        for j in came:
            n = news[j]
            self.out.append(Change(AREA_ADDED, Place(nc.id, nc.title, specialism=n.specialism, area=n.id,
                                                     area_title=n.title), new=n.title, new_source=n.source))
        for i in gone:
            o = olds[i]
            area_map[o.id] = None
            self.out.append(Change(AREA_REMOVED, Place(nc.id, nc.title, specialism=spec_map.get(o.specialism,
                                                                                                o.specialism),
                                                       area=o.id, area_title=o.title),
                                   old=o.title, old_source=o.source))
        return area_map

    # -- one level ---------------------------------------------------------------------------
    def level(self, oc: Craft, nc: Craft, ol: Level, nl: Level, spec_map: dict, area_map: dict,
              removed: list, added: list) -> None:
        def key_old(e: Expectation):
            spec = e.specialism if e.specialism not in spec_map else spec_map[e.specialism]
            if e.specialism is not None and spec is None:
                return None  # a removed specialism: one change already says so
            return spec, area_map.get(e.area_id) or e.area_id

        def key_new(e: Expectation):
            if e.specialism is not None and e.specialism in nc.specialisms \
                    and e.specialism not in spec_map.values():
                return None  # an added specialism
            return e.specialism, e.area_id

        old_rows = {k: (e, ids.statement_ids(oc, ol, e)) for e in ol.expectations if (k := key_old(e))}
        new_rows = {k: (e, ids.statement_ids(nc, nl, e)) for e in nl.expectations if (k := key_new(e))}
        keys = list(new_rows) + [k for k in old_rows if k not in new_rows]
        for spec, area_id in keys:
            o, oids = old_rows.get((spec, area_id), (None, ()))
            n, nids = new_rows.get((spec, area_id), (None, ()))
            title = n.area_title if n else o.area_title
            area = nc.area(area_id)
            at = Place(nc.id, nc.title, spec, nl.number, nl.name, area_id, area.title if area else title)
            if o is not None and o.todo and n is not None and n.statements:
                self.out.append(Change(TODO_FILLED, at, new="\n".join(s.text for s in n.statements),
                                       old_source=o.source, new_source=n.source))
                continue
            if n is not None and n.todo and not (o is not None and o.todo):
                self.out.append(Change(TODO_INTRODUCED, at, old="\n".join(s.text for s in o.statements) if o else None,
                                       old_source=o.source if o else None, new_source=n.source))
                continue
            ost = o.statements if o else ()
            nst = n.statements if n else ()
            changes, dropped = match_statements(ost, nst)
            where_old = {id(s): sid for s, sid in zip(ost, oids)}
            for st, sid, ch in zip(nst, nids, changes):
                if ch.kind == "new":
                    added.append((at, st, sid))
                elif ch.kind == "changed" or ids.words(ch.previous.text) != ids.words(st.text):
                    self.out.append(Change(REWORDED, at, old=ch.previous.text, new=st.text,
                                           old_source=ch.previous.source, new_source=st.source,
                                           old_id=where_old[id(ch.previous)], new_id=sid))
            old_at = Place(nc.id, nc.title, spec, ol.number, ol.name, area_id, at.area_title)
            removed += [(old_at, st, where_old[id(st)]) for st in dropped]

    def moves(self, nc: Craft, removed: list, added: list) -> None:
        """Pair what one row lost with what another gained: the same words anywhere in the craft,
        like words in the same level or the same area; the rest is added or removed."""
        def same(r, a):
            return 1.0 - _distance(r[0], a[0]) / 100 if comparable(r[1].text) == comparable(a[1].text) else None

        def like(r, a):
            if r[0].level != a[0].level and r[0].area != a[0].area:
                return None
            s = _alike(r[1].text, a[1].text)
            return s if s >= SIMILAR else None

        pairs, gone, came = _pair(removed, added, same, like)
        for i, j in pairs.items():
            (op, ost, oid), (np_, nst, nid) = removed[i], added[j]
            self.out.append(Change(MOVED, np_, old=ost.text, new=nst.text, old_source=ost.source,
                                   new_source=nst.source, old_id=oid, new_id=nid, old_place=op))
        for j in came:
            p, st, sid = added[j]
            self.out.append(Change(ADDED, p, new=st.text, new_source=st.source, new_id=sid))
        for i in gone:
            p, st, sid = removed[i]
            self.out.append(Change(REMOVED, p, old=st.text, old_source=st.source, old_id=sid))


def _distance(a: Place, b: Place) -> int:
    """How far apart two places are, for preferring the nearest of several identical statements."""
    return min(99, abs((a.level or 0) - (b.level or 0)) * 3 + (a.area != b.area) + (a.specialism != b.specialism))


def diff(old: Framework, new: Framework) -> list[Change]:
    """Every change from `old` to `new`, in a stable order: per craft (the new version's
    order), the craft's own changes first, then statement changes by level, specialism and area."""
    changes = _Differ(old, new).run()
    crafts = [c.id for c in new.crafts] + [c.id for c in old.crafts]

    def order(ch: Change):
        craft = next((c for c in new.crafts if c.id == ch.place.craft), None)
        areas = [a.id for a in craft.areas] if craft else []
        tracks = list(craft.specialisms) if craft else []
        p = ch.place
        return (crafts.index(p.craft) if p.craft in crafts else len(crafts),
                ch.kind in STATEMENT_KINDS, p.level if p.level is not None else -1,
                -1 if p.specialism is None else tracks.index(p.specialism) if p.specialism in tracks else len(tracks),
                areas.index(p.area) if p.area in areas else len(areas) if p.area else -1,
                KINDS.index(ch.kind), (ch.new_source or ch.old_source).line if (ch.new_source or ch.old_source) else 0)

    return sorted(changes, key=order)


def counts(changes: list[Change]) -> dict[str, int]:
    """How many of each kind, in KINDS order, kinds that did not happen left out."""
    out = {k: 0 for k in KINDS}
    for ch in changes:
        out[ch.kind] += 1
    return {k: n for k, n in out.items() if n}

