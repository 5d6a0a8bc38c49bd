"""Readers: each turns one kind of framework source into the canonical model
(`cfexport.model`). A reader knows its input format and nothing of the exporters; the
readers are plugins (`cfexport.readers.registry`), the Jekyll site reader the default for
a folder of pages."""

from __future__ import annotations

from pathlib import Path

from cfexport.model import ReadResult


def read_framework(path: str | Path, root: str | None = None, from_format: str | None = None) -> ReadResult:
    """Read the framework at `path` into the model, with every problem found: a Jekyll site
    (or a folder inside one) unless another reader recognises the path, or the reader named
    by `from_format`. `root` picks one framework by its index page's title when a Jekyll
    site holds several."""
    from cfexport.readers.registry import read

    return read(Path(path), root, from_format)
