"""The Jekyll (just-the-docs) reader: a folder of markdown pages -> the canonical model.

The hierarchy comes from front matter, as just-the-docs builds its navigation: a page
with no `parent` is the framework's index, a page whose `parent` is the index is a craft,
and a page with a `parent` craft and a `grand_parent` index is a level. Markdown is
parsed once, here, with markdown-it-py; what reaches the model is plain text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from cfexport import frontmatter
from cfexport.model import (
    Area,
    Craft,
    Expectation,
    Framework,
    Level,
    Problem,
    ReadResult,
    Source,
    Statement,
)
from cfexport.slugs import anchor, slugify, unique_anchors
from cfexport.text import DecodeError, clean_lines, decode, fix_structure, normalise

MAX_PAGE_BYTES = 8 * 1024 * 1024
_BR = re.compile(r"^</?br\s*/?>$", re.IGNORECASE)
_LEVEL_TITLE = re.compile(r"^\s*level\s+(\d+)\s*(?:[(\[](.*?)[)\]])?\s*(?:[-–:]\s*(.*))?$", re.IGNORECASE)
_ANY_NUMBER = re.compile(r"\d+")
_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")
_QUOTE_MARKERS = re.compile(r"^\s*(?:>\s?)+")
_SPECIALISM_SEP = re.compile(r"\s+[-–—]\s+")
_TODO = "todo"
_ASCII_SPACE = re.compile(r"[ \t\n]+")


def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable("table")


@dataclass
class _Page:
    file: str  # relative to the framework folder, forward slashes
    meta: dict
    body: str
    body_line: int
    front_matter: list[str]  # the YAML lines, page lines 2..

    def source(self, line: int | None = None) -> Source:
        return Source(self.file, line or 1)

    def field_line(self, key: str) -> int:
        """The page line of a top-level front-matter key (1 when absent)."""
        for number, raw in enumerate(self.front_matter, 2):
            if raw.split(":", 1)[0].strip() == key:
                return number
        return 1

    @property
    def title(self) -> str:
        return frontmatter.text(self.meta.get("title")) or ""

    @property
    def parent(self) -> str | None:
        return frontmatter.text(self.meta.get("parent"))

    @property
    def grand_parent(self) -> str | None:
        return frontmatter.text(self.meta.get("grand_parent"))


class _Reader:
    def __init__(self, root: Path):
        self.root = root
        self.problems: list[Problem] = []
        self.md = _markdown()

    # -- findings -------------------------------------------------------------------
    def error(self, source: Source, message: str) -> None:
        self.problems.append(Problem("error", source, message))

    def warn(self, source: Source, message: str) -> None:
        self.problems.append(Problem("warning", source, message))

    # -- pages ------------------------------------------------------------------------
    def load_pages(self) -> list[_Page]:
        pages = []
        for path in sorted(self.root.rglob("*.md")):
            rel = path.relative_to(self.root)
            if any(part.startswith((".", "_")) for part in rel.parts):
                continue  # Jekyll does not publish these either
            file = rel.as_posix()
            try:
                data = path.read_bytes()
            except OSError as exc:
                self.error(Source(file, 1), f"cannot read the page: {exc.strerror or exc}")
                continue
            if len(data) > MAX_PAGE_BYTES:
                self.error(Source(file, 1), f"page is larger than {MAX_PAGE_BYTES // 2**20} MiB; split it")
                continue
            try:
                text = decode(data)
            except DecodeError as exc:
                self.error(Source(file, exc.line), exc.message)
                continue
            text = fix_structure(clean_lines(normalise(text), file, self.problems), file, self.problems)
            try:
                page = frontmatter.split(text)
            except frontmatter.FrontMatterError as exc:
                self.error(Source(file, exc.line), exc.message)
                continue
            if page.meta is None:
                self.warn(Source(file, 1), "no front matter: not a page of the site, ignored")
                continue
            p = _Page(file, page.meta, page.body, page.body_line, text.split("\n")[1 : page.body_line - 2])
            if not isinstance(page.meta.get("title"), str) or not p.title:
                self.error(Source(file, 1), "front matter has no 'title'; add 'title: ...'")
                continue
            pages.append(p)
        return pages

    def read(self) -> ReadResult:
        if not self.root.is_dir():
            self.error(Source(str(self.root), 1), "framework folder not found; pass --framework DIR")
            return ReadResult(None, tuple(self.problems))
        pages = self.load_pages()
        roots = [p for p in pages if p.parent is None]
        crafts = [p for p in pages if p.parent is not None and p.grand_parent is None]
        levels = [p for p in pages if p.parent is not None and p.grand_parent is not None]
        if not pages:
            if not self.problems:
                self.error(Source(str(self.root), 1), "no pages found: expected markdown pages with front matter")
            return ReadResult(None, tuple(self.problems))

        index = self.pick_index(roots, crafts)
        if index is None:
            return ReadResult(None, tuple(self.problems))
        craft_pages = []
        for page in crafts:
            if page.parent != index.title:
                self.error(page.source(page.field_line("parent")),
                           f"parent '{page.parent}' does not exist; it should be '{index.title}'")
            else:
                craft_pages.append(page)
        seen_titles: dict[str, _Page] = {}
        for page in craft_pages:
            if page.title in seen_titles:
                self.error(page.source(page.field_line("title")),
                           f"two pages for the craft '{page.title}' (the other is {seen_titles[page.title].file})")
            seen_titles.setdefault(page.title, page)
        levels_by_craft: dict[str, list[_Page]] = {t: [] for t in seen_titles}
        for page in levels:
            if page.parent not in seen_titles:
                self.error(page.source(page.field_line("parent")),
                           f"parent '{page.parent}' does not exist; crafts are: {', '.join(sorted(seen_titles)) or 'none'}")
            elif page.grand_parent != index.title:
                self.error(page.source(page.field_line("grand_parent")),
                           f"grand_parent '{page.grand_parent}' does not exist; it should be '{index.title}'")
            else:
                levels_by_craft[page.parent].append(page)

        crafts_out = [self.read_craft(page, levels_by_craft[title]) for title, page in seen_titles.items()]
        crafts_out.sort(key=lambda c: (_nav_order(seen_titles[c.title]), c.title))
        ids = self.unique_ids([c.id for c in crafts_out], [c.source for c in crafts_out], "craft")
        crafts_out = [replace(c, id=i) for c, i in zip(crafts_out, ids)]
        if not crafts_out:
            self.warn(index.source(), f"the framework '{index.title}' has no crafts (pages with "
                      f"'parent: {index.title}')")
        framework = Framework(
            title=index.title,
            description=self.intro(self.tokens(index)),
            permalink=frontmatter.text(index.meta.get("permalink")),
            crafts=tuple(crafts_out),
            source=index.source(),
            version=frontmatter.text(index.meta.get("version")),
        )
        return ReadResult(framework, tuple(self.problems))

    def pick_index(self, roots: list[_Page], crafts: list[_Page]) -> _Page | None:
        parents = {c.parent for c in crafts}
        candidates = [r for r in roots if r.title in parents] or roots
        if not candidates:
            page = crafts[0] if crafts else None
            src = page.source(page.field_line("parent")) if page else Source(str(self.root), 1)
            self.error(src, f"parent '{page.parent if page else ''}' does not exist: no index page (a page without 'parent')")
            return None
        if len(candidates) > 1:
            names = ", ".join(f"{r.file} ('{r.title}')" for r in candidates)
            self.error(candidates[1].source(), f"more than one framework index page: {names}; keep one")
            return None
        return candidates[0]

    # -- page bodies ----------------------------------------------------------------
    def tokens(self, page: _Page) -> list[Token]:
        return self.md.parse(page.body)

    def line(self, page: _Page, token: Token) -> int:
        return page.body_line + (token.map[0] if token.map else 0)

    @staticmethod
    def prose(tokens: list[Token], start: int = 0) -> str:
        """Paragraph text from token `start` to the next heading."""
        parts = []
        for tok in tokens[start:]:
            if tok.type == "heading_open":
                break
            if tok.type == "inline" and tok.content.strip():
                parts.append(_plain(tok).strip())
        return "\n\n".join(p for p in parts if p)

    def intro(self, tokens: list[Token]) -> str:
        """A page's own description: the prose after its optional leading H1."""
        start = 3 if tokens and tokens[0].type == "heading_open" and tokens[0].tag == "h1" else 0
        return self.prose(tokens, start)

    def read_craft(self, page: _Page, level_pages: list[_Page]) -> Craft:
        tokens = self.tokens(page)
        headings = [i for i, t in enumerate(tokens) if t.type == "heading_open"]
        anchors = unique_anchors([_plain(tokens[i + 1]) for i in headings])
        has_h3 = any(tokens[i].tag == "h3" for i in headings)
        area_tag = "h3" if has_h3 else "h2"
        description = self.intro(tokens)
        areas: list[Area] = []
        specialisms: list[str] = []
        group: str | None = None
        for i, slug in zip(headings, anchors):
            tok = tokens[i]
            title = _plain(tokens[i + 1]).strip()
            if tok.tag == "h2" and has_h3:
                group = _specialism(title)
                if group and group not in specialisms:
                    specialisms.append(group)
            elif tok.tag == area_tag:
                definition = self.prose(tokens, i + 3)
                areas.append(Area(slug, title, definition, group, page.source(self.line(page, tok))))
        if not areas:
            self.warn(page.source(), "the craft page defines no areas (headings with a definition under them)")
        if not level_pages:
            self.warn(page.source(), f"the craft '{page.title}' has no level pages (pages with "
                      f"'parent: {page.title}' and a 'grand_parent')")

        levels: list[Level] = []
        by_number: dict[int, Level] = {}
        page_specialisms = tuple(specialisms)
        for lp in level_pages:
            level = self.read_level(lp, page, areas, page_specialisms)
            if level is None:
                continue
            if level.number in by_number:
                self.error(lp.source(lp.field_line("title")),
                           f"two pages for level {level.number} of '{page.title}' "
                           f"(the other is {by_number[level.number].source.file}); keep one")
                continue
            by_number[level.number] = level
            levels.append(level)
            for e in level.expectations:
                if e.specialism and e.specialism not in specialisms:
                    specialisms.append(e.specialism)
        levels.sort(key=lambda lv: lv.number)
        self.check_coverage(areas, levels)
        permalink = frontmatter.text(page.meta.get("permalink"))
        craft_id = slugify(permalink.rstrip("/").rsplit("/", 1)[-1]) if permalink else ""
        return Craft(
            id=craft_id or slugify(page.title) or "craft",
            title=page.title,
            description=description,
            permalink=permalink,
            areas=tuple(areas),
            specialisms=tuple(specialisms),
            specialism_ids=self.unique_ids([slugify(sp) or "specialism" for sp in specialisms],
                                           [page.source()] * len(specialisms), "specialism"),
            levels=tuple(levels),
            source=page.source(),
        )

    def unique_ids(self, ids: list[str], sources: list[Source], what: str) -> tuple[str, ...]:
        """Ids as given, a repeated one suffixed `-2`, `-3`... with a warning: two crafts or two
        specialisms must never share the id the other commands take."""
        out: list[str] = []
        for wanted, source in zip(ids, sources):
            new, n = wanted, 1
            while new in out:
                n += 1
                new = f"{wanted}-{n}"
            if new != wanted:
                self.warn(source, f"two {what}s would have the id '{wanted}'; this one is '{new}' "
                          f"(rename one to keep ids stable)")
            out.append(new)
        return tuple(out)

    def check_coverage(self, areas: list[Area], levels: list[Level]) -> None:
        for level in levels:
            present = {e.area_id for e in level.expectations}
            for area in areas:
                if area.id not in present:
                    self.warn(level.source, f"level {level.number} leaves out the area '{area.title}' "
                              f"({area.source}); add a row for it, or TODO")

    def read_level(self, page: _Page, craft: _Page, areas: list[Area], specialisms: tuple[str, ...]
                   ) -> Level | None:
        m = _LEVEL_TITLE.match(page.title)
        if m:
            number, name = int(m.group(1)), (m.group(2) or m.group(3) or "").strip()
        else:
            n = _ANY_NUMBER.search(page.title)
            if not n:
                self.error(page.source(page.field_line("title")),
                           f"level title '{page.title}' has no number; write it like 'Level 5 (Junior)'")
                return None
            number, name = int(n.group()), ""
        craft_link = (frontmatter.text(craft.meta.get("permalink")) or "").rstrip("/")
        tokens = self.tokens(page)
        heading = ""
        section: str | None = None
        section_title = ""
        expectations: list[Expectation] = []
        lines = page.body.split("\n")
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            if tok.type == "heading_open":
                title = _plain(tokens[i + 1]).strip()
                if tok.tag == "h1" and not heading:
                    heading = title
                elif tok.tag == "h2":
                    section_title = title
                    section = self.section_specialism(page, self.line(page, tok), title, specialisms)
            elif tok.type == "table_open":
                i, rows = self.read_table(page, tokens, i, lines)
                for row_line, area_cell, desc_cell in rows:
                    exp = self.expectation(page, row_line, area_cell, desc_cell, section, section_title,
                                           craft_link, areas)
                    if exp is not None:
                        expectations.append(exp)
                continue
            i += 1
        if not expectations:
            self.warn(page.source(), f"level page has no 'Area | Description' rows{' under ' + section_title if section_title else ''}")
        illustrative = frontmatter.flag(page.meta.get("illustrative")) or False
        return Level(
            number=number,
            name=name,
            title=page.title,
            heading=heading or page.title,
            permalink=frontmatter.text(page.meta.get("permalink")),
            illustrative=illustrative,
            expectations=tuple(expectations),
            source=page.source(page.field_line("title")),
        )

    def read_table(self, page: _Page, tokens: list[Token], i: int, lines: list[str]):
        """Rows of an `Area | Description` table as (line, area inline, description inline)."""
        rows = []
        header_cells = 0
        in_head = False
        cells: list[Token] = []
        row_tok: Token | None = None
        while tokens[i].type != "table_close":
            t = tokens[i]
            if t.type == "thead_open":
                in_head = True
            elif t.type == "thead_close":
                in_head = False
            elif t.type == "tr_open":
                cells, row_tok = [], t
            elif t.type == "inline":
                cells.append(t)
            elif t.type == "tr_close" and row_tok is not None:
                line = self.line(page, row_tok)
                raw = lines[row_tok.map[0]] if row_tok.map else ""
                if in_head:
                    header_cells = len(cells)
                    names = [_plain(c).strip().lower() for c in cells]
                    if len(cells) != 2 or names != ["area", "description"]:
                        self.warn(page.source(line), f"table header is '{' | '.join(_plain(c).strip() for c in cells)}'; "
                                  "expected 'Area | Description' (first column read as area, second as description)")
                else:
                    raw_count = _raw_cell_count(raw)
                    if raw_count > header_cells:
                        self.error(page.source(line), f"row has {raw_count} cells but the header has {header_cells}: "
                                   "text would be lost; write a '|' inside a cell as '\\|'")
                    if len(cells) > 2:
                        extra = " ".join(_plain(c).strip() for c in cells[2:]).strip()
                        if extra:
                            self.error(page.source(line), f"row has text in a third column ('{extra[:40]}'): "
                                       "only Area and Description are read; move it into the Description cell")
                    rows.append((line, cells[0] if cells else None, cells[1] if len(cells) > 1 else None))
            i += 1
        return i + 1, rows

    def section_specialism(self, page: _Page, line: int, title: str, known: tuple[str, ...]) -> str | None:
        """The specialism an H2 section is for (None: shared), spelled as the craft page spells it."""
        named = _specialism(title)
        if named is None:
            return None
        for spec in known:
            if _same_name(spec, named):
                return spec
        if known:
            self.warn(page.source(line), f"section '{title}' names a specialism the craft page does not define "
                      f"(it defines: {', '.join(known)}); check the spelling")
        return named

    def resolve_area(self, title: str, section: str | None, areas: list[Area]) -> Area | None:
        """The craft-page area a plain-text area cell means: same title, this section's own first."""
        same = [a for a in areas if _same_name(a.title, title)]
        for wanted in (section, None):
            for area in same:
                if area.specialism == wanted:
                    return area
        return same[0] if same else None

    def expectation(self, page, line, area_cell, desc_cell, section, section_title, craft_link, areas):
        src = page.source(line)
        area_title = _plain(area_cell).strip() if area_cell is not None else ""
        statements_text = _statements(desc_cell) if desc_cell is not None else []
        if not area_title:
            if statements_text:
                self.error(src, "row has a description but no area; name the area in the first column")
            return None
        href = _first_link(area_cell)
        if href is not None and "#" in href:
            path, frag = href.split("#", 1)
            area_id = frag
            if path.rstrip("/") not in ("", craft_link):
                self.warn(src, f"area '{area_title}' links to '{href}', not to the craft page '{craft_link}'")
        else:
            resolved = self.resolve_area(area_title, section, areas)
            area_id = resolved.id if resolved else anchor(area_title)
        area = next((a for a in areas if a.id == area_id), None)
        if area is None:
            self.warn(src, f"area '{area_title}' links to '#{area_id}', which the craft page does not define; "
                      "add a heading for it on the craft page or fix the link")
        elif section is None and area.specialism is not None:
            self.warn(src, f"'{area_title}' is an area of {area.specialism} on the craft page, but this row is in "
                      f"the shared section '{section_title or '(none)'}', so every specialism gets it; move it "
                      f"under '## Craft - {area.specialism}'")
        todo = len(statements_text) == 1 and statements_text[0].strip().lower() == _TODO
        if todo:
            self.problems.append(Problem("warning", src, f"'{area_title}' is TODO: not yet defined at this level", "todo"))
            statements: tuple[Statement, ...] = ()
        else:
            if not statements_text:
                self.warn(src, f"'{area_title}' has an empty description; write the expectation or TODO")
            statements = tuple(Statement(s, src) for s in statements_text)
        return Expectation(area_id, area_title, section, statements, todo, src)


