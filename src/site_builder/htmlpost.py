"""Finishing touches on rendered HTML: shared notebook styles, math, admonitions, solutions.

mkdocs-jupyter renders notebook Markdown with nbconvert, not Python-Markdown,
so mkdocs extensions do not apply inside notebook cells, ``$...$`` math is
left raw, and every page inlines ~600 KB of CSS plus scripts from CDNs. These
functions fix that on the HTML, so the site makes no request to another host.
"""

from __future__ import annotations

import html
import re

from latex2mathml.converter import convert as latex_to_mathml

WRAPPER = '<div class="jupyter-wrapper">'
_STYLE_RE = re.compile(r"<style[^>]*>(.*?)</style>", re.S)
_INLINE_SCRIPT_RE = re.compile(r"<script>(.*?)</script>", re.S)


def split_notebook_header(content: str) -> tuple[str, str]:
    """(header with styles and scripts, body starting at the notebook wrapper)."""
    i = content.find(WRAPPER)
    if i < 0:
        return "", content
    return content[:i], content[i:]


_TRAILER = "<!-- jupyter-wrapper -->"


def split_trailing_styles(body: str) -> tuple[str, str]:
    """(body, CSS) with the <style> blocks mkdocs-jupyter appends after the notebook
    removed. Its template writes that CSS as a Python list's repr; it is unwrapped here."""
    import ast

    end = body.find(_TRAILER)
    if end < 0:
        return body, ""
    head, tail = body[: end + len(_TRAILER)], body[end + len(_TRAILER) :]
    css = []
    for m in _STYLE_RE.finditer(tail):
        text = m.group(1).strip()
        if text.startswith("[") and text.endswith("]"):
            try:
                text = "\n".join(ast.literal_eval(text))
            except (ValueError, SyntaxError):
                pass
        css.append(text)
    return head + _STYLE_RE.sub("", tail), "\n".join(css)


def header_assets(header: str) -> tuple[str, str]:
    """The CSS and the inline JavaScript of a notebook header (CDN scripts are dropped)."""
    css = "\n".join(m.group(1).strip() for m in _STYLE_RE.finditer(header))
    js = "\n".join(m.group(1).strip() for m in _INLINE_SCRIPT_RE.finditer(header))
    return css, js


_REMOTE_SCRIPT_RE = re.compile(
    r'<script[^>]*\bsrc="https?://[^"]*"[^>]*>\s*</script>'
    r'|<script type="(?:module|text/x-mathjax-config)">.*?</script>',
    re.S,
)


def strip_remote_scripts(header: str) -> str:
    """Drop scripts loaded from other hosts (MathJax, mermaid): the site serves its own."""
    return _REMOTE_SCRIPT_RE.sub("", header)


_COPY_ICON_RE = re.compile(r'<svg aria-hidden="true" class="clipboard-copy-icon".*?</svg>', re.S)


def slim_copy_buttons(body: str) -> str:
    """Each code cell's copy button repeats a 700-byte SVG; draw it once, from CSS."""
    return _COPY_ICON_RE.sub('<span class="clipboard-copy-icon" aria-hidden="true"></span>', body)


# The elements that scroll: a notebook cell's code box, a Markdown page's code block.
_SCROLLER_RE = re.compile(
    r'<(div class="highlight-ipynb[^"]*"|div class="(?:[^"]*\s)?highlight"><pre)(?=>)'
)


def focusable_scrollers(body: str) -> str:
    """Code and output blocks scroll sideways when a line is long: a keyboard user must be
    able to reach them (tabindex="0"), or the overflow is out of reach (WCAG 2.1.1)."""
    return _SCROLLER_RE.sub(lambda m: f'<{m.group(1)} tabindex="0"', body)


_CELL_TOOLBAR_RE = re.compile(r'<div class="celltoolbar">.*?</div>\s*</div>', re.S)


def drop_cell_toolbars(body: str) -> str:
    """nbconvert shows each cell's tags as grey chips ("solution"): notebook plumbing,
    not content. The solution toggle says the same thing properly."""
    return _CELL_TOOLBAR_RE.sub("", body)


_OUTPUT_PRE_RE = re.compile(r'(data-mime-type="text/plain"[^>]*>\s*)<pre>')


def exclude_outputs_from_search(body: str) -> str:
    """Search finds lesson text and code; printed outputs (training logs) only bloat the
    index, and so does the second copy of every cell's code behind its copy button.
    (Marked on each output's <pre>: Material's search stops excluding a <div> at the
    first nested </div>; the copy text's <div> has none.)"""
    body = body.replace(
        '<div class="clipboard-copy-txt"', '<div data-search-exclude class="clipboard-copy-txt"'
    )
    body = body.replace(
        '<span class="notice" hidden="">', '<span data-search-exclude class="notice" hidden="">'
    )
    return _OUTPUT_PRE_RE.sub(r"\1<pre data-search-exclude>", body)


