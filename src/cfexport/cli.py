"""The command line: a thin click layer over the library. Every failure the user can
fix is a message naming the file (and line), with a non-zero exit; never a traceback
unless --debug asks for one."""

from __future__ import annotations

import json
import sys
from collections import Counter
import traceback
from functools import wraps
from pathlib import Path

import click

from cfexport import __version__

# One scheme for every command (the README's "Exit codes" and `cfexport --help` say the same).
EXIT_INVALID = 1  # the input has problems to fix: the framework (or its warnings under --strict), theme, templates, CSV
EXIT_USAGE = 2  # bad options or arguments, a file or folder named on the command line that does not exist (click's own)
EXIT_EXPORT = 3  # the output could not be written
EXIT_INTERNAL = 4  # a bug of ours

EXIT_CODES_HELP = """\b
Exit codes:
  0  ok
  1  the input has problems to fix: framework errors (or warnings under
     --strict), theme or template problems, bad rows of a CSV
  2  usage: bad options or arguments, or a file or folder named on the
     command line that does not exist
  3  the output could not be written
  4  internal error (a bug): run again with --debug and report it"""

# Kinds of problem that `validate --strict --allow KIND` lets pass (Problem.code).
ALLOWABLE = {"todo": "TODO cells: areas a level has not defined yet"}


class Failure(click.ClickException):
    """A failure already explained; `exit_code` says which kind."""

    def __init__(self, message: str, exit_code: int = EXIT_INVALID):
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        click.echo(self.message, err=True)


