"""The Liquid pass: golden outputs written by hand from what Jekyll 4 would publish."""

from __future__ import annotations

from pathlib import Path

import pytest

from cfexport.readers.jekyll.liquid import LiquidSite, Rendered, render_page, strip_liquid

PAGES = {
    "careers/eng/index.md": "/careers/eng/",
    "careers/eng/level-5.md": "/careers/eng/level-5/",
}


def make_site(root: Path, baseurl: str | None = "/handbook", **config: object) -> LiquidSite:
    conf: dict = {"title": "Handbook", "url": "https://example.com", **config}
    if baseurl is not None:
        conf["baseurl"] = baseurl
    return LiquidSite(root=root, config=conf, url_of=PAGES.get)


def render(body: str, site: LiquidSite, body_line: int = 1, **page: object) -> Rendered:
    meta = {"title": "Level 5", "url": "/careers/eng/level-5/", "path": "careers/eng/level-5.md", **page}
    out = render_page(body, "careers/eng/level-5.md", body_line, meta, site)
    assert len(out.lines) == out.text.count("\n") + 1
    assert out.lines == sorted(out.lines)
    return out


def warnings(out: Rendered) -> list[str]:
    assert all(p.severity == "warning" for p in out.problems)
    return [str(p) for p in out.problems]


@pytest.fixture
def site(tmp_path: Path) -> LiquidSite:
    (tmp_path / "_includes").mkdir()
    return make_site(tmp_path)


def test_page_without_liquid_is_unchanged(site: LiquidSite) -> None:
    body = "# Title\n\n| a | b |\n|---|---|\n| { x } | 100% |\n"
    out = render(body, site, body_line=4)
    assert out.text == body
    assert out.lines == [4, 5, 6, 7, 8, 9]
    assert out.problems == []


def test_site_and_page_variables(site: LiquidSite) -> None:
    body = "[Home]({{ site.baseurl }}/)\n{{ site.title }}: {{ page.title }} at {{ page.url }} ({{ page.path }})\n"
    out = render(body, site, body_line=3)
    assert out.text == (
        "[Home](/handbook/)\nHandbook: Level 5 at /careers/eng/level-5/ (careers/eng/level-5.md)\n"
    )
    assert out.lines == [3, 4, 5]
    assert out.problems == []


def test_undefined_variables_render_empty_without_warning(site: LiquidSite) -> None:
    out = render("a{{ page.nope }}b{{ nope.deeper }}c{{ site.nope }}", site)
    assert out.text == "abc"
    assert out.problems == []


def test_no_python_attribute_access(site: LiquidSite) -> None:
    out = render("[{{ page.__class__ }}][{{ site.__class__.__name__ }}][{{ page.title.__len__ }}]", site)
    assert out.text == "[][][]"


@pytest.mark.parametrize(
    ("baseurl", "expected"),
    [
        ("/handbook", ["/handbook/careers/eng/", "/handbook/careers/eng/", "/handbook"]),
        ("/handbook/", ["/handbook/careers/eng/", "/handbook/careers/eng/", "/handbook"]),
        ("", ["/careers/eng/", "/careers/eng/", ""]),
        ("/", ["/careers/eng/", "/careers/eng/", ""]),
        (None, ["/careers/eng/", "/careers/eng/", ""]),
    ],
)
def test_relative_url(tmp_path: Path, baseurl: str | None, expected: list[str]) -> None:
    site = make_site(tmp_path, baseurl=baseurl)
    body = "{{ '/careers/eng/' | relative_url }}\n{{ 'careers/eng/' | relative_url }}\n{{ '' | relative_url }}"
    assert render(body, site).text.split("\n") == expected


def test_relative_url_leaves_absolute_urls_alone(site: LiquidSite) -> None:
    body = "{{ 'https://x.org/a b' | relative_url }} {{ 'mailto:a@b.c' | relative_url }}"
    assert render(body, site).text == "https://x.org/a b mailto:a@b.c"


