"""Readers: each turns one kind of framework source into the canonical model
(`cfexport.model`). A reader knows its input format and nothing of the exporters."""

from __future__ import annotations

from pathlib import Path

from cfexport.model import ReadResult


def read_framework(path: str | Path, root: str | None = None) -> ReadResult:
    """Read the framework at `path` (a Jekyll site, or a folder inside one) into the model,
    with every problem found. `root` picks one framework by its index page's title when
    the site holds several."""
    from cfexport.readers.jekyll import read_site

    return read_site(Path(path), root)