def _friendly(fn):
    """Turn the library's errors into messages; --debug re-raises with the traceback."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        from cfexport.exporters.base import ExportError
        from cfexport.output import OutputError
        from cfexport.registry import UnknownFormat

        debug = click.get_current_context().find_root().params.get("debug")
        try:
            return fn(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except (ExportError, OutputError, UnknownFormat, OSError) as exc:
            if debug:
                traceback.print_exc()
            if isinstance(exc, ExportError):  # the framework, theme or a template as it stands: input to fix
                raise Failure(str(exc), EXIT_INVALID) from None
            code = EXIT_USAGE if isinstance(exc, UnknownFormat) else EXIT_EXPORT
            raise Failure(f"error: {exc}", code) from None
        except Exception as exc:  # a bug of ours: say so plainly, keep the traceback for --debug
            if debug:
                raise
            raise Failure(f"error: internal error ({type(exc).__name__}: {exc}); "
                          "run again with --debug and report it", EXIT_INTERNAL) from None

    return wrapper


FROM_FORMAT = "cfexport.from_format"  # where --from-format is kept (the context's meta) for read_or_fail


def _remember_from_format(ctx: click.Context, param, value: str | None) -> str | None:
    ctx.meta[FROM_FORMAT] = value
    return value


def framework_option(fn):
    """--framework PATH and --from-format NAME: where the framework is, and which reader reads it
    (read_or_fail picks --from-format up from the context, so commands take only the path)."""
    fn = click.option(
        "--from-format", "from_format", metavar="NAME", default=None, expose_value=False, is_eager=True,
        callback=_remember_from_format,
        help="The reader to use (see `cfexport formats`) [default: the one that recognises --framework].")(fn)
    return click.option(
        "--framework", "framework_dir", type=click.Path(path_type=Path), default=Path("framework"),
        show_default=True, help="The framework: a Jekyll site or a folder inside it, or any format a reader "
                                "recognises (an FT job-families folder or file, a Monzo frameworks folder, a "
                                "competency-matrix .xlsx).")(fn)
root_option = click.option(
    "--root", "root", metavar="TITLE", default=None,
    help="The framework's index page title, when the site holds several frameworks.")
templates_option = click.option(
    "--templates", "templates_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Folder of templates and theme.yaml [default: ./templates when it holds a theme.yaml, "
         "else the templates shipped with cfexport].")
strict_option = click.option("--strict", is_flag=True, help="Treat warnings as errors.")


def read_or_fail(framework_dir: Path, strict: bool = False, quiet: bool = False, writes: bool = True,
                 allow: tuple[str, ...] = (), extra: tuple = (), root: str | None = None,
                 verbose: bool = False):
    """Read the framework, print its problems (FILE:LINE: severity: message), stop on errors.
    Problems whose code is in `allow` are left out; `extra` are problems already printed
    (the theme's), counted with the framework's. Information (drafts and other pages not
    read) is shown only when `verbose`."""
    from cfexport.readers import read_framework

    if not framework_dir.exists():
        raise Failure(f"error: framework folder {framework_dir} not found; pass --framework DIR", EXIT_USAGE)
    result = read_framework(framework_dir, root, click.get_current_context().meta.get(FROM_FORMAT))
    problems = [p for p in result.problems if p.code not in allow]
    errors = [p for p in problems if p.severity == "error"] + [p for p in extra if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"] + [p for p in extra if p.severity == "warning"]
    shown = problems if not quiet else [p for p in problems if p.severity == "error" or strict]
    shown = [p for p in shown if verbose or p.severity != "info"]
    for problem in shown:
        click.echo(_located(framework_dir, problem), err=True)
    if errors or (strict and warnings) or result.framework is None:
        raise Failure(f"{framework_dir}: {len(errors)} error(s), {len(warnings)} warning(s)"
                      + ("; nothing was written" if writes else "")
                      + (" (--strict: warnings count as errors)" if strict and not errors else ""), EXIT_INVALID)
    return result


def _located(framework_dir: Path, problem) -> str:
    """Problems carry paths relative to the framework folder; show them from where the user is.
    A problem about a whole file or folder (line 0 or None) shows no line; a framework kept in one
    file (a workbook) names its problems relative to that file's folder (`book.xlsx!Sheet!C7`)."""
    file = problem.source.file
    base = framework_dir.parent if framework_dir.is_file() else framework_dir
    path = Path(file) if Path(file).is_absolute() or file == str(framework_dir) else base / file
    return _format(path, problem)


def _format(path, problem) -> str:
    line = problem.source.line
    return f"{path}:{line}: {problem.severity}: {problem.message}" if line else \
        f"{path}: {problem.severity}: {problem.message}"


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_CODES_HELP)
@click.version_option(__version__, prog_name="cfexport")
@click.option("--debug", is_flag=True, help="Show a traceback when something fails.")
def main(debug: bool) -> None:
    """cfexport: turn a career framework (Jekyll pages) into role descriptions (Word),
    a competency matrix (Excel), printable level cards (PDF) and promotion packs."""
    import os

    if os.environ.get("SOURCE_DATE_EPOCH", "").strip():
        from cfexport.repro import build_time

        try:
            build_time()
        except ValueError as exc:
            raise Failure(f"error: {exc}", EXIT_USAGE) from None


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
    from cfexport.theme import check_theme

    if not framework_dir.exists():
        raise Failure(f"error: framework folder {framework_dir} not found; pass --framework DIR", EXIT_USAGE)
    templates = _templates_folder(templates_dir)
    theme_problems = tuple(p for p in check_theme(templates) if p.code not in allow)
    for problem in theme_problems:
        click.echo(_format(problem.source.file, problem), err=True)
    result = read_or_fail(framework_dir, strict, writes=False, allow=allow, extra=theme_problems, root=root,
                          verbose=verbose)
    fw = result.framework
    roles = sum(1 for _ in fw.roles())
    warnings = sum(1 for p in result.warnings if p.code not in allow) + len(theme_problems)
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
    from cfexport.output import check_out_folder

    if watch:
        exporters = registry.load(list(formats_))
        templates = _templates_folder(templates_dir)
        check_out_folder(out_dir, framework_dir, templates)
        from cfexport.watch import watch_build

        watch_build(framework_dir, root, out_dir, exporters, templates, jobs, strict, force, clean,
                    click.get_current_context().meta.get(FROM_FORMAT))
        return
    from cfexport import build as builder

    # the workers start first: they import the exporters and load templates and fonts while the pages are read
    with _workers(builder, jobs, formats_, templates_dir) as pool:
        fw = read_or_fail(framework_dir, strict, root=root).framework
        exporters = registry.load(list(formats_))
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

    from cfexport import registry
    from cfexport.theme import default_templates

    templates = templates_dir or default_templates()
    try:  # imported here, before the fork, the exporters' modules are the workers' too (imported once)
        registry.load(list(formats_))
    except registry.UnknownFormat:
        return contextlib.nullcontext()  # reported after the framework's own problems, as always
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


