"""Front matter: the YAML block between `---` lines at the top of a page, read safely.

Safe means: no tags that build objects, no anchors or aliases (front matter never needs
them, and they are the way to a "billion laughs"), a size bound, duplicate keys refused,
and every scalar kept as the text the author wrote, so `NO`, `08` or `1.10` stay
themselves. Typed fields (`nav_order`, `has_children`) are converted explicitly after.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode

MAX_FRONT_MATTER = 64 * 1024  # bytes of YAML; real front matter is a few hundred


class FrontMatterError(Exception):
    """Carries the 1-based line within the page and a message saying what to fix."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Page:
    """A page split in two: its front matter (None when it has none) and its body."""

    meta: dict | None
    body: str
    body_line: int  # the page line the body starts on (1-based)


class _StringLoader(yaml.BaseLoader):
    """Lines it reports are page lines (the YAML starts on line 2).

    YAML with every scalar a string (no YAML 1.1 retyping), no aliases, no duplicate keys."""

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(AliasEvent):
            event = self.peek_event()
            raise FrontMatterError(
                event.start_mark.line + 2, "YAML anchors and aliases (*name) are not allowed in front matter"
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):  # type: ignore[override]
        if isinstance(node, MappingNode):
            seen: dict[str, int] = {}
            for key_node, _ in node.value:
                key = str(key_node.value)
                if key in seen:
                    raise FrontMatterError(
                        key_node.start_mark.line + 2,
                        f"duplicate key '{key}' (first on line {seen[key]}); keep one",
                    )
                seen[key] = key_node.start_mark.line + 2
        return super().construct_mapping(node, deep=deep)


def split(text: str) -> Page:
    """Split a normalised page (LF newlines, no BOM). Line numbers are those of the page."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return Page(None, text, 1)
    for end in range(1, len(lines)):
        if lines[end].rstrip() in ("---", "..."):
            break
    else:
        raise FrontMatterError(1, "front matter starts with '---' but has no closing '---' line")
    yaml_text = "\n".join(lines[1:end])
    if len(yaml_text.encode("utf-8")) > MAX_FRONT_MATTER:
        raise FrontMatterError(1, f"front matter is larger than {MAX_FRONT_MATTER // 1024} KiB; shorten it")
    try:
        meta = yaml.load(yaml_text, Loader=_StringLoader)  # noqa: S506 - BaseLoader subclass: strings only
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 2
        problem = getattr(exc, "problem", None) or str(exc)
        context, cmark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and cmark is not None and cmark.line + 2 != line:
            problem += f" ({context} started on line {cmark.line + 2})"
        raise FrontMatterError(line, f"front matter is not valid YAML: {problem}") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise FrontMatterError(2, "front matter must be a set of 'key: value' lines")
    return Page(meta, "\n".join(lines[end + 1 :]), end + 2)


_TRUE = {"true", "yes", "on"}
_FALSE = {"false", "no", "off", ""}


def flag(value: object) -> bool | None:
    """A yes/no front-matter field; None when the text is neither."""
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    return None


def text(value: object) -> str | None:
    """A text field: strings as written; lists or mappings are not text (None)."""
    return value.strip() if isinstance(value, str) else None
