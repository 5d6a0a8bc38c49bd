"""`cfexport pack` (one promotion pack from the options) and `cfexport packs` (a whole
round from a CSV of people, with its index)."""

from __future__ import annotations

from pathlib import Path

import click

from cfexport.cli import (EXIT_INVALID, EXIT_USAGE, Failure, _friendly, _located, _progress, _templates,
                          framework_option, main, read_or_fail, root_option, templates_option)

def _pack_context(templates_dir: Path | None, framework):
    from cfexport import repro
    from cfexport.exporters.base import Context

    return Context.for_framework(framework, _templates(templates_dir), repro.build_time())


def _write_packs(framework_dir: Path, fw, packs, out_dir: Path, templates_dir, jobs, as_zip,
                 index: bool = False, pool=None) -> None:
    from cfexport.packs import write_packs

    from cfexport.output import check_out_folder

    context = _pack_context(templates_dir, fw)
    check_out_folder(out_dir / "packs", framework_dir, context.templates)
    with _progress(len(packs), "Building packs") as bar:
        written, problems = write_packs(fw, packs, out_dir, context, jobs or 1, as_zip, bar.update, index, pool)
    for problem in problems:
        click.echo(_located(framework_dir, problem), err=True)
    for path in written if len(written) <= 20 else written[:10] + ["..."] + written[-5:]:
        click.echo(f"  {out_dir / path if path != '...' else path}")
    click.echo(f"wrote {len(written)} pack(s) to {out_dir / 'packs'}")
    stale = written.other_forms(out_dir)
    if stale:  # a round written once as folders and once as zips: say which copies are the old ones
        form = "folder" if as_zip else ".zip"
        shown = ", ".join(str(out_dir / p) for p in stale[:3])
        shown += f" and {len(stale) - 3} more" if len(stale) > 3 else ""
        click.echo(f"note: {len(stale)} of these pack(s) also have a {form} from an earlier round ({shown}); they "
                   f"are out of date and not in this round's index: delete them if they are not wanted", err=True)
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
    from cfexport.packs import MAX_NAME, PackRequest, plan

    from cfexport.model import Source
    from cfexport.text import clean, normalise

    fw = read_or_fail(framework_dir, quiet=True, root=root).framework
    warnings: list = []
    person, manager = (clean(normalise(v), Source(f"--{k}", 1), warnings) if v else v
                       for k, v in (("person", person), ("manager", manager)))
    for problem in warnings:
        click.echo(f"warning: {problem.message} in {problem.source.file}", err=True)
    for option, value in (("--person", person), ("--manager", manager)):
        if value and len(value) > MAX_NAME:
            raise Failure(f"error: {option} is {len(value):,} characters long; a name has at most {MAX_NAME}",
                          EXIT_USAGE)
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
    import contextlib

    from cfexport import workers
    from cfexport.packs.folders import start_workers
    from cfexport.theme import default_templates

    jobs = jobs or workers.cpu_count()
    # the workers start first: they load the libraries, templates and fonts while the pages are read
    # (a missing templates folder or a bad theme: the round reports it itself, and they are stopped)
    templates = templates_dir or default_templates()
    pool = start_workers(jobs, templates) if templates.is_dir() else None
    with pool or contextlib.nullcontext():
        _round(people, framework_dir, root, out_dir, templates_dir, as_zip, jobs, keep_going, pool)


def _round(people: Path, framework_dir: Path, root: str | None, out_dir: Path, templates_dir: Path | None,
           as_zip: bool, jobs: int, keep_going: bool, pool) -> None:
    from cfexport.packs import plan, read_people

    fw = read_or_fail(framework_dir, quiet=True, root=root).framework
    warnings: list = []
    requests, errors = read_people(people, warnings)
    packs_, plan_errors = plan(fw, requests, warnings)
    for problem in sorted(warnings, key=lambda p: p.source.line):
        click.echo(str(problem), err=True)
    errors = sorted(errors + plan_errors, key=lambda p: p.source.line)
    for problem in errors:
        click.echo(str(problem), err=True)
    if not requests and not errors:
        raise Failure(f"error: no people in {people}", EXIT_INVALID)
    if errors and not keep_going:  # the CSV's contents need fixing: exit 1
        raise Failure(f"{len(errors)} error(s) in {people}; nothing was written"
                      + (" (fix them, or pass --keep-going to build the good rows)" if packs_ else ""), EXIT_INVALID)
    if packs_:
        _write_packs(framework_dir, fw, packs_, out_dir, templates_dir, jobs, as_zip, index=True, pool=pool)
    if errors:
        raise Failure(f"{len(errors)} bad row(s) skipped; {len(packs_)} pack(s) built", EXIT_INVALID)
