"""`/roles/<role-id>`: a role's expectations by area, what changes at the next level, and its
documents: `/roles/<role-id>/role-description.docx` and `/roles/<role-id>/level-card.pdf`,
rendered on demand by the exporters and cached per framework generation."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import Route

from cfexport.compare import compare, next_role
from cfexport.model import Framework, Role
from cfexport.slugs import safe_file_name
from cfexport.web.common import DOCX, PDF, NotFound, download, framework_or_503, render

MAX_ID = 300


def find_role(framework: Framework, role_id: str) -> Role | None:
    """`craft/specialism/level` (or `craft/level` for a craft without specialisms)."""
    track, _, level = role_id.strip("/").rpartition("/")
    if not (level.isascii() and level.isdigit()) or len(role_id) > MAX_ID:
        return None
    for craft in framework.crafts:
        for specialism in craft.tracks():
            if craft.track_id(specialism) == track:
                lv = craft.level(int(level))
                return Role(craft, specialism, lv) if lv else None
    return None


def role_or_404(framework: Framework, role_id: str) -> Role:
    role = find_role(framework, role_id)
    if role is None:
        raise NotFound(f"There is no role '{role_id}' in {framework.title}. The framework page lists every role.")
    return role


def context(request: Request):
    from cfexport import repro
    from cfexport.exporters.base import Context

    snap = request.state.snap
    return Context.for_framework(snap.framework, request.app.state.templates, repro.build_time())


def document_name(role: Role, suffix: str) -> str:
    """As `cfexport build` names it: `ml-engineer-level-5.docx`."""
    name = f"{role.specialism} level {role.level.number}" if role.specialism else f"level {role.level.number}"
    return safe_file_name(name) + suffix


async def role_page(request: Request):
    snap = await framework_or_503(request)
    role = role_or_404(snap.framework, request.path_params["role_id"])
    nxt = next_role(role)
    levels = role.craft.levels
    i = levels.index(role.level)
    prev = Role(role.craft, role.specialism, levels[i - 1]) if i > 0 else None
    changes = [c for c in compare(role, nxt) if c.differs] if nxt else []
    return render(request, "role.html", role=role, next_role=nxt, prev_role=prev, changes=changes,
                  siblings=[Role(role.craft, s, role.level) for s in role.craft.tracks()])


async def role_description(request: Request):
    from cfexport.exporters.role_descriptions import render_role_description

    snap = await framework_or_503(request)
    role = role_or_404(snap.framework, request.path_params["role_id"])
    ctx = context(request)
    data = await run_in_threadpool(request.app.state.store.document, snap, ("docx", role.id),
                                   lambda: render_role_description(snap.framework, role, ctx))
    return download(data, document_name(role, ".docx"), DOCX)


async def level_card(request: Request):
    from cfexport.exporters.level_cards import render_cards

    snap = await framework_or_503(request)
    role = role_or_404(snap.framework, request.path_params["role_id"])
    ctx = context(request)
    data = await run_in_threadpool(request.app.state.store.document, snap, ("pdf", role.id),
                                   lambda: render_cards(snap.framework, [role], ctx, f"Level card: {role.title}"))
    return download(data, document_name(role, ".pdf"), PDF)


routes = [
    Route("/roles/{role_id:path}/role-description.docx", role_description, methods=["GET", "HEAD"]),
    Route("/roles/{role_id:path}/level-card.pdf", level_card, methods=["GET", "HEAD"]),
    Route("/roles/{role_id:path}", role_page, methods=["GET", "HEAD"]),
]
