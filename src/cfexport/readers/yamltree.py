"""YAML data with the line of every value, for the readers of YAML data (FT job families,
Monzo front matter). The YAML is read by `cfexport.frontmatter` (strings only, no aliases,
size bound, duplicate keys refused); this walks its node tree and says where a value is
when it has the wrong shape."""

from __future__ import annotations

import re

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_DASH_TAB = re.compile(r"^( *-)\t+", re.M)


def yaml12_tabs(text: str) -> str:
    """A tab after a list item's `-` is separating white space in YAML 1.2 (js-yaml, which the
    Monzo and FT sites use, reads it); PyYAML's YAML 1.1 refuses it. Made a space: lines and
    columns stay the same."""
    return _DASH_TAB.sub(lambda m: m.group(1) + " " * len(m.group(0)[len(m.group(1)):]), text)


class ShapeError(Exception):
    """A value of the wrong shape: the 1-based line of the file and what to fix."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


class Tree:
    """Lines of one YAML text that starts on line `first_line` of its file."""

    def __init__(self, first_line: int = 1):
        self.first_line = first_line

    def line(self, node: Node) -> int:
        return node.start_mark.line + self.first_line

    def fail(self, node: Node, message: str) -> ShapeError:
        return ShapeError(self.line(node), message)

    @staticmethod
    def is_null(node: Node | None) -> bool:
        return node is None or (isinstance(node, ScalarNode) and node.value in ("", "~", "null", "Null", "NULL")
                                and node.style is None)

    def mapping(self, node: Node, what: str) -> dict[str, tuple[Node, Node]]:
        """Key -> (key node, value node), in file order."""
        if not isinstance(node, MappingNode):
            raise self.fail(node, f"{what} must be a mapping of 'key: value' lines")
        out = {}
        for key, value in node.value:
            if not isinstance(key, ScalarNode):
                raise self.fail(key, f"a key of {what} must be a plain name")
            out[str(key.value)] = (key, value)
        return out

    def items(self, node: Node | None, what: str) -> list[Node]:
        """A list; an empty value is an empty list."""
        if self.is_null(node):
            return []
        if not isinstance(node, SequenceNode):
            raise self.fail(node, f"{what} must be a list ('- ' items)")
        return list(node.value)

    def text(self, node: Node | None, what: str, at: Node | None = None) -> str:
        """A text value; an empty value is ''."""
        if node is None:
            return ""
        if not isinstance(node, ScalarNode):
            raise self.fail(node, f"{what} must be text, not a list or a mapping")
        return "" if self.is_null(node) else str(node.value)

    def integer(self, node: Node, what: str) -> int:
        value = self.text(node, what).strip()
        if not value.isdigit() or not value.isascii():
            raise self.fail(node, f"{what} must be a whole number, not '{value}'")
        return int(value)

    def get(self, fields: dict[str, tuple[Node, Node]], key: str) -> Node | None:
        pair = fields.get(key)
        return pair[1] if pair else None
