"""`cfexport serve`: a small local web application over the same model and exporters as the
command line, for the people the documents are for (HR partners, managers).

- `app.create_app(...)` builds the Starlette application; `server` binds and runs it with uvicorn.
- `store` keeps the framework as last read, and reads it again when its pages change.
- `pages/` holds one router module per page group (see `pages/__init__.py` to add one).
- `templates/` (jinja2, autoescaped) and `static/` (CSS, the search script) ship as package data.

Nothing here is imported by the other commands: `cfexport --help` and `build` never load it.
"""
