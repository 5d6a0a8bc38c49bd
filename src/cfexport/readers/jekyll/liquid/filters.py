"""Jekyll's filters, on top of Liquid's standard ones."""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from io import StringIO
from typing import Any, Callable, Mapping
from urllib.parse import quote, quote_plus

from liquid import Undefined
from liquid.context import RenderContext
from liquid.exceptions import FilterArgumentError
from liquid.filter import with_context

from cfexport.readers.jekyll.liquid.state import _STATE, SEQUENCE_LIMIT, LiquidSite


def _site() -> LiquidSite:
    state = _STATE.get()
    assert state is not None
    return state.site


# --- Jekyll filters -------------------------------------------------------------------------


def _is_absolute(url: str) -> bool:
    """Addressable's `absolute?`: the URL has a scheme."""
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:", url))


def _normalise(url: str) -> str:
    return quote(url, safe="/:@!$&'()*+,;=-._~%?#[]")


def _leading_slash(part: str) -> str:
    return part if not part or part.startswith("/") else "/" + part


def _s(value: object) -> str:
    if value is None or _undefined(value):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _undefined(value: object) -> bool:
    return isinstance(value, Undefined)


def relative_url(value: object) -> object:
    if value is None or _undefined(value):
        return None
    url = _s(value)
    if _is_absolute(url):
        return url
    baseurl = _s(_site().config.get("baseurl"))
    if baseurl.endswith("/"):
        baseurl = baseurl[:-1]
    return _normalise(_leading_slash(baseurl) + _leading_slash(url))


def absolute_url(value: object) -> object:
    if value is None or _undefined(value):
        return None
    url = _s(value)
    if _is_absolute(url):
        return url
    rel = relative_url(url)
    site_url = _site().config.get("url")
    if site_url is None:
        return rel
    return _normalise(_s(site_url) + str(rel))


def markdownify(value: object) -> str:
    return _s(value)  # the page goes to a markdown parser anyway


def _plain(value: object) -> object:
    if value is None or _undefined(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, range)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def jsonify(value: object) -> str:
    return json.dumps(_plain(value), ensure_ascii=False, separators=(",", ":"))


_SLUG_RE = {
    "raw": re.compile(r"\s+"),
    "default": re.compile(r"[\W_]+"),
    "pretty": re.compile(r"[^\w._~!$&'()+,;=@]+|_+"),
    "ascii": re.compile(r"[^a-zA-Z0-9]+"),
}


def slugify(value: object, mode: object = "default", cased: object = False) -> str:
    """Jekyll's `Utils.slugify`."""
    text = _s(value)
    mode = _s(mode) or "default"
    if mode == "none" or mode not in (*_SLUG_RE, "latin"):
        return text if mode == "none" else (text if cased else text.lower())
    if mode == "latin":
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
        mode = "ascii"
    if mode == "pretty":
        slug = re.sub(r"[^\w._~!$&'()+,;=@]+", "-", text)
    else:
        slug = _SLUG_RE[mode].sub("-", text)
    slug = re.sub(r"^-+|-+$", "", slug) if mode != "raw" else slug.strip("-")
    return slug if cased is True else slug.lower()


