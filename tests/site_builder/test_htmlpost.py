"""HTML finishing: math, admonitions, solutions, lesson links, table of contents."""

from __future__ import annotations

from site_builder import htmlpost, pages


def test_math_becomes_mathml_outside_code():
    html = (
        "<p>Inline $x^2$ and display</p><p>$$\\frac{a}{b}$$</p>"
        "<pre>price = '$5 and $6'</pre><code>$y$</code><p>costs $5 and $6 today</p>"
    )
    out = htmlpost.render_math(html)
    assert out.count("<math") == 2
    assert 'display="block"' in out and 'display="inline"' in out
    assert "<pre>price = '$5 and $6'</pre>" in out and "<code>$y$</code>" in out
    assert "costs $5 and $6 today" in out  # money is not math


def test_arithmatex_spans_from_markdown_pages():
    html = '<span class="arithmatex">\\(a+b\\)</span><div class="arithmatex">\\[c\\]</div>'
    out = htmlpost.render_math(html)
    assert out.count("<math") == 2 and "arithmatex" not in out


def test_note_blockquote_becomes_admonition():
    out = htmlpost.admonitions(
        "<blockquote>\n<p><strong>Warning:</strong> mind the gap.</p>\n</blockquote>"
    )
    assert out.startswith('<div class="admonition warning"><p class="admonition-title">Warning</p>')
    assert "mind the gap." in out and "blockquote" not in out


NOTEBOOK = (
    '<div class="jupyter-wrapper"><div class="jp-Notebook">'
    '<div class="jp-Cell jp-MarkdownCell"><div><p>Exercise 1.</p></div></div>'
    '<div class="jp-Cell jp-MarkdownCell"><div><p><strong>Solution 1.</strong> Because.</p>'
    "</div></div>"
    '<div class="jp-Cell jp-CodeCell celltag_solution"><div><pre>print(1)</pre></div></div>'
    '<div class="jp-Cell jp-CodeCell"><div><pre>print(2)</pre></div></div>'
    "</div></div>"
)


def test_solution_and_its_code_are_wrapped_in_details():
    out = htmlpost.solutions(NOTEBOOK)
    assert out.count("<details") == 1
    inside = out[out.index("<details") : out.index("</details>")]
    assert "<summary>Solution 1</summary>" in inside and "Because." in inside
    assert "print(1)" in inside and "print(2)" not in inside
    assert "Exercise 1." not in inside


def test_links_to_lessons_point_to_pages_or_say_coming_soon():
    html = '<a href="day02_tensors.ipynb#broadcasting">Day 2</a> <a href="day30_x.ipynb">Day 30</a>'
    out = htmlpost.lesson_links(html, {"day02_tensors"})
    assert '<a href="../day02_tensors/#broadcasting">Day 2</a>' in out
    assert "day30_x.ipynb" not in out and 'class="coming-soon"' in out


def test_toc_keeps_inline_code_text():
    html = (
        '<h1 id="t">Title</h1><h2 id="a">1. A<a class="anchor-link" href="#a">¶</a></h2>'
        '<h3 id="b">1.1 <code>view</code> and <code>reshape</code></h3><h2 id="c">2. C</h2>'
    )
    [title] = htmlpost.toc_tokens(html)
    assert [t["name"] for t in title["children"]] == ["1. A", "2. C"]
    assert title["children"][0]["children"][0]["name"] == "1.1 view and reshape"


def test_progress_bars_collapse_to_their_final_state():
    text = "epoch 1:  10%|#   |\repoch 1: 100%|####|\nloss 0.5\n"
    assert pages.collapse_carriage_returns(text) == "epoch 1: 100%|####|\nloss 0.5\n"


def test_curriculum_links_written_lessons_only():
    md = pages.curriculum_markdown({1: "day01_getting_started"})
    assert "Google Colab](lessons/day01_getting_started.ipynb)" in md
    assert "Summary and next steps" in md and "coming soon" in md
    assert md.count("lessons/") == 1
    assert md.startswith("**1 of the 25 lessons are published today**")


