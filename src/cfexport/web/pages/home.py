"""`/`: the framework (crafts, specialisms, levels) and a search over every statement.

The search works without JavaScript (`/?q=words`, answered here); with it, the same box
filters as you type (static/search.js, over the index embedded as JSON data)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from cfexport.model import Framework, Role
from cfexport.web.common import framework_or_503, render

NAV = [("Framework", "/")]
MAX_QUERY = 200
MAX_RESULTS = 200


def statement_index(framework: Framework) -> list[dict]:
    """Every statement once, with where it is written and the role page that shows it
    (a statement shared by the craft links to the first specialism's role)."""
    out = []
    for craft in framework.crafts:
        for level in craft.levels:
            for exp in level.expectations:
                specialism = exp.specialism if exp.specialism in craft.tracks() else craft.tracks()[0]
                role = Role(craft, specialism, level)
                for s in exp.statements:
                    out.append({"text": s.text, "craft": craft.people_name, "level": level.label,
                                "area": exp.area_title, "specialism": exp.specialism or "all specialisms",
                                "url": f"/roles/{role.id}"})
    return out


def search(index: list[dict], query: str) -> list[dict]:
    words = query.casefold().split()
    if not words:
        return []
    return [e for e in index if all(w in f"{e['text']} {e['area']}".casefold() for w in words)][:MAX_RESULTS]


async def home(request: Request):
    snap = await framework_or_503(request)
    query = request.query_params.get("q", "")[:MAX_QUERY].strip()
    index = statement_index(snap.framework)
    results = search(index, query) if query else None
    return render(request, "home.html", index=index, query=query, results=results, max_results=MAX_RESULTS)


routes = [Route("/", home, methods=["GET", "HEAD"])]
