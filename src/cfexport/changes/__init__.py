"""`cfexport changes`: what changed between two versions of the framework, for the people
it applies to.

`revisions` reads a version (a git revision or a folder) through the same reader as
`build`; `diff` compares two models (pure); `report` groups the changes by craft and
role; `markdown`, `word`, `excel` and `jsonout` write changes.md, .docx, .xlsx and .json.
"""
