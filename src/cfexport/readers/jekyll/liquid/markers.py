"""Line markers: invisible runs of U+2000/U+2001 carrying source line numbers, and the line map.

See the package docstring for how they survive rendering.
"""

from __future__ import annotations

from typing import Any, Mapping

# --- markers --------------------------------------------------------------------------------

_Z, _O = "\u2000", "\u2001"
_BITS = 20
_MARK_LEN = 1 + _BITS
_MAX_MARK = (1 << _BITS) - 1
_TO_MARK = str.maketrans("01", _Z + _O)
_FROM_MARK = {ord(_Z): "0", ord(_O): "1"}
_SANITISE = str.maketrans({_Z: "\u2002", _O: "\u2003"})  # canonical equivalents
_DROP_MARKS = str.maketrans({_Z: None, _O: None})


def _marker(k: int) -> str:
    return _O + format(k, f"0{_BITS}b").translate(_TO_MARK)


def _sanitise(value: Any) -> Any:
    """Config/front-matter values with any marker character replaced by its equivalent."""
    if isinstance(value, str):
        return value.translate(_SANITISE) if (_Z in value or _O in value) else value
    if isinstance(value, Mapping):
        return {_sanitise(k): _sanitise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_sanitise(v) for v in value]
    return value


def _split_marked(rendered: str, body_line: int) -> tuple[str, list[int]]:
    out_lines = rendered.split("\n")
    lines: list[int] = []
    texts: list[str] = []
    cur = body_line
    for ln in out_lines:
        if ln[:1] == _O and len(ln) >= _MARK_LEN:
            bits = ln[1:_MARK_LEN]
            if not bits.strip(_Z + _O):
                cur = body_line + int(bits.translate(_FROM_MARK), 2)
                ln = ln[_MARK_LEN:]
        lines.append(cur)
        texts.append(ln)
    text = "\n".join(texts)
    if _Z in text or _O in text:
        text = text.translate(_DROP_MARKS)
    return text, lines