def test_stream_pieces_are_merged_before_collapsing():
    outputs = [
        {"output_type": "stream", "name": "stdout", "text": "\repoch 1:   0%|"},
        {"output_type": "stream", "name": "stdout", "text": "\repoch 1: 100%|####|\n"},
        {"output_type": "stream", "name": "stderr", "text": "warning\n"},
        {"output_type": "stream", "name": "stdout", "text": "done\n"},
    ]
    merged = pages._merge_streams(outputs)
    assert [o["text"] for o in merged] == ["epoch 1: 100%|####|\n", "warning\n", "done\n"]


def test_printed_outputs_are_left_out_of_search_but_code_is_not():
    body = (
        '<div class="highlight-ipynb"><pre>loss.backward()</pre></div>'
        '<div class="jp-OutputArea-output" data-mime-type="text/plain" tabindex="0">\n'
        "<pre>epoch 1/8 ...</pre></div>"
    )
    out = htmlpost.exclude_outputs_from_search(body)
    assert "<pre>loss.backward()</pre>" in out
    assert "<pre data-search-exclude>epoch 1/8 ...</pre>" in out


def test_styles_after_the_notebook_are_moved_out_and_unwrapped():
    body = (
        '<div class="jupyter-wrapper">x</div> <!-- jupyter-wrapper -->\n'
        "<style>['pre { line-height: 125%; }', '.k { color: red }']</style>"
    )
    rest, css = htmlpost.split_trailing_styles(body)
    assert "<style" not in rest and rest.startswith('<div class="jupyter-wrapper">x</div>')
    assert css == "pre { line-height: 125%; }\n.k { color: red }"


def test_math_never_touches_copy_text_outputs_or_attributes():
    page = (
        '<p>Prose $a^2$.</p><div class="clipboard-copy-txt" id="cell-1">'
        'plt.plot(x, label=f"y=${w:.2f}x$")<div>nested $b$</div> $c$</div>'
        '<div class="jp-OutputArea jp-Cell-outputArea"><div>costs $5 and $6</div></div>'
        '<img alt="$e$" src="x.png"><br><p>After $f$.</p>'
    )
    out = htmlpost.render_math(page)
    assert 'label=f"y=${w:.2f}x$")<div>nested $b$</div> $c$</div>' in out
    assert "<div>costs $5 and $6</div>" in out and 'alt="$e$"' in out
    assert out.count("<math") == 2  # the two prose formulas, before and after


def test_cell_tag_chips_are_dropped():
    cell = (
        '<div class="jp-InputArea"><div class="celltoolbar">\n'
        '<div class="button_container tags_button_container">\n<span class="tag-container">\n'
        '<span class="cell-tag">solution</span>\n</span>\n</div>\n</div>\n'
        '<div class="CodeMirror">code</div></div>'
    )
    out = htmlpost.drop_cell_toolbars(cell)
    assert "cell-tag" not in out and '<div class="CodeMirror">code</div></div>' in out


def test_purge_css_keeps_only_what_pages_use():
    css = (
        ".used{color:red}.unused{color:blue}.used, .unused .x{margin:0}"
        ".w :is(.used:hover, .gone) .used{display:flex}"
        "@media (max-width: 10px){.unused{a:b}.used{c:d}}@font-face{font-family:x}"
        ":root{--v: 1}"
    )
    out = htmlpost.purge_css(css, {"used", "w"})
    import tinycss2

    rules = tinycss2.parse_stylesheet(out, True, True)
    assert not [r for r in rules if r.type == "error"], out
    assert ".unused" not in out.replace(":is(.used:hover, .gone)", "")
    assert ".used{color:red}" in out and ".used{margin:0}" in out
    assert "@media (max-width: 10px){.used{c:d}}" in out and "@font-face" in out
    assert ":root{--v: 1}" in out


def test_curriculum_with_every_lesson_written_promises_nothing_to_come():
    md = pages.curriculum_markdown({day: f"day{day:02d}_x" for day in range(1, 26)})
    assert md.startswith("**All 25 lessons are published.**")
    assert "coming soon" not in md and md.count("lessons/") == 25