def _pack_context(templates_dir: Path | None, framework):
    from cfexport import repro
    from cfexport.exporters.base import Context

    return Context.for_framework(framework, _templates(templates_dir), repro.build_time())


def _templates_folder(templates_dir: Path | None) -> Path:
    """--templates, else ./templates when it holds a theme, else the copy shipped in the package."""
    from cfexport.theme import default_templates

    templates = templates_dir or default_templates()
    if not templates.is_dir():
        raise Failure(f"error: templates folder {templates} not found; run `cfexport init-templates {templates}` "
                      "to start one from the shipped templates, or pass --templates DIR", EXIT_USAGE)
    return templates


def _templates(templates_dir: Path | None) -> Path:
    """The templates folder for a command that writes, its theme checked: the theme's problems
    are printed; an error (or a warning under the command's --strict) stops the command."""
    from cfexport.theme import check_theme

    templates = _templates_folder(templates_dir)
    problems = check_theme(templates)
    for problem in problems:
        click.echo(_format(problem.source.file, problem), err=True)
    strict = bool(click.get_current_context().params.get("strict"))
    errors = [p for p in problems if p.severity == "error"]
    if errors or (strict and problems):
        raise Failure(f"{problems[0].source.file}: {len(errors)} error(s), {len(problems) - len(errors)} "
                      "warning(s); nothing was written"
                      + (" (--strict: warnings count as errors)" if not errors else ""), EXIT_INVALID)
    return templates


def _write_packs(framework_dir: Path, fw, packs, out_dir: Path, templates_dir, jobs, as_zip,
                 index: bool = False) -> None:
    from cfexport.packs import write_packs

    from cfexport.output import check_out_folder

    context = _pack_context(templates_dir, fw)
    check_out_folder(out_dir / "packs", framework_dir, context.templates)
    with _progress(len(packs), "Building packs") as bar:
        written, problems = write_packs(fw, packs, out_dir, context, jobs or 1, as_zip, bar.update, index)
    for problem in problems:
        click.echo(_located(framework_dir, problem), err=True)
    for path in written if len(written) <= 20 else written[:10] + ["..."] + written[-5:]:
        click.echo(f"  {out_dir / path if path != '...' else path}")
    click.echo(f"wrote {len(written)} pack(s) to {out_dir / 'packs'}")
    if index:
        click.echo(f"index of the round: {out_dir / 'packs' / 'round.csv'} and {out_dir / 'packs' / 'round.xlsx'}")


out_option = click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
                          default=Path("output"), show_default=True, help="Packs go to OUT/packs/.")


@main.command()
@click.option("--role", "role", required=True,
              help="Role id as `cfexport list` prints it: a specialism id (mlengineer/ml-engineer), or a role id "
                   "with the current level (mlengineer/ml-engineer/5, the level --from gives).")
