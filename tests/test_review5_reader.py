"""Review 5 (the real-site reader): defects found by reading Jekyll pages written the way real
just-the-docs sites write them, each as a test.

Pages are written here in the shapes real sites take; golden values (the statements, the heading ids
the published site gives) are worked out by hand from the page text and kramdown's documented rules,
never from cfexport's output."""

from __future__ import annotations

from pathlib import Path

from cfexport.readers import read_framework

INDEX = """\
---
title: Careers
has_children: true
permalink: /careers/
---
# Careers

How we grow.
"""

CRAFT = """\
---
title: Engineering Craft
parent: Careers
has_children: true
---
# Engineering Craft

Engineers build things.

## Craft

{areas}
"""

LEVEL = """\
---
title: Level 5 (Junior)
parent: Engineering Craft
grand_parent: Careers
---
# Junior Engineer - Level 5

## Craft

| Area | Description |
|:-----|:------------|
{rows}
"""


def _site(tmp_path: Path, areas: str, rows: str, config: str = "title: Handbook\npermalink: pretty\n") -> Path:
    site = tmp_path / "site"
    (site / "careers" / "engineering").mkdir(parents=True)
    (site / "_config.yml").write_text(config, "utf-8")
    (site / "careers" / "index.md").write_text(INDEX, "utf-8")
    (site / "careers" / "engineering" / "index.md").write_text(CRAFT.format(areas=areas), "utf-8")
    (site / "careers" / "engineering" / "level5.md").write_text(LEVEL.format(rows=rows), "utf-8")
    return site


def _read(site: Path):
    result = read_framework(site)
    assert result.framework is not None, result.problems
    [craft] = result.framework.crafts
    return result, craft


# --- heading ids: kramdown makes them from the heading's text as parsed, not from its markdown source ----------------

def test_an_area_heading_that_is_a_link_has_the_id_of_its_text(tmp_path):
    """`### [ML Ops](https://wiki.example.com/ml-ops)` (an area heading linking to the team wiki) is
    `id="ml-ops"` on the site: kramdown-parser-gfm builds the id from the heading's parsed text (the link's
    text, not its URL). cfexport built it from the markdown source: the area's id was
    'ml-opshttpswikiexamplecomml-ops', so every level row linking to `#ml-ops` was reported as linking to
    an area the craft page does not define, and every level 'left out' ML Ops."""
    site = _site(tmp_path, "### [ML Ops](https://wiki.example.com/ml-ops)\n\nRunning ML in production.\n",
                 "| [ML Ops](/careers/engineering/#ml-ops) | I deploy models with the team's pipeline. |\n")
    result, craft = _read(site)
    assert [a.id for a in craft.areas] == ["ml-ops"]
    [level] = craft.levels
    assert [e.area_id for e in level.expectations] == ["ml-ops"]
    assert not result.problems, result.problems


def test_heading_ids_use_entities_and_typographic_symbols_as_the_site_shows_them(tmp_path):
    """`### Build -- Run` is 'Build – Run' on the site and kramdown's id is made from that text: the en dash
    is dropped, `build--run`. `### R&amp;D` is 'R&D': id `rd`. cfexport kept the source's hyphens and the
    entity's letters ('build----run', 'rampd'), so rows linking to the site's anchors matched no area."""
    areas = ("### Build -- Run\n\nShipping and operating.\n\n"
             "### R&amp;D\n\nResearch.\n\n"
             "### Code `review`s & *pairing*\n\nWorking on code together.\n")
    rows = ("| [Build -- Run](/careers/engineering/#build--run) | I ship small changes. |\n"
            "| [R&amp;D](/careers/engineering/#rd) | I read papers. |\n"
            "| [Reviews](/careers/engineering/#code-reviews--pairing) | I review code. |\n")
    result, craft = _read(_site(tmp_path, areas, rows))
    assert [a.id for a in craft.areas] == ["build--run", "rd", "code-reviews--pairing"]
    assert [a.title for a in craft.areas] == ["Build \u2013 Run", "R&D", "Code reviews & pairing"]
    [level] = craft.levels
    assert [e.area_id for e in level.expectations] == ["build--run", "rd", "code-reviews--pairing"]
    assert not result.problems, result.problems


