"""`/compare/<craft>/<specialism>?from=5&to=6` (or `/compare/<craft>?from=..&to=..` for a craft
without specialisms): two levels side by side, new and reworded statements marked."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from cfexport.compare import compare
from cfexport.model import Role
from cfexport.web.common import BadRequest, NotFound, framework_or_503, render


def _level(request: Request, name: str, numbers: list[int], default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.strip().isascii() and raw.strip().isdigit()) or int(raw) not in numbers:
        raise BadRequest(f"'{name}' must be one of the levels {', '.join(map(str, numbers))}, not '{raw[:40]}'",
                         back=request.url.path)
    return int(raw)


async def compare_page(request: Request):
    snap = await framework_or_503(request)
    track = request.path_params["track"].strip("/")
    found = next(((c, s) for c in snap.framework.crafts for s in c.tracks() if c.track_id(s) == track), None)
    if found is None:
        raise NotFound(f"There is no role '{track}' to compare. The framework page lists every role.")
    craft, specialism = found
    numbers = [lv.number for lv in craft.levels]
    if len(numbers) < 2:
        raise NotFound(f"'{track}' has only one level: there is nothing to compare.")
    current = _level(request, "from", numbers, numbers[0])
    target = _level(request, "to", numbers, next((n for n in numbers if n > current), numbers[-1]))
    if target <= current:
        raise BadRequest(f"'to' (level {target}) must be above 'from' (level {current}): choose a higher target level",
                         back=request.url.path)
    before, after = Role(craft, specialism, craft.level(current)), Role(craft, specialism, craft.level(target))
    changes = compare(before, after)
    counts = {"new": sum(1 for a in changes for c in a.changes if c.kind == "new"),
              "changed": sum(1 for a in changes for c in a.changes if c.kind == "changed"),
              "dropped": sum(len(a.dropped) for a in changes)}
    return render(request, "compare.html", craft=craft, track=track, before=before, after=after, changes=changes,
                  numbers=numbers, counts=counts)


routes = [Route("/compare/{track:path}", compare_page, methods=["GET", "HEAD"])]
