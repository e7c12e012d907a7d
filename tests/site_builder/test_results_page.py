"""The Course results page is read from the executed notebooks, never typed by hand."""

from __future__ import annotations

from conftest import newest_notebook, quiet, write_lesson

from course.report import headline
from site_builder import build, pages

LESSON = '''"""
# Day 3 · Results (結果)

A promise.
"""

# %%
# ## 1. A section

accuracy = {value}
print(f"Headline result: test accuracy: {{accuracy:.1%}}")
'''


def results_for(tiny, value):
    write_lesson(tiny.tutorials_dir, "day03_results", LESSON.format(value=value))
    [outcome] = build.build_lessons(tiny, ["day03"], log=quiet)
    assert outcome.status == "ok", outcome.error
    nb = newest_notebook(tiny, "day03_results")
    row = {"name": "day03_results", "title": "Day 3 · Results", "record": outcome.record}
    return pages.results_page("smoke", [{**row, "headlines": pages.headlines(nb)}])


def test_a_lessons_changed_result_changes_the_page(tiny):
    first = results_for(tiny, 0.5)
    assert "test accuracy: 50.0%" in first
    second = results_for(tiny, 0.75)
    assert "test accuracy: 75.0%" in second and "50.0%" not in second


def test_headline_prints_one_marked_line(capsys):
    headline("CIFAR-10 test accuracy", "88.80%")
    assert capsys.readouterr().out == "Headline result: CIFAR-10 test accuracy: 88.80%\n"
