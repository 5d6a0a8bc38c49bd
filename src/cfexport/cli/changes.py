"""`cfexport changes`: what changed between two versions of the framework."""

from __future__ import annotations

from pathlib import Path

import click

from cfexport.cli import (EXIT_INVALID, EXIT_USAGE, Failure, _friendly, _templates, _templates_folder,
                          framework_option, main, root_option, templates_option)

@main.command()
@click.option("--from", "old", required=True, metavar="OLD",
              help="The old version: a git revision (tag, branch or commit) of the repository holding --framework, "
                   "or a folder.")
@click.option("--to", "new", default=None, metavar="NEW",
              help="The new version, likewise [default: --framework as it is on disk, the working tree].")
@framework_option
@root_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("output"),
              show_default=True, help="The documents go to OUT/changes/.")
@click.option("--format", "formats_", multiple=True, type=click.Choice(["md", "docx", "xlsx", "json"]),
              help="Document to write; repeat for several [default: all four].")
@templates_option
@_friendly
def changes(old: str, new: str | None, framework_dir: Path, root: str | None, out_dir: Path,
            formats_: tuple[str, ...], templates_dir: Path | None) -> None:
    """What changed between two versions of the framework, per craft and role: changes.md,
    .docx, .xlsx and .json in OUT/changes/. Revisions are read from git's objects; the
    working tree and the index are never touched."""
    from cfexport import repro
    from cfexport.changes import write as writer
    from cfexport.changes.diff import diff
    from cfexport.changes.revisions import RevisionError, read_version
    from cfexport.exporters.base import Context
    from cfexport.output import check_out_folder

    versions = []
    for spec in (old, new):
        try:
            version = read_version(spec, framework_dir, root)
        except RevisionError as exc:
            raise Failure(exc.message if exc.message.startswith("error:") else f"error: {exc.message}",
                          EXIT_USAGE if exc.usage else EXIT_INVALID) from None
        errors = version.result.errors
        for problem in errors:
            click.echo(version.where(problem), err=True)
        if errors or version.framework is None:
            raise Failure(f"{version.spec}: {len(errors)} error(s); nothing was written", EXIT_INVALID)
        versions.append(version)
    before, after = versions
    found = diff(before.framework, after.framework)
    formats = tuple(formats_) or writer.FORMATS
    templates = _templates(templates_dir) if {"docx", "xlsx"} & set(formats) else _templates_folder(templates_dir)
    check_out_folder(out_dir / writer.FOLDER, *([framework_dir] if framework_dir.is_dir() else []), templates)
    context = Context(templates=templates.absolute(), build_time=repro.build_time(),
                      version=f"{before.label} → {after.label}")
    folder = writer.write(writer.render(before, after, found, formats, context), out_dir)
    from cfexport.changes.report import summary

    click.echo(summary(found, before.label, after.label) if found else
               f"no changes from {before.label} to {after.label}")
    click.echo(f"wrote {len(formats)} file(s) to {folder}")
