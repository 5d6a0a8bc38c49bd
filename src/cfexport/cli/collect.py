"""`cfexport collect`: read the returned packs of a round into its summary."""

from __future__ import annotations

from pathlib import Path

import click

from cfexport.cli import (EXIT_INVALID, Failure, _friendly, _templates, main, read_or_fail, root_option,
                          templates_option)

def _workbook_path(ctx, param, value: Path) -> Path:
    """--out is the workbook: an .xlsx name (the JSON goes beside it as .json, so `--out x.json`
    would be both files at once, and `x.csv` an Excel workbook Excel refuses by its name)."""
    if value.suffix.lower() != ".xlsx":
        raise click.BadParameter(f"'{value}' is not an .xlsx name: --out names the summary workbook (the JSON is "
                                 f"written beside it); give, e.g., {value.with_suffix('.xlsx')}")
    return value


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--round", "round_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="The folder `cfexport packs` wrote (OUT/packs, with round.csv): who was expected, so packs not "
                   "returned are listed as missing.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=Path("round-summary.xlsx"),
              show_default=True, callback=_workbook_path, help="The summary workbook; round-summary.json is written beside it (same name, "
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
    from cfexport.exporters.spreadsheet import settings

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
