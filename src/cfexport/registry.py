"""Exporters are plugins, found through the entry-point group `cfexport.exporters`.

The built-in ones are declared there too (pyproject.toml), so a third-party package adds
a format the same way. Only the exporters asked for are imported.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

GROUP = "cfexport.exporters"


class UnknownFormat(Exception):
    pass


def available() -> dict[str, EntryPoint]:
    """Installed exporters by name (nothing is imported)."""
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=GROUP):
        if ep.name in found and found[ep.name].value != ep.value:
            raise UnknownFormat(
                f"two exporters are installed under the name '{ep.name}' "
                f"({found[ep.name].value} and {ep.value}); uninstall one"
            )
        found[ep.name] = ep
    return dict(sorted(found.items()))


def load(names: list[str] | tuple[str, ...] | None = None) -> list:
    """Exporter instances for `names` (all installed ones when empty), in the order asked."""
    installed = available()
    wanted = list(dict.fromkeys(names)) if names else list(installed)
    unknown = [n for n in wanted if n not in installed]
    if unknown:
        raise UnknownFormat(
            f"unknown format {', '.join(repr(u) for u in unknown)}; installed: {', '.join(installed) or 'none'}"
        )
    out = []
    for name in wanted:
        cls = installed[name].load()
        if getattr(cls, "name", None) != name:
            raise UnknownFormat(f"exporter {installed[name].value} says its name is {getattr(cls, 'name', None)!r}, "
                                f"but is installed as '{name}'")
        out.append(cls())
    return out
