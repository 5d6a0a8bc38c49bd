"""The default templates, shipped inside the package as cfexport._templates (see pyproject.toml)."""