def test_absolute_url(site: LiquidSite, tmp_path: Path) -> None:
    assert render("{{ '/careers/eng/' | absolute_url }}", site).text == (
        "https://example.com/handbook/careers/eng/"
    )
    no_url = LiquidSite(tmp_path, {"baseurl": "/handbook"}, PAGES.get)
    assert render("{{ 'careers/' | absolute_url }}", no_url).text == "/handbook/careers/"


def test_table_row_with_a_filter_stays_one_row(site: LiquidSite) -> None:
    body = "| Area | Text |\n|---|---|\n| [ML Ops]({{ '/careers/eng/' | relative_url }}#ml-ops) | text |\n"
    out = render(body, site, body_line=10)
    assert out.text == "| Area | Text |\n|---|---|\n| [ML Ops](/handbook/careers/eng/#ml-ops) | text |\n"
    assert out.lines == [10, 11, 12, 13]


def test_reference_style_link_definition(site: LiquidSite) -> None:
    body = "See [ops][ops].\n\n[ops]: {{ site.baseurl }}/careers/eng/#ml-ops\n"
    out = render(body, site, body_line=7)
    assert out.text == "See [ops][ops].\n\n[ops]: /handbook/careers/eng/#ml-ops\n"
    assert out.lines == [7, 8, 9, 10]


def test_link_tag_found(site: LiquidSite) -> None:
    out = render("[Eng]({% link careers/eng/index.md %}) and [L5]({% link /careers/eng/level-5.md %})", site)
    assert out.text == "[Eng](/handbook/careers/eng/) and [L5](/handbook/careers/eng/level-5/)"
    assert out.problems == []


def test_link_tag_not_found(site: LiquidSite) -> None:
    out = render("one\n[X]({% link careers/x.md %})\n", site, body_line=5)
    assert out.text == "one\n[X]()\n"
    assert out.lines == [5, 6, 7]
    assert warnings(out) == ["careers/eng/level-5.md:6: warning: {% link careers/x.md %}: no such page"]


def test_jekyll_filters(site: LiquidSite) -> None:
    body = (
        "{{ 'ML Ops & Edge!' | slugify }}|{{ 'a <b> & \"c\"' | xml_escape }}|{{ 'a b&c' | cgi_escape }}|"
        "{{ 'a b/é' | uri_escape }}|{{ 'one two  three' | number_of_words }}|{{ '**x**' | markdownify }}|"
        "{{ page.title | jsonify }}"
    )
    assert render(body, site).text == (
        'ml-ops-edge|a &lt;b&gt; &amp; &quot;c&quot;|a+b%26c|a%20b/%C3%A9|3|**x**|"Level 5"'
    )


def test_where_sort_group_by(tmp_path: Path) -> None:
    people = [{"name": "B", "level": "5"}, {"name": "A", "level": "6"}, {"name": "C", "level": "5"}]
    site = make_site(tmp_path, people=people)
    body = (
        "{% assign fives = site.people | where: 'level', 5 %}{{ fives | map: 'name' | join: ',' }}|"
        "{{ site.people | sort: 'name' | map: 'name' | join: ',' }}|"
        "{% assign g = site.people | group_by: 'level' %}{% for x in g %}{{ x.name }}={{ x.size }};{% endfor %}|"
        "{{ site.people | where_exp: 'p', \"p.level == '6'\" | map: 'name' | join: ',' }}"
    )
    out = render(body, site)
    assert out.text == "B,C|A,B,C|5=2;6=1;|A"
    assert out.problems == []


def test_include_with_a_parameter(site: LiquidSite) -> None:
    (site.root / "_includes" / "note.md").write_text("> **{{ include.kind }}:** {{ include.text }} ({{ page.title }})")
    body = "before\n{% include note.md kind=\"Note\" text=page.title %}\nafter\n"
    out = render(body, site, body_line=20)
    assert out.text == "before\n> **Note:** Level 5 (Level 5)\nafter\n"
    assert out.lines == [20, 21, 22, 23]
    assert out.problems == []


