"""How the body of a level card is laid out: the flowables of a role (areas and their
statements), and `paginate`, which splits them into card-sized frames before anything is
drawn (so each card can say "2 of 3").

The rules a reader expects of a card:
- a statement is never split across two cards when it fits on one: it moves whole to the
  next card; only a statement longer than a whole card continues, between two lines
  (so at a word boundary), and the next card repeats the area's title "(continued)";
- an area's title never ends a card without the start of what follows;
- nothing is ever dropped: what cannot fit even an empty card is printed smaller.

Framework text is escaped (`markup`) before it reaches a reportlab `Paragraph`, which
parses its text as markup.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Callable, Iterable

from cfexport.model import Role

_FUZZ = 1e-6
NOT_DEFINED = "Not yet defined"
NO_EXPECTATIONS = "No expectations at this level"
# a whole statement may move to the next card if it fits in this share of an empty card
# (the rest is for the "(continued)" title above it)
_WHOLE_SHARE = 0.85



# --- text ----------------------------------------------------------------------


def escape(text: str) -> str:
    """`&`, `<` and `>` as entities, as `xml.sax.saxutils.escape` writes them (that module imports
    urllib.request, http and email: a tenth of a worker's start-up, for three replacements)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markup(text: str) -> str:
    """Framework text as literal paragraph text: escaped, line breaks kept, tabs as spaces.

    Two invisible characters often pasted from Word are dropped: soft hyphens (U+00AD), at
    which reportlab would hyphenate (cards are never hyphenated: what prints is what the
    page says), and zero-width spaces (U+200B), which reportlab would print as spaces."""
    return escape(text.translate(_INVISIBLE)).replace("\t", " ").replace("\n", "<br/>")


_INVISIBLE = {0x00AD: None, 0x200B: None}


# --- laying out a card ------------------------------------------------------------


@dataclass
class Item:
    """A flowable of a card's body with how it sits among the others."""

    flowable: object
    space_before: float = 0.0
    space_after: float = 0.0
    keep_with_next: bool = False
    area: str | None = None  # the area it belongs to: a card starting inside it repeats its title
    heading: bool = False
    whole: bool = False  # never split across cards unless it is longer than a whole card


@dataclass
class Placed:
    flowable: object
    top: float  # distance from the top of the frame
    height: float


def _min_height(item: Item, width: float, wrapped: dict, height: float = 1e9) -> float:
    """The least of `item` that may end a card: all of a whole item that fits a card, else two
    lines of a paragraph, else all of it."""
    h = _wrap(item.flowable, width, 1e9, wrapped)
    if item.whole and h <= height * _WHOLE_SHARE:
        return h
    leading = getattr(getattr(item.flowable, "style", None), "leading", None)
    return min(h, 2 * leading) if leading else h


def _wrap(flowable, width: float, height: float, wrapped: dict) -> float:
    key = id(flowable)
    if key not in wrapped:
        wrapped[key] = (flowable, flowable.wrap(width, height)[1])
    return wrapped[key][1]


def paginate(items: Iterable[Item], width: float, height: float,
             continued: Callable[[str], Item] | None = None,
             on_shrink: Callable[[object], None] | None = None) -> list[list[Placed]]:
    """Split `items` into frames of `width` x `height` points, measuring each flowable once.

    A flowable that does not fit is split (a paragraph splits between lines); what is left
    goes on the next frame. A heading (keep_with_next) never ends a frame without at least
    the start of what follows. A frame that starts inside an area begins with `continued(area)`.
    A `whole` item that does not fit what is left of a frame starts the next one, unless it
    is longer than a whole frame: then it is split between lines like any paragraph.
    When something cannot fit an empty frame and cannot split (a single line taller than
    the frame), a paragraph is split line by line, and as a last resort the flowable is
    scaled down to fit (`on_shrink` is told). Nothing is ever dropped.
    """
    from reportlab.platypus import Paragraph
    from reportlab.platypus.flowables import KeepInFrame

    frames: list[list[Placed]] = []
    card: list[Placed] = []
    used = 0.0
    wrapped: dict = {}
    queue = deque(items)

    def close():
        nonlocal card, used
        frames.append(card)
        card, used = [], 0.0

    while queue:
        item = queue.popleft()
        at_top = not card
        if at_top and frames and continued and item.area is not None and not item.heading:
            queue.appendleft(item)
            queue.appendleft(continued(item.area))
            continue
        before = 0.0 if at_top else item.space_before
        avail = height - used - before
        h = _wrap(item.flowable, width, avail, wrapped)
        if h <= avail + _FUZZ:
            if item.keep_with_next and queue and not at_top:
                nxt = queue[0]
                need = nxt.space_before + _min_height(nxt, width, wrapped, height)
                if used + before + h + need > height + _FUZZ:
                    queue.appendleft(item)
                    close()
                    continue
            card.append(Placed(item.flowable, used + before, h))
            used += before + h + item.space_after
            continue
        if item.whole and not at_top and h <= height * _WHOLE_SHARE:
            # a statement that fits a card is never cut in two: it starts the next card
            queue.appendleft(item)
            close()
            continue
        wrapped.pop(id(item.flowable), None)  # split may drop or change the layout: measure again
        parts = item.flowable.split(width, avail) if avail > _FUZZ else []
        if not parts and at_top and isinstance(item.flowable, Paragraph):
            # an empty frame shorter than two lines: let a paragraph split after one line
            item.flowable.allowOrphans = 1
            parts = item.flowable.split(width, avail)
        if len(parts) > 1:
            first, rest = parts[0], parts[1:]
            fh = first.wrap(width, avail)[1]
            if fh <= avail + _FUZZ:
                card.append(Placed(first, used + before, fh))
                for part in reversed(rest):
                    # the rest of a heading stays a heading: no "(continued)" title in front of it
                    queue.appendleft(Item(part, 0.0, item.space_after, item.keep_with_next, item.area,
                                          item.heading))
                close()
                continue
            queue.extendleft(reversed([Item(p, item.space_before, item.space_after, item.keep_with_next,
                                            item.area, item.heading) for p in parts]))
            if not at_top:
                close()
                continue
            item = queue.popleft()
        if not at_top:
            queue.appendleft(item)
            close()
            continue
        # an empty frame, and it neither fits nor splits: print it smaller rather than lose it
        if on_shrink:
            on_shrink(item.flowable)
        shrunk = KeepInFrame(width, height, [item.flowable], mode="shrink")
        sh = min(shrunk.wrapOn(None, width, height)[1], height)  # no canvas needed to measure
        card.append(Placed(shrunk, 0.0, sh))
        used = height
    if card or not frames:
        frames.append(card)
    return frames


# --- a role's body ----------------------------------------------------------------


def role_items(role: Role, styles: dict, checker, marks: dict | None = None) -> list[Item]:
    """The body of a role's card: each area with its statements, in the craft page's order.
    `marks` maps (area id, statement text) to a label ("New", "Reworded"): such a statement is
    shaded and starts with its label, as in the promotion case."""
    from reportlab.platypus import Paragraph

    marks = marks or {}
    accent = styles["_colours"]["bullet"].hexval()[2:]

    fs = styles["_fs"]
    items: list[Item] = []
    for area in role.areas():
        src = area.area.source if area.area else (area.expectations[0].source if area.expectations else
                                                  role.level.source)
        checker.check(area.area_title, src, "bold")
        items.append(Item(Paragraph(markup(area.area_title), styles["area"]), space_before=fs * 0.9,
                          space_after=fs * 0.25, keep_with_next=True, area=area.area_id, heading=True))
        shown = False
        for exp in area.expectations:
            if exp.todo:
                items.append(Item(Paragraph(NOT_DEFINED, styles["todo"]), fs * 0.3, fs * 0.2, area=area.area_id,
                                  whole=True))
                shown = True
            for st in exp.statements:
                checker.check(st.text, st.source)
                label = marks.get((area.area_id, st.text))
                if label:
                    text = f'<font color="#{accent}"><b>{escape(label)}:</b></font> {markup(st.text)}'
                    para = Paragraph(text, styles["new"], bulletText="•")
                else:
                    para = Paragraph(markup(st.text), styles["body"], bulletText="•")
                items.append(Item(para, fs * 0.3, area=area.area_id, whole=True))
                shown = True
        if not shown:
            items.append(Item(Paragraph(NO_EXPECTATIONS, styles["absent"]), fs * 0.2, area=area.area_id,
                                  whole=True))
    return items


def continued(styles: dict, titles: dict[str, str]) -> Callable[[str], Item]:
    from reportlab.platypus import Paragraph

    muted = styles["_colours"]["muted"].hexval()[2:]

    def make(area_id: str) -> Item:
        text = f'{markup(titles[area_id])} <font color="#{muted}">(continued)</font>'
        return Item(Paragraph(text, styles["area"]), 0.0, styles["_fs"] * 0.25, keep_with_next=True,
                    area=area_id, heading=True)

    return make
