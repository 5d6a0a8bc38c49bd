"""What changes from one level of a role to another: the one comparison that role
descriptions ("what changes at the next level") and promotion packs both use."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from cfexport.model import Area, Role, Statement

# Two statements this alike are one statement reworded, not a new one.
SIMILAR = 0.6


@dataclass(frozen=True, slots=True)
class StatementChange:
    """A statement of the target level: `same` as before, `new`, or `changed` wording of `previous`."""

    kind: str  # "same" | "new" | "changed"
    statement: Statement
    previous: Statement | None = None


@dataclass(frozen=True, slots=True)
class AreaChange:
    """One area from the current level to the target level."""

    area_id: str
    area_title: str
    area: Area | None
    current: tuple[Statement, ...]
    target: tuple[Statement, ...]
    current_todo: bool
    target_todo: bool
    changes: tuple[StatementChange, ...]  # one per target statement, in order
    dropped: tuple[Statement, ...]  # current statements the target no longer says

    @property
    def new_area(self) -> bool:
        """The target expects something here and the current level did not (nor marked it TODO)."""
        return bool(self.target) and not self.current and not self.current_todo

    @property
    def now_defined(self) -> bool:
        """The current level had the area as TODO (not yet written) and the target defines it."""
        return bool(self.target) and not self.current and self.current_todo

    @property
    def added(self) -> tuple[StatementChange, ...]:
        """What the target expects that the current level does not (new or reworded)."""
        return tuple(c for c in self.changes if c.kind != "same")

    @property
    def differs(self) -> bool:
        return bool(self.added) or bool(self.dropped) or self.current_todo != self.target_todo


def comparable(text: str) -> str:
    """A statement as compared: white space folded, case ignored."""
    return " ".join(text.split()).casefold()


def similarity(a: list[str], b: list[str]) -> float:
    """How alike two statements are, word by word (0..1). The cheap upper bounds come first:
    most pairs are plainly different, and a character-level comparison of long statements
    is quadratic."""
    matcher = difflib.SequenceMatcher(None, a, b)
    if matcher.real_quick_ratio() < SIMILAR or matcher.quick_ratio() < SIMILAR:
        return 0.0
    return matcher.ratio()


def match_statements(current: tuple[Statement, ...], target: tuple[Statement, ...]):
    """Pair each target statement with the current one it repeats or rewords, if any.

    Word-for-word repeats are paired first, over the whole area, so that a rewording can
    never take the statement another target statement repeats; then the most alike of
    what is left are paired, best pair first."""
    pairs: dict[int, tuple[str, int]] = {}  # target index -> (kind, current index)
    free = set(range(len(current)))
    for t, stmt in enumerate(target):
        same = next((c for c in sorted(free) if comparable(current[c].text) == comparable(stmt.text)), None)
        if same is not None:
            free.discard(same)
            pairs[t] = ("same", same)
    scored = sorted(
        ((-score, t, c) for t in range(len(target)) if t not in pairs for c in free
         if (score := similarity(comparable(current[c].text).split(), comparable(target[t].text).split())) >= SIMILAR),
    )
    for _, t, c in scored:
        if t not in pairs and c in free:
            free.discard(c)
            pairs[t] = ("changed", c)
    changes = tuple(
        StatementChange(pairs[t][0], stmt, current[pairs[t][1]]) if t in pairs else StatementChange("new", stmt)
        for t, stmt in enumerate(target)
    )
    return changes, tuple(current[c] for c in sorted(free))


def compare(current: Role, target: Role) -> tuple[AreaChange, ...]:
    """Area by area, in the craft page's order, what `target` expects compared with `current`."""
    before = {a.area_id: a for a in current.areas()}
    out = []
    for area in target.areas():
        prev = before.pop(area.area_id, None)
        cur = prev.statements if prev else ()
        changes, dropped = match_statements(cur, area.statements)
        out.append(
            AreaChange(
                area.area_id, area.area_title, area.area, cur, area.statements,
                bool(prev and prev.todo), area.todo, changes, dropped,
            )
        )
    for prev in before.values():  # areas only the current level has
        out.append(AreaChange(prev.area_id, prev.area_title, prev.area, prev.statements, (),
                              prev.todo, False, (), prev.statements))
    return tuple(out)


def promotion_problem(current: Role, target: Role) -> str | None:
    """Why `current` -> `target` is not a promotion (None when it is): two levels of one role,
    the target above the current one. Packs check it with friendlier words first."""
    if current.craft.id != target.craft.id or current.specialism != target.specialism:
        return f"a promotion compares two levels of one role, not {current.id} and {target.id}"
    if target.level.number <= current.level.number:
        return f"the target level ({target.level.number}) must be above the current level ({current.level.number})"
    return None


def next_role(role: Role) -> Role | None:
    """The same craft and specialism one level up, or None at the top."""
    levels = role.craft.levels
    i = levels.index(role.level)
    return Role(role.craft, role.specialism, levels[i + 1]) if i + 1 < len(levels) else None
