"""`cfexport collect`: read the filled-in packs of a promotion round back into one summary.

- `guard`: hostile-input rules (zip limits, macros, encryption, XML without DTDs);
- `provenance`: the pack record every pack document carries in its custom properties;
- `inputs`: files, folders and zips given on the command line, as candidate documents;
- `read`: a returned self-assessment or promotion case, read by header texts and hashes;
- `match`: documents grouped into packs, the newest copy chosen, the round's expected packs;
- `summary`: the facts per pack; `write`: round-summary.xlsx and round-summary.json.
"""
