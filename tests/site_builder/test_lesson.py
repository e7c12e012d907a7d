"""The converter: lesson script -> notebook, with titles, cells, Markdown and line numbers."""

from __future__ import annotations

import pytest
from conftest import write_lesson

from site_builder import lesson

LESSON = '''\
"""
# Day 3 · Autograd (Autograd 自動微分)

After this lesson you can compute gradients.

**You will learn:** graphs · backward
"""

# %%
# ## 1. First section
#
# Text with **bold**, a [link](day02_tensors.ipynb) and math $x^2$.
#
# - a list item

import math

print(math.pi)
# sphinx_gallery_thumbnail_number = 2

# %%
# ## 2. Exercises
#
# 1. Do something.

# %%
# **Solution 1.** Like this.

print("solved")
'''


def test_header_title_and_promise(tmp_path):
    les = lesson.load(write_lesson(tmp_path, "day03_autograd", LESSON))
    assert les.title == "Day 3 · Autograd (Autograd 自動微分)"
    assert les.promise == "After this lesson you can compute gradients."
    assert les.day == 3
    assert les.thumbnail_number == 2


def test_cells_markdown_and_line_numbers(tmp_path):
    path = write_lesson(tmp_path, "day03_autograd", LESSON)
    nb = lesson.to_notebook(lesson.load(path), "https://github.com/o/r")
    kinds = [c.cell_type for c in nb.cells]
    assert kinds == ["code", "markdown", "markdown", "code", "markdown", "markdown", "code"]
    # The first cell installs the helpers where they are missing (Colab), from the repo URL.
    assert "git+https://github.com/o/r" in nb.cells[0].source
    assert nb.cells[0].metadata["tags"] == ["install"]
    # Markdown is preserved as written.
    assert nb.cells[1].source.strip().startswith("# Day 3 · Autograd")
    section = nb.cells[2].source
    assert "Text with **bold**, a [link](day02_tensors.ipynb) and math $x^2$." in section
    assert "- a list item" in section
    # Code cells carry the line of their first line in the .py; config comments are gone.
    lines = path.read_text().splitlines()
    for cell in (nb.cells[3], nb.cells[6]):
        lineno = cell.metadata["course"]["lineno"]
        assert lines[lineno - 1] == cell.source.splitlines()[0]
    assert "sphinx_gallery" not in nb.cells[3].source
    # Solutions are tagged and hidden in notebooks.
    assert nb.cells[5].metadata["tags"] == ["solution"]
    assert nb.cells[6].metadata["jupyter"] == {"source_hidden": True}


def test_syntax_error_names_file_and_line(tmp_path):
    bad = LESSON.replace("print(math.pi)", "print(math.pi")
    path = write_lesson(tmp_path, "day03_autograd", bad)
    with pytest.raises(lesson.LessonError) as err:
        lesson.load(path)
    lineno = bad.splitlines().index("print(math.pi") + 1
    assert f"{path}:" in str(err.value)
    # Python reports the unclosed bracket at its line or the next statement's.
    reported = int(str(err.value).split(f"{path}:")[1].split(":")[0])
    assert lineno <= reported <= lineno + 3


def test_missing_title_is_refused(tmp_path):
    path = write_lesson(tmp_path, "day03_autograd", LESSON.replace("# Day 3 ·", "Day 3 ·"))
    with pytest.raises(lesson.LessonError, match=r":1: the lesson has no title"):
        lesson.load(path)


def test_missing_docstring_is_refused(tmp_path):
    path = write_lesson(tmp_path, "day03_autograd", "import math\nprint(math.pi)\n")
    with pytest.raises(lesson.LessonError, match="day03_autograd.py:1"):
        lesson.load(path)


def test_bad_file_name_is_refused(tmp_path):
    path = write_lesson(tmp_path, "Day3-Autograd", LESSON)
    with pytest.raises(lesson.LessonError, match="dayNN_slug.py"):
        lesson.load(path)


def test_find_by_number_prefix_or_name(tmp_path):
    write_lesson(tmp_path, "day03_autograd", LESSON)
    write_lesson(tmp_path, "day12_regularisation", LESSON.replace("Day 3", "Day 12"))
    assert lesson.find(tmp_path, "3").stem == "day03_autograd"
    assert lesson.find(tmp_path, "day12").stem == "day12_regularisation"
    assert lesson.find(tmp_path, "day03_autograd.py").stem == "day03_autograd"
    with pytest.raises(lesson.LessonError, match="Known lessons: day03_autograd, day12"):
        lesson.find(tmp_path, "day99")
