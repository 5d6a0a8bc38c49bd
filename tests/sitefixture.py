"""The just-the-docs fixture site (tests/fixtures/jtd-site) and its hand-written golden file.

`make_site(tmp_path)` copies the site to `tmp_path / "site"` and adds the two symlinks that are not
stored in git:

- INSIDE_LINK, `site/docs/nav-alias -> navigation`: a relative symlink to a folder inside the site.
  Jekyll (outside safe mode) follows it and publishes the Navigation pages a second time under
  /docs/nav-alias/. None of it is framework text; a reader may follow it or not, but must not loop,
  crash or read framework pages from it.
- OUTSIDE_LINK, `site/careers/outside -> tmp_path/outside`: an absolute symlink to a folder outside
  the site, holding a Level 7 page with front matter for the framework's craft. The reader must leave
  it out and warn (Jekyll's safe mode, used by GitHub Pages, drops symlinks that leave the site).

`load_expected()` returns tests/fixtures/jtd-site.expected.json: what the published framework says.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
SITE = FIXTURES / "jtd-site"
EXPECTED = FIXTURES / "jtd-site.expected.json"

INSIDE_LINK = Path("docs/nav-alias")  # -> navigation (relative, inside the site)
OUTSIDE_LINK = Path("careers/outside")  # -> <tmp_path>/outside (absolute, outside the site)
OUTSIDE_PAGE = "level7.md"

OUTSIDE_TEXT = """\
---
title: Level 7 (Senior)
parent: ML and Data Engineering Craft
grand_parent: Engineering Career Framework
nav_order: 7
---

# Senior ML and Data Engineer - Level 7

## Craft

|Area          | Description       |
|:-------------|:------------------|
| [ML Ops]({{ site.baseurl }}/careers/engineering/#ml-ops) | OUTSIDE-SYMLINK statement: at level 7 I set the ML Ops standards for the company. |
| Collaboration | OUTSIDE-SYMLINK statement: at level 7 I lead work across teams. |
"""


def make_site(tmp_path: Path, *, symlinks: bool = True) -> Path:
    """Copy the fixture site to `tmp_path / "site"`, add the symlinks, and return the site folder.

    With `symlinks=False` the copy has no symlinks (and no outside folder). If the platform refuses
    to create symlinks (Windows without the privilege), the calling test is skipped.
    """
    site = tmp_path / "site"
    shutil.copytree(SITE, site, symlinks=True)
    if not symlinks:
        return site
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / OUTSIDE_PAGE).write_text(OUTSIDE_TEXT, encoding="utf-8", newline="\n")
    try:
        os.symlink("navigation", site / INSIDE_LINK, target_is_directory=True)
        os.symlink(outside.resolve(), site / OUTSIDE_LINK, target_is_directory=True)
    except (OSError, NotImplementedError) as exc:  # pragma: no cover - platform dependent
        import pytest

        pytest.skip(f"cannot create symlinks here: {exc}")
    return site


def load_expected() -> dict:
    """The golden file: the framework as the published site shows it, written by hand."""
    return json.loads(EXPECTED.read_text(encoding="utf-8"))
