"""The commands about the framework itself: `validate`, `list`, `formats`, `convert` and
`init-templates`."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import click

from cfexport.cli import (ALLOWABLE, EXIT_USAGE, Failure, _format, _friendly, _templates_folder, framework_option,
                          main, read_or_fail, root_option, strict_option, templates_option)

@main.command()
@framework_option
@root_option
@templates_option
@strict_option
@click.option("--allow", "allow", multiple=True, type=click.Choice(sorted(ALLOWABLE)), metavar="KIND",
              help="A kind of warning that does not count, even under --strict; repeat for several. "
                   "Kinds: " + "; ".join(f"{k} ({v})" for k, v in ALLOWABLE.items()) + ".")
@click.option("--verbose", "-v", is_flag=True, help="Also say which pages were not read, and why (drafts, "
              "pages without front matter, other sections of the site).")
@_friendly
def validate(framework_dir: Path, root: str | None, templates_dir: Path | None, strict: bool,
             allow: tuple[str, ...], verbose: bool) -> None:
    """Check the framework and the theme; print every problem as FILE:LINE: error|warning: message."""
    if not framework_dir.exists():
        raise Failure(f"error: framework folder {framework_dir} not found; pass --framework DIR", EXIT_USAGE)
    templates = _templates_folder(templates_dir)
    from cfexport.exporters.theme_values import theme_problems

    themes = tuple(p for p in theme_problems(templates) if p.code not in allow)
    for problem in themes:
        click.echo(_format(problem.source.file, problem), err=True)
    result = read_or_fail(framework_dir, strict, writes=False, allow=allow, extra=themes, root=root,
                          verbose=verbose)
    fw = result.framework
    roles = sum(1 for _ in fw.roles())
    warnings = sum(1 for p in result.warnings if p.code not in allow) + len(themes)
    allowed = Counter(p.code for p in result.problems if p.code in allow)
    click.echo(f"{framework_dir}: ok: {len(fw.crafts)} craft(s), {roles} role(s), "
               f"{sum(1 for _ in fw.statements())} statement(s), {warnings} warning(s)"
               + "".join(f", {n} allowed ({code})" for code, n in sorted(allowed.items())))


@main.command(name="list")
@framework_option
@root_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@_friendly
def list_(framework_dir: Path, root: str | None, as_json: bool) -> None:
    """List crafts, specialisms, levels and roles with the ids other commands take."""
    fw = read_or_fail(framework_dir, quiet=True, writes=False, root=root).framework
    data = {
        "framework": fw.title,
        "crafts": [
            {
                "id": c.id,
                "title": c.title,
                "specialisms": [{"id": c.track_id(s), "name": s} for s in c.specialisms],
                "levels": [{"number": lv.number, "name": lv.name, "title": lv.title} for lv in c.levels],
                "roles": [{"id": r.id, "title": r.title, "craft": c.title, "specialism": r.specialism,
                           "level": r.level.number, "track": r.track_id} for r in c.roles()],
            }
            for c in fw.crafts
        ],
    }
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    click.echo(fw.title)
    for craft in data["crafts"]:
        click.echo(f"\ncraft {craft['id']}  {craft['title']}")
        for s in craft["specialisms"]:
            click.echo(f"  specialism {s['id']}  {s['name']}")
        for lv in craft["levels"]:
            click.echo(f"  level {lv['number']}  {lv['name']}")
        click.echo("  roles:")
        for r in craft["roles"]:
            click.echo(f"    {r['id']:<40} {r['title']}")


@main.command()
@_friendly
def formats() -> None:
    """List the installed readers (--from-format) and exporters (--format), built-in and plugins."""
    from cfexport import registry
    from cfexport.readers import registry as readers

    for name, ep in registry.available().items():  # the exporters first, as before readers were plugins
        cls = ep.load()
        click.echo(f"{name:<8} {getattr(cls, 'description', '')}  [{ep.value}]")
    click.echo("\nreaders (--from-format NAME; by default, the one that recognises --framework):")
    for name, ep in readers.available().items():
        cls = ep.load()
        click.echo(f"  {name:<12} {getattr(cls, 'looks_for', '')}  [{ep.value}]")


@main.command()
@framework_option
@root_option
@click.option("--to", "to", type=click.Choice(["jekyll"]), required=True,
              help="What to write: jekyll, the just-the-docs pages of the shipped framework/ folder.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write the pages into (replaced atomically; point --framework at it afterwards).")
@click.option("--force", is_flag=True, help="Replace files at the names convert writes even when cfexport did "
                                            "not write them.")
@_friendly
def convert(framework_dir: Path, root: str | None, to: str, out_dir: Path, force: bool) -> None:
    """Write the framework, in any format a reader understands, as Jekyll (just-the-docs) pages."""
    from cfexport.output import check_out_folder
    from cfexport.writers import jekyll_pages

    fw = read_or_fail(framework_dir, root=root).framework
    check_out_folder(out_dir, framework_dir)
    written = jekyll_pages.write(fw, out_dir, force)
    click.echo(f"wrote {len(written)} page(s) to {out_dir}: {len(fw.crafts)} craft(s), "
               f"{sum(len(c.levels) for c in fw.crafts)} level page(s); read them with --framework {out_dir}")


@main.command(name="init-templates")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Write into a folder that is not empty (files of the same name are "
                                            "replaced, others are kept).")
@_friendly
def init_templates(folder: Path, force: bool) -> None:
    """Copy the shipped templates into FOLDER to restyle them: theme.yaml, the Word
    template, the text templates (*.j2) and the fonts with their licence. Then pass
    --templates FOLDER to build, pack and packs."""
    import shutil

    from cfexport.theme import THEME_FILE, shipped_templates

    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise Failure(f"error: {folder} is not empty; choose a new folder, or pass --force to copy the shipped "
                      "templates into it (replacing files of the same name)", EXIT_USAGE)
    source = shipped_templates()
    files = sorted(p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.relative_to(source).parts
                   and p.suffix not in (".py", ".pyc"))
    for path in files:
        target = folder / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    click.echo(f"wrote {len(files)} file(s) to {folder}; restyle them (start with {folder / THEME_FILE} and "
               f"{folder / 'role-description.docx'}), then run: cfexport build --templates {folder}")