@click.option("--from", "current", type=int, required=True, help="Current level number.")
@click.option("--to", "target", type=int, required=True, help="Target level number.")
@click.option("--person", required=True, help="The person the pack is for.")
@click.option("--manager", default=None, help="Their manager.")
@framework_option
@root_option
@out_option
@templates_option
@click.option("--zip", "as_zip", is_flag=True, help="Write the pack as one .zip instead of a folder.")
@_friendly
def pack(role: str, current: int, target: int, person: str, manager: str | None, framework_dir: Path,
         root: str | None, out_dir: Path, templates_dir: Path | None, as_zip: bool) -> None:
    """Write one promotion pack: promotion case, self-assessment and level cards."""
    from cfexport.packs import PackRequest, plan

    from cfexport.model import Source
    from cfexport.text import clean, normalise

    fw = read_or_fail(framework_dir, quiet=True, root=root).framework
    warnings: list = []
    person, manager = (clean(normalise(v), Source(f"--{k}", 1), warnings) if v else v
                       for k, v in (("person", person), ("manager", manager)))
    for problem in warnings:
        click.echo(f"warning: {problem.message} in {problem.source.file}", err=True)
    packs, errors = plan(fw, [PackRequest(person, role, current, target, manager)])
    if errors:  # the options name no pack: a usage error
        raise Failure("error: " + errors[0].message, EXIT_USAGE)
    _write_packs(framework_dir, fw, packs, out_dir, templates_dir, 1, as_zip)


@main.command()
@click.option("--people", "people", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="CSV with the header person,role,current_level,target_level,manager (comma, semicolon or tab "
                   "separated; UTF-8 or UTF-16).")
@framework_option
@root_option
@out_option
@templates_option
@click.option("--zip", "as_zip", is_flag=True, help="One .zip per pack instead of folders.")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Worker processes [default: number of cores].")
@click.option("--keep-going", is_flag=True, help="Build the good rows even when some rows are bad.")
@_friendly
def packs(people: Path, framework_dir: Path, root: str | None, out_dir: Path, templates_dir: Path | None, as_zip: bool,
          jobs: int | None, keep_going: bool) -> None:
    """Write the packs of a whole promotion round from a CSV, and its index (round.csv, round.xlsx)."""
    import os

    from cfexport.packs import plan, read_people

    fw = read_or_fail(framework_dir, quiet=True, root=root).framework
    warnings: list = []
    requests, errors = read_people(people, warnings)
    for problem in warnings:
        click.echo(str(problem), err=True)
    packs_, plan_errors = plan(fw, requests)
    errors = sorted(errors + plan_errors, key=lambda p: p.source.line)
    for problem in errors:
        click.echo(str(problem), err=True)
    if not requests and not errors:
        raise Failure(f"error: no people in {people}", EXIT_INVALID)
    if errors and not keep_going:  # the CSV's contents need fixing: exit 1
        raise Failure(f"{len(errors)} error(s) in {people}; nothing was written"
                      + (" (fix them, or pass --keep-going to build the good rows)" if packs_ else ""), EXIT_INVALID)
    if packs_:
        _write_packs(framework_dir, fw, packs_, out_dir, templates_dir, jobs or os.cpu_count() or 1, as_zip,
                     index=True)
    if errors:
        raise Failure(f"{len(errors)} bad row(s) skipped; {len(packs_)} pack(s) built", EXIT_INVALID)


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


def _progress(length: int, label: str, hidden: bool = False):
    """A progress bar on a terminal; silent in CI and pipes."""
    return click.progressbar(length=length, label=label, file=sys.stderr,
                             hidden=hidden or not sys.stderr.isatty())


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


@main.command()
@framework_option
@root_option
@templates_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("output"),
              show_default=True, help="A copy of every pack the page hands out goes to OUT/packs/; nothing is "
                                      "written anywhere else (uploads go to a temporary folder).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but this machine (127.0.0.1, localhost, ::1) lets others in: "
                   "the page has no login.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the default browser.")