def test_include_output_lines_map_to_the_tag(site: LiquidSite) -> None:
    (site.root / "_includes" / "two.md").write_text("line one\nline two {% include one.md %}\n")
    (site.root / "_includes" / "one.md").write_text("[{{ 'x/' | relative_url }}]")
    out = render("a\n{% include two.md %}\nb", site, body_line=1)
    assert out.text == "a\nline one\nline two [/handbook/x/]\n\nb"
    assert out.lines == [1, 2, 2, 2, 3]


def test_include_cannot_escape_includes(site: LiquidSite) -> None:
    (site.root / "secret.md").write_text("TOP SECRET")
    (site.root / "_includes" / "link.md").symlink_to(site.root / "secret.md")
    body = "a{% include ../secret.md %}b{% include /etc/passwd %}c{% include link.md %}d"
    out = render(body, site, body_line=3)
    assert out.text == "abcd"
    assert "SECRET" not in out.text
    assert len(out.problems) == 3
    assert all(p.source.line == 3 and p.source.file == "careers/eng/level-5.md" for p in out.problems)
    assert "{% include ../secret.md %}" in out.problems[0].message


def test_include_relative_reads_a_file_beside_the_page_and_nothing_above_it(site: LiquidSite) -> None:
    """`{% include_relative parts/row.md who="me" %}` (checked against Jekyll 4.3.1: "Row for me in P") was
    an unknown tag, its text left out; `..` fails Jekyll's build and is refused here."""
    parts = site.root / "careers" / "eng" / "parts"
    parts.mkdir(parents=True)
    (parts / "row.md").write_text('| Ops | Row for {{ include.who }} in {{ page.title }}. |\n', "utf-8")
    (site.root / "careers" / "secret.md").write_text("TOP SECRET", "utf-8")
    body = 'a\n{% include_relative parts/row.md who="me" %}\nb{% include_relative ../secret.md %}\n'
    out = render(body, site, body_line=5)
    assert out.text == "a\n| Ops | Row for me in Level 5. |\n\nb\n"
    assert "SECRET" not in out.text
    assert warnings(out) == ["careers/eng/level-5.md:7: warning: {% include_relative ../secret.md %}: not a file "
                             "name inside careers/eng/; left out"]


def test_include_missing_and_nesting_bounded(site: LiquidSite) -> None:
    (site.root / "_includes" / "loop.md").write_text("x{% include loop.md %}")
    out = render("{% include nope.md %}\n{% include loop.md %}", site)
    assert out.text == "\n" + "x" * 8
    msgs = [str(p) for p in out.problems]  # a missing include is a warning; endless nesting an error
    assert msgs[0] == (
        "careers/eng/level-5.md:1: warning: {% include nope.md %}: no such file in _includes/; left out"
    )
    assert any("nested deeper than 8" in m and m.startswith("_includes/loop.md:1: error:") for m in msgs)


def test_problems_inside_an_include_name_the_include(site: LiquidSite) -> None:
    (site.root / "_includes" / "bad.md").write_text("ok\n{% seo %}")
    out = render("x\n{% include bad.md %}", site)
    assert out.text == "x\nok\n"
    assert warnings(out) == [
        "_includes/bad.md:2: warning: {% seo %}: unknown tag; left out "
        "(included from careers/eng/level-5.md:2)"
    ]


def test_unknown_tag(site: LiquidSite) -> None:
    out = render("a\n{% seo %}\nb {% include_cached nav.html %} c\n", site, body_line=2)
    assert out.text == "a\n\nb  c\n"
    assert out.lines == [2, 3, 4, 5]
    assert warnings(out) == [
        "careers/eng/level-5.md:3: warning: {% seo %}: unknown tag; left out",
        "careers/eng/level-5.md:4: warning: {% include_cached nav.html %}: unknown tag; left out",
    ]


def test_unknown_filter(site: LiquidSite) -> None:
    out = render("a\nb [{{ page.title | frobnicate: 2 }}] c\n", site, body_line=5)
    assert out.text == "a\nb [] c\n"
    assert [p.source.line for p in out.problems] == [6]
    assert "unknown filter 'frobnicate'" in out.problems[0].message


