"""The Jekyll (just-the-docs) reader: a site's pages read as Jekyll publishes them.

`site` decides which files are pages and their URLs, `liquid` renders Liquid, `kramdown`
undoes kramdown's additions to CommonMark, `inline` turns cells into text, and `framework`
finds the career framework in the site and builds the model.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from cfexport.model import ReadResult


def read_site(path: Path, root: str | None = None) -> ReadResult:
    from cfexport.readers.jekyll.framework import read_framework

    return read_framework(path, root)


class JekyllReader:
    """The `jekyll` reader (entry point `cfexport.readers`): the default for a folder."""

    name: ClassVar[str] = "jekyll"
    looks_for: ClassVar[str] = ("a Jekyll (just-the-docs) site, or a folder inside one: an index page, craft pages "
                                "with area headings, 'Level N (Name)' pages with 'Area | Description' tables "
                                "(the default for any folder)")

    def recognise(self, path: Path) -> int:
        return 1 if path.is_dir() else 0

    def read(self, path: Path, root: str | None = None) -> ReadResult:
        return read_site(Path(path), root)