@_friendly
def serve(framework_dir: Path, root: str | None, templates_dir: Path | None, out_dir: Path, host: str, port: int,
          open_browser: bool) -> None:
    """Serve the framework as a local web page for people who never open a terminal: roles,
    comparisons, the matrix, downloads, promotion packs and the problems validate finds.
    The framework is read again when its pages change. Stop it with Ctrl+C."""
    import logging

    if not framework_dir.is_dir():
        raise Failure(f"error: framework folder {framework_dir} not found; pass --framework DIR", EXIT_USAGE)
    templates = _templates_folder(templates_dir)
    try:
        from cfexport.web.app import create_app
        from cfexport.web.server import bind, is_loopback, make_server, url
    except ImportError as exc:
        raise Failure(f"error: the web page needs {exc.name}, which is not installed; run `make export` "
                      "(or pip install -e .) again", EXIT_USAGE) from None
    if not is_loopback(host):
        click.echo(f"warning: listening on {host}: the page has NO LOGIN. Anyone who can reach this address can read "
                   "the framework and make promotion packs with the names they type. Use the default "
                   "--host 127.0.0.1 unless everyone on that network may do so.", err=True)
    app = create_app(framework_dir, templates, out_dir, root)
    for problem in app.state.store.snapshot().problems:
        if problem.severity == "error":
            click.echo(_located(framework_dir, problem), err=True)
    try:
        sock = bind(host, port)
    except OSError as exc:
        raise Failure(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}; pass another --port "
                      "(or --port 0 for any free one)", EXIT_USAGE) from None
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(name)s: %(message)s")
    address = url(sock)
    try:
        click.echo(f"cfexport: serving {framework_dir} at {address}  (Ctrl+C to stop)")
        sys.stdout.flush()
        server = make_server(app)
    except BaseException:
        sock.close()
        raise
    if open_browser:
        import threading
        import webbrowser

        def _open() -> None:
            import time

            for _ in range(500):
                if server.started:
                    break
                time.sleep(0.01)
            webbrowser.open(address)

        threading.Thread(target=_open, daemon=True).start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--round", "round_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="The folder `cfexport packs` wrote (OUT/packs, with round.csv): who was expected, so packs not "
                   "returned are listed as missing.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=Path("round-summary.xlsx"),
              show_default=True, help="The summary workbook; round-summary.json is written beside it (same name, "
                                      ".json).")
@click.option("--framework", "framework_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The framework now: packs made from another version are matched to it by statement id.")
@root_option
@templates_option
@click.option("--strict", is_flag=True, help="Exit with 1 when any problem was found (a file skipped, a statement "
                                             "edited, a rating not on the scale, a pack not returned...).")
@_friendly
def collect(paths: tuple[Path, ...], round_dir: Path | None, out: Path, framework_dir: Path | None,
            root: str | None, templates_dir: Path | None, strict: bool) -> None:
    """Read returned packs (files, folders, zips: PATH...) into round-summary.xlsx and .json.

    Files are matched to their pack by the pack record in their document properties,
    never by file name. Returned files are treated as hostile: zip bombs, macros,
    encrypted files, XML with DTDs and files that are no pack are skipped, each with its
    reason on the Problems sheet. Returned files are never changed."""
    from cfexport import repro
    from cfexport.collect import collect as run
    from cfexport.collect.match import RoundError
    from cfexport.collect.summary import all_problems
    from cfexport.collect.write import json_path, write
    from cfexport.exporters.base import Context
    from cfexport.exporters.excel import settings

    templates = _templates(templates_dir)
    fw = read_or_fail(framework_dir, quiet=True, writes=False, root=root).framework if framework_dir else None
    ratings = settings(templates).ratings
    exclude = {out.resolve(), json_path(out).resolve()}
    try:
        facts = run(list(paths), ratings, round_dir, fw, exclude)
    except RoundError as exc:
        raise Failure(f"error: {exc}", EXIT_INVALID) from None
    when = repro.build_time()
    context = Context(templates=templates.absolute(), build_time=when, version=facts["framework_version"] or "")
    written = write(out, facts, context)
    problems = all_problems(facts)
    for p in problems:
        who = f"{p['person']}: " if p["person"] else ""
        click.echo(f"{p['file'] or '-'}: {p['kind']}: {who}{p['message']}", err=True)
    counts = ", ".join(f"{n} {status}" for status, n in facts["counts"].items() if n)
    click.echo(f"{len(facts['packs'])} pack(s): {counts or 'none'}; {len(problems)} problem(s)")
    click.echo(f"wrote {written[0]} and {written[1]}")
    if strict and problems:
        raise Failure(f"--strict: {len(problems)} problem(s); see the Problems sheet of {out}", EXIT_INVALID)
