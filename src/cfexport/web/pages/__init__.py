"""One router module per page group. Each module has:

- `routes`: a list of Starlette routes (paths are stable: people bookmark and share them);
- `NAV` (optional): `(label, path)` entries for the header's navigation.

`cfexport.web.app.PAGES` lists the modules, in navigation order. To add a page, for example
`/collect` once `cfexport collect` exists: write `pages/collect.py` with its `routes` and
`NAV = [("Collect", "/collect")]`, a template `templates/collect.html` extending `base.html`,
and add "collect" to `PAGES`. Forms read their body with `common.bounded_form` (size and
count limits, CSRF check); a bad value raises `common.BadRequest("what to fix")`; uploads
are saved only into a `tempfile.TemporaryDirectory`, under names the server chooses.
"""
