"""The `ft-yaml` reader: the Financial Times' engineering-progression data layout
(https://github.com/Financial-Times/engineering-progression, `data/job-families/*.yml`,
checked against the shape of its `test/schema/job-family.json`).

A job family is a craft: its `themes` are the areas, its `levels` the levels (in file order,
numbered from 1), its `competencies` the statements of a level in a theme. Consecutive levels
that differ only in a bracketed track, "Senior Engineer 2 (Individual Contributor)" and
"Senior Engineer 2 (People Manager)", are one level that forks: each track is a specialism,
and the competencies of each are that specialism's. A competency's `summary` is markdown (the
FT site runs it through `markdownify`): each paragraph or list item is one statement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar

from markdown_it import MarkdownIt
from yaml.nodes import Node, ScalarNode

from cfexport import frontmatter
from cfexport.model import Area, Craft, Expectation, Framework, Level, ReadResult, Source, Statement
from cfexport.readers.assemble import (MAX_FILE, Findings, check_coverage, folder_title, paragraphs, read_text,
                                       unique_ids)
from cfexport.readers.yamltree import ShapeError, Tree, yaml12_tabs
from cfexport.slugs import slugify

FAMILIES = "job-families"
_SUFFIXES = (".yml", ".yaml")
_FORK = re.compile(r"^(.*?)\s*\(([^()]+)\)\s*$")
_TOP_KEYS = {"competencies", "googleSheetId", "isLegacy", "summary", "levels", "name", "themes"}
_COMPETENCY_KEYS = {"id", "examples", "level", "proficiency", "summary", "supportingUrls", "theme"}
_PROFICIENCY = ("Awareness", "Foundational", "Working knowledge", "Practitioner", "Expert")
_HEAD_KEY = re.compile(r"^(competencies|levels|themes):", re.M)


def _family_files(path: Path) -> tuple[Path, list[Path]]:
    """(the folder sources are relative to, the job-family files) for a file or folder."""
    if path.is_file():
        return path.parent, [path]
    for folder in (path / FAMILIES, path / "data" / FAMILIES, path):
        if folder.is_dir():
            files = sorted(p for p in folder.iterdir() if p.suffix in _SUFFIXES and p.is_file())
            if files:
                return path, files
    return path, []


def _looks_like_family(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(256 * 1024).decode("utf-8", "replace")
    except OSError:
        return False
    return len(set(_HEAD_KEY.findall(head))) == 3


class FtYamlReader:
    name: ClassVar[str] = "ft-yaml"
    looks_for: ClassVar[str] = ("Financial Times engineering-progression data: a folder holding job-families/*.yml "
                                "(or data/job-families/), or one job-family .yml file with name, levels, themes "
                                "and competencies")

    def recognise(self, path: Path) -> int:
        if path.is_file():
            return 2 if path.suffix in _SUFFIXES and _looks_like_family(path) else 0
        if not path.is_dir():
            return 0
        _, files = _family_files(path)
        return 2 if files and any(_looks_like_family(f) for f in files[:5]) else 0

    def read(self, path: Path, root: str | None = None) -> ReadResult:
        findings = Findings()
        path = Path(path)
        if not path.exists():
            findings.error(Source(str(path), 0), "not found; pass --framework with a job-families folder or file")
            return ReadResult(None, tuple(findings.problems))
        base, files = _family_files(path)
        if not files:
            findings.error(Source(str(path), 0), f"no job-family files: expected {FAMILIES}/*.yml")
            return ReadResult(None, tuple(findings.problems))
        if root is not None:
            findings.warn(Source(str(path), 0), "--root picks a framework in a Jekyll site; ignored for ft-yaml")
        families = []
        for file in files:
            rel = file.relative_to(base).as_posix()
            family = _Family(rel, findings).read(file)
            if family is not None:
                families.append(family)
        families.sort(key=lambda f: f[0])  # current job families first, then the legacy ones; file order within
        crafts = [craft for _, craft in families]
        ids = unique_ids([c.id for c in crafts], [c.source for c in crafts], "craft", findings)
        crafts = [_with_id(c, i) for c, i in zip(crafts, ids)]
        if path.is_file() and crafts:
            title, description, source = crafts[0].title, crafts[0].description, crafts[0].source
        else:
            title, description, source = _folder_title(path), "", Source(files[0].relative_to(base).as_posix(), 1)
        framework = Framework(title=title, description=description, permalink=None, crafts=tuple(crafts),
                              source=source)
        return ReadResult(framework if crafts else None, tuple(findings.problems))


def _with_id(craft: Craft, craft_id: str) -> Craft:
    return replace(craft, id=craft_id)


def _folder_title(path: Path) -> str:
    """"engineering-progression/data" -> "Engineering Progression": the repository's name."""
    return folder_title(path, ("data", FAMILIES))


@dataclass
class _Level:
    number: int
    name: str
    tracks: dict[str, str | None] = field(default_factory=dict)  # level id -> specialism (None: not forked)
    line: int = 1


