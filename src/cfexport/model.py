"""The canonical framework model: plain, immutable data that every exporter reads.

Readers build it; exporters only read it. Nothing here knows about markdown, Word,
Excel or PDF. Every node carries a `Source` so messages can name file and line.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Iterator


def with_the(title: str) -> str:
    """A title in a sentence, after "in" or "of": "the Vaarst Career Framework", and "The Acme
    Framework" as it is (never "the The Acme Framework")."""
    return title if title[:4].casefold() == "the " else f"the {title}"


@dataclass(frozen=True, slots=True)
class Source:
    """Where a node was written: a path relative to the framework folder, and a 1-based line."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class Statement:
    """One sentence of a level page's Description cell (cells are split on `<br>`)."""

    text: str
    source: Source


@dataclass(frozen=True, slots=True)
class Area:
    """A competency area, defined under its own heading on the craft page."""

    id: str  # the heading's anchor on the craft page, e.g. "ml-ops"
    title: str
    definition: str
    specialism: str | None  # None: shared by the craft; else the specialism's name
    source: Source


@dataclass(frozen=True, slots=True)
class Expectation:
    """What one level expects in one area, for the whole craft or one specialism.

    `todo` is the explicit "not yet defined" marker (a `TODO` cell): it has no statements.
    """

    area_id: str
    area_title: str
    specialism: str | None
    statements: tuple[Statement, ...]
    todo: bool
    source: Source


@dataclass(frozen=True, slots=True)
class Level:
    """One level page of a craft."""

    number: int
    name: str  # "Junior" from the title "Level 5 (Junior)"
    title: str  # the page title as written
    heading: str  # the page's H1, e.g. "Junior ML and Edge ML Engineer - Level 5"
    permalink: str | None
    illustrative: bool  # text the company is expected to replace
    expectations: tuple[Expectation, ...]  # page order
    source: Source

    @property
    def label(self) -> str:
        return f"Level {self.number} · {self.name}" if self.name else f"Level {self.number}"


@dataclass(frozen=True, slots=True)
class Craft:
    """A craft: its areas in craft-page order, its specialisms, its levels in order."""

    id: str
    title: str
    description: str
    permalink: str | None
    areas: tuple[Area, ...]
    specialisms: tuple[str, ...]
    specialism_ids: tuple[str, ...]  # one per specialism, unique within the craft
    levels: tuple[Level, ...]
    source: Source

    @property
    def people_name(self) -> str:
        """The craft as a job title: "ML and Edge ML Engineer" for "... Engineer Craft"."""
        name = self.title
        return name[: -len(" Craft")] if name.endswith(" Craft") else name

    @property
    def the_craft(self) -> str:
        """The craft in a sentence: "the ML and Edge ML Engineer Craft" where the title says it is a
        craft, "the Data Engineering craft" where it does not ("in the Data Engineering of the ..."
        would not be English)."""
        words = self.title.split()
        return with_the(self.title if words and words[-1].casefold() == "craft" else f"{self.title} craft")

    def level(self, number: int) -> Level | None:
        return next((lv for lv in self.levels if lv.number == number), None)

    def area(self, area_id: str) -> Area | None:
        return next((a for a in self.areas if a.id == area_id), None)

    def tracks(self) -> tuple[str | None, ...]:
        """The specialisms a role can have; `(None,)` for a craft without specialisms."""
        return self.specialisms or (None,)

    def track_id(self, specialism: str | None) -> str:
        """The id a role family is known by: `craft` or `craft/specialism`."""
        if specialism is None:
            return self.id
        return f"{self.id}/{self.specialism_ids[self.specialisms.index(specialism)]}"

    def roles(self) -> Iterator[Role]:
        for specialism in self.tracks():
            for level in self.levels:
                yield Role(self, specialism, level)


@dataclass(frozen=True, slots=True)
class Framework:
    """The whole framework: the index page and its crafts."""

    title: str
    description: str
    permalink: str | None
    crafts: tuple[Craft, ...]
    source: Source
    version: str | None = None

    def roles(self) -> Iterator[Role]:
        for craft in self.crafts:
            yield from craft.roles()

    def statements(self) -> Iterator[Statement]:
        for craft in self.crafts:
            for level in craft.levels:
                for exp in level.expectations:
                    yield from exp.statements

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class AreaExpectations:
    """One area of a role: the area (None when the craft page lacks it) and what the level asks."""

    area_id: str
    area_title: str
    area: Area | None
    expectations: tuple[Expectation, ...]

    @property
    def statements(self) -> tuple[Statement, ...]:
        return tuple(s for e in self.expectations for s in e.statements)

    @property
    def todo(self) -> bool:
        return any(e.todo for e in self.expectations) and not self.statements


@dataclass(frozen=True, slots=True)
class Role:
    """Craft + specialism + level: the shared expectations plus that specialism's."""

    craft: Craft
    specialism: str | None
    level: Level

    @property
    def id(self) -> str:
        return f"{self.track_id}/{self.level.number}"

    @property
    def track_id(self) -> str:
        return self.craft.track_id(self.specialism)

    @property
    def title(self) -> str:
        """As people say it: "Junior ML Engineer"."""
        who = self.specialism or self.craft.people_name
        return f"{self.level.name} {who}".strip()

    def expectations(self) -> tuple[Expectation, ...]:
        return tuple(
            e for e in self.level.expectations if e.specialism is None or e.specialism == self.specialism
        )

    def areas(self) -> tuple[AreaExpectations, ...]:
        """The role's expectations grouped by area, in the craft page's order.

        Every area of the craft that applies to the role is there, even one the level
        leaves out (with no expectations). Areas the craft page does not define (a broken link) follow, in page order, so
        nothing the level page says is lost.
        """
        by_area: dict[str, list[Expectation]] = {}
        titles: dict[str, str] = {}
        for e in self.expectations():
            by_area.setdefault(e.area_id, []).append(e)
            titles.setdefault(e.area_id, e.area_title)
        out = []
        for area in self.craft.areas:
            if area.id in by_area or area.specialism in (None, self.specialism):
                out.append(AreaExpectations(area.id, area.title, area, tuple(by_area.pop(area.id, ()))))
        for area_id, exps in by_area.items():
            out.append(AreaExpectations(area_id, titles[area_id], None, tuple(exps)))
        return tuple(out)


@dataclass(frozen=True, slots=True)
class Problem:
    """A validation finding: an error stops a build, a warning does not (unless --strict)."""

    severity: str  # "error" | "warning"
    source: Source
    message: str
    code: str | None = None  # the kind of problem, for `--allow` (e.g. "todo": a TODO cell); None: no kind

    def __str__(self) -> str:
        return f"{self.source}: {self.severity}: {self.message}"


@dataclass(frozen=True, slots=True)
class ReadResult:
    """What a reader returns: the model (None when the pages cannot make one) and every finding."""

    framework: Framework | None
    problems: tuple[Problem, ...] = field(default_factory=tuple)

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")
