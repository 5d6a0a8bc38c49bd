"""One router module per page group. Each module has:

- `routes`: a list of Starlette routes (paths are stable: people bookmark and share them);
- `NAV` (optional): `(label, path)` entries for the header's navigation.

`cfexport.web.app.PAGES` lists the modules, in navigation order. To add a page (as `/collect`
was added): write `pages/<name>.py` with its `routes` and `NAV = [("Label", "/path")]`, a
template `templates/<name>.html` extending `base.html`, and add "<name>" to `PAGES`. Forms
read their body with `common.bounded_form` (size and count limits, CSRF check); a bad value
raises `common.BadRequest("what to fix")`. Upload forms state their limits as a
`common.UploadRules` and read with `common.read_uploads` (limits named when refused); files
are saved only into a `tempfile.TemporaryDirectory`, by `common.save_uploads`, under names
the server chooses.
"""
