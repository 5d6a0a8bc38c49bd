"""`/matrix`: the competency matrix as HTML tables (one per craft and specialism), and the
workbook `cfexport build` writes, `/matrix/competency-matrix.xlsx`."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import Route

from cfexport.model import Role
from cfexport.web.common import XLSX, download, framework_or_503, render
from cfexport.web.pages.roles import context

NAV = [("Matrix", "/matrix")]


def tables(framework):
    """Per craft and specialism: the levels, and one row per area with each level's cell."""
    out = []
    for craft in framework.crafts:
        for spec in craft.tracks():
            roles = [Role(craft, spec, lv) for lv in craft.levels]
            areas: dict[str, dict] = {}
            for role in roles:
                for ae in role.areas():
                    row = areas.setdefault(ae.area_id, {"title": ae.area_title, "area": ae.area, "cells": {}})
                    row["cells"][role.level.number] = ae
            out.append({"craft": craft, "specialism": spec, "roles": roles, "rows": list(areas.values()),
                        "id": craft.track_id(spec).replace("/", "--")})
    return out


async def matrix_page(request: Request):
    snap = await framework_or_503(request)
    return render(request, "matrix.html", tables=tables(snap.framework))


async def matrix_xlsx(request: Request):
    from cfexport.exporters.base import Document
    from cfexport.exporters.matrix import XlsxExporter

    snap = await framework_or_503(request)
    ctx = context(request)
    exporter = XlsxExporter()
    data = await run_in_threadpool(request.app.state.store.document, snap, ("xlsx",),
                                   lambda: exporter.render(snap.framework, Document(("competency-matrix",), ".xlsx"), ctx))
    return download(data, "competency-matrix.xlsx", XLSX)


routes = [
    Route("/matrix", matrix_page, methods=["GET", "HEAD"]),
    Route("/matrix/competency-matrix.xlsx", matrix_xlsx, methods=["GET", "HEAD"]),
]
