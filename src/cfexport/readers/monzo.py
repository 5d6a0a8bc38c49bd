"""The `monzo` reader: the layout of Monzo's progression framework and its forks
(https://github.com/monzo/progression-framework, `frameworks/**/*.md`).

Each markdown file whose front matter holds `topics` is one craft (its `title`); the folder
is the framework. A topic is an area (`title`, else its `name`); `levels: N` gives levels
1..N; each `content` item is what one `level` expects in the topic: its `criteria`, then
the `criteria` of its `exampleCriteria`, are the statements. As on Monzo's site, a topic
whose `name` is also a topic of the generic framework (the file with `path: "/generic"`)
takes the generic topic's title, and the generic criteria of the same level follow its own.
The body under the front matter is the craft's description.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from markdown_it import MarkdownIt
from yaml.nodes import Node

from cfexport import frontmatter
from cfexport.model import Area, Craft, Expectation, Framework, Level, ReadResult, Source, Statement
from cfexport.readers.assemble import (MAX_FILE, Findings, check_coverage, folder_title, paragraphs, read_text,
                                       squash, unique_ids)
from cfexport.readers.yamltree import ShapeError, Tree, yaml12_tabs
from cfexport.slugs import slugify

GENERIC_PATH = "/generic"
MAX_FILES = 2000
_TOPICS = re.compile(r"^topics:", re.M)


def _markdown_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    files = []
    for p in sorted(path.rglob("*.md")):
        rel = p.relative_to(path).parts
        if any(part.startswith((".", "_")) or part == "node_modules" for part in rel) or not p.is_file():
            continue
        files.append(p)
        if len(files) >= MAX_FILES:
            break
    return files


def _has_topics(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(64 * 1024).decode("utf-8", "replace")
    except OSError:
        return False
    return head.startswith("---") and bool(_TOPICS.search(head.split("\n---", 1)[0]))


class MonzoReader:
    name: ClassVar[str] = "monzo"
    looks_for: ClassVar[str] = ("Monzo progression-framework layout: a folder of .md files (subfolders too) whose "
                                "front matter holds 'topics' with 'content' per 'level', 'criteria' and "
                                "'exampleCriteria'; one file per craft")

    def recognise(self, path: Path) -> int:
        if path.is_file():
            return 2 if path.suffix == ".md" and _has_topics(path) else 0
        if not path.is_dir():
            return 0
        return 2 if any(_has_topics(p) for p in _markdown_files(path)[:200]) else 0

    def read(self, path: Path, root: str | None = None) -> ReadResult:
        findings = Findings()
        path = Path(path)
        if not path.exists():
            findings.error(Source(str(path), 0), "not found; pass --framework with the frameworks folder")
            return ReadResult(None, tuple(findings.problems))
        if root is not None:
            findings.warn(Source(str(path), 0), "--root picks a framework in a Jekyll site; ignored for monzo")
        base = path.parent if path.is_file() else path
        pages = []
        for file in _markdown_files(path):
            page = _Page.read(file, file.relative_to(base).as_posix(), findings)
            if page is not None:
                pages.append(page)
        generic = next((p for p in pages if p.path == GENERIC_PATH), None)
        crafts = [p.craft(generic, findings) for p in pages]
        crafts = [c for c in crafts if c is not None]
        if not crafts:
            if not findings.failed:
                findings.error(Source(str(path), 0), "no framework files: expected .md files whose front matter "
                                                     "holds 'topics:'")
            return ReadResult(None, tuple(findings.problems))
        ids = unique_ids([c.id for c in crafts], [c.source for c in crafts], "craft", findings)
        crafts = [replace(c, id=i) for c, i in zip(crafts, ids)]
        if path.is_file():
            title, description = crafts[0].title, crafts[0].description
        else:
            title, description = folder_title(path, ("frameworks",)), ""
        framework = Framework(title=title, description=description, permalink=None, crafts=tuple(crafts),
                              source=crafts[0].source)
        return ReadResult(framework, tuple(findings.problems))


@dataclass
class _Topic:
    name: str
    title: str
    line: int
    levels: dict[int, tuple[int, tuple[Statement, ...]]]  # level -> (line of its content item, statements)


@dataclass
class _Page:
    rel: str
    path: str | None
    title: str
    title_line: int
    levels: int
    levels_line: int
    topics: list[_Topic]
    description: str

    @classmethod
    def read(cls, file: Path, rel: str, findings: Findings) -> _Page | None:
        text = read_text(file, rel, findings)
        if text is None:
            return None
        lines = text.split("\n")
        if not lines or lines[0].rstrip() != "---":
            findings.info(Source(rel, 1), "no front matter: not a framework file, not read")
            return None
        end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
        if end is None:
            findings.error(Source(rel, 1), "front matter starts with '---' but has no closing '---' line")
            return None
        tree = Tree(2)
        try:
            root = frontmatter.compose(yaml12_tabs("\n".join(lines[1:end])), 2, "front matter", limit=MAX_FILE)
            fields = tree.mapping(root, "the front matter") if root is not None else {}
            if "topics" not in fields:
                findings.info(Source(rel, 1), "no 'topics' in the front matter: not a framework file, not read")
                return None
            yaml_flag = tree.get(fields, "yaml")
            if yaml_flag is not None and frontmatter.flag(tree.text(yaml_flag, "yaml")) is False:
                findings.info(Source(rel, tree.line(yaml_flag)), "yaml: false: a text page, not read")
                return None
            return cls.parse(rel, tree, fields, "\n".join(lines[end + 1:]), findings)
        except frontmatter.YamlError as exc:
            findings.error(Source(rel, max(exc.line, 1)), exc.message)
        except ShapeError as exc:
            findings.error(Source(rel, exc.line), exc.message)
        return None

    @classmethod
    def parse(cls, rel: str, t: Tree, fields: dict, body: str, findings: Findings) -> _Page:
        title_node = t.get(fields, "title") or t.get(fields, "sidebarTitle")
        title = squash(t.text(title_node, "title")) or rel.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        levels_node = t.get(fields, "levels")
        levels = t.integer(levels_node, "levels") if levels_node is not None else 0
        topics: list[_Topic] = []
        seen: dict[str, int] = {}
        examples = 0
        for item in t.items(t.get(fields, "topics"), "topics"):
            try:
                topic = t.mapping(item, "a topic")
                name = squash(t.text(t.get(topic, "name"), "the topic name"))
                if not name:
                    raise t.fail(item, "a topic needs a 'name:'")
                if name in seen:
                    raise t.fail(item, f"the topic '{name}' appears twice (first on line {seen[name]}); keep one")
                seen[name] = t.line(item)
                content: dict[int, tuple[int, tuple[Statement, ...]]] = {}
                for entry in t.items(t.get(topic, "content"), f"the content of topic '{name}'"):
                    try:
                        level, statements, n = cls.content(rel, t, entry, name)
                        examples += n
                        if level in content:
                            raise t.fail(entry, f"level {level} appears twice in topic '{name}' (first on line "
                                                f"{content[level][0]}); keep one")
                        if levels and level > levels:
                            findings.warn(Source(rel, t.line(entry)), f"level {level} of topic '{name}' is beyond "
                                          f"'levels: {levels}': the Monzo site never shows it; not read")
                            continue
                        content[level] = (t.line(entry), statements)
                    except ShapeError as exc:
                        findings.error(Source(rel, exc.line), exc.message)
                topics.append(_Topic(name, squash(t.text(t.get(topic, "title"), "the topic title")), t.line(item),
                                     content))
            except ShapeError as exc:
                findings.error(Source(rel, exc.line), exc.message)
        if examples:
            findings.info(Source(rel, 1), f"{examples} example(s) under exampleCriteria: the model holds statements "
                                          "only, so examples are not read (their criteria are)")
        levels = levels or max((lv for tp in topics for lv in tp.levels), default=0)
        path_node = t.get(fields, "path")
        return cls(rel, squash(t.text(path_node, "path")) or None, title,
                   t.line(title_node) if title_node is not None else 1, levels,
                   t.line(levels_node) if levels_node is not None else 1, topics, _prose(body))

    @staticmethod
    def content(rel: str, t: Tree, entry: Node, topic: str) -> tuple[int, tuple[Statement, ...], int]:
        fields = t.mapping(entry, f"a content item of topic '{topic}'")
        level_node = t.get(fields, "level")
        if level_node is None:
            raise t.fail(entry, f"a content item of topic '{topic}' needs 'level:'")
        level = t.integer(level_node, "level")
        if level < 1:
            raise t.fail(level_node, "levels start at 1")
        statements = []
        for node in t.items(t.get(fields, "criteria"), "criteria"):
            text = squash(t.text(node, "a criterion"))
            if text:
                statements.append(Statement(text, Source(rel, t.line(node))))
        examples = 0
        for example in t.items(t.get(fields, "exampleCriteria"), "exampleCriteria"):
            ex = t.mapping(example, "an item of exampleCriteria")
            node = t.get(ex, "criteria")
            text = squash(t.text(node, "the criteria of an example"))
            if not text:
                raise t.fail(example, "an item of exampleCriteria needs 'criteria:' text")
            statements.append(Statement(text, Source(rel, t.line(node))))
            examples += len(t.items(t.get(ex, "examples"), "examples"))
        return level, tuple(statements), examples

    def craft(self, generic: _Page | None, findings: Findings) -> Craft | None:
        inherited = {tp.name: tp for tp in generic.topics} if generic is not None and generic is not self else {}
        areas, ids = [], unique_ids([slugify(tp.name) or "topic" for tp in self.topics],
                                    [Source(self.rel, tp.line) for tp in self.topics], "topic", findings)
        for tp, area_id in zip(self.topics, ids):
            base = inherited.get(tp.name)
            title = (base.title if base is not None and base.title else tp.title) or _titled(tp.name)
            areas.append(Area(area_id, title, "", None, Source(self.rel, tp.line)))
        levels = []
        for number in range(1, self.levels + 1):
            expectations = []
            for tp, area in zip(self.topics, areas):
                line, statements = tp.levels.get(number, (0, ()))
                base = inherited.get(tp.name)
                if base is not None and number in base.levels:
                    line = line or base.levels[number][0]
                    statements += base.levels[number][1]
                if line:
                    source = Source(self.rel if number in tp.levels else generic.rel, line)
                    expectations.append(Expectation(area.id, area.title, None, statements, False, source))
            level = Level(number=number, name="", title=f"Level {number}", heading=f"Level {number}",
                          permalink=None, illustrative=False, expectations=tuple(expectations),
                          source=Source(self.rel, self.levels_line))
            if not any(e.statements for e in expectations):
                findings.warn(level.source, f"level {number} of '{self.title}' has no criteria")
            levels.append(level)
        check_coverage(tuple(areas), levels, findings, severity="info",
                       hint="the Monzo site shows no card for it at this level")
        stem = self.rel.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        craft_id = slugify((self.path or "").rstrip("/").rsplit("/", 1)[-1]) or slugify(stem) or "craft"
        return Craft(id=craft_id, title=self.title, description=self.description, permalink=None,
                     areas=tuple(areas), specialisms=(), specialism_ids=(), levels=tuple(levels),
                     source=Source(self.rel, self.title_line))


def _titled(name: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in re.split(r"[-_\s]+", name) if w)


def _prose(body: str) -> str:
    """The body's paragraphs as plain text (markdown read, markup dropped)."""
    from cfexport.readers.jekyll.inline import plain

    parts = [plain(tok) for tok in MarkdownIt("commonmark").parse(body) if tok.type == "inline"]
    return paragraphs("\n\n".join(p for p in parts if p))