class _Family:
    """One job-family file -> (sort key, Craft), or None when it cannot make one."""

    def __init__(self, rel: str, findings: Findings):
        self.rel = rel
        self.findings = findings
        self.tree = Tree(1)
        self.md = MarkdownIt("commonmark")

    def src(self, line: int) -> Source:
        return Source(self.rel, line)

    def error(self, exc: ShapeError) -> None:
        self.findings.error(self.src(exc.line), exc.message)

    def read(self, file: Path):
        text = read_text(file, self.rel, self.findings)
        if text is None:
            return None
        try:
            root = frontmatter.compose(yaml12_tabs(text), 1, "the job family", limit=MAX_FILE)
            if root is None:
                raise ShapeError(1, "the file is empty; a job family needs name, levels, themes and competencies")
            return self.family(root)
        except frontmatter.YamlError as exc:
            self.findings.error(self.src(max(exc.line, 1)), exc.message)
        except ShapeError as exc:
            self.error(exc)
        return None

    def family(self, root: Node):
        t = self.tree
        top = t.mapping(root, "a job family")
        for key, (key_node, _) in top.items():
            if key not in _TOP_KEYS:
                self.findings.warn(self.src(t.line(key_node)), f"'{key}' is not a job-family field of the FT "
                                   f"schema ({', '.join(sorted(_TOP_KEYS))}); ignored")
        for key in ("name", "levels", "themes", "competencies"):
            if key not in top:
                raise ShapeError(1, f"a job family needs '{key}:' (the FT schema requires name, summary, "
                                    "googleSheetId, levels, themes and competencies)")
        if "summary" not in top:
            self.findings.warn(self.src(1), "no 'summary:' (the FT schema requires one)")
        name_node = t.get(top, "name")
        name = " ".join(t.text(name_node, "name").split())
        if len(name) < 2:
            raise t.fail(name_node, "name must be at least 2 characters")
        legacy = frontmatter.flag(t.text(t.get(top, "isLegacy"), "isLegacy") or "false")
        if legacy is None:
            raise t.fail(t.get(top, "isLegacy"), "isLegacy must be true or false")
        levels, level_of = self.levels(t.get(top, "levels"))
        areas = self.themes(t.get(top, "themes"))
        specialisms = list(dict.fromkeys(s for lv in levels for s in lv.tracks.values() if s))
        found = self.competencies(t.get(top, "competencies"), level_of, {a.id for a in areas})
        built = []
        for lv in levels:
            expectations = []
            for spec in [None, *specialisms]:
                for area in areas:
                    statements, line = found.get((lv.number, spec, area.id), ((), 0))
                    if line:
                        expectations.append(Expectation(area.id, area.title, spec, statements, False,
                                                        self.src(line)))
            level = Level(number=lv.number, name=lv.name, title=f"Level {lv.number} ({lv.name})", heading=lv.name,
                          permalink=None, illustrative=False, expectations=tuple(expectations),
                          source=self.src(lv.line))
            if not expectations:
                self.findings.warn(level.source, f"level '{lv.name}' has no competencies")
            built.append(level)
        check_coverage(tuple(areas), built, self.findings, hint="add a competency for it")
        stem = self.rel.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        craft = Craft(
            id=slugify(stem) or slugify(name) or "job-family", title=name,
            description=paragraphs(t.text(t.get(top, "summary"), "summary")), permalink=None,
            areas=tuple(areas), specialisms=tuple(specialisms),
            specialism_ids=unique_ids([slugify(s) or "specialism" for s in specialisms],
                                      [self.src(1)] * len(specialisms), "specialism", self.findings),
            levels=tuple(built), source=self.src(t.line(name_node)),
        )
        return (bool(legacy), craft)

    def listed(self, node: Node | None, what: str, keys: tuple[str, ...]) -> list[tuple[Node, dict]]:
        """Items of a list of mappings with `keys` required; a bad item is reported and skipped."""
        t = self.tree
        out = []
        for item in t.items(node, what):
            try:
                fields = t.mapping(item, f"an item of {what}")
                for key in keys:
                    if key not in fields:
                        raise t.fail(item, f"an item of {what} needs '{key}:'")
                out.append((item, fields))
            except ShapeError as exc:
                self.error(exc)
        return out

    def unique(self, fields: dict, what: str, seen: dict[str, int]) -> str | None:
        t = self.tree
        node = t.get(fields, "id")
        value = t.text(node, f"the {what} id").strip()
        if len(value) < 2 and what != "competency":
            raise t.fail(node, f"a {what} id must be at least 2 characters")
        if value in seen:
            raise t.fail(node, f"the {what} id '{value}' is used twice (first on line {seen[value]}); ids must be "
                               "unique")
        seen[value] = t.line(node)
        return value

    def levels(self, node: Node | None) -> tuple[list[_Level], dict[str, tuple[int, str | None]]]:
        t = self.tree
        raw, seen = [], {}
        for item, fields in self.listed(node, "levels", ("id", "name")):
            try:
                self.extra(fields, {"id", "name"}, "a level")
                level_id = self.unique(fields, "level", seen)
                name = " ".join(t.text(t.get(fields, "name"), "the level name").split())
                if len(name) < 2:
                    raise t.fail(t.get(fields, "name"), "a level name must be at least 2 characters")
                raw.append((level_id, name, t.line(item)))
            except ShapeError as exc:
                self.error(exc)
        levels: list[_Level] = []
        i = 0
        while i < len(raw):
            m = _FORK.match(raw[i][1])
            j = i + 1
            if m:
                while j < len(raw) and (n := _FORK.match(raw[j][1])) and n.group(1) == m.group(1):
                    j += 1
            group = raw[i:j]
            number = len(levels) + 1
            if len(group) > 1:
                lv = _Level(number, m.group(1), {lid: _FORK.match(nm).group(2).strip() for lid, nm, _ in group},
                            group[0][2])
            else:
                lv = _Level(number, raw[i][1], {raw[i][0]: None}, raw[i][2])
            levels.append(lv)
            i = j
        level_of = {lid: (lv.number, spec) for lv in levels for lid, spec in lv.tracks.items()}
        if not levels:
            raise ShapeError(t.line(node) if node is not None else 1, "the job family has no levels")
        return levels, level_of

    def themes(self, node: Node | None) -> list[Area]:
        t = self.tree
        areas, seen = [], {}
        for item, fields in self.listed(node, "themes", ("id", "name")):
            try:
                self.extra(fields, {"id", "name", "summary"}, "a theme")
                theme_id = self.unique(fields, "theme", seen)
                name = " ".join(t.text(t.get(fields, "name"), "the theme name").split())
                summary = paragraphs(t.text(t.get(fields, "summary"), "the theme summary"))
                areas.append(Area(theme_id, name, summary, None, self.src(t.line(item))))
            except ShapeError as exc:
                self.error(exc)
        return areas

    def extra(self, fields: dict, allowed: set[str], what: str) -> None:
        for key, (key_node, _) in fields.items():
            if key not in allowed:
                self.findings.warn(self.src(self.tree.line(key_node)), f"'{key}' is not a field of {what} in the "
                                   f"FT schema ({', '.join(sorted(allowed))}); ignored")

    def competencies(self, node: Node | None, level_of: dict, theme_ids: set[str]) -> dict:
        """(level number, specialism, theme id) -> (statements, line of the first competency)."""
        t = self.tree
        found: dict[tuple, tuple[tuple[Statement, ...], int]] = {}
        seen: dict[str, int] = {}
        skipped = 0
        for item, fields in self.listed(node, "competencies", ("id", "level", "theme", "summary", "proficiency")):
            try:
                self.extra(fields, _COMPETENCY_KEYS, "a competency")
                self.unique(fields, "competency", seen)
                level_node, theme_node = t.get(fields, "level"), t.get(fields, "theme")
                level_id, theme_id = t.text(level_node, "level").strip(), t.text(theme_node, "theme").strip()
                if level_id not in level_of:
                    raise t.fail(level_node, f"level '{level_id}' is not one of the job family's levels "
                                             f"({', '.join(level_of)})")
                if theme_id not in theme_ids:
                    raise t.fail(theme_node, f"theme '{theme_id}' is not one of the job family's themes "
                                             f"({', '.join(sorted(theme_ids))})")
                proficiency_node = t.get(fields, "proficiency")
                proficiency = t.text(proficiency_node, "proficiency").strip()
                if proficiency not in _PROFICIENCY:
                    self.findings.warn(self.src(t.line(proficiency_node)), f"proficiency '{proficiency}' is not one "
                                       f"of the FT schema's ({', '.join(_PROFICIENCY)})")
                statements = self.statements(t.get(fields, "summary"))
                if not statements:
                    raise t.fail(t.get(fields, "summary"), "the competency's summary is empty")
                if t.items(t.get(fields, "examples"), "examples") or t.items(t.get(fields, "supportingUrls"),
                                                                              "supportingUrls"):
                    skipped += 1
                number, spec = level_of[level_id]
                key = (number, spec, theme_id)
                before, line = found.get(key, ((), t.line(item)))
                found[key] = (before + statements, line)
            except ShapeError as exc:
                self.error(exc)
        if skipped:
            self.findings.info(self.src(t.line(node) if node is not None else 1),
                               f"{skipped} competencies have examples or supporting URLs: the model holds "
                               "statements only, so these are not read")
        return found

    def statements(self, node: Node | None) -> tuple[Statement, ...]:
        """The summary's paragraphs and list items, each a statement, at its own line."""
        from cfexport.readers.jekyll.inline import plain

        t = self.tree
        text = t.text(node, "the competency summary")
        first = t.line(node)
        block = isinstance(node, ScalarNode) and node.style in ("|", ">")
        out = []
        for tok in self.md.parse(text):
            if tok.type == "inline":
                words = plain(tok)
                if words:
                    line = first + 1 + tok.map[0] if block and tok.map else first
                    out.append(Statement(words, self.src(line)))
        return tuple(out)