# --- math ---------------------------------------------------------------------------

_SKIP_TAGS = ("pre", "code", "script", "style", "math", "textarea")
# A code cell's copy-button text and a cell's outputs are code and data, not prose.
_SKIP_CLASS_RE = re.compile(r'class="[^"]*\b(clipboard-copy-txt|jp-OutputArea)\b')
_VOID_TAGS = (
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "wbr",
)
_TOKEN_RE = re.compile(r"(<[^>]+>)")
_DISPLAY_RE = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE_RE = re.compile(r"(?<![\\$\w])\$(?!\s)([^$\n]+?)(?<![\s\\])\$(?![\w$])")
_ARITH_RE = re.compile(
    r'<(span|div) class="arithmatex">\s*(?:\\\(|\\\[)(.*?)(?:\\\)|\\\])\s*</\1>', re.S
)


def _mathml(latex: str, display: bool) -> str:
    try:
        out = latex_to_mathml(
            html.unescape(latex).strip(), display="block" if display else "inline"
        )
    except Exception:  # leave what cannot be converted visible, not broken
        return html.escape(f"${latex}$")
    label = html.escape(html.unescape(latex).strip(), quote=True)
    return out.replace("<math ", f'<math aria-label="{label}" ', 1)


def _math_in_text(text: str) -> str:
    text = _DISPLAY_RE.sub(lambda m: _mathml(m.group(1), True), text)
    return _INLINE_RE.sub(lambda m: _mathml(m.group(1), False), text)


def render_math(content: str) -> str:
    """Turn $...$, $$...$$ and arithmatex spans into MathML in prose only: never inside
    code, a code cell's copy-button text, a cell's outputs, or a tag's attributes."""
    content = _ARITH_RE.sub(lambda m: _mathml(m.group(2), m.group(1) == "div"), content)
    parts = _TOKEN_RE.split(content)
    stack: list[tuple[str, bool]] = []  # open elements: (tag, starts a skipped region)
    for i, part in enumerate(parts):
        if part.startswith("<"):
            tag = re.match(r"<(/?)\s*([a-zA-Z0-9]+)", part)
            if not tag or part.startswith("<!") or part.endswith("/>"):
                continue
            name = tag.group(2).lower()
            if name in _VOID_TAGS:
                continue
            if tag.group(1):  # a closing tag: close up to its opening one
                while stack and stack.pop()[0] != name:
                    pass
            else:
                skip = name in _SKIP_TAGS or bool(_SKIP_CLASS_RE.search(part))
                stack.append((name, skip))
        elif "$" in part and not any(skip for _, skip in stack):
            parts[i] = _math_in_text(part)
    return "".join(parts)


# --- admonitions ----------------------------------------------------------------------

_ADMONITION_RE = re.compile(
    r"<blockquote>\s*<p><strong>(Note|Tip|Warning|Important|Caution|Danger"
    r"|注意|提示|警告|重要|小心|危險)"
    r"(?::|：)?</strong>(?::|：)?\s*(.*?)</blockquote>",
    re.S,
)
# The zh-TW words for the same boxes (a translated lesson writes "> **注意：** ...").
_KIND = {
    "important": "info",
    "caution": "warning",
    "注意": "note",
    "提示": "tip",
    "警告": "warning",
    "重要": "info",
    "小心": "warning",
    "危險": "danger",
}


def admonitions(content: str) -> str:
    """``> **Note:** ...`` in a notebook becomes a Material admonition on the site."""

    def repl(m: re.Match) -> str:
        title = m.group(1)
        kind = _KIND.get(title.lower(), title.lower())
        return (
            f'<div class="admonition {kind}"><p class="admonition-title">{title}</p>'
            f"<p>{m.group(2).strip()}</div>"
        )

    return _ADMONITION_RE.sub(repl, content)


# --- cells: solutions ---------------------------------------------------------------

_DIV_RE = re.compile(r"<div\b[^>]*>|</div>")


