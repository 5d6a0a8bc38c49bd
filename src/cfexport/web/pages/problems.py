"""`/problems`: what `cfexport validate` reports (the framework's and the theme's problems),
with file and line."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.routing import Route

from cfexport.web.common import render, snapshot

NAV = [("Problems", "/problems")]


def located(framework_dir: Path, file: str) -> str:
    """As validate prints it: relative to where the server was started."""
    path = Path(file)
    return str(path if path.is_absolute() or file == str(framework_dir) else framework_dir / file)


async def problems_page(request: Request):
    snap = await snapshot(request)
    fw_dir = request.app.state.framework_dir
    rows = [{"file": p.source.file if theme else located(fw_dir, p.source.file), "line": p.source.line or None,
             "severity": p.severity, "message": p.message}
            for theme, group in ((True, snap.theme_problems), (False, snap.problems)) for p in group]
    shown = [r for r in rows if r["severity"] != "info"]
    info = [r for r in rows if r["severity"] == "info"]
    return render(request, "problems.html", rows=shown, info=info, framework_dir=str(fw_dir))


routes = [Route("/problems", problems_page, methods=["GET", "HEAD"])]
