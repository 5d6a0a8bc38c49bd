"""`cfexport build`: export the framework with every exporter (or those named) into --out."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from cfexport.cli import (EXIT_INVALID, FROM_FORMAT, Failure, _friendly, _located, _progress, _templates,
                          _templates_folder, framework_option, main, read_or_fail, root_option, strict_option,
                          templates_option)


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
@click.option("--clean", is_flag=True,
              help="Render every document again; by default a document whose sources (its part of the framework, "
                   "the templates and theme that style it, cfexport's version) did not change since the previous "
                   "build is reused.")
@click.option("--watch", is_flag=True,
              help="Keep running: build, then rebuild what changed whenever a page, the templates or the theme "
                   "change. Ctrl+C stops.")
@_friendly
def build(framework_dir: Path, root: str | None, out_dir: Path, formats_: tuple[str, ...],
          templates_dir: Path | None, jobs: int | None, strict: bool, force: bool, clean: bool,
          watch: bool) -> None:
    """Export the framework with every exporter (or those named) into --out."""
    from cfexport import registry

    if watch:
        from cfexport.output import check_out_folder

        exporters = registry.load(list(formats_))
        templates = _templates_folder(templates_dir)
        check_out_folder(out_dir, framework_dir, templates)
        from cfexport.watch import watch_build

        watch_build(framework_dir, root, out_dir, exporters, templates, jobs, strict, force, clean,
                    click.get_current_context().meta.get(FROM_FORMAT))
        return
    from cfexport import build as builder

    # the workers start first of all: one imports the exporters and loads templates and fonts while the
    # pages are read, then forks the others from itself
    with _workers(builder, jobs, formats_, templates_dir) as pool:
        from cfexport.output import check_out_folder

        # an unknown --format, or a broken exporter plugin, is a usage error before anything is read
        exporters = registry.load(list(formats_))
        fw = read_or_fail(framework_dir, strict, root=root).framework
        templates = _templates(templates_dir)
        check_out_folder(out_dir, framework_dir, templates)
        try:
            entries, problems, report = _build_once(fw, out_dir, exporters, templates, jobs, strict, force, clean,
                                                    pool=pool)
        except StrictFailure as exc:
            for problem in exc.problems:
                click.echo(_located(framework_dir, problem), err=True)
            raise Failure(exc.message, EXIT_INVALID) from None
    for problem in problems:
        click.echo(_located(framework_dir, problem), err=True)
    click.echo(build_summary(entries, exporters, report, out_dir))


def _workers(builder, jobs: int | None, formats_: tuple[str, ...], templates_dir: Path | None):
    """The build's worker processes (a do-nothing context with one job, or when the templates
    folder is missing: the command reports that itself)."""
    import contextlib

    from cfexport.theme import default_templates

    templates = templates_dir or default_templates()
    pool = builder.start_workers(jobs, list(formats_) or None, templates) if templates.is_dir() else None
    return pool if pool is not None else contextlib.nullcontext()


class StrictFailure(Exception):
    def __init__(self, message: str, problems: list):
        super().__init__(message)
        self.message, self.problems = message, problems


def _build_once(fw, out_dir: Path, exporters: list, templates: Path, jobs: int | None, strict: bool, force: bool,
                clean: bool, progress: bool = True, pool=None):
    """One build (incremental unless `clean`); StrictFailure when --strict and warnings."""
    from cfexport import build as builder
    from cfexport import repro

    planned = builder.plan(fw, exporters)
    report = builder.BuildReport([], [])
    try:
        with _progress(len(planned[0]), "Exporting", hidden=not progress) as bar:
            entries, problems = builder.build(fw, out_dir, exporters, templates, repro.build_time(), jobs,
                                              bar.update, strict, planned, force=force, clean=clean, report=report,
                                              pool=pool)
    except builder.StrictWarnings as exc:
        raise StrictFailure(str(exc), exc.problems) from None
    return entries, problems, report


def build_summary(entries: list[dict], exporters: list, report, out_dir: Path) -> str:
    ran = {e.name for e in exporters}
    wrote = [e for e in entries if e["exporter"] in ran]
    kept = [e for e in entries if e["exporter"] not in ran]  # carried over from the previous build
    counts = lambda es: ", ".join(f"{n} {name}" for name, n in sorted(Counter(e["exporter"] for e in es).items()))
    rendered = set(report.rendered)
    fresh = [e for e in wrote if e["path"] in rendered]
    reused = [e for e in wrote if e["path"] not in rendered]
    return (f"wrote {len(wrote)} file(s)" + (f" ({counts(wrote)})" if wrote else "") + f" to {out_dir}; "
            + (f"rendered {len(fresh)}, reused {len(reused)} unchanged from the previous build (--clean renders "
               "all); " if reused else "")
            + (f"kept {len(kept)} from the previous build ({counts(kept)}); " if kept else "")
            + f"manifest: {out_dir / 'manifest.json'}")
