"""Front matter: the YAML block between `---` lines at the top of a page, read safely.

Safe means: no tags that build objects, no anchors or aliases (front matter never needs
them, and they are the way to a "billion laughs"), a size bound, duplicate keys refused,
and every scalar kept as the text the author wrote, so `NO`, `08` or `1.10` stay
themselves. Typed fields (`nav_order`, `has_children`) are converted explicitly after.
Liquid alone gets the values typed as Jekyll types them (`load_typed`): there `false` must be false.

The same loader reads the theme (`theme.yaml`), with the same limits: `compose` gives its
node tree, with lines, for the theme's own checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml
from yaml.events import AliasEvent
from yaml.nodes import Node

MAX_YAML = 64 * 1024  # bytes of YAML; real front matter is a few hundred, the shipped theme a few thousand
MAX_FRONT_MATTER = MAX_YAML


class YamlError(Exception):
    """Carries the 1-based line of the file (0: the file as a whole) and a message saying what to fix."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


FrontMatterError = YamlError  # the name the page reader knows it by


@dataclass(frozen=True)
class Page:
    """A page split in two: its front matter (None when it has none) and its body."""

    meta: dict | None
    body: str
    body_line: int  # the page line the body starts on (1-based)


class _StringLoader(yaml.BaseLoader):
    """YAML with every scalar a string (no YAML 1.1 retyping), no aliases, no duplicate keys.

    Lines it reports are lines of the file: the YAML text starts on `first_line`."""

    first_line = 1
    what = "YAML"

    def _line(self, mark) -> int:
        return mark.line + self.first_line

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(AliasEvent):
            event = self.peek_event()
            raise YamlError(self._line(event.start_mark),
                            f"YAML anchors and aliases (*name) are not allowed in {self.what}")
        return super().compose_node(parent, index)

    def compose_mapping_node(self, anchor):  # type: ignore[override]
        node = super().compose_mapping_node(anchor)
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            key = str(key_node.value)
            line = self._line(key_node.start_mark)
            if key in seen:
                raise YamlError(line, f"duplicate key '{key}' (first on line {seen[key]}); keep one")
            seen[key] = line
        return node


def _loader(text: str, first_line: int, what: str, limit: int = MAX_YAML,
            kind: type[_StringLoader] = _StringLoader) -> _StringLoader:
    if len(text.encode("utf-8")) > limit:
        raise YamlError(first_line - 1, f"{what} is larger than {limit // 1024} KiB; shorten it")
    loader = kind(text)
    loader.first_line, loader.what = first_line, what
    return loader


def _problem(exc: yaml.YAMLError, first_line: int, what: str) -> YamlError:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + first_line if mark is not None else first_line
    problem = getattr(exc, "problem", None) or str(exc)
    context, cmark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and cmark is not None and cmark.line + first_line != line:
        problem += f" ({context} started on line {cmark.line + first_line})"
    return YamlError(line, f"{what} is not valid YAML: {problem}")


def compose(text: str, first_line: int = 1, what: str = "YAML", limit: int = MAX_YAML) -> Node | None:
    """The node tree of safe YAML (scalars are strings; each node knows its line), or None
    when the text holds no document. Raises YamlError naming the line of the file. `limit`:
    the size bound in bytes (data files, such as an FT job family, may be larger than front matter)."""
    return _run(_loader(text, first_line, what, limit), "get_single_node", first_line, what)


def load(text: str, first_line: int = 1, what: str = "YAML"):
    """Safe YAML as plain values: strings, lists and dicts (None for no document)."""
    return _run(_loader(text, first_line, what), "get_single_data", first_line, what)


class _TypedLoader(_StringLoader):
    """`_StringLoader`, but a plain (unquoted) scalar is typed as Ruby's YAML loader (Psych, YAML 1.1)
    types it, for Liquid: `false`/`no`/`off` and `true`/`yes`/`on` (any case) are booleans, `~`,
    `null` and an empty value are nil, whole numbers and decimals are numbers. Quoted scalars, dates
    and everything else stay text."""

    def construct_scalar(self, node):  # type: ignore[override]
        value = super().construct_scalar(node)
        return _ruby_scalar(value) if node.style is None and isinstance(value, str) else value


# Psych's ScalarScanner (Ruby's YAML loader, as Jekyll 4 uses it), for the types Liquid can tell apart
_WORDLIKE = re.compile(r"^[^\d.:-]?[^\W\d]|^[^\d.:-]?[_\s!@#$%^&*(){}<>|/\\~;=]")
_NULL = re.compile(r"^(?:~|null)$", re.IGNORECASE)
_BOOL_TRUE = re.compile(r"^(?:yes|true|on)$", re.IGNORECASE)
_BOOL_FALSE = re.compile(r"^(?:no|false|off)$", re.IGNORECASE)
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9]){1,2}$")
_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_,]*)?\.[0-9]*(?:[eE][-+][0-9]+)?$")
_INT = re.compile(r"^[-+]?(?:0b[0-1_,]+|0[0-7_,]+|0|[1-9](?:[0-9]|,[0-9]|_[0-9])*|0x[0-9a-fA-F_,]+)$")


def _ruby_scalar(value: str):
    """A plain scalar as Psych's `tokenize` types it: words (nil, booleans; any other word is text),
    base-60 integers (`12:30`), decimals (`1.`, `1,000.5`; an exponent needs its sign), integers
    (`1,000`, `010` octal, `0x1F`, `0b101`). Dates, times, symbols and infinities stay text."""
    if not value:
        return None
    if _WORDLIKE.match(value) or "\n" in value:
        if len(value) > 5:
            return value
        if _NULL.match(value):
            return None
        if _BOOL_TRUE.match(value):
            return True
        if _BOOL_FALSE.match(value):
            return False
        return value
    try:
        if _SEXAGESIMAL.match(value):
            # (as Psych adds them up: part i times 60 ** |i - 2|, so `12:30` is 45000, not 750)
            parts = [int(p.replace("_", "")) for p in value.split(":")]
            return sum(p * 60 ** abs(i - 2) for i, p in enumerate(parts))
        if _FLOAT.match(value) and value.lstrip("+-") != ".":
            return float(re.sub(r"\.([eE]|$)", r"\1", value.replace(",", "").replace("_", "")))
        if _INT.match(value):
            digits = value.replace(",", "").replace("_", "")
            sign, digits = (-1 if digits.startswith("-") else 1), digits.lstrip("+-")
            base = 2 if digits[:2] == "0b" else 16 if digits[:2] == "0x" else 8 if digits[:1] == "0" and len(digits) > 1 else 10
            return sign * int(digits[2:] if base in (2, 16) else digits, base)
    except ValueError:  # (Psych fails the build on these: `0b_`)
        return value
    return value


def load_typed(text: str, first_line: int = 1, what: str = "YAML"):
    """Safe YAML (the limits of `load`) with plain scalars typed as Jekyll's YAML loader types them:
    what Liquid sees (`{% if site.x %}` with `x: false` is false). Never for the model: it reads text."""
    return _run(_loader(text, first_line, what, kind=_TypedLoader), "get_single_data", first_line, what)


def _run(loader: _StringLoader, step: str, first_line: int, what: str):
    """One loader step, its YAML errors as YamlError naming the line of the file."""
    try:
        return getattr(loader, step)()
    except yaml.YAMLError as exc:
        raise _problem(exc, first_line, what) from None
    finally:
        loader.dispose()


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
    meta = load("\n".join(lines[1:end]), first_line=2, what="front matter")  # the YAML starts on line 2
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
