"""`cfexport build --watch`: build, then rebuild incrementally whenever a page of the
framework, a template or the theme changes, until Ctrl+C.

Every rebuild reads the framework and the theme again and goes through the same
incremental `build` as the command (only the documents whose sources changed are
rendered; the output folder is replaced atomically). A bad edit (an error in a page or
the theme, a template that does not render, a warning under --strict) is reported and
the last good output stays as it was; the loop goes on and the next save is tried again.
Changes come from `watchfiles` (the operating system's file events), gathered for a
short moment so that an editor's several writes make one rebuild.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import click

DEBOUNCE_MS = 150  # changes this close together make one rebuild


def watch_build(framework_dir: Path, root: str | None, out_dir: Path, exporters: list, templates: Path,
                jobs: int | None, strict: bool, force: bool, clean: bool, from_format: str | None = None,
                stop: threading.Event | None = None) -> None:
    """Build now, then on every change; returns when Ctrl+C is pressed (or `stop` is set)."""
    from watchfiles import watch

    out = out_dir.resolve()
    watched = [p for p in dict.fromkeys((framework_dir, templates)) if Path(p).exists()]
    from cfexport import build as builder

    state = {"first": True, "pool": None}

    def once(why: str) -> None:
        t0 = time.perf_counter()
        pool = state["pool"]
        if pool is None or not pool.alive:  # the workers stay (and stay warm) from one rebuild to the next
            pool = state["pool"] = builder.start_workers(jobs, [e.name for e in exporters], templates)
        ok = _rebuild(framework_dir, root, out_dir, exporters, templates, jobs, strict, force,
                      clean and state["first"], from_format, pool)
        state["first"] = False
        if ok is not None:
            click.echo(f"{why}: {ok} ({time.perf_counter() - t0:.2f} s)")
        sys_flush()

    def interrupt(_signum, _frame):
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)  # `kill` stops it as cleanly as Ctrl+C
    from cfexport.readers import memo

    from cfexport import fingerprint

    # pages a save did not touch are not parsed again, nor their levels' slices of the model hashed again
    with memo.session(), fingerprint.keep_between_builds():
        try:
            seen = _snapshot(watched, out)
            known = {_canonical(p) for p in seen}
            once("build")
            _warm_parent(exporters, templates)  # later rebuilds fork workers that have it all loaded
            ready = False
            # yield_on_timeout: the first (empty) answer says the watcher is in place
            for changes in watch(*watched, debounce=DEBOUNCE_MS, step=50, stop_event=stop, raise_interrupt=False,
                                 rust_timeout=200, yield_on_timeout=True,
                                 watch_filter=lambda _change, path: _relevant(Path(path), out)):
                if not ready:
                    ready = True
                    click.echo(f"watching {', '.join(str(p) for p in watched)} for changes (Ctrl+C to stop)")
                    sys_flush()
                    now = _snapshot(watched, out)
                    known = {_canonical(p) for p in now}
                    if now != seen:  # saved while the first build ran, before the watcher was in place
                        once("changed while building")
                if not changes:
                    continue
                # an editor's or `sed -i`'s temporary file, written and renamed away within the batch, is no change
                touched = _touched(changes, known)
                if not touched:
                    continue
                names = sorted({_short(Path(p), framework_dir, templates) for p in touched})
                once("changed " + ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else ""))
        except KeyboardInterrupt:
            pass
        finally:
            if state["pool"] is not None:
                state["pool"].close()
    click.echo("stopped watching")


def _canonical(path: str) -> str:
    """One spelling of a path, whether an event or a listing gave it: its folder's real path (on macOS
    file events name /private/var where a listing says /var), the name itself kept (a link stays a link)."""
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(os.path.realpath(folder), name)


def _touched(changes, known: set) -> list[str]:
    """The changed files worth naming: the ones that exist now, or existed before this batch
    (deleted). A file that came and went within the batch (a temporary file) is left out.
    `known` is brought up to date."""
    touched = []
    for path in sorted({_canonical(p) for _, p in changes}):
        if os.path.isfile(path):
            known.add(path)
            touched.append(path)
        elif os.path.isdir(path):  # a folder moved in (or made): its files came with it
            known.update(os.path.join(d, f) for d, _, files in os.walk(path) for f in files)
            touched.append(path)
        else:  # gone: a file, or a folder moved away with the files known in it
            inside = {k for k in known if k == path or k.startswith(path + os.sep)}
            if inside:
                known.difference_update(inside)
                touched.append(path)
    return touched


def _snapshot(roots: list, out: Path) -> dict:
    """Every watched file's size and modification time."""
    found = {}
    for root in roots:
        for path in Path(root).rglob("*"):
            try:
                if path.is_file() and _relevant(path, out):
                    st = path.stat()
                    found[str(path)] = (st.st_size, st.st_mtime_ns)
            except OSError:
                continue
    return found