def test_a_setext_heading_with_an_id_has_that_id_and_no_braces_in_its_title(tmp_path):
    """kramdown reads `{#id}` at the end of a setext heading's text as it does on an ATX heading: a craft
    page written with underlined headings (`ML Ops {#ops}` over `------`) shows 'ML Ops', with id `ops`.
    cfexport only knew the ATX form: the area was titled 'ML Ops {#ops}' in every document, its id was
    'ml-ops-ops', and the level row linking to `#ops` matched no area."""
    areas = "ML Ops {#ops}\n-------------\n\nRunning ML in production.\n\nCollaboration\n-------------\n\nWorking together.\n"
    rows = ("| [ML Ops](/careers/engineering/#ops) | I deploy models with the team's pipeline. |\n"
            "| [Collaboration](/careers/engineering/#collaboration) | I help my team. |\n")
    site = _site(tmp_path, areas, rows)
    craft_page = site / "careers" / "engineering" / "index.md"
    craft_page.write_text(craft_page.read_text("utf-8").replace("## Craft\n", ""), "utf-8")
    result, craft = _read(site)
    assert [(a.id, a.title) for a in craft.areas] == [("ops", "ML Ops"), ("collaboration", "Collaboration")]
    [level] = craft.levels
    assert [e.area_id for e in level.expectations] == ["ops", "collaboration"]
    assert not result.problems, result.problems


def test_kramdowns_end_of_block_marker_is_not_text(tmp_path):
    """kramdown's `^` on a line of its own ends a block (the usual way to write two lists one after the
    other); the site shows no '^'. cfexport read it as text: the area's definition said 'leads ^'."""
    areas = ("### Collaboration\n\nWorking with:\n\n* peers\n* leads\n^\n* customers\n* suppliers\n\n"
             "^\nAnd always in the open.\n")
    rows = "| Collaboration | I help my team. |\n"
    result, craft = _read(_site(tmp_path, areas, rows))
    [area] = craft.areas
    assert "^" not in area.definition
    assert area.definition.split("\n\n") == ["Working with:", "peers", "leads", "customers", "suppliers",
                                             "And always in the open."]
    assert not result.problems, result.problems


# --- Liquid sees YAML values typed, as Jekyll's (Ruby's) YAML loader gives them ---------------------------------------

def test_a_row_hidden_by_a_false_setting_in_config_is_not_read(tmp_path):
    """`show_level_8_draft: false` in `_config.yml` and `{% if site.show_level_8_draft %}` around rows:
    Jekyll reads `false` as the boolean false and the site hides the rows. cfexport gave Liquid the text
    'false', which Liquid takes as true: the hidden statement went into every document."""
    rows = ("| Collaboration | I help my team. |\n"
            "{% if site.show_drafts %}\n| Collaboration | DRAFT: I run the team's retrospectives. |\n{% endif %}\n"
            "{% unless page.hide_ops %}\n| [ML Ops](/careers/engineering/#ml-ops) | I deploy models. |\n{% endunless %}\n")
    areas = "### Collaboration\n\nWorking together.\n\n### ML Ops\n\nRunning ML.\n"
    site = _site(tmp_path, areas, rows, config="title: Handbook\npermalink: pretty\nshow_drafts: false\n")
    level = site / "careers" / "engineering" / "level5.md"
    level.write_text(level.read_text("utf-8").replace("grand_parent: Careers\n", "grand_parent: Careers\nhide_ops: no\n"),
                     "utf-8")
    result, craft = _read(site)
    [level5] = craft.levels
    got = {e.area_id: [s.text for s in e.statements] for e in level5.expectations}
    assert got == {"collaboration": ["I help my team."], "ml-ops": ["I deploy models."]}
    assert not result.problems, result.problems


def test_rows_from_site_data_filtered_by_a_number_are_read(tmp_path):
    """A level table built from `_data/statements.yml` with `where_exp: "s", "s.level == 5"` (or
    `s.level >= 5`): `level: 5` is a number in Jekyll, so the site shows the level-5 rows. cfexport gave
    Liquid the text '5': `==` matched nothing, every statement was silently lost, and `>=` was a warning
    about comparing an int with a str. Quoted values stay text, as in Jekyll (`"5"` is not 5)."""
    data = ("- area: Collaboration\n  level: 5\n  text: I help my team.\n"
            "- area: Collaboration\n  level: 6\n  text: I lead my team.\n")
    quoted = "- area: Collaboration\n  level: \"5\"\n  text: QUOTED-FIVE is text, not the number 5.\n"
    rows = ("{% assign mine = site.data.statements | where_exp: \"s\", \"s.level == 5\" %}"
            "{% for s in mine %}\n| {{ s.area }} | {{ s.text }} |\n{%- endfor %}\n"
            "{% assign later = site.data.statements | where_exp: \"s\", \"s.level > 5\" %}"
            "{% for s in later %}\n| {{ s.area }} | Next: {{ s.text }} |\n{%- endfor %}\n"
            "{% assign text = site.data.quoted | where_exp: \"s\", \"s.level == 5\" %}"
            "{% for s in text %}\n| {{ s.area }} | {{ s.text }} |\n{%- endfor %}\n")
    site = _site(tmp_path, "### Collaboration\n\nWorking together.\n", rows)
    (site / "_data").mkdir()
    (site / "_data" / "statements.yml").write_text(data, "utf-8")
    (site / "_data" / "quoted.yml").write_text(quoted, "utf-8")
    result, craft = _read(site)
    [level5] = craft.levels
    got = [s.text for e in level5.expectations for s in e.statements]
    assert got == ["I help my team.", "Next: I lead my team."]
    assert [p for p in result.problems if p.severity != "info" and "second row" not in p.message] == []