def test_unknown_block_dropped_with_its_contents(site: LiquidSite) -> None:
    body = "a\n{% tabs demo %}\n{% tab demo One %}\nsecret\n{% endtab %}\n{% endtabs %}\nb\n"
    out = render(body, site, body_line=1)
    assert out.text == "a\n\nb\n"
    assert out.lines == [1, 2, 7, 8]
    assert len(out.problems) == 1
    assert out.problems[0].source.line == 2
    assert "unknown block tag" in out.problems[0].message


def test_highlight_body_kept_as_code(site: LiquidSite) -> None:
    body = "a\n{% highlight python %}\ndef f(x):\n    return {'a': x}\n{% endhighlight %}\nb"
    out = render(body, site, body_line=1)
    assert out.text == "a\n```python\ndef f(x):\n    return {'a': x}\n```\nb"
    assert out.lines == [1, 2, 3, 4, 5, 6]
    assert len(out.problems) == 1 and out.problems[0].source.line == 2


def test_raw_block_kept_literally(site: LiquidSite) -> None:
    out = render("a {% raw %}{{ x }} {% if %}{% endraw %} b\n{% raw %}\n{{ y }}\n{% endraw %}\nc", site)
    assert out.text == "a {{ x }} {% if %} b\n\n{{ y }}\n\nc"
    assert out.lines == [1, 2, 3, 4, 5]
    assert out.problems == []


def test_comment_dropped_and_line_map_after_it(site: LiquidSite) -> None:
    body = "one\n{% comment %}\nhidden {{ x }}\n{% seo %}\nstill hidden\n{% endcomment %}\nseven\neight"
    out = render(body, site, body_line=1)
    assert out.text == "one\n\nseven\neight"
    assert out.lines == [1, 2, 7, 8]
    assert out.problems == []


def test_for_loop_lines_map_to_the_tag(site: LiquidSite) -> None:
    body = "intro\n{% for i in (1..3) %}\n- item {{ i }}\n{% endfor %}\nend"
    out = render(body, site, body_line=10)
    assert out.text == "intro\n\n- item 1\n\n- item 2\n\n- item 3\n\nend"
    assert out.lines == [10, 11, 11, 11, 11, 11, 11, 11, 14]


def test_whitespace_control_and_if(site: LiquidSite) -> None:
    body = "a\n{%- if page.title -%}\nyes\n{%- else -%}\nno\n{%- endif %}\nb\n{% if page.nope %}\nhidden\n{% endif %}\nc"
    out = render(body, site, body_line=1)
    assert out.text == "ayes\nb\n\nc"
    assert out.lines == [1, 7, 8, 11]


def test_assign_and_capture(site: LiquidSite) -> None:
    body = "{% assign lvl = 5 | plus: 1 %}{% capture who %}Level {{ lvl }}\nengineer{% endcapture %}\n{{ who | size }}: {{ who }}"
    out = render(body, site, body_line=1)
    assert out.text == "\n16: Level 6\nengineer"
    assert out.lines == [1, 3, 3]


def test_syntax_error_in_one_statement_is_left_out(site: LiquidSite) -> None:
    body = "a\n{{ page.title | }}\nb {% if %}x{% endif %} c\n{% endif %}\nd"
    out = render(body, site, body_line=1)
    assert out.text == "a\n\nb  c\n\nd"
    assert [p.source.line for p in out.problems] == [2, 3, 4]
    assert "{{" not in out.text and "{%" not in out.text


def test_syntax_error_fallback(site: LiquidSite) -> None:
    body = (
        "one {{ site.title }}\n{% comment %}\nnote\n{% endcomment %}\nthree {{ broken\n"
        "{% raw %}{{ lit }}{% endraw %} {% if x %}four{% endif %}\nfive"
    )
    out = render(body, site, body_line=2)
    assert out.text == "one \n\nthree \n{{ lit }} four\nfive"
    assert out.lines == [2, 3, 6, 7, 8]
    assert len(out.problems) == 1
    assert out.problems[0].source.line == 6
    assert "cannot be parsed" in out.problems[0].message