def xml_escape(value: object) -> str:
    return (
        _s(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def cgi_escape(value: object) -> str:
    return quote_plus(_s(value), safe="~")


def uri_escape(value: object) -> str:
    return quote(_s(value), safe="!#$&'()*+,/:;=?@[]~%")


def number_of_words(value: object, _mode: object = None) -> int:
    return len(_s(value).split())


def normalize_whitespace(value: object) -> str:
    return " ".join(_s(value).split())


def array_to_sentence_string(value: object, connector: object = "and") -> str:
    items = [_s(v) for v in _seq(value)]
    conn = _s(connector)
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    if len(items) == 2:
        return f"{items[0]} {conn} {items[1]}"
    return f"{', '.join(items[:-1])}, {conn} {items[-1]}"


def to_integer(value: object) -> object:
    try:
        return int(float(_s(value))) if not isinstance(value, bool) else int(value)
    except ValueError:
        return 0


def _seq(value: object) -> list[Any]:
    if value is None or _undefined(value):
        return []
    if isinstance(value, Mapping):
        return list(value.values())
    if isinstance(value, str):
        return [value]
    if isinstance(value, range) and len(value) > SEQUENCE_LIMIT:
        raise FilterArgumentError(f"sequence longer than {SEQUENCE_LIMIT}", token=None)
    try:
        return list(value)  # type: ignore[call-overload]
    except TypeError:
        return [value]


def _prop(item: object, prop: str) -> object:
    for part in prop.split("."):
        if isinstance(item, Mapping):
            item = item.get(part)
        else:
            return None
    return item


def where(value: object, prop: object = None, target: object = None) -> object:
    """Jekyll's `where`: items whose property, as a string, equals the target as a string."""
    if not prop or isinstance(target, (list, Mapping)):
        return value
    out = []
    want = None if target is None or _undefined(target) else _s(target)
    for item in _seq(value):
        have = _prop(item, _s(prop))
        if want is None:
            if have is None:
                out.append(item)
        elif isinstance(have, str):
            if have == want:
                out.append(item)
        elif any(_s(h) == want for h in (have if isinstance(have, list) else [have])):
            out.append(item)
    return out


@with_context
def where_exp(value: object, variable: object, expression: object, *, context: RenderContext) -> object:
    name, expr = _s(variable).strip(), _s(expression)
    if not re.fullmatch(r"[A-Za-z_][\w-]*", name) or "%}" in expr or "{%" in expr:
        raise FilterArgumentError("where_exp: invalid arguments", token=None)
    test = context.env.from_string("{% if " + expr + " %}1{% endif %}")
    out = []
    for item in _seq(value):
        buf = StringIO()
        test.render_with_context(context, buf, partial=True, **{name: item})
        if buf.getvalue() == "1":
            out.append(item)
    return out


def sort(value: object, prop: object = None, nils: object = "first") -> list[Any]:
    items = _seq(value)
    last = _s(nils) == "last"

    def key(item: object) -> tuple[int, int, Any]:
        v = _prop(item, _s(prop)) if prop is not None and not _undefined(prop) else item
        if v is None or _undefined(v):
            return (1 if last else -1, 0, "")
        if isinstance(v, bool):
            return (0, 1, str(v))
        if isinstance(v, (int, float)):
            return (0, 0, v)
        return (0, 1, str(v))

    return sorted(items, key=key)


def group_by(value: object, prop: object) -> list[dict[str, Any]]:
    groups: dict[str, list[Any]] = {}
    for item in _seq(value):
        groups.setdefault(_s(_prop(item, _s(prop))), []).append(item)
    return [{"name": k, "items": v, "size": len(v)} for k, v in groups.items()]


def _guard(func: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse to walk an enormous range, e.g. `{{ (1..1000000000) | join }}`."""

    @functools.wraps(func)
    def guarded(value: object, *args: Any, **kwargs: Any) -> Any:
        if isinstance(value, range) and len(value) > SEQUENCE_LIMIT:
            raise FilterArgumentError(f"sequence longer than {SEQUENCE_LIMIT}", token=None)
        return func(value, *args, **kwargs)

    return guarded


_JEKYLL_FILTERS: dict[str, Callable[..., Any]] = {
    "relative_url": relative_url,
    "absolute_url": absolute_url,
    "markdownify": markdownify,
    "smartify": markdownify,
    "jsonify": jsonify,
    "slugify": slugify,
    "xml_escape": xml_escape,
    "cgi_escape": cgi_escape,
    "uri_escape": uri_escape,
    "number_of_words": number_of_words,
    "normalize_whitespace": normalize_whitespace,
    "array_to_sentence_string": array_to_sentence_string,
    "to_integer": to_integer,
    "where": where,
    "where_exp": where_exp,
    "sort": sort,
    "group_by": group_by,
}
