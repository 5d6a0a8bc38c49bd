"""The career framework inside a Jekyll (just-the-docs) site -> the canonical model.

A framework is found by its shape in just-the-docs' navigation: an index page whose child
pages (`parent: <index title>`) are crafts, whose child pages (`parent: <craft title>`,
`grand_parent: <index title>`) are `Level N (Name)` pages. The rest of the site (home page,
docs, FAQ) is not read. Each page goes through the steps Jekyll takes: Liquid first, then
kramdown (attribute lists, TOCs and heading ids undone in `kramdown`), then markdown-it
for CommonMark and GFM tables; what reaches the model is plain text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

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
from cfexport.readers import memo
from cfexport.readers.assemble import Findings, check_coverage, unique_ids
from cfexport.readers.jekyll import inline, kramdown
from cfexport.readers.jekyll.site import Site, SitePage, comparable_url, load_site
from cfexport.readers.jekyll.tree import Finder, Tree, same_name
from cfexport.slugs import slugify

_LEVEL_TITLE = re.compile(r"^\s*level\s+(\d+)\s*(?:\((.*)\)|\[(.*)\]|[-–:]\s*(.*))?\s*$", re.IGNORECASE)
_ANY_NUMBER = re.compile(r"\d")
_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")
_QUOTE_MARKERS = re.compile(r"^\s*(?:>\s?)+")
_SPECIALISM_SEP = re.compile(r"\s+[-–—]\s+")
_TODO = "todo"


@dataclass
class _Page:
    """A page of the framework as markdown-it reads it: after Liquid and kramdown."""

    site_page: SitePage
    text: str
    lines: list[int]  # rendered line (0-based) -> file line (1-based)
    heading_ids: dict[int, str]
    no_toc: frozenset[int]  # rendered lines of headings styled `.no_toc`

    @property
    def file(self) -> str:
        return self.site_page.file

    @property
    def meta(self) -> dict:
        return self.site_page.meta

    @property
    def title(self) -> str:
        return self.site_page.title

    def source(self, line: int | None = None) -> Source:
        return Source(self.file, line or 1)

    def field_line(self, key: str) -> int:
        return self.site_page.field_line(key)

    def line(self, token: Token) -> int:
        index = token.map[0] if token.map else 0
        if index < len(self.lines):
            return self.lines[index]
        return self.site_page.body_line + index



class _Reader(Findings):
    def __init__(self, folder: Path, root_title: str | None):
        super().__init__()
        self.folder = folder
        self.root_title = root_title
        self.md = kramdown.markdown_parser()
        self.site: Site | None = None

    # -- the site and its frameworks --------------------------------------------------
    def read(self) -> ReadResult:
        memo.next_read()
        if not self.folder.is_dir():
            self.error(Source(str(self.folder), 0), "framework folder not found; pass --framework DIR")
            return ReadResult(None, tuple(self.problems))
        site = self.site = load_site(self.folder)
        if not site.pages and not any(p.severity == "error" for p in site.problems):
            self.problems += site.problems
            self.error(Source(str(self.folder), 0), "no pages found: expected markdown pages with front matter")
            return ReadResult(None, tuple(self.problems))
        finder = Finder(site, self.folder, self.root_title, self.problems)
        tree = finder.pick_tree(finder.scope)
        finder.keep_site_problems(tree, finder.scope)
        if tree is None:
            return ReadResult(None, tuple(self.problems))
        finder.check_strays(tree, finder.scope)
        return ReadResult(self.build(tree), tuple(self.problems))


    def page(self, site_page: SitePage) -> _Page:
        """A page's body after Liquid and kramdown, with the file line of every rendered line."""
        assert self.site is not None
        body = site_page.body
        lines = list(range(site_page.body_line, site_page.body_line + body.count("\n") + 1))
        liquid_page = self.site.liquid_page(site_page) if "{{" in body or "{%" in body else None
        # (Jekyll 4: `render_with_liquid: false`, the boolean, shows the page's Liquid as written)
        if liquid_page is not None and liquid_page.get("render_with_liquid") is not False:
            from cfexport.readers.jekyll.liquid import LiquidSite, render_page

            site = LiquidSite(self.site.root, self.site.liquid_config(self.problems), self.site.url_of)
            rendered = render_page(body, site_page.file, site_page.body_line, liquid_page, site)
            self.problems.extend(rendered.problems)
            body, lines = rendered.text, rendered.lines
        prepared = kramdown.prepare(body)
        for row, message in prepared.notes:
            self.warn(Source(site_page.file, lines[row] if row < len(lines) else site_page.body_line + row), message)
        if prepared.order is not None:
            lines = [lines[j] if j < len(lines) else site_page.body_line + j for j in prepared.order]
        return _Page(site_page, prepared.text, lines, prepared.heading_ids, frozenset(prepared.no_toc))

    def tokens(self, page: _Page) -> list[Token]:
        return self.md.parse(page.text)

    def build(self, tree: Tree) -> Framework:
        index = self.page(tree.index)
        seen_titles: dict[str, SitePage] = {}
        for craft in tree.crafts:
            if craft.title in seen_titles:
                self.error(Source(craft.file, craft.field_line("title")),
                           f"two pages for the craft '{craft.title}' (the other is {seen_titles[craft.title].file})")
                continue
            seen_titles[craft.title] = craft
        crafts_out = [self.read_craft(self.page(page), tree.levels[page.file]) for page in seen_titles.values()]
        order = {c.title: _nav_order(p) for c, p in zip(crafts_out, seen_titles.values())}
        crafts_out.sort(key=lambda c: (order[c.title], c.title))
        ids = unique_ids([c.id for c in crafts_out], [c.source for c in crafts_out], "craft", self)
        crafts_out = [replace(c, id=i) for c, i in zip(crafts_out, ids)]
        if not crafts_out:
            self.warn(index.source(), f"the framework '{index.title}' has no crafts (pages with "
                      f"'parent: {index.title}')")
        return Framework(
            title=index.title,
            description=self.intro(index, self.tokens(index)),
            permalink=frontmatter.text(index.meta.get("permalink")),
            crafts=tuple(crafts_out),
            source=index.source(),
            version=frontmatter.text(index.meta.get("version")),
        )

    @staticmethod
    def prose(tokens: list[Token], start: int = 0, skip: frozenset[int] = frozenset()) -> str:
        """Paragraph text from token `start` to the next heading (headings whose first line is
        in `skip`, just-the-docs' "Table of contents" headings, are passed over)."""
        parts = []
        skipping = False
        for tok in tokens[start:]:
            if tok.type == "heading_open":
                if not (tok.map and tok.map[0] in skip):
                    break
                skipping = True
            elif tok.type == "heading_close":
                skipping = False
            elif tok.type == "inline" and tok.content.strip() and not skipping:
                parts.append(inline.plain(tok))
        return "\n\n".join(p for p in parts if p)

    def intro(self, page: _Page, tokens: list[Token]) -> str:
        """A page's own description: the prose after its optional leading H1, past headings
        that are not in the site's table of contents (`{: .no_toc }`)."""
        start = 3 if tokens and tokens[0].type == "heading_open" and tokens[0].tag == "h1" else 0
        return self.prose(tokens, start, page.no_toc)

    def headings(self, page: _Page, tokens: list[Token]) -> list[tuple[int, str, str]]:
        """(token index, title, kramdown id) of every heading, in page order."""
        ids = kramdown.HeadingIds()
        out = []
        for i, tok in enumerate(tokens):
            if tok.type != "heading_open":
                continue
            row = tok.map[0] if tok.map else 0
            title = tokens[i + 1]
            out.append((i, inline.plain(title), ids.next(inline.id_text(title), page.heading_ids.get(row))))
        return out

    def read_craft(self, page: _Page, level_pages: list[SitePage]) -> Craft:
        tokens = self.tokens(page)
        headings = self.headings(page, tokens)
        has_h3 = any(tokens[i].tag == "h3" for i, _, _ in headings)
        area_tag = "h3" if has_h3 else "h2"
        description = self.intro(page, tokens)
        areas: list[Area] = []
        specialisms: list[str] = []
        group: str | None = None
        for i, title, slug in headings:
            tok = tokens[i]
            if tok.tag == "h2" and has_h3:
                group = _specialism(title)
                if group and group not in specialisms:
                    specialisms.append(group)
            elif tok.tag == area_tag:
                definition = self.prose(tokens, i + 3)
                areas.append(Area(slug, title, definition, group, page.source(page.line(tok))))
        if not areas:
            self.warn(page.source(), "the craft page defines no areas (headings with a definition under them)")
        if not level_pages:
            self.warn(page.source(), f"the craft '{page.title}' has no level pages (pages with "
                      f"'parent: {page.title}' and a 'grand_parent')")

        levels: list[Level] = []
        by_number: dict[int, Level] = {}
        page_specialisms = tuple(specialisms)
        for lp in level_pages:
            level = self.level_page(lp, page, areas, page_specialisms)
            if level is None:
                continue
            if level.number in by_number:
                self.error(Source(lp.file, lp.field_line("title")),
                           f"two pages for level {level.number} of '{page.title}' "
                           f"(the other is {by_number[level.number].source.file}); keep one")
                continue
            by_number[level.number] = level
            levels.append(level)
            for e in level.expectations:
                if e.specialism and e.specialism not in specialisms:
                    specialisms.append(e.specialism)
        levels.sort(key=lambda lv: lv.number)
        check_coverage(tuple(areas), levels, self, hint="add a row for it, or TODO")
        permalink = frontmatter.text(page.meta.get("permalink"))
        url_tail = (permalink or page.site_page.url).rstrip("/").rsplit("/", 1)[-1]
        url_tail = url_tail.rsplit(".", 1)[0] if url_tail.endswith((".html", ".htm")) else url_tail
        craft_id = slugify(url_tail) if url_tail and url_tail != "index" else ""
        return Craft(
            id=craft_id or slugify(page.title) or "craft",
            title=page.title,
            description=description,
            permalink=permalink,
            areas=tuple(areas),
            specialisms=tuple(specialisms),
            specialism_ids=unique_ids([slugify(sp) or "specialism" for sp in specialisms],
                                      [page.source()] * len(specialisms), "specialism", self),
            levels=tuple(levels),
            source=page.source(),
        )

    def level_page(self, lp: SitePage, craft: _Page, areas: list[Area], specialisms: tuple[str, ...]
                   ) -> Level | None:
        """A level page read (`read_level`), or, in a `memo.session` (build --watch), what the previous
        read made of it when nothing it is read from changed: the page's file, text and front matter,
        the craft page's URL and title, its areas and specialisms, and the site's URL settings. A page
        with Liquid is always read again (it may include other files)."""
        assert self.site is not None
        if "{{" in lp.body or "{%" in lp.body:
            return self.read_level(self.page(lp), craft, areas, specialisms)

        def read() -> tuple[Level | None, tuple[Problem, ...]]:
            before = len(self.problems)
            level = self.read_level(self.page(lp), craft, areas, specialisms)
            found = tuple(self.problems[before:])
            del self.problems[before:]
            return level, found

        config = self.site.config
        level, problems = memo.remember(memo.key(
            "jekyll-level-page", lp.file, lp.body, lp.body_line, lp.meta, lp.front_matter, lp.url,
            craft.site_page.url, craft.title, areas, specialisms, config.baseurl, config.url), read)
        self.problems.extend(problems)
        return level

    def level_title(self, page: _Page) -> tuple[int, str] | None:
        """`Level 5 (Junior)` -> (5, "Junior"); anything else is an error naming the line."""
        m = _LEVEL_TITLE.match(page.title)
        if m:
            return int(m.group(1)), next((g.strip() for g in m.groups()[1:] if g is not None), "")
        where = page.source(page.field_line("title"))
        if not _ANY_NUMBER.search(page.title):
            self.error(where, f"level title '{page.title}' has no number; write it like 'Level 5 (Junior)'")
        else:
            self.error(where, f"level title '{page.title}' must be 'Level <whole number> (Name)', "
                       "like 'Level 5 (Junior)'")
        return None

    def read_level(self, page: _Page, craft: _Page, areas: list[Area], specialisms: tuple[str, ...]
                   ) -> Level | None:
        parsed = self.level_title(page)
        if parsed is None:
            return None
        number, name = parsed
        tokens = self.tokens(page)
        heading = ""
        section: str | None = None
        section_title = ""
        expectations: list[Expectation] = []
        lines = page.text.split("\n")
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            if tok.type == "heading_open":
                title = inline.plain(tokens[i + 1])
                if tok.tag == "h1" and not heading:
                    heading = title
                elif tok.tag == "h2":
                    section_title = title
                    section = self.section_specialism(page, page.line(tok), title, specialisms)
            elif tok.type == "table_open":
                i, rows = self.read_table(page, tokens, i, lines)
                for row_line, area_cell, desc_cell in rows:
                    exp = self.expectation(page, row_line, area_cell, desc_cell, section, section_title,
                                           craft, areas)
                    if exp is not None:
                        self.add(page, expectations, exp)
                continue
            i += 1
        if not expectations:
            self.warn(page.source(), "level page has no 'Area | Description' rows"
                      + (f" under {section_title}" if section_title else ""))
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

    def add(self, page: _Page, expectations: list[Expectation], exp: Expectation) -> None:
        """A second row for an area in the same section joins the first, statements in order."""
        for n, other in enumerate(expectations):
            if other.area_id == exp.area_id and other.specialism == exp.specialism:
                self.warn(exp.source, f"a second row for '{exp.area_title}' in this section (the first is on "
                          f"line {other.source.line}); its statements are added to the first row's")
                statements = other.statements + exp.statements
                expectations[n] = replace(other, statements=statements, todo=other.todo and exp.todo)
                return
        expectations.append(exp)

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
                line = page.line(row_tok)
                raw = lines[row_tok.map[0]] if row_tok.map else ""
                if in_head:
                    header_cells = len(cells)
                    names = [inline.plain(c).lower() for c in cells]
                    if len(cells) != 2 or names != ["area", "description"]:
                        self.warn(page.source(line), f"table header is '{' | '.join(inline.plain(c) for c in cells)}'; "
                                  "expected 'Area | Description' (first column read as area, second as description)")
                else:
                    raw_count = _raw_cell_count(raw)
                    if raw_count > header_cells:
                        self.error(page.source(line), f"row has {raw_count} cells but the header has {header_cells}: "
                                   "text would be lost; write a '|' inside a cell as '\\|'")
                    if len(cells) > 2:
                        extra = " ".join(inline.plain(c) for c in cells[2:]).strip()
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
            if same_name(spec, named):
                return spec
        if known:
            self.warn(page.source(line), f"section '{title}' names a specialism the craft page does not define "
                      f"(it defines: {', '.join(known)}); check the spelling")
        return named

    def resolve_area(self, title: str, section: str | None, areas: list[Area]) -> Area | None:
        """The craft-page area a plain-text area cell means: same title, this section's own first."""
        same = [a for a in areas if same_name(a.title, title)]
        for wanted in (section, None):
            for area in same:
                if area.specialism == wanted:
                    return area
        return same[0] if same else None

    def linked_area(self, page: _Page, src: Source, area_title: str, href: str, craft: _Page) -> str | None:
        """The area id an area cell's link names, resolved as the site resolves it: to the craft page's
        URL (with or without baseurl, trailing slash or `.html`), then its heading id."""
        assert self.site is not None
        target = self.site.normalise_link(href, page.site_page.url)
        if target is None:
            self.warn(src, f"area '{area_title}' links to another site ('{href}'), not to the craft page")
            return None
        path, fragment = target
        here, craft_url = comparable_url(page.site_page.url), comparable_url(craft.site_page.url)
        if path not in (here, craft_url):
            self.warn(src, f"area '{area_title}' links to '{href}', not to the craft page "
                      f"'{self.site.config.baseurl}{craft.site_page.url}'")
        return fragment or None

    def expectation(self, page, line, area_cell, desc_cell, section, section_title, craft, areas):
        src = page.source(line)
        area_title = inline.plain(area_cell)
        text = inline.read_inline(desc_cell)
        for struck in text.struck:
            self.warn(src, f"struck-through text left out: '{struck[:60]}'")
        if text.block_html:
            self.warn(src, "HTML list or paragraph tags in a table cell: read as one statement per item, but "
                      "the published site shows the tags as text (kramdown reads no block HTML in a cell); "
                      "separate statements with <br> instead")
        statements_text = inline.statements(text)
        if not area_title:
            if statements_text:
                self.error(src, "row has a description but no area; name the area in the first column")
            return None
        href = inline.first_link(area_cell)
        area_id = self.linked_area(page, src, area_title, href, craft) if href else None
        if area_id is None:
            resolved = self.resolve_area(area_title, section, areas)
            area_id = resolved.id if resolved else kramdown.auto_id(area_title)
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
            self.warn(src, f"'{area_title}' is TODO: not yet defined at this level", "todo")
            statements: tuple[Statement, ...] = ()
        else:
            if not statements_text:
                self.warn(src, f"'{area_title}' has an empty description; write the expectation or TODO")
            statements = tuple(Statement(s, src) for s in statements_text)
        return Expectation(area_id, area_title, section, statements, todo, src)


def _nav_order(page: SitePage) -> float:
    try:
        return float(str(page.meta.get("nav_order", "")).strip())
    except ValueError:
        return float("inf")


def _specialism(section_title: str) -> str | None:
    """`Craft` -> None (shared); `Craft - ML Engineer` -> "ML Engineer"."""
    parts = _SPECIALISM_SEP.split(section_title, maxsplit=1)
    return parts[1].strip() if len(parts) == 2 and parts[1].strip() else None



def _raw_cell_count(line: str) -> int:
    """Cells of a table row as written (GFM splits on every unescaped pipe), so that text
    a parser would drop can be reported; blockquote markers before the row are not cells."""
    cells = _UNESCAPED_PIPE.split(_QUOTE_MARKERS.sub("", line).strip())
    if cells and cells[0].strip() == "":
        cells = cells[1:]
    if cells and cells[-1].strip() == "":
        cells = cells[:-1]
    return len(cells)


def read_framework(path: str | Path, root: str | None = None) -> ReadResult:
    """Read the framework in the site at (or around) `path` into the model, with every problem found."""
    return _Reader(Path(path), root).read()
