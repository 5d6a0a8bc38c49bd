"""Jekyll's Liquid pass: render a page body as Jekyll 4 (+ just-the-docs) would, before markdown.

A real Liquid engine (python-liquid 2) does the evaluating; this module adds what Jekyll adds
(`site`/`page` variables, the Jekyll filters, `{% link %}`, Jekyll-syntax `{% include %}`), locks
the engine down (no file access outside `_includes/`, bounded output, loops and nesting) and keeps
line numbers those of the source file.

What cfexport cannot evaluate (an unknown tag, block or filter, a syntax error) becomes a warning
naming file and line, and its Liquid text is left out of the output; nothing raises.

Line map: before rendering, an invisible marker carrying the line number is put at the start of
each source line that lies in plain text (not inside a `{%...%}`/`{{...}}`, nor in the body of a
block whose output may repeat or move: `for`, `tablerow`, `capture`, `ifchanged`). A marker is a
run of U+2000/U+2001 (en/em quad). Both are Unicode whitespace, so Liquid's whitespace control
(`{%-`, `-%}`) and its blank-block rule treat markers exactly like the whitespace around them;
both are canonically equivalent to U+2002/U+2003, which is what any pre-existing ones become.
After rendering, each output line that starts with a marker takes its line; any other output line
(from a loop, an include, a variable holding newlines) takes the line of the marker before it.
"""

from __future__ import annotations

from cfexport.readers.jekyll.liquid.build import strip_liquid
from cfexport.readers.jekyll.liquid.render import render_page
from cfexport.readers.jekyll.liquid.state import LiquidSite, Rendered

__all__ = ["LiquidSite", "Rendered", "render_page", "strip_liquid"]
