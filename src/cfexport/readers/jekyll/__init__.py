"""The Jekyll (just-the-docs) reader: a site's pages read as Jekyll publishes them."""

from __future__ import annotations

from pathlib import Path

from cfexport.model import ReadResult


def read_site(path: Path, root: str | None = None) -> ReadResult:
    from cfexport.readers.jekyll.pages import read_framework

    return read_framework(path)
