"""The command line: a thin click layer over the library. Every failure the user can
fix is a message naming the file (and line), with a non-zero exit; never a traceback
unless --debug asks for one.

This module holds the `main` group, the exit codes, the shared options and helpers;
each command group is a module of this package that registers its commands on `main`:
`framework` (validate, list, formats, convert, init-templates), `build`, `packs` (pack,
packs), `changes`, `serve` and `collect`. Every library import is inside a command, so
`cfexport --help` loads no document library."""

from __future__ import annotations

import sys
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


def _quiet_stdout() -> None:
    """After a closed pipe: point stdout at the null device, so that Python's own flush at
    exit does not report the same broken pipe again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


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
        except BrokenPipeError:  # `cfexport list | head`: the reader has what it wanted; nothing failed
            _quiet_stdout()
            raise click.exceptions.Exit(0) from None
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
    unknown_root = next((p for p in result.problems if p.code == "unknown-root"), None)
    if unknown_root is not None:  # a --root that names no framework is a bad option, not a bad framework
        raise Failure(f"error: {unknown_root.message}", EXIT_USAGE)
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
    from cfexport.exporters.theme_values import theme_problems

    templates = _templates_folder(templates_dir)
    problems = theme_problems(templates)
    for problem in problems:
        click.echo(_format(problem.source.file, problem), err=True)
    strict = bool(click.get_current_context().params.get("strict"))
    errors = [p for p in problems if p.severity == "error"]
    if errors or (strict and problems):
        raise Failure(f"{problems[0].source.file}: {len(errors)} error(s), {len(problems) - len(errors)} "
                      "warning(s); nothing was written"
                      + (" (--strict: warnings count as errors)" if not errors else ""), EXIT_INVALID)
    return templates


def _progress(length: int, label: str, hidden: bool = False):
    """A progress bar on a terminal; silent in CI and pipes."""
    return click.progressbar(length=length, label=label, file=sys.stderr,
                             hidden=hidden or not sys.stderr.isatty())


# Each command group registers its commands on `main` (imported last: they import from here).
from cfexport.cli import build, changes, collect, framework, packs, serve  # noqa: E402,F401