def top_level_cells(body: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each cell div directly inside the notebook div."""
    spans, depth, start = [], 0, None
    for m in _DIV_RE.finditer(body):
        if m.group(0) == "</div>":
            depth -= 1
            if depth == 2 and start is not None:
                spans.append((start, m.end()))
                start = None
        else:
            if depth == 2:
                start = m.start()
            depth += 1
    return spans


_SOLUTION_TITLE_RE = re.compile(
    r"<strong>\s*(Solution|解答)\s*([\w.-]+?)[.。]?\s*</strong>[.。]?", re.I
)


def solutions(body: str) -> str:
    """Wrap each solution (its Markdown cell and following code cells) in <details>."""
    spans = top_level_cells(body)
    out, pos, i = [], 0, 0
    while i < len(spans):
        start, end = spans[i]
        cell = body[start:end]
        head = cell[: cell.find(">") + 1]
        m = _SOLUTION_TITLE_RE.search(cell) if "jp-MarkdownCell" in head else None
        if m and re.search(r"<p>\s*$", cell[: m.start()]):
            word, number = m.group(1), m.group(2)
            j = i + 1
            while j < len(spans):
                nxt = body[spans[j][0] : spans[j][1]]
                nhead = nxt[: nxt.find(">") + 1]
                if "celltag_solution" in nhead and "jp-CodeCell" in nhead:
                    j += 1
                else:
                    break
            group_end = spans[j - 1][1]
            inner = body[start:group_end].replace(m.group(0), "", 1)
            out.append(body[pos:start])
            out.append(
                f'<details class="solution"><summary>{word} {number}</summary>{inner}</details>'
            )
            pos, i = group_end, j
        else:
            i += 1
    out.append(body[pos:])
    return "".join(out)


# --- table of contents -----------------------------------------------------------------

_HEADING_RE = re.compile(r'<h([1-6]) id="([^"]+)">(.*?)</h\1>', re.S)


def toc_tokens(content: str) -> list[dict]:
    """Table-of-contents tokens (as Python-Markdown's toc makes them) from rendered
    headings. mkdocs-jupyter's own drops inline code: "5.1 `view` and `reshape`" came
    out as "5.1 and"."""
    root: list[dict] = []
    stack: list[dict] = []
    for level, anchor, inner in _HEADING_RE.findall(content):
        inner = re.sub(r'<a class="anchor-link".*?</a>', "", inner, flags=re.S)
        name = html.unescape(re.sub(r"<[^>]+>", "", inner)).strip()
        token = {"level": int(level), "id": anchor, "name": name, "children": []}
        while stack and stack[-1]["level"] >= token["level"]:
            stack.pop()
        (stack[-1]["children"] if stack else root).append(token)
        stack.append(token)
    return root


# --- links between lessons --------------------------------------------------------------

_LESSON_LINK_RE = re.compile(
    r'<a href="(day\d\d_[a-z0-9_]+)\.ipynb(#[^"]*)?"([^>]*)>(.*?)</a>', re.S
)


def lesson_links(
    content: str, known: set[str], not_yet: str = "This lesson is not published yet"
) -> str:
    """``dayNN_slug.ipynb`` (right in a notebook) points to the lesson's page on the site;
    a lesson not written yet becomes plain text marked "coming soon" (``not_yet``, in the
    page's language), never a broken link."""

    def repl(m: re.Match) -> str:
        name, anchor, attrs, text = m.groups()
        if name not in known:
            return f'<span class="coming-soon" title="{html.escape(not_yet)}">{text}</span>'
        return f'<a href="../{name}/{anchor or ""}"{attrs}>{text}</a>'

    return _LESSON_LINK_RE.sub(repl, content)


# --- weight: only the notebook styles the pages use -----------------------------------

_CLASS_ATTR_RE = re.compile(r'\bclass="([^"]*)"')
_SELECTOR_CLASS_RE = re.compile(r"\.(-?[_a-zA-Z][_a-zA-Z0-9-]*)")


def used_classes(pages: list[str]) -> set[str]:
    """Every class name that appears in a class attribute of ``pages`` (HTML texts)."""
    found: set[str] = set()
    for page in pages:
        for attr in _CLASS_ATTR_RE.findall(page):
            found.update(attr.split())
    return found


def _split_selectors(prelude: str) -> list[str]:
    """``a, b:is(.c, .d)`` -> ``["a", "b:is(.c, .d)"]``: commas inside brackets stay."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(prelude):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(prelude[start:i].strip())
            start = i + 1
    return [*parts, prelude[start:].strip()]


def purge_css(css: str, classes: set[str]) -> str:
    """``css`` without the selectors that name a class no page uses.

    JupyterLab's stylesheet (what mkdocs-jupyter ships, about 590 KB) styles a whole
    application; a static page uses a small part. A selector is kept when every class it
    names is used (selectors without classes, custom properties and at-rules other than
    @media and @supports are always kept); a rule with no selector left is dropped.
    """
    import tinycss2

    def keep(rules) -> list[str]:
        out = []
        for rule in rules:
            if rule.type == "qualified-rule":
                selectors = _split_selectors(tinycss2.serialize(rule.prelude))
                kept = [sel for sel in selectors if set(_SELECTOR_CLASS_RE.findall(sel)) <= classes]
                if kept:
                    out.append(f"{', '.join(kept)}{{{tinycss2.serialize(rule.content)}}}")
            elif rule.type == "at-rule" and rule.lower_at_keyword in ("media", "supports"):
                inner = keep(tinycss2.parse_rule_list(rule.content, True, True))
                if inner:
                    prelude = tinycss2.serialize(rule.prelude).strip()
                    out.append(f"@{rule.at_keyword} {prelude}{{{''.join(inner)}}}")
            elif rule.type == "at-rule":
                out.append(tinycss2.serialize([rule]))
        return out

    return "\n".join(keep(tinycss2.parse_stylesheet(css, True, True)))
