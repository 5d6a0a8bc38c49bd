"""The theme's problems, all of them: its keys and types (`cfexport.theme.check_theme`), then the
values the exporters themselves refuse (a paper size, a colour, a margin), each at the line of
the key it names. What `validate`, `build`, `build --watch` and the web page report alike."""

from __future__ import annotations

import re
from pathlib import Path

from cfexport.model import Problem, Source


def theme_problems(templates: Path) -> list:
    """Every problem of the theme: its keys and types (`check_theme`), then, when those are
    sound, the values the exporters themselves refuse (a paper size, a colour, a margin), each
    at the line of the key it names, so that `validate` says so before a build does. The
    shipped theme is known good: checking it again would only load the document libraries."""
    from cfexport.theme import THEME_FILE, check_theme, shipped_templates

    problems = check_theme(templates)
    path = Path(templates) / THEME_FILE
    try:
        if any(p.severity == "error" for p in problems) or not path.is_file() \
                or path.read_bytes() == (shipped_templates() / THEME_FILE).read_bytes():
            return problems
    except OSError:
        return problems
    from cfexport.exporters import card_settings, spreadsheet, word_template
    from cfexport.exporters.base import ExportError

    lines = path.read_text("utf-8", errors="replace").split("\n")
    for check in (word_template.settings, spreadsheet.settings, card_settings.load_settings):
        try:
            check(Path(templates))
        except ExportError as exc:
            message = exc.message.split(f"{THEME_FILE}: ", 1)[-1]
            source = exc.source or Source(str(path), _key_line(lines, message))
            if source.line and any(p.source == source for p in problems):
                continue  # the same value refused by another exporter: said once
            problems.append(Problem("error", source, message))
    return problems


def _key_line(lines: list[str], message: str) -> int:
    """The line of the theme the message is about: where the value it quotes is written
    ("... not 'A5'" -> `paper: A5`), else the key it names ("pdf: card_margin: 90 must be ..."
    -> `card_margin:` under `pdf:`); 0 (the whole file) when neither is found."""
    for value in re.findall(r"'([^'\n]+)'", message):
        written = re.compile(rf"^\s*[\w-]+\s*:\s*[\"']?{re.escape(value)}[\"']?\s*(?:#.*)?$")
        found = next((i for i, line in enumerate(lines) if written.match(line)), None)
        if found is not None:
            return found + 1
    start = None
    for name in re.findall(r"([A-Za-z_][\w-]*)(?::|\s+must\b)", message):
        pattern = re.compile(rf"^\s*{re.escape(name)}\s*:")
        found = next((i for i in range(start or 0, len(lines)) if pattern.match(lines[i])), None)
        if found is not None:
            start = found
    return start + 1 if start is not None else 0