def test_strip_liquid() -> None:
    text, lines = strip_liquid("a {{ x }}\n{% for %}\nb {% endfor %}", 3)
    assert text == "a \n\nb "
    assert lines == [3, 4, 5]


def test_loop_bomb_stops_with_a_warning(site: LiquidSite) -> None:
    body = "a\n{% for i in (1..100000000) %}{{ i }}{% endfor %}\n{% for i in (1..10000) %}{% for j in (1..10000) %}x{% endfor %}{% endfor %}\nb"
    out = render(body, site)
    assert out.text == "a\n\n\nb"
    assert [p.source.line for p in out.problems] == [2, 3]
    assert all("loop stopped" in p.message for p in out.problems)


def test_huge_range_in_a_filter_is_refused(site: LiquidSite) -> None:
    out = render("a{{ (1..100000000) | join: ',' }}b", site)
    assert out.text == "ab"
    assert len(out.problems) == 1


def test_output_is_bounded(site: LiquidSite) -> None:
    body = (
        "{% assign s = 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' %}"
        "{% for i in (1..90000) %}{{ s }}{{ s }}{% endfor %}"
    )
    out = render(body, site)
    assert len(out.text.encode()) <= 8 * 1024 * 1024
    assert len(out.problems) == 1 and "larger than" in out.problems[0].message


def test_pre_existing_marker_characters_are_harmless(site: LiquidSite) -> None:
    out = render("a\u2000b\u2001c {{ page.title }}\n\u2001\u2000\u2000x", site, title="T\u2001")
    assert out.text == "a\u2002b\u2003c T\u2003\n\u2003\u2002\u2002x"
    assert out.lines == [1, 2]


def test_never_raises(site: LiquidSite) -> None:
    nasty = [
        "{% for %}", "{% endfor %}", "{{", "}}{{}}", "{% %}", "{%- -%}", "{% if a == %}x{% endif %}",
        "{% comment %}never closed", "{% raw %}never closed", "{% case x %}{% when %}{% endcase %}",
        "{% include %}", "{% link %}", "{{ 1 | divided_by: 0 }}", "{% include {{ page.nope }} %}",
        "{% break %}", "{% liquid assign x = 1\necho x %}", "{{ 'a' | where_exp: 'x', 'x %}' }}",
    ]
    for body in nasty:
        out = render(body, site)
        assert "{%" not in out.text and "{{" not in out.text, body


@pytest.mark.parametrize("plain, jekyll", [
    # what `{{ site.x | jsonify }}` shows for `x: <plain>` in _config.yml, in a Jekyll 4.3.1 build
    ("05", 5), ("010", 8), ("0x1F", 31), ("0b101", 5), ("1,000", 1000), ("007", 7), ("08", "08"),
    ("1.", 1.0), ("0.", 0.0), ("1.5e3", "1.5e3"), ("1.5e+3", 1500.0), ("1__0", "1__0"), ("1_", "1_"),
    ("1_000", 1000), ("12:30", 45000), ("nULL", None), ("Yes", True), ("y", "y"), ("1.10", 1.1),
])
def test_yaml_values_are_typed_for_liquid_as_jekyll_types_them(plain, jekyll) -> None:
    """Liquid sees `_config.yml`, `_data` and front matter typed as Jekyll's YAML loader (Psych) types
    them. `headcount: 1,000` showed '1,000' where the site shows 1000, `first_level: 05` stayed text so
    `where_exp "l.level == first_level"` matched nothing, `1.5e3` became 1500.0 where the site shows
    the text, and `1_` and `1__0` became numbers."""
    from cfexport import frontmatter

    value = frontmatter.load_typed(f"x: {plain}\n")["x"]
    assert value == jekyll and type(value) is type(jekyll)
