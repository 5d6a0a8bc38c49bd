"""Where the career framework is in a Jekyll site: found by its shape in just-the-docs'
navigation, an index page whose child pages (crafts, `parent: <index title>`) have
`Level N (Name)` child pages (`parent: <craft title>`, `grand_parent: <index title>`).
The rest of the site (home page, docs, FAQ) is not the framework's.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from cfexport import frontmatter
from cfexport.model import Problem, Source
from cfexport.readers.jekyll.site import Site, SitePage

_LEVEL_LIKE = re.compile(r"^\s*level\b", re.IGNORECASE)


@dataclass
class Tree:
    """One framework found in the site: its index, crafts and each craft's level pages."""

    index: SitePage
    crafts: list[SitePage]
    levels: dict[str, list[SitePage]]  # craft file -> its level pages

    @property
    def folder(self) -> str:
        return posixpath.dirname(self.index.file)

    def folders(self) -> list[str]:
        """The folders that hold the framework: the index page's, unless that is the site root
        (the framework is the site's home page) and the crafts have folders of their own; then
        theirs, so that the rest of the site is not taken for the framework."""
        if self.folder:
            return [self.folder]
        crafts = sorted({posixpath.dirname(c.file) for c in self.crafts})
        return crafts if crafts and "" not in crafts else [""]

    def files(self) -> set[str]:
        return {self.index.file, *(c.file for c in self.crafts), *(p.file for ps in self.levels.values() for p in ps)}


def parent(page: SitePage) -> str | None:
    return frontmatter.text(page.meta.get("parent"))


def grand_parent(page: SitePage) -> str | None:
    return frontmatter.text(page.meta.get("grand_parent"))


def inside(file: str, folder: str) -> bool:
    return not folder or file == folder or file.startswith(folder + "/")


class Finder:
    """Finds the one framework the user means, and sorts the site's problems into the
    framework's own and the rest of the site's (information only)."""

    def __init__(self, site: Site, folder: Path, root_title: str | None, problems: list[Problem]):
        self.site = site
        self.folder = folder
        self.root_title = root_title
        self.problems = problems
        rel = folder.absolute().relative_to(site.root.absolute()).as_posix()
        self.scope = "" if rel == "." else rel  # the folder given, relative to the site root

    def error(self, source: Source, message: str) -> None:
        self.problems.append(Problem("error", source, message))

    def trees(self) -> list[Tree]:
        """Every framework in the site, found by its shape."""
        pages = self.site.pages
        by_parent: dict[str, list[SitePage]] = {}
        for page in pages:
            if parent(page):
                by_parent.setdefault(parent(page), []).append(page)
        trees = []
        for index in pages:
            if not index.title:
                continue
            crafts = [c for c in by_parent.get(index.title, [])
                      if grand_parent(c) in (None, parent(index))]
            levels = {c.file: [lv for lv in by_parent.get(c.title, []) if grand_parent(lv) == index.title]
                      for c in crafts}
            if any(_LEVEL_LIKE.match(lv.title) for lvs in levels.values() for lv in lvs):
                trees.append(Tree(index, crafts, levels))
        return trees

    def pick_tree(self, scope: str) -> Tree | None:
        found = [t for t in self.trees() if any(inside(f, scope) for f in t.files())]
        if not found:
            found = self.partial_trees(scope)
        if self.root_title is not None:
            chosen = [t for t in found if same_name(t.index.title, self.root_title)]
            if not chosen:
                names = ", ".join(f"'{t.index.title}'" for t in found) or "none"
                self.problems.append(Problem("error", Source(str(self.folder), 0), f"no career framework titled "
                                             f"'{self.root_title}' (--root); frameworks found: {names}", "unknown-root"))
                return None
            found = chosen
        if not found:
            self.error(Source(str(self.folder), 0), "no career framework found: expected an index page whose "
                       "child pages (crafts, 'parent: <index title>') have 'Level N (Name)' child pages "
                       "('parent: <craft title>', 'grand_parent: <index title>')")
            return None
        if len(found) > 1:
            names = "; ".join(f"'{t.index.title}' ({t.index.file})" for t in found)
            self.error(Source(str(self.folder), 0), f"{len(found)} career frameworks found: {names}; "
                       "pick one with --root TITLE, or point --framework at its folder")
            return None
        return found[0]

    def partial_trees(self, scope: str) -> list[Tree]:
        """No complete framework: the one index page in scope that has children (or that stands alone),
        so that what is missing can be reported."""
        pages = [p for p in self.site.pages if inside(p.file, scope)]
        titles = {p.title for p in pages}
        with_children = [p for p in pages if p.title and any(parent(c) == p.title and not grand_parent(c)
                                                             for c in pages)
                         and parent(p) not in titles]
        candidates = with_children or [p for p in pages if not parent(p)]
        if len(candidates) != 1:
            return []
        index = candidates[0]
        crafts = [c for c in pages if parent(c) == index.title and not grand_parent(c)]
        levels = {c.file: [lv for lv in pages if parent(lv) == c.title and grand_parent(lv) == index.title]
                  for c in crafts}
        return [Tree(index, crafts, levels)]

    def keep_site_problems(self, tree: Tree | None, scope: str) -> None:
        """Problems of pages that are the framework's (or inside its folder, or the folder given)
        stand; those of the rest of the site are information only (`validate --verbose`)."""
        folders = ([scope] if scope else []) + (tree.folders() if tree else [])
        files = tree.files() if tree else set()
        for problem in self.site.problems:
            file = problem.source.file
            ours = file in files or file in ("_config.yml", ".") or any(inside(file, f) for f in folders) \
                or (tree is None and not scope)
            if ours or problem.severity == "info":
                self.problems.append(problem)
            else:
                self.problems.append(Problem("info", problem.source,
                                             f"{problem.message} (not part of the framework)"))

    def check_strays(self, tree: Tree, scope: str) -> None:
        """Pages in the framework's folder that would be part of it but for a broken `parent`, or a
        level page the site would not nest under its craft: never silently dropped."""
        titles = {p.title for p in self.site.pages}
        crafts = {c.title for c in tree.crafts}
        files = tree.files()
        folders = tree.folders()
        for page in self.site.pages:
            up, grand = parent(page), grand_parent(page)
            if page.file in files or up is None:
                continue
            nested = grand == tree.index.title or up in crafts or up == tree.index.title
            if not nested and not any(inside(page.file, f) for f in folders):
                continue
            if up not in titles:
                if grand is not None:
                    hint = f"crafts are: {', '.join(sorted(crafts)) or 'none'}"
                else:
                    hint = f"it should be '{tree.index.title}'"
                self.error(Source(page.file, page.field_line("parent")), f"parent '{up}' does not exist; {hint}")
            elif up in crafts and grand != tree.index.title:
                self.error(Source(page.file, page.field_line("grand_parent")),
                           f"grand_parent '{grand or ''}' does not exist; it should be '{tree.index.title}'")
            elif up == tree.index.title and grand is not None and grand != parent(tree.index):
                self.error(Source(page.file, page.field_line("grand_parent")),
                           f"a craft page has grand_parent '{grand}': remove it, or it is not nested under "
                           f"'{tree.index.title}'")



def same_name(a: str, b: str) -> bool:
    """Titles as just-the-docs matches them, give or take case and white space."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()
