"""`cfexport build`: export the framework with every exporter (or those named) into --out."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from cfexport.cli import (EXIT_INVALID, Failure, _friendly, _located, _progress, _templates, framework_option, main,
                          read_or_fail, root_option, strict_option, templates_option)

@main.command()
@framework_option
@root_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("output"),
              show_default=True, help="Folder to write into (replaced atomically).")
@click.option("--format", "formats_", multiple=True, metavar="NAME",
              help="Exporter to run; repeat for several [default: all installed].")
@templates_option
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes [default: number of cores].")
@strict_option
@click.option("--force", is_flag=True,
              help="Replace a file or folder at a name cfexport writes even when cfexport did not write it.")
@_friendly
def build(framework_dir: Path, root: str | None, out_dir: Path, formats_: tuple[str, ...],
          templates_dir: Path | None, jobs: int | None, strict: bool, force: bool) -> None:
    """Export the framework with every exporter (or those named) into --out."""
    from cfexport import build as builder
    from cfexport import registry, repro
    from cfexport.output import check_out_folder

    fw = read_or_fail(framework_dir, strict, root=root).framework
    exporters = registry.load(list(formats_))
    templates = _templates(templates_dir)
    check_out_folder(out_dir, framework_dir, templates)
    planned = builder.plan(fw, exporters)
    try:
        with _progress(len(planned[0]), "Exporting") as bar:
            entries, problems = builder.build(fw, out_dir, exporters, templates, repro.build_time(), jobs,
                                              bar.update, strict, planned, force=force)
    except builder.StrictWarnings as exc:
        for problem in exc.problems:
            click.echo(_located(framework_dir, problem), err=True)
        raise Failure(str(exc), EXIT_INVALID) from None
    for problem in problems:
        click.echo(_located(framework_dir, problem), err=True)
    ran = {e.name for e in exporters}
    wrote = [e for e in entries if e["exporter"] in ran]
    kept = [e for e in entries if e["exporter"] not in ran]  # carried over from the previous build
    counts = lambda es: ", ".join(f"{n} {name}" for name, n in sorted(Counter(e["exporter"] for e in es).items()))
    click.echo(f"wrote {len(wrote)} file(s)" + (f" ({counts(wrote)})" if wrote else "") + f" to {out_dir}; "
               + (f"kept {len(kept)} from the previous build ({counts(kept)}); " if kept else "")
               + f"manifest: {out_dir / 'manifest.json'}")
