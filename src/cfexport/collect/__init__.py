"""`cfexport collect`: read the filled-in packs of a promotion round back into one summary.

- `guard`: hostile-input rules (zip limits, macros, encryption, XML without DTDs);
- `provenance`: the pack record every pack document carries in its custom properties;
- `inputs`: files, folders and zips given on the command line, as candidate documents;
- `read`: a returned self-assessment or promotion case, read by header texts and hashes;
- `match`: documents grouped into packs, the newest copy chosen, the round's expected packs;
- `summary`: the facts per pack; `write`: round-summary.xlsx and round-summary.json.
"""

from __future__ import annotations

from pathlib import Path

OWN = "cfexport file"  # a round index or an earlier round summary


def collect(paths: list[Path], ratings: tuple[str, ...], round_dir: Path | None = None, framework=None,
            exclude: set[Path] = frozenset()) -> dict:
    """The round's facts (round-summary.json's content) from the returned files under `paths`.
    `ratings` is the theme's rating scale; `framework` (optional) the framework now, to match
    packs of another version by statement id. Raises match.RoundError for a bad --round."""
    from cfexport.collect import match, provenance, summary
    from cfexport.collect.inputs import Skipped, gather
    from cfexport.collect.read import read

    expected = match.read_round(round_dir) if round_dir is not None else []
    docs, skipped = [], []
    for item in gather(paths, exclude):
        got = item if isinstance(item, Skipped) else read(item, ratings)
        if isinstance(got, Skipped):
            if not _own_file(got):
                skipped.append(got)
        else:
            docs.append(got)
    version = (framework.version if framework is not None and framework.version else match.round_version(expected))
    statements = provenance.framework_statements(framework) if framework is not None else None
    packs = match.group(docs, expected, round_dir is not None)
    return summary.round_facts(packs, skipped, ratings, version, statements,
                               str(round_dir) if round_dir is not None else None)


def _own_file(skipped) -> bool:
    """cfexport's own workbooks that are no pack document (a round index, an earlier summary) pass unremarked."""
    return skipped.kind == OWN