def _nav_order(page: _Page) -> float:
    try:
        return float(str(page.meta.get("nav_order", "")).strip())
    except ValueError:
        return float("inf")


def _specialism(section_title: str) -> str | None:
    """`Craft` -> None (shared); `Craft - ML Engineer` -> "ML Engineer"."""
    parts = _SPECIALISM_SEP.split(section_title, maxsplit=1)
    return parts[1].strip() if len(parts) == 2 and parts[1].strip() else None


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _raw_cell_count(line: str) -> int:
    """Cells of a table row as written (GFM splits on every unescaped pipe), so that text
    a parser would drop can be reported; blockquote markers before the row are not cells."""
    cells = _UNESCAPED_PIPE.split(_QUOTE_MARKERS.sub("", line).strip())
    if cells and cells[0].strip() == "":
        cells = cells[1:]
    if cells and cells[-1].strip() == "":
        cells = cells[:-1]
    return len(cells)


def _first_link(inline: Token) -> str | None:
    for child in inline.children or []:
        if child.type == "link_open":
            return str(child.attrs.get("href", ""))
    return None


def _pieces(inline: Token) -> list[str | None]:
    """Inline children as text; None marks a `<br>` (any spelling)."""
    out: list[str | None] = []
    for child in inline.children or []:
        if child.type == "html_inline" and _BR.match(child.content.strip()):
            out.append(None)
        elif child.type in ("text", "code_inline", "html_inline"):
            out.append(child.content)
        elif child.type == "softbreak":
            out.append(" ")
        elif child.type == "hardbreak":
            out.append(None)
        elif child.type == "image":
            out.append(child.content)
    return out


def _plain(inline: Token | None) -> str:
    """An inline as one line of text (a `<br>` becomes a space)."""
    if inline is None:
        return ""
    return _squash("".join(" " if p is None else p for p in _pieces(inline)))


def _squash(text: str) -> str:
    """Runs of ASCII white space to one space (markdown's own rule); NBSP and friends are kept
    inside the text, trimmed at its ends."""
    return _ASCII_SPACE.sub(" ", text).strip()


def _statements(inline: Token) -> list[str]:
    """A Description cell split on `<br>`: each non-empty piece is one statement."""
    out, current = [], []
    for piece in _pieces(inline) + [None]:
        if piece is None:
            text = _squash("".join(current))
            if text:
                out.append(text)
            current = []
        else:
            current.append(piece)
    return out


def read_framework(path: str | Path) -> ReadResult:
    """Read every page under `path` into the model, with every problem found."""
    return _Reader(Path(path)).read()
