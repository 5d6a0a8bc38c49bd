"""The level cards of a promotion pack (PDF): the current and the target level side by
side, drawn by the level cards' exporter (`exporters.level_cards.render_cards`).
"""

from __future__ import annotations

from cfexport.exporters.base import Context
from cfexport.exporters.level_cards import render_cards
from cfexport.model import Framework, Role


def render_pack_cards(framework: Framework, current: Role, target: Role, context: Context) -> bytes:
    """A promotion pack's cards: the current and the target level side by side on one sheet,
    the target's new and reworded statements marked as in the promotion case."""
    from cfexport.compare import compare
    from cfexport.exporters.word_template import settings as word_settings

    labels = word_settings(context.templates).labels
    marks = {(ch.area_id, c.statement.text): labels["new"] if c.kind == "new" else labels["changed"]
             for ch in compare(current, target) for c in ch.changes if c.kind != "same"}
    return render_cards(framework, [current, target], context, f"{current.title} and {target.title}",
                        {target.id: marks}, pair=True)