def sys_flush() -> None:
    import sys

    sys.stdout.flush()
    sys.stderr.flush()


def _relevant(path: Path, out: Path) -> bool:
    """Not the output folder (it may sit inside the framework's folder), not editors' swap files."""
    try:
        if path.resolve().is_relative_to(out):
            return False
    except OSError:
        return False
    name = path.name
    return not (name.startswith((".#", ".cfexport")) or name.endswith(("~", ".swp", ".swx", ".tmp"))
                or "__pycache__" in path.parts or ".git" in path.parts)


def _short(path: Path, *roots: Path) -> str:
    for root in roots:
        try:
            return str(Path(root) / path.resolve().relative_to(Path(root).resolve()))
        except ValueError:
            continue
    return str(path)


def _warm_parent(exporters: list, templates: Path) -> None:
    from datetime import datetime, timezone

    from cfexport.exporters.base import Context

    context = Context(templates=Path(templates).absolute(), build_time=datetime.now(timezone.utc), version="")
    for exporter in exporters:
        try:
            warm = getattr(exporter, "warm", None)
            if warm is not None:
                warm(context)
        except Exception:  # a theme being edited: the build reports it
            pass


def _rebuild(framework_dir: Path, root, out_dir: Path, exporters: list, templates: Path, jobs, strict: bool,
             force: bool, clean: bool, from_format: str | None, pool=None) -> str | None:
    """One build; prints the problems; a summary of what was rendered, or None when the
    edit is bad (then nothing was written: the previous output stays)."""
    from cfexport import cli
    from cfexport.cli import build as build_command
    from cfexport.exporters.base import ExportError
    from cfexport.exporters.theme_values import theme_problems
    from cfexport.output import OutputError
    from cfexport.readers import read_framework

    kept = "; the previous output is kept"
    theme = theme_problems(templates)  # as a build checks it: the values the exporters refuse too, with lines
    for problem in theme:
        click.echo(cli._format(problem.source.file, problem), err=True)
    if any(p.severity == "error" for p in theme) or (strict and theme):
        click.echo(f"not rebuilt: the theme has problems{kept}", err=True)
        return None
    try:
        result = read_framework(framework_dir, root, from_format)
    except Exception as exc:  # noqa: BLE001 - a page being saved: report it and wait for the next save
        click.echo(f"not rebuilt: cannot read {framework_dir} ({exc}){kept}", err=True)
        return None
    for problem in result.problems:
        if problem.severity != "info":
            click.echo(cli._located(framework_dir, problem), err=True)
    errors = [p for p in result.problems if p.severity == "error"]
    warnings = [p for p in result.problems if p.severity == "warning"]
    if errors or result.framework is None or (strict and warnings):
        click.echo(f"not rebuilt: {len(errors)} error(s), {len(warnings)} warning(s) in {framework_dir}{kept}",
                   err=True)
        return None
    try:
        entries, problems, report = build_command._build_once(result.framework, out_dir, exporters, templates, jobs, strict,
                                                    force, clean, progress=False, pool=pool)
    except build_command.StrictFailure as exc:
        for problem in exc.problems:
            click.echo(cli._located(framework_dir, problem), err=True)
        click.echo(f"not rebuilt: {exc.message}{kept}", err=True)
        return None
    except (ExportError, OutputError, OSError) as exc:  # (OSError: also a worker that died, started again)
        click.echo(f"not rebuilt: {exc}{kept}", err=True)
        return None
    for problem in problems:
        click.echo(cli._located(framework_dir, problem), err=True)
    shown = report.rendered[:8]
    more = len(report.rendered) - len(shown)
    return (f"rebuilt {len(report.rendered)} file(s), reused {len(report.reused)}"
            + (": " + ", ".join(shown) + (f" and {more} more" if more else "") if report.rendered else "")
            + f" -> {out_dir}")
