"""The Jekyll (just-the-docs) reader: a site's pages read as Jekyll publishes them.

`site` decides which files are pages and their URLs, `liquid` renders Liquid, `kramdown`
undoes kramdown's additions to CommonMark, `inline` turns cells into text, and `framework`
finds the career framework in the site and builds the model.
"""

from __future__ import annotations

from pathlib import Path

from cfexport.model import ReadResult


def read_site(path: Path, root: str | None = None) -> ReadResult:
    from cfexport.readers.jekyll.framework import read_framework

    return read_framework(path, root)