def test_a_page_with_render_with_liquid_false_keeps_its_braces_as_text(tmp_path):
    """Jekyll 4 leaves a page's Liquid as written when its front matter says `render_with_liquid: false`
    (checked with Jekyll 4.3.1: "A {{ site.title }} B {% if x %}" is shown as is). cfexport rendered it:
    a statement about templates lost its `{{ name }}`, and `{% if %}` was a warning."""
    site = _site(tmp_path, "### Templates\n\nWriting templates.\n",
                 "| [Templates](/careers/engineering/#templates) | I write {{ name }} placeholders and "
                 "{% if %} blocks in our email templates. |\n")
    level = site / "careers" / "engineering" / "level5.md"
    level.write_text(level.read_text("utf-8").replace("---\n", "---\nrender_with_liquid: false\n", 1), "utf-8")
    result, craft = _read(site)
    [level5] = craft.levels
    assert [s.text for e in level5.expectations for s in e.statements] == [
        "I write {{ name }} placeholders and {% if %} blocks in our email templates."]
    assert not result.problems, result.problems


def test_defaults_reach_liquid_typed_on_a_page_with_empty_front_matter(tmp_path):
    """`---` then `---`: the page's front matter is the site's defaults alone; they reached Liquid as
    text, so `draft: false` from the defaults was the text 'false', which Liquid takes as true."""
    from cfexport.readers.jekyll.site import load_site

    (tmp_path / "_config.yml").write_text('defaults:\n  - scope: {path: ""}\n    values: {draft: false, rank: 3}\n',
                                          "utf-8")
    (tmp_path / "page.md").write_text("---\n---\nText.\n", "utf-8")
    site = load_site(tmp_path)
    [page] = site.pages
    seen = site.liquid_page(page)
    assert seen["draft"] is False and seen["rank"] == 3


def test_render_with_liquid_quoted_is_text_and_liquid_still_runs(tmp_path):
    """Only the boolean false turns Liquid off: with `render_with_liquid: "false"` (quoted: text)
    Jekyll 4.3.1 renders the page's Liquid (checked: an unclosed `{% if %}` then fails its build)."""
    site = _site(tmp_path, "### Templates\n\nWriting templates.\n",
                 "| [Templates](/careers/engineering/#templates) | I keep the {{ site.title }} templates tidy. |\n")
    level = site / "careers" / "engineering" / "level5.md"
    level.write_text(level.read_text("utf-8").replace("---\n", '---\nrender_with_liquid: "false"\n', 1), "utf-8")
    result, craft = _read(site)
    [level5] = craft.levels
    assert [s.text for e in level5.expectations for s in e.statements] == ["I keep the Handbook templates tidy."]


def test_a_definition_list_in_an_area_reads_term_colon_definition(tmp_path):
    """kramdown's definition lists (`Term` then `: definition`; Jekyll 4.3.1 builds <dl><dt>Model
    serving</dt><dd>Deploying ...</dd>..., and two <dt> for two term lines) read as "Model serving :
    Deploying ...": the marker was text."""
    areas = ("### ML Ops\n\nModel serving\n: Deploying models behind an API.\n: And scaling them.\n\n"
             "Monitoring\n\n: Watching drift.\n\nOffline\nOnline\n: Checked on held-out data.\n\n"
             "A normal paragraph: with a colon.\n")
    site = _site(tmp_path, areas, "| [ML Ops](/careers/engineering/#ml-ops) | I deploy models. |\n")
    result, craft = _read(site)
    assert craft.areas[0].definition.split("\n\n") == [
        "Model serving: Deploying models behind an API. And scaling them.", "Monitoring:", "Watching drift.",
        "Offline, Online: Checked on held-out data.", "A normal paragraph: with a colon."]
    assert not result.problems, result.problems
