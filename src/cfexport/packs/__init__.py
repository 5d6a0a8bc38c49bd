"""Promotion packs: for a person moving from one level of a role to another, the
promotion case (Word), a self-assessment (Excel) and both levels' cards (PDF).

- `requests`: what a pack is (`PackRequest`, `Pack`), checked against the framework
  (`resolve`, `plan`), and a round's CSV of people (`read_people`);
- `folders`: rendering and writing packs into OUT/packs/ (`render_pack`, `write_packs`,
  `zip_pack`), which folder is whose (`assign_folders`, `pack.json`) and replacing the
  files of a kept folder;
- `round_index`: the round's `round.csv` and `round.xlsx` beside the packs;
- the documents of a pack: `promotion_case` (Word) and `self_assessment` (Excel), on
  the machinery the exporters use (wordprocessing, spreadsheet); the pack's cards are
  `exporters.level_cards.render_pack_cards`. Exporters never import packs.

The names other modules use are importable from `cfexport.packs` itself; importing it
loads no document library (those are loaded when a pack is rendered).
"""

from cfexport.packs.folders import (PACK_RECORD, assign_folders, folder_record, render_pack, render_packs,
                                    write_packs, zip_pack, zip_record)
from cfexport.packs.requests import (CSV_HEADER, MAX_CSV_BYTES, MAX_NAME, MAX_ROWS, Pack, PackError, PackRequest, plan,
                                     read_people, resolve, tracks)

__all__ = [
    "CSV_HEADER", "MAX_CSV_BYTES", "MAX_NAME", "MAX_ROWS", "PACK_RECORD", "Pack", "PackError", "PackRequest", "assign_folders",
    "folder_record", "plan", "read_people", "render_pack", "render_packs", "resolve", "tracks", "write_packs",
    "zip_pack", "zip_record",
]
